"""The BlobReader port over HTTPS with urllib3: bounded, verified, and silent about the URL.

urllib3 is botocore's own HTTP library, already imported by the time a config is downloaded, so a download costs no
import of its own on a cold start (requests cost about 20 ms of CPU there: docs/performance.md). Certificates are
checked against the bundle botocore uses for ECR itself.

A presigned URL is a bearer credential for the blob until it expires, so neither it nor its query string may reach
a log line, a metric, a trace or an exception message. Every exception raised here is built from scratch and
raised ``from None``, because urllib3's own messages embed the URL.
"""

from __future__ import annotations

import hashlib

import urllib3
from botocore.httpsession import get_cert_path
from urllib3.exceptions import HTTPError
from urllib3.util import Retry, Timeout

from ..domain.digest import Digest
from ..errors import BlobIntegrityError, BlobUnavailableError, BlobUrlExpiredError
from ..redaction import redact_query_strings

# urllib3 logs request URLs (at DEBUG, and at WARNING when it retries).
redact_query_strings("urllib3.connectionpool", "urllib3.util.retry", "urllib3.poolmanager", "urllib3.response")

CONNECT_TIMEOUT_SECONDS = 3.05
READ_TIMEOUT_SECONDS = 10.0
_CHUNK = 64 * 1024


def default_pool() -> urllib3.PoolManager:
    """A pool that retries connection errors and 5xx with backoff, GET only; one connection per config in flight."""
    retry = Retry(
        total=3,
        connect=3,
        read=2,
        status=3,
        backoff_factor=0.2,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        raise_on_status=False,
    )
    return urllib3.PoolManager(retries=retry, maxsize=16, cert_reqs="CERT_REQUIRED", ca_certs=get_cert_path(True))


class HttpBlobReader:
    def __init__(
        self,
        pool: urllib3.PoolManager | None = None,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
    ) -> None:
        self._pool = pool or default_pool()
        self._timeout = Timeout(connect=timeout[0], read=timeout[1])

    def read(self, url: str, digest: Digest, size: int) -> bytes:
        try:
            response = self._pool.request("GET", url, preload_content=False, timeout=self._timeout)
        except HTTPError as error:
            raise BlobUnavailableError(f"download of blob {digest} failed: {type(error).__name__}") from None
        try:
            if response.status == 403:
                raise BlobUrlExpiredError(f"download URL for blob {digest} was refused (403)")
            if response.status != 200:
                raise BlobUnavailableError(f"download of blob {digest} answered HTTP {response.status}")
            body = self._read_at_most(response, digest, size)
        except BaseException:
            response.close()  # unread bytes may follow: this connection must not serve another download
            raise
        response.release_conn()
        if len(body) != size:
            raise BlobIntegrityError(f"blob {digest} is {len(body)} bytes, its manifest says {size}")
        actual = "sha256:" + hashlib.sha256(body).hexdigest()
        if actual != str(digest):
            raise BlobIntegrityError(f"blob {digest} downloaded with sha256 {actual}")
        return body

    @staticmethod
    def _read_at_most(response: urllib3.BaseHTTPResponse, digest: Digest, size: int) -> bytes:
        """Stop one byte past the expected size: a larger answer is wrong however large it is."""
        chunks: list[bytes] = []
        received = 0
        try:
            for chunk in response.stream(_CHUNK):
                chunks.append(chunk)
                received += len(chunk)
                if received > size:
                    raise BlobIntegrityError(f"blob {digest} is larger than the {size} bytes its manifest says")
        except HTTPError as error:
            raise BlobUnavailableError(f"download of blob {digest} broke off: {type(error).__name__}") from None
        return b"".join(chunks)
