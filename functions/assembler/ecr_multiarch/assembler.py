"""One version's assembly: read the children, check them, build the index, write it only when it changes, verify.

Why the verify loop converges (races between invocations, re-pushes, duplicate events):
every attempt starts from a fresh read of all children and of the version tag, and the index it wants is a pure
function of the children it read. An attempt stops only when that read shows the version tag already holding
exactly the index the current children call for. A stale writer (one that read an older child) is therefore
corrected by its own verify read, which sees the newer child and writes again; a writer that read the newest
children writes the right bytes, and any later stale write is corrected by that stale writer's verify. Each
rewrite moves the tag toward the index of the newest children, and only a push that lands between two of our
reads can force another round, so a bounded number of attempts settles in practice; when it does not (a child
re-pushed in a tight loop), UnsettledError is raised and Lambda retries the event later, from a fresh read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from .domain import media_types
from .domain.aliases import alias_of, aliases_to_move, parse_version
from .domain.arch_index import UNKNOWN_PLATFORM, ArchSelection, select_for_platform
from .domain.digest import Digest
from .domain.index import ChildDescriptor, ImageIndex, build_index, listed_platforms
from .domain.json_document import parse_json_document
from .domain.manifest import ConfigReference, InvalidManifestError, config_reference
from .domain.platform import InvalidConfigError, Platform, platform_from_config, same_host_platform
from .domain.policy import ENABLED_TAG, PolicyError, RepositoryPolicy, parse_policy
from .domain.tags import AmbiguousVersionError, arch_tag, version_arch_tags
from .errors import (
    BlobUrlExpiredError,
    ImmutableTagError,
    PermanentError,
    ReferencedImagesMissingError,
    RepositoryPolicyError,
    UnsettledError,
)
from .outcome import Outcome, OutcomeKind
from .ports import BlobReader, PutResult, Registry, RepositoryTagSource, StoredManifest
from .settings import Settings

logger = logging.getLogger(__name__)

# One write plus up to two corrective rewrites; each attempt is a full fresh read.
MAX_ATTEMPTS = 3
# Config downloads in flight at once for one assembly (one per architecture, at most this many).
MAX_PARALLEL_DOWNLOADS = 8


class PlatformCache:
    """Platforms by config digest. Content-addressed, so an entry is never stale; bounded so memory is too."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._entries: OrderedDict[Digest, Platform] = OrderedDict()
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def get(self, digest: Digest) -> Platform | None:
        with self._lock:
            platform = self._entries.get(digest)
            if platform is not None:
                self._entries.move_to_end(digest)
            return platform

    def put(self, digest: Digest, platform: Platform) -> None:
        with self._lock:
            self._entries[digest] = platform
            self._entries.move_to_end(digest)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class PolicyCache:
    """Repository policies by name, each trusted for ``ttl`` seconds (tags can change; a warm container must see
    it within the TTL, without a ListTagsForResource per event)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: dict[str, tuple[float, RepositoryPolicy]] = {}
        self._clock = clock
        self._lock = threading.Lock()

    def get(self, repository: str) -> RepositoryPolicy | None:
        with self._lock:
            entry = self._entries.get(repository)
            if entry is None or entry[0] <= self._clock():
                return None
            return entry[1]

    def put(self, repository: str, policy: RepositoryPolicy, ttl: float) -> None:
        with self._lock:
            self._entries[repository] = (self._clock() + ttl, policy)


class _Rejected(Exception):
    """Internal: an input problem found while planning; becomes a ``rejected`` outcome."""


@dataclass(frozen=True)
class _Arch:
    """One required architecture as its tag holds it: an image manifest, or an index (BuildKit) and the image
    manifest and attestations chosen from it for the tag's platform."""

    suffix: str
    stored: StoredManifest
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
class _Write:
    index: ImageIndex
    replaces: Digest | None


