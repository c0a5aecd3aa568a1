"""Alias tags (alias_mover.AliasMover) against the in-process registry: for each case, the exact outcome, what
each alias holds afterwards, the exact ECR calls made, and the exact log lines (message, level and fields) that
tell an operator why an alias did or did not move."""

import logging
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from devkit.images import ImageBlobs, make_image
from devkit.memory_registry import MemoryRegistry
from ecr_multiarch.alias_mover import AliasMover
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.index import ChildDescriptor, ImageIndex, IndexFormat, build_index
from ecr_multiarch.domain.platform import Platform
from ecr_multiarch.errors import ImageUnreadableError, ImmutableTagError
from ecr_multiarch.outcome import Outcome, OutcomeKind
from ecr_multiarch.ports import PutResult, StoredManifest
from ecr_multiarch.settings import Settings
from tests.logs import records_named, records_of

LOGGER = "ecr_multiarch.alias_mover"
AMD64_PLATFORM, ARM64_PLATFORM = Platform("linux", "amd64"), Platform("linux", "arm64", "v8")


def index_of(*children: tuple[ImageBlobs, Platform]) -> ImageIndex:
    return build_index([ChildDescriptor(image.media_type, len(image.manifest), Digest(image.digest), platform)
                        for image, platform in children], IndexFormat.AUTO)


def pair(revision: str) -> ImageIndex:
    return index_of((make_image("amd64", revision=revision), AMD64_PLATFORM),
                    (make_image("arm64", variant="v8", revision=revision), ARM64_PLATFORM))


NEW, OLD, HIGHER = pair("2.0.0"), pair("1.0.0"), pair("2.0.1")
# An index someone made by hand that also serves ppc64le: the new one would drop that platform.
WIDE = index_of((make_image("amd64", revision="1.0.0"), AMD64_PLATFORM),
                (make_image("arm64", variant="v8", revision="1.0.0"), ARM64_PLATFORM),
                (make_image("ppc64le", revision="1.0.0"), Platform("linux", "ppc64le")))
SINGLE_ARCH = make_image("amd64", revision="hand-pushed")
CREATED = Outcome(OutcomeKind.CREATED, "golang", "2.0.0", str(NEW.digest), index=NEW, writes=1)
ALL_KINDS = Settings(alias_kinds=("minor", "major", "latest"))
MINOR_LATEST = Settings(alias_kinds=("minor", "latest"))
# A LogRecord's own attributes: everything else on a record came from `extra`.
STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def registry_with(registry: MemoryRegistry | None = None, **aliases: ImageIndex) -> MemoryRegistry:
    """golang:2.0.0 holding NEW (the version just assembled), and each given alias holding an index."""
    registry = registry if registry is not None else MemoryRegistry()
    registry.create_repository("golang")
    registry.put_index("golang", "2.0.0", NEW)
    for alias, index in aliases.items():
        registry.put_index("golang", alias, index)
    registry.calls.clear()
    return registry


def digest_at(registry: MemoryRegistry, tag: str) -> str | None:
    held = registry.tags["golang"].get(tag)
    return str(held.digest) if held is not None else None


def moved(alias: str) -> tuple[str, str, dict[str, Any]]:
    return "INFO", "alias moved", {"repository": "golang", "alias": alias, "version": "2.0.0",
                                   "digest": str(NEW.digest)}


def logged(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, dict[str, Any]]]:
    return [(record.levelname, record.getMessage(),
             {key: value for key, value in record.__dict__.items() if key not in STANDARD})
            for record in records_named(LOGGER, caplog)]


def move(registry: MemoryRegistry, settings: Settings, caplog: pytest.LogCaptureFixture,
         outcome: Outcome = CREATED, **options: bool) -> Outcome:
    with records_of(LOGGER, caplog):
        return AliasMover(registry).move("golang", outcome, settings, **options)  # type: ignore[arg-type]


def test_every_alias_moves_forward_and_each_move_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    registry = registry_with(latest=OLD)  # latest still on an older version's index: moved forward
    outcome = move(registry, ALL_KINDS, caplog)
    assert outcome == replace(CREATED, aliases=("2.0", "2", "latest"))
    assert outcome.index is NEW
    assert [digest_at(registry, tag) for tag in ("2.0", "2", "latest")] == [str(NEW.digest)] * 3
    assert registry.calls == ["BatchGetImage", "ListImages", "PutImage", "PutImage", "PutImage",
                              "BatchGetImage", "ListImages"]  # read, list, write, verify read and listing
    assert logged(caplog) == [moved("2.0"), moved("2"), moved("latest")]


def test_aliases_already_holding_the_index_cost_one_read_and_no_write(caplog: pytest.LogCaptureFixture) -> None:
    registry = registry_with(**{"2.0": NEW, "latest": NEW})
    unchanged = replace(CREATED, kind=OutcomeKind.UNCHANGED, writes=0)
    assert move(registry, MINOR_LATEST, caplog, unchanged) == replace(unchanged, aliases=("2.0", "latest"))
    assert registry.calls == ["BatchGetImage"]
    assert logged(caplog) == []


