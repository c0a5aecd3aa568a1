"""Writing the index to an immutable tag (convergence.write_index): ECR refuses every PutImage there, even of the
bytes the tag already holds, so the tag is read to tell "already there" from "someone else's image"."""

from dataclasses import dataclass, field

import pytest

from devkit.images import make_image
from devkit.memory_registry import MemoryRegistry
from ecr_multiarch.convergence import write_index
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.index import ChildDescriptor, ImageIndex, IndexFormat, build_index
from ecr_multiarch.domain.platform import Platform
from ecr_multiarch.errors import ImmutableTagError
from ecr_multiarch.ports import PutResult, StoredManifest
from tests.logs import records_named, records_of

AMD64 = make_image("amd64")
INDEX = build_index([ChildDescriptor(AMD64.media_type, len(AMD64.manifest), Digest(AMD64.digest),
                                     Platform("linux", "amd64"))], IndexFormat.AUTO)
REFUSAL = "The image tag '1.0' already exists in the 'golang' repository and cannot be overwritten because the " \
          "tag is immutable."




@dataclass
class ImmutableTags(MemoryRegistry):
    """ECR's answer to a PutImage on an immutable tag, whatever the tag holds (aws/containers-roadmap#2179)."""

    immutable: set[str] = field(default_factory=set)

    def put_index(self, repository: str, tag: str, index: ImageIndex) -> PutResult:
        if tag in self.immutable:
            self.calls.append("PutImage")
            raise ImmutableTagError(REFUSAL)
        return super().put_index(repository, tag, index)


def registry() -> ImmutableTags:
    registry = ImmutableTags(immutable={"1.0"})
    registry.create_repository("golang")
    return registry


def test_an_immutable_tag_already_holding_the_index_is_already_there(caplog: pytest.LogCaptureFixture) -> None:
    held = registry()
    held.tags["golang"]["1.0"] = StoredManifest("1.0", INDEX.digest, INDEX.media_type, INDEX.body)
    with records_of("ecr_multiarch.convergence", caplog):
        assert write_index(held, "golang", "1.0", INDEX) is PutResult.ALREADY_EXISTS
    assert held.calls == ["PutImage", "BatchGetImage"]
    [record] = records_named("ecr_multiarch.convergence", caplog)
    assert record.getMessage() == "immutable tag already holds the index"
    assert (record.repository, record.tag, record.digest) == ("golang", "1.0", str(INDEX.digest))  # type: ignore[attr-defined]


def test_an_immutable_tag_holding_another_image_is_refused_naming_both_digests() -> None:
    held = registry()
    held.push("golang", "1.0", AMD64)
    with pytest.raises(ImmutableTagError) as raised:
        write_index(held, "golang", "1.0", INDEX)
    assert str(raised.value) == f"{REFUSAL}; it holds {AMD64.digest}, not the desired index {INDEX.digest}"


def test_an_immutable_tag_that_reads_as_empty_is_refused_without_a_digest() -> None:
    with pytest.raises(ImmutableTagError) as raised:
        write_index(registry(), "golang", "1.0", INDEX)
    assert str(raised.value) == f"{REFUSAL}; it holds another image, not the desired index {INDEX.digest}"
