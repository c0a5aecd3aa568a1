"""A dry run (convergence.py's plan): the exact outcome and log line for an index that would be created or
updated, and nothing written."""

import json

import pytest

from devkit.images import make_image
from devkit.memory_registry import MemoryRegistry
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.index import ChildDescriptor, IndexFormat, build_index
from ecr_multiarch.domain.platform import Platform
from ecr_multiarch.outcome import Outcome, OutcomeKind
from ecr_multiarch.settings import Settings
from tests.logs import records_named, records_of

AMD64, ARM64 = make_image("amd64"), make_image("arm64", variant="v8")




def registry_with_children() -> MemoryRegistry:
    registry = MemoryRegistry()
    registry.create_repository("golang")
    registry.push("golang", "1.0-amd64", AMD64)
    registry.push("golang", "1.0-arm64", ARM64)
    return registry


def the_index() -> tuple[str, bytes]:
    index = build_index([ChildDescriptor(AMD64.media_type, len(AMD64.manifest), Digest(AMD64.digest),
                                         Platform("linux", "amd64")),
                         ChildDescriptor(ARM64.media_type, len(ARM64.manifest), Digest(ARM64.digest),
                                         Platform("linux", "arm64", "v8"))], IndexFormat.AUTO)
    return str(index.digest), index.body


@pytest.mark.parametrize("existing", [False, True], ids=["create", "update"])
def test_a_dry_run_plans_exactly_and_logs_the_index(existing: bool, caplog: pytest.LogCaptureFixture) -> None:
    registry = registry_with_children()
    if existing:  # an index of amd64 alone: growing it is an update
        grown = build_index([ChildDescriptor(AMD64.media_type, len(AMD64.manifest), Digest(AMD64.digest),
                                             Platform("linux", "amd64"))], IndexFormat.AUTO)
        registry.put_index("golang", "1.0", grown)
    held_before = registry.tags["golang"].get("1.0")
    digest, body = the_index()
    with records_of("ecr_multiarch.convergence", caplog):
        outcome = Assembler(registry, registry, Settings(dry_run=True)).assemble("golang", "1.0")  # type: ignore[arg-type]
    kind = "update" if existing else "create"
    assert outcome == Outcome(OutcomeKind.PLANNED, "golang", "1.0", digest, reason=f"DRY_RUN: would {kind} the index")
    assert outcome.index is not None and outcome.index.body == body
    assert registry.tags["golang"].get("1.0") == held_before
    [record] = records_named("ecr_multiarch.convergence", caplog)
    assert record.getMessage() == "dry run: index not written"
    assert (record.repository, record.version, record.digest) == ("golang", "1.0", digest)  # type: ignore[attr-defined]
    assert record.index == json.loads(body)  # type: ignore[attr-defined]
