"""The cold-start bench's arithmetic and its same-work check (benchmarks/cold_start.py): the goal is 1.15 times the
floor, worked out here by hand; a run's work is compared with the version, digests and sizes taken out, and a call
missing, added or changed in one parameter is a difference."""

from typing import Any

import pytest

from benchmarks.cold_start import GOAL_RATIO, Figure, Run, differences, figure, shape, verdict_text, work_of

VERSION = "2.3"
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


def test_the_goal_is_one_point_one_five_times_the_floor_and_the_figure_is_medians() -> None:
    runs = [Run(cpu, "created", ()) for cpu in (0.9, 0.3, 0.2)]
    floors = [Run(cpu, "created", ()) for cpu in (0.2, 0.25, 0.1)]

    result = figure(runs, floors)

    assert (result.function, result.floor) == (0.3, 0.2)
    assert result.ratio == pytest.approx(1.5)
    assert result.goal == pytest.approx(0.23)  # 1.15 x 200 ms
    assert result.better == pytest.approx(0.22)  # 1.10 x 200 ms
    assert verdict_text(result) == (False, "not 1.10x")


@pytest.mark.parametrize(("function", "passed", "better"), [
    (0.229, True, "not 1.10x"),   # 1.145x
    (0.219, True, "meets 1.10x"),  # 1.095x
    (0.231, False, "not 1.10x"),  # 1.155x
])
def test_pass_and_better_are_read_against_the_floor(function: float, passed: bool, better: str) -> None:
    assert GOAL_RATIO == 1.15
    assert verdict_text(Figure(floor=0.2, function=function)) == (passed, better)


def test_the_shape_of_a_call_leaves_out_only_the_version_digests_and_sizes() -> None:
    params = {"repositoryName": "cold-start", "imageTag": VERSION, "imageIds": [{"imageTag": "2.3-amd64"}],
              "imageManifest": '{"size":1234,"digest":"' + DIGEST_A + '"}', "imageDigest": DIGEST_B,
              "other": "2.30"}

    assert shape(params, VERSION) == {
        "repositoryName": "cold-start", "imageTag": "<version>", "imageIds": [{"imageTag": "<version>-amd64"}],
        "imageManifest": '{"size":<n>,"digest":"sha256:<digest>"}', "imageDigest": "sha256:<digest>",
        "other": "2.30"}  # another version is not this one


Call = tuple[str, dict[str, Any]]


def _calls(version: str, *, tags: bool = True, accepted: tuple[str, ...] = ("a", "b")) -> list[Call]:
    calls: list[Call] = [
        ("batch_get_image", {"repositoryName": "r", "imageIds": [{"imageTag": f"{version}-amd64"},
                                                                  {"imageTag": version}],
                             "acceptedMediaTypes": list(accepted)}),
        ("put_image", {"repositoryName": "r", "imageTag": version, "imageDigest": DIGEST_A})]
    if tags:
        calls.append(("list_tags_for_resource", {"resourceArn": "arn:aws:ecr:us-east-1:123456789012:repository/r"}))
    return calls


def test_the_same_work_in_another_order_and_version_is_the_same() -> None:
    event = {"detail-type": "Multi-Arch Index Published", "detail": {"version": "2.3", "digest": DIGEST_A}}
    function = work_of(_calls("2.3"), 2, [event], "2.3")
    floor = work_of(list(reversed(_calls("2.4"))), 2,
                    [{"detail-type": "Multi-Arch Index Published", "detail": {"version": "2.4", "digest": DIGEST_B}}],
                    "2.4")

    assert differences(function, floor) == []


def test_a_missing_call_a_changed_parameter_a_missing_get_or_event_are_differences() -> None:
    event = {"detail-type": "Multi-Arch Index Published", "detail": {"version": "2.3"}}
    function = work_of(_calls("2.3"), 2, [event], "2.3")

    without_tags = differences(function, work_of(_calls("2.4", tags=False), 2, [event | {"detail": {
        "version": "2.4"}}], "2.4"))
    assert len(without_tags) == 1 and without_tags[0].startswith("ECR call not made: ") \
        and "list_tags_for_resource" in without_tags[0]

    reordered_types = differences(function, work_of(_calls("2.3", accepted=("b", "a")), 2, [event], "2.3"))
    assert [line.split(":")[0] for line in reordered_types] == ["ECR call not made", "ECR call not the function's"]

    assert differences(function, work_of(_calls("2.3"), 1, [event], "2.3")) == [
        "config GETs: 1, the function made 2"]
    assert [line.split(":")[0] for line in differences(function, work_of(_calls("2.3"), 2, [], "2.3"))] == [
        "event not made"]
