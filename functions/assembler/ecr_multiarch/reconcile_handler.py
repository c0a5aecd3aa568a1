"""The scheduled sweep's Lambda entry point: resolve the repositories, sweep within the time left, report, continue.

Resuming: a sweep that runs out of time (a backfill of thousands of versions) returns a cursor, and this function
invokes itself asynchronously with that cursor in the payload (``{"reconcile": {"cursor": …, "continuation": n}}``),
so the work carries on in a fresh invocation with a fresh 15 minutes, without any state store. Guard rails: at most
``MAX_CONTINUATIONS`` hand-offs per scheduled run (Lambda's recursive-loop detection stops chains at about 16, and a
repository that needs more is better served by the next scheduled run), and never a hand-off that made no progress.
The next scheduled run always starts from the beginning; versions done before are ``unchanged`` and cost reads only.

Clients are built lazily, once per warm container, in ``services()``; tests replace them (including the
self-invoker) with ``configure()``.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import notify
from .incomplete import IncompleteVersionFinder
from .reconcile import (
    STATUSES,
    Cursor,
    CursorError,
    Reconciler,
    ReconcileSettings,
    SweepReport,
    is_pattern,
    parse_repository_patterns,
)

logger = Logger(service="ecr-multiarch")
metrics = Metrics(namespace="EcrMultiarch", service="ecr-multiarch")
# As in handler.py: no auto-patching (Powertools would patch requests and httplib, and X-Ray records exception text,
# which for a failed blob download holds the presigned URL); services() patches botocore only.
tracer = Tracer(service="ecr-multiarch", auto_patch=False)
copy_config_to_registered_loggers(source_logger=logger, include={"ecr_multiarch"})

# Below the ~16 invocations after which Lambda's recursive-loop detection drops a self-invoking chain.
MAX_CONTINUATIONS = 10
# Time kept back from the budget for verifying the last writes, logging and handing the cursor on. One version's
# assembly is a handful of calls; botocore's retries under throttling are what can stretch it.
SAFETY_MARGIN_SECONDS = 60.0
# ...but never more than this share of the time left, so short timeouts (tests, `ecr-multiarch invoke`) still work.
SAFETY_MARGIN_SHARE = 0.2

# (function ARN, payload) -> None: an asynchronous invocation of this same function.
Invoker = Callable[[str, dict[str, Any]], None]


@dataclass
class ReconcileServices:
    reconciler: Reconciler
    settings: ReconcileSettings
    invoke_async: Invoker
    incomplete: IncompleteVersionFinder | None = None  # None: stuck versions are not looked for
    events_client: Callable[[], Any] | None = None  # builds the EventBridge client; None: boto3's default


_services: ReconcileServices | None = None


def configure(services: ReconcileServices | None) -> None:
    """Use ``services`` for the next invocations (tests, the CLI); None goes back to the lazily built default."""
    global _services  # noqa: PLW0603 - the warm container's composition root is module state by design
    _services = services


def lambda_invoker(endpoint_url: str | None = None) -> Invoker:
    """Asynchronous self-invocation through the Lambda API; the client is created on first use only, at
    ``endpoint_url`` when set (ECR_MULTIARCH_ENDPOINT_URL)."""
    import boto3
    from botocore.config import Config

    client: Any = None

    def invoke(function_arn: str, payload: dict[str, Any]) -> None:
        nonlocal client
        if client is None:
            client = boto3.client("lambda", config=Config(retries={"mode": "standard", "max_attempts": 5}),
                                  endpoint_url=endpoint_url)
        client.invoke(FunctionName=function_arn, InvocationType="Event", Payload=json.dumps(payload).encode())

    return invoke


def services() -> ReconcileServices:
    """The composition root: the assembler's own (boto3 ECR client, requests, settings) plus the sweep's. Every
    client goes to ECR_MULTIARCH_ENDPOINT_URL when set. The registry's account is never taken from the context
    (a placeholder under `sam local`): the repositories' ARNs come with DescribeRepositories, else STS says."""
    global _services  # noqa: PLW0603
    if _services is None:
        import boto3

        from .adapters.ecr import BOTOCORE_CONFIG, EcrRegistry
        from .adapters.eventbridge import lazy_events_client
        from .adapters.http_blobs import HttpBlobReader
        from .assembler import Assembler, PlatformCache
        from .incomplete import finder_for
        from .reconcile import PLATFORM_CACHE_ENTRIES
        from .settings import Settings

        settings = Settings.from_environment(os.environ)
        tracer.patch(("botocore",))  # a no-op when tracing is disabled
        client = boto3.client("ecr", config=BOTOCORE_CONFIG, endpoint_url=settings.endpoint_url)
        registry = EcrRegistry(client, endpoint_url=settings.endpoint_url)
        # Repository tags (ecr-multiarch:*) apply to sweeps as to events: an opted-out repository is not swept.
        assembler = Assembler(registry, HttpBlobReader(), settings, PlatformCache(PLATFORM_CACHE_ENTRIES),
                              repository_tags=registry)
        _services = ReconcileServices(
            Reconciler(registry, assembler), ReconcileSettings.from_environment(os.environ),
            lambda_invoker(settings.endpoint_url),
            finder_for(client, assembler.settings_for, os.environ),
            functools.partial(lazy_events_client, settings.endpoint_url),
        )
    return _services


