"""Property: for any sequence of pushes, re-pushes, deletions, foreign writes, architecture-set changes, events and
sweeps, no platform served at a version tag (or an alias tag) ever disappears by our hand."""

import contextlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from devkit.images import ImageBlobs, make_image
from devkit.memory_registry import MemoryRegistry
from ecr_multiarch import handler
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.domain import media_types
from ecr_multiarch.domain.decision import platform_identity, served_platforms
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.errors import TransientError
from ecr_multiarch.ports import StoredManifest
from ecr_multiarch.reconcile import Reconciler
from ecr_multiarch.settings import Settings
from tests.conftest import load_event

VERSION = "1.0.0"
WATCHED = (VERSION, "1.0", "latest")  # the version tag and its aliases (ALIAS_TAGS=minor,latest)
ARCHES = {"amd64": ("amd64", None), "arm64": ("arm64", "v8"), "ppc64le": ("ppc64le", None),
          "s390x": ("s390x", None)}


def image(suffix: str, revision: int) -> ImageBlobs:
    architecture, variant = ARCHES[suffix]
    return make_image(architecture, variant=variant, revision=str(revision))


def served(registry: MemoryRegistry, tag: str) -> set[tuple[str, str, str | None, str | None]]:
    held = registry.tags["golang"].get(tag)
    if held is None or held.media_type not in media_types.INDEXES:
        return set()
    return {platform_identity(platform) for platform in served_platforms(held.body, held.media_type)}


def foreign_write(registry: MemoryRegistry, tag: str, suffixes: list[str], revision: int) -> None:
    """Someone else's index (docker manifest, buildx) at ``tag``: pretty-printed, any platforms."""
    entries = []
    for suffix in suffixes:
        child = image(suffix, revision)
        registry.push_untagged("golang", child)
        architecture, variant = ARCHES[suffix]
        entries.append({"mediaType": child.media_type, "size": len(child.manifest), "digest": child.digest,
                        "platform": {"architecture": architecture, "os": "linux",
                                     **({"variant": variant} if variant else {})}})
    body = json.dumps({"schemaVersion": 2, "mediaType": media_types.DOCKER_MANIFEST_LIST, "manifests": entries},
                      indent=3).encode()
    registry.tags["golang"][tag] = StoredManifest(tag, Digest.of(body), media_types.DOCKER_MANIFEST_LIST, body)


suffix = st.sampled_from(sorted(ARCHES))
operation = st.one_of(
    st.tuples(st.just("push"), suffix, st.integers(0, 2)),
    st.tuples(st.just("delete"), suffix),
    st.tuples(st.just("foreign"), st.sampled_from(WATCHED), st.lists(suffix, min_size=1, max_size=4, unique=True),
              st.integers(0, 2)),
    st.tuples(st.just("architectures"), st.lists(suffix, min_size=1, max_size=4, unique=True)),
    st.tuples(st.just("event"), suffix),
    st.tuples(st.just("sweep")),
)


@settings(max_examples=200, deadline=None)
@given(operations=st.lists(operation, min_size=1, max_size=25))
def test_no_platform_served_at_a_tag_disappears_by_our_hand(operations: list[tuple[object, ...]]) -> None:
    registry = MemoryRegistry()
    registry.create_repository("golang")
    assembler = Assembler(registry, registry, Settings(alias_kinds=("minor", "latest"), repository_tags_ttl=0),
                          repository_tags=registry)  # type: ignore[arg-type]
    sweeper = Reconciler(registry, assembler)  # type: ignore[arg-type]
    for step in operations:
        kind = step[0]
        if kind == "push":
            registry.push("golang", f"{VERSION}-{step[1]}", image(str(step[1]), int(step[2])))  # type: ignore[call-overload]
        elif kind == "delete":
            registry.tags["golang"].pop(f"{VERSION}-{step[1]}", None)
        elif kind == "foreign":
            foreign_write(registry, str(step[1]), list(step[2]), int(step[3]))  # type: ignore[call-overload]
        elif kind == "architectures":
            registry.repository_tag_values["golang"] = {"ecr-multiarch:architectures": "+".join(step[1])}  # type: ignore[arg-type]
        else:
            before = {tag: served(registry, tag) for tag in WATCHED}
            if kind == "sweep":
                sweeper.sweep(["golang"])
            else:
                # A pushed tag that is not there (deleted) raises TransientError: retried by Lambda, nothing written.
                with contextlib.suppress(TransientError):
                    handler.handle(load_event("push-arm64.json", image_tag=f"{VERSION}-{step[1]}",
                                              image_digest="sha256:" + "0" * 64), assembler)
            for tag in WATCHED:
                lost = before[tag] - served(registry, tag)
                assert not lost, f"{tag} lost {lost} after {kind} (steps: {operations})"
