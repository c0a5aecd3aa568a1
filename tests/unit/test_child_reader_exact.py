"""Reading each arch's image manifest and platform, exactly: the reason of every refusal (naming the arch tag, also
for an image chosen from an arch index), configs downloaded in parallel (at most 8 at once) and asked for again
once when the presigned URL has expired."""

import hashlib
import json
import threading
from dataclasses import dataclass, field

import pytest

from devkit.images import ImageBlobs, image_with_config, make_buildkit_image, make_image
from devkit.memory_registry import MemoryRegistry
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.children import MAX_PARALLEL_DOWNLOADS
from ecr_multiarch.domain import media_types
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.tags import DEFAULT_SUFFIXES
from ecr_multiarch.errors import BlobUrlExpiredError
from ecr_multiarch.outcome import Outcome, OutcomeKind
from ecr_multiarch.ports import StoredManifest
from ecr_multiarch.settings import Settings
from tests.logs import records_named, records_of

AMD64 = make_image("amd64")


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def arch_index(image: ImageBlobs, architecture: str, variant: str | None = None) -> ImageBlobs:
    """What a single-platform BuildKit push leaves at the tag, without attestation: an index naming ``image``."""
    platform = {"architecture": architecture, "os": "linux", **({"variant": variant} if variant else {})}
    body = json.dumps({"schemaVersion": 2, "mediaType": media_types.OCI_INDEX, "manifests": [
        {"mediaType": image.media_type, "digest": image.digest, "size": len(image.manifest), "platform": platform}]
    }).encode()
    return ImageBlobs(manifest=body, media_type=media_types.OCI_INDEX, blobs=dict(image.blobs),
                      config_digest=image.config_digest, children=(image,))


def pushed(**tags: ImageBlobs) -> MemoryRegistry:
    registry = MemoryRegistry()
    registry.create_repository("app")
    for tag, image in tags.items():
        registry.push("app", tag.replace("_", "-"), image)
    registry.calls.clear()
    return registry


def assemble(registry: MemoryRegistry, blobs: object = None, **settings: object) -> Outcome:
    return Assembler(registry, blobs or registry, Settings(**settings)).assemble("app", "1.0")  # type: ignore[arg-type]


def rejected(reason: str) -> Outcome:
    return Outcome(OutcomeKind.REJECTED, "app", "1.0", reason=reason)


def test_an_arch_index_naming_a_manifest_the_repository_does_not_hold_is_rejected() -> None:
    arm64 = make_image("arm64", variant="v8", oci=True)
    registry = pushed(**{"1.0_amd64": AMD64, "1.0_arm64": arch_index(arm64, "arm64", "v8")})
    del registry.manifests["app"][Digest(arm64.digest)]
    assert assemble(registry) == rejected(
        f"app:1.0-arm64 is an index naming {arm64.digest}, which is not in the repository")
    assert registry.calls == ["BatchGetImage", "BatchGetImage"]


@pytest.mark.parametrize("change", ["media type", "size"])
def test_an_arch_index_entry_must_state_the_manifests_media_type_and_size(change: str) -> None:
    arm64 = make_image("arm64", variant="v8", oci=True)
    registry = pushed(**{"1.0_amd64": AMD64, "1.0_arm64": arch_index(arm64, "arm64", "v8")})
    held = registry.manifests["app"][Digest(arm64.digest)]
    media_type = media_types.DOCKER_MANIFEST if change == "media type" else held.media_type
    body = held.body + b" " if change == "size" else held.body
    registry.manifests["app"][held.digest] = StoredManifest("", held.digest, media_type, body)
    assert assemble(registry) == rejected(
        f"app:1.0-arm64 is an index whose entry for {arm64.digest} states {media_types.OCI_MANIFEST}, "
        f"{len(arm64.manifest)} bytes, but the manifest is {media_type}, {len(body)} bytes")
    assert "PutImage" not in registry.calls


def test_plain_arch_tags_and_arch_indexes_mix_in_any_order() -> None:
    arm64 = make_buildkit_image("arm64", variant="v8")
    armv7 = make_image("arm", variant="v7")
    registry = pushed(**{"1.0_amd64": AMD64, "1.0_arm64": arm64, "1.0_armv7": armv7})
    outcome = assemble(registry, required_architectures=("amd64", "arm64", "armv7"), keep_attestations=False)
    assert outcome.kind is OutcomeKind.CREATED
    listed = [entry["digest"] for entry in json.loads(registry.tags["app"]["1.0"].body)["manifests"]]
    assert listed == [AMD64.digest, arm64.children[0].digest, armv7.digest]


@pytest.mark.parametrize("where", ["at the tag", "in an arch index"])
def test_an_image_manifest_without_a_config_is_rejected_naming_the_arch_tag(where: str) -> None:
    broken = ImageBlobs(manifest=json.dumps({"schemaVersion": 2, "mediaType": media_types.OCI_MANIFEST,
                                             "layers": []}).encode(),
                        media_type=media_types.OCI_MANIFEST, blobs={}, config_digest="")
    arm64 = broken if where == "at the tag" else arch_index(broken, "arm64", "v8")
    registry = pushed(**{"1.0_amd64": AMD64, "1.0_arm64": arm64})
    assert assemble(registry) == rejected("app:1.0-arm64 manifest has no config descriptor")


NOT_JSON = b"not json"
UNUSABLE = f"config {sha256(NOT_JSON)} is unusable: config is not valid JSON: Expecting value: line 1 column 1 (char 0)"


