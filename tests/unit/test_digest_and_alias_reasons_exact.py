"""Digests and alias tags at their edges: the exact rejection messages (truncated input included), ordering, and
the alias names each kind gives, flavoured or not."""

import pytest

from ecr_multiarch.domain.aliases import Version, alias_of, aliases_to_move, parse_version
from ecr_multiarch.domain.digest import Digest, InvalidDigestError


@pytest.mark.parametrize(("value", "message"), [
    ("sha256:xyz", "not a sha256 digest: 'sha256:xyz'"),
    ("x" * 100, f"not a sha256 digest: {'x' * 80!r}"),
    (None, "not a sha256 digest: 'None'"),
    (7, "not a sha256 digest: '7'"),
])
def test_what_is_not_a_digest_is_refused_with_at_most_80_characters_of_it(value: object, message: str) -> None:
    with pytest.raises(InvalidDigestError) as raised:
        Digest(value)  # type: ignore[arg-type]
    assert str(raised.value) == message


def test_digests_order_by_value_and_print_as_their_value() -> None:
    low, high = Digest("sha256:" + "0" * 64), Digest("sha256:" + "f" * 64)
    assert sorted([high, low]) == [low, high]
    assert str(high) == "sha256:" + "f" * 64
    assert Digest.of(b"") == Digest("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def test_an_unknown_alias_kind_is_refused_by_name() -> None:
    with pytest.raises(ValueError) as raised:
        alias_of(Version("1.2.3", 1, 2, 3, None), "patch")
    assert str(raised.value) == "unknown alias kind 'patch'"


@pytest.mark.parametrize(("tag", "aliases"), [
    ("v1.19.2-alpine3.20", ["1.19-alpine3.20", "1-alpine3.20", "latest-alpine3.20"]),
    ("0.0.0", ["0.0", "0", "latest"]),
])
def test_each_kind_names_its_alias_within_the_flavour(tag: str, aliases: list[str]) -> None:
    version = parse_version(tag)
    assert version is not None
    assert [alias_of(version, kind) for kind in ("minor", "major", "latest")] == aliases


@pytest.mark.parametrize("tag", ["1.2", "01.2.3", "1.2.3-", "1.2.3-.x", "1.2.3.4", "latest", "v", "1.2.3 "])
def test_what_is_not_a_version_tag_takes_no_part(tag: str) -> None:
    assert parse_version(tag) is None


def test_an_equal_version_of_the_same_group_does_not_hold_the_alias_back() -> None:
    version = parse_version("1.2.3")
    assert version is not None
    assert aliases_to_move(version, ("minor", "major", "latest"), ["v1.2.3", "1.2.3-slim", "1.3.0-slim"]) == [
        "1.2", "1", "latest"]
    assert aliases_to_move(version, ("major",), ["1.2.4"]) == []
