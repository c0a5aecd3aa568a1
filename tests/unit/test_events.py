import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.events import ArchPush, Skip, classify_event

SUFFIXES = ("amd64", "arm64")
DIGEST = "sha256:" + "e" * 64
EVENT: dict[str, Any] = {
    "version": "0",
    "id": "13cde686-328b-6117-af20-0e5566167482",
    "detail-type": "ECR Image Action",
    "source": "aws.ecr",
    "account": "123456789012",
    "time": "2022-10-05T09:11:53Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ecr:us-east-1:123456789012:repository/golang"],
    "detail": {
        "result": "SUCCESS",
        "repository-name": "golang",
        "image-digest": DIGEST,
        "action-type": "PUSH",
        "image-tag": "1.19.2-alpine-arm64",
        "manifest-media-type": "application/vnd.docker.distribution.manifest.v2+json",
        "artifact-media-type": "application/vnd.docker.container.image.v1+json",
    },
}


def changed(event: dict[str, Any], **detail: Any) -> dict[str, Any]:
    """A copy of ``event`` with these detail fields (``image_tag`` for ``image-tag``) set, or removed when None."""
    result = copy.deepcopy(event)
    for name, value in detail.items():
        key = name.replace("_", "-")
        if value is None:
            result["detail"].pop(key, None)
        else:
            result["detail"][key] = value
    return result


def with_detail(**changes: Any) -> dict[str, Any]:
    return changed(EVENT, **changes)


def test_arch_push() -> None:
    result = classify_event(EVENT, SUFFIXES)
    assert isinstance(result, ArchPush)
    assert (result.repository, result.version, result.arch_tag.suffix, result.digest) == (
        "golang", "1.19.2-alpine", "arm64", Digest(DIGEST)
    )


def test_optional_media_type_fields_may_be_absent() -> None:
    assert isinstance(classify_event(with_detail(manifest_media_type=None, artifact_media_type=None), SUFFIXES),
                      ArchPush)


@pytest.mark.parametrize("media_type", ["application/vnd.oci.image.index.v1+json",
                                        "application/vnd.docker.distribution.manifest.list.v2+json"])
def test_an_index_at_an_arch_tag_is_an_input_buildkit_pushes_them(media_type: str) -> None:
    result = classify_event(with_detail(image_tag="1.0-arm64", manifest_media_type=media_type), SUFFIXES)
    assert isinstance(result, ArchPush)
    assert (result.version, result.arch_tag.suffix) == ("1.0", "arm64")


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (with_detail(image_tag="1.19.2-alpine",
                     manifest_media_type="application/vnd.docker.distribution.manifest.list.v2+json"),
         "is an index"),
        (with_detail(image_tag="1.19.2-alpine", manifest_media_type=None), "no configured architecture suffix"),
        (with_detail(image_tag=""), "untagged push"),
        (with_detail(image_tag=None), "untagged push"),
        (with_detail(action_type="DELETE"), "action-type is 'DELETE'"),
        (with_detail(result="FAILURE"), "result is 'FAILURE'"),
        (with_detail(repository_name=None), "no repository-name"),
        (with_detail(image_digest="sha256:short"), "no valid image-digest"),
        (with_detail(image_tag="1.0-ppc64le"), "no configured architecture suffix"),
        ({**EVENT, "source": "aws.s3"}, "not an ECR image action"),
        ({**EVENT, "detail-type": "ECR Image Scan"}, "not an ECR image action"),
        ({**EVENT, "detail": "nope"}, "no detail object"),
        ({key: value for key, value in EVENT.items() if key != "detail"}, "no detail object"),
        ([], "not a JSON object"),
        (None, "not a JSON object"),
    ],
)
def test_skips_with_a_reason(event: Any, reason: str) -> None:
    result = classify_event(event, SUFFIXES)
    assert isinstance(result, Skip)
    assert reason in result.reason


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=15), children, max_size=4),
    max_leaves=6,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    mutations=st.dictionaries(
        st.sampled_from(["result", "repository-name", "image-digest", "action-type", "image-tag",
                         "manifest-media-type"]),
        json_values,
        max_size=6,
    ),
    top=st.dictionaries(st.sampled_from(["source", "detail-type", "detail"]), json_values, max_size=2),
)
def test_fuzzed_events_never_raise(mutations: dict[str, Any], top: dict[str, Any]) -> None:
    event = copy.deepcopy(EVENT)
    event["detail"].update(mutations)
    event.update(top)
    result = classify_event(event, SUFFIXES)
    assert isinstance(result, ArchPush | Skip)
    if isinstance(result, ArchPush):
        assert result.arch_tag.tag == event["detail"]["image-tag"]


@pytest.mark.parametrize("name", ["../../etc", "Golang", "a", "team//app", "-golang", "golang-", "x" * 257])
def test_invalid_repository_names_are_skipped(name: str) -> None:
    result = classify_event(with_detail(repository_name=name), SUFFIXES)
    assert isinstance(result, Skip) and "not a valid ECR repository name" in result.reason


@pytest.mark.parametrize("name", ["golang", "team/app", "my-org/tools/go_lang", "a.b"])
def test_valid_repository_names_pass(name: str) -> None:
    assert isinstance(classify_event(with_detail(repository_name=name), SUFFIXES), ArchPush)
