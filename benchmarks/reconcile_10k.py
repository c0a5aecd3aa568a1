"""One reconcile of a 10,000-tag repository in the fake ECR: the ECR calls it makes, against the goal, and its time.

    make bench-reconcile        (or: .venv/bin/python -m benchmarks.reconcile_10k [--tags N])

The repository holds a realistic mix, every image distinct (its own config blob, so its own config digest):
  40 % versions complete with no index yet   -> created
  45 % versions whose index is already current -> unchanged
   9 % versions whose index is stale (arm64 re-pushed since) -> updated
   5 % versions with only their amd64 tag      -> waiting
   1 % versions whose arm64 tag holds an amd64 image -> rejected
(percentages of tags; 10,000 tags = 2,000 + 1,500 + 300 + 500 + 50 versions).

Seeding: pushing 10,000 images through the ECR API costs an HTTP round trip and a scan of the whole repository
each, so the images are stored straight into moto's backend with ``FakeEcr.seed``: the manifests are real bytes
stored under their real sha256 digests, every config and layer blob is registered in the repository and served by
the blob server over HTTP. Current and stale indexes are built with the service's own pure domain code. The sweep
itself runs unmodified: the real boto3 ECR adapter (moto intercepts the HTTP calls), the real requests blob reader.

Goals: the fewest calls of each kind the design needs for this repository, computed from what was seeded (tags,
versions by kind, distinct configs to read; see ``goals``), never from what the sweep reports. Each call kind is
printed PASS (no more calls than the goal) or MISS, as ``make bench`` does, and so is the count of outcomes
against the versions seeded; the script exits 0 either way. moto is not ECR, so the wall time says little about
production; the call counts are the point (they are what ECR bills, throttles and rate-limits).
tests/functional/test_benchmark.py runs a small repository and holds the figures to these goals.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions" / "assembler"), str(ROOT)]

from devkit.fake_ecr import FakeEcr  # noqa: E402
from devkit.images import ImageBlobs, make_image  # noqa: E402
from ecr_multiarch.domain.digest import Digest  # noqa: E402
from ecr_multiarch.domain.index import ChildDescriptor, IndexFormat, build_index  # noqa: E402
from ecr_multiarch.domain.platform import platform_from_config  # noqa: E402

REPOSITORY = "golang-bench"


def child(image: ImageBlobs) -> ChildDescriptor:
    platform = platform_from_config(json.loads(image.blobs[image.config_digest]))
    return ChildDescriptor(image.media_type, len(image.manifest), Digest(image.digest), platform)


@dataclass
class Shape:
    """What was seeded, counted while seeding (never taken from the sweep): the goals are computed from this."""

    tags: int = 0
    versions: Counter[str] = field(default_factory=Counter)
    # Distinct config digests of the versions whose configs must be read: those with no index yet (created),
    # a stale one (updated) or a mislabelled child (rejected). A current index is recognised from its own bytes.
    configs_to_read: set[str] = field(default_factory=set)

    def complete(self, *kinds: str) -> int:
        return sum(self.versions[kind] for kind in kinds)


def seed(ecr: FakeEcr, tags: int) -> Shape:
    """Seed ``tags`` tags in the mix above."""
    unit = tags // 100  # 1 % of the tags
    plan = {"created": 40 * unit // 2, "unchanged": 45 * unit // 3, "updated": 9 * unit // 3,
            "waiting": 5 * unit, "rejected": unit // 2}
    shape = Shape()
    number = 0

    def put(tag: str, manifest: bytes, media_type: str, blobs: dict[str, bytes] | None = None) -> None:
        ecr.seed(REPOSITORY, tag, manifest, media_type, blobs)
        shape.tags += 1

    for kind, count in plan.items():
        for _ in range(count):
            number += 1
            version = f"1.{number // 1000}.{number % 1000}-{kind}"
            amd64 = make_image("amd64", revision=version)
            arm64 = make_image("arm64", variant="v8", revision=version)
            put(f"{version}-amd64", amd64.manifest, amd64.media_type, amd64.blobs)
            shape.versions[kind] += 1
            if kind == "waiting":
                continue
            if kind == "rejected":
                arm64 = make_image("amd64", revision=f"{version}-mislabelled")
            put(f"{version}-arm64", arm64.manifest, arm64.media_type, arm64.blobs)
            if kind in {"created", "updated", "rejected"}:
                shape.configs_to_read.update({amd64.config_digest, arm64.config_digest})
            if kind in {"unchanged", "updated"}:
                older = make_image("arm64", variant="v8", revision=f"{version}-old") if kind == "updated" else arm64
                if kind == "updated":  # the child the stale index names is still in the repository, untagged
                    ecr.seed(REPOSITORY, None, older.manifest, older.media_type, older.blobs)
                index = build_index([child(amd64), child(older)], IndexFormat.AUTO)
                put(version, index.body, index.media_type)
    return shape


def goals(shape: Shape, *, warm: bool) -> dict[str, int]:
    """The fewest ECR calls of each kind one sweep needs for this repository, from its shape alone.

    - ListImages: ⌈tags/1000⌉ to list it; after writing W versions, one more read to verify them: a relisting
      (⌈tags after/1000⌉, each created version adds its tag) or BatchGetImage of their 3 W tags (⌈3W/100⌉),
      whichever takes fewer calls (a tie goes to the listing).
    - BatchGetImage: the tags of every complete version (its arch tags and its version tag, which is read even
      when the listing did not show it: an index pushed there since must not be overwritten), 100 per call.
    - GetDownloadUrlForLayer: one per distinct config of a version that must be assembled (no index, a stale
      one, a mislabelled child); none for a current index, and none at all once the container's cache is warm.
    - PutImage: one per version that has no index or a stale one; none on the second sweep.
    """
    created = 0 if warm else shape.versions["created"]
    written = 0 if warm else created + shape.versions["updated"]
    read_ids = 3 * shape.complete("created", "unchanged", "updated", "rejected")  # arch tags + the version tag
    tags_before = shape.tags + (shape.versions["created"] if warm else 0)
    tags_after = tags_before + created
    verify_by_batch = math.ceil(3 * written / 100)
    verify_by_listing = math.ceil(tags_after / 1000)
    verify_list = verify_by_listing if written and verify_by_batch >= verify_by_listing else 0
    verify_batch = verify_by_batch if written and not verify_list else 0
    return {
        "list_images": math.ceil(tags_before / 1000) + verify_list,
        "batch_get_image": math.ceil(read_ids / 100) + verify_batch,
        "get_download_url_for_layer": 0 if warm else len(shape.configs_to_read),
        "put_image": written,
    }


def expected_outcomes(shape: Shape, *, warm: bool) -> dict[str, int]:
    if warm:
        return {kind: count for kind, count in {
            "unchanged": shape.complete("created", "unchanged", "updated"), "waiting": shape.versions["waiting"],
            "rejected": shape.versions["rejected"]}.items() if count}
    return {kind: count for kind, count in shape.versions.items() if count}


@dataclass
class RunFigures:
    name: str
    tags_listed: int
    seconds: float
    calls: Counter[str]
    goals: dict[str, int]
    outcomes: dict[str, int]
    expected_outcomes: dict[str, int]
    blob_downloads: int

    def verdicts(self) -> dict[str, bool]:
        """PASS per call kind: no more calls than the goal (the design's promise), and every version judged."""
        passed = {operation: self.calls[operation] <= goal for operation, goal in self.goals.items()}
        passed["outcomes"] = self.outcomes == self.expected_outcomes
        return passed


FORMULAS = {"list_images": "⌈tags/1000⌉ + the verifying read", "batch_get_image": "⌈tags read/100⌉",
            "get_download_url_for_layer": "one per config to read", "put_image": "one per changed version"}


def count_tags(ecr: FakeEcr) -> int:
    pages = ecr.client.get_paginator("list_images").paginate(repositoryName=REPOSITORY,
                                                             filter={"tagStatus": "TAGGED"},
                                                             PaginationConfig={"PageSize": 1000})
    return sum(len(page["imageIds"]) for page in pages)


def run(tags: int) -> tuple[Shape, list[RunFigures]]:
    """Seed, then two sweeps (cold, then warm in the same container); the figures of each."""
    import boto3

    from ecr_multiarch.adapters.ecr import BOTOCORE_CONFIG, EcrRegistry
    from ecr_multiarch.adapters.http_blobs import HttpBlobReader
    from ecr_multiarch.assembler import Assembler, PlatformCache
    from ecr_multiarch.reconcile import PLATFORM_CACHE_ENTRIES, Reconciler
    from ecr_multiarch.settings import Settings

    figures = []
    with FakeEcr() as ecr:
        ecr.create_repository(REPOSITORY)
        started = time.perf_counter()
        shape = seed(ecr, tags)
        print(f"Seeded {REPOSITORY}: {shape.tags:,} tags in {time.perf_counter() - started:.1f} s (versions: "
              f"{', '.join(f'{count:,} {kind}' for kind, count in shape.versions.items())}; "
              f"{len(shape.configs_to_read):,} distinct configs to read)")
        registry = EcrRegistry(boto3.client("ecr", config=BOTOCORE_CONFIG))
        # Composed as the reconcile function composes it (reconcile_handler.services), with the fake's client.
        assembler = Assembler(registry, HttpBlobReader(), Settings(), PlatformCache(PLATFORM_CACHE_ENTRIES))
        reconciler = Reconciler(registry, assembler)
        for name, warm in (("first reconcile (cold: nothing cached)", False),
                           ("second reconcile (same container, warm)", True)):
            tags_listed = count_tags(ecr)
            ecr.calls.clear()
            ecr.blob_server.requests.clear()
            started = time.perf_counter()
            report = reconciler.sweep([REPOSITORY])
            elapsed = time.perf_counter() - started
            outcomes = {kind: count for kind, count in report.totals().items() if count}
            figures.append(RunFigures(name, tags_listed, elapsed, Counter(ecr.operations()), goals(shape, warm=warm),
                                      outcomes, expected_outcomes(shape, warm=warm),
                                      len(ecr.blob_server.requests)))
    return shape, figures


def print_run(run_figures: RunFigures) -> None:
    figures = run_figures
    verdicts = figures.verdicts()
    print(f"\n{figures.name} of {figures.tags_listed:,} tags: {figures.seconds:.1f} s wall time")
    print(f"  outcomes: {', '.join(f'{kind} {count:,}' for kind, count in figures.outcomes.items())}  "
          f"[{'PASS' if verdicts['outcomes'] else 'MISS'}: seeded for "
          f"{', '.join(f'{kind} {count:,}' for kind, count in figures.expected_outcomes.items())}]")
    print(f"  {'ECR call':<28}{'made':>8}{'goal':>8}         goal")
    for operation, formula in FORMULAS.items():
        print(f"  {operation:<28}{figures.calls[operation]:>8,}{figures.goals[operation]:>8,}   "
              f"{'PASS' if verdicts[operation] else 'MISS'}  {formula}")
    print(f"  {'total':<28}{sum(figures.calls.values()):>8,}{sum(figures.goals.values()):>8,}")
    print(f"  blob downloads (HTTP GET, not ECR): {figures.blob_downloads:,} "
          f"(goal {figures.goals['get_download_url_for_layer']:,}: one per config to read)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tags", type=int, default=10_000, help="repository size in tags (default 10,000)")
    args = parser.parse_args(argv)
    _, runs = run(args.tags)
    for figures in runs:
        print_run(figures)
    verdicts = [passed for figures in runs for passed in figures.verdicts().values()]
    missed = verdicts.count(False)
    print(f"\n{len(verdicts) - missed} of {len(verdicts)} goals met" + (f", {missed} missed" if missed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
