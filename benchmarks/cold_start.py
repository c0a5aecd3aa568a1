"""Cold start as deployed: CPU from process start to the first outcome, against the floor measured in the same run.

Each run is a fresh python3.13 process (``-I -S``, the built function and layer, the stand-in for the runtime's boto3,
X-Ray active, LAMBDA_TASK_ROOT and the other variables Lambda sets) that reads one push event, answers it and reports
``time.process_time()`` at the moment the outcome is in hand: the interpreter's start, every import, the clients and
every call up to the first outcome. ECR is the in-memory one over HTTP on 127.0.0.1 (its CPU is this process's, not
the worker's).

The function runs as template.yaml deploys it: EVENT_BUS_NAME set (PublishEvents defaults to true; here the default
bus), so an index written is announced before the handler returns: an EventBridge client from the same botocore
session and one PutEvents, to the in-memory AWS behind the same endpoint. A rule on that bus forwards the service's
events to a queue this process reads after every run: a full assembly must have put exactly its one event there;
a `waiting` or `unchanged` answer, and the floor, none.

The floor is the least any Python function can do for the same event: import boto3, build an ECR client, make the
same ECR calls with botocore alone (and, for a full assembly, GET the configs with botocore's own urllib3, check
their sha256, render an index and write it), no logging, metrics or tracing. Floor and function alternate, one
discarded warm-up of each first; medians are compared.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.common import ARCH_SETS, judge, moto_server, seed_version
from devkit.built import (
    LAMBDA_CONTEXT_SOURCE,
    RUNTIME_STANDIN,
    BuiltArtifacts,
    bare_python_command,
    lambda_environment,
)
from ecr_multiarch.domain import media_types
from ecr_multiarch.notify import SOURCE, DetailType

if TYPE_CHECKING:
    from devkit.fake_ecr import FakeEcr

GOAL_RATIO = 1.15
BETTER_RATIO = 1.10

# The bus the function announces its indexes on. Deployed, EVENT_BUS_NAME is the EventBusName parameter (the default
# bus unless changed); botocore takes the EventBridge endpoint from AWS_ENDPOINT_URL_EVENTBRIDGE (its service id).
EVENT_BUS = "default"

_PROLOGUE = r'''
import json, sys, time

with open(sys.argv[1], encoding="utf-8") as stream:
    job = json.load(stream)
event = job["event"]


''' + LAMBDA_CONTEXT_SOURCE + r'''
'''

_EPILOGUE = r'''
cpu = time.process_time()
notable = ("requests", "aws_xray_sdk", "boto3", "s3transfer", "asyncio")
modules = sorted(name for name in sys.modules if name in notable)
with open(sys.argv[2], "w", encoding="utf-8") as stream:
    json.dump({"cpu": cpu, "outcome": outcome, "modules": modules}, stream)
'''

FUNCTION_WORKER = _PROLOGUE + r'''
from ecr_multiarch import handler

outcome = handler.lambda_handler(event, Context())["outcome"]
''' + _EPILOGUE

# The same ECR calls the function makes for these events, with botocore alone.
FLOOR_WORKER = _PROLOGUE + r'''
import boto3

ACCEPTED = job["accepted"]
client = boto3.client("ecr")
detail = event["detail"]
repository = detail["repository-name"]
version = detail["image-tag"].rsplit("-", 1)[0]
tags = [version + "-" + suffix for suffix in job["architectures"]]


def read():
    response = client.batch_get_image(repositoryName=repository, acceptedMediaTypes=ACCEPTED,
                                      imageIds=[{"imageTag": tag} for tag in [*tags, version]])
    return {image["imageId"]["imageTag"]: image for image in response["images"]}


found = read()
current = found.get(version)
if any(tag not in found for tag in tags):
    outcome = "waiting"
elif current is not None and [entry["digest"] for entry in json.loads(current["imageManifest"])["manifests"]] \
        == [found[tag]["imageId"]["imageDigest"] for tag in tags]:
    outcome = "unchanged"
else:
    import hashlib
    import urllib3

    http = urllib3.PoolManager()
    entries = []
    for tag in tags:
        image = found[tag]
        body = image["imageManifest"].encode()
        config = json.loads(body)["config"]
        url = client.get_download_url_for_layer(repositoryName=repository, layerDigest=config["digest"])
        blob = http.request("GET", url["downloadUrl"]).data
        assert "sha256:" + hashlib.sha256(blob).hexdigest() == config["digest"]
        stated = json.loads(blob)
        platform = {key: stated[key] for key in ("architecture", "os", "variant") if key in stated}
        entries.append({"mediaType": image["imageManifestMediaType"], "size": len(body),
                        "digest": image["imageId"]["imageDigest"], "platform": platform})
    index = json.dumps({"schemaVersion": 2, "mediaType": job["index_type"], "manifests": entries}, indent=3)
    digest = "sha256:" + hashlib.sha256(index.encode()).hexdigest()
    client.put_image(repositoryName=repository, imageManifest=index, imageManifestMediaType=job["index_type"],
                     imageTag=version, imageDigest=digest)
    outcome = "created" if read()[version]["imageId"]["imageDigest"] == digest else "unsettled"
''' + _EPILOGUE


@dataclass(frozen=True)
class Run:
    cpu: float
    outcome: str
    modules: tuple[str, ...]


@dataclass(frozen=True)
class Scenario:
    label: str
    expected: str
    function_events: list[dict[str, Any]]  # one per run (a full assembly needs a version of its own each time)
    floor_events: list[dict[str, Any]]


class PublishedEvents:
    """What reached the in-memory AWS's event bus from this service: a rule on the bus forwards the service's events
    to an SQS queue, read (and emptied) by ``take``. Both live in this process's moto, which the server shares."""

    NAME = "cold-start-pipeline-events"

    def __init__(self) -> None:
        import boto3

        self._sqs = boto3.client("sqs")
        self._queue = self._sqs.create_queue(QueueName=self.NAME)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self._queue, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"]
        events = boto3.client("events")
        events.put_rule(Name=self.NAME, EventBusName=EVENT_BUS, EventPattern=json.dumps({"source": [SOURCE]}))
        events.put_targets(Rule=self.NAME, EventBusName=EVENT_BUS, Targets=[{"Id": "queue", "Arn": arn}])

    def take(self) -> list[dict[str, Any]]:
        taken: list[dict[str, Any]] = []
        while messages := self._sqs.receive_message(QueueUrl=self._queue, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                taken.append(json.loads(message["Body"]))
                self._sqs.delete_message(QueueUrl=self._queue, ReceiptHandle=message["ReceiptHandle"])
        return taken


def _check_published(label: str, event: dict[str, Any], published: list[dict[str, Any]], ecr: FakeEcr, *,
                     announces: bool) -> None:
    """A full assembly announced exactly its index (the one ECR now holds); anything else announced nothing."""
    if not announces:
        if published:
            raise RuntimeError(f"{label}: published {published}, expected no event")
        return
    repository = event["detail"]["repository-name"]
    version = event["detail"]["image-tag"].rsplit("-", 1)[0]
    stored = ecr.image_at(repository, version)
    expected = {"detail-type": DetailType.PUBLISHED.value, "repository": repository, "version": version,
                "outcome": "created", "digest": stored.digest if stored else None}
    found = [{"detail-type": message["detail-type"], **{key: message["detail"].get(key) for key in
                                                        ("repository", "version", "outcome", "digest")}}
             for message in published]
    if found != [expected]:
        raise RuntimeError(f"{label}: events on the bus {found}, expected exactly [{expected}]")


def _run(python313: str, built: BuiltArtifacts, endpoint: str, script: str, job: dict[str, Any], *,
         publishes: bool) -> Run:
    with tempfile.TemporaryDirectory() as scratch:
        job_file, out = Path(scratch) / "job.json", Path(scratch) / "result.json"
        job_file.write_text(json.dumps(job), encoding="utf-8")
        command = bare_python_command(python313, built.lambda_sys_path(RUNTIME_STANDIN), script, str(job_file),
                                      str(out))
        env = {**lambda_environment(built.function_dir, tracing=True), "AWS_ENDPOINT_URL_ECR": endpoint}
        if publishes:  # the function as deployed; the floor publishes nothing and reads no such variable
            env.update({"EVENT_BUS_NAME": EVENT_BUS, "AWS_ENDPOINT_URL_EVENTBRIDGE": endpoint})
        process = subprocess.run(command, env=env, cwd=scratch,  # noqa: S603 - our own command
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=300,
                                 check=False)
        if process.returncode != 0:
            raise RuntimeError(f"cold-start worker failed:\n{process.stderr[-3000:]}")
        result = json.loads(out.read_text(encoding="utf-8"))
        return Run(float(result["cpu"]), str(result["outcome"]), tuple(result["modules"]))


def _scenarios(ecr: FakeEcr, runs: int) -> list[Scenario]:
    suffixes = ARCH_SETS[2]
    ecr.create_repository("cold-start")
    waiting = seed_version(ecr, "cold-start", "1.0", suffixes[:1])[suffixes[0]]
    # Assembled by the first (discarded) function run; every later run finds the index current.
    current = seed_version(ecr, "cold-start", "1.1", suffixes)[suffixes[-1]]
    # A version of its own per run (and per warm-up): configs new to ECR's reader, an index to write.
    full = [seed_version(ecr, "cold-start", f"2.{n}", suffixes, revision=str(n))[suffixes[-1]]
            for n in range(2 * (runs + 1))]
    return [
        Scenario("(a) waiting: one read, an arch tag missing", "waiting", [waiting] * (runs + 1),
                 [waiting] * (runs + 1)),
        Scenario("(a) unchanged: one read, the index is current", "unchanged", [current] * (runs + 1),
                 [current] * (runs + 1)),
        Scenario("(b) full assembly: read, 2 configs, write, verify", "created", full[: runs + 1],
                 full[runs + 1:]),
    ]


def _measure(python313: str, built: BuiltArtifacts, endpoint: str, ecr: FakeEcr, scenario: Scenario, *,
             bus: PublishedEvents) -> tuple[list[Run], list[Run], list[str], list[str]]:
    """Alternating function / floor runs; the first of each is a discarded warm-up. Also the ECR calls of one run
    of each, as the in-memory ECR recorded them; every measured run's pipeline events are checked."""
    base = {"architectures": list(ARCH_SETS[2]), "accepted": list(media_types.ALL_MANIFESTS),
            "index_type": media_types.DOCKER_MANIFEST_LIST}
    function_runs: list[Run] = []
    floor_runs: list[Run] = []
    calls: dict[str, list[str]] = {}
    for position, (ours, floor) in enumerate(zip(scenario.function_events, scenario.floor_events, strict=True)):
        for name, script, event, into in (("function", FUNCTION_WORKER, ours, function_runs),
                                          ("floor", FLOOR_WORKER, floor, floor_runs)):
            ecr.calls.clear()
            run = _run(python313, built, endpoint, script, {**base, "event": event}, publishes=name == "function")
            published = bus.take()
            if position == 0:
                continue  # warm-up (for `unchanged`, the function's first run writes the index)
            if run.outcome != scenario.expected:
                raise RuntimeError(f"{scenario.label}: the {name} answered {run.outcome}, not {scenario.expected}")
            calls.setdefault(name, ecr.operations())
            _check_published(f"{scenario.label}: the {name}", event, published, ecr,
                             announces=name == "function" and scenario.expected == "created")
            into.append(run)
    return function_runs, floor_runs, calls["function"], calls["floor"]


def _short(operations: Sequence[str]) -> str:
    names = {"batch_get_image": "Batch", "get_download_url_for_layer": "URL", "put_image": "Put",
             "list_tags_for_resource": "Tags", "list_images": "List"}
    return "+".join(names.get(operation, operation) for operation in operations)


def report_cold_start(ecr: FakeEcr, built: BuiltArtifacts, python313: str, runs: int) -> None:
    print(f"\n== 5. Cold start as deployed: CPU from process start to the first outcome (python3.13 -I -S, built "
          f"artefacts, X-Ray active; fresh processes, median of {runs})")
    print("  floor = import boto3 + boto3.client('ecr') + the same ECR calls with botocore alone (no logs, metrics, "
          "tracing)")
    print(f"  (b) = the function as deployed: read, 2 config URLs + GETs (requests, imported on the first download), "
          f"write, verify read, then one PutEvents to the '{EVENT_BUS}' bus (EVENT_BUS_NAME; EventBridge client from "
          "the same botocore session); the floor publishes nothing")
    print(f"  {'event':<52} {'floor':>8} {'function':>9} {'ratio':>6}  goal")
    with moto_server() as endpoint:
        details: list[str] = []
        bus = PublishedEvents()
        for scenario in _scenarios(ecr, runs):
            function_runs, floor_runs, function_calls, floor_calls = _measure(python313, built, endpoint, ecr,
                                                                              scenario, bus=bus)
            floor = statistics.median(run.cpu for run in floor_runs)
            ours = statistics.median(run.cpu for run in function_runs)
            ratio = ours / floor
            verdict = judge(f"cold start to the first outcome, {scenario.label}", f"{ratio:.2f}x",
                            ratio <= GOAL_RATIO)
            better = " (also <= 1.10x)" if ratio <= BETTER_RATIO else ""
            print(f"  {scenario.label:<52} {floor * 1000:6.1f}ms {ours * 1000:7.1f}ms {ratio:5.2f}x  "
                  f"<= {GOAL_RATIO}x {verdict}{better}")
            events = "its 1 event (PutEvents)" if scenario.expected == "created" else "no event"
            details.append(f"  {scenario.expected:<9} ECR calls: function {_short(function_calls)}, floor "
                           f"{_short(floor_calls)}; on the bus, every run: {events}; imported before the outcome: "
                           f"{', '.join(function_runs[0].modules) or 'none of requests, boto3, asyncio, aws_xray_sdk'}")
    print("\n".join(details))
