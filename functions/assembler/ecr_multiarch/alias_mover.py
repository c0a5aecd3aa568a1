"""Alias tags (ALIAS_TAGS, opt-in): point ``1.19``, ``1``, ``latest`` at the index of the highest version.

Moved only forward, never over a tag that is a version in its own right (``latest-amd64`` exists), never over a
single-arch image, and never so that an alias stops serving a platform it serves (the no-drop rule, with the same
overrides as the version tag). Every write is verified like an index write: a fresh read of the aliases and a
fresh listing after it; an alias that a concurrent writer moved is decided again from that read.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from .convergence import MAX_ATTEMPTS, write_index
from .domain import media_types
from .domain.aliases import Version, alias_of, aliases_to_move, parse_version, versions_among
from .domain.decision import refuse_dropping
from .domain.index import ImageIndex
from .errors import PermanentError
from .outcome import Outcome, OutcomeKind
from .ports import Registry, StoredManifest
from .settings import Settings

logger = logging.getLogger(__name__)

_MOVABLE_AFTER = (OutcomeKind.CREATED, OutcomeKind.UPDATED, OutcomeKind.UNCHANGED)


class AliasMover:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def move(self, repository: str, outcome: Outcome, settings: Settings, *, may_drop: bool = False) -> Outcome:
        """Point the opted-in aliases at ``outcome``'s index when its version is the highest of their group.

        Also on ``unchanged``: a retried event (an alias write failed transiently) must finish the job. One
        BatchGetImage tells whether every alias already holds the index; only if not is the repository listed.
        """
        index = outcome.index
        parsed = parse_version(outcome.version or "")
        if (not settings.alias_kinds or settings.dry_run or index is None or parsed is None
                or outcome.kind not in _MOVABLE_AFTER):
            return outcome
        wanted = [alias_of(parsed, kind) for kind in settings.alias_kinds]
        refused: set[str] = set()
        for attempt in range(MAX_ATTEMPTS + 1):
            try:
                held = self._registry.get_manifests(repository, wanted)
            except PermanentError as error:
                # An alias ECR will not hand out (archived, a KMS key, a refusing pull-through upstream): the index
                # itself is written and verified, and must not be reported rejected because of it. Aliases are
                # left as they are; the next event or sweep tries again.
                logger.warning("aliases not read; left as they are",
                               extra={"repository": repository, "aliases": wanted, "error": str(error)})
                return outcome
            holding = {alias for alias in wanted if alias in held and held[alias].digest == index.digest}
            if attempt == 0 and len(holding) == len(wanted):
                return replace(outcome, aliases=tuple(wanted))
            ours = self._ours(parsed, settings, self._registry.list_tags(repository))
            to_write = [alias for alias in wanted if alias in ours and alias not in holding and alias not in refused]
            to_write = [alias for alias in to_write
                        if self._may_move(repository, alias, held.get(alias), index, settings=settings,
                                          may_drop=may_drop, refused=refused)]
            if not to_write or attempt == MAX_ATTEMPTS:
                return replace(outcome, aliases=self._settled(repository, wanted, holding, ours, to_write))
            for alias in to_write:
                self._write(repository, alias, index, outcome.version or "", refused)
        raise AssertionError("unreachable: the last attempt returns")  # pragma: no cover

    @staticmethod
    def _ours(version: Version, settings: Settings, tags: list[str]) -> set[str]:
        """The aliases this version should hold by a listing: the highest of their group, and not versions."""
        movable = aliases_to_move(version, settings.alias_kinds, tags)
        return set(movable) - versions_among(movable, tags, settings.suffixes)

    @staticmethod
    def _may_move(repository: str, alias: str, held: StoredManifest | None, index: ImageIndex, *,
                  settings: Settings, may_drop: bool, refused: set[str]) -> bool:
        if held is None:
            return True
        reason = None
        if held.media_type not in media_types.INDEXES:
            reason = "the alias tag holds a single-arch image; left untouched"
        elif not may_drop:
            refusal = refuse_dropping(f"{repository}:{alias}", held, index, settings)
            reason = refusal.reason if refusal is not None else None
        if reason is None:
            return True
        logger.warning("alias not moved", extra={"repository": repository, "alias": alias, "reason": reason})
        refused.add(alias)
        return False

    def _write(self, repository: str, alias: str, index: ImageIndex, version: str, refused: set[str]) -> None:
        try:
            write_index(self._registry, repository, alias, index)
        except PermanentError as error:
            # The index itself is written and verified; an alias ECR refuses (an immutable tag) must not turn
            # that into a rejection. Reported, and the alias is left as it is.
            logger.warning("alias not moved", extra={"repository": repository, "alias": alias, "error": str(error)})
            refused.add(alias)
            return
        logger.info("alias moved", extra={"repository": repository, "alias": alias, "version": version,
                                          "digest": str(index.digest)})

    @staticmethod
    def _settled(repository: str, wanted: list[str], holding: set[str], ours: set[str],
                 unsettled: list[str]) -> tuple[str, ...]:
        for alias in unsettled:
            logger.warning("alias kept changing under concurrent writers; left to the next event or sweep",
                           extra={"repository": repository, "alias": alias})
        for alias in sorted(holding - ours):
            # We moved it, then a higher version (or the alias's own arch tags) appeared: that version's own
            # assembly (its event, or the sweep) moves it on.
            logger.warning("alias holds this index but a higher version now exists",
                           extra={"repository": repository, "alias": alias})
        return tuple(alias for alias in wanted if alias in holding)  # what holds this index, as Outcome says