class Assembler:
    def __init__(
        self,
        registry: Registry,
        blobs: BlobReader,
        settings: Settings,
        platform_cache: PlatformCache | None = None,
        *,
        repository_tags: RepositoryTagSource | None = None,
        policy_cache: PolicyCache | None = None,
    ) -> None:
        """``repository_tags``: where per-repository policy (ecr-multiarch:* repository tags) is read; None
        applies ``settings`` to every repository."""
        self._registry = registry
        self._blobs = blobs
        self._settings = settings
        self._platforms = platform_cache if platform_cache is not None else PlatformCache()
        self._tags = repository_tags
        self._policies = policy_cache if policy_cache is not None else PolicyCache()

    @property
    def settings(self) -> Settings:
        return self._settings

    def version_tags(self, version: str, repository: str | None = None) -> list[str]:
        """The tags one assembly of ``version`` reads: every required arch tag, then the version tag itself.

        With ``repository``, its own architecture set (repository tag) applies; an opted-out repository reads none.
        """
        settings = self._settings if repository is None else self.settings_for(repository)
        if settings is None:
            return []
        return [*(arch_tag(version, suffix) for suffix in settings.required_architectures), version]

    def settings_for(self, repository: str) -> Settings | None:
        """The settings for ``repository``: its ecr-multiarch:* tags over the function's; None when it opted out.

        Raises RepositoryPolicyError (permanent) when one of our tags holds an unusable value.
        """
        if self._tags is None:
            return self._settings
        policy = self._policies.get(repository)
        if policy is None:
            try:
                policy = parse_policy(self._tags.repository_tags(repository), self._settings.suffixes)
            except PolicyError as error:
                raise RepositoryPolicyError(f"repository {repository}: {error}") from None
            self._policies.put(repository, policy, self._settings.repository_tags_ttl)
        if not policy.enabled:
            return None
        return replace(
            self._settings,
            required_architectures=policy.architectures or self._settings.required_architectures,
            index_format=policy.index_format or self._settings.index_format,
        )

    def assemble(
        self,
        repository: str,
        version: str,
        prefetched: Mapping[str, StoredManifest] | None = None,
        *,
        pushed_suffix: str | None = None,
        verify: bool = True,
    ) -> Outcome:
        """Make ``repository:version`` the index of its architecture tags, if they are all there.

        ``prefetched``: the manifests at ``version_tags(version)`` from a bulk read (a sweep reads 100 tags per
        call); it replaces the first read only: every verify read after a write is fresh. It is ignored when the
        repository's own architecture set (a repository tag) differs from the function's.
        ``pushed_suffix``: the suffix of the arch tag whose push triggered this; a suffix the repository does not
        require gives ``skipped``.
        ``verify=False``: return right after the first write, unverified. Only for a caller that verifies itself
        with a fresh read taken after the write (a sweep re-reads all its writes in bulk, then calls ``assemble``
        again for any version whose tags do not show what was written).
        """
        try:
            settings = self.settings_for(repository)
            if settings is None:
                return Outcome(OutcomeKind.SKIPPED, repository, version,
                               reason=f"repository opted out (repository tag {ENABLED_TAG}=false)")
            if pushed_suffix is not None and pushed_suffix not in settings.required_architectures:
                return Outcome(OutcomeKind.SKIPPED, repository, version,
                               reason=f"suffix {pushed_suffix!r} is not one of the required architectures "
                                      f"({', '.join(settings.required_architectures)})")
            if settings != self._settings:
                if settings.required_architectures != self._settings.required_architectures:
                    prefetched = None
                # The same registry, blobs and config cache, under this repository's settings.
                outcome = Assembler(self._registry, self._blobs, settings, self._platforms)._assemble(
                    repository, version, prefetched, verify)
            else:
                outcome = self._assemble(repository, version, prefetched, verify)
            return self._move_aliases(repository, outcome, settings)
        except PermanentError as error:
            return Outcome(OutcomeKind.REJECTED, repository, version, reason=str(error))

    def _move_aliases(self, repository: str, outcome: Outcome, settings: Settings) -> Outcome:
        """Point the opted-in alias tags at this version's index when it is the highest of their group.

        Also on ``unchanged``: a retried event (an alias write failed transiently) must finish the job. One
        BatchGetImage tells whether every alias already holds the index; only if not is the repository listed.
        """
        index = outcome.index
        parsed = parse_version(outcome.version or "")
        if (not settings.alias_kinds or settings.dry_run or index is None or parsed is None
                or outcome.kind not in (OutcomeKind.CREATED, OutcomeKind.UPDATED, OutcomeKind.UNCHANGED)):
            return outcome
        wanted = [alias_of(parsed, kind) for kind in settings.alias_kinds]
        held = self._registry.get_manifests(repository, wanted)
        if all(alias in held and held[alias].digest == index.digest for alias in wanted):
            return replace(outcome, aliases=tuple(wanted))
        movable = aliases_to_move(parsed, settings.alias_kinds, self._registry.list_tags(repository))
        moved = []
        for alias in movable:
            if alias in held and held[alias].media_type not in media_types.INDEXES:
                logger.warning("alias tag holds a single-arch image; left untouched",
                               extra={"repository": repository, "alias": alias})
                continue
            if held.get(alias) is None or held[alias].digest != index.digest:
                try:
                    self._registry.put_index(repository, alias, index)
                except PermanentError as error:
                    # The index itself is written and verified; an alias ECR refuses (an immutable tag) must not
                    # turn that into a rejection. Reported, and the alias is left as it is.
                    logger.warning("alias not moved", extra={"repository": repository, "alias": alias,
                                                             "error": str(error)})
                    continue
                logger.info("alias moved", extra={"repository": repository, "alias": alias,
                                                  "version": outcome.version, "digest": str(index.digest)})
            moved.append(alias)
        return replace(outcome, aliases=tuple(moved))

    def _assemble(
        self, repository: str, version: str, prefetched: Mapping[str, StoredManifest] | None, verify: bool = True
    ) -> Outcome:
        first_write: Outcome | None = None
        writes = 0
        for attempt in range(MAX_ATTEMPTS):
            try:
                plan = self._plan(repository, version, prefetched if attempt == 0 else None)
            except _Rejected as rejection:
                return Outcome(OutcomeKind.REJECTED, repository, version, reason=str(rejection), writes=writes)
            if isinstance(plan, Outcome):
                if first_write is None or plan.kind is not OutcomeKind.UNCHANGED:
                    # Nothing written yet, or the children changed after our write into something we must not
                    # index (a tag deleted, a mislabelled re-push): the fresh read's verdict is the answer.
                    return replace(plan, writes=writes)
                # Verified: report the first write's verdict with what the tag now holds.
                return replace(first_write, digest=plan.digest, index=plan.index, writes=writes)
            if self._settings.dry_run:
                logger.info(
                    "dry run: index not written",
                    extra={"repository": repository, "version": version, "digest": str(plan.index.digest),
                           "index": plan.index.to_json()},
                )
                kind = "create" if plan.replaces is None else "update"
                return Outcome(OutcomeKind.PLANNED, repository, version, str(plan.index.digest),
                               reason=f"DRY_RUN: would {kind} the index", index=plan.index)
            try:
                result = self._registry.put_index(repository, version, plan.index)
            except ReferencedImagesMissingError as error:
                # A child was replaced or deleted between our read and our write: the next attempt reads afresh.
                logger.info("a child changed during the write; reading again", extra={"error": str(error)})
                continue
            except ImmutableTagError as error:
                holds = f"it holds {plan.replaces}" if plan.replaces else "it holds another image"
                raise ImmutableTagError(f"{error}; {holds}, not the desired index {plan.index.digest}") from None
            writes += result is PutResult.WRITTEN
            logger.info(
                "index written" if result is PutResult.WRITTEN else "index already present",
                extra={"repository": repository, "version": version, "digest": str(plan.index.digest),
                       "media_type": plan.index.media_type, "format_reason": plan.index.format_reason,
                       "replaces": str(plan.replaces) if plan.replaces else None},
            )
            if first_write is None:
                if result is PutResult.ALREADY_EXISTS:
                    kind = OutcomeKind.UNCHANGED
                else:
                    kind = OutcomeKind.CREATED if plan.replaces is None else OutcomeKind.UPDATED
                first_write = Outcome(kind, repository, version, str(plan.index.digest), index=plan.index)
                if not verify:
                    return replace(first_write, writes=writes)
        raise UnsettledError(
            f"{repository}:{version} still did not hold the index of its current children after {MAX_ATTEMPTS} "
            "attempts (children re-pushed concurrently); the event will be retried"
        )

    def _plan(
        self, repository: str, version: str, prefetched: Mapping[str, StoredManifest] | None
    ) -> Outcome | _Write:
        """One read (fresh unless prefetched), and what it calls for: a terminal outcome, or an index to write."""
        try:  # the tag grammar of the event path and the sweep: every tag must read back as this version
            tags = version_arch_tags(version, self._settings.required_architectures, self._settings.suffixes)
        except AmbiguousVersionError as error:
            raise _Rejected(f"{repository}: {error}") from None
        wanted = [*tags.values(), version]
        if prefetched is None:
            manifests = self._registry.get_manifests(repository, wanted)
        else:
            manifests = {tag: prefetched[tag] for tag in wanted if tag in prefetched}
        missing = tuple(tag for tag in tags.values() if tag not in manifests)
        if missing:
            return Outcome(OutcomeKind.WAITING, repository, version, missing=missing)
        current = manifests.get(version)
        if current is not None and current.media_type not in media_types.INDEXES:
            raise _Rejected(
                f"{repository}:{version} holds a single-arch image ({current.media_type}, {current.digest}) that "
                "ecr-multiarch did not make; it is left untouched (move or delete it to let the index be written)"
            )
        arches = [self._arch(repository, suffix, manifests[tag]) for suffix, tag in tags.items()]
        recognised = self._recognise_current(arches, current)
        if recognised is not None:
            return Outcome(OutcomeKind.UNCHANGED, repository, version, str(recognised.digest), index=recognised)
        images = self._image_manifests(repository, arches)
        configs = [(arch, image, self._config_reference(repository, image)) for arch, image in zip(arches, images,
                                                                                                     strict=True)]
        self._fetch_platforms(repository, [(image.tag, config) for _, image, config in configs])
        children: list[ChildDescriptor] = []
        for arch, image, config in configs:
            children.append(self._child(repository, arch.suffix, image, config))
            children.extend(arch.attestations(self._settings.keep_attestations))
        self._check_distinct_platforms(repository, version, arches, children)
        index = build_index(children, self._settings.index_format, self._settings.index_annotations)
        if current is not None and current.digest == index.digest:
            return Outcome(OutcomeKind.UNCHANGED, repository, version, str(index.digest), index=index)
        return _Write(index=index, replaces=current.digest if current is not None else None)

    def _arch(self, repository: str, suffix: str, stored: StoredManifest) -> _Arch:
        """An arch tag's content; when it is an index, the image for the tag's platform is chosen from it."""
        if stored.media_type not in media_types.INDEXES:
            return _Arch(suffix, stored)
        try:
            selection = select_for_platform(stored.body, stored.media_type, self._settings.expected_platform(suffix))
        except InvalidManifestError as error:
            raise _Rejected(f"{repository}:{stored.tag} {error}") from None
        return _Arch(suffix, stored, selection)

    def _image_manifests(self, repository: str, arches: list[_Arch]) -> list[StoredManifest]:
        """The image manifest of each arch: the tag's own, or (index children) read by digest in one call."""
        wanted = [arch.selection.image.digest for arch in arches if arch.selection is not None]
        fetched = self._registry.get_manifests_by_digest(repository, wanted) if wanted else {}
        images = []
        for arch in arches:
            if arch.selection is None:
                images.append(arch.stored)
                continue
            media_type, size, digest = arch.image
            image = fetched.get(digest)
            if image is None:
                raise _Rejected(f"{repository}:{arch.stored.tag} is an index naming {digest}, which is not in the "
                                "repository")
            if image.media_type != media_type or len(image.body) != size:
                raise _Rejected(f"{repository}:{arch.stored.tag} is an index whose entry for {digest} states "
                                f"{media_type}, {size} bytes, but the manifest is {image.media_type}, "
                                f"{len(image.body)} bytes")
            images.append(replace(image, tag=arch.stored.tag))
        return images

    def _check_distinct_platforms(
        self, repository: str, version: str, arches: list[_Arch], children: list[ChildDescriptor]
    ) -> None:
        """Two image entries for one platform: a host would always take the first, so the index would lie."""
        images = [child for child in children if not child.is_attestation]
        for position, child in enumerate(images):
            for other_position in range(position):
                if same_host_platform(images[other_position].platform, child.platform):
                    raise _Rejected(
                        f"{repository}:{version}: {arches[other_position].stored.tag} and "
                        f"{arches[position].stored.tag} are both {child.platform}; an index cannot hold two "
                        "images for one platform"
                    )

    def _recognise_current(self, arches: list[_Arch], current: StoredManifest | None) -> ImageIndex | None:
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
        keep = self._settings.keep_attestations
        children: list[ChildDescriptor] = []
        position = 0
        for arch in arches:
            media_type, size, digest = arch.image
            if media_type not in media_types.IMAGE_MANIFESTS or position >= len(platforms):
                return None
            platform = platforms[position]
            if not self._settings.expected_platform(arch.suffix).admits(platform):
                return None
            children.append(ChildDescriptor(media_type, size, digest, platform))
            attestations = arch.attestations(keep)
            children.extend(attestations)
            position += 1 + len(attestations)
        if position != len(platforms):
            return None
        try:
            candidate = build_index(children, self._settings.index_format, self._settings.index_annotations)
        except ValueError:
            return None
        return candidate if candidate.digest == current.digest else None

    def _config_reference(self, repository: str, manifest: StoredManifest) -> ConfigReference:
        try:
            return config_reference(manifest.body, manifest.media_type)
        except InvalidManifestError as error:
            raise _Rejected(f"{repository}:{manifest.tag} {error}") from None

    def _fetch_platforms(self, repository: str, configs: list[tuple[str, ConfigReference]]) -> None:
        """Download the configs not cached yet, in parallel when there are several (8 arches: one round trip)."""
        unique = {config.digest: (tag, config) for tag, config in configs if self._platforms.get(config.digest) is None}
        if len(unique) < 2:
            return  # zero or one: _child fetches it inline, no thread pool needed
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_DOWNLOADS, len(unique))) as pool:
            futures = [pool.submit(self._platform, repository, tag, config) for tag, config in unique.values()]
            for future in futures:
                future.result()  # re-raises the first failure (rejection or transient) in this thread

    def _child(
        self, repository: str, suffix: str, manifest: StoredManifest, config: ConfigReference
    ) -> ChildDescriptor:
        platform = self._platform(repository, manifest.tag, config)
        expected = self._settings.expected_platform(suffix)
        if not expected.admits(platform):
            raise _Rejected(
                f"{repository}:{manifest.tag} is labelled {suffix} ({expected}) but its config says {platform}; "
                "the tag is mislabelled, so no index is written"
            )
        return ChildDescriptor(
            media_type=manifest.media_type, size=len(manifest.body), digest=manifest.digest, platform=platform
        )

    def _platform(self, repository: str, tag: str, config: ConfigReference) -> Platform:
        cached = self._platforms.get(config.digest)
        if cached is not None:
            return cached
        body = self._download(repository, config)
        try:
            platform = platform_from_config(parse_json_document(body, "config"))  # bounded: never RecursionError
        except (ValueError, InvalidConfigError) as error:
            raise _Rejected(f"{repository}:{tag} config {config.digest} is unusable: {error}") from None
        self._platforms.put(config.digest, platform)
        return platform

    def _download(self, repository: str, config: ConfigReference) -> bytes:
        url = self._registry.config_download_url(repository, config.digest)
        try:
            return self._blobs.read(url, config.digest, config.size)
        except BlobUrlExpiredError:
            # Presigned URLs are short-lived; one fresh URL is worth a try, a second refusal is not ours to fix.
            logger.info("download URL expired; asking ECR for a fresh one", extra={"digest": str(config.digest)})
            url = self._registry.config_download_url(repository, config.digest)
            return self._blobs.read(url, config.digest, config.size)

