"""INDEX_FORMAT=docker over OCI children (issue 9 item 10): an OCI index, the reason logged, through the handler."""

import json
import logging

import pytest

from devkit.fake_ecr import FakeEcr
from devkit.images import make_image
from ecr_multiarch.domain import media_types
from ecr_multiarch.domain.index import IndexFormat
from ecr_multiarch.settings import Settings
from tests.conftest import load_event
from tests.functional.conftest import Invoke


@pytest.mark.parametrize("settings", [Settings(index_format=IndexFormat.DOCKER)])
def test_docker_format_over_oci_children_gives_an_oci_index(ecr: FakeEcr, invoke: Invoke) -> None:
    records: list[logging.LogRecord] = []
    sink = logging.Handler()
    sink.emit = records.append  # type: ignore[method-assign]
    writer_log = logging.getLogger("ecr_multiarch.convergence")
    writer_log.addHandler(sink)
    ecr.push("golang", "1.0-amd64", make_image("amd64", oci=True))
    digest = ecr.push("golang", "1.0-arm64", make_image("arm64", variant="v8", oci=True))
    try:
        result = invoke(load_event("push-arm64.json", image_digest=digest, image_tag="1.0-arm64"))
    finally:
        writer_log.removeHandler(sink)
    assert result["outcome"] == "created" and result["mediaType"] == media_types.OCI_INDEX
    stored = ecr.image_at("golang", "1.0")
    assert stored is not None and stored.media_type == media_types.OCI_INDEX
    assert {entry["mediaType"] for entry in json.loads(stored.manifest)["manifests"]} == {media_types.OCI_MANIFEST}
    written = [record.__dict__ for record in records if record.getMessage() == "index written"]
    assert len(written) == 1
    assert "INDEX_FORMAT=docker, but child" in written[0]["format_reason"]
    assert "a Docker manifest list cannot hold OCI manifests" in written[0]["format_reason"]