@pytest.mark.parametrize(("settings", "outcome"), [
    (Settings(), CREATED),  # aliases are opt-in
    (Settings(alias_kinds=("latest",), dry_run=True), CREATED),
    (MINOR_LATEST, replace(CREATED, index=None)),
    (MINOR_LATEST, replace(CREATED, version="nightly")),  # not a version: no alias group
    (MINOR_LATEST, replace(CREATED, version=None)),
    (MINOR_LATEST, replace(CREATED, kind=OutcomeKind.PLANNED)),  # an index, but not one that was written
    (MINOR_LATEST, replace(CREATED, kind=OutcomeKind.WAITING)),
    (MINOR_LATEST, replace(CREATED, kind=OutcomeKind.REJECTED)),
    (MINOR_LATEST, replace(CREATED, kind=OutcomeKind.SKIPPED)),
], ids=["off", "dry-run", "no-index", "not-a-version", "no-version", "planned", "waiting", "rejected", "skipped"])
def test_nothing_is_read_or_moved_unless_an_index_of_a_version_was_written(
    settings: Settings, outcome: Outcome, caplog: pytest.LogCaptureFixture
) -> None:
    registry = registry_with()
    assert move(registry, settings, caplog, outcome) is outcome
    assert registry.calls == []
    assert digest_at(registry, "latest") is None
    assert logged(caplog) == []


def test_an_alias_holding_a_single_arch_image_is_left_and_named(caplog: pytest.LogCaptureFixture) -> None:
    registry = registry_with()
    registry.push("golang", "latest", SINGLE_ARCH)
    registry.calls.clear()
    assert move(registry, MINOR_LATEST, caplog) == replace(CREATED, aliases=("2.0",))
    assert digest_at(registry, "latest") == SINGLE_ARCH.digest
    assert digest_at(registry, "2.0") == str(NEW.digest)
    assert registry.calls == ["BatchGetImage", "ListImages", "PutImage", "BatchGetImage", "ListImages"]
    assert logged(caplog) == [
        ("WARNING", "alias not moved", {"repository": "golang", "alias": "latest",
                                        "reason": "the alias tag holds a single-arch image; left untouched"}),
        moved("2.0"),
    ]


def test_an_alias_that_would_drop_a_platform_is_left_and_the_reason_logged(
    caplog: pytest.LogCaptureFixture
) -> None:
    registry = registry_with(latest=WIDE)
    assert move(registry, MINOR_LATEST, caplog) == replace(CREATED, aliases=("2.0",))  # may_drop defaults off
    assert digest_at(registry, "latest") == str(WIDE.digest)
    assert registry.calls == ["BatchGetImage", "ListImages", "PutImage", "BatchGetImage", "ListImages"]
    reason = (f"golang:latest holds an index ({WIDE.digest}) serving linux/ppc64le, which the new index would "
              "drop; it is left untouched. To keep linux/ppc64le: push latest-ppc64le and require ppc64le "
              "(REQUIRED_ARCHITECTURES or the repository tag ecr-multiarch:architectures). To replace it anyway: "
              "`ecr-multiarch assemble <repository>:<version> --force`, or the repository tag "
              "ecr-multiarch:replace=always")
    assert logged(caplog) == [
        ("WARNING", "alias not moved", {"repository": "golang", "alias": "latest", "reason": reason}),
        moved("2.0"),
    ]


def test_may_drop_moves_an_alias_over_an_index_serving_more(caplog: pytest.LogCaptureFixture) -> None:
    registry = registry_with(latest=WIDE)
    assert move(registry, MINOR_LATEST, caplog, may_drop=True) == replace(CREATED, aliases=("2.0", "latest"))
    assert digest_at(registry, "latest") == str(NEW.digest)
    assert logged(caplog) == [moved("2.0"), moved("latest")]


def test_an_alias_that_is_a_version_of_its_own_is_not_moved(caplog: pytest.LogCaptureFixture) -> None:
    registry = registry_with()
    registry.push("golang", "latest-amd64", SINGLE_ARCH)  # `latest` is assembled from its own arch tags
    registry.calls.clear()
    assert move(registry, MINOR_LATEST, caplog) == replace(CREATED, aliases=("2.0",))
    assert digest_at(registry, "latest") is None
    assert registry.calls == ["BatchGetImage", "ListImages", "PutImage", "BatchGetImage", "ListImages"]
    assert logged(caplog) == [moved("2.0")]


def test_an_alias_of_a_higher_version_never_moves_back(caplog: pytest.LogCaptureFixture) -> None:
    registry = registry_with(**{"2.1.0": HIGHER, "latest": HIGHER})  # 2.1.0 is out; 2.0.0 is a late backport
    assert move(registry, MINOR_LATEST, caplog) == replace(CREATED, aliases=("2.0",))
    assert digest_at(registry, "latest") == str(HIGHER.digest)
    assert registry.calls == ["BatchGetImage", "ListImages", "PutImage", "BatchGetImage", "ListImages"]
    assert logged(caplog) == [moved("2.0")]


