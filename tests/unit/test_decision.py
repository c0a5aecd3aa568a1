"""The pure decision (domain/decision.py), table by table: what a read calls for, and the no-drop rule."""

import json
from dataclasses import dataclass

import pytest

from devkit.images import ImageBlobs, make_buildkit_image, make_image
from ecr_multiarch.domain import media_types
from ecr_multiarch.domain.aliases import versions_among
from ecr_multiarch.domain.decision import (
    Arch,
    Candidate,
    Child,
    Rejected,
    Unchanged,
    Unseen,
    Waiting,
    Write,
    decide_index,
    first_look,
    lost_platforms,
    platform_identity,
    served_platforms,
)
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.index import ChildDescriptor, IndexFormat, build_index
from ecr_multiarch.domain.platform import Platform
from ecr_multiarch.domain.policy import PolicyError, RepositoryPolicy, parse_policy
from ecr_multiarch.domain.tags import DEFAULT_SUFFIXES
from ecr_multiarch.settings import Settings


@dataclass(frozen=True)
class Stored:
    tag: str
    digest: Digest
    media_type: str
    body: bytes


def stored(tag: str, image: ImageBlobs) -> Stored:
    return Stored(tag, Digest(image.digest), image.media_type, image.manifest)


def index_at(tag: str, entries: list[dict[str, object]], media_type: str = media_types.DOCKER_MANIFEST_LIST) -> Stored:
    body = json.dumps({"schemaVersion": 2, "mediaType": media_type, "manifests": entries}, indent=3).encode()
    return Stored(tag, Digest.of(body), media_type, body)


def entry(platform: dict[str, str], digest: str = "a", annotations: dict[str, str] | None = None) -> dict[str, object]:
    document: dict[str, object] = {"mediaType": media_types.DOCKER_MANIFEST, "size": 500,
                                   "digest": "sha256:" + digest * 64, "platform": platform}
    if annotations:
        document["annotations"] = annotations
    return document


AMD64, ARM64, PPC = make_image("amd64"), make_image("arm64", variant="v8"), make_image("ppc64le")
LINUX_AMD64 = {"os": "linux", "architecture": "amd64"}
LINUX_ARM64 = {"os": "linux", "architecture": "arm64", "variant": "v8"}
LINUX_PPC = {"os": "linux", "architecture": "ppc64le"}
SETTINGS = Settings()
READ = {"1.0-amd64": stored("1.0-amd64", AMD64), "1.0-arm64": stored("1.0-arm64", ARM64)}


def children(read: dict[str, Stored] = READ, arm64_platform: Platform | None = None) -> list[Child]:
    amd64, arm64 = read["1.0-amd64"], read["1.0-arm64"]
    return [Child(Arch("amd64", amd64), amd64, Platform("linux", "amd64")),
            Child(Arch("arm64", arm64), arm64, arm64_platform or Platform("linux", "arm64", "v8"))]


def ours() -> Stored:
    decision = decide_index("golang", "1.0", SETTINGS, children(), None)
    assert isinstance(decision, Write)
    return Stored("1.0", decision.index.digest, decision.index.media_type, decision.index.body)


# ---- step 1: the read alone


@pytest.mark.parametrize(
    ("read", "pushed", "expected"),
    [
        ({"1.0-amd64": READ["1.0-amd64"]}, "1.0-arm64", Unseen("1.0-arm64")),
        ({"1.0-amd64": READ["1.0-amd64"]}, "1.0-amd64", Waiting(("1.0-arm64",))),
        ({}, None, Waiting(("1.0-amd64", "1.0-arm64"))),
        ({**READ, "1.0": stored("1.0", AMD64)}, None, Rejected),
        (READ, "1.0-arm64", Candidate),
        ({**READ, "1.0": index_at("1.0", [entry(LINUX_AMD64), entry(LINUX_ARM64)])}, None, Candidate),
        ({**READ, "1.0-arm64": stored("1.0-arm64", make_buildkit_image("amd64"))}, None, Rejected),
    ],
    ids=["pushed-unseen", "sibling-missing", "nothing", "single-arch-at-tag", "new", "foreign-index",
         "arch-index-without-its-platform"],
)
def test_first_look(read: dict[str, Stored], pushed: str | None, expected: object) -> None:
    decision = first_look("golang", "1.0", SETTINGS, read, pushed)
    if isinstance(expected, type):
        assert isinstance(decision, expected)
    else:
        assert decision == expected


