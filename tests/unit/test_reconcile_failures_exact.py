"""What the sweep reports when something fails, exactly: the entry of a version whose write changed under it and
was re-assembled (or whose re-assembly failed), the entry and the log line of an unexpected error (a bug), and the
entry of a repository whose listing hit one. Unit speed: the plain in-memory registry, with hooks that change it or
make a call fail at a chosen moment."""

from __future__ import annotations

import logging
import os
from typing import NoReturn

import pytest

from devkit.images import make_image
from devkit.memory_registry import MemoryRegistry
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.errors import TransientError
from ecr_multiarch.outcome import Outcome, OutcomeKind
from ecr_multiarch.reconcile import Reconciler, SweepEntry
from ecr_multiarch.settings import Settings
from tests.logs import records_named, records_of
from tests.unit.sweep_doubles import HookedRegistry, fail

AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")
ARM64_REBUILT = make_image("arm64", variant="v8", revision="2")
THIS_FILE = os.path.basename(__file__)


def golang_1_0() -> HookedRegistry:
    registry = HookedRegistry()
    registry.create_repository("golang")
    registry.push("golang", "1.0-amd64", AMD64)
    registry.push("golang", "1.0-arm64", ARM64)
    return registry


def sweeper(registry: MemoryRegistry) -> Reconciler:
    return Reconciler(registry, Assembler(registry, registry, Settings()))  # type: ignore[arg-type]


# ------------------------------------------------------------------ a write that changed before it was verified
# The sweep writes 1.0 from its bulk read, then verifies with a second listing (ListImages #2): the hooks change the
# registry just before that listing, so the verification sees a child that moved since the write.


def test_a_child_rebuilt_after_the_write_keeps_the_first_verdict_with_the_index_now_held() -> None:
    registry = golang_1_0()
    registry.hooks[("ListImages", 2)] = lambda: registry.push("golang", "1.0-arm64", ARM64_REBUILT)
    report = sweeper(registry).sweep(["golang"])
    held = registry.tags["golang"]["1.0"]
    (entry,) = report.entries
    assert ARM64_REBUILT.digest.encode() in held.body and ARM64.digest.encode() not in held.body
    # created (the first write's verdict), two writes, and the digest and index of what the tag holds now
    assert entry == SweepEntry("golang", "1.0", Outcome(OutcomeKind.CREATED, "golang", "1.0", str(held.digest),
                                                        writes=2))
    assert entry.outcome is not None and entry.outcome.index is not None
    assert (entry.outcome.index.digest, entry.outcome.index.body) == (held.digest, held.body)
    assert entry.to_json() == {"outcome": "created", "repository": "golang", "version": "1.0",
                               "digest": str(held.digest), "mediaType": held.media_type}
    assert report.writes == 2


def test_a_child_deleted_after_the_write_reports_what_the_re_assembly_found_with_the_write_counted() -> None:
    registry = golang_1_0()
    registry.hooks[("ListImages", 2)] = lambda: registry.tags["golang"].pop("1.0-arm64") and None
    report = sweeper(registry).sweep(["golang"])
    (entry,) = report.entries
    assert entry == SweepEntry("golang", "1.0", Outcome(OutcomeKind.WAITING, "golang", "1.0",
                                                        missing=("1.0-arm64",), writes=1))
    assert entry.to_json() == {"outcome": "waiting", "repository": "golang", "version": "1.0",
                               "missing": ["1.0-arm64"]}
    assert report.writes == 1 and report.totals()["waiting"] == 1


def test_a_re_assembly_that_fails_transiently_is_reported_failed_with_its_context() -> None:
    registry = golang_1_0()
    # the re-assembly's fresh read: the second BatchGetImage (the first was the bulk read; verifying was a listing)
    registry.hooks[("ListImages", 2)] = lambda: registry.push("golang", "1.0-arm64", ARM64_REBUILT)
    registry.hooks[("BatchGetImage", 2)] = fail(TransientError("ThrottlingException: Rate exceeded"))
    report = sweeper(registry).sweep(["golang"])
    assert report.entries == [SweepEntry(
        "golang", "1.0", None, failure="written, then changed; retry failed: ThrottlingException: Rate exceeded",
        error_type="TransientError")]
    assert report.entries[0].to_json() == {
        "outcome": "failed", "repository": "golang", "version": "1.0",
        "reason": "written, then changed; retry failed: ThrottlingException: Rate exceeded",
        "errorType": "TransientError"}


def test_a_re_assembly_that_hits_a_bug_is_reported_failed_with_its_context_and_type() -> None:
    registry = golang_1_0()
    registry.hooks[("ListImages", 2)] = lambda: registry.push("golang", "1.0-arm64", ARM64_REBUILT)
    registry.hooks[("BatchGetImage", 2)] = fail(KeyError("imageManifest"))
    report = sweeper(registry).sweep(["golang"])
    assert report.entries == [SweepEntry(
        "golang", "1.0", None, failure="written, then changed; retry failed: unexpected KeyError: 'imageManifest'",
        error_type="KeyError")]


# ------------------------------------------------------------------ failures of one version


def test_a_version_whose_reads_fail_transiently_is_failed_with_the_vetted_message() -> None:
    registry = golang_1_0()
    throttled = fail(TransientError("ThrottlingException: Rate exceeded"))
    registry.hooks[("BatchGetImage", 1)] = throttled  # the bulk read of the chunk
    registry.hooks[("BatchGetImage", 2)] = throttled  # and the version's own read
    report = sweeper(registry).sweep(["golang"])
    assert report.entries == [SweepEntry("golang", "1.0", None, failure="ThrottlingException: Rate exceeded",
                                         error_type="TransientError")]
    assert "1.0" not in registry.tags["golang"]


