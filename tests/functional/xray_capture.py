"""Runs one handler with X-Ray tracing on, as in Lambda, and prints every segment document it emits (JSON lines).

Run in a subprocess of its own (``python -m tests.functional.xray_capture assembler|reconcile``): Powertools' Tracer
keeps its configuration, and the X-Ray SDK its patches, for the life of the process. No daemon: the recorder's
emitter is replaced by one that keeps the serialized documents it would have sent over UDP.

The scenario: a complete version (1.0-amd64, 1.0-arm64) whose config blobs cannot be downloaded, because the blob
server is stopped, so every download is a connection error to a presigned 127.0.0.1 URL with a query string.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[2] / "events"

# What Lambda sets: the X-Ray SDK then uses its Lambda context (a facade segment from the trace header), and
# Powertools turns tracing on. Set before anything imports either.
LAMBDA_ENVIRONMENT = {
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_LAMBDA_FUNCTION_NAME": "ecr-multiarch-function",
    "POWERTOOLS_TRACE_DISABLED": "false",
    "POWERTOOLS_SERVICE_NAME": "ecr-multiarch",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    "RECONCILE_REPOSITORIES": "golang",
}


class CapturingEmitter:
    """Stands in for the SDK's UDPEmitter: keeps what would have been sent to the daemon."""

    def __init__(self) -> None:
        self.documents: list[str] = []

    def send_entity(self, entity: Any) -> None:
        self.documents.append(entity.serialize())

    def set_daemon_address(self, address: str | None) -> None:
        pass


def run(function: str) -> list[str]:
    os.environ.update(LAMBDA_ENVIRONMENT)
    os.environ.pop("AWS_XRAY_SDK_ENABLED", None)
    from aws_xray_sdk.core import xray_recorder

    emitter = CapturingEmitter()
    xray_recorder.configure(emitter=emitter)

    from devkit.fake_ecr import FakeEcr
    from devkit.images import make_image
    from devkit.lambda_context import FakeLambdaContext  # (not tests.conftest: it turns tracing off)

    with FakeEcr() as ecr:
        ecr.create_repository("golang")
        ecr.push("golang", "1.0-amd64", make_image("amd64"))
        digest = ecr.push("golang", "1.0-arm64", make_image("arm64", variant="v8"))
        ecr.blob_server.stop()  # every download now fails to connect, with the presigned URL in the error
        if function == "assembler":
            from ecr_multiarch import handler

            event = json.loads((EVENTS / "push-arm64.json").read_text(encoding="utf-8"))
            event["detail"].update({"image-tag": "1.0-arm64", "image-digest": digest})
            try:
                handler.lambda_handler(event, FakeLambdaContext())  # type: ignore[arg-type]
            except Exception as error:  # the failed download is transient: the handler raises, Lambda retries
                print(f"handler raised {type(error).__name__}", file=sys.stderr)
        else:
            from ecr_multiarch import reconcile_handler

            reconcile_handler.lambda_handler({}, FakeLambdaContext())  # type: ignore[arg-type]
    xray_recorder.end_segment()  # a no-op for Lambda's facade segment; flushes anything still open
    return emitter.documents


if __name__ == "__main__":
    documents = run(sys.argv[1])
    with open(sys.argv[2], "w", encoding="utf-8") as output:  # not stdout: the handlers log there
        json.dump(documents, output)
