"""What a read of one version calls for, decided without I/O: a terminal answer, or the index to write.

Two steps, because the second needs the children's platforms (configs downloaded by the caller) and the first
must be able to answer without them:

- ``first_look``: the arch tags and the version tag as read -> ``Unseen`` (the pushed tag is not readable yet),
  ``Waiting``, ``Rejected``, ``Unchanged`` (the tag already holds what these children call for, recognised without
  a single download), or a ``Candidate`` whose platforms the caller must read;
- ``decide_index``: the candidate with each child's platform -> ``Rejected``, ``Unchanged`` or ``Write``.

The no-drop rule lives here: an index already at the tag is replaced only when every image platform it serves is
served by the new one too (growing and refreshing are fine), unless the operator allows replacing
(``ecr-multiarch assemble --force``, repository tag ``ecr-multiarch:replace=always``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from . import media_types
from .arch_index import UNKNOWN_PLATFORM, ArchSelection, index_entries, select_for_platform
from .digest import Digest
from .index import ChildDescriptor, ImageIndex, IndexFormat, build_index, listed_platforms
from .manifest import InvalidManifestError
from .platform import ExpectedPlatform, Platform, same_host_platform
from .tags import AmbiguousVersionError, arch_tag, version_arch_tags

FORCE_HINT = "`ecr-multiarch assemble <repository>:<version> --force`, or the repository tag " \
             "ecr-multiarch:replace=always"


class Held(Protocol):
    """A manifest as a tag holds it (``ports.StoredManifest`` is one)."""

    @property
    def tag(self) -> str: ...
    @property
    def digest(self) -> Digest: ...
    @property
    def media_type(self) -> str: ...
    @property
    def body(self) -> bytes: ...


class Rules(Protocol):
    """The settings a decision depends on (``settings.Settings`` is one)."""

    @property
    def required_architectures(self) -> tuple[str, ...]: ...
    @property
    def index_format(self) -> IndexFormat: ...
    @property
    def index_annotations(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def keep_attestations(self) -> bool: ...
    @property
    def suffixes(self) -> Mapping[str, ExpectedPlatform]: ...
    def expected_platform(self, suffix: str) -> ExpectedPlatform: ...


@dataclass(frozen=True)
class Arch:
    """One required architecture as its tag holds it: an image manifest, or an index (BuildKit) and the image
    manifest and attestations chosen from it for the tag's platform."""

    suffix: str
    stored: Held
    selection: ArchSelection | None = None

    @property
    def image(self) -> tuple[str, int, Digest]:
        """Media type, size and digest of the image manifest the index entry must name."""
        if self.selection is None:
            return self.stored.media_type, len(self.stored.body), self.stored.digest
        entry = self.selection.image
        return entry.media_type, entry.size, entry.digest

    def attestations(self, keep: bool) -> list[ChildDescriptor]:
        """The attestation entries that follow the image, link annotations copied as the arch index states them."""
        if self.selection is None or not keep:
            return []
        return [ChildDescriptor(entry.media_type, entry.size, entry.digest, entry.platform or UNKNOWN_PLATFORM,
                                entry.annotations) for entry in self.selection.attestations]


@dataclass(frozen=True)
class Child:
    """One arch's image manifest as read (its own tag's, or chosen from its index) and the platform its config
    states."""

    arch: Arch
    image: Held
    platform: Platform


# ---- the answers


@dataclass(frozen=True)
class Unseen:
    """The arch tag whose push triggered this is not in the read yet (ECR's read lags its event): try again."""

    tag: str


@dataclass(frozen=True)
class Waiting:
    missing: tuple[str, ...]


@dataclass(frozen=True)
class Rejected:
    reason: str


@dataclass(frozen=True)
class Unchanged:
    index: ImageIndex


@dataclass(frozen=True)
class Candidate:
    """Every arch tag is there and the version tag does not (recognisably) hold their index: read platforms."""

    arches: tuple[Arch, ...]
    current: Held | None


@dataclass(frozen=True)
class Write:
    index: ImageIndex
    replaces: Digest | None


# ---- step 1: the read alone


