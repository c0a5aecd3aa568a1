"""For any bytes at all as an arm64 config or manifest, an assembly answers with an outcome and never raises."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devkit.images import ImageBlobs, image_with_config, make_image
from devkit.memory_registry import MemoryRegistry
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.domain import media_types
from ecr_multiarch.outcome import OutcomeKind
from ecr_multiarch.settings import Settings

AMD64 = make_image("amd64")


def with_manifest(manifest: bytes) -> ImageBlobs:
    return ImageBlobs(manifest=manifest, media_type=media_types.DOCKER_MANIFEST, blobs={}, config_digest="")


scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
json_like = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["os", "architecture", "variant", "os.version", "os.features", "config", "x"]) | st.text(),
    inner, max_size=4), max_leaves=30)
hostile_text = st.one_of(
    json_like.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=300),
    st.builds(lambda depth, open_, close: (open_ * depth + close * depth).encode(),
              st.integers(0, 5000), st.sampled_from(["[", '{"a":']), st.sampled_from(["]", "}"])),
    st.builds(lambda text, codec: json.dumps({"os": "linux", "architecture": text}).encode(codec),
              st.text(max_size=20), st.sampled_from(["utf-8", "utf-16", "utf-32"])),
)


def assemble(arm64: ImageBlobs) -> OutcomeKind:
    registry = MemoryRegistry()
    registry.create_repository("golang")
    registry.push("golang", "1.0-amd64", AMD64)
    registry.push("golang", "1.0-arm64", arm64)
    return Assembler(registry, registry, Settings()).assemble("golang", "1.0").kind  # type: ignore[arg-type]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(config=hostile_text)
def test_any_config_bytes_give_an_outcome(config: bytes) -> None:
    assert assemble(image_with_config(config, oci=False)) in (OutcomeKind.REJECTED, OutcomeKind.CREATED)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(manifest=hostile_text)
def test_any_manifest_bytes_give_an_outcome(manifest: bytes) -> None:
    assert assemble(with_manifest(manifest)) is OutcomeKind.REJECTED
