"""The BlobReader port over HTTPS with requests: bounded, verified, and silent about the URL.

requests is the project's chosen HTTP client. It is imported only when the first config is downloaded (the handler's
BlobReaderOnFirstUse), so `skipped`, `waiting` and `unchanged` answers never pay for it; a full assembly on a cold
start does (docs/performance.md gives the measured cost).

A presigned URL is a bearer credential for the blob until it expires, so neither it nor its query string may reach
a log line, a metric, a trace or an exception message. Every exception raised here is built from scratch and
raised ``from None``, because requests' own messages embed the full URL.
"""

from __future__ import annotations

import hashlib

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ..domain.digest import Digest
from ..errors import BlobIntegrityError, BlobUnavailableError, BlobUrlExpiredError
from ..redaction import redact_query_strings

# urllib3 logs request URLs (at DEBUG, and at WARNING when it retries).
redact_query_strings("urllib3.connectionpool", "urllib3.util.retry", "urllib3.poolmanager", "urllib3.response")

CONNECT_TIMEOUT_SECONDS = 3.05
READ_TIMEOUT_SECONDS = 10.0
_CHUNK = 64 * 1024


def default_session() -> requests.Session:
    """A session that retries connection errors and 5xx with backoff (urllib3), GET only."""
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
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry, pool_maxsize=16)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class HttpBlobReader:
    def __init__(
        self,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
    ) -> None:
        self._session = session or default_session()
        self._timeout = timeout

    def read(self, url: str, digest: Digest, size: int) -> bytes:
        try:
            response = self._session.get(url, stream=True, timeout=self._timeout)
        except requests.RequestException as error:
            raise BlobUnavailableError(f"download of blob {digest} failed: {type(error).__name__}") from None
        with response:
            if response.status_code == 403:
                raise BlobUrlExpiredError(f"download URL for blob {digest} was refused (403)")
            if response.status_code != 200:
                raise BlobUnavailableError(f"download of blob {digest} answered HTTP {response.status_code}")
            body = self._read_at_most(response, digest, size)
        if len(body) != size:
            raise BlobIntegrityError(f"blob {digest} is {len(body)} bytes, its manifest says {size}")
        actual = "sha256:" + hashlib.sha256(body).hexdigest()
        if actual != str(digest):
            raise BlobIntegrityError(f"blob {digest} downloaded with sha256 {actual}")
        return body

    @staticmethod
    def _read_at_most(response: requests.Response, digest: Digest, size: int) -> bytes:
        """Stop one byte past the expected size: a larger answer is wrong however large it is."""
        chunks: list[bytes] = []
        received = 0
        try:
            for chunk in response.iter_content(_CHUNK):
                chunks.append(chunk)
                received += len(chunk)
                if received > size:
                    raise BlobIntegrityError(f"blob {digest} is larger than the {size} bytes its manifest says")
        except requests.RequestException as error:
            raise BlobUnavailableError(f"download of blob {digest} broke off: {type(error).__name__}") from None
        return b"".join(chunks)
