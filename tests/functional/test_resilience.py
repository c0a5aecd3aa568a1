"""Never wrong, never lost: duplicates, races, faults, malformed input, and secrets kept out of the logs."""

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from devkit import stress
from devkit.fake_ecr import FakeEcr
from devkit.images import make_image
from ecr_multiarch import handler
from ecr_multiarch.adapters.ecr import EcrRegistry
from ecr_multiarch.adapters.http_blobs import HttpBlobReader
from ecr_multiarch.assembler import MAX_ATTEMPTS, Assembler
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.index import ImageIndex
from ecr_multiarch.errors import (
    BlobIntegrityError,
    BlobUnavailableError,
    BlobUrlExpiredError,
    TransientError,
    UnsettledError,
)
from ecr_multiarch.outcome import OutcomeKind
from ecr_multiarch.ports import PutResult, StoredManifest
from ecr_multiarch.settings import Settings

VERSION = "1.19.2-alpine"
AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")


@pytest.fixture(autouse=True)
def instant_retries() -> Iterator[None]:
    with stress.no_retry_sleep():
        yield


@pytest.fixture
def seeded(ecr: FakeEcr) -> FakeEcr:
    ecr.push("golang", f"{VERSION}-amd64", AMD64)
    ecr.push("golang", f"{VERSION}-arm64", ARM64)
    ecr.calls.clear()
    return ecr


def arm64_event() -> dict[str, Any]:
    return stress.arch_event(f"{VERSION}-arm64", ARM64.digest)


def index_writes(ecr: FakeEcr) -> list[str]:
    return [call.params["imageDigest"] for call in ecr.calls if call.operation == "put_image"]


# --------------------------------------------------------------------------------------------- duplicates


def test_redelivered_events_write_exactly_once_per_version(ecr: FakeEcr) -> None:
    figures = stress.run_duplicates(ecr, versions=5, copies=4)
    assert figures.events == 40
    assert figures.writes == 5
    assert figures.distinct_indexes == 5
    assert figures.outcomes == {"created": 5, "unchanged": 35}


class _SomeoneWritesFirst:
    """A registry whose PutImage is beaten by a concurrent writer of the very same bytes."""

    def __init__(self, inner: EcrRegistry, client: Any) -> None:
        self.inner, self.client = inner, client

    def get_manifests(self, repository: str, tags: Any) -> dict[str, StoredManifest]:
        return self.inner.get_manifests(repository, tags)

    def list_tags(self, repository: str) -> list[str]:
        return self.inner.list_tags(repository)

    def config_download_url(self, repository: str, digest: Digest) -> str:
        return self.inner.config_download_url(repository, digest)

    def put_index(self, repository: str, tag: str, index: ImageIndex) -> PutResult:
        self.client.put_image(repositoryName=repository, imageTag=tag, imageManifest=index.body.decode(),
                              imageManifestMediaType=index.media_type)
        return self.inner.put_index(repository, tag, index)


def test_image_already_exists_from_a_concurrent_writer_counts_as_unchanged(seeded: FakeEcr) -> None:
    registry = _SomeoneWritesFirst(EcrRegistry(boto3.client("ecr")), seeded.client)
    outcome = Assembler(registry, HttpBlobReader(), Settings()).assemble("golang", VERSION)
    assert outcome.kind is OutcomeKind.UNCHANGED
    assert outcome.writes == 0
    stored = seeded.image_at("golang", VERSION)
    assert stored is not None and stored.digest == outcome.digest


# --------------------------------------------------------------------------------------------- races


def test_a_child_repushed_between_read_and_write_is_caught_and_the_index_rebuilt(seeded: FakeEcr) -> None:
    """The write of a stale index fails (moto drops the replaced child), the fresh read sees the new child."""
    arm64_v2 = make_image("arm64", variant="v8", revision="2")
    real = EcrRegistry(boto3.client("ecr"))
    pushed = []

    class RepushAfterFirstRead(_SomeoneWritesFirst):
        def get_manifests(self, repository: str, tags: Any) -> dict[str, StoredManifest]:
            manifests = self.inner.get_manifests(repository, tags)
            if not pushed:
                pushed.append(seeded.push("golang", f"{VERSION}-arm64", arm64_v2))
            return manifests

        def put_index(self, repository: str, tag: str, index: ImageIndex) -> PutResult:
            return self.inner.put_index(repository, tag, index)

    outcome = Assembler(RepushAfterFirstRead(real, seeded.client), HttpBlobReader(), Settings()).assemble(
        "golang", VERSION)
    assert outcome.kind is OutcomeKind.CREATED
    assert stress.holds_current_index(seeded, VERSION, ("amd64", "arm64"))
    stored = seeded.image_at("golang", VERSION)
    assert stored is not None
    assert [m["digest"] for m in json.loads(stored.manifest)["manifests"]] == [AMD64.digest, arm64_v2.digest]


