"""One version's assembly, composed: per-repository settings, a read, the pure decision, the write-and-verify loop
(its convergence argument is in ``convergence.py``), then the alias tags.

The pieces, each with one job:
- ``repository_settings.RepositorySettings``: the function's settings under a repository's ecr-multiarch:* tags;
- ``domain.decision``: what a read calls for (waiting, rejected, unchanged, or the index to write), no I/O;
- ``children.ChildReader``: each arch's image manifest and platform (configs downloaded once, cached);
- ``convergence.IndexWriter``: write, verify with a fresh read, rewrite if needed (bounded);
- ``alias_mover.AliasMover``: alias tags follow the highest version.
The event path (handler), the sweep (reconcile) and the CLI all come in through ``Assembler.assemble``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .alias_mover import AliasMover
from .children import ChildReader, ChildRejectedError, PlatformCache
from .convergence import MAX_ATTEMPTS, IndexWriter
from .domain.decision import Candidate, Rejected, Unchanged, Unseen, Waiting, Write, decide_index, first_look
from .domain.digest import Digest
from .domain.policy import ENABLED_TAG
from .domain.tags import AmbiguousVersionError, arch_tag, version_arch_tags
from .errors import PermanentError, TransientError
from .outcome import Outcome, OutcomeKind
from .ports import BlobReader, Registry, RepositoryTagSource, StoredManifest
from .repository_settings import PolicyCache, RepositorySettings
from .settings import Settings

__all__ = ["MAX_ATTEMPTS", "Assembler", "PlatformCache", "PolicyCache", "PushedTagNotVisibleError"]

logger = logging.getLogger(__name__)

Decision = Waiting | Rejected | Unchanged | Write


class PushedTagNotVisibleError(TransientError):
    """The arch tag named by the push event is not in BatchGetImage's answer yet: retried (Lambda), the sweep is the
    backstop. Answering ``waiting`` here would be final, and wrong."""


@dataclass(frozen=True)
class _Job:
    """One call of ``assemble``: what every attempt of its loop decides under."""

    repository: str
    version: str
    settings: Settings
    may_drop: bool  # --force, or the repository tag ecr-multiarch:replace=always
    pushed: str | None = None  # the arch tag the event names (first attempt only)
    pushed_digest: Digest | None = None


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
        self._repositories = RepositorySettings(settings, repository_tags,
                                                policy_cache if policy_cache is not None else PolicyCache())
        self._children = ChildReader(registry, blobs,
                                     platform_cache if platform_cache is not None else PlatformCache())
        self._writer = IndexWriter(registry)
        self._aliases = AliasMover(registry)

    @property
    def settings(self) -> Settings:
        return self._repositories.base

    def version_tags(self, version: str, repository: str | None = None) -> list[str]:
        """The tags one assembly of ``version`` reads: every required arch tag, then the version tag itself.

        With ``repository``, its own architecture set (repository tag) applies; an opted-out repository reads none.
        """
        settings = self.settings if repository is None else self.settings_for(repository)
        if settings is None:
            return []
        return [*(arch_tag(version, suffix) for suffix in settings.required_architectures), version]

    def settings_for(self, repository: str, account: str | None = None) -> Settings | None:
        """The settings for ``repository``: its ecr-multiarch:* tags over the function's; None when it opted out.
        ``account``: the registry's account, when the caller knows it (see ``assemble``).

        Raises RepositoryPolicyError (permanent) when one of our tags holds an unusable value.
        """
        return self._repositories.for_repository(repository, account)

    def assemble(
        self,
        repository: str,
        version: str,
        prefetched: Mapping[str, StoredManifest] | None = None,
        *,
        pushed_suffix: str | None = None,
        pushed_digest: Digest | None = None,
        registry_account: str | None = None,
        verify: bool = True,
        force: bool = False,
    ) -> Outcome:
        """Make ``repository:version`` the index of its architecture tags, if they are all there.

        ``prefetched``: the manifests at ``version_tags(version)`` from a bulk read (a sweep reads 100 tags per
        call); it replaces the first read only: every verify read after a write is fresh. It is ignored when the
        repository's own architecture set (a repository tag) differs from the function's.
        ``pushed_suffix``: the suffix of the arch tag whose push triggered this; a suffix the repository does not
        require gives ``skipped``, and a pushed tag the first read does not show raises PushedTagNotVisibleError.
        ``pushed_digest``: the digest the event names; a read showing another (a newer push) goes on with the read.
        ``registry_account``: the registry's account as the event states it; it names the repository's ARN for the
        policy read (None: the registry adapter finds the account itself).
        ``verify=False``: return right after the first write, unverified. Only for a caller that verifies itself
        with a fresh read taken after the write (a sweep re-reads all its writes in bulk, then calls ``assemble``
        again for any version whose tags do not show what was written).
        ``force``: replace an index even when the new one drops platforms it serves (``assemble --force``).
        """
        try:
            if prefetched is None and self._repositories.needs_read(repository):
                settings, prefetched = self._settings_and_first_read(repository, version, registry_account)
            else:
                settings = self.settings_for(repository, registry_account)
            if settings is None:
                return Outcome(OutcomeKind.SKIPPED, repository, version,
                               reason=f"repository opted out (repository tag {ENABLED_TAG}=false)")
            if pushed_suffix is not None and pushed_suffix not in settings.required_architectures:
                return Outcome(OutcomeKind.SKIPPED, repository, version,
                               reason=f"suffix {pushed_suffix!r} is not one of the required architectures "
                                      f"({', '.join(settings.required_architectures)})")
            if settings.required_architectures != self.settings.required_architectures:
                prefetched = None  # read for the function's architecture set, not this repository's
            job = _Job(repository, version, settings, force or settings.replace_always,
                       arch_tag(version, pushed_suffix) if pushed_suffix is not None else None, pushed_digest)

            def plan(attempt: int) -> Decision:
                return self._plan(job, prefetched) if attempt == 0 else self._plan(replace(job, pushed=None), None)

            outcome = self._writer.converge(repository, version, plan, dry_run=settings.dry_run, verify=verify)
            return self._aliases.move(repository, outcome, settings, may_drop=job.may_drop)
        except PermanentError as error:
            return Outcome(OutcomeKind.REJECTED, repository, version, reason=str(error))

    def _settings_and_first_read(
        self, repository: str, version: str, account: str | None
    ) -> tuple[Settings | None, Mapping[str, StoredManifest] | None]:
        """The repository's policy read (ListTagsForResource) and the first BatchGetImage, issued together so the
        policy is not on the critical path. The read assumes the function's architecture set; when the repository
        has its own, it is dropped (``assemble`` reads again). A read error counts only if the read is used."""
        outcome: dict[str, Any] = {}

        def first_read() -> None:
            try:
                version_arch_tags(version, self.settings.required_architectures, self.settings.suffixes)
            except AmbiguousVersionError:
                return  # refused by the tag grammar before any read: _plan says why
            try:
                outcome["read"] = self._registry.get_manifests(repository, self.version_tags(version))
            except Exception as error:  # handed to the calling thread, raised there if the read is used
                outcome["error"] = error

        reader = threading.Thread(target=first_read, name="first-read", daemon=True)
        reader.start()
        try:
            settings = self.settings_for(repository, account)
        finally:
            reader.join()
        if settings is None or settings.required_architectures != self.settings.required_architectures:
            return settings, None
        if "error" in outcome:
            raise outcome["error"]
        return settings, outcome.get("read")

    def _plan(self, job: _Job, prefetched: Mapping[str, StoredManifest] | None) -> Decision:
        """One read (fresh unless prefetched), and what it calls for."""
        repository, version, settings, pushed = job.repository, job.version, job.settings, job.pushed
        try:  # the one tag grammar, before any read: every arch tag must read back as this version
            arch_tags = version_arch_tags(version, settings.required_architectures, settings.suffixes)
        except AmbiguousVersionError as error:
            return Rejected(f"{repository}: {error}")
        wanted = [*arch_tags.values(), version]
        if prefetched is None:
            read = self._registry.get_manifests(repository, wanted)
        else:
            read = {tag: prefetched[tag] for tag in wanted if tag in prefetched}
        look = first_look(repository, version, settings, read, pushed)
        if isinstance(look, Unseen):
            raise PushedTagNotVisibleError(f"{repository}:{look.tag} was pushed but BatchGetImage does not show it "
                                           "yet; the event will be retried")
        if pushed is not None and job.pushed_digest is not None and read[pushed].digest != job.pushed_digest:
            logger.info("the pushed tag now holds a newer image; going on with what the read shows",
                        extra={"repository": repository, "tag": pushed, "read_digest": str(read[pushed].digest)})
        if not isinstance(look, Candidate):
            return look
        try:
            children = self._children.read(repository, look.arches)
        except ChildRejectedError as error:
            return Rejected(str(error))
        return decide_index(repository, version, settings, children, look.current, may_drop=job.may_drop)
