"""Events for downstream pipelines: one EventBridge event per index written, per rejection, per stuck version.

A deploy pipeline subscribes to ``source: ecr-multiarch`` instead of polling tags. Publishing is best effort by
design: the index is already written when the event is built, so a failed PutEvents is logged and counted (the
caller's metric), never raised. The EventBridge client is built on the first event actually published, so a cold
start that publishes nothing (skipped, waiting, unchanged) never pays for it.

``EVENT_BUS_NAME``: the bus (name) the events go to; empty turns publishing off.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .outcome import Outcome, OutcomeKind

if TYPE_CHECKING:
    # Only the sweep reports stuck versions: the event path's cold start does not import their module.
    from .domain.incomplete import IncompleteVersion

# Every variable this module reads (a contract test holds template.yaml to set each for both functions).
NOTIFY_ENVIRONMENT_VARIABLES: tuple[str, ...] = ("EVENT_BUS_NAME",)

SOURCE = "ecr-multiarch"


class DetailType(enum.StrEnum):
    PUBLISHED = "Multi-Arch Index Published"
    REJECTED = "Multi-Arch Index Rejected"
    INCOMPLETE = "Multi-Arch Version Incomplete"


@dataclass(frozen=True)
class PipelineEvent:
    detail_type: DetailType
    detail: Mapping[str, Any] = field(hash=False)


# --------------------------------------------------------------------------------------------- what is published


def outcome_event(outcome: Outcome) -> PipelineEvent | None:
    """The event for one assembly: an index written (created, updated) or refused (rejected); else none."""
    if outcome.repository is None or outcome.version is None:
        return None  # a repository-level rejection (opted out, unlistable): no version a pipeline could deploy
    if outcome.kind in (OutcomeKind.CREATED, OutcomeKind.UPDATED) and outcome.index is not None:
        detail: dict[str, Any] = {
            "repository": outcome.repository,
            "version": outcome.version,
            "outcome": outcome.kind.value,
            "digest": outcome.digest,
            "mediaType": outcome.index.media_type,
            "platforms": platforms_of(outcome),
        }
        if outcome.aliases:
            detail["aliases"] = list(outcome.aliases)
        return PipelineEvent(DetailType.PUBLISHED, detail)
    if outcome.kind is OutcomeKind.REJECTED:
        detail = {"repository": outcome.repository, "version": outcome.version, "reason": outcome.reason or ""}
        if outcome.digest is not None:
            detail["digest"] = outcome.digest
        if outcome.index is not None:
            detail["mediaType"] = outcome.index.media_type
            detail["platforms"] = platforms_of(outcome)
        return PipelineEvent(DetailType.REJECTED, detail)
    return None


def platforms_of(outcome: Outcome) -> list[dict[str, str]]:
    """The index's image platforms in index order (os, architecture, variant when there is one); attestation
    manifests (platform unknown/unknown) are not platforms anyone deploys."""
    assert outcome.index is not None
    platforms: list[dict[str, str]] = []
    for child in outcome.index.manifests:
        if child.is_attestation:
            continue
        platform = {"os": child.platform.os, "architecture": child.platform.architecture}
        if child.platform.variant:
            platform["variant"] = child.platform.variant
        platforms.append(platform)
    return platforms


def incomplete_event(version: IncompleteVersion) -> PipelineEvent:
    return PipelineEvent(DetailType.INCOMPLETE, version.to_json())


def outcome_events(outcomes: Iterable[Outcome]) -> list[PipelineEvent]:
    return [event for event in map(outcome_event, outcomes) if event is not None]


# --------------------------------------------------------------------------------------------- publishing


class Notifier(Protocol):
    def publish(self, events: Sequence[PipelineEvent]) -> int:
        """Publish ``events``; returns how many could not be published (already logged). Never raises."""
        ...


class Silent:
    """Publishing turned off (EVENT_BUS_NAME empty)."""

    def publish(self, events: Sequence[PipelineEvent]) -> int:
        return 0


_notifier: Notifier | None = None


def configure(notifier: Notifier | None) -> None:
    """Use ``notifier`` for the next invocations (tests); None goes back to the one the environment describes."""
    global _notifier  # noqa: PLW0603 - the warm container's composition root is module state by design
    _notifier = notifier


def notifier(client_factory: Callable[[], Any] | None = None) -> Notifier:
    """The notifier ``EVENT_BUS_NAME`` describes, built once; its EventBridge client only on the first publish,
    from ``client_factory`` (the handler's shared botocore session) or boto3's default session."""
    global _notifier  # noqa: PLW0603
    if _notifier is None:
        bus = os.environ.get("EVENT_BUS_NAME", "").strip()
        if not bus:
            _notifier = Silent()
        else:
            from .adapters.eventbridge import EventBridgeNotifier, lazy_events_client

            _notifier = EventBridgeNotifier(client_factory or lazy_events_client, bus)
    return _notifier


def publish_outcomes(outcomes: Iterable[Outcome], client_factory: Callable[[], Any] | None = None) -> int:
    """Publish the events of these outcomes (those that have one); how many could not be published."""
    events = outcome_events(outcomes)
    return notifier(client_factory).publish(events) if events else 0
