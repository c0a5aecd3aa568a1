"""The function's configuration, read from the environment once and validated before any event is handled."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .domain.aliases import ALIAS_KINDS
from .domain.index import IndexFormat
from .domain.platform import ExpectedPlatform, normalize
from .domain.tags import DEFAULT_SUFFIXES

# One extra suffix: `<suffix>=<os>/<architecture>[/<variant>]`; suffixes are lowercase words joined by dashes.
_SUFFIX = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PLATFORM_PART = re.compile(r"[a-z0-9_.]+")

# Every variable Settings reads; template.yaml must set each (a contract test holds it to that).
ENVIRONMENT_VARIABLES: tuple[str, ...] = (
    "REQUIRED_ARCHITECTURES", "INDEX_FORMAT", "DRY_RUN", "KEEP_ATTESTATIONS", "ARCH_SUFFIXES_EXTRA",
    "REPOSITORY_TAGS_TTL_SECONDS", "INDEX_ANNOTATIONS", "ALIAS_TAGS", "ECR_MULTIARCH_ENDPOINT_URL",
)

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
    # Static OCI annotations of every index (sorted by key); OCI indexes only; nothing time-dependent is ever added.
    index_annotations: tuple[tuple[str, str], ...] = ()
    # How long a warm container trusts a repository's ecr-multiarch:* tags before reading them again.
    repository_tags_ttl: float = 300.0
    # Opt-in alias tags moved forward to the highest version's index: any of "minor", "major", "latest".
    alias_kinds: tuple[str, ...] = ()
    # Let a new index replace one that serves platforms it would drop (repository tag ecr-multiarch:replace=always,
    # or `ecr-multiarch assemble --force`); never read from the environment: it is not an account-wide switch.
    replace_always: bool = False
    # Every suffix the tag grammar knows, and the platform each promises: DEFAULT_SUFFIXES plus ARCH_SUFFIXES_EXTRA.
    suffixes: Mapping[str, ExpectedPlatform] = field(
        default_factory=lambda: MappingProxyType(dict(DEFAULT_SUFFIXES)), hash=False
    )
    # Where every AWS client of the functions goes instead of AWS (ECR_MULTIARCH_ENDPOINT_URL): a local stand-in
    # such as `make sandbox` under `sam local`, whose --env-vars can set only variables the template declares. The
    # template declares it empty, so a deployed function talks to AWS. None: AWS.
    endpoint_url: str | None = None

    def expected_platform(self, suffix: str) -> ExpectedPlatform:
        return self.suffixes[suffix]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        suffixes = parse_suffixes(environ.get("ARCH_SUFFIXES_EXTRA", ""))
        return cls(
            required_architectures=parse_architectures(environ.get("REQUIRED_ARCHITECTURES", "amd64,arm64"),
                                                       suffixes),
            index_format=parse_index_format(environ.get("INDEX_FORMAT", "auto")),
            dry_run=parse_bool("DRY_RUN", environ.get("DRY_RUN", "false")),
            keep_attestations=parse_bool("KEEP_ATTESTATIONS", environ.get("KEEP_ATTESTATIONS", "true")),
            suffixes=suffixes,
            index_annotations=parse_annotations(environ.get("INDEX_ANNOTATIONS", "")),
            repository_tags_ttl=parse_seconds("REPOSITORY_TAGS_TTL_SECONDS",
                                              environ.get("REPOSITORY_TAGS_TTL_SECONDS", "300")),
            alias_kinds=parse_alias_kinds(environ.get("ALIAS_TAGS", "")),
            endpoint_url=parse_endpoint_url(environ.get("ECR_MULTIARCH_ENDPOINT_URL", "")),
        )


def parse_alias_kinds(raw: str) -> tuple[str, ...]:
    """``ALIAS_TAGS``: comma-separated alias kinds (``minor,major,latest``); empty turns aliases off."""
    kinds = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    unknown = [kind for kind in kinds if kind not in ALIAS_KINDS]
    if unknown:
        raise SettingsError(f"ALIAS_TAGS has unknown kinds {unknown}; use any of {', '.join(ALIAS_KINDS)}")
    return kinds


def parse_suffixes(raw: str) -> Mapping[str, ExpectedPlatform]:
    """DEFAULT_SUFFIXES extended by ``ARCH_SUFFIXES_EXTRA``: ``arm=linux/arm/v7;win2019=windows/amd64``.

    Entries are separated by ``;`` (or whitespace). The platform is normalised like a config's (``aarch64`` is
    arm64, ``armhf`` is arm/v7); without a variant the suffix accepts any variant. A default suffix cannot be
    redefined (its platform is what the README promises); defining one twice is an error.
    """
    suffixes = dict(DEFAULT_SUFFIXES)
    seen: set[str] = set()
    for entry in re.split(r"[;\s]+", raw.strip()):
        if not entry:
            continue
        suffix, equals, platform = entry.partition("=")
        suffix = suffix.strip().lower()
        parts = platform.strip().lower().split("/")
        if not equals or not _SUFFIX.fullmatch(suffix) or not 2 <= len(parts) <= 3 \
                or not all(_PLATFORM_PART.fullmatch(part) for part in parts):
            raise SettingsError(f"ARCH_SUFFIXES_EXTRA entry {entry!r} is not <suffix>=<os>/<architecture>[/<variant>] "
                                "(e.g. arm=linux/arm/v7; entries separated by ';')")
        if suffix in DEFAULT_SUFFIXES or suffix in seen:
            raise SettingsError(f"ARCH_SUFFIXES_EXTRA defines {suffix!r} again (it is already known)")
        seen.add(suffix)
        os_name, architecture, variant = normalize(parts[0], parts[1], parts[2] if len(parts) == 3 else None)
        suffixes[suffix] = ExpectedPlatform(os_name, architecture, variant)
    return MappingProxyType(suffixes)


def parse_architectures(raw: str, suffixes: Mapping[str, ExpectedPlatform] = DEFAULT_SUFFIXES) -> tuple[str, ...]:
    required = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not required:
        raise SettingsError("REQUIRED_ARCHITECTURES is empty; give comma-separated tag suffixes, e.g. amd64,arm64")
    unknown = [suffix for suffix in required if suffix not in suffixes]
    if unknown:
        raise SettingsError(
            f"REQUIRED_ARCHITECTURES has unknown suffixes {unknown}; known: {', '.join(suffixes)}"
        )
    if len(set(required)) != len(required):
        raise SettingsError(f"REQUIRED_ARCHITECTURES lists a suffix twice: {raw!r}")
    platforms = [suffixes[suffix] for suffix in required]
    if len(set(platforms)) != len(platforms):
        raise SettingsError(f"REQUIRED_ARCHITECTURES names one platform twice: {raw!r}")
    return required


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


def parse_seconds(name: str, raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} is {raw!r}; give a number of seconds (0 to 86400)") from None
    if not 0 <= value <= 86400:
        raise SettingsError(f"{name} is {raw!r}; give a number of seconds (0 to 86400)")
    return value


def parse_annotations(raw: str) -> tuple[tuple[str, str], ...]:
    """``INDEX_ANNOTATIONS``: a JSON object of string keys to string values (empty: none), e.g.
    ``{"org.opencontainers.image.vendor": "ACME"}``. JSON, because annotation values may hold any character."""
    if not raw.strip():
        return ()
    try:
        document = json.loads(raw)
    except ValueError:
        raise SettingsError("INDEX_ANNOTATIONS is not JSON; give an object of strings, "
                            'e.g. {"org.opencontainers.image.vendor": "ACME"}') from None
    if not isinstance(document, dict) or not all(
        isinstance(key, str) and key and isinstance(value, str) for key, value in document.items()
    ):
        raise SettingsError("INDEX_ANNOTATIONS must be a JSON object of non-empty string keys to string values")
    return tuple(sorted(document.items()))


def parse_endpoint_url(raw: str) -> str | None:
    """``ECR_MULTIARCH_ENDPOINT_URL``: empty (AWS), or the http(s) URL of a stand-in of the AWS APIs, scheme, host
    and port only (botocore appends each operation's path)."""
    value = raw.strip()
    if not value:
        return None
    import urllib.parse  # only when set: a deployed function's cold start does not pay for it

    try:  # urlsplit and .port raise on a malformed address or a port that is not a number below 65536
        url = urllib.parse.urlsplit(value)
        valid = url.scheme in ("http", "https") and bool(url.hostname) and url.port != 0 \
            and url.username is None and url.path in ("", "/") and not url.query and not url.fragment
    except ValueError:
        valid = False
    if not valid:
        raise SettingsError(f"ECR_MULTIARCH_ENDPOINT_URL is {raw!r}; give http(s)://host[:port] (e.g. "
                            "http://127.0.0.1:5000), or leave it empty for AWS")
    return value.rstrip("/")
