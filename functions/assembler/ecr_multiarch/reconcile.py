"""The sweep: make every complete version's index current across whole repositories, within a time budget.

Events are best effort and the function may be installed long after the first arch tags were pushed, so a sweep
lists each repository, groups its tags by version with the event path's own grammar, and hands every complete
version to the same ``Assembler`` the event path uses. What makes it cheap at scale:

- one listing per repository (ListImages, tagged only, 1,000 per page) says which versions are complete: an
  incomplete one is reported ``waiting`` from the listing alone, without reading anything;
- the manifests of complete versions are read in BatchGetImage calls of exactly 100 tag ids and passed to the
  assembler as ``prefetched``, so it reads nothing itself unless it writes;
- config blobs are fetched once per digest (the assembler's platform cache);
- writes happen only where the index is missing or stale, and each write is verified with a fresh read taken
  after it: the sweep re-reads all its writes of a repository together (a second listing, or BatchGetImage when
  that is cheaper) and calls the assembler again, from scratch, only for a version whose tags do not show exactly
  what was written (a child re-pushed in between). This is the assembler's verify loop, batched.

Time budget: before each unit of work the sweep checks the clock; with less than the safety margin left it stops,
verifies what it wrote, and returns a ``Cursor``: the repositories not finished and the last version done in the
first of them. Versions are swept in sorted order, so resuming from the cursor does no version twice and skips
none that existed when the sweep started (one pushed meanwhile below the cursor has its own push event).
"""

from __future__ import annotations

import fnmatch
import logging
import math
import re
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from .assembler import Assembler
from .domain.digest import Digest
from .domain.tags import AmbiguousVersionError, parse_arch_tag, version_arch_tags
from .errors import AssemblyError, PermanentError, ReferencedImagesMissingError, TransientError
from .outcome import Outcome, OutcomeKind
from .ports import Registry, StoredManifest
from .redaction import redact
from .settings import SettingsError

logger = logging.getLogger(__name__)

# ECR accepts at most 100 image ids per BatchGetImage call; ListImages returns at most 1,000 ids per page.
BATCH_GET_LIMIT = 100
LIST_PAGE_SIZE = 1000

# A sweep visits every config of every complete version, in order, on every run: an LRU smaller than the number of
# distinct configs would miss on every access (the event path's default of 4,096 would, from ~2,000 versions). A
# platform is a few hundred bytes, so 50,000 entries (a 25,000-version repository) stay well within 256 MB.
PLATFORM_CACHE_ENTRIES = 50_000

# Every status a swept version can end in; ``failed`` is an error the sweep could not finish that version through
# (throttling or network after retries, or an unexpected exception): it goes on with the next version, and the next
# sweep tries again. Totals always carry every key, so dashboards and scripts see zeros rather than missing fields.
STATUSES: tuple[str, ...] = ("created", "updated", "unchanged", "waiting", "rejected", "planned", "failed")
# At most this many failed versions are listed in a summary (a CloudWatch log event holds 256 KB); all are counted.
FAILED_LISTED = 50

# Every variable ReconcileSettings reads (a contract test holds template.yaml to set each for ReconcileFunction).
RECONCILE_ENVIRONMENT_VARIABLES: tuple[str, ...] = ("RECONCILE_REPOSITORIES",)

# An ECR repository name, or an IAM-style pattern of one (``*`` any characters, ``?`` one character).
_REPOSITORY_PATTERN = re.compile(r"[a-z0-9._/*?-]+")


class SweepRegistry(Registry, Protocol):
    """What a sweep needs beyond the event path's Registry: listings."""

    def list_tag_digests(self, repository: str) -> dict[str, Digest]:
        """Every tag of the repository and the digest it points to (ListImages, pages of 1,000)."""
        ...

    def list_repositories(self) -> list[str]:
        """Every repository name of the registry (DescribeRepositories); only used to expand patterns."""
        ...


class CursorError(ValueError):
    """A continuation cursor that cannot be used (malformed JSON, wrong types)."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a stopped sweep resumes: ``repositories[0]`` after ``after_version`` (None: from its start), then
    the other repositories in order. Self-contained, so a resumed sweep never depends on re-resolving patterns."""

    repositories: tuple[str, ...]
    after_version: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"repositories": list(self.repositories), "afterVersion": self.after_version}

    @classmethod
    def from_json(cls, document: Any) -> Cursor:
        if not isinstance(document, Mapping):
            raise CursorError("a cursor is a JSON object with 'repositories' and 'afterVersion'")
        repositories = document.get("repositories")
        after = document.get("afterVersion")
        if (
            not isinstance(repositories, list)
            or not repositories
            or not all(isinstance(name, str) and _REPOSITORY_PATTERN.fullmatch(name) for name in repositories)
        ):
            raise CursorError("cursor 'repositories' must be a non-empty list of repository names")
        if after is not None and not isinstance(after, str):
            raise CursorError("cursor 'afterVersion' must be a string or null")
        return cls(tuple(repositories), after)