def test_a_tag_that_never_settles_raises_for_a_lambda_retry(seeded: FakeEcr) -> None:
    real = EcrRegistry(boto3.client("ecr"))
    revisions = iter(range(100))

    class AlwaysRepushed(_SomeoneWritesFirst):
        def get_manifests(self, repository: str, tags: Any) -> dict[str, StoredManifest]:
            manifests = self.inner.get_manifests(repository, tags)
            seeded.push("golang", f"{VERSION}-arm64", make_image("arm64", variant="v8", revision=str(next(revisions))))
            return manifests

        def put_index(self, repository: str, tag: str, index: ImageIndex) -> PutResult:
            return self.inner.put_index(repository, tag, index)

    with pytest.raises(UnsettledError):
        Assembler(AlwaysRepushed(real, seeded.client), HttpBlobReader(), Settings()).assemble("golang", VERSION)
    # ECR keeps each replaced arm64 image (untagged), so every attempt's write lands; each is stale by the time it
    # is verified, and the last one stays at the tag until Lambda's retry reads afresh.
    written = [call.params for call in seeded.calls
               if call.operation == "put_image" and call.params["imageTag"] == VERSION]
    assert len(written) == MAX_ATTEMPTS
    stored, current = seeded.image_at("golang", VERSION), seeded.image_at("golang", f"{VERSION}-arm64")
    assert stored is not None and current is not None
    assert stored.digest == written[-1]["imageDigest"]
    assert current.digest not in [entry["digest"] for entry in json.loads(stored.manifest)["manifests"]]


def test_concurrent_pushes_and_repushes_leave_no_stale_index() -> None:
    """100 trials against a moto server on 127.0.0.1, three threads (containers) per trial."""
    with FakeEcr(server=True) as ecr:
        ecr.create_repository("golang")
        figures = stress.run_races(ecr, trials=100, seed=7)
    assert figures.trials == 100
    assert figures.stale == 0
    assert figures.dead_lettered == 0
    assert figures.outcomes.get("created", 0) >= 100  # every trial ended with an index written


# --------------------------------------------------------------------------------------------- faults


def test_every_fault_gives_the_right_index_or_a_retryable_error_and_no_write(ecr: FakeEcr) -> None:
    figures = stress.run_faults(ecr)
    assert figures.wrong_writes == 0, figures.details
    assert figures.cases == len(stress._fault_cases())
    assert figures.correct_writes + figures.retryable_raised == figures.cases
    # Both kinds of ending really happen: single faults are absorbed by retries, floods are raised.
    assert figures.correct_writes >= 20
    assert figures.retryable_raised >= 15


@pytest.mark.parametrize(
    ("faults", "error"),
    [
        (["403"] * 4, BlobUrlExpiredError),  # both children download at once: two refusals each
        (["truncate"], BlobIntegrityError),
        (["corrupt"], BlobIntegrityError),
        (["oversize"], BlobIntegrityError),
        (["503"] * 8, BlobUnavailableError),  # four attempts (urllib3 retries) for each of two children
    ],
)
def test_blob_failures_raise_the_matching_transient_error(
    seeded: FakeEcr, faults: list[str], error: type[Exception]
) -> None:
    seeded.blob_server.faults.extend(faults)
    with pytest.raises(error) as raised:
        handler.handle(arm64_event(), stress.new_assembler())
    assert isinstance(raised.value, TransientError)
    assert index_writes(seeded) == []


def test_an_expired_url_is_replaced_once(seeded: FakeEcr) -> None:
    seeded.blob_server.faults.append("403")
    outcome = handler.handle(arm64_event(), stress.new_assembler())
    assert outcome.kind is OutcomeKind.CREATED
    # The first child's URL was asked for twice (expired, then fresh), the second child's once.
    assert seeded.operations().count("get_download_url_for_layer") == 3


def test_a_slow_blob_server_times_out_as_a_transient_error(seeded: FakeEcr) -> None:
    seeded.blob_server.faults.extend(["slow:1.0"] * 6)  # three attempts for each of two children
    with pytest.raises(BlobUnavailableError):
        handler.handle(arm64_event(), stress.new_assembler(blob_timeout=(0.5, 0.3)))
    assert index_writes(seeded) == []


# --------------------------------------------------------------------------------------------- permanent errors


