"""Content digests as validated values."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_SHA256 = re.compile(r"sha256:[a-f0-9]{64}")


class InvalidDigestError(ValueError):
    """A string that is not a sha256 content digest."""


@dataclass(frozen=True, slots=True, order=True)
class Digest:
    """A sha256 content digest, ``sha256:<64 lowercase hex>``; ECR uses no other algorithm."""

    value: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, str) or not _SHA256.fullmatch(self.value):
            raise InvalidDigestError(f"not a sha256 digest: {str(self.value)[:80]!r}")

    @classmethod
    def of(cls, data: bytes) -> Digest:
        return cls("sha256:" + hashlib.sha256(data).hexdigest())

    def matches(self, data: bytes) -> bool:
        return Digest.of(data) == self

    def __str__(self) -> str:
        return self.value
