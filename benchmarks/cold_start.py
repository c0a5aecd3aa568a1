"""Cold start as deployed: CPU from process start to the first outcome, against the floor measured in the same run.

Each run is a fresh python3.13 process (``-I -S``, the built function and layer, the stand-in for the runtime's boto3,
X-Ray active, LAMBDA_TASK_ROOT and the other variables Lambda sets) that reads one push event, answers it and reports
``time.process_time()`` at the moment the outcome is in hand: the interpreter's start, every import, the clients and
every call up to the first outcome. ECR is the in-memory one over HTTP on 127.0.0.1 (its CPU is this process's, not
the worker's).

The function runs as template.yaml deploys it: EVENT_BUS_NAME set (PublishEvents defaults to true; here the default
bus), so an index written is announced before the handler returns: an EventBridge client from the same botocore
session and one PutEvents, to the in-memory AWS behind the same endpoint. A rule on that bus forwards the service's
events to a queue this process reads after every run: a full assembly (the function, and the same-work floor below)
must have put exactly its one event there; a `waiting` or `unchanged` answer, and the boto3 floor, none.

Each figure has a floor: a minimal program run the same way (same interpreter, fresh process, same environment,
same worker prologue), with no Powertools, no X-Ray SDK and none of the function's code; its goal is a ratio to it.

* (b), a full assembly, against the same-work floor (``SAME_WORK_FLOOR``): the external work the function's cold start
  does for that event and nothing else. A botocore session (no boto3 import, as the function) with the function's
  client settings (the retry mode and timeouts are how the calls are made); ListTagsForResource on the repository's
  ARN, BatchGetImage of the arch tags and the version tag; per child, GetDownloadUrlForLayer and a GET of the config
  with requests (a Session with the function's retries and timeouts); the index rendered with json and digested;
  PutImage; the verify BatchGetImage; then the one PutEvents to EVENT_BUS_NAME with the same detail, from an
  EventBridge client of the same session. One after another, in one thread (the function overlaps them: its threads
  count against it). The floor is its own code, constants included (the media types, the event's source and detail
  type); the registry's account comes from the job (the account the in-memory ECR keeps the repository in), not from
  the event or the Lambda context. Every measured run is checked to have made exactly the function's calls: the ECR
  calls with their parameters as the in-memory ECR recorded them (the version, digests and sizes aside), the same
  number of config GETs, and the same event on the bus.
* (a), one read, against the botocore-only floor it has always had (``BOTO3_FLOOR``): import boto3,
  ``boto3.client('ecr')``, the BatchGetImage, nothing more (so not the policy read the function makes beside it).

Floor and function alternate, one discarded warm-up of each first; medians are compared.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
from ecr_multiarch.notify import SOURCE, DetailType

if TYPE_CHECKING:
    from devkit.fake_ecr import FakeEcr

GOAL_RATIO = 1.15
BETTER_RATIO = 1.10

# The bus the function announces its indexes on. Deployed, EVENT_BUS_NAME is the EventBusName parameter (the default
# bus unless changed); botocore takes the EventBridge endpoint from AWS_ENDPOINT_URL_EVENTBRIDGE (its service id).
EVENT_BUS = "default"

# The floors' own constants (the function's are never imported for them): what ECR and the README say.
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ALL_MANIFEST_TYPES = (DOCKER_MANIFEST, OCI_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX)

_PROLOGUE = r"""
import json, sys, time

with open(sys.argv[1], encoding="utf-8") as stream:
    job = json.load(stream)
event = job["event"]


""" + LAMBDA_CONTEXT_SOURCE + r"""
"""

_EPILOGUE = r"""
cpu = time.process_time()
notable = ("requests", "aws_xray_sdk", "boto3", "s3transfer", "asyncio", "aws_lambda_powertools")
modules = sorted(name for name in sys.modules if name in notable)
with open(sys.argv[2], "w", encoding="utf-8") as stream:
    json.dump({"cpu": cpu, "outcome": outcome, "modules": modules}, stream)
"""

FUNCTION_WORKER = _PROLOGUE + r"""
from ecr_multiarch import handler

