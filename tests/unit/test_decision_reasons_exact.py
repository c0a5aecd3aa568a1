"""The pure decision (domain/decision.py): every rejection as the exact sentence an operator reads, and the
index recognised at the version tag without a download, branch by branch."""

import json
from types import MappingProxyType

from devkit.images import make_buildkit_image, make_image
from ecr_multiarch.domain import media_types
from ecr_multiarch.domain.decision import (
    Arch,
    Candidate,
    Child,
    Rejected,
    Unchanged,
    Waiting,
    Write,
    decide_index,
    first_look,
    platform_identity,
    served_platforms,
)
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.index import ChildDescriptor, IndexFormat, build_index
from ecr_multiarch.domain.platform import ExpectedPlatform, Platform
from ecr_multiarch.domain.tags import DEFAULT_SUFFIXES
from ecr_multiarch.settings import Settings
from tests.unit.test_decision import Stored, stored

FORCE = ("`ecr-multiarch assemble <repository>:<version> --force`, or the repository tag "
         "ecr-multiarch:replace=always")


def index_at(entries: list[dict[str, object]], media_type: str = media_types.DOCKER_MANIFEST_LIST) -> Stored:
    body = json.dumps({"schemaVersion": 2, "mediaType": media_type, "manifests": entries}).encode()
    return Stored("1.0", Digest.of(body), media_type, body)


def entry(platform: dict[str, str], digest: str = "a") -> dict[str, object]:
    return {"mediaType": media_types.DOCKER_MANIFEST, "size": 500, "digest": "sha256:" + digest * 64,
            "platform": platform}


AMD64, ARM64 = make_image("amd64"), make_image("arm64", variant="v8")
READ = {"1.0-amd64": stored("1.0-amd64", AMD64), "1.0-arm64": stored("1.0-arm64", ARM64)}
SETTINGS = Settings()


def children(read: dict[str, Stored] = READ) -> list[Child]:
    amd64, arm64 = read["1.0-amd64"], read["1.0-arm64"]
    return [Child(Arch("amd64", amd64), amd64, Platform("linux", "amd64")),
            Child(Arch("arm64", arm64), arm64, Platform("linux", "arm64", "v8"))]


def written(rules: Settings = SETTINGS, kids: list[Child] | None = None) -> Stored:
    decision = decide_index("golang", "1.0", rules, kids if kids is not None else children(), None)
    assert isinstance(decision, Write)
    return Stored("1.0", decision.index.digest, decision.index.media_type, decision.index.body)


# ---- first_look's rejections


def test_an_ambiguous_version_is_refused_naming_the_tag_it_collides_with() -> None:
    decision = first_look("golang", "1.0-windows", Settings(required_architectures=("amd64",)), {})
    assert decision == Rejected(
        "golang: version 1.0-windows cannot be indexed: its amd64 tag 1.0-windows-amd64 is the windows-amd64 tag of "
        "version 1.0 under the tag grammar (tag this version's images under another version name)")


def test_a_single_arch_image_at_the_version_tag_is_refused_with_its_type_and_digest() -> None:
    decision = first_look("golang", "1.0", SETTINGS, {**READ, "1.0": stored("1.0", AMD64)})
    assert decision == Rejected(
        f"golang:1.0 holds a single-arch image (application/vnd.docker.distribution.manifest.v2+json, {AMD64.digest})"
        " that ecr-multiarch did not make; it is left untouched (move or delete it to let the index be written)")


def test_an_arch_index_without_its_platform_is_refused_naming_the_arch_tag() -> None:
    read = {**READ, "1.0-arm64": stored("1.0-arm64", make_buildkit_image("amd64"))}
    assert first_look("golang", "1.0", SETTINGS, read) == Rejected(
        "golang:1.0-arm64 is an index with no image manifest for linux/arm64 (it lists: linux/amd64, unknown/unknown)")


def test_missing_arch_tags_are_listed_in_the_required_order() -> None:
    rules = Settings(required_architectures=("s390x", "amd64", "arm64"))
    assert first_look("golang", "1.0", rules, READ) == Waiting(("1.0-s390x",))
    assert first_look("golang", "1.0", rules, {}) == Waiting(("1.0-s390x", "1.0-amd64", "1.0-arm64"))


def test_a_pushed_tag_that_is_read_does_not_hold_the_decision_back() -> None:
    decision = first_look("golang", "1.0", SETTINGS, READ, "1.0-amd64")
    assert decision == Candidate((Arch("amd64", READ["1.0-amd64"]), Arch("arm64", READ["1.0-arm64"])), None)


# ---- first_look: the index at the tag recognised without a download, or not


def test_our_own_index_is_recognised_as_unchanged() -> None:
    ours = written()
    decision = first_look("golang", "1.0", SETTINGS, {**READ, "1.0": ours})
    assert isinstance(decision, Unchanged)
    assert (decision.index.digest, decision.index.body) == (ours.digest, ours.body)


