"""The bounds of the pure core are inclusive, and their texts exact: a document of exactly 4 MiB, an index of exactly
256 entries, a bracket string one level too deep, an odd bracket count at the container bound; the refusals that
name a config media type or a tag the grammar cannot read; the parser's RecursionError safety net; and an index
with configured annotations recognised as already current (no write) when it is."""

import json
from dataclasses import replace

import pytest

from devkit.images import make_image
from ecr_multiarch.domain import json_document, media_types
from ecr_multiarch.domain.decision import Arch, Child, Unchanged, Write, decide_index, first_look
from ecr_multiarch.domain.json_document import (
    MAX_CONTAINERS,
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    JsonDocumentError,
    nesting_depth,
    parse_json_document,
)
from ecr_multiarch.domain.manifest import (
    MAX_INDEX_ENTRIES,
    InvalidManifestError,
    config_reference,
    parse_stored_document,
)
from ecr_multiarch.domain.platform import Platform
from ecr_multiarch.domain.tags import AmbiguousVersionError, version_arch_tags
from ecr_multiarch.settings import Settings
from tests.unit.test_decision import Stored, stored


def test_a_document_of_exactly_the_byte_limit_is_read_and_one_byte_more_is_refused() -> None:
    padding = MAX_DOCUMENT_BYTES - len(b'{"a":""}')
    at_limit = b'{"a":"' + b"x" * padding + b'"}'
    assert len(at_limit) == MAX_DOCUMENT_BYTES
    assert parse_json_document(at_limit, "config") == {"a": "x" * padding}
    with pytest.raises(JsonDocumentError) as raised:
        parse_json_document(at_limit + b" ", "config")
    assert str(raised.value) == f"config is {MAX_DOCUMENT_BYTES + 1} bytes, over the {MAX_DOCUMENT_BYTES}-byte limit"


def test_a_parser_recursion_error_is_a_refusal_naming_the_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """The depth check makes json.loads' RecursionError unreachable today; this is the net if a parser change
    brought it back: a refusal, never the crash."""
    def recursing(text: str) -> object:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(json_document.json, "loads", recursing)
    with pytest.raises(JsonDocumentError) as raised:
        parse_json_document(b"[]", "config")
    assert str(raised.value) == "config nests too deeply to parse"


def test_an_unbalanced_string_one_level_past_the_limit_reads_as_too_deep() -> None:
    limit = 3
    assert nesting_depth(b"[" * (limit + 2) + b"]" * (limit + 1), limit) == limit + 1
    assert nesting_depth(b"[" * limit + b"]" * limit, limit) == limit


def test_an_odd_bracket_count_at_the_container_bound_is_refused_for_its_pairing_not_its_count() -> None:
    body = b"[" + b",".join([b"[]"] * MAX_CONTAINERS)  # 2 * MAX_CONTAINERS + 1 brackets, MAX_CONTAINERS pairs
    with pytest.raises(JsonDocumentError) as raised:
        parse_json_document(body, "index")
    assert str(raised.value) == "index is not valid JSON: its brackets do not pair up"
    assert MAX_DEPTH > 2  # the shape is two levels deep: the depth checks do not decide it


def index_body(entries: int) -> bytes:
    descriptor = {"mediaType": media_types.OCI_MANIFEST, "size": 10, "digest": "sha256:" + "a" * 64,
                  "platform": {"os": "linux", "architecture": "amd64"}}
    return json.dumps({"schemaVersion": 2, "mediaType": media_types.OCI_INDEX,
                       "manifests": [descriptor] * entries}).encode()


def test_an_index_of_exactly_the_entry_limit_is_read_and_one_more_is_refused() -> None:
    document = parse_stored_document(index_body(MAX_INDEX_ENTRIES), media_types.OCI_INDEX, "index at 1.0")
    assert len(document["manifests"]) == MAX_INDEX_ENTRIES == 256
    with pytest.raises(InvalidManifestError) as raised:
        parse_stored_document(index_body(MAX_INDEX_ENTRIES + 1), media_types.OCI_INDEX, "index at 1.0")
    assert str(raised.value) == "index at 1.0 lists 257 manifests, over the limit of 256"


def test_a_config_of_another_media_type_is_refused_naming_that_type() -> None:
    manifest = {"schemaVersion": 2, "mediaType": media_types.OCI_MANIFEST, "layers": [],
                "config": {"mediaType": "application/vnd.example.helm.config+json", "size": 2,
                           "digest": "sha256:" + "b" * 64}}
    with pytest.raises(InvalidManifestError) as raised:
        config_reference(json.dumps(manifest).encode(), media_types.OCI_MANIFEST)
    assert str(raised.value) == (
        "config media type 'application/vnd.example.helm.config+json' is not an image config")


def test_a_version_whose_arch_tag_is_no_tag_at_all_is_refused_saying_so() -> None:
    version = "v" * 125  # "-amd64" makes 131 characters: over ECR's 128, so the grammar reads no arch tag
    with pytest.raises(AmbiguousVersionError) as raised:
        version_arch_tags(version, ["amd64"], ["amd64", "arm64"])
    assert str(raised.value) == (
        f"version {version} cannot be indexed: its amd64 tag {version}-amd64 is not an arch tag under the tag "
        "grammar (tag this version's images under another version name)")


def test_our_own_index_with_configured_annotations_is_recognised_as_current() -> None:
    settings = replace(Settings(), index_annotations=(("org.opencontainers.image.vendor", "example"),))
    amd64, arm64 = make_image("amd64"), make_image("arm64", variant="v8")
    read = {f"1.0-{arch}": stored(f"1.0-{arch}", image) for arch, image in (("amd64", amd64), ("arm64", arm64))}
    children = [Child(Arch("amd64", read["1.0-amd64"]), read["1.0-amd64"], Platform("linux", "amd64")),
                Child(Arch("arm64", read["1.0-arm64"]), read["1.0-arm64"], Platform("linux", "arm64", "v8"))]
    written = decide_index("golang", "1.0", settings, children, None)
    assert isinstance(written, Write)
    assert json.loads(written.index.body)["annotations"] == {"org.opencontainers.image.vendor": "example"}
    held = Stored("1.0", written.index.digest, written.index.media_type, written.index.body)
    decision = first_look("golang", "1.0", settings, {**read, "1.0": held})
    assert isinstance(decision, Unchanged)
    assert decision.index.body == written.index.body
