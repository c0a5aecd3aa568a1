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

Figures are printed, never asserted: moto is not ECR, so the wall time says little about production; the call
counts are the point (they are what ECR bills, throttles and rate-limits).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
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


def seed(ecr: FakeEcr, tags: int) -> tuple[Counter[str], int]:
    """Seed ``tags`` tags in the mix above; returns versions by expected outcome and distinct config digests."""
    unit = tags // 100  # 1 % of the tags
    plan = {"created": 40 * unit // 2, "unchanged": 45 * unit // 3, "updated": 9 * unit // 3,
            "waiting": 5 * unit, "rejected": unit // 2}
    expected: Counter[str] = Counter()
    configs: set[str] = set()
    number = 0

    def put(tag: str, image: ImageBlobs) -> None:
        ecr.seed(REPOSITORY, tag, image.manifest, image.media_type, image.blobs)

    for kind, count in plan.items():
        for _ in range(count):
            number += 1
            version = f"1.{number // 1000}.{number % 1000}-{kind}"
            amd64 = make_image("amd64", revision=version)
            arm64 = make_image("arm64", variant="v8", revision=version)
            put(f"{version}-amd64", amd64)
            expected[kind] += 1
            if kind == "waiting":
                continue
            if kind == "rejected":
                arm64 = make_image("amd64", revision=f"{version}-mislabelled")
            put(f"{version}-arm64", arm64)
            configs.update({amd64.config_digest, arm64.config_digest})
            if kind in {"unchanged", "updated"}:
                older = make_image("arm64", variant="v8", revision=f"{version}-old") if kind == "updated" else arm64
                index = build_index([child(amd64), child(older)], IndexFormat.AUTO)
                ecr.seed(REPOSITORY, version, index.body, index.media_type)
    return expected, len(configs)


def count_tags(ecr: FakeEcr) -> int:
    pages = ecr.client.get_paginator("list_images").paginate(repositoryName=REPOSITORY,
                                                             PaginationConfig={"PageSize": 1000})
    return sum(len(page["imageIds"]) for page in pages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tags", type=int, default=10_000, help="repository size in tags (default 10,000)")
    args = parser.parse_args(argv)

    import boto3

    from ecr_multiarch.adapters.ecr import BOTOCORE_CONFIG, EcrRegistry
    from ecr_multiarch.adapters.http_blobs import HttpBlobReader
    from ecr_multiarch.assembler import Assembler, PlatformCache
    from ecr_multiarch.reconcile import PLATFORM_CACHE_ENTRIES, Reconciler
    from ecr_multiarch.settings import Settings

    with FakeEcr() as ecr:
        ecr.create_repository(REPOSITORY)
        started = time.perf_counter()
        expected, distinct_configs = seed(ecr, args.tags)
        print(f"Seeded {REPOSITORY}: {count_tags(ecr):,} tags in {time.perf_counter() - started:.1f} s "
              f"(versions: {', '.join(f'{count:,} {kind}' for kind, count in expected.items())})")

        registry = EcrRegistry(boto3.client("ecr", config=BOTOCORE_CONFIG))
        # Composed as the reconcile function composes it (reconcile_handler.services), with the fake's client.
        assembler = Assembler(registry, HttpBlobReader(), Settings(), PlatformCache(PLATFORM_CACHE_ENTRIES))
        reconciler = Reconciler(registry, assembler)
        for run in ("first reconcile (cold: nothing cached)", "second reconcile (same container, warm)"):
            tags = count_tags(ecr)
            ecr.calls.clear()
            started = time.perf_counter()
            report = reconciler.sweep([REPOSITORY])
            elapsed = time.perf_counter() - started
            calls = Counter(ecr.operations())
            totals = {kind: count for kind, count in report.totals().items() if count}
            changed = totals.get("created", 0) + totals.get("updated", 0)
            print(f"\n{run} of {tags:,} tags: {elapsed:.1f} s wall time, complete={report.complete}")
            print(f"  outcomes: {', '.join(f'{kind} {count:,}' for kind, count in totals.items())}")
            goal = {
                "list_images": math.ceil(tags / 1000),
                "batch_get_image": math.ceil(tags / 100),
                "get_download_url_for_layer": distinct_configs if run.startswith("first") else 0,
                "put_image": changed,
            }
            print(f"  {'ECR call':<28}{'made':>8}{'goal':>8}   goal formula")
            formulas = {"list_images": "⌈N/1000⌉ (N = tags)", "batch_get_image": "⌈N/100⌉",
                        "get_download_url_for_layer": "one per config digest", "put_image": "one per changed version"}
            for operation, formula in formulas.items():
                print(f"  {operation:<28}{calls[operation]:>8,}{goal[operation]:>8,}   {formula}")
            print(f"  {'total':<28}{sum(calls.values()):>8,}{sum(goal.values()):>8,}")
            relisting = calls["list_images"] - goal["list_images"]
            if relisting > 0:
                print(f"  list_images = {goal['list_images']} to sweep + {relisting} to verify the writes with one "
                      f"fresh relisting ({count_tags(ecr):,} tags after them; BatchGetImage of the "
                      f"{3 * changed:,} tags written or read would take {math.ceil(3 * changed / 100)} calls)")
            print(f"  blob downloads (HTTP GET, not ECR): {len(ecr.blob_server.requests):,}")
            ecr.blob_server.requests.clear()
    return 0


if __name__ == "__main__":
    sys.exit(main())
