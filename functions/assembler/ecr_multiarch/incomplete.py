"""Finding stuck versions after a sweep: the waiting versions' present arch tags are dated with DescribeImages
(only those, at most 100 ids per call: adapters.push_times), and the pure rule in ``domain.incomplete`` decides.

``INCOMPLETE_AFTER_HOURS``: how long a version may stay incomplete before it is reported (default 24).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from .domain.incomplete import IncompleteVersion, WaitingVersion, incomplete_versions
from .domain.tags import arch_tag
from .errors import PermanentError, TransientError
from .outcome import Outcome, OutcomeKind
from .settings import Settings, SettingsError

logger = logging.getLogger(__name__)

# Every variable this module reads (a contract test holds template.yaml to set each for ReconcileFunction).
INCOMPLETE_ENVIRONMENT_VARIABLES: tuple[str, ...] = ("INCOMPLETE_AFTER_HOURS",)
DEFAULT_HOURS = 24.0


def parse_incomplete_after(environ: Mapping[str, str]) -> timedelta:
    raw = environ.get("INCOMPLETE_AFTER_HOURS", "").strip() or str(DEFAULT_HOURS)
    try:
        hours = float(raw)
    except ValueError:
        raise SettingsError(f"INCOMPLETE_AFTER_HOURS is {raw!r}; give a number of hours (1 to 8760)") from None
    if not 1 <= hours <= 8760:
        raise SettingsError(f"INCOMPLETE_AFTER_HOURS is {raw!r}; give a number of hours (1 to 8760)")
    return timedelta(hours=hours)


class PushTimes(Protocol):
    def push_times(self, repository: str, tags: Sequence[str]) -> dict[str, datetime]:
        """When the image at each tag was pushed; tags that do not exist (any more) are absent."""
        ...


class IncompleteVersionFinder:
    def __init__(
        self,
        push_times: PushTimes,
        settings_for: Callable[[str], Settings | None],
        threshold: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._push_times = push_times
        self._settings_for = settings_for
        self._threshold = threshold
        self._clock = clock

    @property
    def threshold(self) -> timedelta:
        return self._threshold

    def find(self, outcomes: Iterable[Outcome]) -> list[IncompleteVersion]:
        """The stuck versions among these outcomes' waiting ones. A repository that cannot be dated (a transient
        error) is logged and left for the next sweep, never raised: the sweep itself succeeded."""
        by_repository: dict[str, list[WaitingVersion]] = {}
        for outcome in outcomes:
            waiting = self._waiting(outcome)
            if waiting is not None:
                by_repository.setdefault(waiting.repository, []).append(waiting)
        pushed_at: dict[tuple[str, str], datetime] = {}
        for repository, versions in by_repository.items():
            try:
                times = self._push_times.push_times(repository, [tag for v in versions for tag in v.present])
            except (TransientError, PermanentError) as error:
                logger.warning("could not date waiting versions", extra={"repository": repository,
                                                                          "error": str(error)})
                continue
            pushed_at.update({(repository, tag): when for tag, when in times.items()})
        waiting_versions = [version for versions in by_repository.values() for version in versions]
        return incomplete_versions(waiting_versions, pushed_at, now=self._clock(), threshold=self._threshold)

    def _waiting(self, outcome: Outcome) -> WaitingVersion | None:
        if outcome.kind is not OutcomeKind.WAITING or outcome.repository is None or outcome.version is None:
            return None
        try:
            settings = self._settings_for(outcome.repository)  # cached by the assembler; no call when warm
        except PermanentError:
            return None
        if settings is None:
            return None
        present = tuple(tag for tag in (arch_tag(outcome.version, suffix) for suffix in
                                        settings.required_architectures) if tag not in outcome.missing)
        return WaitingVersion(outcome.repository, outcome.version, present, outcome.missing)


def finder_for(ecr_client: object, settings_for: Callable[[str], Settings | None], environ: Mapping[str, str],
               clock: Callable[[], datetime] | None = None, registry_id: str | None = None) -> IncompleteVersionFinder:
    """The finder the function and the CLI use: DescribeImages on ``ecr_client`` (in ``registry_id``'s registry,
    None: the caller's), INCOMPLETE_AFTER_HOURS."""
    from .adapters.push_times import EcrPushTimes

    threshold = parse_incomplete_after(environ)
    push_times = EcrPushTimes(ecr_client, registry_id)
    if clock is None:
        return IncompleteVersionFinder(push_times, settings_for, threshold)
    return IncompleteVersionFinder(push_times, settings_for, threshold, clock)


def incomplete_lines(versions: Sequence[IncompleteVersion], threshold: timedelta) -> list[str]:
    """The stuck versions as text lines (the CLI's reconcile and plan output); none when there are none."""
    if not versions:
        return []
    hours = threshold.total_seconds() / 3600
    lines = [f"Incomplete for more than {hours:g} h (INCOMPLETE_AFTER_HOURS), no multi-arch tag:"]
    for version in versions:
        lines.append(f"  {version.repository}:{version.version}  missing {', '.join(version.missing_suffixes)}"
                     f"  ({version.age_hours:g} h since {version.first_pushed_at:%Y-%m-%d %H:%M} UTC)")
    return lines
