"""Repository-tag policy: each unusable tag value is refused with the exact sentence an operator reads, and the
values at the edges of what is accepted (case, spaces, separators) are read as stated."""

import pytest

from ecr_multiarch.domain.index import IndexFormat
from ecr_multiarch.domain.platform import ExpectedPlatform
from ecr_multiarch.domain.policy import PolicyError, RepositoryPolicy, parse_policy
from ecr_multiarch.domain.tags import DEFAULT_SUFFIXES

KNOWN = "ecr-multiarch:architectures, ecr-multiarch:enabled, ecr-multiarch:index-format, ecr-multiarch:replace"
SUFFIXES = ", ".join(DEFAULT_SUFFIXES)


@pytest.mark.parametrize(("tags", "message"), [
    ({"ecr-multiarch:zz": "1", "ecr-multiarch:aa": "1"},
     f"unknown repository tag(s) ['ecr-multiarch:aa', 'ecr-multiarch:zz']; known: {KNOWN}"),
    ({"ecr-multiarch:enabled": "yes"}, "repository tag ecr-multiarch:enabled is 'yes'; use true or false"),
    ({"ecr-multiarch:architectures": " + "},
     "repository tag ecr-multiarch:architectures is empty; give suffixes joined by '+'"),
    ({"ecr-multiarch:architectures": "amd64+mips+sparc"},
     f"repository tag ecr-multiarch:architectures has unknown suffixes ['mips', 'sparc']; known: {SUFFIXES}"),
    ({"ecr-multiarch:architectures": "arm64+amd64+arm64"},
     "repository tag ecr-multiarch:architectures names a suffix or a platform twice"),
    ({"ecr-multiarch:index-format": "Docker2"},
     "repository tag ecr-multiarch:index-format is 'Docker2'; use auto, docker or oci"),
])
def test_an_unusable_tag_is_refused_with_what_it_accepts(tags: dict[str, str], message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(tags, DEFAULT_SUFFIXES)
    assert str(raised.value) == message


def test_two_suffixes_for_one_platform_are_refused() -> None:
    suffixes = {"amd64": ExpectedPlatform("linux", "amd64"), "x64": ExpectedPlatform("linux", "amd64")}
    with pytest.raises(PolicyError) as raised:
        parse_policy({"ecr-multiarch:architectures": "amd64+x64"}, suffixes)
    assert str(raised.value) == "repository tag ecr-multiarch:architectures names a suffix or a platform twice"


@pytest.mark.parametrize(("tags", "policy"), [
    ({"ecr-multiarch:enabled": " FALSE "}, RepositoryPolicy(enabled=False)),
    ({"ecr-multiarch:enabled": "true"}, RepositoryPolicy(enabled=True)),
    ({"ecr-multiarch:architectures": "amd64++arm64 \t armv7"},
     RepositoryPolicy(architectures=("amd64", "arm64", "armv7"))),
    ({"ecr-multiarch:index-format": " Docker "}, RepositoryPolicy(index_format=IndexFormat.DOCKER)),
    ({"ecr-multiarch:index-format": "auto"}, RepositoryPolicy(index_format=IndexFormat.AUTO)),
    ({"ecr-multiarch-architectures": "nonsense", "ecr-multiarch": "x"}, RepositoryPolicy()),
])
def test_accepted_values_are_read_as_stated(tags: dict[str, str], policy: RepositoryPolicy) -> None:
    assert parse_policy(tags, DEFAULT_SUFFIXES) == policy
