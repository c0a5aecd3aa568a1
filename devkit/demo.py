"""``make demo``: the real Lambda handler against an in-memory ECR, replaying events/, no AWS account needed.

Seeds repository ``golang`` with real linux/amd64 and linux/arm64/v8 images (config and layer blobs uploaded
through the ECR layer API), then replays the events a real registry would send, in the order it would send them,
and prints each outcome and the index ECR holds at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VERSION = "1.19.2-alpine"


def _event(name: str, **detail: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / name).read_text())
    event["detail"].update({key.replace("_", "-"): value for key, value in detail.items()})
    return event


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help="also print the function's structured logs")
    args = parser.parse_args(argv)
    if not args.verbose:
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "ecr-multiarch")

    # Imported late so the Powertools settings above apply to the handler's module-level Logger and Metrics.
    from devkit.fake_ecr import FakeEcr
    from devkit.images import make_image
    from devkit.lambda_context import FakeLambdaContext
    from ecr_multiarch import handler

    amd64 = make_image("amd64")
    arm64 = make_image("arm64", variant="v8")
    with FakeEcr() as ecr:
        ecr.create_repository("golang")
        handler.configure(None)  # the Lambda's own composition root: boto3 client, requests, settings from env

        def replay(title: str, event: dict[str, Any]) -> dict[str, Any]:
            result: dict[str, Any] = handler.lambda_handler(event, FakeLambdaContext())
            detail = event["detail"]
            print(f"\n▶ {title}\n  event: {detail['action-type']} {detail['repository-name']}:"
                  f"{detail.get('image-tag') or '<untagged>'}")
            print("  outcome: " + json.dumps(result))
            return result

        print(f"In-memory ECR (moto, corrected; blobs served on {ecr.blob_server.base_url}), repository 'golang'.")
        amd64_digest = ecr.push("golang", f"{VERSION}-amd64", amd64)
        replay("docker push golang:1.19.2-alpine-amd64",
               _event("push-amd64.json", image_digest=amd64_digest, manifest_media_type=amd64.media_type))
        arm64_digest = ecr.push("golang", f"{VERSION}-arm64", arm64)
        arm64_event = _event("push-arm64.json", image_digest=arm64_digest, manifest_media_type=arm64.media_type)
        created = replay("docker push golang:1.19.2-alpine-arm64", arm64_event)
        replay("the same event delivered again (EventBridge is at-least-once)", arm64_event)
        replay("the index's own push event (loop guard)",
               _event("push-index.json", image_digest=created.get("digest", "")))
        replay("an untagged push", _event("push-untagged.json"))
        replay("a delete", _event("delete-amd64.json"))

        stored = ecr.image_at("golang", VERSION)
        if stored is None:
            print("\nECR holds no index at golang:1.19.2-alpine", file=sys.stderr)
            return 1
        print(f"\nECR now holds golang:{VERSION}")
        print(f"  mediaType: {stored.media_type}")
        print(f"  digest:    {stored.digest}")
        print(json.dumps(json.loads(stored.manifest), indent=2))
        children = {amd64_digest: "golang:1.19.2-alpine-amd64", arm64_digest: "golang:1.19.2-alpine-arm64"}
        for entry in json.loads(stored.manifest)["manifests"]:
            platform = entry["platform"]
            name = "/".join(filter(None, (platform["os"], platform["architecture"], platform.get("variant"))))
            print(f"  {name:<16} -> {entry['digest']}  ({children.get(entry['digest'], 'NOT A CHILD')})")
        handler.configure(None)
        return 0 if all(entry["digest"] in children for entry in json.loads(stored.manifest)["manifests"]) else 1


if __name__ == "__main__":
    sys.exit(main())
