"""The HTTPS blob reader against a real HTTP server on 127.0.0.1 that answers from a script: how many requests each
kind of failure costs, what is retried and what is not, the exact error each ends in, and the backoff slept."""

import hashlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import pytest
import requests
import urllib3.util.retry

from ecr_multiarch.adapters.http_blobs import HttpBlobReader, default_session
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.errors import BlobIntegrityError, BlobUnavailableError, BlobUrlExpiredError

BLOB = b'{"architecture":"amd64","os":"linux"}'
DIGEST = Digest.of(BLOB)


class ScriptedServer:
    """Answers each GET with the next (status, body) of ``script``, then with 200 and BLOB; records every request."""

    def __init__(self) -> None:
        self.script: list[tuple[int, bytes]] = []
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.command)
                status, body = server.script.pop(0) if server.script else (200, BLOB)
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/blob?X-Amz-Signature=secret"
        Thread(target=self.http.serve_forever, args=(0.01,), daemon=True).start()


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    yield scripted
    scripted.http.shutdown()
    scripted.http.server_close()


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """urllib3's backoff sleeps, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(urllib3.util.retry.time, "sleep", recorded.append)
    return recorded


def read(server: ScriptedServer, size: int = len(BLOB), digest: Digest = DIGEST) -> bytes:
    return HttpBlobReader().read(server.url, digest, size)


def test_a_good_answer_is_one_get_and_gives_the_bytes(server: ScriptedServer) -> None:
    assert read(server) == BLOB
    assert server.requests == ["GET"]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_is_retried(server: ScriptedServer, status: int, slept: list[float]) -> None:
    server.script = [(status, b"busy")]
    assert read(server) == BLOB
    assert len(server.requests) == 2


def test_server_errors_are_retried_three_times_with_backoff_then_reported(server: ScriptedServer,
                                                                           slept: list[float]) -> None:
    server.script = [(503, b"busy")] * 4
    with pytest.raises(BlobUnavailableError) as raised:
        read(server)
    assert str(raised.value) == f"download of blob {DIGEST} answered HTTP 503"
    assert len(server.requests) == 4
    assert slept == pytest.approx([0.4, 0.8])


def test_three_failures_then_success_is_a_success(server: ScriptedServer, slept: list[float]) -> None:
    server.script = [(500, b""), (502, b""), (503, b"")]
    assert read(server) == BLOB
    assert len(server.requests) == 4


@pytest.mark.parametrize(("status", "error", "message"), [
    (403, BlobUrlExpiredError, f"download URL for blob {DIGEST} was refused (403)"),
    (404, BlobUnavailableError, f"download of blob {DIGEST} answered HTTP 404"),
    (429, BlobUnavailableError, f"download of blob {DIGEST} answered HTTP 429"),
])
def test_a_client_error_is_not_retried(server: ScriptedServer, status: int, error: type[Exception],
                                       message: str) -> None:
    server.script = [(status, b"no")]
    with pytest.raises(error) as raised:
        read(server)
    assert str(raised.value) == message
    assert len(server.requests) == 1


def test_a_short_answer_is_an_integrity_error(server: ScriptedServer) -> None:
    with pytest.raises(BlobIntegrityError) as raised:
        read(server, size=len(BLOB) + 1)
    assert str(raised.value) == f"blob {DIGEST} is {len(BLOB)} bytes, its manifest says {len(BLOB) + 1}"


def test_a_longer_answer_is_refused_as_soon_as_it_passes_the_size(server: ScriptedServer) -> None:
    with pytest.raises(BlobIntegrityError) as raised:
        read(server, size=len(BLOB) - 1)
    assert str(raised.value) == f"blob {DIGEST} is larger than the {len(BLOB) - 1} bytes its manifest says"


def test_an_answer_of_exactly_the_size_is_read_whole(server: ScriptedServer) -> None:
    large = bytes(range(256)) * 1024  # several chunks
    server.script = [(200, large)]
    assert HttpBlobReader().read(server.url, Digest.of(large), len(large)) == large


def test_bytes_of_the_right_size_but_another_digest_are_refused(server: ScriptedServer) -> None:
    expected = Digest.of(b"x" * len(BLOB))
    with pytest.raises(BlobIntegrityError) as raised:
        read(server, digest=expected)
    assert str(raised.value) == f"blob {expected} downloaded with sha256 sha256:{hashlib.sha256(BLOB).hexdigest()}"


def test_an_unreachable_server_is_retried_then_reported_without_the_url(slept: list[float]) -> None:
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    url = f"http://127.0.0.1:{closed.server_address[1]}/blob?X-Amz-Signature=secret"
    closed.server_close()
    with pytest.raises(BlobUnavailableError) as raised:
        HttpBlobReader().read(url, DIGEST, len(BLOB))
    assert str(raised.value) == f"download of blob {DIGEST} failed: ConnectionError"
    assert slept == pytest.approx([0.4, 0.8])
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


class RecordingSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.calls.append((str(url), kwargs))
        raise requests.ConnectTimeout("http://127.0.0.1/?X-Amz-Signature=secret")


def test_each_get_streams_with_the_connect_and_read_timeouts() -> None:
    session = RecordingSession()
    with pytest.raises(BlobUnavailableError) as raised:
        HttpBlobReader(session).read("http://127.0.0.1/blob", DIGEST, 1)
    assert str(raised.value) == f"download of blob {DIGEST} failed: ConnectTimeout"
    assert session.calls == [("http://127.0.0.1/blob", {"stream": True, "timeout": (3.05, 10.0)})]


def test_the_default_session_retries_https_as_it_does_http() -> None:
    session = default_session()
    for scheme in ("https://", "http://"):
        retry = session.get_adapter(scheme + "example.com").max_retries
        assert (retry.total, retry.connect, retry.read, retry.status) == (3, 3, 2, 3)
        assert retry.allowed_methods == frozenset({"GET"})
        assert retry.raise_on_status is False


class RawServer:
    """One connection, answered by ``respond(socket)``: for answers no well-behaved HTTP server gives."""

    def __init__(self, respond: Any) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/blob?X-Amz-Signature=secret"
        self.finished = threading.Event()

        def serve() -> None:
            connection, _ = self.listener.accept()
            with connection:
                connection.recv(65536)
                respond(connection)
            self.finished.set()

        threading.Thread(target=serve, daemon=True).start()


def test_an_answer_cut_short_of_its_length_is_reported_as_broken_off() -> None:
    def respond(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + BLOB[:10])

    server = RawServer(respond)
    with pytest.raises(BlobUnavailableError) as raised:
        HttpBlobReader().read(server.url, DIGEST, 1000)
    assert str(raised.value) == f"download of blob {DIGEST} broke off: ChunkedEncodingError"


def test_an_oversized_answer_is_refused_while_it_is_still_arriving() -> None:
    release = threading.Event()

    def respond(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n" + b"x" * 200_000)
        release.wait(timeout=5)  # the rest never comes: only a reader that stops early is done before this

    server = RawServer(respond)
    with pytest.raises(BlobIntegrityError) as raised:
        HttpBlobReader().read(server.url, DIGEST, 1000)
    assert not server.finished.is_set()
    release.set()
    assert str(raised.value) == f"blob {DIGEST} is larger than the 1000 bytes its manifest says"


def test_an_oversized_answer_is_counted_across_chunks(server: ScriptedServer) -> None:
    large = b"y" * 150_000  # three reads of 64 KiB, none larger than the expected size on its own
    server.script = [(200, large)]
    with pytest.raises(BlobIntegrityError) as raised:
        HttpBlobReader().read(server.url, Digest.of(large[:100_000]), 100_000)
    assert str(raised.value) == f"blob {Digest.of(large[:100_000])} is larger than the 100000 bytes its manifest says"
