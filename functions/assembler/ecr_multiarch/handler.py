"""The Lambda entry point: parse the event, call the assembler, log and count the outcome. Nothing else.

Clients are built lazily, once per warm container, in ``services()``; tests and the demo replace them with
``configure()``. Transient errors propagate (Lambda retries the event, then sends it to the dead-letter target);
permanent ones come back as a ``rejected`` outcome from the assembler.

A cold start pays only for what the event needs (docs/performance.md, `make bench`): a skipped event builds no
client; the ECR client comes from botocore's own session (boto3 would add its import, s3transfer's included, and
nothing this function uses); the blob reader is imported and built on the first config download, which a `waiting`
or `unchanged` answer never makes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import notify
from .domain.events import Skip, classify_event
from .errors import TransientError
from .outcome import Outcome, OutcomeKind
from .settings import Settings

if TYPE_CHECKING:
    from .assembler import Assembler
    from .domain.digest import Digest
    from .ports import BlobReader

logger = Logger(service="ecr-multiarch")
metrics = Metrics(namespace="EcrMultiarch", service="ecr-multiarch")
# Patching is deferred to services(): a skipped event needs no botocore. Only botocore is traced: a traced HTTP call
# would put the blob download (a presigned URL) into X-Ray.
tracer = Tracer(service="ecr-multiarch", auto_patch=False)
# The service's own module loggers (assembler, adapters) write through the same structured JSON formatter.
copy_config_to_registered_loggers(source_logger=logger, include={"ecr_multiarch"})

_assembler: Assembler | None = None
_settings: Settings | None = None
_session: Any = None  # botocore.session.Session, built with the first client


def configure(assembler: Assembler | None, *, session: Any = None) -> None:
    """Use ``assembler`` for the next invocations (tests, the demo); None goes back to the lazily built default
    (settings read from the environment again, clients built again). ``session``: the botocore session those
    clients come from (`ecr-multiarch invoke` passes its profile's, which tells refused credentials apart);
    None: a new default one, as in Lambda."""
    # The warm container's composition root is module state by design.
    global _assembler, _settings, _session
    _assembler, _settings, _session = assembler, None, session


def current_settings() -> Settings:
    """The configured assembler's settings, else the environment's, read once: all a skipped event needs."""
    global _settings  # noqa: PLW0603
    if _assembler is not None:
        return _assembler.settings
    if _settings is None:
        _settings = Settings.from_environment(os.environ)
    return _settings


def aws_client(service: str, config: Any = None) -> Any:
    """A botocore client (ECR's retry and timeout policy unless ``config``), from the one session this container
    keeps (the session caches the service models; a second client costs a fraction of the first), at
    ECR_MULTIARCH_ENDPOINT_URL when set."""
    global _session  # noqa: PLW0603
    from .adapters.ecr import BOTOCORE_CONFIG

    if _session is None:
        import botocore.session

        _session = botocore.session.get_session()
    return _session.create_client(service, config=config or BOTOCORE_CONFIG,
                                  endpoint_url=current_settings().endpoint_url)


def events_client() -> Any:
    """The EventBridge client for pipeline events, from the same session (no boto3 import on a cold start)."""
    from .adapters.eventbridge import events_client_config

    return aws_client("events", events_client_config())


def services() -> Assembler:
    """The composition root: ECR client, blob reader, settings — built on first use, then reused. The registry's
    account comes with each event (``answer``), never from the context: under the Runtime Interface Emulator
    (`sam local`) the context's function ARN carries a placeholder account."""
    global _assembler  # noqa: PLW0603
    if _assembler is None:
        from .adapters.ecr import EcrRegistry
        from .assembler import Assembler

        tracer.patch(("botocore",))  # a no-op when tracing is disabled; before the client, so its calls are traced
        registry = EcrRegistry(aws_client("ecr"), endpoint_url=current_settings().endpoint_url)
        _assembler = Assembler(registry, BlobReaderOnFirstUse(), current_settings(), repository_tags=registry)
    return _assembler


class BlobReaderOnFirstUse:
    """The HTTP blob reader, imported and built on the first config download (from any download thread)."""

    def __init__(self, build: Callable[[], BlobReader] | None = None) -> None:
        self._build = build or _http_blob_reader
        self._reader: BlobReader | None = None
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        return self._reader is not None

    def read(self, url: str, digest: Digest, size: int) -> bytes:
        reader = self._reader
        if reader is None:
            with self._lock:
                if self._reader is None:
                    self._reader = self._build()
                reader = self._reader
        return reader.read(url, digest, size)


def _http_blob_reader() -> BlobReader:
    from .adapters.http_blobs import HttpBlobReader

    return HttpBlobReader()


def handle(event: Any, assembler: Assembler) -> Outcome:
    return answer(event, assembler.settings, lambda: assembler)


def answer(event: Any, settings: Settings, assembler: Callable[[], Assembler]) -> Outcome:
    """The outcome for ``event``; ``assembler`` is asked for only when the event is ours (a skip builds nothing)."""
    # Every known suffix, so a tag splits at its longest one (`1.0-windows-amd64` is never amd64 of `1.0-windows`).
    classified = classify_event(event, settings.suffixes)
    if isinstance(classified, Skip):
        return Outcome(OutcomeKind.SKIPPED, classified.repository, reason=classified.reason)
    logger.append_keys(
        repository=classified.repository,
        tag=classified.arch_tag.tag,
        pushed_digest=str(classified.digest),
        event_id=event.get("id"),  # optional: a missing id must not turn a good push into a crash
    )
    return assembler().assemble(classified.repository, classified.version, pushed_suffix=classified.arch_tag.suffix,
                                pushed_digest=classified.digest, registry_account=classified.account)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        outcome = answer(event, current_settings(), services)
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
    if unpublished := notify.publish_outcomes([outcome], events_client):
        metrics.add_metric(name="EventsNotPublished", unit=MetricUnit.Count, value=unpublished)
    result = outcome.to_json()
    log_extra: dict[str, Any] = {"result": result}
    if outcome.index is not None and outcome.kind is not OutcomeKind.UNCHANGED:
        log_extra["index"] = outcome.index.to_json()
    logger.info(f"outcome: {outcome.kind.value}", extra=log_extra)
    return result