@dataclass(frozen=True, slots=True)
class ReconcileSettings:
    """The sweep's own configuration; the assembly settings (architectures, format, dry run) are ``Settings``."""

    repositories: tuple[str, ...] = ("*",)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> ReconcileSettings:
        return cls(repositories=parse_repository_patterns(environ.get("RECONCILE_REPOSITORIES", "*")))


def parse_repository_patterns(raw: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not names:
        raise SettingsError("RECONCILE_REPOSITORIES is empty; give repository names or patterns, e.g. golang,team/*")
    invalid = [name for name in names if not _REPOSITORY_PATTERN.fullmatch(name)]
    if invalid:
        raise SettingsError(
            f"RECONCILE_REPOSITORIES has invalid names {invalid}; use lowercase letters, digits, '.', '_', '-', '/' "
            "and the wildcards '*' and '?'"
        )
    return tuple(dict.fromkeys(names))


def is_pattern(name: str) -> bool:
    return "*" in name or "?" in name


# --------------------------------------------------------------------------------------------- versions


@dataclass(frozen=True, slots=True)
class VersionTags:
    """One version as the listing shows it: which of its arch tags exist, and whether the version tag does."""

    version: str
    arch_tags: Mapping[str, str]  # suffix -> tag, only the ones that exist
    has_version_tag: bool

    def missing(self, required: Sequence[str]) -> tuple[str, ...]:
        return tuple(f"{self.version}-{suffix}" for suffix in required if suffix not in self.arch_tags)

    def read_ids(self, required: Sequence[str]) -> list[str]:
        """The tags one assembly reads: every arch tag, and the version tag whether the listing showed it or not.

        The listing can be minutes old when a version's turn comes: an index someone pushes at the version tag
        meanwhile (buildx, docker manifest) must be in the read the no-drop rule decides from, never taken for an
        absent tag and overwritten. One id per version without an index; ECR answers ImageNotFound for it."""
        return [*(self.arch_tags[suffix] for suffix in required), self.version]


def group_versions(tags: Iterable[str], required: Sequence[str], suffixes: Iterable[str]) -> list[VersionTags]:
    """Versions that have at least one required arch tag, sorted by name (the order a cursor relies on).

    Tags are split by the event path's grammar, over every known suffix (``suffixes``), and then only the required
    suffixes are kept: ``1.0-windows-amd64`` is the windows-amd64 tag of ``1.0`` here as in an event, never the
    amd64 tag of ``1.0-windows``."""
    present = set(tags)
    known = tuple(suffixes)
    wanted = set(required)
    arch_tags: dict[str, dict[str, str]] = {}
    for tag in present:
        parsed = parse_arch_tag(tag, known)
        if parsed is not None and parsed.suffix in wanted:
            arch_tags.setdefault(parsed.version, {})[parsed.suffix] = tag
    return [
        VersionTags(version, arch_tags[version], version in present)
        for version in sorted(arch_tags)
    ]


# --------------------------------------------------------------------------------------------- report


@dataclass(frozen=True)
class SweepEntry:
    """What the sweep did for one version (or, with ``version`` None, for a whole repository it could not list)."""

    repository: str
    version: str | None
    outcome: Outcome | None  # None: the version failed (transient, or unexpected), see ``failure``
    failure: str | None = None
    replaces: bool = False  # planned only: the version tag exists, so the plan is an update, not a create
    error_type: str | None = None  # failed only: the exception's class, e.g. ServerException's TransientError

    @property
    def status(self) -> str:
        return "failed" if self.outcome is None else self.outcome.kind.value

    def to_json(self) -> dict[str, Any]:
        if self.outcome is None:
            document: dict[str, Any] = {"outcome": "failed", "repository": self.repository}
            if self.version is not None:
                document["version"] = self.version
            document["reason"] = self.failure
            if self.error_type is not None:
                document["errorType"] = self.error_type
            return document
        document = self.outcome.to_json()
        if self.outcome.kind is OutcomeKind.PLANNED:
            document["action"] = "update" if self.replaces else "create"
        return document


@dataclass(frozen=True, slots=True)
class SweepProgress:
    repository: str
    done: int  # versions of this repository handled so far
    total: int  # versions of this repository with at least one arch tag (after the cursor)


@dataclass
class SweepReport:
    repositories: tuple[str, ...]
    entries: list[SweepEntry] = field(default_factory=list)
    cursor: Cursor | None = None  # None: every repository was swept to its end

    @property
    def complete(self) -> bool:
        return self.cursor is None

    def totals(self, repository: str | None = None) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for entry in self.entries:
            if repository is None or entry.repository == repository:
                counts[entry.status] += 1
        return counts

    @property
    def writes(self) -> int:
        return sum(entry.outcome.writes for entry in self.entries if entry.outcome is not None)

    @property
    def failed(self) -> list[SweepEntry]:
        """Every version (or repository) the sweep could not finish; it went on with the others."""
        return [entry for entry in self.entries if entry.outcome is None]

    def to_json(self, *, with_entries: bool = True) -> dict[str, Any]:
        document: dict[str, Any] = {
            "complete": self.complete,
            "repositories": list(self.repositories),
            "totals": self.totals(),
            "writes": self.writes,
            "cursor": None if self.cursor is None else self.cursor.to_json(),
        }
        if with_entries:
            document["versions"] = [entry.to_json() for entry in self.entries]
        else:  # a summary still names what failed (the first FAILED_LISTED; totals count them all)
            document["failed"] = [entry.to_json() for entry in self.failed[:FAILED_LISTED]]
        return document


# --------------------------------------------------------------------------------------------- the sweep


@dataclass
class _Written:
    """A version the sweep wrote and has not verified yet; ``position`` is its entry in the report."""

    version: VersionTags
    outcome: Outcome
    position: int
    # What each required arch tag held in the read the write was built from (an arch tag that is a BuildKit index
    # holds the index's digest, not the image manifest's that the written index lists).
    children_read: tuple[Digest | None, ...] = ()


class _OutOfTime(Exception):
    pass


class Reconciler:
    def __init__(
        self, registry: SweepRegistry, assembler: Assembler, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._registry = registry
        self._assembler = assembler
        self._clock = clock

    @property
    def assembler(self) -> Assembler:
        return self._assembler

    def resolve_repositories(self, names: Sequence[str]) -> list[str]:
        """Names as given, patterns expanded (sorted) against the registry's repositories; listed only if needed."""
        existing: list[str] | None = None
        resolved: list[str] = []
        for name in names:
            if not is_pattern(name):
                resolved.append(name)
                continue
            if existing is None:
                existing = sorted(self._registry.list_repositories())
            resolved.extend(repository for repository in existing if fnmatch.fnmatchcase(repository, name))
        return list(dict.fromkeys(resolved))

    def sweep(
        self,
        repositories: Sequence[str],
        *,
        cursor: Cursor | None = None,
        time_budget: float | None = None,
        safety_margin: float = 0.0,
        on_progress: Callable[[SweepProgress], None] | None = None,
    ) -> SweepReport:
        """Sweep ``repositories`` (or resume ``cursor``, which then replaces them).

        ``time_budget``: seconds this sweep may run (None: no limit); it stops with a cursor once less than
        ``safety_margin`` seconds of the budget are left, leaving that much for verifying its writes and for
        handing the cursor on.
        """
        deadline = None if time_budget is None else self._clock() + time_budget - safety_margin
        order = tuple(cursor.repositories) if cursor is not None else tuple(dict.fromkeys(repositories))
        report = SweepReport(repositories=order)
        for position, repository in enumerate(order):
            after = cursor.after_version if cursor is not None and position == 0 else None
            try:
                finished, last_done = self._sweep_repository(repository, after, deadline, report, on_progress)
            except Exception as error:  # one repository's failure must not stop the sweep of the others
                report.entries.append(_failed(repository, None, error))
                finished, last_done = True, None
            if not finished:
                report.cursor = Cursor(order[position:], last_done)
                break
        return report

    # ---- one repository

    def _sweep_repository(
        self,
        repository: str,
        after: str | None,
        deadline: float | None,
        report: SweepReport,
        on_progress: Callable[[SweepProgress], None] | None,
    ) -> tuple[bool, str | None]:
        """Returns (finished, last version done)."""
        if self._out_of_time(deadline):
            return False, after
        try:
            listing = self._registry.list_tag_digests(repository)
        except PermanentError as error:
            report.entries.append(
                SweepEntry(repository, None, Outcome(OutcomeKind.REJECTED, repository, reason=str(error)))
            )
            return True, None
        except TransientError as error:
            report.entries.append(SweepEntry(repository, None, None, failure=f"listing failed: {error}"))
            return True, None

        try:
            settings = self._assembler.settings_for(repository)  # its own ecr-multiarch:* tags, if any
        except PermanentError as error:
            report.entries.append(
                SweepEntry(repository, None, Outcome(OutcomeKind.REJECTED, repository, reason=str(error)))
            )
            return True, None
        if settings is None:
            report.entries.append(SweepEntry(repository, None, Outcome(
                OutcomeKind.SKIPPED, repository, reason="repository opted out (ecr-multiarch:enabled=false)")))
            return True, None
        required = settings.required_architectures
        versions = [v for v in group_versions(listing, required, settings.suffixes)
                    if after is None or v.version > after]
        complete = [v for v in versions if not v.missing(required)]
        reads = _BulkReads(self._registry, repository, [v.read_ids(required) for v in complete])
        written: list[_Written] = []
        last_done = after
        finished = True
        for done, version in enumerate(versions):
            if self._out_of_time(deadline):
                finished = False
                break
            self._sweep_version(repository, version, required=required, suffixes=tuple(settings.suffixes),
                                reads=reads, report=report, written=written)
            last_done = version.version
            if on_progress is not None:
                on_progress(SweepProgress(repository, done + 1, len(versions)))
        # Stopping early too: what was written gets its fresh read before the cursor is handed on. (An unexpected
        # error skips this; the next sweep reads everything fresh and rewrites any index that is not current.)
        if written:
            tags_now = len(listing) + sum(item.outcome.kind is OutcomeKind.CREATED for item in written)
            self._verify(repository, written, required, tags_now, report)
        return finished, last_done

    def _sweep_version(
        self,
        repository: str,
        version: VersionTags,
        *,
        required: tuple[str, ...],
        suffixes: tuple[str, ...],
        reads: _BulkReads,
        report: SweepReport,
        written: list[_Written],
    ) -> None:
        """One version, isolated: whatever it raises ends as its own entry, and the sweep goes on."""
        try:
            version_arch_tags(version.version, required, suffixes)
        except AmbiguousVersionError as error:  # what the assembler answers an event for it, without a read
            rejected = Outcome(OutcomeKind.REJECTED, repository, version.version, reason=f"{repository}: {error}")
            report.entries.append(SweepEntry(repository, version.version, rejected))
            return
        missing = version.missing(required)
        if missing:
            # The listing already says what the assembler would: no read needed.
            outcome = Outcome(OutcomeKind.WAITING, repository, version.version, missing=missing)
            report.entries.append(SweepEntry(repository, version.version, outcome))
            return
        try:
            prefetched = reads.manifests_for(version.read_ids(required))
            try:
                outcome = self._assembler.assemble(repository, version.version, prefetched, verify=False)
            except ReferencedImagesMissingError:
                # The bulk read is older than the write: a child was replaced or deleted since. Once more, from a
                # fresh read (and with the assembler's own verify, as this version is clearly moving).
                outcome = self._assembler.assemble(repository, version.version)
        except PermanentError as error:  # the read of this version's own tags was refused (archived, KMS)
            rejected = Outcome(OutcomeKind.REJECTED, repository, version.version, reason=str(error))
            report.entries.append(SweepEntry(repository, version.version, rejected))
            return
        except Exception as error:  # transient after retries, or a bug: this version only, the next one goes on
            report.entries.append(_failed(repository, version.version, error))
            return
        report.entries.append(
            SweepEntry(repository, version.version, outcome, replaces=version.version in prefetched)
        )
        if outcome.kind in (OutcomeKind.CREATED, OutcomeKind.UPDATED) and outcome.index is not None:
            children_read = tuple(prefetched[tag].digest if tag in prefetched else None
                                  for tag in (version.arch_tags[suffix] for suffix in required))
            written.append(_Written(version, outcome, len(report.entries) - 1, children_read))

    # ---- verification of writes

    def _verify(self, repository: str, written: list[_Written], required: tuple[str, ...], listed_tags: int,
                report: SweepReport) -> None:
        """One fresh read of every written version's tags; re-assemble (from scratch) any that moved.

        The read is a relisting of the repository (``listed_tags`` now, 1,000 per call) or BatchGetImage of just
        the written versions' tags (100 per call), whichever takes fewer calls."""
        ids = [tag for item in written for tag in item.version.read_ids(required)]
        ids = list(dict.fromkeys(ids))
        try:
            if math.ceil(len(ids) / BATCH_GET_LIMIT) < max(1, math.ceil(listed_tags / LIST_PAGE_SIZE)):
                fresh = {tag: m.digest for tag, m in self._registry.get_manifests(repository, ids).items()}
            else:
                fresh = self._registry.list_tag_digests(repository)
        except Exception as error:  # the writes stand; the next sweep reads them fresh
            for item in written:
                report.entries[item.position] = _failed(repository, item.version.version, error,
                                                         "written, but not verified: ")
            return
        for item in written:
            index = item.outcome.index
            assert index is not None  # only writes with an index are recorded
            children = [item.version.arch_tags[suffix] for suffix in required]
            # Compared with what the arch tags held when read, not with the index's entries: for a BuildKit arch tag
            # (an index) those differ, and every written version was assembled a second time for nothing.
            if fresh.get(item.version.version) == index.digest and tuple(fresh.get(tag) for tag in children) == \
                    item.children_read:
                continue  # the tag holds exactly the index of the children as they are now
            report.entries[item.position] = self._reassemble(repository, item)

    def _reassemble(self, repository: str, item: _Written) -> SweepEntry:
        version = item.version.version
        try:
            again = self._assembler.assemble(repository, version)  # fresh read, full verify loop
        except Exception as error:
            return _failed(repository, version, error, "written, then changed; retry failed: ")
        writes = item.outcome.writes + again.writes
        if again.kind in (OutcomeKind.UNCHANGED, OutcomeKind.CREATED, OutcomeKind.UPDATED):
            # Same rule as the assembler's own verify: the first write's verdict, with what the tag now holds.
            return SweepEntry(repository, version, replace(item.outcome, digest=again.digest, index=again.index,
                                                           writes=writes))
        return SweepEntry(repository, version, replace(again, writes=writes))

    def _out_of_time(self, deadline: float | None) -> bool:
        return deadline is not None and self._clock() >= deadline


def _failed(repository: str, version: str | None, error: Exception, context: str = "") -> SweepEntry:
    """The entry of a version (or, with ``version`` None, a repository) the sweep gave up on for this run.

    Our own errors carry vetted messages. Anything else is a bug: logged as an error with its type and where it was
    raised (file, line, function), so the sweep can go on without it being lost; its message, which nobody vetted,
    goes into the entry's reason only with query strings cut out and at most 200 characters."""
    kind = type(error).__name__
    if isinstance(error, AssemblyError):
        return SweepEntry(repository, version, None, failure=f"{context}{error}", error_type=kind)
    frames = [f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} {frame.name}"
              for frame in traceback.extract_tb(error.__traceback__)[-8:]]
    logger.error("unexpected error in the sweep; it goes on with the next version",
                 extra={"repository": repository, "version": version, "error_type": kind, "raised_at": frames})
    return SweepEntry(repository, version, None, failure=f"{context}unexpected {kind}: {redact(str(error))[:200]}",
                      error_type=kind)


class _BulkReads:
    """Reads the manifests of the versions to assemble in BatchGetImage calls of exactly 100 ids, in sweep order,
    one call ahead at most, and forgets each version's manifests once handed out (bounded memory)."""

    def __init__(self, registry: Registry, repository: str, ids_by_version: list[list[str]]) -> None:
        self._registry = registry
        self._repository = repository
        self._pending: Iterator[str] = iter([tag for ids in ids_by_version for tag in ids])
        self._read: set[str] = set()
        self._unread: set[str] = set()  # in a chunk whose read failed: read with their own version
        self._manifests: dict[str, StoredManifest] = {}

    def manifests_for(self, ids: Sequence[str]) -> dict[str, StoredManifest]:
        """The manifests at ``ids`` (absent tags left out). Raises only for a failure of these very tags: a chunk
        that fails (one archived image in 100 ids, a throttled call) is read again version by version."""
        while not all(tag in self._read or tag in self._unread for tag in ids):
            chunk = [tag for _, tag in zip(range(BATCH_GET_LIMIT), self._pending, strict=False)]
            if not chunk:  # not in the planned order: read exactly what is asked, below
                break
            try:
                self._manifests.update(self._registry.get_manifests(self._repository, chunk))
                self._read.update(chunk)
            except AssemblyError:
                self._unread.update(chunk)
        own = [tag for tag in ids if tag not in self._read]
        if own:
            self._unread.difference_update(own)
            self._manifests.update(self._registry.get_manifests(self._repository, own))
            self._read.update(own)
        found = {tag: self._manifests.pop(tag) for tag in ids if tag in self._manifests}
        self._read.difference_update(ids)
        return found
