"""Splitting an arch tag: the longest matching suffix wins whatever its alphabetical order."""

from ecr_multiarch.domain.tags import ArchTag, parse_arch_tag


def test_the_longest_suffix_wins_even_when_it_sorts_first_alphabetically() -> None:
    suffixes = ["v8", "arm64-v8"]  # reverse alphabetical order would try "v8" first
    assert parse_arch_tag("1.0-arm64-v8", suffixes) == ArchTag(tag="1.0-arm64-v8", version="1.0", suffix="arm64-v8")
    assert parse_arch_tag("1.0-v8", suffixes) == ArchTag(tag="1.0-v8", version="1.0", suffix="v8")
