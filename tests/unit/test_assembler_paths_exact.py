"""``Assembler.assemble``'s own paths, exactly: the policy read overlapping the first read (and that read's error
raised only when it is used), which read each attempt plans from, the skip and rejection outcomes, the pushed
tag's checks, and --force / ecr-multiarch:replace=always reaching both the version tag and its aliases."""

import json
import threading
from collections import Counter
from dataclasses import dataclass, field

import pytest

from devkit.images import ImageBlobs, make_image
from devkit.memory_registry import MemoryRegistry
from ecr_multiarch.assembler import Assembler, PlatformCache, PolicyCache, PushedTagNotVisibleError
from ecr_multiarch.domain import media_types
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.index import ImageIndex
from ecr_multiarch.errors import TransientError
from ecr_multiarch.outcome import Outcome, OutcomeKind
from ecr_multiarch.ports import PutResult, StoredManifest
from ecr_multiarch.settings import Settings
from tests.logs import records_named, records_of

AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")
S390X = make_image("s390x")


@dataclass
class Registry(MemoryRegistry):
    """MemoryRegistry that can fail reads, notice whether the policy read overlaps the first read, and run a step
    right after a write."""

    failing_reads: int = 0
    raised: list[Exception] = field(default_factory=list)
    read_started: threading.Event = field(default_factory=threading.Event)
    await_first_read: bool = False
    overlapped: list[bool] = field(default_factory=list)
    after_write: list[str] = field(default_factory=list)  # arch tags deleted right after our next write

    def get_manifests(self, repository: str, tags: object) -> dict[str, StoredManifest]:
        self.read_started.set()
        if self.failing_reads:
            self.failing_reads -= 1
            self.calls.append("BatchGetImage")
            self.raised.append(TransientError("BatchGetImage: throttled"))
            raise self.raised[-1]
        return super().get_manifests(repository, tags)  # type: ignore[arg-type]

    def repository_tags(self, repository: str, account: str | None = None) -> dict[str, str]:
        if self.await_first_read:  # answer once the first read has started (bounded): a sequential caller waits
            self.overlapped.append(self.read_started.wait(timeout=5))
        return super().repository_tags(repository, account)

    def put_index(self, repository: str, tag: str, index: ImageIndex) -> PutResult:
        result = super().put_index(repository, tag, index)
        while self.after_write:
            del self.tags[repository][self.after_write.pop()]
        return result


def registry_with(policy: dict[str, str] | None = None, **tags: ImageBlobs) -> Registry:
    registry = Registry()
    registry.create_repository("app")
    if policy is not None:
        registry.repository_tag_values["app"] = policy
    for tag, image in tags.items():
        registry.push("app", tag.replace("_", "-"), image)
    return registry


def both(**extra: ImageBlobs) -> dict[str, ImageBlobs]:
    return {"1.0_amd64": AMD64, "1.0_arm64": ARM64, **extra}


def with_policy(registry: Registry, settings: Settings | None = None) -> Assembler:
    return Assembler(registry, registry, settings or Settings(), repository_tags=registry)  # type: ignore[arg-type]


CREATE = Counter({"ListTagsForResource": 1, "BatchGetImage": 2, "GetDownloadUrlForLayer": 2, "GET blob": 2,
                  "PutImage": 1})  # the policy, the first read, two configs, the write and its verify read


def test_the_policy_read_overlaps_the_first_read_which_is_used() -> None:
    registry = registry_with({}, **both())
    registry.await_first_read = True
    outcome = with_policy(registry).assemble("app", "1.0")
    assert outcome.kind is OutcomeKind.CREATED and outcome.writes == 1
    assert registry.overlapped == [True]
    assert Counter(registry.calls) == CREATE
    assert set(registry.calls[:2]) == {"ListTagsForResource", "BatchGetImage"}


def test_prefetched_manifests_replace_the_first_read_also_when_the_policy_is_read() -> None:
    registry = registry_with({}, **both())
    prefetched = registry.get_manifests("app", ["1.0-amd64", "1.0-arm64", "1.0"])
    registry.calls.clear()
    assert with_policy(registry).assemble("app", "1.0", prefetched).kind is OutcomeKind.CREATED
    assert Counter(registry.calls) == CREATE - Counter({"BatchGetImage": 1})
    assert registry.calls[-1] == "BatchGetImage"  # only the verify read


def test_a_cached_policy_of_its_own_architectures_reads_those_only_once() -> None:
    registry = registry_with({"ecr-multiarch:architectures": "amd64"}, **{"1.0_amd64": AMD64, "1.1_amd64": AMD64})
    assembler = with_policy(registry)
    assert assembler.assemble("app", "1.0").kind is OutcomeKind.CREATED
    registry.calls.clear()
    assert assembler.assemble("app", "1.1").kind is OutcomeKind.CREATED
    assert registry.calls == ["BatchGetImage", "PutImage", "BatchGetImage"]


