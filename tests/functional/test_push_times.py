"""Dating waiting versions: DescribeImages on the fake ECR, only the tags asked, at most 100 ids per call, and a tag
deleted since the listing (ECR then fails the whole call with ImageNotFoundException) simply left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from devkit.fake_ecr import FakeEcr
from devkit.images import make_image
from ecr_multiarch.adapters.push_times import DESCRIBE_IMAGES_LIMIT, EcrPushTimes


class CountingClient:
    """The real boto3 client, with every describe_images call's image ids recorded."""

    def __init__(self) -> None:
        self._client = boto3.client("ecr")
        self.calls: list[list[str]] = []

    def describe_images(self, **kwargs: Any) -> Any:
        self.calls.append([image_id["imageTag"] for image_id in kwargs["imageIds"]])
        return self._client.describe_images(**kwargs)


def test_push_times_of_present_tags_and_none_for_gone_ones(ecr: FakeEcr) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    ecr.push("golang", "1.0-amd64", make_image("amd64"))
    client = CountingClient()

    times = EcrPushTimes(client).push_times("golang", ["1.0-amd64", "1.1-amd64"])  # 1.1-amd64 never existed

    assert set(times) == {"1.0-amd64"}
    assert before <= times["1.0-amd64"] <= datetime.now(UTC) + timedelta(seconds=5)
    # The whole call failed on the missing tag, then each tag was asked alone.
    assert client.calls == [["1.0-amd64", "1.1-amd64"], ["1.0-amd64"], ["1.1-amd64"]]


def test_at_most_100_ids_per_call_and_one_image_under_several_tags(ecr: FakeEcr) -> None:
    image = make_image("amd64")
    tags = [f"1.{n}-amd64" for n in range(150)]
    for tag in tags:
        ecr.push("golang", tag, image)  # the same image under 150 tags
    client = CountingClient()

    times = EcrPushTimes(client).push_times("golang", tags)

    assert set(times) == set(tags)
    assert [len(call) for call in client.calls] == [DESCRIBE_IMAGES_LIMIT, 50]
