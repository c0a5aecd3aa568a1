"""The versions named when one has no tag at all: nearest first, by shared prefix, then likeness, then name."""

import pytest

from ecr_multiarch.nearby import NEARBY_LIMIT, nearest_versions, versions_of

SUFFIXES = ("amd64", "arm64", "windows-amd64")
TAGS = ["1.19.2-alpine-amd64", "1.19.2-alpine-arm64", "1.19.2-alpine", "1.18-alpine-amd64", "1.20-alpine-amd64",
        "1.21-alpine-arm64", "latest"]


def test_versions_are_arch_tags_read_as_their_version_and_other_tags_as_themselves() -> None:
    assert versions_of(TAGS, SUFFIXES) == {"1.19.2-alpine", "1.18-alpine", "1.20-alpine", "1.21-alpine", "latest"}
    assert versions_of(["1.0-windows-amd64"], SUFFIXES) == {"1.0"}  # the longest suffix, as the tag grammar reads it


@pytest.mark.parametrize(("asked", "nearest"), [
    ("1.19.3-alpine", "1.19.2-alpine"),  # the shared prefix decides first
    ("1.19.2-alpin", "1.19.2-alpine"),  # a letter short
    ("1.2-alpine", "1.20-alpine"),
    ("lastest", "latest"),  # no shared prefix beyond "la": likeness decides
])
def test_the_nearest_version_comes_first(asked: str, nearest: str) -> None:
    assert nearest_versions(asked, TAGS, SUFFIXES)[0] == nearest


def test_the_order_is_prefix_then_likeness_then_name_and_the_version_itself_is_never_named() -> None:
    assert nearest_versions("1.19.2-alpine", TAGS, SUFFIXES) == [
        "1.18-alpine", "1.20-alpine", "1.21-alpine", "latest"]  # "1.1", then "1." twice: likeness, then name
    assert nearest_versions("9.9.9-alpine", TAGS, SUFFIXES) == [
        "1.19.2-alpine", "1.18-alpine", "1.20-alpine", "1.21-alpine", "latest"]


def test_at_most_the_limit_and_nothing_for_an_empty_repository() -> None:
    many = [f"1.{minor}-amd64" for minor in range(20)]
    assert len(nearest_versions("1.5.1", many, SUFFIXES)) == NEARBY_LIMIT == 5
    assert nearest_versions("1.5.1", many, SUFFIXES)[0] == "1.5"
    assert nearest_versions("1.0", [], SUFFIXES) == []
