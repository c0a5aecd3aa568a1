"""The sandbox for a `sam local` container (docs/sam-local.md): a fixed port, and config blob URLs that name the host
the container reaches this machine by, while this machine's own clients keep using loopback."""

import hashlib
import io
import json
import socket
import urllib.request

from devkit import sandbox
from devkit.fake_ecr import FakeEcr
from devkit.images import make_image


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_fixed_port_and_a_public_host_name_the_blob_urls_a_container_follows() -> None:
    port = free_port()
    with FakeEcr(server=True, port=port, public_host="localhost") as ecr:
        ecr.create_repository("golang")
        image = make_image("arm64", variant="v8")
        ecr.push("golang", "1.0-arm64", image)
        config_digest = json.loads(image.manifest)["config"]["digest"]

        url = ecr.client.get_download_url_for_layer(repositoryName="golang", layerDigest=config_digest)["downloadUrl"]
        with urllib.request.urlopen(url, timeout=10) as response:  # localhost: this machine, by another name
            body = response.read()

    assert ecr.endpoint_url == f"http://127.0.0.1:{port}"
    assert url.startswith("http://localhost:") and f":{port}/" not in url
    assert "sha256:" + hashlib.sha256(body).hexdigest() == config_digest


def test_the_banner_names_the_endpoint_for_sam_local_and_the_options_parse() -> None:
    out = io.StringIO()
    sandbox._banner("http://127.0.0.1:5000", "us-east-1", out, "http://host.docker.internal:5000")
    assert "# For sam local (docs/sam-local.md): ECR_MULTIARCH_ENDPOINT_URL=http://host.docker.internal:5000\n" \
        in out.getvalue()
    args = sandbox.parse_args(["--host", "172.17.0.1", "--port", "5000", "--public-host", "host.docker.internal"])
    assert (args.host, args.port, args.public_host) == ("172.17.0.1", 5000, "host.docker.internal")
    assert vars(sandbox.parse_args([])) == {"host": "127.0.0.1", "port": 0, "public_host": None}
