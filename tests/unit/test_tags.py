import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecr_multiarch.domain.tags import DEFAULT_SUFFIXES, ArchTag, arch_tag, is_valid_tag, parse_arch_tag

SUFFIXES = tuple(DEFAULT_SUFFIXES)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("1.19.2-alpine-arm64", ArchTag("1.19.2-alpine-arm64", "1.19.2-alpine", "arm64")),
        ("1.19.2-alpine-amd64", ArchTag("1.19.2-alpine-amd64", "1.19.2-alpine", "amd64")),
        ("1.19.2-amd64", ArchTag("1.19.2-amd64", "1.19.2", "amd64")),
        ("v1-armv7", ArchTag("v1-armv7", "v1", "armv7")),
        ("1.0-windows-amd64", ArchTag("1.0-windows-amd64", "1.0", "windows-amd64")),
        ("latest-386", ArchTag("latest-386", "latest", "386")),
        ("1.0-s390x", ArchTag("1.0-s390x", "1.0", "s390x")),
        ("1.19.2-alpine", None),  # the version tag itself: our own index push
        ("amd64", None),  # a suffix with no version
        ("-amd64", None),  # not a valid tag
        ("1.0-arm64-debug", None),
        ("1.0_amd64", None),  # the grammar is "-<suffix>"
        ("1.0-AMD64", None),  # tags are case-sensitive
        ("1.0-arm", None),  # "-arm" is not a known suffix; never read as a truncated arm64
        ("", None),
        ("a" * 129 + "-amd64", None),  # over 128 characters
    ],
)
def test_parse_arch_tag(tag: str, expected: ArchTag | None) -> None:
    assert parse_arch_tag(tag, SUFFIXES) == expected


def test_longest_suffix_wins_whatever_the_configured_order() -> None:
    assert parse_arch_tag("1.0-windows-amd64", ["amd64", "windows-amd64"]) == ArchTag(
        "1.0-windows-amd64", "1.0", "windows-amd64"
    )
    # With only amd64 configured, the windows build is version "1.0-windows": grammar, not guessing.
    assert parse_arch_tag("1.0-windows-amd64", ["amd64"]) == ArchTag("1.0-windows-amd64", "1.0-windows", "amd64")


def test_only_configured_suffixes_count() -> None:
    assert parse_arch_tag("1.0-ppc64le", ["amd64", "arm64"]) is None


versions = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,60}", fullmatch=True)


@given(version=versions, suffix=st.sampled_from(SUFFIXES))
def test_arch_tag_round_trips(version: str, suffix: str) -> None:
    parsed = parse_arch_tag(arch_tag(version, suffix), SUFFIXES)
    assert parsed is not None
    # The version may itself end in a suffix-looking word; what matters is that joining again gives the tag.
    assert arch_tag(parsed.version, parsed.suffix) == arch_tag(version, suffix)
    assert is_valid_tag(parsed.version)


@pytest.mark.parametrize(
    ("tag", "version", "suffix"),
    [
        ("1.0-arm", "1.0", "arm"),  # custom suffix
        ("1.0-arm64", "1.0", "arm64"),  # never `-arm` followed by `64`
        ("1.0-arm-arm64", "1.0-arm", "arm64"),
        ("1.0-armv7", "1.0", "armv7"),
        ("1.0-bookworm-arm", "1.0-bookworm", "arm"),
        ("1.0-win2019", "1.0", "win2019"),
        ("1.0-windows-amd64", "1.0", "windows-amd64"),
    ],
)
def test_custom_suffixes_and_ambiguous_endings(tag: str, version: str, suffix: str) -> None:
    known = [*DEFAULT_SUFFIXES, "arm", "win2019"]
    parsed = parse_arch_tag(tag, known)
    assert parsed is not None and (parsed.version, parsed.suffix) == (version, suffix)


def test_a_tag_ending_in_an_unknown_suffix_is_not_an_arch_tag() -> None:
    assert parse_arch_tag("1.0-arm", DEFAULT_SUFFIXES) is None
    assert parse_arch_tag("1.0-mips64", [*DEFAULT_SUFFIXES, "arm"]) is None
