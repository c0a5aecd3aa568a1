"""The built function, as deployed with X-Ray active, through one full assembly against the in-memory ECR over HTTP:
every ECR call it makes reaches the X-Ray daemon as a subsegment, and no presigned URL reaches X-Ray at all.

Skipped like the other packaging tests when there is no build (`make build-smoke` builds one).
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.built import (
    LAMBDA_CONTEXT_SOURCE,
    BuiltArtifacts,
    bare_python_command,
    lambda_environment,
)
from devkit.fake_ecr import FakeEcr
from devkit.images import make_image

OPERATIONS = {"batch_get_image": "BatchGetImage", "get_download_url_for_layer": "GetDownloadUrlForLayer",
              "put_image": "PutImage", "list_tags_for_resource": "ListTagsForResource", "list_images": "ListImages"}

RUN_ONE_EVENT = r'''
import json, sys

''' + LAMBDA_CONTEXT_SOURCE + r'''
from ecr_multiarch import handler

with open(sys.argv[1], encoding="utf-8") as stream:
    event = json.load(stream)
print(json.dumps(handler.lambda_handler(event, Context())), file=sys.stderr)
'''


class XrayDaemon:
    """A UDP socket on 127.0.0.1 standing in for the X-Ray daemon: keeps every document sent to it."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.address = f"127.0.0.1:{self._socket.getsockname()[1]}"
        self.documents: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                self.documents.append(self._socket.recv(65535).decode("utf-8"))
            except TimeoutError:
                continue

    def close(self) -> None:
        if self._stop.is_set():
            return
        time.sleep(0.3)  # the last datagrams are in flight when the worker exits
        self._stop.set()
        self._thread.join()
        self._socket.close()

    def entities(self) -> list[dict[str, Any]]:
        """Every segment and subsegment received, nested ones included (a document is a header line, then JSON)."""
        found: list[dict[str, Any]] = []

        def walk(entity: dict[str, Any]) -> None:
            found.append(entity)
            for child in entity.get("subsegments", []):
                walk(child)

        for document in self.documents:
            walk(json.loads(document.split("\n", 1)[1]))
        return found


@pytest.fixture
def daemon() -> Iterator[XrayDaemon]:
    listening = XrayDaemon()
    yield listening
    listening.close()


def test_every_ecr_call_of_a_full_assembly_is_a_subsegment_and_no_url_reaches_xray(
    built: BuiltArtifacts, python313: str, runtime: Path, daemon: XrayDaemon, tmp_path: Path
) -> None:
    with FakeEcr(server=True) as ecr:
        ecr.create_repository("golang")
        ecr.push("golang", "1.0-amd64", make_image("amd64"))
        arm64 = make_image("arm64", variant="v8")
        digest = ecr.push("golang", "1.0-arm64", arm64)
        ecr.calls.clear()
        event: dict[str, Any] = json.loads((Path(__file__).resolve().parents[2] / "events" / "push-arm64.json")
                                           .read_text(encoding="utf-8"))
        event["detail"].update({"repository-name": "golang", "image-tag": "1.0-arm64", "image-digest": digest,
                                "manifest-media-type": arm64.media_type})
        event_file = tmp_path / "event.json"
        event_file.write_text(json.dumps(event), encoding="utf-8")
        command = bare_python_command(python313, built.lambda_sys_path(runtime), RUN_ONE_EVENT,
                                      str(event_file))
        assert ecr.endpoint_url is not None
        env = {**lambda_environment(built.function_dir, tracing=True), "AWS_ENDPOINT_URL_ECR": ecr.endpoint_url,
               "AWS_XRAY_DAEMON_ADDRESS": daemon.address}
        run = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                             check=False)
        assert run.returncode == 0, run.stderr[-3000:]
        outcome = json.loads(run.stderr.strip().splitlines()[-1])
        made = Counter(OPERATIONS[operation] for operation in ecr.operations())
        blob_port = ecr.blob_server.base_url.rsplit(":", 1)[1]
    daemon.close()
    assert outcome["outcome"] == "created"
    entities = daemon.entities()
    traced = Counter(entity["aws"]["operation"] for entity in entities
                     if entity.get("namespace") == "aws" and entity.get("name") == "api.ecr")
    assert made["PutImage"] == 1 and made["GetDownloadUrlForLayer"] == 2
    assert traced == made, "every ECR call, and only those, is an X-Ray subsegment"
    assert any(entity.get("name") == "## lambda_handler" for entity in entities)
    everything = "\n".join(daemon.documents)
    assert "X-Amz-Signature" not in everything and f":{blob_port}/" not in everything, "a presigned URL in X-Ray"
