"""What one assembly returns when nothing is to be written (convergence.py's terminal answers): the exact
outcome, repository and version included, since the handler returns it and the metrics count it."""

from devkit.images import ImageBlobs, make_image
from devkit.memory_registry import MemoryRegistry
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.outcome import Outcome, OutcomeKind
from ecr_multiarch.settings import Settings

AMD64, ARM64 = make_image("amd64"), make_image("arm64", variant="v8")


def registry_with(tags: dict[str, ImageBlobs]) -> MemoryRegistry:
    registry = MemoryRegistry()
    registry.create_repository("golang")
    for tag, image in tags.items():
        registry.push("golang", tag, image)
    return registry


def assemble(registry: MemoryRegistry) -> Outcome:
    return Assembler(registry, registry, Settings()).assemble("golang", "1.0")  # type: ignore[arg-type]


def test_waiting_names_the_repository_the_version_and_what_is_missing() -> None:
    assert assemble(registry_with({"1.0-amd64": AMD64})) == Outcome(OutcomeKind.WAITING, "golang", "1.0",
                                                                missing=("1.0-arm64",))


def test_rejected_names_the_repository_the_version_and_why() -> None:
    registry = registry_with({"1.0-amd64": AMD64, "1.0-arm64": ARM64, "1.0": AMD64})
    assert assemble(registry) == Outcome(
        OutcomeKind.REJECTED, "golang", "1.0",
        reason=f"golang:1.0 holds a single-arch image ({AMD64.media_type}, {AMD64.digest}) that ecr-multiarch did "
               "not make; it is left untouched (move or delete it to let the index be written)")


def test_unchanged_names_the_index_the_tag_already_holds() -> None:
    registry = registry_with({"1.0-amd64": AMD64, "1.0-arm64": ARM64})
    created = assemble(registry)
    assert created.kind is OutcomeKind.CREATED and created.index is not None
    again = assemble(registry)
    assert again == Outcome(OutcomeKind.UNCHANGED, "golang", "1.0", created.digest)
    assert again.index is not None and again.index.body == created.index.body