def first_look(
    repository: str, version: str, rules: Rules, read: Mapping[str, Held], pushed_tag: str | None = None
) -> Unseen | Waiting | Rejected | Unchanged | Candidate:
    """What the read of ``version``'s arch tags and version tag calls for before any config is downloaded."""
    try:  # the tag grammar of the event path and the sweep: every tag must read back as this version
        tags = version_arch_tags(version, rules.required_architectures, rules.suffixes)
    except AmbiguousVersionError as error:
        return Rejected(f"{repository}: {error}")
    if pushed_tag is not None and pushed_tag not in read:
        return Unseen(pushed_tag)
    missing = tuple(tag for tag in tags.values() if tag not in read)
    if missing:
        return Waiting(missing)
    current = read.get(version)
    if current is not None and current.media_type not in media_types.INDEXES:
        return Rejected(
            f"{repository}:{version} holds a single-arch image ({current.media_type}, {current.digest}) that "
            "ecr-multiarch did not make; it is left untouched (move or delete it to let the index be written)"
        )
    arches: list[Arch] = []
    for suffix, tag in tags.items():
        stored = read[tag]
        if stored.media_type not in media_types.INDEXES:
            arches.append(Arch(suffix, stored))
            continue
        try:
            selection = select_for_platform(stored.body, stored.media_type, rules.expected_platform(suffix))
        except InvalidManifestError as error:
            return Rejected(f"{repository}:{stored.tag} {error}")
        arches.append(Arch(suffix, stored, selection))
    recognised = recognise_current(rules, arches, current)
    if recognised is not None:
        return Unchanged(recognised)
    return Candidate(tuple(arches), current)


def recognise_current(rules: Rules, arches: Sequence[Arch], current: Held | None) -> ImageIndex | None:
    """The index at the version tag, when it is already exactly what these children call for — decided
    without downloading a single config.

    Re-rendering the existing entries' platforms over the current children must give the very bytes the tag
    holds, and each platform must fit its suffix. Children are content-addressed, so an index we rendered
    from a child's config still states that config's platform; a hand-made index will not be byte-identical
    to our canonical rendering and takes the full path. For an arch tag that is an index (BuildKit), the
    image entry is the one chosen from it and its attestations follow it, exactly as the full path lays them
    out; their descriptors come from the arch tag's own (digest-verified) bytes, so nothing is read either.
    """
    if current is None:
        return None
    platforms = listed_platforms(current.body)
    if platforms is None:
        return None
    children: list[ChildDescriptor] = []
    position = 0
    for arch in arches:
        media_type, size, digest = arch.image
        if media_type not in media_types.IMAGE_MANIFESTS or position >= len(platforms):
            return None
        platform = platforms[position]
        if not rules.expected_platform(arch.suffix).admits(platform):
            return None
        children.append(ChildDescriptor(media_type, size, digest, platform))
        attestations = arch.attestations(rules.keep_attestations)
        children.extend(attestations)
        position += 1 + len(attestations)
    if position != len(platforms):
        return None
    try:
        candidate = build_index(children, rules.index_format, rules.index_annotations)
    except ValueError:
        return None
    return candidate if candidate.digest == current.digest else None


# ---- step 2: with the children's platforms


def decide_index(
    repository: str, version: str, rules: Rules, children: Sequence[Child], current: Held | None,
    *, may_drop: bool = False,
) -> Rejected | Unchanged | Write:
    """The index these children call for, and whether it may replace what the version tag holds.

    ``may_drop``: the operator allows replacing an index that serves platforms the new one does not.
    """
    descriptors: list[ChildDescriptor] = []
    for child in children:
        expected = rules.expected_platform(child.arch.suffix)
        if not expected.admits(child.platform):
            return Rejected(
                f"{repository}:{child.arch.stored.tag} is labelled {child.arch.suffix} ({expected}) but its config "
                f"says {child.platform}; the tag is mislabelled, so no index is written"
            )
        descriptors.append(ChildDescriptor(child.image.media_type, len(child.image.body), child.image.digest,
                                           child.platform))
        descriptors.extend(child.arch.attestations(rules.keep_attestations))
    duplicate = _duplicate_platform(repository, version, children)
    if duplicate is not None:
        return duplicate
    index = build_index(descriptors, rules.index_format, rules.index_annotations)
    if current is None:
        return Write(index, None)
    if current.digest == index.digest:
        return Unchanged(index)
    if not may_drop:
        refusal = refuse_dropping(f"{repository}:{version}", current, index, rules)
        if refusal is not None:
            return refusal
    return Write(index, current.digest)