def test_a_failed_first_read_is_raised_as_it_was() -> None:
    registry = registry_with({}, **both())
    registry.failing_reads = 1
    with pytest.raises(TransientError) as raised:
        with_policy(registry).assemble("app", "1.0")
    assert raised.value is registry.raised[0]
    assert Counter(registry.calls) == Counter({"ListTagsForResource": 1, "BatchGetImage": 1})


OPTED_OUT = Outcome(OutcomeKind.SKIPPED, "app", "1.0",
                    reason="repository opted out (repository tag ecr-multiarch:enabled=false)")


def test_an_opted_out_repository_is_skipped_whatever_the_first_read_met() -> None:
    registry = registry_with({"ecr-multiarch:enabled": "false"}, **both())
    registry.failing_reads = 1
    assembler = with_policy(registry)
    assert assembler.assemble("app", "1.0") == OPTED_OUT
    assert assembler.assemble("app", "1.0") == OPTED_OUT  # the policy cached: no read at all
    assert Counter(registry.calls) == Counter({"ListTagsForResource": 1, "BatchGetImage": 1})


def test_a_failed_first_read_for_the_functions_architectures_is_not_used_for_the_repositorys_own() -> None:
    registry = registry_with({"ecr-multiarch:architectures": "amd64"}, **{"1.0_amd64": AMD64})
    registry.failing_reads = 1
    outcome = with_policy(registry).assemble("app", "1.0")
    assert outcome.kind is OutcomeKind.CREATED
    assert [entry["digest"] for entry in json.loads(registry.tags["app"]["1.0"].body)["manifests"]] == [
        AMD64.digest]


def test_an_event_for_an_architecture_not_required_is_skipped_naming_the_required_ones() -> None:
    registry = registry_with(None, **both(**{"1.0_s390x": S390X}))
    outcome = Assembler(registry, registry, Settings()).assemble(  # type: ignore[arg-type]
        "app", "1.0", pushed_suffix="s390x", pushed_digest=Digest(S390X.digest))
    assert outcome == Outcome(OutcomeKind.SKIPPED, "app", "1.0",
                              reason="suffix 's390x' is not one of the required architectures (amd64, arm64)")
    assert registry.calls == []


def test_a_pushed_tag_the_read_does_not_show_is_raised_for_a_retry() -> None:
    registry = registry_with(None, **{"1.0_arm64": ARM64})
    with pytest.raises(PushedTagNotVisibleError) as raised:
        Assembler(registry, registry, Settings()).assemble(  # type: ignore[arg-type]
            "app", "1.0", pushed_suffix="amd64", pushed_digest=Digest(AMD64.digest))
    assert str(raised.value) == ("app:1.0-amd64 was pushed but BatchGetImage does not show it yet; the event will "
                                 "be retried")


@pytest.mark.parametrize(("event_digest", "logged"), [
    (Digest(make_image("amd64", revision="0").digest), True),  # a newer push replaced the event's image
    (Digest(AMD64.digest), False),
    (None, False),
])
def test_a_pushed_tag_holding_a_newer_image_is_logged_and_the_read_wins(
    event_digest: Digest | None, logged: bool, caplog: pytest.LogCaptureFixture
) -> None:
    registry = registry_with(None, **both())
    with records_of("ecr_multiarch.assembler", caplog):
        outcome = Assembler(registry, registry, Settings()).assemble(  # type: ignore[arg-type]
            "app", "1.0", pushed_suffix="amd64", pushed_digest=event_digest)
    assert outcome.kind is OutcomeKind.CREATED
    records = [(record.getMessage(), record.repository, record.tag, record.read_digest)  # type: ignore[attr-defined]
               for record in records_named("ecr_multiarch.assembler", caplog)]
    assert records == ([("the pushed tag now holds a newer image; going on with what the read shows", "app",
                         "1.0-amd64", AMD64.digest)] if logged else [])


def test_the_verify_read_after_a_write_no_longer_asks_for_the_pushed_tag() -> None:
    """The pushed tag is checked on the first read only: deleted after our write, it is missing, not 'unseen'."""
    registry = registry_with(None, **both())
    registry.after_write.append("1.0-amd64")
    outcome = Assembler(registry, registry, Settings()).assemble(  # type: ignore[arg-type]
        "app", "1.0", pushed_suffix="amd64", pushed_digest=Digest(AMD64.digest))
    assert outcome == Outcome(OutcomeKind.WAITING, "app", "1.0", missing=("1.0-amd64",), writes=1)


AMBIGUOUS = ("app: version 1.0-windows cannot be indexed: its amd64 tag 1.0-windows-amd64 is the windows-amd64 tag "
             "of version 1.0 under the tag grammar (tag this version's images under another version name)")


@pytest.mark.parametrize("policy", [None, {}])
def test_a_version_the_tag_grammar_refuses_is_rejected_before_any_read(policy: dict[str, str] | None) -> None:
    registry = registry_with(policy)
    assembler = with_policy(registry) if policy is not None else Assembler(registry, registry, Settings())  # type: ignore[arg-type]
    assert assembler.assemble("app", "1.0-windows") == Outcome(OutcomeKind.REJECTED, "app", "1.0-windows",
                                                               reason=AMBIGUOUS)
    assert registry.calls == ([] if policy is None else ["ListTagsForResource"])


