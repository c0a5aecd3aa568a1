"""The Lambda entry point: parse the event, call the assembler, log and count the outcome. Nothing else.

Clients are built lazily, once per warm container, in ``services()``; tests and the demo replace them with
``configure()``. Transient errors propagate (Lambda retries the event, then sends it to the dead-letter target);
permanent ones come back as a ``rejected`` outcome from the assembler.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import notify
from .assembler import Assembler
from .aws_context import account_of
from .domain.events import Skip, classify_event
from .errors import TransientError
from .outcome import Outcome, OutcomeKind
from .settings import Settings

logger = Logger(service="ecr-multiarch")
metrics = Metrics(namespace="EcrMultiarch", service="ecr-multiarch")
# Patching is deferred to services(): patching at import pulls botocore in before the first event (1.5x a bare
# boto3 import with X-Ray active, per make bench). Only botocore is traced: a traced requests call would put the
# blob download (a presigned URL) into X-Ray.
tracer = Tracer(service="ecr-multiarch", auto_patch=False)
# The service's own module loggers (assembler, adapters) write through the same structured JSON formatter.
copy_config_to_registered_loggers(source_logger=logger, include={"ecr_multiarch"})

_assembler: Assembler | None = None


def configure(assembler: Assembler | None) -> None:
    """Use ``assembler`` for the next invocations (tests, the demo); None goes back to the lazily built default."""
    global _assembler  # noqa: PLW0603 - the warm container's composition root is module state by design
    _assembler = assembler


def services(account_id: str | None = None) -> Assembler:
    """The composition root: boto3 ECR client, requests session, settings — built on first use, then reused."""
    global _assembler  # noqa: PLW0603
    if _assembler is None:
        import boto3

        from .adapters.ecr import BOTOCORE_CONFIG, EcrRegistry
        from .adapters.http_blobs import HttpBlobReader

        settings = Settings.from_environment(os.environ)
        tracer.patch(("botocore",))  # a no-op when tracing is disabled
        registry = EcrRegistry(boto3.client("ecr", config=BOTOCORE_CONFIG), account_id=account_id)
        _assembler = Assembler(registry, HttpBlobReader(), settings, repository_tags=registry)
    return _assembler


def handle(event: Any, assembler: Assembler) -> Outcome:
    # Every known suffix, so a tag splits at its longest one (`1.0-windows-amd64` is never amd64 of `1.0-windows`).
    classified = classify_event(event, assembler.settings.suffixes)
    if isinstance(classified, Skip):
        return Outcome(OutcomeKind.SKIPPED, classified.repository, reason=classified.reason)
    logger.append_keys(
        repository=classified.repository,
        tag=classified.arch_tag.tag,
        pushed_digest=str(classified.digest),
        event_id=event.get("id"),  # optional: a missing id must not turn a good push into a crash
    )
    return assembler.assemble(classified.repository, classified.version, pushed_suffix=classified.arch_tag.suffix)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        outcome = handle(event, services(account_of(context)))
    except TransientError as error:
        # Lambda retries the event; after the last retry it goes to the dead-letter destination.
        metrics.add_metric(name="TransientError", unit=MetricUnit.Count, value=1)
        logger.warning("transient failure; the event will be retried", extra={"error": str(error),
                                                                             "error_type": type(error).__name__})
        raise
    except Exception as error:
        # A bug, not a registry condition: count it, log its type (not its text, which nobody vetted), re-raise.
        metrics.add_metric(name="UnexpectedError", unit=MetricUnit.Count, value=1)
        logger.error("unexpected failure; the event will be retried", extra={"error_type": type(error).__name__})
        raise
    metrics.add_metric(name=outcome.kind.value.capitalize(), unit=MetricUnit.Count, value=1)
    # Created/updated/rejected: one event for pipelines. Never raises; what failed is logged and counted here.
    if unpublished := notify.publish_outcomes([outcome]):
        metrics.add_metric(name="EventsNotPublished", unit=MetricUnit.Count, value=unpublished)
    result = outcome.to_json()
    log_extra: dict[str, Any] = {"result": result}
    if outcome.index is not None and outcome.kind is not OutcomeKind.UNCHANGED:
        log_extra["index"] = outcome.index.to_json()
    logger.info(f"outcome: {outcome.kind.value}", extra=log_extra)
    return result