def test_our_index_of_buildkit_children_is_recognised_with_their_attestations() -> None:
    amd64, arm64 = make_buildkit_image("amd64"), make_buildkit_image("arm64", variant="v8")
    read = {"1.0-amd64": stored("1.0-amd64", amd64), "1.0-arm64": stored("1.0-arm64", arm64)}
    candidate = first_look("golang", "1.0", SETTINGS, read)
    assert isinstance(candidate, Candidate)
    images = [arch.selection.image for arch in candidate.arches if arch.selection is not None]
    assert [(image.media_type, image.size, image.digest) for image in images] == [arch.image for arch in
                                                                                   candidate.arches]
    kids = [Child(arch, Stored(arch.stored.tag, image.digest, image.media_type, b"x" * image.size), platform)
            for arch, image, platform in zip(candidate.arches, images,
                                             [Platform("linux", "amd64"), Platform("linux", "arm64", "v8")],
                                             strict=True)]
    write = decide_index("golang", "1.0", SETTINGS, kids, None)
    assert isinstance(write, Write)
    assert [child.is_attestation for child in write.index.manifests] == [False, True, False, True]
    # Each attestation entry is carried as the arch index states it: type, size, digest, platform, annotations.
    entries = json.loads(write.index.body)["manifests"]
    assert [entries[1], entries[3]] == [json.loads(amd64.manifest)["manifests"][1],
                                        json.loads(arm64.manifest)["manifests"][1]]
    ours = Stored("1.0", write.index.digest, write.index.media_type, write.index.body)
    decision = first_look("golang", "1.0", SETTINGS, {**read, "1.0": ours})
    assert isinstance(decision, Unchanged) and decision.index.digest == ours.digest
    # The same index seen by rules that drop attestations is not what they call for.
    without = Settings(keep_attestations=False)
    assert isinstance(first_look("golang", "1.0", without, {**read, "1.0": ours}), Candidate)


def test_an_index_with_one_entry_more_or_less_is_not_recognised() -> None:
    ours = json.loads(written().body)
    for manifests in (ours["manifests"][:1], [*ours["manifests"], entry({"os": "linux", "architecture": "s390x"})]):
        body = json.dumps({**ours, "manifests": manifests}, indent=3).encode()
        held = Stored("1.0", Digest.of(body), media_types.DOCKER_MANIFEST_LIST, body)
        decision = first_look("golang", "1.0", SETTINGS, {**READ, "1.0": held})
        assert decision == Candidate((Arch("amd64", READ["1.0-amd64"]), Arch("arm64", READ["1.0-arm64"])), held)


def test_our_rendering_with_platforms_that_do_not_fit_the_suffixes_is_not_recognised() -> None:
    # Byte for byte what we would render had the configs said so, but the amd64 tag's entry states arm64: a
    # mislabel only the full path (reading the configs) can judge, so it is not taken as already done.
    amd64, arm64 = READ["1.0-amd64"], READ["1.0-arm64"]
    swapped = build_index([ChildDescriptor(amd64.media_type, len(amd64.body), amd64.digest,
                                           Platform("linux", "arm64", "v8")),
                           ChildDescriptor(arm64.media_type, len(arm64.body), arm64.digest,
                                           Platform("linux", "amd64"))],
                          IndexFormat.AUTO)
    held = Stored("1.0", swapped.digest, swapped.media_type, swapped.body)
    decision = first_look("golang", "1.0", SETTINGS, {**READ, "1.0": held})
    assert isinstance(decision, Candidate) and decision.current == held


def test_an_index_differing_only_in_bytes_is_not_recognised() -> None:
    ours = written()
    body = json.dumps(json.loads(ours.body), indent=1).encode()
    held = Stored("1.0", Digest.of(body), ours.media_type, body)
    decision = first_look("golang", "1.0", SETTINGS, {**READ, "1.0": held})
    assert isinstance(decision, Candidate) and decision.current == held


# ---- decide_index's rejections, in full


def test_a_mislabelled_child_is_refused_in_full() -> None:
    amd64, arm64 = READ["1.0-amd64"], READ["1.0-arm64"]
    kids = [Child(Arch("amd64", amd64), amd64, Platform("linux", "amd64")),
            Child(Arch("arm64", arm64), arm64, Platform("linux", "amd64"))]
    assert decide_index("golang", "1.0", SETTINGS, kids, None) == Rejected(
        "golang:1.0-arm64 is labelled arm64 (linux/arm64) but its config says linux/amd64; the tag is mislabelled, "
        "so no index is written")


