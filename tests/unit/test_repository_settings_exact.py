"""The settings one repository's assembly runs under, exactly: each ecr-multiarch:* tag over the function's setting,
the policy cached per repository for exactly REPOSITORY_TAGS_TTL seconds, and the bounded LRU cache of platforms."""

from dataclasses import replace

import pytest

from devkit.memory_registry import MemoryRegistry
from ecr_multiarch.children import PlatformCache
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.index import IndexFormat
from ecr_multiarch.domain.platform import Platform
from ecr_multiarch.domain.policy import RepositoryPolicy
from ecr_multiarch.errors import RepositoryPolicyError
from ecr_multiarch.repository_settings import PolicyCache, RepositorySettings
from ecr_multiarch.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def tagged(**tags: dict[str, str]) -> MemoryRegistry:
    registry = MemoryRegistry()
    for repository, values in tags.items():
        registry.create_repository(repository)
        registry.repository_tag_values[repository] = values
    return registry


def test_a_policy_is_trusted_for_exactly_its_ttl() -> None:
    clock = Clock()
    cache = PolicyCache(clock)
    policy = RepositoryPolicy(architectures=("amd64",))
    cache.put("app", policy, 60)
    assert cache.get("app") == policy
    assert cache.get("other") is None
    clock.now = 1059.5
    assert cache.get("app") == policy
    clock.now = 1060.0  # the TTL is over at its last instant, not one tick later
    assert cache.get("app") is None


def test_without_repository_tags_every_repository_runs_under_the_functions_settings() -> None:
    base = Settings(required_architectures=("amd64", "arm64", "armv7"))
    repositories = RepositorySettings(base, None, PolicyCache())
    assert repositories.needs_read("app") is False
    assert repositories.for_repository("app") is base


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({}, Settings()),
        ({"ecr-multiarch:architectures": "amd64+arm64+armv7"},
         Settings(required_architectures=("amd64", "arm64", "armv7"))),
        ({"ecr-multiarch:index-format": "oci"}, Settings(index_format=IndexFormat.OCI)),
        ({"ecr-multiarch:replace": "always"}, Settings(replace_always=True)),
        ({"ecr-multiarch:architectures": "amd64", "ecr-multiarch:index-format": "docker",
          "ecr-multiarch:replace": "always"},
         Settings(required_architectures=("amd64",), index_format=IndexFormat.DOCKER, replace_always=True)),
    ],
)
def test_each_repository_tag_overrides_its_setting_and_only_it(tags: dict[str, str], expected: Settings) -> None:
    repositories = RepositorySettings(Settings(), tagged(app=tags), PolicyCache())
    assert repositories.for_repository("app") == expected


def test_replace_safe_on_a_repository_does_not_undo_the_functions_replace_always() -> None:
    base = Settings(replace_always=True, index_format=IndexFormat.OCI, required_architectures=("amd64",))
    repositories = RepositorySettings(base, tagged(app={"ecr-multiarch:replace": "safe"}), PolicyCache())
    assert repositories.for_repository("app") == base


def test_an_opted_out_repository_has_no_settings() -> None:
    repositories = RepositorySettings(Settings(), tagged(app={"ecr-multiarch:enabled": "false"}), PolicyCache())
    assert repositories.for_repository("app") is None


def test_an_unusable_tag_is_a_permanent_error_naming_the_repository() -> None:
    repositories = RepositorySettings(Settings(), tagged(app={"ecr-multiarch:enabled": "no"}), PolicyCache())
    with pytest.raises(RepositoryPolicyError) as raised:
        repositories.for_repository("app")
    assert str(raised.value) == "repository app: repository tag ecr-multiarch:enabled is 'no'; use true or false"


def test_tags_are_read_once_per_repository_per_ttl() -> None:
    registry = tagged(app={"ecr-multiarch:architectures": "amd64"}, web={"ecr-multiarch:index-format": "oci"})
    clock = Clock()
    repositories = RepositorySettings(Settings(repository_tags_ttl=30), registry, PolicyCache(clock))
    assert repositories.needs_read("app") is True
    app = Settings(required_architectures=("amd64",), repository_tags_ttl=30)
    assert repositories.for_repository("app") == app
    assert repositories.needs_read("app") is False
    assert repositories.needs_read("web") is True  # another repository's policy is its own
    clock.now += 29
    assert repositories.for_repository("app") == app
    assert registry.calls == ["ListTagsForResource"]
    registry.repository_tag_values["app"] = {}
    clock.now += 1
    assert repositories.needs_read("app") is True
    assert repositories.for_repository("app") == Settings(repository_tags_ttl=30)
    assert repositories.for_repository("web") == Settings(index_format=IndexFormat.OCI, repository_tags_ttl=30)
    assert registry.calls == ["ListTagsForResource"] * 3


def platform(n: int) -> Platform:
    return Platform("linux", f"arch{n}")


def digest(n: int) -> Digest:
    return Digest.of(str(n).encode())


def test_the_platform_cache_holds_4096_entries_by_default_and_evicts_the_oldest() -> None:
    cache = PlatformCache()
    for n in range(4097):
        cache.put(digest(n), platform(n))
    assert len(cache) == 4096
    assert cache.get(digest(0)) is None
    assert cache.get(digest(1)) == platform(1)
    assert cache.get(digest(4096)) == platform(4096)


def test_the_platform_cache_evicts_the_least_recently_used() -> None:
    cache = PlatformCache(max_entries=2)
    cache.put(digest(1), platform(1))
    cache.put(digest(2), platform(2))
    assert cache.get(digest(1)) == platform(1)  # used: now the most recent
    assert cache.get(digest(3)) is None
    cache.put(digest(3), platform(3))
    assert len(cache) == 2
    assert [cache.get(digest(n)) for n in (1, 2, 3)] == [platform(1), None, platform(3)]
    cache.put(digest(1), replace(platform(1), variant="v8"))  # put again: replaced, and the most recent
    cache.put(digest(4), platform(4))
    assert [cache.get(digest(n)) for n in (1, 3, 4)] == [replace(platform(1), variant="v8"), None, platform(4)]