def test_first_look_recognises_our_own_index_without_platforms() -> None:
    decision = first_look("golang", "1.0", SETTINGS, {**READ, "1.0": ours()})
    assert isinstance(decision, Unchanged) and decision.index.digest == ours().digest


def test_a_rejection_of_a_single_arch_tag_says_why() -> None:
    decision = first_look("golang", "1.0", SETTINGS, {**READ, "1.0": stored("1.0", AMD64)})
    assert isinstance(decision, Rejected) and "holds a single-arch image" in decision.reason


# ---- step 2: with platforms; the no-drop rule


@pytest.mark.parametrize(
    ("current", "may_drop", "expected", "reason"),
    [
        (None, False, Write, None),
        ("ours", False, Unchanged, None),
        (index_at("1.0", [entry(LINUX_AMD64), entry(LINUX_ARM64)]), False, Write, None),  # take over
        (index_at("1.0", [entry(LINUX_ARM64), entry(LINUX_AMD64)]), False, Write, None),  # other order
        (index_at("1.0", [entry(LINUX_AMD64)]), False, Write, None),  # grow
        (index_at("1.0", [entry({"os": "linux", "architecture": "arm64"})]), False, Write, None),  # arm64 = arm64/v8
        (index_at("1.0", [entry(LINUX_AMD64), entry(LINUX_ARM64), entry(LINUX_PPC)]), False, Rejected,
         "serving linux/ppc64le, which the new index would drop"),
        (index_at("1.0", [entry(LINUX_AMD64), entry(LINUX_ARM64), entry(LINUX_PPC)]), True, Write, None),
        (index_at("1.0", [entry(LINUX_AMD64), entry({"os": "linux", "architecture": "arm", "variant": "v7"})]),
         False, Rejected, "push 1.0-armv7 and require armv7"),
        (index_at("1.0", [entry(LINUX_AMD64), entry({"os": "linux", "architecture": "mips64"})]), False, Rejected,
         "no arch suffix names linux/mips64"),
        # attestations aside: an unknown/unknown entry, and one linked by BuildKit's annotations
        (index_at("1.0", [entry(LINUX_AMD64), entry({"os": "unknown", "architecture": "unknown"}, "b")],
                  media_types.OCI_INDEX), False, Write, None),
        (index_at("1.0", [entry(LINUX_AMD64), entry(LINUX_PPC, "b", {
            media_types.REFERENCE_TYPE_ANNOTATION: media_types.ATTESTATION_MANIFEST,
            media_types.REFERENCE_DIGEST_ANNOTATION: "sha256:" + "a" * 64})], media_types.OCI_INDEX),
         False, Write, None),
        # an entry without a platform (optional in OCI) serves any host no other entry matches: never dropped
        (index_at("1.0", [entry(LINUX_AMD64), {"mediaType": media_types.OCI_MANIFEST, "size": 500,
                                               "digest": "sha256:" + "c" * 64}], media_types.OCI_INDEX),
         False, Rejected, "with an entry that states no platform (sha256:ccc"),
        (index_at("1.0", [entry(LINUX_AMD64), {"mediaType": media_types.OCI_MANIFEST, "size": 500,
                                               "digest": "sha256:" + "c" * 64}], media_types.OCI_INDEX),
         True, Write, None),
        (Stored("1.0", Digest.of(b"{}"), media_types.OCI_INDEX, b"{}"), False, Rejected, "cannot read"),
        (Stored("1.0", Digest.of(b"{}"), media_types.OCI_INDEX, b"{}"), True, Write, None),
    ],
    ids=["new", "ours", "take-over", "take-over-reordered", "grow", "arm64-v8-alias", "drop", "drop-forced",
         "drop-armv7-fix", "drop-no-suffix", "unknown-entry-aside", "attestation-aside", "no-platform",
         "no-platform-forced", "unreadable",
         "unreadable-forced"],
)
def test_decide_index(current: Stored | str | None, may_drop: bool, expected: type, reason: str | None) -> None:
    held = ours() if current == "ours" else current
    assert not isinstance(held, str)
    decision = decide_index("golang", "1.0", SETTINGS, children(), held, may_drop=may_drop)
    assert isinstance(decision, expected)
    if isinstance(decision, Write):
        assert decision.replaces == (held.digest if held is not None else None)
    if reason is not None:
        assert isinstance(decision, Rejected) and reason in decision.reason


