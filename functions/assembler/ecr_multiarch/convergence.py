"""The write-and-verify loop: write what a fresh read calls for, read again, until the read shows it written.

Why the loop converges (races between invocations, re-pushes, duplicate events):
every attempt starts from a fresh read of all children and of the version tag, and the index it wants is a pure
function of the children it read. An attempt stops only when that read shows the version tag already holding
exactly the index the current children call for. A stale writer (one that read an older child) is therefore
corrected by its own verify read, which sees the newer child and writes again; a writer that read the newest
children writes the right bytes, and any later stale write is corrected by that stale writer's verify. Each
rewrite moves the tag toward the index of the newest children, and only a push that lands between two of our
reads can force another round, so a bounded number of attempts settles in practice; when it does not (a child
re-pushed in a tight loop), UnsettledError is raised and Lambda retries the event later, from a fresh read.

The no-drop rule does not weaken this: it is decided on every attempt's fresh read, and an index this loop wrote
serves exactly the platforms of the children it read, so a corrective rewrite over our own index of the same
version never drops one (an arch tag changing platform is a mislabel, rejected before any write).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from .domain.decision import Rejected, Unchanged, Waiting, Write
from .domain.index import ImageIndex
from .errors import ImmutableTagError, ReferencedImagesMissingError, UnsettledError
from .outcome import Outcome, OutcomeKind
from .ports import PutResult, Registry

logger = logging.getLogger(__name__)

# One write plus up to two corrective rewrites; each attempt is a full fresh read.
MAX_ATTEMPTS = 3

# One attempt: a fresh read (the first may be prefetched) and what it calls for.
Plan = Callable[[int], Waiting | Rejected | Unchanged | Write]


def write_index(registry: Registry, repository: str, tag: str, index: ImageIndex) -> PutResult:
    """PutImage, with immutable tags read as ECR writes them: ECR refuses every PutImage on an immutable tag, even
    one that already holds these very bytes (aws/containers-roadmap#2179), so the tag is read to tell "already
    there" (ALREADY_EXISTS) from "someone else's image" (ImmutableTagError, naming what the tag holds).

    Whether a tag is immutable (IMMUTABLE, or *_WITH_EXCLUSION filters) is never predicted: ECR's answer decides.
    """
    try:
        return registry.put_index(repository, tag, index)
    except ImmutableTagError as error:
        held = registry.get_manifests(repository, [tag]).get(tag)
        if held is not None and held.digest == index.digest:
            logger.info("immutable tag already holds the index", extra={"repository": repository, "tag": tag,
                                                                        "digest": str(index.digest)})
            return PutResult.ALREADY_EXISTS
        holds = f"it holds {held.digest}" if held is not None else "it holds another image"
        raise ImmutableTagError(f"{error}; {holds}, not the desired index {index.digest}") from None


def terminal(repository: str, version: str, decision: Waiting | Rejected | Unchanged) -> Outcome:
    if isinstance(decision, Waiting):
        return Outcome(OutcomeKind.WAITING, repository, version, missing=decision.missing)
    if isinstance(decision, Rejected):
        return Outcome(OutcomeKind.REJECTED, repository, version, reason=decision.reason)
    return Outcome(OutcomeKind.UNCHANGED, repository, version, str(decision.index.digest), index=decision.index)


class IndexWriter:
    """Runs the loop for one version against one registry."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def converge(self, repository: str, version: str, plan: Plan, *, dry_run: bool = False,
                 verify: bool = True) -> Outcome:
        """``verify=False``: return right after the first write (a sweep verifies its writes in bulk)."""
        first_write: Outcome | None = None
        writes = 0
        for attempt in range(MAX_ATTEMPTS):
            decision = plan(attempt)
            if not isinstance(decision, Write):
                if first_write is None or not isinstance(decision, Unchanged):
                    # Nothing written yet, or the children changed after our write into something we must not
                    # index (a tag deleted, a mislabelled re-push): the fresh read's verdict is the answer.
                    return replace(terminal(repository, version, decision), writes=writes)
                # Verified: report the first write's verdict with what the tag now holds.
                return replace(first_write, digest=str(decision.index.digest), index=decision.index, writes=writes)
            if dry_run:
                return self._planned(repository, version, decision)
            try:
                result = write_index(self._registry, repository, version, decision.index)
            except ReferencedImagesMissingError as error:
                # A child was replaced or deleted between our read and our write: the next attempt reads afresh.
                logger.info("a child changed during the write; reading again", extra={"error": str(error)})
                continue
            writes += result is PutResult.WRITTEN
            self._log_write(repository, version, decision, result)
            if first_write is None:
                first_write = self._verdict(repository, version, decision, result)
                if not verify:
                    return replace(first_write, writes=writes)
        raise UnsettledError(
            f"{repository}:{version} still did not hold the index of its current children after {MAX_ATTEMPTS} "
            "attempts (children re-pushed concurrently); the event will be retried"
        )

    @staticmethod
    def _verdict(repository: str, version: str, write: Write, result: PutResult) -> Outcome:
        if result is PutResult.ALREADY_EXISTS:
            kind = OutcomeKind.UNCHANGED
        else:
            kind = OutcomeKind.CREATED if write.replaces is None else OutcomeKind.UPDATED
        return Outcome(kind, repository, version, str(write.index.digest), index=write.index)

    @staticmethod
    def _planned(repository: str, version: str, write: Write) -> Outcome:
        logger.info("dry run: index not written", extra={"repository": repository, "version": version,
                                                         "digest": str(write.index.digest),
                                                         "index": write.index.to_json()})
        kind = "create" if write.replaces is None else "update"
        return Outcome(OutcomeKind.PLANNED, repository, version, str(write.index.digest),
                       reason=f"DRY_RUN: would {kind} the index", index=write.index)

    @staticmethod
    def _log_write(repository: str, version: str, write: Write, result: PutResult) -> None:
        logger.info(
            "index written" if result is PutResult.WRITTEN else "index already present",
            extra={"repository": repository, "version": version, "digest": str(write.index.digest),
                   "media_type": write.index.media_type, "format_reason": write.index.format_reason,
                   "replaces": str(write.replaces) if write.replaces else None},
        )