outcome = handler.lambda_handler(event, Context())["outcome"]
""" + _EPILOGUE

# (a)'s floor: boto3, an ECR client and the one BatchGetImage (the policy read left out). Its full-assembly branch
# is kept for comparison runs only; no goal is judged against it any more.
BOTO3_FLOOR_WORKER = _PROLOGUE + r"""
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
""" + _EPILOGUE

# (b)'s floor: exactly the function's external work for the event, in order, with nothing else (module docstring).
# The client settings are the function's (adapters/ecr.BOTOCORE_CONFIG, adapters/eventbridge.events_client_config,
# adapters/http_blobs.default_session), written out here.
SAME_WORK_FLOOR_WORKER = _PROLOGUE + r"""
import os

import botocore.session
from botocore.config import Config

DOCKER_MANIFEST, DOCKER_LIST, OCI_INDEX = job["docker_manifest"], job["docker_list"], job["oci_index"]
detail = event["detail"]
repository = detail["repository-name"]
version = detail["image-tag"].rsplit("-", 1)[0]
tags = [version + "-" + suffix for suffix in job["architectures"]]

session = botocore.session.get_session()
ecr = session.create_client("ecr", config=Config(retries={"mode": "adaptive", "max_attempts": 6},
                                                 connect_timeout=5, read_timeout=15))
ecr.list_tags_for_resource(resourceArn=f"arn:{ecr.meta.partition}:ecr:{ecr.meta.region_name}:{job['account']}:"
                                       f"repository/{repository}")


def read(wanted):
    response = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": tag} for tag in wanted],
                                   acceptedMediaTypes=job["accepted"])
    return {image["imageId"]["imageTag"]: image for image in response["images"]}


found = read([*tags, version])
current = found.get(version)
if any(tag not in found for tag in tags):
    outcome = "waiting"
elif current is not None and [entry["digest"] for entry in json.loads(current["imageManifest"])["manifests"]] \
        == [found[tag]["imageId"]["imageDigest"] for tag in tags]:
    outcome = "unchanged"
else:
    import hashlib

    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    http = requests.Session()
    adapter = HTTPAdapter(pool_maxsize=16, max_retries=Retry(
        total=3, connect=3, read=2, status=3, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}), raise_on_status=False))
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    entries, platforms = [], []
    for tag in tags:
        image = found[tag]
        body = image["imageManifest"].encode()
        config = json.loads(body)["config"]
        url = ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=config["digest"])["downloadUrl"]
        response = http.get(url, timeout=(3.05, 10.0))
        blob = response.content
        assert response.status_code == 200 and len(blob) == config["size"]
        assert "sha256:" + hashlib.sha256(blob).hexdigest() == config["digest"]
        stated = json.loads(blob)
        platform = {key: stated[key] for key in ("architecture", "os", "os.version", "os.features", "variant")
                    if stated.get(key)}
        entries.append({"mediaType": image["imageManifestMediaType"], "size": len(body),
                        "digest": image["imageId"]["imageDigest"], "platform": platform})
        platforms.append({key: platform[key] for key in ("os", "architecture", "variant") if key in platform})
    index_type = DOCKER_LIST if all(entry["mediaType"] == DOCKER_MANIFEST for entry in entries) else OCI_INDEX
    index = json.dumps({"schemaVersion": 2, "mediaType": index_type, "manifests": entries}, separators=(",", ":"))
    digest = "sha256:" + hashlib.sha256(index.encode()).hexdigest()
    ecr.put_image(repositoryName=repository, imageManifest=index, imageManifestMediaType=index_type,
                  imageTag=version, imageDigest=digest)
    again = read([*tags, version])  # the verify read: the version tag, and the children it must now point to
    held = again.get(version)
    outcome = ("updated" if current else "created") if held and held["imageId"]["imageDigest"] == digest \
        and all(again[tag]["imageId"]["imageDigest"] == found[tag]["imageId"]["imageDigest"] for tag in tags) \
        else "unsettled"
    events = session.create_client("events", config=Config(retries={"mode": "standard", "max_attempts": 3},
                                                           connect_timeout=2, read_timeout=5))
    announced = {"repository": repository, "version": version, "outcome": outcome, "digest": digest,
                 "mediaType": index_type, "platforms": platforms}
    events.put_events(Entries=[{"Source": job["source"], "DetailType": job["published"],
                                "Detail": json.dumps(announced), "EventBusName": os.environ["EVENT_BUS_NAME"]}])
