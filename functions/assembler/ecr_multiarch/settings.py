"""The function's configuration, read from the environment once and validated before any event is handled."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .domain.index import IndexFormat
from .domain.platform import ExpectedPlatform
from .domain.tags import DEFAULT_SUFFIXES

# Every variable Settings reads; template.yaml must set each (a contract test holds it to that).
ENVIRONMENT_VARIABLES: tuple[str, ...] = ("REQUIRED_ARCHITECTURES", "INDEX_FORMAT", "DRY_RUN", "KEEP_ATTESTATIONS")

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}


class SettingsError(ValueError):
    """A configuration value that cannot be used; the message names the variable and what is accepted."""


@dataclass(frozen=True, slots=True)
class Settings:
    required_architectures: tuple[str, ...] = ("amd64", "arm64")
    index_format: IndexFormat = IndexFormat.AUTO
    dry_run: bool = False
    # BuildKit attestation manifests (provenance, SBOM) of arch tags that are indexes: carried into the index
    # right after their image (true), or left out (false).
    keep_attestations: bool = True
    # Every suffix the tag grammar knows, and the platform each promises: DEFAULT_SUFFIXES plus ARCH_SUFFIXES_EXTRA.
    suffixes: Mapping[str, ExpectedPlatform] = field(
        default_factory=lambda: MappingProxyType(dict(DEFAULT_SUFFIXES)), hash=False
    )

    def expected_platform(self, suffix: str) -> ExpectedPlatform:
        return self.suffixes[suffix]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        return cls(
            required_architectures=parse_architectures(environ.get("REQUIRED_ARCHITECTURES", "amd64,arm64")),
            index_format=parse_index_format(environ.get("INDEX_FORMAT", "auto")),
            dry_run=parse_bool("DRY_RUN", environ.get("DRY_RUN", "false")),
            keep_attestations=parse_bool("KEEP_ATTESTATIONS", environ.get("KEEP_ATTESTATIONS", "true")),
        )


def parse_architectures(raw: str) -> tuple[str, ...]:
    suffixes = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not suffixes:
        raise SettingsError("REQUIRED_ARCHITECTURES is empty; give comma-separated tag suffixes, e.g. amd64,arm64")
    unknown = [suffix for suffix in suffixes if suffix not in DEFAULT_SUFFIXES]
    if unknown:
        raise SettingsError(
            f"REQUIRED_ARCHITECTURES has unknown suffixes {unknown}; known: {', '.join(DEFAULT_SUFFIXES)}"
        )
    if len(set(suffixes)) != len(suffixes):
        raise SettingsError(f"REQUIRED_ARCHITECTURES lists a suffix twice: {raw!r}")
    platforms = [DEFAULT_SUFFIXES[suffix] for suffix in suffixes]
    if len(set(platforms)) != len(platforms):
        raise SettingsError(f"REQUIRED_ARCHITECTURES names one platform twice: {raw!r}")
    return suffixes


def parse_index_format(raw: str) -> IndexFormat:
    try:
        return IndexFormat(raw.strip().lower())
    except ValueError:
        raise SettingsError(f"INDEX_FORMAT is {raw!r}; use auto, docker or oci") from None


def parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name} is {raw!r}; use true or false")