def test_a_drop_is_named_with_every_fix() -> None:
    held = index_at("1.0", [entry(LINUX_AMD64), entry(LINUX_ARM64), entry(LINUX_PPC),
                            entry({"os": "linux", "architecture": "s390x"})])
    decision = decide_index("golang", "1.0", SETTINGS, children(), held)
    assert isinstance(decision, Rejected)
    assert decision.reason.startswith(f"golang:1.0 holds an index ({held.digest}) serving linux/ppc64le, "
                                      "linux/s390x, which the new index would drop; it is left untouched.")
    assert "push 1.0-ppc64le and require ppc64le" in decision.reason
    assert "push 1.0-s390x and require s390x" in decision.reason
    assert "--force" in decision.reason and "ecr-multiarch:replace=always" in decision.reason


def test_a_mislabelled_child_is_rejected() -> None:
    decision = decide_index("golang", "1.0", SETTINGS, children(arm64_platform=Platform("linux", "amd64")), None)
    assert isinstance(decision, Rejected)
    assert "1.0-arm64 is labelled arm64 (linux/arm64) but its config says linux/amd64" in decision.reason


# ---- the platform identity the rule compares


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        (Platform("linux", "arm64"), Platform("linux", "arm64", "v8"), True),
        (Platform("linux", "arm", "v7"), Platform("linux", "arm", "v6"), False),
        (Platform("windows", "amd64", os_version="10.0.17763.5000"),
         Platform("windows", "amd64", os_version="10.0.17763.6054"), True),  # a monthly refresh
        (Platform("windows", "amd64", os_version="10.0.17763.5000"),
         Platform("windows", "amd64", os_version="10.0.20348.2000"), False),  # ltsc2019 vs ltsc2022
        (Platform("linux", "amd64"), Platform("windows", "amd64"), False),
    ],
)
def test_platform_identity(first: Platform, second: Platform, same: bool) -> None:
    assert (platform_identity(first) == platform_identity(second)) is same


def test_lost_platforms_names_each_once_in_order() -> None:
    index = build_index([ChildDescriptor(media_types.DOCKER_MANIFEST, 1, Digest("sha256:" + "a" * 64),
                                         Platform("linux", "amd64"))], IndexFormat.AUTO)
    current = (Platform("linux", "s390x"), Platform("linux", "amd64"), Platform("linux", "ppc64le"),
               Platform("linux", "s390x"))
    assert lost_platforms(current, index) == (Platform("linux", "s390x"), Platform("linux", "ppc64le"))


def test_served_platforms_reads_a_buildx_index_attestations_aside() -> None:
    buildx = make_buildkit_image("amd64")
    assert served_platforms(buildx.manifest, buildx.media_type) == (Platform("linux", "amd64"),)


# ---- the repository tag, and aliases that are versions


@pytest.mark.parametrize(("value", "always"), [("always", True), ("ALWAYS ", True), ("safe", False)])
def test_the_replace_repository_tag(value: str, always: bool) -> None:
    policy = parse_policy({"ecr-multiarch:replace": value}, DEFAULT_SUFFIXES)
    assert policy == RepositoryPolicy(replace_always=always)


def test_an_unknown_replace_value_is_refused() -> None:
    with pytest.raises(PolicyError, match="use safe or always"):
        parse_policy({"ecr-multiarch:replace": "yes"}, DEFAULT_SUFFIXES)


def test_versions_among_aliases() -> None:
    tags = ["latest-amd64", "1.19.2-amd64", "1.19", "1-alpine-arm64"]
    assert versions_among(["latest", "1.19", "1-alpine", "1"], tags, DEFAULT_SUFFIXES) == {"latest", "1-alpine"}