def _duplicate_platform(repository: str, version: str, children: Sequence[Child]) -> Rejected | None:
    """Two image entries for one platform: a host would always take the first, so the index would lie."""
    for position, child in enumerate(children):
        for earlier in children[:position]:
            if same_host_platform(earlier.platform, child.platform):
                return Rejected(
                    f"{repository}:{version}: {earlier.arch.stored.tag} and {child.arch.stored.tag} are both "
                    f"{child.platform}; an index cannot hold two images for one platform"
                )
    return None


# ---- the no-drop rule


def platform_identity(platform: Platform) -> tuple[str, str, str | None, str | None]:
    """What makes two index entries serve the same hosts: os, architecture, variant (arm64 is arm64/v8), and for
    Windows the OS release (``10.0.17763``; the fourth part is the monthly patch, which a refresh may change)."""
    variant = None if platform.architecture == "arm64" and platform.variant == "v8" else platform.variant
    release = ".".join(platform.os_version.split(".")[:3]) if platform.os_version else None
    return platform.os, platform.architecture, variant, release


def served_platforms(body: bytes, media_type: str) -> tuple[Platform, ...]:
    """The image platforms an index serves, attestations aside (BuildKit's, linked by annotation, and any entry
    stating unknown/unknown). Raises InvalidManifestError when the bytes are not a readable index."""
    served: list[Platform] = []
    for entry in index_entries(body, media_type):
        if entry.attests is not None or entry.platform is None or entry.platform == UNKNOWN_PLATFORM:
            continue
        served.append(entry.platform)
    return tuple(served)


def lost_platforms(current: Sequence[Platform], index: ImageIndex) -> tuple[Platform, ...]:
    """The platforms of ``current`` that ``index`` would no longer serve, each once, in ``current``'s order."""
    kept = {platform_identity(child.platform) for child in index.manifests if not child.is_attestation}
    lost: dict[tuple[str, str, str | None, str | None], Platform] = {}
    for platform in current:
        identity = platform_identity(platform)
        if identity not in kept:
            lost.setdefault(identity, platform)
    return tuple(lost.values())


def refuse_dropping(where: str, current: Held, index: ImageIndex, rules: Rules) -> Rejected | None:
    """A rejection when writing ``index`` over the index at ``where`` would drop a platform it serves (or when
    what it serves cannot be read); None when the write only grows or refreshes."""
    try:
        served = served_platforms(current.body, current.media_type)
        unplaced = [entry.digest for entry in index_entries(current.body, current.media_type)
                    if entry.platform is None and entry.attests is None]
    except InvalidManifestError as error:
        return Rejected(f"{where} holds an index ecr-multiarch cannot read ({error}), so it cannot tell which "
                        f"platforms it serves; it is left untouched (replace it anyway: {FORCE_HINT})")
    if unplaced:
        # OCI makes an entry's platform optional, and a host takes an entry without one whatever its platform
        # (containerd matches a descriptor with no platform): which hosts it serves cannot be known, so it is kept.
        return Rejected(f"{where} holds an index ({current.digest}) with an entry that states no platform "
                        f"({unplaced[0]}); hosts no other entry matches pull it, and the new index would drop it; "
                        f"it is left untouched (replace it anyway: {FORCE_HINT})")
    lost = lost_platforms(served, index)
    if not lost:
        return None
    names = ", ".join(str(platform) for platform in lost)
    fixes = [_fix_for(where, platform, rules) for platform in lost]
    return Rejected(f"{where} holds an index ({current.digest}) serving {names}, which the new index would drop; "
                    f"it is left untouched. To keep {names}: {'; '.join(fixes)}. To replace it anyway: "
                    f"{FORCE_HINT}")


def _fix_for(where: str, platform: Platform, rules: Rules) -> str:
    version = where.rpartition(":")[2]
    suffixes = [suffix for suffix, expected in rules.suffixes.items() if expected.admits(platform)]
    if not suffixes:
        return f"no arch suffix names {platform} (define one in ARCH_SUFFIXES_EXTRA, then push and require it)"
    tag = arch_tag(version, suffixes[0])
    if suffixes[0] in rules.required_architectures:
        return f"push {tag}"
    return (f"push {tag} and require {suffixes[0]} (REQUIRED_ARCHITECTURES or the repository tag "
            "ecr-multiarch:architectures)")