@dataclass
class UnreadableAliases(MemoryRegistry):
    """BatchGetImage of the aliases refused for good (an archived alias, a KMS key ECR cannot use)."""

    def get_manifests(self, repository: str, tags: Any) -> dict[str, StoredManifest]:
        self.calls.append("BatchGetImage")
        raise ImageUnreadableError("latest is archived")


def test_aliases_ecr_will_not_hand_out_are_left_and_the_outcome_stands(caplog: pytest.LogCaptureFixture) -> None:
    registry = registry_with(UnreadableAliases())
    assert move(registry, MINOR_LATEST, caplog) is CREATED
    assert registry.calls == ["BatchGetImage"]
    assert logged(caplog) == [("WARNING", "aliases not read; left as they are",
                               {"repository": "golang", "aliases": ["2.0", "latest"],
                                "error": "latest is archived"})]


IMMUTABLE = "The image tag 'latest' already exists in the 'golang' repository and cannot be overwritten because " \
            "the tag is immutable."


@dataclass
class ImmutableLatest(MemoryRegistry):
    """ECR's answer to a PutImage on an immutable tag that already exists."""

    def put_index(self, repository: str, tag: str, index: ImageIndex) -> PutResult:
        if tag == "latest" and tag in self.tags.get(repository, {}):
            self.calls.append("PutImage")
            raise ImmutableTagError(IMMUTABLE)
        return super().put_index(repository, tag, index)


def test_an_immutable_alias_is_tried_once_and_named(caplog: pytest.LogCaptureFixture) -> None:
    registry = registry_with(ImmutableLatest(), latest=OLD)
    assert move(registry, MINOR_LATEST, caplog) == replace(CREATED, aliases=("2.0",))
    assert digest_at(registry, "latest") == str(OLD.digest)
    assert registry.calls == ["BatchGetImage", "ListImages", "PutImage", "PutImage", "BatchGetImage",
                              "BatchGetImage", "ListImages"]  # the refused tag read once to name what it holds
    error = f"{IMMUTABLE}; it holds {OLD.digest}, not the desired index {NEW.digest}"
    assert logged(caplog) == [moved("2.0"),
                              ("WARNING", "alias not moved", {"repository": "golang", "alias": "latest",
                                                              "error": error})]


@dataclass
class ContestedLatest(MemoryRegistry):
    """Another writer puts its own index at ``latest`` right after each of our writes there."""

    theirs: ImageIndex = OLD
    writes_to_latest: int = 0

    def put_index(self, repository: str, tag: str, index: ImageIndex) -> PutResult:
        result = super().put_index(repository, tag, index)
        if tag == "latest" and index is NEW:
            self.writes_to_latest += 1
            self.tags[repository][tag] = StoredManifest(tag, self.theirs.digest, self.theirs.media_type,
                                                        self.theirs.body)
        return result


def test_an_alias_that_keeps_changing_is_written_three_times_then_left(caplog: pytest.LogCaptureFixture) -> None:
    registry = registry_with(ContestedLatest())
    assert move(registry, MINOR_LATEST, caplog) == replace(CREATED, aliases=("2.0",))
    assert registry.writes_to_latest == 3  # MAX_ATTEMPTS writes, each decided on a fresh read
    assert registry.calls == ["BatchGetImage", "ListImages", "PutImage", "PutImage",
                              "BatchGetImage", "ListImages", "PutImage",
                              "BatchGetImage", "ListImages", "PutImage",
                              "BatchGetImage", "ListImages"]
    assert logged(caplog) == [
        moved("2.0"), moved("latest"), moved("latest"), moved("latest"),
        ("WARNING", "alias kept changing under concurrent writers; left to the next event or sweep",
         {"repository": "golang", "alias": "latest"}),
    ]


@dataclass
class HigherVersionLands(MemoryRegistry):
    """2.0.1 is assembled (by another invocation) right after our alias writes, before our verify listing."""

    pending: list[str] = field(default_factory=lambda: ["2.0.1"])

    def list_tags(self, repository: str) -> list[str]:
        if self.calls.count("PutImage") == 2 and self.pending:
            MemoryRegistry.put_index(self, repository, self.pending.pop(), HIGHER)
            self.calls.pop()  # their PutImage, not ours
        return super().list_tags(repository)


def test_an_alias_overtaken_by_a_higher_version_is_reported_and_left_to_it(
    caplog: pytest.LogCaptureFixture
) -> None:
    registry = registry_with(HigherVersionLands())
    assert move(registry, MINOR_LATEST, caplog) == replace(CREATED, aliases=("2.0", "latest"))
    assert registry.calls == ["BatchGetImage", "ListImages", "PutImage", "PutImage", "BatchGetImage", "ListImages"]
    overtaken = "alias holds this index but a higher version now exists"
    assert logged(caplog) == [moved("2.0"), moved("latest"),
                              ("WARNING", overtaken, {"repository": "golang", "alias": "2.0"}),
                              ("WARNING", overtaken, {"repository": "golang", "alias": "latest"})]
