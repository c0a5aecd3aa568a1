"""Events for downstream pipelines, through the real handlers and the real EventBridge adapter: moto's EventBridge
routes them with a rule (source ecr-multiarch) to an SQS queue, as a deploy pipeline's rule would, and the tests
read what arrived there. The samples in events/published/ must have exactly the shape the code publishes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from devkit.fake_ecr import FakeEcr
from devkit.images import make_image
from devkit.lambda_context import FakeLambdaContext
from ecr_multiarch import notify, reconcile_handler
from ecr_multiarch.adapters.ecr import BOTOCORE_CONFIG, EcrRegistry
from ecr_multiarch.adapters.http_blobs import HttpBlobReader
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.incomplete import finder_for
from ecr_multiarch.reconcile import Reconciler, ReconcileSettings
from ecr_multiarch.settings import Settings
from tests.conftest import EVENTS, load_event
from tests.functional.conftest import Invoke

AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")
PUBLISHED_SAMPLES = EVENTS / "published"


@pytest.fixture(autouse=True)
def metrics_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    # `make demo` (an earlier test) disables metrics for the process; disabled, Powertools never clears them, so
    # these tests' metrics would pile up into later tests' output.
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)


@pytest.fixture
def pipeline_queue(ecr: FakeEcr, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A queue receiving every ecr-multiarch event from the default bus; the functions publish to that bus."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="deploy-pipeline")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="multiarch-to-pipeline", EventPattern=json.dumps({"source": ["ecr-multiarch"]}))
    events.put_targets(Rule="multiarch-to-pipeline", Targets=[{"Id": "queue", "Arn": queue_arn}])
    monkeypatch.setenv("EVENT_BUS_NAME", "default")
    notify.configure(None)
    yield queue_url
    notify.configure(None)


def received(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def push_version(ecr: FakeEcr, version: str, arm64: Any = ARM64) -> str:
    ecr.push("golang", f"{version}-amd64", AMD64)
    return ecr.push("golang", f"{version}-arm64", arm64)


def emitted_metrics(output: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in output.splitlines():
        if '"_aws"' in line:
            document = json.loads(line)
            for definition in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                value = document[definition["Name"]]
                found[definition["Name"]] = sum(value) if isinstance(value, list) else value
    return found


def sample(name: str) -> dict[str, Any]:
    return json.loads((PUBLISHED_SAMPLES / name).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------- the assembler


def test_a_written_index_is_announced_with_its_digest_and_platforms(ecr: FakeEcr, invoke: Invoke,
                                                                    pipeline_queue: str) -> None:
    digest = push_version(ecr, "1.0")
    result = invoke(load_event("push-arm64.json", image_tag="1.0-arm64", image_digest=digest))
    assert result["outcome"] == "created"

    (event,) = received(pipeline_queue)
    stored = ecr.image_at("golang", "1.0")
    assert stored is not None
    assert event["source"] == "ecr-multiarch" and event["detail-type"] == "Multi-Arch Index Published"
    assert event["detail"] == {
        "repository": "golang",
        "version": "1.0",
        "outcome": "created",
        "digest": stored.digest,
        "mediaType": json.loads(stored.manifest)["mediaType"],
        "platforms": [{"os": "linux", "architecture": "amd64"},
                      {"os": "linux", "architecture": "arm64", "variant": "v8"}],
    }
    assert set(event["detail"]) == set(sample("index-published.json")["detail"])


def test_a_rejection_is_announced_with_its_reason(ecr: FakeEcr, invoke: Invoke, pipeline_queue: str) -> None:
    digest = push_version(ecr, "1.0", arm64=make_image("amd64", revision="tagged-arm64"))
    result = invoke(load_event("push-arm64.json", image_tag="1.0-arm64", image_digest=digest))
    assert result["outcome"] == "rejected"

    (event,) = received(pipeline_queue)
    assert event["detail-type"] == "Multi-Arch Index Rejected"
    assert event["detail"] == {"repository": "golang", "version": "1.0", "reason": result["reason"]}
    assert "arm64" in event["detail"]["reason"]
    assert set(event["detail"]) <= set(sample("index-rejected.json")["detail"])


def test_waiting_and_unchanged_announce_nothing(ecr: FakeEcr, invoke: Invoke, pipeline_queue: str) -> None:
    amd64 = ecr.push("golang", "1.0-amd64", AMD64)
    assert invoke(load_event("push-amd64.json", image_tag="1.0-amd64", image_digest=amd64))["outcome"] == "waiting"
    arm64 = ecr.push("golang", "1.0-arm64", ARM64)
    event = load_event("push-arm64.json", image_tag="1.0-arm64", image_digest=arm64)
    assert invoke(event)["outcome"] == "created"
    assert invoke(event)["outcome"] == "unchanged"  # a duplicate delivery
    assert [e["detail-type"] for e in received(pipeline_queue)] == ["Multi-Arch Index Published"]


def test_publishing_off_builds_no_client_and_sends_nothing(ecr: FakeEcr, invoke: Invoke, pipeline_queue: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_BUS_NAME", "")
    notify.configure(None)
    digest = push_version(ecr, "1.0")
    assert invoke(load_event("push-arm64.json", image_tag="1.0-arm64", image_digest=digest))["outcome"] == "created"
    assert isinstance(notify.notifier(), notify.Silent)
    assert received(pipeline_queue) == []


def test_a_failed_put_events_leaves_the_written_index_a_success_and_is_counted(
    ecr: FakeEcr, invoke: Invoke, pipeline_queue: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")  # PutEvents fails for this entry
    notify.configure(None)
    digest = push_version(ecr, "1.0")
    result = invoke(load_event("push-arm64.json", image_tag="1.0-arm64", image_digest=digest))

    assert result["outcome"] == "created"
    stored = ecr.image_at("golang", "1.0")
    assert stored is not None and stored.digest == result["digest"]
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics["EventsNotPublished"] == 1 and metrics["Created"] == 1
    assert received(pipeline_queue) == []


# --------------------------------------------------------------------------------------------- the sweep


def test_the_sweep_announces_its_writes_and_the_versions_stuck_for_too_long(
    ecr: FakeEcr, pipeline_queue: str, capsys: pytest.CaptureFixture[str]
) -> None:
    push_version(ecr, "1.0")  # complete, no index: the sweep creates it
    ecr.push("golang", "1.1-amd64", AMD64)  # arm64 never came
    client = boto3.client("ecr", config=BOTOCORE_CONFIG)
    registry = EcrRegistry(client)
    assembler = Assembler(registry, HttpBlobReader(), Settings())
    pushed = datetime.now(UTC)
    finder = finder_for(client, assembler.settings_for, {"INCOMPLETE_AFTER_HOURS": "24"},
                        clock=lambda: pushed + timedelta(hours=25))  # a day and an hour after the pushes
    reconcile_handler.configure(reconcile_handler.ReconcileServices(
        Reconciler(registry, assembler), ReconcileSettings(("golang",)), lambda arn, payload: None, finder))
    try:
        summary = reconcile_handler.lambda_handler({}, FakeLambdaContext())  # type: ignore[arg-type]
    finally:
        reconcile_handler.configure(None)

    (stuck,) = summary["incomplete"]
    assert (stuck["repository"], stuck["version"], stuck["missing"], stuck["present"]) == (
        "golang", "1.1", ["arm64"], ["1.1-amd64"])
    assert 25.0 <= stuck["ageHours"] <= 25.1
    assert emitted_metrics(capsys.readouterr().out)["IncompleteVersions"] == 1
    by_type = {event["detail-type"]: event["detail"] for event in received(pipeline_queue)}
    assert set(by_type) == {"Multi-Arch Index Published", "Multi-Arch Version Incomplete"}
    assert by_type["Multi-Arch Version Incomplete"] == stuck
    assert set(stuck) == set(sample("version-incomplete.json")["detail"])
    assert by_type["Multi-Arch Index Published"]["version"] == "1.0"


def test_a_version_younger_than_the_threshold_is_not_reported(ecr: FakeEcr, pipeline_queue: str) -> None:
    ecr.push("golang", "1.1-amd64", AMD64)
    client = boto3.client("ecr", config=BOTOCORE_CONFIG)
    registry = EcrRegistry(client)
    assembler = Assembler(registry, HttpBlobReader(), Settings())
    finder = finder_for(client, assembler.settings_for, {"INCOMPLETE_AFTER_HOURS": "24"},
                        clock=lambda: datetime.now(UTC) + timedelta(hours=23))
    reconcile_handler.configure(reconcile_handler.ReconcileServices(
        Reconciler(registry, assembler), ReconcileSettings(("golang",)), lambda arn, payload: None, finder))
    try:
        summary = reconcile_handler.lambda_handler({}, FakeLambdaContext())  # type: ignore[arg-type]
    finally:
        reconcile_handler.configure(None)
    assert summary["totals"]["waiting"] == 1 and summary["incomplete"] == []
    assert received(pipeline_queue) == []


def test_every_published_sample_is_an_event_of_ours() -> None:
    names = sorted(path.name for path in PUBLISHED_SAMPLES.glob("*.json"))
    assert names == ["index-published.json", "index-rejected.json", "version-incomplete.json"]
    types = {sample(name)["detail-type"] for name in names}
    assert types == {detail_type.value for detail_type in notify.DetailType}
    for name in names:
        assert sample(name)["source"] == notify.SOURCE