def test_a_version_tag_holding_a_single_arch_image_is_rejected_naming_it() -> None:
    registry = registry_with(None, **both(**{"1.0": AMD64}))
    assert Assembler(registry, registry, Settings()).assemble("app", "1.0") == Outcome(  # type: ignore[arg-type]
        OutcomeKind.REJECTED, "app", "1.0",
        reason=f"app:1.0 holds a single-arch image ({AMD64.media_type}, {AMD64.digest}) that ecr-multiarch did not "
               "make; it is left untouched (move or delete it to let the index be written)")


def test_without_verify_the_first_write_is_the_answer() -> None:
    """A sweep verifies its writes itself, in bulk: no verify read of its own."""
    registry = registry_with(None, **both())
    outcome = Assembler(registry, registry, Settings()).assemble("app", "1.0", verify=False)  # type: ignore[arg-type]
    assert (outcome.kind, outcome.writes) == (OutcomeKind.CREATED, 1)
    assert registry.calls[0] == "BatchGetImage" and registry.calls[-1] == "PutImage"
    assert registry.calls.count("BatchGetImage") == 1


def test_a_permanent_error_is_a_rejection_naming_it() -> None:
    registry = Registry()
    assert Assembler(registry, registry, Settings()).assemble("nope", "1.0") == Outcome(  # type: ignore[arg-type]
        OutcomeKind.REJECTED, "nope", "1.0", reason="repository 'nope' does not exist")


def test_a_platform_cache_handed_in_is_the_one_used() -> None:
    registry = registry_with(None, **both())
    platforms = PlatformCache()
    Assembler(registry, registry, Settings(), platforms).assemble("app", "1.0")  # type: ignore[arg-type]
    assert len(platforms) == 2
    registry.push("app", "1.1-amd64", AMD64)
    registry.push("app", "1.1-arm64", ARM64)
    registry.calls.clear()
    assert Assembler(registry, registry, Settings(), platforms).assemble(  # type: ignore[arg-type]
        "app", "1.1").kind is OutcomeKind.CREATED
    assert registry.calls == ["BatchGetImage", "PutImage", "BatchGetImage"]


def test_a_policy_cache_handed_in_is_the_one_used() -> None:
    registry = registry_with({}, **both())
    policies = PolicyCache()
    Assembler(registry, registry, Settings(), repository_tags=registry,  # type: ignore[arg-type]
              policy_cache=policies).assemble("app", "1.0")
    registry.calls.clear()
    assert Assembler(registry, registry, Settings(), repository_tags=registry,  # type: ignore[arg-type]
                     policy_cache=policies).assemble("app", "1.0").kind is OutcomeKind.UNCHANGED
    assert registry.calls == ["BatchGetImage"]


def foreign_index(registry: Registry, tag: str, images: dict[str, ImageBlobs]) -> None:
    """Someone else's index serving more platforms than the function's two architectures."""
    entries = []
    for image in images.values():
        config = json.loads(registry.blobs[image.config_digest])
        platform = {"architecture": config["architecture"], "os": config["os"],
                    **({"variant": config["variant"]} if "variant" in config else {})}
        entries.append({"mediaType": image.media_type, "size": len(image.manifest), "digest": image.digest,
                        "platform": platform})
    body = json.dumps({"schemaVersion": 2, "mediaType": media_types.DOCKER_MANIFEST_LIST, "manifests": entries},
                      indent=3).encode()
    registry.tags["app"][tag] = StoredManifest(tag, Digest.of(body), media_types.DOCKER_MANIFEST_LIST, body)


@pytest.mark.parametrize("how", ["no", "force", "replace=always"])
def test_replacing_an_index_that_serves_more_applies_to_the_version_and_its_aliases(how: str) -> None:
    registry = registry_with({"ecr-multiarch:replace": "always"} if how == "replace=always" else {},
                             **{"1.0.0_amd64": AMD64, "1.0.0_arm64": ARM64, "1.0.0_s390x": S390X})
    for tag in ("1.0.0", "1.0"):
        foreign_index(registry, tag, {"amd64": AMD64, "arm64": ARM64, "s390x": S390X})
    before = dict(registry.tags["app"])
    forced = {"force": True} if how == "force" else {}  # not forcing is the default
    outcome = with_policy(registry, Settings(alias_kinds=("minor",))).assemble("app", "1.0.0", **forced)
    if how == "no":
        assert outcome.kind is OutcomeKind.REJECTED
        assert registry.tags["app"] == before
        return
    assert (outcome.kind, outcome.aliases) == (OutcomeKind.UPDATED, ("1.0",))
    assert registry.tags["app"]["1.0"].digest == registry.tags["app"]["1.0.0"].digest == Digest(outcome.digest or "")
    assert [entry["digest"] for entry in json.loads(registry.tags["app"]["1.0"].body)["manifests"]] == [
        AMD64.digest, ARM64.digest]
