"""``ecr-multiarch sandbox``: the demo's in-memory ECR as a server on 127.0.0.1, for trying every command offline.

Runs in the foreground until Ctrl-C: moto's ECR (and STS) as a real HTTP server, corrected where moto is not ECR
(devkit/fake_ecr.py: the corrections are patches of this process, and the server runs in this process, so they
apply), config blobs served over HTTP on 127.0.0.1, and repository ``golang`` seeded with versions in every state
a sweep meets. Prints the ``export`` lines that point the AWS SDK (and so ``ecr-multiarch``) at it.

``python -m devkit.sandbox --port 5000`` fixes the port (docs/sam-local-env-vars.json names 5000); ``--host`` and
``--public-host`` serve a `sam local` container that reaches this machine by another name (docs/sam-local.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from devkit.offline import offline_aws_environment

CHECKOUT = Path(__file__).resolve().parent.parent

REPOSITORY = "golang"

# What the seed leaves, version by version: the state a sweep finds and what it does about it.
SEEDED = (
    ("1.19.2-alpine", "amd64 + arm64 pushed, no index yet (the sample events' version)", "create"),
    ("1.20-alpine", "amd64 only", "waiting for 1.20-alpine-arm64"),
    ("1.18-alpine", "index written, then arm64 pushed again", "update (stale index)"),
    ("1.21-alpine", "docker buildx pushes: each arch tag an OCI index with its attestation", "create (OCI index)"),
)


def seed(ecr: Any) -> None:
    """Push the demo repository's versions through the ECR API a `docker push` uses; the stale index is written by
    the real assembler, as the function would have written it before arm64 was pushed again."""
    import boto3

    from devkit.fake_ecr import ACCOUNT
    from devkit.images import make_buildkit_image, make_image
    from ecr_multiarch.adapters.ecr import BOTOCORE_CONFIG, EcrRegistry
    from ecr_multiarch.adapters.http_blobs import HttpBlobReader
    from ecr_multiarch.assembler import Assembler
    from ecr_multiarch.settings import Settings

    amd64, arm64 = make_image("amd64"), make_image("arm64", variant="v8")
    ecr.create_repository(REPOSITORY)
    for suffix, image in (("amd64", amd64), ("arm64", arm64)):
        ecr.push(REPOSITORY, f"1.19.2-alpine-{suffix}", image)
    ecr.push(REPOSITORY, "1.20-alpine-amd64", make_image("amd64", revision="1.20"))
    ecr.push(REPOSITORY, "1.18-alpine-amd64", make_image("amd64", revision="1.18"))
    ecr.push(REPOSITORY, "1.18-alpine-arm64", make_image("arm64", variant="v8", revision="1.18"))
    assembler = Assembler(EcrRegistry(boto3.client("ecr", config=BOTOCORE_CONFIG), account_id=ACCOUNT),
                          HttpBlobReader(), Settings())
    assembler.assemble(REPOSITORY, "1.18-alpine")
    ecr.push(REPOSITORY, "1.18-alpine-arm64", make_image("arm64", variant="v8", revision="1.18-rebuilt"))
    ecr.push(REPOSITORY, "1.21-alpine-amd64", make_buildkit_image("amd64", revision="1.21"))
    ecr.push(REPOSITORY, "1.21-alpine-arm64", make_buildkit_image("arm64", variant="v8", revision="1.21"))
    ecr.calls.clear()


# Unset by the pasted lines: an explicit profile makes the SDK ignore credentials from the environment; a service's
# own endpoint (AWS_ENDPOINT_URL_ECR, _STS) wins over AWS_ENDPOINT_URL; the last one makes the SDK ignore both.
UNSET = ("AWS_PROFILE", "AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL_STS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")

# What the banner suggests trying, in an order where each runs as printed and exits 0 (tests/functional/
# test_sandbox.py runs every one of them).
TRY = ("plan golang:1.19.2-alpine", "assemble golang:1.19.2-alpine", "reconcile --dry-run", "reconcile",
       "invoke events/push-arm64.json", "invoke events/schedule/scheduled-event.json")


def export_lines(endpoint_url: str, region: str) -> list[str]:
    """What to paste into another shell: the SDK's endpoint, region and (fake) credentials."""
    return [
        f"export AWS_ENDPOINT_URL={endpoint_url} AWS_REGION={region} AWS_DEFAULT_REGION={region} "
        "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing",
        "unset " + " ".join(UNSET),
    ]


def program(checkout: Path = CHECKOUT) -> str:
    """The command as it runs from the checkout root: the ecr-multiarch script beside this Python (the checkout's
    .venv/bin, which is not on PATH), else the one on PATH, else this Python with -m."""
    # abspath, not resolve: a venv's python is a link to the base interpreter; `..` (mutmut's workspace) must go.
    script = Path(os.path.abspath(sys.executable)).parent / "ecr-multiarch"
    if script.is_file():
        return str(script.relative_to(checkout)) if script.is_relative_to(checkout) else str(script)
    if shutil.which("ecr-multiarch"):
        return "ecr-multiarch"
    return f"{sys.executable} -m ecr_multiarch.cli"


def _banner(endpoint_url: str, region: str, out: TextIO, container_url: str | None = None) -> None:
    print("# In-memory ECR (moto, corrected; no AWS account) serving on " + endpoint_url, file=out)
    if container_url is not None:
        print(f"# For sam local (docs/sam-local.md): ECR_MULTIARCH_ENDPOINT_URL={container_url}", file=out)
    print("# Paste these two lines into another shell:", file=out)
    for line in export_lines(endpoint_url, region):
        print(line, file=out)
    print(f"# Repository '{REPOSITORY}' holds:", file=out)
    for version, state, expected in SEEDED:
        print(f"#   {version:<15} {state}  -> {expected}", file=out)
    print(f"# Then try, from the checkout root ({CHECKOUT}):", file=out)
    for command in TRY:
        print(f"#   {program()} {command}", file=out)
    print("# Serving until Ctrl-C (state is in memory and goes with it).", file=out, flush=True)


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; a container on Docker's bridge network "
                             "reaches the host at the bridge's gateway, e.g. 172.17.0.1)")
    parser.add_argument("--port", type=int, default=0, help="the ECR endpoint's port (default: any free port)")
    parser.add_argument("--public-host", default=None,
                        help="the name a container reaches this machine by (e.g. host.docker.internal): it goes "
                             "into the config blob URLs and the ECR_MULTIARCH_ENDPOINT_URL line")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = parse_args(argv)
    from devkit.fake_ecr import REGION, FakeEcr

    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    # The shell's own AWS configuration (another sandbox's exports, AWS_ENDPOINT_URL_ECR…) must not take the seed
    # elsewhere: only the endpoint FakeEcr sets applies in here.
    with offline_aws_environment(), FakeEcr(server=True, host=args.host, port=args.port,
                                            public_host=args.public_host) as ecr:
        seed(ecr)
        assert ecr.endpoint_url is not None
        port = ecr.endpoint_url.rsplit(":", 1)[1]
        container_url = f"http://{args.public_host}:{port}" if args.public_host else ecr.endpoint_url
        try:  # from the banner on: Ctrl-C may come the moment its last line is out
            _banner(ecr.endpoint_url, REGION, out, container_url)
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("# sandbox stopped", file=out, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
