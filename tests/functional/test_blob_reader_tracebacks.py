"""The requests blob reader's failures, as a traceback would print them: the error, never the presigned URL.

requests and urllib3 put the full URL (query string and signature included) in their exception messages. The reader
raises its own errors ``from None``, so a printed traceback (Lambda's error report, a log's exc_info) shows only
ours. Served over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import socket
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ecr_multiarch.adapters.http_blobs import HttpBlobReader
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.errors import BlobUnavailableError

SECRET_QUERY = "?X-Amz-Credential=AKIDEXAMPLE&X-Amz-Signature=0123456789abcdef"
DIGEST = Digest("sha256:" + "ab" * 32)


class PromisesMoreThanItSends(BaseHTTPRequestHandler):
    """Announces 100 bytes, sends 10, and hangs up: the download breaks off mid-body."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "100")
        self.end_headers()
        self.wfile.write(b"0123456789")
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def truncating_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), PromisesMoreThanItSends)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v2/golang/blobs/{DIGEST}"
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def printed(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))


def test_a_refused_connection_is_reported_without_the_url() -> None:
    url = f"http://127.0.0.1:{closed_port()}/v2/golang/blobs/{DIGEST}{SECRET_QUERY}"
    with pytest.raises(BlobUnavailableError) as raised:
        HttpBlobReader(timeout=(0.5, 0.5)).read(url, DIGEST, 10)
    assert str(raised.value) == f"download of blob {DIGEST} failed: ConnectionError"
    assert "X-Amz-Signature" not in printed(raised.value)
    assert "127.0.0.1" not in printed(raised.value)


def test_a_download_that_breaks_off_is_reported_without_the_url(truncating_server: str) -> None:
    with pytest.raises(BlobUnavailableError) as raised:
        HttpBlobReader(timeout=(0.5, 0.5)).read(truncating_server + SECRET_QUERY, DIGEST, 100)
    assert str(raised.value) == f"download of blob {DIGEST} broke off: ChunkedEncodingError"
    assert "X-Amz-Signature" not in printed(raised.value)
