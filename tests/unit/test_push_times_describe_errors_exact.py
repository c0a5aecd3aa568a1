"""DescribeImages errors met while asking tags one at a time (after a whole call failed on a gone tag), including one
that carries no ``Error`` section (botocore's ClientError does not require one): a TransientError, never a crash."""

from collections import deque
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecr_multiarch.adapters.push_times import EcrPushTimes
from ecr_multiarch.errors import TransientError

PUSHED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


class ScriptedDescribeImages:
    """A DescribeImages client that answers from a script, one entry per call, and records the tags of each call."""

    def __init__(self, *answers: dict[str, Any] | ClientError) -> None:
        self._answers = deque(answers)
        self.calls: list[list[str]] = []

    def describe_images(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append([image_id["imageTag"] for image_id in kwargs["imageIds"]])
        answer = self._answers.popleft()
        if isinstance(answer, ClientError):
            raise answer
        return answer


def not_found() -> ClientError:
    return ClientError({"Error": {"Code": "ImageNotFoundException", "Message": "gone"}}, "DescribeImages")


def test_a_tag_asked_alone_whose_error_has_no_error_section_is_a_transient_error_not_a_crash() -> None:
    bare = ClientError({"ResponseMetadata": {"HTTPStatusCode": 500}}, "DescribeImages")
    client = ScriptedDescribeImages(
        not_found(),  # the whole call fails on one gone tag: each tag is then asked alone
        {"imageDetails": [{"imageTags": ["1.0-amd64"], "imagePushedAt": PUSHED}]},
        bare,
    )

    with pytest.raises(TransientError) as raised:
        EcrPushTimes(client).push_times("golang", ["1.0-amd64", "1.0-arm64"])

    assert str(raised.value) == "DescribeImages on golang failed: ClientError"
    assert client.calls == [["1.0-amd64", "1.0-arm64"], ["1.0-amd64"], ["1.0-arm64"]]


def test_a_tag_asked_alone_and_gone_is_left_out() -> None:
    client = ScriptedDescribeImages(
        not_found(), {"imageDetails": [{"imageTags": ["1.0-amd64"], "imagePushedAt": PUSHED}]}, not_found())

    assert EcrPushTimes(client).push_times("golang", ["1.0-amd64", "1.0-arm64"]) == {"1.0-amd64": PUSHED}