def test_two_children_for_one_platform_are_refused_naming_both_tags() -> None:
    rules = Settings(required_architectures=("amd64", "x64"),
                     suffixes=MappingProxyType({**DEFAULT_SUFFIXES, "x64": ExpectedPlatform("linux", "amd64")}))
    amd64, other = READ["1.0-amd64"], Stored("1.0-x64", Digest(ARM64.digest), ARM64.media_type, ARM64.manifest)
    kids = [Child(Arch("amd64", amd64), amd64, Platform("linux", "amd64")),
            Child(Arch("x64", other), other, Platform("linux", "amd64"))]
    assert decide_index("golang", "1.0", rules, kids, None) == Rejected(
        "golang:1.0: 1.0-amd64 and 1.0-x64 are both linux/amd64; an index cannot hold two images for one platform")


def test_an_unreadable_index_at_the_tag_is_refused_with_the_force_hint() -> None:
    held = Stored("1.0", Digest.of(b"{}"), media_types.OCI_INDEX, b"{}")
    assert decide_index("golang", "1.0", SETTINGS, children(), held) == Rejected(
        "golang:1.0 holds an index ecr-multiarch cannot read (index schemaVersion is not 2), so it cannot tell which "
        f"platforms it serves; it is left untouched (replace it anyway: {FORCE})")


def test_an_entry_without_a_platform_is_refused_naming_its_digest() -> None:
    held = index_at([entry({"os": "linux", "architecture": "amd64"}),
                     {"mediaType": media_types.OCI_MANIFEST, "size": 500, "digest": "sha256:" + "c" * 64}],
                    media_types.OCI_INDEX)
    assert decide_index("golang", "1.0", SETTINGS, children(), held) == Rejected(
        f"golang:1.0 holds an index ({held.digest}) with an entry that states no platform (sha256:{'c' * 64}); "
        f"hosts no other entry matches pull it, and the new index would drop it; it is left untouched (replace it "
        f"anyway: {FORCE})")


def test_a_drop_names_each_platform_and_the_fix_for_each_kind() -> None:
    held = index_at([entry({"os": "linux", "architecture": "amd64"}),
                     entry({"os": "linux", "architecture": "arm64", "variant": "v8"}),
                     entry({"os": "linux", "architecture": "ppc64le"}),
                     entry({"os": "linux", "architecture": "mips64"}),
                     entry({"os": "linux", "architecture": "arm", "variant": "v7"})])
    rules = Settings(required_architectures=("amd64", "arm64", "ppc64le"))
    assert decide_index("golang", "1.0", rules, children(), held) == Rejected(
        f"golang:1.0 holds an index ({held.digest}) serving linux/ppc64le, linux/mips64, linux/arm/v7, which the new "
        "index would drop; it is left untouched. To keep linux/ppc64le, linux/mips64, linux/arm/v7: push 1.0-ppc64le; "
        "no arch suffix names linux/mips64 (define one in ARCH_SUFFIXES_EXTRA, then push and require it); push "
        "1.0-armv7 and require armv7 (REQUIRED_ARCHITECTURES or the repository tag ecr-multiarch:architectures). "
        f"To replace it anyway: {FORCE}")


def test_a_replacement_names_what_it_replaces_and_ours_again_is_unchanged() -> None:
    held = index_at([entry({"os": "linux", "architecture": "amd64"})])
    decision = decide_index("golang", "1.0", SETTINGS, children(), held)
    assert isinstance(decision, Write) and decision.replaces == held.digest
    ours = written()
    again = decide_index("golang", "1.0", SETTINGS, children(), ours)
    assert isinstance(again, Unchanged) and again.index.body == ours.body


# ---- the platform identity and what an index serves


def test_platform_identity_drops_only_arm64s_v8_and_the_windows_patch_level() -> None:
    assert platform_identity(Platform("linux", "arm64", "v8")) == ("linux", "arm64", None, None)
    assert platform_identity(Platform("linux", "arm", "v8")) == ("linux", "arm", "v8", None)
    assert platform_identity(Platform("linux", "arm64", "v9")) == ("linux", "arm64", "v9", None)
    assert platform_identity(Platform("windows", "amd64", os_version="10.0.17763.5000")) == (
        "windows", "amd64", None, "10.0.17763")


def test_served_platforms_reads_past_an_attestation_listed_first() -> None:
    held = index_at([entry({"os": "unknown", "architecture": "unknown"}, "b"),
                     entry({"os": "linux", "architecture": "amd64"}),
                     entry({"os": "linux", "architecture": "s390x"}, "c")], media_types.OCI_INDEX)
    assert served_platforms(held.body, held.media_type) == (Platform("linux", "amd64"), Platform("linux", "s390x"))


def test_the_configured_index_annotations_are_written() -> None:
    rules = Settings(index_format=IndexFormat.OCI, index_annotations=(("org.opencontainers.image.source", "x"),))
    decision = decide_index("golang", "1.0", rules, children(), None)
    assert isinstance(decision, Write)
    assert json.loads(decision.index.body)["annotations"] == {"org.opencontainers.image.source": "x"}
