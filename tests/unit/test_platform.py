from typing import Any

import pytest

from ecr_multiarch.domain.platform import (
    ExpectedPlatform,
    InvalidConfigError,
    Platform,
    normalize,
    platform_from_config,
)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"os": "linux", "architecture": "amd64"}, Platform("linux", "amd64")),
        ({"os": "linux", "architecture": "arm64", "variant": "v8"}, Platform("linux", "arm64", "v8")),
        ({"os": "linux", "architecture": "arm64"}, Platform("linux", "arm64")),  # never invent v8
        ({"os": "linux", "architecture": "arm", "variant": "v7"}, Platform("linux", "arm", "v7")),
        ({"os": "linux", "architecture": "x86_64"}, Platform("linux", "amd64")),
        ({"os": "linux", "architecture": "aarch64"}, Platform("linux", "arm64")),
        ({"os": "linux", "architecture": "armhf"}, Platform("linux", "arm", "v7")),
        ({"os": "linux", "architecture": "armel"}, Platform("linux", "arm", "v6")),
        ({"os": "linux", "architecture": "armv7", "variant": "v6"}, Platform("linux", "arm", "v6")),  # stated wins
        ({"os": "Linux", "architecture": "AMD64"}, Platform("linux", "amd64")),
        (
            {"os": "windows", "architecture": "amd64", "os.version": "10.0.20348.1906",
             "os.features": ["win32k"]},
            Platform("windows", "amd64", os_version="10.0.20348.1906", os_features=("win32k",)),
        ),
        ({"os": "linux", "architecture": "amd64", "variant": ""}, Platform("linux", "amd64")),
    ],
)
def test_platform_from_config(config: dict[str, object], expected: Platform) -> None:
    assert platform_from_config(config) == expected


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"os": "linux"},
        {"architecture": "amd64"},
        {"os": "linux", "architecture": 64},
        {"os": "linux", "architecture": "amd64", "os.features": "win32k"},
        {"os": "linux", "architecture": "amd64", "variant": ["v8"]},
        ["linux", "amd64"],
    ],
)
def test_platform_from_invalid_config(config: object) -> None:
    with pytest.raises(InvalidConfigError):
        platform_from_config(config)  # type: ignore[arg-type]


def test_platform_json_uses_spec_keys() -> None:
    platform = Platform("windows", "amd64", None, "10.0.17763", ("win32k",))
    assert platform.to_json() == {
        "architecture": "amd64", "os": "windows", "os.version": "10.0.17763", "os.features": ["win32k"]
    }
    assert Platform("linux", "arm64", "v8").to_json() == {"architecture": "arm64", "os": "linux", "variant": "v8"}


@pytest.mark.parametrize(
    ("expected", "actual", "admitted"),
    [
        (ExpectedPlatform("linux", "arm64"), Platform("linux", "arm64", "v8"), True),
        (ExpectedPlatform("linux", "arm64"), Platform("linux", "arm64"), True),
        (ExpectedPlatform("linux", "arm64"), Platform("linux", "amd64"), False),
        (ExpectedPlatform("linux", "amd64"), Platform("windows", "amd64"), False),
        (ExpectedPlatform("linux", "arm", "v7"), Platform("linux", "arm", "v7"), True),
        (ExpectedPlatform("linux", "arm", "v7"), Platform("linux", "arm", "v6"), False),
        (ExpectedPlatform("linux", "arm", "v7"), Platform("linux", "arm"), False),
    ],
)
def test_expected_platform_admits(expected: ExpectedPlatform, actual: Platform, admitted: bool) -> None:
    assert expected.admits(actual) is admitted


def test_normalize_keeps_unknown_architectures() -> None:
    assert normalize("linux", "loong64", None) == ("linux", "loong64", None)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"os": "linux", "architecture": "x" * 129}, "'architecture'"),
        ({"os": "linux", "architecture": "arm64\x00"}, "'architecture'"),
        ({"os": "linux", "architecture": "ärm64"}, "'architecture'"),
        ({"os": "lin ux", "architecture": "arm64"}, "'os'"),
        ({"os": "linux", "architecture": "arm64", "variant": "v8\n"}, "'variant'"),
        ({"os": "windows", "architecture": "amd64", "os.version": "10.0" * 40}, "'os.version'"),
        ({"os": "windows", "architecture": "amd64", "os.features": ["win32k"] * 33}, "'os.features'"),
        ({"os": "windows", "architecture": "amd64", "os.features": ["win 32k"]}, "'os.features'"),
    ],
)
def test_platform_values_are_short_printable_ascii(config: dict[str, Any], field: str) -> None:
    """Anything else cannot fit a suffix, and would be quoted into reasons and log lines."""
    with pytest.raises(InvalidConfigError) as refused:
        platform_from_config(config)
    assert field in str(refused.value)
    assert len(str(refused.value)) < 200
