"""The registry's account, as the handlers find it: from the ECR event on the event path, from DescribeRepositories
or STS on the sweep, never from the Lambda context. Under the Runtime Interface Emulator (`sam local invoke`) the
context's function ARN carries a placeholder account, 012345678912; here it does too, and the repository's
ListTagsForResource must still name the registry's own account (123456789012, moto's)."""

from collections.abc import Iterator
from json import loads
from typing import Any

import pytest

from devkit.fake_ecr import ACCOUNT, FakeEcr
from devkit.images import make_image
from devkit.lambda_context import FakeLambdaContext
from ecr_multiarch import handler, notify, reconcile_handler
from ecr_multiarch.domain import media_types
from tests.conftest import EVENTS, load_event

VERSION = "1.19.2-alpine"
# What the Runtime Interface Emulator hands the function (its InvokedFunctionArn, verbatim).
PLACEHOLDER_ARN = "arn:aws:lambda:us-east-1:012345678912:function:ecr-multiarch-AssemblerFunction"
GOLANG_ARN = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/golang"


def emulator_context(remaining_ms: int = 60_000) -> Any:
    class EmulatorContext(FakeLambdaContext):
        def get_remaining_time_in_millis(self) -> int:
            return remaining_ms

    return EmulatorContext(invoked_function_arn=PLACEHOLDER_ARN)


@pytest.fixture
def composed(ecr: FakeEcr, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEcr]:
    """Both handlers with their own composition roots (nothing injected), as in Lambda; pipeline events off."""
    monkeypatch.setenv("EVENT_BUS_NAME", "")
    for module in (handler, reconcile_handler, notify):
        module.configure(None)
    yield ecr
    for module in (handler, reconcile_handler, notify):
        module.configure(None)


def pushed_arm64_event(ecr: FakeEcr) -> dict[str, Any]:
    """golang:1.19.2-alpine-amd64 and -arm64 pushed; the arm64 push's event, as events/push-arm64.json has it."""
    ecr.push("golang", f"{VERSION}-amd64", make_image("amd64"))
    arm64 = make_image("arm64", variant="v8")
    digest = ecr.push("golang", f"{VERSION}-arm64", arm64)
    ecr.calls.clear()
    return load_event("push-arm64.json", image_digest=digest, manifest_media_type=arm64.media_type)


def tag_reads(ecr: FakeEcr) -> list[str]:
    return [call.params["resourceArn"] for call in ecr.calls if call.operation == "list_tags_for_resource"]


def test_a_push_under_the_emulators_placeholder_arn_reads_the_policy_in_the_events_account(composed: FakeEcr) -> None:
    event = pushed_arm64_event(composed)
    assert event["account"] == ACCOUNT != PLACEHOLDER_ARN.split(":")[4]

    result = handler.lambda_handler(event, emulator_context())

    assert result["outcome"] == "created", result
    assert tag_reads(composed) == [GOLANG_ARN]
    stored = composed.image_at("golang", VERSION)
    assert stored is not None and stored.media_type == media_types.DOCKER_MANIFEST_LIST


def test_an_event_without_an_account_falls_back_to_sts_never_to_the_context(composed: FakeEcr) -> None:
    event = pushed_arm64_event(composed)
    del event["account"]

    assert handler.lambda_handler(event, emulator_context())["outcome"] == "created"
    assert tag_reads(composed) == [GOLANG_ARN]  # moto's STS answers the caller's account


def test_each_event_names_its_own_account_in_a_warm_container(composed: FakeEcr) -> None:
    event = pushed_arm64_event(composed)
    handler.lambda_handler({**event, "account": "210987654321"}, emulator_context())  # a hand-written event
    assert tag_reads(composed) == ["arn:aws:ecr:us-east-1:210987654321:repository/golang"]
    composed.calls.clear()

    result = handler.lambda_handler(event, emulator_context())

    assert result["outcome"] == "created", result
    assert tag_reads(composed) == [GOLANG_ARN]


@pytest.mark.parametrize("repositories", ["*", "golang"], ids=["pattern", "named"])
def test_a_sweep_under_the_emulators_placeholder_arn_reads_each_policy_at_the_repositorys_arn(
    composed: FakeEcr, monkeypatch: pytest.MonkeyPatch, repositories: str
) -> None:
    # A pattern is expanded with DescribeRepositories, which gives each repository's ARN; a named repository's ARN
    # takes the account STS names.
    monkeypatch.setenv("RECONCILE_REPOSITORIES", repositories)
    pushed_arm64_event(composed)
    scheduled = loads((EVENTS / "schedule" / "scheduled-event.json").read_text(encoding="utf-8"))

    summary = reconcile_handler.lambda_handler(scheduled, emulator_context(900_000))

    assert summary["totals"]["created"] == 1 and summary["totals"]["rejected"] == 0, summary
    assert tag_reads(composed) == [GOLANG_ARN]
    assert composed.image_at("golang", VERSION) is not None
