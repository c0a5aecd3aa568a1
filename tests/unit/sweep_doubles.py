"""The in-memory registry with hooks, for tests of how the sweep reacts to what happens between its calls."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from devkit.memory_registry import MemoryRegistry
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.index import ImageIndex
from ecr_multiarch.ports import PutResult, StoredManifest


@dataclass
class HookedRegistry(MemoryRegistry):
    """The in-memory registry; ``hooks[(call, n)]`` runs just before the n-th call (1-based) of that name, and may
    change the registry or raise, as a concurrent push or a failing ECR would. ``requests`` records the tags each
    BatchGetImage asked for, in order."""

    hooks: dict[tuple[str, int], Callable[[], None]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    requests: list[list[str]] = field(default_factory=list)

    def _hook(self, call: str) -> None:
        self.counts[call] = self.counts.get(call, 0) + 1
        hook = self.hooks.get((call, self.counts[call]))
        if hook is not None:
            hook()

    def get_manifests(self, repository: str, tags: Sequence[str]) -> dict[str, StoredManifest]:
        self.requests.append(list(tags))
        self._hook("BatchGetImage")
        return super().get_manifests(repository, tags)

    def list_tag_digests(self, repository: str) -> dict[str, Digest]:
        self._hook("ListImages")
        return super().list_tag_digests(repository)

    def put_index(self, repository: str, tag: str, index: ImageIndex) -> PutResult:
        self._hook("PutImage")
        return super().put_index(repository, tag, index)


def fail(error: Exception) -> Callable[[], None]:
    """A hook that raises ``error``."""

    def raise_it() -> None:
        raise error

    return raise_it
