"""``make demo``: the real Lambda handler against an in-memory ECR, replaying events/, no AWS account needed.

Seeds repository ``golang`` with a real image for each required architecture (config and layer blobs uploaded
through the ECR layer API), then replays the events a real registry would send, in the order it would send them,
and prints each outcome and the index ECR holds at the end.

``--architectures`` and ``--index-format`` are the function's REQUIRED_ARCHITECTURES and INDEX_FORMAT (an unknown
suffix exits 2); ``--json`` prints one document (the events' outcomes and the index) instead of the narration.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from devkit.offline import offline_aws_environment

ROOT = Path(__file__).resolve().parent.parent
VERSION = "1.19.2-alpine"
EXIT_USAGE = 2


def _event(name: str, **detail: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / name).read_text())
    event["detail"].update({key.replace("_", "-"): value for key, value in detail.items()})
    return event


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help="also print the function's structured logs")
    parser.add_argument("--architectures", metavar="LIST", default=None,
                        help="required tag suffixes, in index order (default: $REQUIRED_ARCHITECTURES or amd64,arm64)")
    parser.add_argument("--index-format", choices=("auto", "docker", "oci"), default=None,
                        help="index media type (default: $INDEX_FORMAT or auto)")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout instead of the narration")
    return parser.parse_args(argv)


@contextmanager
def function_environment(args: argparse.Namespace) -> Iterator[None]:
    """The function's settings for the length of the demo, as its template parameters would set them."""
    defaults = {"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_SERVICE_NAME": "ecr-multiarch"}
    if not args.verbose:
        defaults.update(POWERTOOLS_LOG_LEVEL="WARNING", POWERTOOLS_METRICS_DISABLED="true")
    overrides = {name: value for name, value in defaults.items() if name not in os.environ}
    if args.architectures is not None:
        overrides["REQUIRED_ARCHITECTURES"] = args.architectures
    if args.index_format is not None:
        overrides["INDEX_FORMAT"] = args.index_format
    with mock.patch.dict(os.environ, overrides):
        yield


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Whatever AWS configuration the shell holds (a sandbox's export lines, a profile), the demo writes only to its
    # own in-memory ECR.
    with offline_aws_environment(), function_environment(args):
        from ecr_multiarch.settings import Settings, SettingsError

        try:
            settings = Settings.from_environment(os.environ)
        except SettingsError as error:
            message = str(error)
            if args.architectures is not None:
                message = message.replace("REQUIRED_ARCHITECTURES", "--architectures")
            print(f"demo: error: {message}", file=sys.stderr)
            return EXIT_USAGE
        return _run(settings, as_json=args.json)


def demo_images(settings: Any) -> dict[str, Any]:
    """One real image per required suffix, its config stating the platform the suffix promises (arm64 as v8)."""
    from devkit.images import make_image

    images = {}
    for suffix in settings.required_architectures:
        platform = settings.expected_platform(suffix)
        variant = platform.variant or ("v8" if platform.architecture == "arm64" else None)
        images[suffix] = make_image(platform.architecture, os=platform.os, variant=variant)
    return images


def _run(settings: Any, *, as_json: bool) -> int:
    # Imported here so the Powertools settings above apply to the handler's module-level Logger and Metrics.
    from devkit.fake_ecr import FakeEcr
    from devkit.lambda_context import FakeLambdaContext
    from ecr_multiarch import handler

    say = (lambda _text: None) if as_json else print
    replayed: list[dict[str, Any]] = []
    images = demo_images(settings)
    with FakeEcr() as ecr:
        ecr.create_repository("golang")
        handler.configure(None)  # the Lambda's own composition root: boto3 client, requests, settings from env

        def replay(title: str, event: dict[str, Any]) -> dict[str, Any]:
            result: dict[str, Any] = handler.lambda_handler(event, FakeLambdaContext())
            detail = event["detail"]
            name = f"{detail['repository-name']}:{detail.get('image-tag') or '<untagged>'}"
            replayed.append({"title": title, "event": f"{detail['action-type']} {name}", "outcome": result})
            say(f"\n▶ {title}\n  event: {detail['action-type']} {name}\n  outcome: " + json.dumps(result))
            return result

        say(f"In-memory ECR (moto, corrected; blobs served on {ecr.blob_server.base_url}), repository 'golang'; "
            f"required architectures {','.join(settings.required_architectures)}, index format "
            f"{settings.index_format.value}.")
        children: dict[str, str] = {}
        last_event: dict[str, Any] = {}
        created: dict[str, Any] = {}
        for suffix, image in images.items():
            tag = f"{VERSION}-{suffix}"
            children[ecr.push("golang", tag, image)] = f"golang:{tag}"
            last_event = _event("push-arm64.json", image_tag=tag, image_digest=image.digest,
                                manifest_media_type=image.media_type)
            created = replay(f"docker push golang:{tag}", last_event)
        replay("the same event delivered again (EventBridge is at-least-once)", last_event)
        index_push = _event("push-index.json", image_digest=created.get("digest", ""))
        replay("the index's own push event (loop guard)", index_push)
        replay("an untagged push", _event("push-untagged.json"))
        replay("a delete", _event("delete-amd64.json"))
        stored = ecr.image_at("golang", VERSION)
        handler.configure(None)
    return _report(stored, children, replayed, as_json=as_json)


def _report(stored: Any, children: dict[str, str], replayed: list[dict[str, Any]], *, as_json: bool) -> int:
    if stored is None:
        print(f"\nECR holds no index at golang:{VERSION}", file=sys.stderr)
        return 1
    manifest = json.loads(stored.manifest)
    entries = []
    for entry in manifest["manifests"]:
        platform = entry["platform"]
        name = "/".join(filter(None, (platform["os"], platform["architecture"], platform.get("variant"))))
        entries.append((name, entry["digest"], children.get(entry["digest"], "NOT A CHILD")))
    if as_json:
        print(json.dumps({"events": replayed, "tag": f"golang:{VERSION}", "mediaType": stored.media_type,
                          "digest": stored.digest, "index": manifest,
                          "children": {digest: child for _name, digest, child in entries}}, indent=2))
    else:
        print(f"\nECR now holds golang:{VERSION}")
        print(f"  mediaType: {stored.media_type}")
        print(f"  digest:    {stored.digest}")
        print(json.dumps(manifest, indent=2))
        for name, digest, child in entries:
            print(f"  {name:<16} -> {digest}  ({child})")
    return 0 if all(child != "NOT A CHILD" for _name, _digest, child in entries) else 1


if __name__ == "__main__":
    sys.exit(main())