def _raise_deep(depth: int) -> NoReturn:
    if depth:
        _raise_deep(depth - 1)
    raise ValueError("x" * 300)


def test_a_bug_deep_in_a_call_is_logged_with_its_last_eight_frames_and_cut_to_200_characters(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = golang_1_0()
    registry.hooks[("BatchGetImage", 1)] = lambda: _raise_deep(10)
    registry.hooks[("BatchGetImage", 2)] = lambda: _raise_deep(10)
    with records_of("ecr_multiarch.reconcile", caplog), caplog.at_level(logging.INFO):
        report = sweeper(registry).sweep(["golang"])
    assert report.entries == [SweepEntry("golang", "1.0", None, failure="unexpected ValueError: " + "x" * 200,
                                         error_type="ValueError")]
    first_line = _raise_deep.__code__.co_firstlineno
    recursion = f"{THIS_FILE}:{first_line + 2} _raise_deep"
    raised = f"{THIS_FILE}:{first_line + 3} _raise_deep"
    (record,) = records_named("ecr_multiarch.reconcile", caplog)
    assert (record.levelno, record.getMessage()) == (
        logging.ERROR, "unexpected error in the sweep; it goes on with the next version")
    assert (record.repository, record.version, record.error_type, record.raised_at) == (  # type: ignore[attr-defined]
        "golang", "1.0", "ValueError", [recursion] * 7 + [raised])


def test_a_bug_raised_in_a_frozen_module_frame_still_fails_only_its_version(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A frame of a frozen module (``<frozen os>``: a KeyError from os.environ) has no directory in its name."""
    registry = golang_1_0()
    registry.push("golang", "1.1-amd64", AMD64)
    registry.push("golang", "1.1-arm64", ARM64)
    missing_variable = "ECR_MULTIARCH_TEST_VARIABLE_NOBODY_SETS"
    os.environ.pop(missing_variable, None)
    registry.hooks[("BatchGetImage", 1)] = lambda: os.environ[missing_variable] and None  # the bulk read, 1.0's turn
    with records_of("ecr_multiarch.reconcile", caplog), caplog.at_level(logging.INFO):
        report = sweeper(registry).sweep(["golang"])
    assert [entry.to_json() for entry in report.entries] == [
        {"outcome": "failed", "repository": "golang", "version": "1.0",
         "reason": f"unexpected KeyError: '{missing_variable}'", "errorType": "KeyError"},
        {"outcome": "created", "repository": "golang", "version": "1.1",
         "digest": str(registry.tags["golang"]["1.1"].digest), "mediaType": registry.tags["golang"]["1.1"].media_type},
    ]
    (record,) = records_named("ecr_multiarch.reconcile", caplog)
    assert record.raised_at[-1].startswith("<frozen os>:")  # type: ignore[attr-defined]
    assert record.raised_at[-1].endswith(" __getitem__")  # type: ignore[attr-defined]


# ------------------------------------------------------------------ failures of a whole repository


def test_a_bug_in_one_repositorys_listing_fails_that_repository_and_the_next_is_swept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = golang_1_0()
    registry.create_repository("python")
    registry.push("python", "3.12-amd64", AMD64)
    registry.push("python", "3.12-arm64", ARM64)
    registry.hooks[("ListImages", 1)] = fail(AttributeError("'NoneType' object has no attribute 'get'"))
    with records_of("ecr_multiarch.reconcile", caplog), caplog.at_level(logging.INFO):
        report = sweeper(registry).sweep(["golang", "python"])
    held = registry.tags["python"]["3.12"]
    assert report.entries == [
        SweepEntry("golang", None, None, failure="unexpected AttributeError: 'NoneType' object has no attribute 'get'",
                   error_type="AttributeError"),
        SweepEntry("python", "3.12", Outcome(OutcomeKind.CREATED, "python", "3.12", str(held.digest), writes=1)),
    ]
    assert report.entries[0].to_json() == {
        "outcome": "failed", "repository": "golang",
        "reason": "unexpected AttributeError: 'NoneType' object has no attribute 'get'", "errorType": "AttributeError"}
    assert report.cursor is None and report.complete
    (record,) = records_named("ecr_multiarch.reconcile", caplog)
    assert (record.repository, record.version, record.error_type) == (  # type: ignore[attr-defined]
        "golang", None, "AttributeError")


def test_a_listing_that_fails_transiently_fails_the_repository_and_the_next_is_swept() -> None:
    registry = golang_1_0()
    registry.create_repository("python")
    registry.hooks[("ListImages", 1)] = fail(TransientError("ServerException: internal error"))
    report = sweeper(registry).sweep(["golang", "python"])
    assert report.entries == [
        SweepEntry("golang", None, None, failure="listing failed: ServerException: internal error")]
    assert report.to_json() == {
        "complete": True, "repositories": ["golang", "python"],
        "totals": {"created": 0, "updated": 0, "unchanged": 0, "waiting": 0, "rejected": 0, "planned": 0,
                   "failed": 1},
        "writes": 0, "cursor": None,
        "versions": [{"outcome": "failed", "repository": "golang",
                      "reason": "listing failed: ServerException: internal error"}],
    }
    assert registry.counts["ListImages"] == 2  # python was listed too
