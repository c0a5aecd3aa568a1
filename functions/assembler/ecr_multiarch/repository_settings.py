"""Per-repository settings: the function's settings with a repository's own ecr-multiarch:* tags over them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

from .domain.policy import PolicyError, RepositoryPolicy, parse_policy
from .errors import RepositoryPolicyError
from .ports import RepositoryTagSource
from .settings import Settings


class PolicyCache:
    """Repository policies by name, each trusted for ``ttl`` seconds (tags can change; a warm container must see
    it within the TTL, without a ListTagsForResource per event)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: dict[str, tuple[float, RepositoryPolicy]] = {}
        self._clock = clock
        self._lock = threading.Lock()

    def get(self, repository: str) -> RepositoryPolicy | None:
        with self._lock:
            entry = self._entries.get(repository)
            if entry is None or entry[0] <= self._clock():
                return None
            return entry[1]

    def put(self, repository: str, policy: RepositoryPolicy, ttl: float) -> None:
        with self._lock:
            self._entries[repository] = (self._clock() + ttl, policy)


class RepositorySettings:
    """``for_repository``: the settings one repository's assembly runs under."""

    def __init__(self, base: Settings, tags: RepositoryTagSource | None, cache: PolicyCache) -> None:
        """``tags``: where ecr-multiarch:* repository tags are read; None applies ``base`` to every repository."""
        self._base = base
        self._tags = tags
        self._cache = cache

    @property
    def base(self) -> Settings:
        return self._base

    def needs_read(self, repository: str) -> bool:
        """Whether ``for_repository`` would call ListTagsForResource (no cached policy)."""
        return self._tags is not None and self._cache.get(repository) is None

    def for_repository(self, repository: str, account: str | None = None) -> Settings | None:
        """The settings for ``repository``; None when it opted out. ``account``: the registry's, when known (it
        names the repository's ARN for the tag read).

        Raises RepositoryPolicyError (permanent) when one of our tags holds an unusable value.
        """
        if self._tags is None:
            return self._base
        policy = self._cache.get(repository)
        if policy is None:
            try:
                policy = parse_policy(self._tags.repository_tags(repository, account), self._base.suffixes)
            except PolicyError as error:
                raise RepositoryPolicyError(f"repository {repository}: {error}") from None
            self._cache.put(repository, policy, self._base.repository_tags_ttl)
        if not policy.enabled:
            return None
        return replace(
            self._base,
            required_architectures=policy.architectures or self._base.required_architectures,
            index_format=policy.index_format or self._base.index_format,
            replace_always=policy.replace_always or self._base.replace_always,
        )
