"""Platforms read from configs, pinned at their edges: every alias, the exact rejection reasons, the written key
order (what ends up in the index bytes), the printed form, and which platforms a host cannot tell apart."""

import json

import pytest

from ecr_multiarch.domain.platform import (
    ARCHITECTURE_ALIASES,
    ExpectedPlatform,
    InvalidConfigError,
    Platform,
    normalize,
    platform_from_config,
    same_host_platform,
)


@pytest.mark.parametrize(("alias", "canonical"), [
    ("x86_64", ("amd64", None)), ("x86-64", ("amd64", None)), ("aarch64", ("arm64", None)),
    ("armhf", ("arm", "v7")), ("armv7", ("arm", "v7")), ("armv7l", ("arm", "v7")),
    ("armel", ("arm", "v6")), ("armv6", ("arm", "v6")), ("armv6l", ("arm", "v6")),
    ("i386", ("386", None)), ("i686", ("386", None)),
])
def test_each_architecture_alias_reads_as_its_canonical_name(alias: str, canonical: tuple[str, str | None]) -> None:
    assert ARCHITECTURE_ALIASES[alias] == canonical
    assert normalize(" Linux ", f" {alias.upper()} ", None) == ("linux", *canonical)


@pytest.mark.parametrize(("variant", "read"), [(" V8 ", "v8"), ("  ", None), (None, None), ("", None)])
def test_a_stated_variant_is_trimmed_and_lowered_and_a_blank_one_is_none(variant: str | None,
                                                                          read: str | None) -> None:
    assert normalize("linux", "arm64", variant) == ("linux", "arm64", read)


@pytest.mark.parametrize(("config", "message"), [
    ([], "config is not a JSON object"),
    ({"os": "linux"}, "config has no os or architecture"),
    ({"architecture": "amd64", "os": ""}, "config has no os or architecture"),
    ({"os": 1, "architecture": "amd64"}, "config field 'os' is not a string"),
    ({"os": "linux", "architecture": "amd64", "variant": 8}, "config field 'variant' is not a string"),
    ({"os": "linux", "architecture": "amd64", "os.version": 10}, "config field 'os.version' is not a string"),
    ({"os": "linux", "architecture": "amd64", "os.features": ["a", 1]},
     "config field 'os.features' is not a list of strings"),
    ({"os": "linux", "architecture": "amd64", "os.features": {"a": "b"}},
     "config field 'os.features' is not a list of strings"),
])
def test_an_unusable_config_is_refused_with_the_field_at_fault(config: object, message: str) -> None:
    with pytest.raises(InvalidConfigError) as raised:
        platform_from_config(config)  # type: ignore[arg-type]
    assert str(raised.value) == message


def test_every_field_is_read_and_written_back_in_the_spec_order() -> None:
    config = {"architecture": "ARMHF", "os": "Linux", "os.version": "5.1", "os.features": ["f1", "f2"],
              "variant": ""}
    platform = platform_from_config(config)
    assert platform == Platform("linux", "arm", "v7", "5.1", ("f1", "f2"))
    assert json.dumps(platform.to_json()) == (
        '{"architecture": "arm", "os": "linux", "os.version": "5.1", "os.features": ["f1", "f2"], "variant": "v7"}')
    assert platform_from_config({"os": "linux", "architecture": "amd64", "os.features": None}).os_features == ()


def test_platforms_print_as_os_architecture_and_variant() -> None:
    assert str(Platform("linux", "arm", "v7", "5.1")) == "linux/arm/v7"
    assert str(Platform("linux", "amd64")) == "linux/amd64"
    assert str(ExpectedPlatform("linux", "arm", "v6")) == "linux/arm/v6"
    assert str(ExpectedPlatform("windows", "amd64")) == "windows/amd64"


@pytest.mark.parametrize(("first", "second", "same"), [
    (Platform("linux", "arm64"), Platform("linux", "arm64", "v8"), True),
    (Platform("linux", "arm64", "v8"), Platform("linux", "arm64", "v8"), True),
    (Platform("linux", "arm64", "v9"), Platform("linux", "arm64"), False),
    (Platform("linux", "arm", "v8"), Platform("linux", "arm"), False),
    (Platform("linux", "amd64"), Platform("windows", "amd64"), False),
    (Platform("windows", "amd64", None, "10.0.1"), Platform("windows", "amd64", None, "10.0.2"), False),
    (Platform("linux", "amd64", None, None, ("a",)), Platform("linux", "amd64"), True),
])
def test_which_index_entries_a_host_cannot_tell_apart(first: Platform, second: Platform, same: bool) -> None:
    assert same_host_platform(first, second) is same
    assert same_host_platform(second, first) is same


def test_empty_optional_fields_read_as_absent() -> None:
    platform = platform_from_config({"os": "windows", "architecture": "amd64", "os.version": "", "variant": ""})
    assert platform == Platform("windows", "amd64")
    assert platform.os_version is None and platform.variant is None
