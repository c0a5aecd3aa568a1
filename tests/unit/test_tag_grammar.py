"""One tag grammar: ASCII tags only, and a version whose arch tags the grammar reads as another version's is refused."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecr_multiarch.domain.tags import (
    DEFAULT_SUFFIXES,
    AmbiguousVersionError,
    arch_tag,
    is_valid_tag,
    parse_arch_tag,
    version_arch_tags,
)
from ecr_multiarch.reconcile import group_versions

SUFFIXES = tuple(DEFAULT_SUFFIXES)


@pytest.mark.parametrize("tag", ["ünïcødé-arm64", "1.0-ärm64", "版本-amd64", "1.0\u00a0-amd64", "١٢٣-amd64",
                                 "ǅ-amd64", "1.0-amd64\n"])
def test_non_ascii_tags_are_not_tags(tag: str) -> None:
    assert not is_valid_tag(tag)
    assert parse_arch_tag(tag, SUFFIXES) is None


@pytest.mark.parametrize("tag", ["1.0-amd64", "A_b.c-D-arm64", "_x-386", "9" * 122 + "-amd64"])
def test_ascii_tags_of_the_oci_grammar_are_tags(tag: str) -> None:
    assert is_valid_tag(tag)


@given(st.text(min_size=1, max_size=40))
def test_every_valid_tag_is_ascii_letters_digits_underscore_dot_dash(tag: str) -> None:
    if is_valid_tag(tag):
        assert tag.isascii() and not tag.startswith((".", "-"))
        assert all(ch.isalnum() or ch in "_.-" for ch in tag)


def test_version_arch_tags_in_required_order() -> None:
    assert version_arch_tags("1.0", ("arm64", "amd64"), SUFFIXES) == {"arm64": "1.0-arm64", "amd64": "1.0-amd64"}
    assert version_arch_tags("1.0", ("amd64", "windows-amd64"), SUFFIXES) == {
        "amd64": "1.0-amd64", "windows-amd64": "1.0-windows-amd64"}


def test_a_version_whose_arch_tag_belongs_to_another_version_is_refused() -> None:
    with pytest.raises(AmbiguousVersionError) as refused:
        version_arch_tags("1.0-windows", ("amd64", "arm64"), SUFFIXES)
    assert str(refused.value).startswith("version 1.0-windows cannot be indexed: its amd64 tag 1.0-windows-amd64 is "
                                         "the windows-amd64 tag of version 1.0")


def test_the_same_version_is_fine_when_the_overlapping_suffix_is_not_required() -> None:
    assert version_arch_tags("1.0-windows", ("arm64",), SUFFIXES) == {"arm64": "1.0-windows-arm64"}


def test_the_event_grammar_and_the_sweep_grouping_read_windows_amd64_the_same_way() -> None:
    for required in (("amd64", "arm64"), ("amd64", "windows-amd64")):
        event_reading = parse_arch_tag("1.0-windows-amd64", SUFFIXES)
        grouped = {(v.version, suffix) for v in group_versions(["1.0-windows-amd64"], required, SUFFIXES)
                   for suffix in v.arch_tags}
        assert event_reading is not None
        expected = {(event_reading.version, event_reading.suffix)} if event_reading.suffix in required else set()
        assert grouped == expected


versions = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,60}", fullmatch=True)


@given(version=versions, required=st.lists(st.sampled_from(SUFFIXES), min_size=1, max_size=3, unique=True))
def test_an_accepted_version_reads_back_from_each_of_its_tags(version: str, required: list[str]) -> None:
    """Whatever version_arch_tags accepts, the event path (parse) maps each tag back to exactly that version."""
    try:
        tags = version_arch_tags(version, required, SUFFIXES)
    except AmbiguousVersionError:
        return
    for suffix, tag in tags.items():
        assert tag == arch_tag(version, suffix)
        parsed = parse_arch_tag(tag, SUFFIXES)
        assert parsed is not None and (parsed.version, parsed.suffix) == (version, suffix)
