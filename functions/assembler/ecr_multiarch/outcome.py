"""What one assembly decided, as a small JSON-able value: returned by the handler, logged, and counted."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from .domain.index import ImageIndex


class OutcomeKind(enum.StrEnum):
    CREATED = "created"  # the version tag did not exist; the index was written
    UPDATED = "updated"  # the version tag held an older index; the new one was written
    UNCHANGED = "unchanged"  # the version tag already holds exactly the index the children call for
    WAITING = "waiting"  # some required architecture tags do not exist yet
    REJECTED = "rejected"  # something is wrong and retrying cannot fix it; nothing was written
    SKIPPED = "skipped"  # the event is not one this function acts on
    PLANNED = "planned"  # DRY_RUN: the index that would have been written


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    repository: str | None = None
    version: str | None = None
    digest: str | None = None
    missing: tuple[str, ...] = ()
    reason: str | None = None
    index: ImageIndex | None = field(default=None, compare=False, repr=False)
    writes: int = 0
    aliases: tuple[str, ...] = ()  # alias tags that hold this index after the assembly (ALIAS_TAGS)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"outcome": self.kind.value}
        for key, value in (
            ("repository", self.repository),
            ("version", self.version),
            ("digest", self.digest),
            ("reason", self.reason),
        ):
            if value is not None:
                document[key] = value
        if self.kind is OutcomeKind.WAITING:
            document["missing"] = list(self.missing)
        if self.index is not None:
            document["mediaType"] = self.index.media_type
        if self.aliases:
            document["aliases"] = list(self.aliases)
        return document