""" + _EPILOGUE


@dataclass(frozen=True)
class Floor:
    name: str
    script: str
    same_work: bool  # held to the function's calls, GETs and events, run by run


BOTO3_FLOOR = Floor("boto3 floor", BOTO3_FLOOR_WORKER, same_work=False)
SAME_WORK_FLOOR = Floor("same-work floor", SAME_WORK_FLOOR_WORKER, same_work=True)


@dataclass(frozen=True)
class Run:
    cpu: float
    outcome: str
    modules: tuple[str, ...]


@dataclass(frozen=True)
class Work:
    """What one run did outside its process, as the in-memory AWS saw it, with what differs from run to run (the
    version, digests, sizes) taken out: the ECR calls with their parameters (sorted: the function overlaps some),
    the number of config GETs, the events on the bus."""

    calls: tuple[str, ...]
    gets: int
    events: tuple[str, ...]


_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_SIZE = re.compile(r'"size":\s*\d+')


def shape(value: Any, version: str) -> Any:
    """``value`` with the run's own values replaced: the version (alone or as an arch tag's prefix), every sha256
    digest, every ``"size": n`` inside a JSON document."""
    if isinstance(value, Mapping):
        return {key: shape(item, version) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [shape(item, version) for item in value]
    if isinstance(value, str):
        if value == version:
            return "<version>"
        if value.startswith(version + "-"):
            return "<version>" + value[len(version):]
        return _SIZE.sub('"size":<n>', _DIGEST.sub("sha256:<digest>", value))
    return value


def work_of(calls: Sequence[tuple[str, Mapping[str, Any]]], gets: int, events: Sequence[Mapping[str, Any]],
            version: str) -> Work:
    def text(value: Any) -> str:
        return json.dumps(shape(value, version), sort_keys=True)

    return Work(tuple(sorted(text({"operation": operation, "params": params}) for operation, params in calls)), gets,
                tuple(sorted(text({"detail-type": event["detail-type"], "detail": event["detail"]})
                             for event in events)))


def differences(expected: Work, found: Work) -> list[str]:
    """What ``found`` did that ``expected`` did not, and the reverse, line by line; empty when the work is the same."""
    lines: list[str] = []
    for label, ours, theirs in (("ECR call", expected.calls, found.calls), ("event", expected.events, found.events)):
        missing, extra = list(ours), []
        for item in theirs:
            if item in missing:
                missing.remove(item)
            else:
                extra.append(item)
        lines += [f"{label} not made: {item}" for item in missing] + [f"{label} not the function's: {item}"
                                                                      for item in extra]
    if expected.gets != found.gets:
        lines.append(f"config GETs: {found.gets}, the function made {expected.gets}")
    return lines


@dataclass(frozen=True)
class Scenario:
    label: str
    expected: str
    function_events: list[dict[str, Any]]  # one per run (a full assembly needs a version of its own each time)
    floor_events: list[dict[str, Any]]
    floor: Floor
    goal: bool = True  # False: shown for comparison, no verdict
    operations: dict[str, list[str]] = field(default_factory=dict)  # filled by _measure: one run's ECR calls each


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


def _run(python313: str, built: BuiltArtifacts, endpoint: str, script: str, job: dict[str, Any]) -> Run:
    """One fresh process. Function and floors get the same environment: the function's as deployed (Lambda's
    variables, X-Ray active, EVENT_BUS_NAME as template.yaml sets it) with ECR and EventBridge on the in-memory AWS."""
    with tempfile.TemporaryDirectory() as scratch:
        job_file, out = Path(scratch) / "job.json", Path(scratch) / "result.json"
        job_file.write_text(json.dumps(job), encoding="utf-8")
        command = bare_python_command(python313, built.lambda_sys_path(RUNTIME_STANDIN), script, str(job_file),
                                      str(out))
        env = {**lambda_environment(built.function_dir, tracing=True), "AWS_ENDPOINT_URL_ECR": endpoint,
               "EVENT_BUS_NAME": EVENT_BUS, "AWS_ENDPOINT_URL_EVENTBRIDGE": endpoint}
        process = subprocess.run(command, env=env, cwd=scratch,  # noqa: S603 - our own command
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=300,
                                 check=False)
        if process.returncode != 0:
            raise RuntimeError(f"cold-start worker failed:\n{process.stderr[-3000:]}")
        result = json.loads(out.read_text(encoding="utf-8"))
        return Run(float(result["cpu"]), str(result["outcome"]), tuple(result["modules"]))


def _scenarios(ecr: FakeEcr, runs: int, *, compare: bool) -> list[Scenario]:
    """(a) and (b) with their goals; with ``compare``, also (a) against the same-work floor and (b) against the
    boto3 floor, shown without a verdict."""
    suffixes = ARCH_SETS[2]
    ecr.create_repository("cold-start")
    waiting = seed_version(ecr, "cold-start", "1.0", suffixes[:1])[suffixes[0]]
    # Assembled by the first (discarded) function run; every later run finds the index current.
    current = seed_version(ecr, "cold-start", "1.1", suffixes)[suffixes[-1]]
    versions = 0

    def full(count: int) -> list[dict[str, Any]]:
        """A version of its own per run (and per warm-up): configs new to the reader, an index to write."""
        nonlocal versions
        events = [seed_version(ecr, "cold-start", f"2.{n}", suffixes, revision=str(n))[suffixes[-1]]
                  for n in range(versions, versions + count)]
        versions += count
        return events

    each = runs + 1
    scenarios = [
        Scenario("(a) waiting: one read, an arch tag missing", "waiting", [waiting] * each, [waiting] * each,
                 BOTO3_FLOOR),
        Scenario("(a) unchanged: one read, the index is current", "unchanged", [current] * each, [current] * each,
                 BOTO3_FLOOR),
        Scenario("(b) full assembly: read, 2 configs, write, verify, announce", "created", full(each), full(each),
                 SAME_WORK_FLOOR),
    ]
    if compare:
        scenarios += [
            Scenario("(a) waiting, same-work floor", "waiting", [waiting] * each, [waiting] * each, SAME_WORK_FLOOR,
                     goal=False),
            Scenario("(a) unchanged, same-work floor", "unchanged", [current] * each, [current] * each,
                     SAME_WORK_FLOOR, goal=False),
            Scenario("(b) full assembly, boto3 floor (before #17)", "created", full(each), full(each), BOTO3_FLOOR,
                     goal=False),
        ]
    return scenarios


def floor_job() -> dict[str, Any]:
    """What the floors are told besides the event: the architectures, the registry's account (where the in-memory
    ECR keeps the repository), and their own constants."""
    from devkit.fake_ecr import ACCOUNT

    return {"architectures": list(ARCH_SETS[2]), "account": ACCOUNT, "accepted": list(ALL_MANIFEST_TYPES),
            "index_type": DOCKER_MANIFEST_LIST, "docker_manifest": DOCKER_MANIFEST, "docker_list": DOCKER_MANIFEST_LIST,
            "oci_index": OCI_INDEX, "source": "ecr-multiarch", "published": "Multi-Arch Index Published"}


def _version(event: Mapping[str, Any]) -> str:
    return str(event["detail"]["image-tag"]).rsplit("-", 1)[0]


def _measure(python313: str, built: BuiltArtifacts, endpoint: str, ecr: FakeEcr, scenario: Scenario, *,
             bus: PublishedEvents) -> tuple[list[Run], list[Run]]:
    """Alternating function / floor runs; the first of each is a discarded warm-up. Every measured run's work (ECR
    calls, config GETs, events on the bus) is checked: the function's is the same every run, and a same-work
    floor's is the function's."""
    function_runs: list[Run] = []
    floor_runs: list[Run] = []
    reference: Work | None = None
    for position, (ours, floor) in enumerate(zip(scenario.function_events, scenario.floor_events, strict=True)):
        for name, script, event, into in (("function", FUNCTION_WORKER, ours, function_runs),
                                          (scenario.floor.name, scenario.floor.script, floor, floor_runs)):
            ecr.calls.clear()
            ecr.blob_server.requests.clear()
            run = _run(python313, built, endpoint, script, {**floor_job(), "event": event})
            published = bus.take()
            if position == 0:
                continue  # warm-up (for `unchanged`, the function's first run writes the index)
            if run.outcome != scenario.expected:
                raise RuntimeError(f"{scenario.label}: the {name} answered {run.outcome}, not {scenario.expected}")
            announces = scenario.expected == "created" and (name == "function" or scenario.floor.same_work)
            _check_published(f"{scenario.label}: the {name}", event, published, ecr, announces=announces)
            scenario.operations.setdefault(name, ecr.operations())
            work = work_of([(call.operation, call.params) for call in ecr.calls], len(ecr.blob_server.requests),
                           published, _version(event))
            if reference is None:
                reference = work  # the function's first measured run
            elif (name == "function" or scenario.floor.same_work) and (wrong := differences(reference, work)):
                raise RuntimeError(f"{scenario.label}: the {name} did not do the function's work:\n  "
                                   + "\n  ".join(wrong))
            into.append(run)
    return function_runs, floor_runs


def _short(operations: Sequence[str]) -> str:
    names = {"batch_get_image": "Batch", "get_download_url_for_layer": "URL", "put_image": "Put",
             "list_tags_for_resource": "Tags", "list_images": "List"}
    return "+".join(names.get(operation, operation) for operation in operations)


@dataclass(frozen=True)
class Figure:
    floor: float
    function: float

    @property
    def ratio(self) -> float:
        return self.function / self.floor

    @property
    def goal(self) -> float:
        """The most the function may take: GOAL_RATIO times the floor."""
        return GOAL_RATIO * self.floor

    @property
    def better(self) -> float:
        return BETTER_RATIO * self.floor


def figure(function_runs: Sequence[Run], floor_runs: Sequence[Run]) -> Figure:
    return Figure(floor=statistics.median(run.cpu for run in floor_runs),
                  function=statistics.median(run.cpu for run in function_runs))


def verdict_text(result: Figure) -> tuple[bool, str]:
    """PASS / MISS against GOAL_RATIO, and whether it also meets BETTER_RATIO."""
    passed = result.ratio <= GOAL_RATIO
    better = "meets 1.10x" if result.ratio <= BETTER_RATIO else "not 1.10x"
    return passed, better


def report_cold_start(ecr: FakeEcr, built: BuiltArtifacts, python313: str, runs: int, *, compare: bool = False) -> None:
    print(f"\n== 5. Cold start as deployed: CPU from process start to the first outcome (python3.13 -I -S, built "
          f"artefacts, X-Ray active, Lambda's variables, EVENT_BUS_NAME={EVENT_BUS}; fresh processes, "
          f"median of {runs})")
    print("  (a) floor = boto3 floor: import boto3 + boto3.client('ecr') + the one BatchGetImage (no policy read)")
    print("  (b) floor = same-work floor: the function's external work for the event and nothing else: botocore "
          "session + ECR client (the function's settings), ListTagsForResource, BatchGetImage, 2 x "
          "(GetDownloadUrlForLayer + GET with requests), PutImage, verify BatchGetImage, the one PutEvents; "
          "no Powertools, X-Ray or function code")
    print(f"  {'event':<62} {'floor':>8} {'function':>9} {'ratio':>6}  goal (<= {GOAL_RATIO}x floor)")
    with moto_server() as endpoint:
        details: list[str] = []
        bus = PublishedEvents()
        for scenario in _scenarios(ecr, runs, compare=compare):
            function_runs, floor_runs = _measure(python313, built, endpoint, ecr, scenario, bus=bus)
            result = figure(function_runs, floor_runs)
            passed, better = verdict_text(result)
            if scenario.goal:
                verdict = judge(f"cold start to the first outcome, {scenario.label}", f"{result.ratio:.2f}x "
                                f"({result.function * 1000:.1f} ms, goal <= {result.goal * 1000:.1f} ms)", passed)
                goal = f"<= {result.goal * 1000:6.1f}ms {verdict}, {better}"
            else:
                goal = "(comparison, no goal)"
            print(f"  {scenario.label:<62} {result.floor * 1000:6.1f}ms {result.function * 1000:7.1f}ms "
                  f"{result.ratio:5.2f}x  {goal}")
            if not scenario.goal:
                continue
            events = "its 1 event (PutEvents)" if scenario.expected == "created" else "no event"
            floor_events = events if scenario.floor.same_work else "no event"
            details.append(
                f"  {scenario.expected:<9} ECR calls: function {_short(scenario.operations['function'])}, "
                f"{scenario.floor.name} {_short(scenario.operations[scenario.floor.name])}"
                + (" (checked every run: the same calls with the same parameters, config GETs and event)"
                   if scenario.floor.same_work else "")
                + f"; on the bus: function {events}, floor {floor_events}; imported by the function before the "
                f"outcome: {', '.join(function_runs[0].modules) or 'none of the notable modules'}; by the floor: "
                f"{', '.join(floor_runs[0].modules) or 'none of them'}")
    print("\n".join(details))
