"""What the benchmark sections share: the verdict list, the images and push events they seed, the moto server."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devkit.fake_ecr import FakeEcr

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"

# Tag suffix -> make_image() arguments for a config that states that suffix's platform.
IMAGES: Mapping[str, dict[str, Any]] = {
    "amd64": {"architecture": "amd64"},
    "arm64": {"architecture": "arm64", "variant": "v8"},
    "armv7": {"architecture": "arm", "variant": "v7"},
    "armv6": {"architecture": "arm", "variant": "v6"},
    "386": {"architecture": "386"},
    "ppc64le": {"architecture": "ppc64le"},
    "s390x": {"architecture": "s390x"},
    "riscv64": {"architecture": "riscv64"},
}
ARCH_SETS: Mapping[int, tuple[str, ...]] = {2: ("amd64", "arm64"), 8: tuple(IMAGES)}


@dataclass
class Verdict:
    goal: str
    figure: str
    passed: bool


VERDICTS: list[Verdict] = []


def judge(goal: str, figure: str, passed: bool) -> str:
    VERDICTS.append(Verdict(goal, figure, passed))
    return "PASS" if passed else "MISS"


def push_event(repository: str, tag: str, digest: str, media_type: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "push-amd64.json").read_text(encoding="utf-8"))
    event["detail"].update({"repository-name": repository, "image-tag": tag, "image-digest": digest,
                            "manifest-media-type": media_type})
    return event


def seed_version(ecr: FakeEcr, repository: str, version: str, suffixes: Sequence[str],
                 revision: str = "1") -> dict[str, dict[str, Any]]:
    """Push ``version`` for every suffix; return the push event of each arch tag."""
    from devkit.images import make_image

    events: dict[str, dict[str, Any]] = {}
    for suffix in suffixes:
        image = make_image(**IMAGES[suffix], revision=revision)
        tag = f"{version}-{suffix}"
        digest = ecr.push(repository, tag, image)
        events[suffix] = push_event(repository, tag, digest, image.media_type)
    return events


@contextmanager
def moto_server() -> Iterator[str]:
    """moto as an HTTP server on 127.0.0.1 sharing this process's (corrected) ECR state: its endpoint URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