@dataclass(frozen=True, slots=True)
class ReconcileRequest:
    """A scheduled run (any event without a ``reconcile`` key, e.g. EventBridge's "Scheduled Event"), or a
    continuation / manual run: ``{"reconcile": {"cursor": {...}, "continuation": 1}}`` or
    ``{"reconcile": {"repositories": ["golang", "team/*"]}}``."""

    cursor: Cursor | None = None
    continuation: int = 0
    repositories: tuple[str, ...] | None = None

    @classmethod
    def from_event(cls, event: Any) -> ReconcileRequest:
        body = event.get("reconcile") if isinstance(event, Mapping) else None
        if body is None:
            return cls()
        if not isinstance(body, Mapping):
            raise CursorError("'reconcile' must be a JSON object")
        cursor = Cursor.from_json(body["cursor"]) if body.get("cursor") is not None else None
        continuation = body.get("continuation", 0)
        if not isinstance(continuation, int) or isinstance(continuation, bool) or continuation < 0:
            raise CursorError("'continuation' must be a non-negative integer")
        repositories = body.get("repositories")
        if repositories is not None:
            if not isinstance(repositories, list) or not all(isinstance(name, str) for name in repositories):
                raise CursorError("'repositories' must be a list of repository names or patterns")
            repositories = parse_repository_patterns(",".join(repositories))
        return cls(cursor, continuation, repositories)


def run(event: Any, context: LambdaContext, svc: ReconcileServices) -> dict[str, Any]:
    request = ReconcileRequest.from_event(event)
    if request.cursor is not None:
        repositories = list(request.cursor.repositories)
    else:
        patterns = request.repositories or svc.settings.repositories
        repositories = svc.reconciler.resolve_repositories(patterns)
        logger.info("sweep starting", extra={"patterns": list(patterns), "repositories": repositories,
                                              "listed_repositories": any(is_pattern(p) for p in patterns)})
    remaining = context.get_remaining_time_in_millis() / 1000
    report = svc.reconciler.sweep(
        repositories,
        cursor=request.cursor,
        time_budget=remaining,
        safety_margin=min(SAFETY_MARGIN_SECONDS, remaining * SAFETY_MARGIN_SHARE),
    )
    for entry in report.entries:
        if entry.status in ("rejected", "failed"):
            logger.warning(f"version {entry.status}", extra={"result": entry.to_json()})
    totals = report.totals()
    for status in STATUSES:
        metrics.add_metric(name=f"Reconcile{status.capitalize()}", unit=MetricUnit.Count, value=totals[status])
    metrics.add_metric(name="ReconcileWrites", unit=MetricUnit.Count, value=report.writes)
    metrics.add_metric(name="SweepVersionFailed", unit=MetricUnit.Count, value=len(report.failed))

    summary = report.to_json(with_entries=False)
    summary["continuation"] = request.continuation
    summary["incomplete"] = _report_incomplete_and_publish(report, svc)
    if report.cursor is not None:
        summary["continued"] = _hand_on(report.cursor, request, bool(report.entries), context, svc)
    logger.info("sweep summary", extra={"summary": summary})
    return summary


def _report_incomplete_and_publish(report: SweepReport, svc: ReconcileServices) -> list[dict[str, Any]]:
    """Stuck versions (metric, log line each) and the pipeline events of this invocation's writes, rejections and
    stuck versions; returns the stuck versions for the summary. Neither turns the sweep into a failure."""
    outcomes = [entry.outcome for entry in report.entries if entry.outcome is not None]
    stuck = svc.incomplete.find(outcomes) if svc.incomplete is not None else []
    metrics.add_metric(name="IncompleteVersions", unit=MetricUnit.Count, value=len(stuck))
    for version in stuck:
        logger.warning("version incomplete", extra={"incomplete": version.to_json()})
    events = [*notify.outcome_events(outcomes), *map(notify.incomplete_event, stuck)]
    unpublished = notify.notifier(svc.events_client).publish(events) if events else 0
    if unpublished:
        metrics.add_metric(name="EventsNotPublished", unit=MetricUnit.Count, value=unpublished)
    return [version.to_json() for version in stuck]


def _hand_on(cursor: Cursor, request: ReconcileRequest, progressed: bool, context: LambdaContext,
             svc: ReconcileServices) -> bool:
    if not progressed and cursor == request.cursor:
        # Not even one version fit in the time left: another invocation would do the same.
        metrics.add_metric(name="ReconcileStalled", unit=MetricUnit.Count, value=1)
        logger.error("sweep made no progress; not continuing (raise the function's timeout)",
                     extra={"cursor": cursor.to_json()})
        return False
    if request.continuation >= MAX_CONTINUATIONS:
        metrics.add_metric(name="ReconcileIncomplete", unit=MetricUnit.Count, value=1)
        logger.warning(f"sweep not finished after {MAX_CONTINUATIONS} continuations; the next scheduled run "
                       "starts over (versions done so far are cheap to pass again)",
                       extra={"cursor": cursor.to_json()})
        return False
    payload = {"reconcile": {"cursor": cursor.to_json(), "continuation": request.continuation + 1}}
    svc.invoke_async(context.invoked_function_arn, payload)
    metrics.add_metric(name="ReconcileContinued", unit=MetricUnit.Count, value=1)
    logger.info("time budget reached; sweep continues in a new invocation", extra={"cursor": cursor.to_json()})
    return True


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        return run(event, context, services())
    except CursorError as error:
        # A malformed payload is not worth Lambda's retries: say what is wrong and stop.
        metrics.add_metric(name="ReconcileBadRequest", unit=MetricUnit.Count, value=1)
        logger.error("malformed reconcile request", extra={"error": str(error)})
        return {"error": str(error)}
