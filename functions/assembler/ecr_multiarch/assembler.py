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

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .domain import media_types
from .domain.digest import Digest
from .domain.index import ChildDescriptor, ImageIndex, build_index
from .domain.manifest import ConfigReference, InvalidManifestError, config_reference
from .domain.platform import InvalidConfigError, Platform, platform_from_config
from .domain.tags import arch_tag
from .errors import BlobUrlExpiredError, PermanentError, UnsettledError
from .outcome import Outcome, OutcomeKind
from .ports import BlobReader, PutResult, Registry, StoredManifest
from .settings import Settings

logger = logging.getLogger(__name__)

# One write plus up to two corrective rewrites; each attempt is a full fresh read.
MAX_ATTEMPTS = 3


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


class _Rejected(Exception):
    """Internal: an input problem found while planning; becomes a ``rejected`` outcome."""


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
    ) -> None:
        self._registry = registry
        self._blobs = blobs
        self._settings = settings
        self._platforms = platform_cache if platform_cache is not None else PlatformCache()

    @property
    def settings(self) -> Settings:
        return self._settings

    def version_tags(self, version: str) -> list[str]:
        """The tags one assembly of ``version`` reads: every required arch tag, then the version tag itself."""
        return [*(arch_tag(version, suffix) for suffix in self._settings.required_architectures), version]

    def assemble(
        self,
        repository: str,
        version: str,
        prefetched: Mapping[str, StoredManifest] | None = None,
        *,
        verify: bool = True,
    ) -> Outcome:
        """Make ``repository:version`` the index of its architecture tags, if they are all there.

        ``prefetched``: the manifests at ``version_tags(version)`` from a bulk read (a sweep reads 100 tags per
        call); it replaces the first read only: every verify read after a write is fresh.
        ``verify=False``: return right after the first write, unverified. Only for a caller that verifies itself
        with a fresh read taken after the write (a sweep re-reads all its writes in bulk, then calls ``assemble``
        again for any version whose tags do not show what was written).
        """
        try:
            return self._assemble(repository, version, prefetched, verify)
        except PermanentError as error:
            return Outcome(OutcomeKind.REJECTED, repository, version, reason=str(error))

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
            result = self._registry.put_index(repository, version, plan.index)
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
        tags = {suffix: arch_tag(version, suffix) for suffix in self._settings.required_architectures}
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
        children = [self._child(repository, suffix, manifests[tag]) for suffix, tag in tags.items()]
        index = build_index(children, self._settings.index_format)
        if current is not None and current.digest == index.digest:
            return Outcome(OutcomeKind.UNCHANGED, repository, version, str(index.digest), index=index)
        return _Write(index=index, replaces=current.digest if current is not None else None)

    def _child(self, repository: str, suffix: str, manifest: StoredManifest) -> ChildDescriptor:
        try:
            config = config_reference(manifest.body, manifest.media_type)
        except InvalidManifestError as error:
            raise _Rejected(f"{repository}:{manifest.tag} {error}") from None
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
            platform = platform_from_config(json.loads(body))
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