@pytest.mark.parametrize("where", ["at the tag", "in an arch index"])
def test_an_unusable_config_downloaded_beside_others_is_rejected_naming_the_arch_tag(where: str) -> None:
    broken = image_with_config(NOT_JSON)
    arm64 = broken if where == "at the tag" else arch_index(broken, "arm64", "v8")
    registry = pushed(**{"1.0_amd64": AMD64, "1.0_arm64": arm64})
    assert assemble(registry) == rejected(f"app:1.0-arm64 {UNUSABLE}")


def test_an_unusable_config_downloaded_alone_is_rejected_naming_the_arch_tag() -> None:
    registry = pushed(**{"1.0_amd64": image_with_config(NOT_JSON)})
    assert assemble(registry, required_architectures=("amd64",)) == rejected(f"app:1.0-amd64 {UNUSABLE}")
    assert registry.calls == ["BatchGetImage", "GetDownloadUrlForLayer", "GET blob"]


def test_a_config_not_cached_yet_is_downloaded_alone_from_its_own_repository() -> None:
    registry = pushed(**{"1.0_amd64": AMD64, "1.0_arm64": make_image("arm64", variant="v8"),
                         "1.1_amd64": AMD64, "1.1_arm64": make_image("arm64", variant="v8", revision="2")})
    service = Assembler(registry, registry, Settings())  # type: ignore[arg-type]
    assert service.assemble("app", "1.0").kind is OutcomeKind.CREATED
    registry.calls.clear()
    assert service.assemble("app", "1.1").kind is OutcomeKind.CREATED  # amd64's config is cached
    assert registry.calls == ["BatchGetImage", "GetDownloadUrlForLayer", "GET blob", "PutImage", "BatchGetImage"]


@dataclass
class MeetingBlobs:
    """Each download waits (at most 5 s) until ``meet`` downloads are in flight at once, or every one started."""

    registry: MemoryRegistry
    meet: int
    total: int
    started: int = 0
    in_flight: int = 0
    peak: int = 0
    condition: threading.Condition = field(default_factory=threading.Condition)

    def read(self, url: str, digest: Digest, size: int) -> bytes:
        with self.condition:
            self.started += 1
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.condition.notify_all()
            self.condition.wait_for(lambda: self.in_flight >= self.meet or self.started == self.total, timeout=5)
            self.in_flight -= 1
        return self.registry.read(url, digest, size)


def test_two_configs_are_downloaded_at_once() -> None:
    registry = pushed(**{"1.0_amd64": AMD64, "1.0_arm64": make_image("arm64", variant="v8")})
    blobs = MeetingBlobs(registry, meet=2, total=2)
    assert assemble(registry, blobs).kind is OutcomeKind.CREATED
    assert blobs.peak == 2


def test_at_most_eight_configs_are_downloaded_at_once() -> None:
    images = {suffix: make_image(expected.architecture, os=expected.os, variant=expected.variant)
              for suffix, expected in DEFAULT_SUFFIXES.items()}
    assert len(images) == MAX_PARALLEL_DOWNLOADS + 1 == 9
    registry = pushed(**{f"1.0_{suffix}": image for suffix, image in images.items()})
    blobs = MeetingBlobs(registry, meet=MAX_PARALLEL_DOWNLOADS, total=len(images))
    assert assemble(registry, blobs, required_architectures=tuple(images)).kind is OutcomeKind.CREATED
    assert blobs.peak == MAX_PARALLEL_DOWNLOADS


@dataclass
class ExpiringBlobs:
    """Refuses the first ``refusals`` downloads as an expired presigned URL would; records every request."""

    registry: MemoryRegistry
    refusals: int
    requests: list[tuple[str, Digest, int]] = field(default_factory=list)

    def read(self, url: str, digest: Digest, size: int) -> bytes:
        self.requests.append((url, digest, size))
        if len(self.requests) <= self.refusals:
            raise BlobUrlExpiredError(f"download URL for blob {digest} was refused (403)")
        return self.registry.read(url, digest, size)


def test_an_expired_download_url_is_asked_for_again_once(caplog: pytest.LogCaptureFixture) -> None:
    registry = pushed(**{"1.0_amd64": AMD64})
    blobs = ExpiringBlobs(registry, refusals=1)
    with records_of("ecr_multiarch.children", caplog):
        assert assemble(registry, blobs, required_architectures=("amd64",)).kind is OutcomeKind.CREATED
    config = Digest(AMD64.config_digest)
    size = len(AMD64.blobs[AMD64.config_digest])
    assert blobs.requests == [(f"memory://{config}", config, size)] * 2
    assert registry.calls == ["BatchGetImage", "GetDownloadUrlForLayer", "GetDownloadUrlForLayer", "GET blob",
                              "PutImage", "BatchGetImage"]
    [record] = records_named("ecr_multiarch.children", caplog)
    assert record.getMessage() == "download URL expired; asking ECR for a fresh one"
    assert record.digest == str(config)  # type: ignore[attr-defined]


def test_a_second_expired_download_url_is_raised() -> None:
    registry = pushed(**{"1.0_amd64": AMD64})
    blobs = ExpiringBlobs(registry, refusals=2)
    with pytest.raises(BlobUrlExpiredError, match="was refused"):
        assemble(registry, blobs, required_architectures=("amd64",))
    assert len(blobs.requests) == 2
