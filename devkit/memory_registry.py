"""A plain in-process Registry and BlobReader (no moto, no HTTP) for fast property tests and benchmarks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.index import ImageIndex
from ecr_multiarch.errors import RepositoryNotFoundError
from ecr_multiarch.ports import PutResult, StoredManifest

from .images import ImageBlobs


@dataclass
class MemoryRegistry:
    """Tags -> manifests per repository, and blobs by digest; counts every call like a bill would."""

    tags: dict[str, dict[str, StoredManifest]] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    # resource tags per repository (ecr-multiarch:* policy)
    repository_tag_values: dict[str, dict[str, str]] = field(default_factory=dict)
    # every manifest ever pushed, by digest (tagged or not), per repository
    manifests: dict[str, dict[Digest, StoredManifest]] = field(default_factory=dict)

    def create_repository(self, repository: str) -> None:
        self.tags.setdefault(repository, {})

    def push(self, repository: str, tag: str, image: ImageBlobs) -> None:
        self.blobs.update(image.blobs)
        for child in image.children:
            self.push_untagged(repository, child)
        stored = StoredManifest(tag, Digest(image.digest), image.media_type, image.manifest)
        self._repository(repository)[tag] = stored
        self.manifests.setdefault(repository, {})[stored.digest] = replace(stored, tag="")

    def push_untagged(self, repository: str, image: ImageBlobs) -> None:
        """A manifest pushed by digest only, as BuildKit pushes the children of its index."""
        self.blobs.update(image.blobs)
        self._repository(repository)
        self.manifests.setdefault(repository, {})[Digest(image.digest)] = StoredManifest(
            "", Digest(image.digest), image.media_type, image.manifest)

    def get_manifests(self, repository: str, tags: Sequence[str]) -> dict[str, StoredManifest]:
        self.calls.append("BatchGetImage")
        held = self._repository(repository)
        return {tag: held[tag] for tag in tags if tag in held}

    def get_manifests_by_digest(self, repository: str, digests: Sequence[Digest]) -> dict[Digest, StoredManifest]:
        self.calls.append("BatchGetImage")
        self._repository(repository)
        held = self.manifests.get(repository, {})
        return {digest: held[digest] for digest in digests if digest in held}

    def repository_tags(self, repository: str, account: str | None = None) -> dict[str, str]:
        self.calls.append("ListTagsForResource")
        self._repository(repository)
        return dict(self.repository_tag_values.get(repository, {}))

    def list_tags(self, repository: str) -> list[str]:
        self.calls.append("ListImages")
        return list(self._repository(repository))

    def list_tag_digests(self, repository: str) -> dict[str, Digest]:
        self.calls.append("ListImages")
        return {tag: manifest.digest for tag, manifest in self._repository(repository).items()}

    def list_repositories(self) -> list[str]:
        self.calls.append("DescribeRepositories")
        return list(self.tags)

    def config_download_url(self, repository: str, digest: Digest) -> str:
        self.calls.append("GetDownloadUrlForLayer")
        self._repository(repository)
        return f"memory://{digest}"

    def put_index(self, repository: str, tag: str, index: ImageIndex) -> PutResult:
        self.calls.append("PutImage")
        held = self._repository(repository)
        current = held.get(tag)
        if current is not None and current.digest == index.digest:
            return PutResult.ALREADY_EXISTS
        held[tag] = StoredManifest(tag, index.digest, index.media_type, index.body)
        return PutResult.WRITTEN

    def read(self, url: str, digest: Digest, size: int) -> bytes:
        self.calls.append("GET blob")
        return self.blobs[str(digest)]

    def _repository(self, repository: str) -> dict[str, StoredManifest]:
        if repository not in self.tags:
            raise RepositoryNotFoundError(f"repository {repository!r} does not exist")
        return self.tags[repository]
