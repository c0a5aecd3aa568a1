"""Platforms as image configs state them, normalised, and the check of a config against its tag's suffix.

The platform written into an index is always the one read from the child's config (like ``docker manifest
create``); nothing is invented, and never "the host's platform". Normalisation only maps well-known aliases onto
their canonical OCI names so that ``x86_64`` in a config still satisfies an ``-amd64`` tag.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class InvalidConfigError(ValueError):
    """An image config that does not state a usable platform."""


# Platform values are Go's GOOS / GOARCH words, variants like "v7", Windows builds like "10.0.17763.5206", features
# like "win32k": short printable ASCII. Anything else cannot fit a suffix, and must not be copied into an index, a
# reason or a log line (a megabyte-long "architecture" would be quoted in every rejection).
_PLATFORM_VALUE = re.compile(r"[\x21-\x7e]{1,128}")
MAX_OS_FEATURES = 32


# architecture alias -> (canonical architecture, variant implied by the alias or None)
ARCHITECTURE_ALIASES: Mapping[str, tuple[str, str | None]] = {
    "x86_64": ("amd64", None),
    "x86-64": ("amd64", None),
    "aarch64": ("arm64", None),
    "armhf": ("arm", "v7"),
    "armv7": ("arm", "v7"),
    "armv7l": ("arm", "v7"),
    "armel": ("arm", "v6"),
    "armv6": ("arm", "v6"),
    "armv6l": ("arm", "v6"),
    "i386": ("386", None),
    "i686": ("386", None),
}


@dataclass(frozen=True, slots=True)
class Platform:
    """An OCI platform: what a host matches an index entry against."""

    os: str
    architecture: str
    variant: str | None = None
    os_version: str | None = None
    os_features: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The ``platform`` object of an index descriptor, keys in the order the specs list them."""
        document: dict[str, Any] = {"architecture": self.architecture, "os": self.os}
        if self.os_version:
            document["os.version"] = self.os_version
        if self.os_features:
            document["os.features"] = list(self.os_features)
        if self.variant:
            document["variant"] = self.variant
        return document

    def __str__(self) -> str:
        return "/".join(part for part in (self.os, self.architecture, self.variant) if part)


@dataclass(frozen=True, slots=True)
class ExpectedPlatform:
    """What an architecture suffix promises. ``variant=None`` accepts any variant (arm64 with or without v8)."""

    os: str
    architecture: str
    variant: str | None = None

    def admits(self, platform: Platform) -> bool:
        if (platform.os, platform.architecture) != (self.os, self.architecture):
            return False
        return self.variant is None or platform.variant == self.variant

    def __str__(self) -> str:
        return "/".join(part for part in (self.os, self.architecture, self.variant) if part)


def normalize(os: str, architecture: str, variant: str | None) -> tuple[str, str, str | None]:
    """Map aliases to canonical names; a variant the config states always wins over one an alias implies."""
    os_name = os.strip().lower()
    arch = architecture.strip().lower()
    stated_variant = variant.strip().lower() if variant and variant.strip() else None
    canonical, implied_variant = ARCHITECTURE_ALIASES.get(arch, (arch, None))
    return os_name, canonical, stated_variant or implied_variant


def _optional_string(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidConfigError(f"config field {key!r} is not a string")
    if not _PLATFORM_VALUE.fullmatch(value):
        raise InvalidConfigError(f"config field {key!r} is not a platform value (1 to 128 printable ASCII "
                                 "characters, no spaces)")
    return value


def platform_from_config(config: Mapping[str, Any]) -> Platform:
    """Read the platform fields of an image config (Docker and OCI configs use the same names)."""
    if not isinstance(config, Mapping):
        raise InvalidConfigError("config is not a JSON object")
    os_name = _optional_string(config, "os")
    architecture = _optional_string(config, "architecture")
    if not os_name or not architecture:
        raise InvalidConfigError("config has no os or architecture")
    features = config.get("os.features") or ()
    if not isinstance(features, list | tuple) or not all(isinstance(f, str) for f in features):
        raise InvalidConfigError("config field 'os.features' is not a list of strings")
    if len(features) > MAX_OS_FEATURES or not all(_PLATFORM_VALUE.fullmatch(f) for f in features):
        raise InvalidConfigError(f"config field 'os.features' is not a list of at most {MAX_OS_FEATURES} platform "
                                 "values (1 to 128 printable ASCII characters each)")
    os_name, architecture, variant = normalize(os_name, architecture, _optional_string(config, "variant"))
    return Platform(
        os=os_name,
        architecture=architecture,
        variant=variant,
        os_version=_optional_string(config, "os.version"),
        os_features=tuple(features),
    )


def same_host_platform(first: Platform, second: Platform) -> bool:
    """Whether a host could not tell these two index entries apart (os, architecture, variant, os.version).

    arm64 without a variant is arm64/v8 (what containerd and Docker assume), so those two are one platform.
    """
    def key(platform: Platform) -> tuple[str, str, str | None, str | None]:
        variant = platform.variant
        if platform.architecture == "arm64" and variant == "v8":
            variant = None
        return platform.os, platform.architecture, variant, platform.os_version

    return key(first) == key(second)
