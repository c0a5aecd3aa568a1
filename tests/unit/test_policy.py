"""Per-repository policy from ECR repository tags: parsing, and the warm container's TTL cache."""

import pytest

from devkit.images import make_image
from devkit.memory_registry import MemoryRegistry
from ecr_multiarch.assembler import Assembler, PolicyCache
from ecr_multiarch.domain.index import IndexFormat
from ecr_multiarch.domain.policy import PolicyError, RepositoryPolicy, parse_policy
from ecr_multiarch.domain.tags import DEFAULT_SUFFIXES
from ecr_multiarch.outcome import OutcomeKind
from ecr_multiarch.settings import Settings


@pytest.mark.parametrize(
    ("tags", "policy"),
    [
        ({}, RepositoryPolicy()),
        ({"team": "platform", "ecr-multiarch-other": "x"}, RepositoryPolicy()),  # not ours
        ({"ecr-multiarch:architectures": "amd64+arm64+armv7"},
         RepositoryPolicy(architectures=("amd64", "arm64", "armv7"))),
        ({"ecr-multiarch:architectures": " amd64 windows-amd64 "},
         RepositoryPolicy(architectures=("amd64", "windows-amd64"))),
        ({"ecr-multiarch:index-format": "OCI"}, RepositoryPolicy(index_format=IndexFormat.OCI)),
        ({"ecr-multiarch:enabled": "false"}, RepositoryPolicy(enabled=False)),
        ({"ecr-multiarch:enabled": "True"}, RepositoryPolicy()),
    ],
)
def test_parse_policy(tags: dict[str, str], policy: RepositoryPolicy) -> None:
    assert parse_policy(tags, DEFAULT_SUFFIXES) == policy


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ({"ecr-multiarch:architecture": "amd64"}, "unknown repository tag"),
        ({"ecr-multiarch:architectures": "amd64,arm64"}, "unknown suffixes"),  # commas: not a tag value anyway
        ({"ecr-multiarch:architectures": "+"}, "is empty"),
        ({"ecr-multiarch:architectures": "amd64+amd64"}, "twice"),
        ({"ecr-multiarch:index-format": "v2"}, "use auto, docker or oci"),
        ({"ecr-multiarch:enabled": "no"}, "use true or false"),
    ],
)
def test_unusable_policies(tags: dict[str, str], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(tags, DEFAULT_SUFFIXES)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_repository_tags_are_read_once_per_ttl() -> None:
    registry = MemoryRegistry()
    registry.create_repository("app")
    registry.push("app", "1.0-amd64", make_image("amd64"))
    registry.push("app", "1.0-arm64", make_image("arm64", variant="v8"))
    clock = Clock()
    assembler = Assembler(registry, registry, Settings(repository_tags_ttl=60),  # type: ignore[arg-type]
                          repository_tags=registry, policy_cache=PolicyCache(clock))
    assert assembler.assemble("app", "1.0").kind is OutcomeKind.CREATED
    registry.repository_tag_values["app"] = {"ecr-multiarch:enabled": "false"}
    clock.now += 59
    assert assembler.assemble("app", "1.0").kind is OutcomeKind.UNCHANGED  # still the cached policy
    clock.now += 2
    assert assembler.assemble("app", "1.0").kind is OutcomeKind.SKIPPED
    assert registry.calls.count("ListTagsForResource") == 2
    assert assembler.version_tags("1.0", "app") == []
    assert assembler.version_tags("1.0") == ["1.0-amd64", "1.0-arm64", "1.0"]


def test_prefetched_manifests_are_ignored_when_the_repository_has_its_own_architectures() -> None:
    registry = MemoryRegistry()
    registry.create_repository("app")
    for suffix, image in (("amd64", make_image("amd64")), ("arm64", make_image("arm64", variant="v8")),
                          ("armv7", make_image("arm", variant="v7"))):
        registry.push("app", f"1.0-{suffix}", image)
    registry.repository_tag_values["app"] = {"ecr-multiarch:architectures": "amd64+arm64+armv7"}
    assembler = Assembler(registry, registry, Settings(), repository_tags=registry)  # type: ignore[arg-type]
    prefetched = registry.get_manifests("app", assembler.version_tags("1.0"))  # the function-wide two
    assert assembler.version_tags("1.0", "app") == ["1.0-amd64", "1.0-arm64", "1.0-armv7", "1.0"]
    outcome = assembler.assemble("app", "1.0", prefetched)
    assert outcome.kind is OutcomeKind.CREATED and outcome.index is not None and len(outcome.index.manifests) == 3