def test_immutable_tag_holding_another_index_is_rejected_with_both_digests(ecr: FakeEcr) -> None:
    # Arch tags mutable, every other tag immutable: ECR lets arm64 be re-pushed but not the version tag be moved
    # (deleting the arm64 tag first is no way round it: the index lists that image, ImageReferencedByManifestList).
    ecr.create_repository("frozen", mutability="IMMUTABLE_WITH_EXCLUSION", exclusions=("*-amd64", "*-arm64"))
    ecr.push("frozen", f"{VERSION}-amd64", AMD64)
    ecr.push("frozen", f"{VERSION}-arm64", ARM64)
    assembler = stress.new_assembler()
    first = assembler.assemble("frozen", VERSION)
    assert first.kind is OutcomeKind.CREATED  # a new tag may be written once in an immutable repository
    arm64_v2 = make_image("arm64", variant="v8", revision="2")
    ecr.push("frozen", f"{VERSION}-arm64", arm64_v2)
    ecr.calls.clear()
    second = assembler.assemble("frozen", VERSION)
    assert second.kind is OutcomeKind.REJECTED
    assert "immutable" in (second.reason or "")
    assert f"it holds {first.digest}" in (second.reason or "")
    assert "not the desired index sha256:" in (second.reason or "")
    stored = ecr.image_at("frozen", VERSION)
    assert stored is not None and stored.digest == first.digest  # untouched
    assert ecr.operations().count("put_image") == 1  # reported once, not retried


def test_repository_deleted_mid_flight_is_rejected_and_nothing_written(seeded: FakeEcr) -> None:
    class DeletedAfterRead(_SomeoneWritesFirst):
        def get_manifests(self, repository: str, tags: Any) -> dict[str, StoredManifest]:
            manifests = self.inner.get_manifests(repository, tags)
            seeded.client.delete_repository(repositoryName=repository, force=True)
            return manifests

        def put_index(self, repository: str, tag: str, index: ImageIndex) -> PutResult:
            return self.inner.put_index(repository, tag, index)

    outcome = Assembler(DeletedAfterRead(EcrRegistry(boto3.client("ecr")), seeded.client), HttpBlobReader(),
                        Settings()).assemble("golang", VERSION)
    assert outcome.kind is OutcomeKind.REJECTED
    assert "does not exist" in (outcome.reason or "")


def test_access_denied_is_rejected_with_an_actionable_message(seeded: FakeEcr) -> None:
    from botocore.exceptions import ClientError

    from ecr_multiarch.adapters.ecr import translate_client_error
    from ecr_multiarch.errors import AccessDeniedError

    error = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, "PutImage")
    translated = translate_client_error(error, "PutImage", "golang")
    assert isinstance(translated, AccessDeniedError)
    assert "RepositoryNames" in str(translated)


# --------------------------------------------------------------------------------------------- fuzz


def test_fuzzed_events_never_crash_and_never_write(seeded: FakeEcr) -> None:
    figures = stress.run_fuzz(seeded, events=2000, seed=0)  # seed 0 once found a crash (missing "id")
    assert figures.events == 2000
    assert figures.crashes == 0
    assert figures.writes == 0
    assert figures.outcomes.get("skipped", 0) > 1500


# --------------------------------------------------------------------------------------------- secrets


def test_no_presigned_url_reaches_any_log_line(seeded: FakeEcr, capsys: pytest.CaptureFixture[str]) -> None:
    """All log output of the fault runs, at DEBUG, from every logger (urllib3, botocore, ours): no signature."""
    sink = io.StringIO()
    capture = logging.StreamHandler(sink)
    capture.setLevel(logging.DEBUG)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    handler.logger.setLevel(logging.DEBUG)
    try:
        seeded.blob_server.faults.extend(["500", "403", "503", "corrupt"])
        for _ in range(3):
            try:
                handler.handle(arm64_event(), stress.new_assembler())
            except TransientError as error:
                sink.write(f"raised: {error!r}\n")
        # Every kind of fault, each once and as a flood; slow answers add time, not log lines.
        stress.run_faults(seeded, [case for case in stress._fault_cases()
                                   if case[2] != 2 and not case[1].startswith("slow")])
    finally:
        root.removeHandler(capture)
        root.setLevel(previous)
        handler.logger.setLevel(logging.INFO)
    output = sink.getvalue() + capsys.readouterr().out
    assert "GET /v2/golang/blobs/" in output or "127.0.0.1" in output  # the downloads were logged at all...
    assert "X-Amz-Signature" not in output  # ...but never their query string
    assert not re.search(r"[0-9a-f]{64}&|Signature=(?!<redacted>)", output)
