"""What the service needs from the outside world, as protocols, so tests and the demo can pass other adapters."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .domain.digest import Digest
from .domain.index import ImageIndex


@dataclass(frozen=True, slots=True)
class StoredManifest:
    """A manifest as ECR holds it at a tag: the exact bytes, their digest (verified) and the stored media type."""

    tag: str
    digest: Digest
    media_type: str
    body: bytes


class PutResult(enum.Enum):
    WRITTEN = "written"
    ALREADY_EXISTS = "already-exists"


class Registry(Protocol):
    def get_manifests(self, repository: str, tags: Sequence[str]) -> dict[str, StoredManifest]:
        """The manifest at each tag that exists; tags that do not exist are absent from the result."""
        ...

    def get_manifests_by_digest(self, repository: str, digests: Sequence[Digest]) -> dict[Digest, StoredManifest]:
        """The manifests with these digests that exist (the children of an arch tag's index, untagged); their
        ``tag`` is empty. Digests that do not exist are absent from the result."""
        ...

    def list_tags(self, repository: str) -> list[str]:
        """Every tag in the repository (pages of 1,000, the maximum ECR allows)."""
        ...

    def config_download_url(self, repository: str, digest: Digest) -> str:
        """A short-lived URL for a blob; a secret, never to be logged."""
        ...

    def put_index(self, repository: str, tag: str, index: ImageIndex) -> PutResult: ...


class RepositoryTagSource(Protocol):
    def repository_tags(self, repository: str, account: str | None = None) -> dict[str, str]:
        """The repository's resource tags (ECR ListTagsForResource on its ARN), key to value. ``account``: the
        registry's account when the caller knows it (an ECR event states it); None lets the source find it."""
        ...


class BlobReader(Protocol):
    def read(self, url: str, digest: Digest, size: int) -> bytes:
        """Exactly the blob ``digest`` of ``size`` bytes, or an error; never anything else."""
        ...
