"""The write-and-verify loop (convergence.IndexWriter.converge) driven by a scripted plan, one decision per fresh
read, against the in-process registry: for each path, the exact outcome (writes and index included), the exact
ECR calls, what the tag holds afterwards and the exact log lines an operator reads."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest

from devkit.images import make_image
from devkit.memory_registry import MemoryRegistry
from ecr_multiarch.convergence import IndexWriter
from ecr_multiarch.domain.decision import Rejected, Unchanged, Waiting, Write
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.index import ChildDescriptor, ImageIndex, IndexFormat, build_index
from ecr_multiarch.domain.platform import Platform
from ecr_multiarch.errors import ReferencedImagesMissingError, UnsettledError
from ecr_multiarch.outcome import Outcome, OutcomeKind
from ecr_multiarch.ports import PutResult
from tests.logs import records_named, records_of

LOGGER = "ecr_multiarch.convergence"
STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}  # all else on a record is `extra`


def pair(revision: str) -> ImageIndex:
    amd64, arm64 = make_image("amd64", revision=revision), make_image("arm64", variant="v8", revision=revision)
    return build_index([ChildDescriptor(amd64.media_type, len(amd64.manifest), Digest(amd64.digest),
                                        Platform("linux", "amd64")),
                        ChildDescriptor(arm64.media_type, len(arm64.manifest), Digest(arm64.digest),
                                        Platform("linux", "arm64", "v8"))], IndexFormat.AUTO)


FIRST, SECOND, THIRD, EARLIER = pair("first"), pair("second"), pair("third"), pair("earlier")
Decision = Waiting | Rejected | Unchanged | Write


def scripted(*decisions: Decision) -> tuple[list[int], Any]:
    """A plan answering attempt n with the n-th decision, and the attempts it was asked for."""
    asked: list[int] = []

    def plan(attempt: int) -> Decision:
        asked.append(attempt)
        return decisions[attempt]
    return asked, plan


def empty_registry(registry: MemoryRegistry | None = None) -> MemoryRegistry:
    registry = registry if registry is not None else MemoryRegistry()
    registry.create_repository("golang")
    return registry


def held(registry: MemoryRegistry) -> str | None:
    stored = registry.tags["golang"].get("1.0")
    return str(stored.digest) if stored is not None else None


def logged(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, dict[str, Any]]]:
    return [(record.levelname, record.getMessage(),
             {key: value for key, value in record.__dict__.items() if key not in STANDARD})
            for record in records_named(LOGGER, caplog)]


def wrote(index: ImageIndex, replaces: Digest | None = None, message: str = "index written"
          ) -> tuple[str, str, dict[str, Any]]:
    return "INFO", message, {"repository": "golang", "version": "1.0", "digest": str(index.digest),
                             "media_type": index.media_type, "format_reason": index.format_reason,
                             "replaces": str(replaces) if replaces else None}


def converge(registry: MemoryRegistry, plan: Any, caplog: pytest.LogCaptureFixture, **options: bool) -> Outcome:
    with records_of(LOGGER, caplog):
        return IndexWriter(registry).converge("golang", "1.0", plan, **options)  # type: ignore[arg-type]


def test_a_write_is_verified_by_a_fresh_read_by_default(caplog: pytest.LogCaptureFixture) -> None:
    registry = empty_registry()
    asked, plan = scripted(Write(FIRST, None), Unchanged(FIRST))
    outcome = converge(registry, plan, caplog)  # neither dry_run nor verify given: write, then verify
    assert outcome == Outcome(OutcomeKind.CREATED, "golang", "1.0", str(FIRST.digest), writes=1)
    assert outcome.index is FIRST
    assert asked == [0, 1]
    assert registry.calls == ["PutImage"]
    assert held(registry) == str(FIRST.digest)
    assert FIRST.format_reason != "" and logged(caplog) == [wrote(FIRST)]


def test_an_update_names_the_index_it_replaces(caplog: pytest.LogCaptureFixture) -> None:
    registry = empty_registry()
    registry.put_index("golang", "1.0", EARLIER)
    asked, plan = scripted(Write(FIRST, EARLIER.digest), Unchanged(FIRST))
    outcome = converge(registry, plan, caplog, verify=True)
    assert outcome == Outcome(OutcomeKind.UPDATED, "golang", "1.0", str(FIRST.digest), writes=1)
    assert asked == [0, 1]
    assert held(registry) == str(FIRST.digest)
    assert logged(caplog) == [wrote(FIRST, EARLIER.digest)]


def test_a_rewrite_reports_the_first_verdict_with_what_the_tag_holds_at_the_end(
    caplog: pytest.LogCaptureFixture
) -> None:
    """Our verify read saw a newer child: the corrected index is written, and the outcome names it."""
    registry = empty_registry()
    asked, plan = scripted(Write(FIRST, None), Write(SECOND, FIRST.digest), Unchanged(SECOND))
    outcome = converge(registry, plan, caplog)
    assert outcome == Outcome(OutcomeKind.CREATED, "golang", "1.0", str(SECOND.digest), writes=2)
    assert outcome.index is SECOND
    assert asked == [0, 1, 2]
    assert registry.calls == ["PutImage", "PutImage"]
    assert held(registry) == str(SECOND.digest)
    assert logged(caplog) == [wrote(FIRST), wrote(SECOND, FIRST.digest)]


def test_an_index_already_there_is_unchanged_and_counts_no_write(caplog: pytest.LogCaptureFixture) -> None:
    registry = empty_registry()
    registry.put_index("golang", "1.0", FIRST)  # a concurrent invocation wrote it between our read and write
    registry.calls.clear()
    asked, plan = scripted(Write(FIRST, None), Unchanged(FIRST))
    outcome = converge(registry, plan, caplog)
    assert outcome == Outcome(OutcomeKind.UNCHANGED, "golang", "1.0", str(FIRST.digest), writes=0)
    assert asked == [0, 1]
    assert registry.calls == ["PutImage"]
    assert logged(caplog) == [wrote(FIRST, message="index already present")]


def test_without_verify_the_first_write_is_the_answer(caplog: pytest.LogCaptureFixture) -> None:
    registry = empty_registry()
    registry.put_index("golang", "1.0", EARLIER)
    asked, plan = scripted(Write(FIRST, EARLIER.digest), Unchanged(FIRST))
    outcome = converge(registry, plan, caplog, verify=False)
    assert outcome == Outcome(OutcomeKind.UPDATED, "golang", "1.0", str(FIRST.digest), writes=1)
    assert outcome.index is FIRST
    assert asked == [0]  # no verify read: the sweep verifies in bulk
    assert logged(caplog) == [wrote(FIRST, EARLIER.digest)]


@pytest.mark.parametrize(("after", "expected"), [
    (Waiting(("1.0-arm64",)), Outcome(OutcomeKind.WAITING, "golang", "1.0", missing=("1.0-arm64",), writes=1)),
    (Rejected("1.0-arm64 is now a mislabelled image"),
     Outcome(OutcomeKind.REJECTED, "golang", "1.0", reason="1.0-arm64 is now a mislabelled image", writes=1)),
], ids=["a-child-deleted", "a-child-mislabelled"])
def test_children_that_change_after_our_write_decide_the_answer_and_the_write_is_counted(
    after: Decision, expected: Outcome, caplog: pytest.LogCaptureFixture
) -> None:
    registry = empty_registry()
    asked, plan = scripted(Write(FIRST, None), after)
    assert converge(registry, plan, caplog) == expected
    assert asked == [0, 1]
    assert held(registry) == str(FIRST.digest)


@dataclass
class ChildReplacedDuringWrite(MemoryRegistry):
    """ECR refuses the first PutImage: a child it names was replaced between our read and our write."""

    refusals: int = 1

    def put_index(self, repository: str, tag: str, index: ImageIndex) -> PutResult:
        if self.refusals:
            self.refusals -= 1
            self.calls.append("PutImage")
            raise ReferencedImagesMissingError("The image manifest references images that do not exist")
        return super().put_index(repository, tag, index)


def test_a_child_replaced_during_the_write_is_read_again_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    registry = empty_registry(ChildReplacedDuringWrite())
    asked, plan = scripted(Write(FIRST, None), Write(SECOND, None), Unchanged(SECOND))
    outcome = converge(registry, plan, caplog)
    assert outcome == Outcome(OutcomeKind.CREATED, "golang", "1.0", str(SECOND.digest), writes=1)
    assert asked == [0, 1, 2]
    assert registry.calls == ["PutImage", "PutImage"]
    assert held(registry) == str(SECOND.digest)
    assert logged(caplog) == [
        ("INFO", "a child changed during the write; reading again",
         {"error": "The image manifest references images that do not exist"}),
        wrote(SECOND),
    ]


def test_children_repushed_on_every_read_raise_unsettled_after_three_writes(
    caplog: pytest.LogCaptureFixture
) -> None:
    registry = empty_registry()
    writes: Sequence[Decision] = (Write(FIRST, None), Write(SECOND, FIRST.digest), Write(THIRD, SECOND.digest))
    asked, plan = scripted(*writes)
    with pytest.raises(UnsettledError) as raised:
        converge(registry, plan, caplog)
    assert str(raised.value) == ("golang:1.0 still did not hold the index of its current children after 3 attempts "
                                 "(children re-pushed concurrently); the event will be retried")
    assert asked == [0, 1, 2]
    assert registry.calls == ["PutImage", "PutImage", "PutImage"]
    assert held(registry) == str(THIRD.digest)
    assert logged(caplog) == [wrote(FIRST), wrote(SECOND, FIRST.digest), wrote(THIRD, SECOND.digest)]


def test_an_unchanged_first_read_writes_nothing(caplog: pytest.LogCaptureFixture) -> None:
    registry = empty_registry()
    asked, plan = scripted(Unchanged(FIRST))
    outcome = converge(registry, plan, caplog)
    assert outcome == replace(Outcome(OutcomeKind.UNCHANGED, "golang", "1.0", str(FIRST.digest)), writes=0)
    assert outcome.index is FIRST
    assert asked == [0]
    assert registry.calls == []
    assert logged(caplog) == []
