import pytest

from ecr_multiarch.domain.aliases import Version, alias_of, aliases_to_move, parse_version
from ecr_multiarch.settings import Settings, SettingsError


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("1.19.2", Version("1.19.2", 1, 19, 2, None)),
        ("v1.19.2", Version("v1.19.2", 1, 19, 2, None)),
        ("1.19.2-alpine", Version("1.19.2-alpine", 1, 19, 2, "alpine")),
        ("1.19.2-alpine3.16", Version("1.19.2-alpine3.16", 1, 19, 2, "alpine3.16")),
        ("1.19", None),
        ("latest", None),
        ("01.2.3", None),
        ("1.2.3-", None),
    ],
)
def test_parse_version(tag: str, expected: Version | None) -> None:
    assert parse_version(tag) == expected


@pytest.mark.parametrize(
    ("tag", "kind", "alias"),
    [("1.19.2", "minor", "1.19"), ("1.19.2", "major", "1"), ("1.19.2", "latest", "latest"),
     ("1.19.2-alpine", "minor", "1.19-alpine"), ("1.19.2-alpine", "latest", "latest-alpine")],
)
def test_alias_of(tag: str, kind: str, alias: str) -> None:
    version = parse_version(tag)
    assert version is not None and alias_of(version, kind) == alias


def test_aliases_only_move_forward_within_their_group() -> None:
    tags = ["1.19.3", "1.20.0", "1.19.9-alpine", "1.19.3-amd64", "1.19.4-arm64", "latest", "1.19"]
    v1192 = parse_version("1.19.2")
    v1194 = parse_version("1.19.4")
    v1210 = parse_version("1.21.0")
    assert v1192 is not None and v1194 is not None and v1210 is not None
    kinds = ("minor", "major", "latest")
    assert aliases_to_move(v1192, kinds, tags) == []  # 1.19.3 and 1.20.0 are higher: nothing moves back
    # 1.19.4 is the highest 1.19 (its arch tags alone are not a version), but not the highest 1 or latest.
    assert aliases_to_move(v1194, kinds, tags) == ["1.19"]
    assert aliases_to_move(v1210, kinds, [*tags, "1.21.0"]) == ["1.21", "1", "latest"]


def test_alias_setting() -> None:
    assert Settings.from_environment({"ALIAS_TAGS": "minor, latest"}).alias_kinds == ("minor", "latest")
    assert Settings.from_environment({}).alias_kinds == ()
    with pytest.raises(SettingsError, match="ALIAS_TAGS"):
        Settings.from_environment({"ALIAS_TAGS": "patch"})
