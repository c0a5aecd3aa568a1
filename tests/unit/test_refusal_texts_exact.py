"""The refusal and decision texts an operator reads, exactly, at their boundaries: a config's platform values and
os.features, an arch index with no image for the platform (the first ten entries listed, then a count), and the
reason a Docker list request becomes an OCI index. Each is what a `rejected` outcome or a log line carries."""

import json
from typing import Any

import pytest

from ecr_multiarch.domain import media_types
from ecr_multiarch.domain.arch_index import select_for_platform
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.index import ChildDescriptor, IndexFormat, choose_media_type
from ecr_multiarch.domain.manifest import InvalidManifestError
from ecr_multiarch.domain.platform import (
    MAX_OS_FEATURES,
    ExpectedPlatform,
    InvalidConfigError,
    Platform,
    platform_from_config,
)

LINUX_AMD64 = {"os": "linux", "architecture": "amd64"}


def config_refusal(config: dict[str, Any]) -> str:
    with pytest.raises(InvalidConfigError) as raised:
        platform_from_config(config)
    return str(raised.value)


def test_a_platform_value_with_a_space_is_refused_naming_the_field_and_the_rule() -> None:
    assert config_refusal(LINUX_AMD64 | {"variant": "v 8"}) == (
        "config field 'variant' is not a platform value (1 to 128 printable ASCII characters, no spaces)")


def test_os_features_up_to_the_bound_are_read_and_one_more_is_refused_with_the_bound_named() -> None:
    at_bound = [f"f{n}" for n in range(MAX_OS_FEATURES)]
    assert MAX_OS_FEATURES == 32
    assert platform_from_config(LINUX_AMD64 | {"os.features": at_bound}).os_features == tuple(at_bound)
    assert config_refusal(LINUX_AMD64 | {"os.features": [*at_bound, "one-more"]}) == (
        "config field 'os.features' is not a list of at most 32 platform values "
        "(1 to 128 printable ASCII characters each)")


def arm64_index(count: int) -> bytes:
    entries = [{"mediaType": media_types.OCI_MANIFEST, "size": 10, "digest": "sha256:" + f"{n:064x}",
                "platform": {"os": "linux", "architecture": "arm64", "variant": f"v{n}"}} for n in range(count)]
    return json.dumps({"schemaVersion": 2, "mediaType": media_types.OCI_INDEX, "manifests": entries}).encode()


def no_image_refusal(count: int) -> str:
    with pytest.raises(InvalidManifestError) as raised:
        select_for_platform(arm64_index(count), media_types.OCI_INDEX, ExpectedPlatform("linux", "amd64"))
    return str(raised.value)


@pytest.mark.parametrize(("count", "listed"), [
    (10, ", ".join(f"linux/arm64/v{n}" for n in range(10))),
    (11, ", ".join(f"linux/arm64/v{n}" for n in range(10)) + " and 1 more"),
    (12, ", ".join(f"linux/arm64/v{n}" for n in range(10)) + " and 2 more"),
])
def test_an_index_without_the_platform_lists_its_first_ten_entries_then_how_many_more(count: int, listed: str) -> None:
    assert no_image_refusal(count) == f"is an index with no image manifest for linux/amd64 (it lists: {listed})"


def test_a_docker_list_over_an_oci_child_becomes_an_oci_index_and_says_why_exactly() -> None:
    digest = "sha256:" + "c" * 64
    child = ChildDescriptor(media_types.OCI_MANIFEST, 428, Digest(digest), Platform("linux", "arm64", "v8"))
    assert choose_media_type([child], IndexFormat.DOCKER) == (
        media_types.OCI_INDEX,
        f"INDEX_FORMAT=docker, but child {digest} is {media_types.OCI_MANIFEST}; a Docker manifest list cannot "
        "hold OCI manifests, so an OCI index is written")
