"""The Notifier port on Amazon EventBridge (PutEvents) through boto3."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from ..notify import SOURCE, PipelineEvent

logger = logging.getLogger(__name__)

# PutEvents takes at most 10 entries per call.
PUT_EVENTS_LIMIT = 10


def events_client_config() -> Any:
    """Short timeouts and few retries: an event is not worth delaying the function for."""
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


def lazy_events_client(endpoint_url: str | None = None) -> Any:
    """An EventBridge client from boto3's default session (the sweep and the CLI, which have boto3 loaded), at
    ``endpoint_url`` when set (ECR_MULTIARCH_ENDPOINT_URL)."""
    import boto3

    return boto3.client("events", config=events_client_config(), endpoint_url=endpoint_url)


class EventBridgeNotifier:
    def __init__(self, client_factory: Callable[[], Any], bus_name: str) -> None:
        self._client_factory = client_factory
        self._client: Any = None
        self._bus_name = bus_name

    def publish(self, events: Sequence[PipelineEvent]) -> int:
        """PutEvents in calls of 10 entries; returns how many were not published. Never raises: the indexes these
        events announce are already written, and a failed announcement must not turn them into failures."""
        failed = 0
        for start in range(0, len(events), PUT_EVENTS_LIMIT):
            failed += self._put(events[start : start + PUT_EVENTS_LIMIT])
        return failed

    def _put(self, events: Sequence[PipelineEvent]) -> int:
        entries = [
            {"Source": SOURCE, "DetailType": event.detail_type.value, "Detail": json.dumps(event.detail),
             "EventBusName": self._bus_name}
            for event in events
        ]
        try:
            if self._client is None:
                self._client = self._client_factory()
            response = self._client.put_events(Entries=entries)
        except Exception as error:  # any failure (denied, throttled after retries, a bug): count it, go on
            logger.warning("events not published", extra={"events": len(entries), "error_type": type(error).__name__,
                                                          "bus": self._bus_name})
            return len(entries)
        failures = [
            {"detail_type": entry["DetailType"], "error": result.get("ErrorCode")}
            for entry, result in zip(entries, response.get("Entries", []), strict=False)
            if result.get("ErrorCode")
        ]
        failed = max(int(response.get("FailedEntryCount", 0)), len(failures))
        if failed:
            logger.warning("events not published", extra={"events": failed, "failures": failures,
                                                          "bus": self._bus_name})
        return failed
