"""Dating tags with DescribeImages, call by call: the parameters each call sends, what is kept from each answer, and
every error met on the way, including a gone tag asked alone (left out, like any gone tag) and an error that
carries no ``Error`` section (botocore's ClientError does not require one): a TransientError, never a crash."""

from collections import deque
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from ecr_multiarch.adapters.push_times import EcrPushTimes
from ecr_multiarch.errors import TransientError

PUSHED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


class ScriptedDescribeImages:
    """A DescribeImages client that answers from a script, one entry per call, and records each call's parameters."""

    def __init__(self, *answers: dict[str, Any] | Exception) -> None:
        self._answers = deque(answers)
        self.calls: list[dict[str, Any]] = []

    def describe_images(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        answer = self._answers.popleft()
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def tags_asked(self) -> list[list[str]]:
        return [[image_id["imageTag"] for image_id in call["imageIds"]] for call in self.calls]


def not_found() -> ClientError:
    return ClientError({"Error": {"Code": "ImageNotFoundException", "Message": "gone"}}, "DescribeImages")


def denied() -> ClientError:
    return ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeImages")


def bare() -> ClientError:
    return ClientError({"ResponseMetadata": {"HTTPStatusCode": 500}}, "DescribeImages")  # no Error section


def test_each_call_names_the_repository_and_the_tags_and_the_other_registry_when_one_is_given() -> None:
    client = ScriptedDescribeImages({"imageDetails": []}, {"imageDetails": []})

    EcrPushTimes(client).push_times("golang", ["1.0-amd64"])
    EcrPushTimes(client, registry_id="210987654321").push_times("golang", ["1.0-amd64", "1.0-arm64"])

    assert client.calls == [
        {"repositoryName": "golang", "imageIds": [{"imageTag": "1.0-amd64"}]},
        {"repositoryName": "golang", "registryId": "210987654321",
         "imageIds": [{"imageTag": "1.0-amd64"}, {"imageTag": "1.0-arm64"}]},
    ]


def test_only_asked_tags_are_dated_and_a_detail_without_tags_or_an_answer_without_details_gives_none() -> None:
    client = ScriptedDescribeImages(
        {"imageDetails": [
            {"imageTags": ["1.0-amd64", "latest"], "imagePushedAt": PUSHED},  # latest was not asked
            {"imagePushedAt": LATER},  # an untagged image: nothing to date
            {"imageTags": ["1.0-arm64"], "imagePushedAt": LATER},
        ]},
        {},
    )
    push_times = EcrPushTimes(client)

    assert push_times.push_times("golang", ["1.0-amd64", "1.0-arm64", "1.0-amd64"]) == {
        "1.0-amd64": PUSHED, "1.0-arm64": LATER}
    assert push_times.push_times("golang", ["2.0-amd64"]) == {}
    assert client.tags_asked == [["1.0-amd64", "1.0-arm64"], ["2.0-amd64"]]  # each tag asked once


def test_a_tag_asked_alone_and_gone_is_left_out_without_asking_again() -> None:
    client = ScriptedDescribeImages(not_found())

    assert EcrPushTimes(client).push_times("golang", ["1.0-amd64"]) == {}
    assert client.tags_asked == [["1.0-amd64"]]


def test_a_call_failed_by_a_gone_tag_is_asked_again_tag_by_tag_leaving_the_gone_one_out() -> None:
    client = ScriptedDescribeImages(
        not_found(), {"imageDetails": [{"imageTags": ["1.0-amd64"], "imagePushedAt": PUSHED}]}, not_found())

    assert EcrPushTimes(client).push_times("golang", ["1.0-amd64", "1.0-arm64"]) == {"1.0-amd64": PUSHED}
    assert client.calls == [
        {"repositoryName": "golang", "imageIds": [{"imageTag": "1.0-amd64"}, {"imageTag": "1.0-arm64"}]},
        {"repositoryName": "golang", "imageIds": [{"imageTag": "1.0-amd64"}]},
        {"repositoryName": "golang", "imageIds": [{"imageTag": "1.0-arm64"}]},
    ]


@pytest.mark.parametrize(("error", "name"), [
    (denied(), "ClientError"),
    (bare(), "ClientError"),
    (EndpointConnectionError(endpoint_url="https://api.ecr.us-east-1.amazonaws.com"), "EndpointConnectionError"),
])
def test_any_other_error_of_a_whole_call_is_a_transient_error_at_once(error: Exception, name: str) -> None:
    client = ScriptedDescribeImages(error)

    with pytest.raises(TransientError) as raised:
        EcrPushTimes(client).push_times("golang", ["1.0-amd64", "1.0-arm64"])

    assert str(raised.value) == f"DescribeImages on golang failed: {name}"
    assert client.tags_asked == [["1.0-amd64", "1.0-arm64"]]


@pytest.mark.parametrize("error", [denied(), bare()])
def test_any_other_error_of_a_tag_asked_alone_is_a_transient_error_not_a_crash(error: ClientError) -> None:
    client = ScriptedDescribeImages(
        not_found(),  # the whole call fails on one gone tag: each tag is then asked alone
        {"imageDetails": [{"imageTags": ["1.0-amd64"], "imagePushedAt": PUSHED}]},
        error,
    )

    with pytest.raises(TransientError) as raised:
        EcrPushTimes(client).push_times("golang", ["1.0-amd64", "1.0-arm64"])

    assert str(raised.value) == "DescribeImages on golang failed: ClientError"
    assert client.tags_asked == [["1.0-amd64", "1.0-arm64"], ["1.0-amd64"], ["1.0-arm64"]]
