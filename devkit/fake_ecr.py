"""An in-memory ECR: moto's, corrected where moto is not ECR, plus a real HTTP blob server on 127.0.0.1.

What moto 5.2 gets wrong for this project, and what is done about it here:
- Digests are not content hashes (and an index gets a random one); a passed imageDigest is not checked.
  -> every manifest's digest is sha256 of its exact bytes; PutImage checks imageDigest
     (ImageDigestDoesNotMatchException), refuses an immutable tag holding another image
     (ImageTagAlreadyExistsException) and an index whose children are not in the repository
     (ReferencedImagesNotFoundException), and a missing repository is RepositoryNotFoundException.
- BatchGetImage names the last tag an image got, not the one asked for. -> answers name the tag asked for.
- ListImages ignores maxResults and nextToken. -> pages as ECR does (default 100, at most 1,000 per page).
- GetDownloadUrlForLayer is not implemented and uploaded layer bytes are thrown away.
  -> uploaded blobs are kept and served by ``BlobServer`` over real HTTP, behind a presigned-looking URL whose
     signature the server checks (403 when wrong or expired), with injectable faults.
Every ECR call the service makes is recorded in ``FakeEcr.calls``; ``FakeEcr.faults`` injects ECR errors
("throttle", "server", "timeout") per operation, one per call, as botocore would meet them.
``FakeEcr(server=True)`` runs moto as a real HTTP server on 127.0.0.1 (AWS_ENDPOINT_URL points every boto3
client at it), for concurrency tests where each thread is its own Lambda container.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.exceptions import ReadTimeoutError
from moto import mock_aws
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.ecr import models as ecr_models
from moto.ecr import responses as ecr_responses
from moto.ecr.exceptions import InvalidParameterException, RepositoryNotFoundException
from moto.server import ThreadedMotoServer
from werkzeug.exceptions import HTTPException

from ecr_multiarch.domain import media_types

from .images import ImageBlobs

REGION = "us-east-1"
ACCOUNT = "123456789012"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
RECORDED_OPERATIONS = ("batch_get_image", "put_image", "get_download_url_for_layer", "list_images",
                       "list_tags_for_resource")


class ImageDigestDoesNotMatchException(ServiceException):
    code = "ImageDigestDoesNotMatchException"


class ImageTagAlreadyExistsException(ServiceException):
    code = "ImageTagAlreadyExistsException"


class ReferencedImagesNotFoundException(ServiceException):
    code = "ReferencedImagesNotFoundException"


class LayersNotFoundException(ServiceException):
    code = "LayersNotFoundException"


class ThrottlingException(ServiceException):
    code = "ThrottlingException"
    message = "Rate exceeded"


class ServerException(HTTPException):
    """ECR's ServerException with its real status, 500: moto would serialize a ServiceException as a 400."""

    code = 500

    def get_body(self, environ: Any = None, scope: Any = None) -> str:
        return json.dumps({"__type": "ServerException", "message": "Internal service error (injected)"})

    def get_headers(self, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        return [("Content-Type", "application/x-amz-json-1.1")]


def _raise_fault(kind: str) -> None:
    if kind == "throttle":
        raise ThrottlingException()
    if kind == "server":
        raise ServerException()
    if kind == "timeout":
        raise ReadTimeoutError(endpoint_url="https://api.ecr.us-east-1.amazonaws.com/")
    raise ValueError(f"unknown ECR fault {kind!r}")


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------- blob server


class _QuietHTTPServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a timeout under test) resets the socket: expected, not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class BlobServer:
    """Serves uploaded blobs at presigned-looking URLs. ``faults`` is consumed one entry per request.

    Fault names: "403" (expired URL), "500", "503", "truncate" (half the bytes), "corrupt" (one byte flipped),
    "oversize" (extra bytes), "slow:<seconds>" (sleep before answering).
    """

    def __init__(self) -> None:
        self._blobs: dict[tuple[str, str], bytes] = {}
        self._key = secrets.token_bytes(32)
        self._epoch = 0
        self.faults: deque[str] = deque()
        self.requests: list[str] = []  # digests asked for, in order (no URLs: they are secrets)
        self._lock = threading.Lock()
        self._server = _QuietHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="blob-server", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, repository: str, data: bytes) -> str:
        digest = _sha256(data)
        with self._lock:
            self._blobs[(repository, digest)] = data
        return digest

    def has(self, repository: str, digest: str) -> bool:
        return (repository, digest) in self._blobs

    def presign(self, repository: str, digest: str) -> str:
        path = f"/v2/{repository}/blobs/{digest}"
        signature = self._sign(path, self._epoch)
        return (
            f"{self.base_url}{path}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={self._epoch}"
            f"&X-Amz-Expires=3600&X-Amz-Signature={signature}"
        )

    def expire_all(self) -> None:
        """Every URL handed out so far now answers 403, as an expired presigned URL does."""
        self._epoch += 1

    def _sign(self, path: str, epoch: int) -> str:
        return hmac.new(self._key, f"{path}|{epoch}".encode(), hashlib.sha256).hexdigest()

    def _answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes, float]:
        parts = path.split("/blobs/")
        if len(parts) != 2 or not path.startswith("/v2/"):
            return 404, b"not found", 0.0
        repository, digest = parts[0][len("/v2/"):], parts[1]
        with self._lock:
            self.requests.append(digest)
            fault = self.faults.popleft() if self.faults else None
            data = self._blobs.get((repository, digest))
        epoch = query.get("X-Amz-Date", ["-1"])[0]
        signature = query.get("X-Amz-Signature", [""])[0]
        valid = epoch == str(self._epoch) and hmac.compare_digest(signature, self._sign(path, self._epoch))
        delay = 0.0
        if fault and fault.startswith("slow:"):
            delay = float(fault.split(":", 1)[1])
            fault = None
        if fault == "403" or not valid:
            return 403, b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", delay
        if fault in {"500", "503"}:
            return int(fault), b"<Error><Code>InternalError</Code></Error>", delay
        if data is None:
            return 404, b"<Error><Code>NoSuchKey</Code></Error>", delay
        if fault == "truncate":
            data = data[: len(data) // 2]
        elif fault == "corrupt":
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        elif fault == "oversize":
            data = data + b" " * 1024
        return 200, data, delay

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as S3 does: one connection for many config downloads
            disable_nagle_algorithm = True  # headers and body are two writes: don't let them wait for an ACK

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                status, body, delay = server._answer(url.path, parse_qs(url.query))
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the request line carries the signature: never print it

        return Handler


# --------------------------------------------------------------------------------------------- moto patches


@dataclass
class RecordedCall:
    operation: str
    params: dict[str, Any]


class _EcrCorrections:
    """The patches that make moto's ECR behave like ECR where the service depends on it."""

    def __init__(self, blob_server: BlobServer, calls: list[RecordedCall],
                 faults: dict[str, deque[str]]) -> None:
        self.blob_server = blob_server
        self.calls = calls
        self.faults = faults
        self.lock = threading.RLock()  # moto's ECR backend is not thread-safe; the stress runs need it to be
        self._original_put_image = ecr_models.ECRBackend.put_image
        self._original_batch_get_image = ecr_models.ECRBackend.batch_get_image
        self._original_complete_layer_upload = ecr_models.ECRBackend.complete_layer_upload
        self._original_list_tags_for_resource = ecr_models.ECRBackend.list_tags_for_resource

    def record(self, operation: str, params: dict[str, Any]) -> None:
        """Count the call (ECR bills it even when it fails), then fail it if a fault is queued."""
        with self.lock:
            self.calls.append(RecordedCall(operation, params))
            queue = self.faults.get(operation)
            fault = queue.popleft() if queue else None
        if fault is not None:
            _raise_fault(fault)

    def patches(self) -> list[Any]:
        corrections = self

        def create_digest(image: Any) -> None:
            image._image_digest = _sha256(image.image_manifest.encode("utf-8"))

        def put_image(backend: Any, repository_name: str, image_manifest: str, image_tag: str,
                      image_manifest_mediatype: str | None = None, digest: str | None = None) -> Any:
            corrections.record("put_image", {
                "repositoryName": repository_name, "imageTag": image_tag, "imageDigest": digest,
                "imageManifestMediaType": image_manifest_mediatype, "imageManifest": image_manifest})
            with corrections.lock:
                repository = backend.repositories.get(repository_name)
                if repository is None:
                    raise RepositoryNotFoundException(repository_name, backend.account_id)
                actual = _sha256(image_manifest.encode("utf-8"))
                if digest is not None and digest != actual:
                    raise ImageDigestDoesNotMatchException(
                        f"Invalid parameter at 'imageDigest': {digest} does not match the manifest digest {actual}")
                holder = None
                present: set[str] = set()
                for img in repository.images:  # one pass: this runs for every write of a 10,000-tag sweep
                    present.add(img.image_digest)
                    if image_tag in img.image_tags:
                        holder = img
                if holder is not None and repository.is_tag_immutable() and holder.image_digest != actual:
                    raise ImageTagAlreadyExistsException(
                        f"The image tag '{image_tag}' already exists in the '{repository_name}' repository "
                        "and cannot be overwritten because the repository is immutable.")
                document = json.loads(image_manifest)
                if document.get("mediaType", image_manifest_mediatype) in media_types.INDEXES:
                    absent = [m["digest"] for m in document.get("manifests", []) if m["digest"] not in present]
                    if absent:
                        raise ReferencedImagesNotFoundException(
                            f"Some of the referenced images were not found: {', '.join(absent)}")
                return corrections._original_put_image(
                    backend, repository_name, image_manifest, image_tag, image_manifest_mediatype, actual)

        def batch_get_image(backend: Any, repository_name: str, registry_id: str | None = None,
                            image_ids: list[dict[str, Any]] | None = None) -> dict[str, Any]:
            corrections.record("batch_get_image", {"repositoryName": repository_name,
                                                    "imageIds": list(image_ids or [])})
            with corrections.lock:
                images: list[dict[str, Any]] = []
                failures: list[dict[str, Any]] = []
                # moto scans the whole repository once per id; index the tags once per call instead, so a sweep of
                # a 10,000-tag repository does not spend minutes here (digest lookups still go through moto).
                repository = backend.repositories.get(repository_name)
                by_tag = {} if repository is None else {
                    tag: image for image in repository.images for tag in image.image_tags}
                for image_id in image_ids or []:
                    if repository is not None and "imageTag" in image_id and "imageDigest" not in image_id:
                        found = by_tag.get(image_id["imageTag"])
                        answer = {"images": [found] if found else [], "failures": [] if found else [
                            {"failureCode": "ImageNotFound", "failureReason": "Requested image not found"}]}
                    else:
                        answer = corrections._original_batch_get_image(backend, repository_name, registry_id,
                                                                       [image_id])
                    for image in answer["images"]:
                        images.append({
                            "registryId": image.registry_id,
                            "repositoryName": repository_name,
                            "imageId": {"imageDigest": image.image_digest,
                                        **({"imageTag": image_id["imageTag"]} if "imageTag" in image_id else {})},
                            "imageManifest": image.image_manifest,
                            "imageManifestMediaType": image.image_manifest_media_type,
                        })
                    failures.extend({**failure, "imageId": image_id} for failure in answer["failures"])
                return {"images": images, "failures": failures}

        def complete_layer_upload(backend: Any, repository_name: str, upload_id: str, layer_digests: list[str],
                                  registry_id: str | None = None) -> dict[str, Any]:
            with corrections.lock:
                repository = backend._get_repository(repository_name, registry_id)
                upload = repository.uploads.get(upload_id)
                if upload is not None:
                    corrections.blob_server.add(repository_name, bytes(upload.layer_parts))
                return corrections._original_complete_layer_upload(
                    backend, repository_name, upload_id, layer_digests, registry_id)

        def get_download_url_for_layer(response: Any) -> ActionResult:
            repository_name = response._get_param("repositoryName")
            digest = response._get_param("layerDigest")
            corrections.record("get_download_url_for_layer", {"repositoryName": repository_name,
                                                               "layerDigest": digest})
            with corrections.lock:
                backend = response.ecr_backend
                repository = backend.repositories.get(repository_name)
                if repository is None:
                    raise RepositoryNotFoundException(repository_name, backend.account_id)
                if digest not in repository.layers or not corrections.blob_server.has(repository_name, digest):
                    raise LayersNotFoundException(f"The specified layer {digest} does not exist")
            return ActionResult({"downloadUrl": corrections.blob_server.presign(repository_name, digest),
                                 "layerDigest": digest})

        def list_images(response: Any) -> ActionResult:
            repository_name = response._get_param("repositoryName")
            tag_status = (response._get_param("filter") or {}).get("tagStatus", "ANY")
            max_results = int(response._get_param("maxResults") or 100)
            if not 1 <= max_results <= 1000:
                raise InvalidParameterException("maxResults must be between 1 and 1000")
            start = int(response._get_param("nextToken") or 0)
            corrections.record("list_images", {"repositoryName": repository_name, "maxResults": max_results,
                                                "nextToken": start})
            with corrections.lock:
                images = response.ecr_backend.list_images(repository_name, tag_status=tag_status)
                ids = [{"imageDigest": image.image_digest, **({"imageTag": tag} if tag else {})}
                       for image in images for tag in (image.image_tags or [None])]
            page = ids[start : start + max_results]
            result: dict[str, Any] = {"imageIds": page}
            if start + max_results < len(ids):
                result["nextToken"] = str(start + max_results)
            return ActionResult(result)

        def list_tags_for_resource(backend: Any, arn: str) -> Any:
            corrections.record("list_tags_for_resource", {"resourceArn": arn})
            return corrections._original_list_tags_for_resource(backend, arn)

        return [
            mock.patch.object(ecr_models.ECRBackend, "list_tags_for_resource", list_tags_for_resource),
            mock.patch.object(ecr_responses.ECRResponse, "list_images", list_images),
            mock.patch.object(ecr_models.Image, "_create_digest", create_digest),
            mock.patch.object(ecr_models.ECRBackend, "put_image", put_image),
            mock.patch.object(ecr_models.ECRBackend, "batch_get_image", batch_get_image),
            mock.patch.object(ecr_models.ECRBackend, "complete_layer_upload", complete_layer_upload),
            mock.patch.object(ecr_responses.ECRResponse, "get_download_url_for_layer", get_download_url_for_layer),
        ]


# --------------------------------------------------------------------------------------------- the fake


@dataclass(frozen=True)
class StoredImage:
    digest: str
    media_type: str
    manifest: bytes


class FakeEcr:
    """``with FakeEcr() as ecr:`` — moto's ECR, corrected, with a blob server; fake credentials, no AWS."""

    def __init__(self, *, server: bool = False) -> None:
        self.calls: list[RecordedCall] = []
        self.faults: dict[str, deque[str]] = {operation: deque() for operation in RECORDED_OPERATIONS}
        self.blob_server = BlobServer()
        self.endpoint_url: str | None = None
        self._server = server
        self._stack = contextlib.ExitStack()
        self._seed_lock = threading.Lock()
        self.client: Any = None

    def __enter__(self) -> FakeEcr:
        stack = self._stack
        stack.enter_context(mock.patch.dict(os.environ, FAKE_CREDENTIALS))
        corrections = _EcrCorrections(self.blob_server, self.calls, self.faults)
        for patch in corrections.patches():
            stack.enter_context(patch)
        if self._server:
            logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
            moto_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            moto_server.start()
            stack.callback(moto_server.stop)
            host, port = moto_server.get_host_and_port()
            self.endpoint_url = f"http://{host}:{port}"
            stack.enter_context(mock.patch.dict(os.environ, {"AWS_ENDPOINT_URL": self.endpoint_url}))
            # The server's state is process-wide: start and leave it empty.
            stack.callback(_reset_moto)
            _reset_moto()
        else:
            stack.enter_context(mock_aws())
        self.blob_server.start()
        stack.callback(self.blob_server.stop)
        self.client = boto3.client("ecr", region_name=REGION)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    # ---- seeding, through the real ECR API a `docker push` uses

    def create_repository(self, name: str, *, immutable: bool = False) -> None:
        self.client.create_repository(repositoryName=name,
                                      imageTagMutability="IMMUTABLE" if immutable else "MUTABLE")

    def push(self, repository: str, tag: str, image: ImageBlobs) -> str:
        self.push_blobs(repository, image)
        for child in image.children:
            self.push_untagged(repository, child)
        self.client.put_image(repositoryName=repository, imageTag=tag, imageManifest=image.manifest.decode(),
                              imageManifestMediaType=image.media_type)
        return image.digest

    def push_blobs(self, repository: str, image: ImageBlobs) -> None:
        for data in image.blobs.values():
            if self.blob_server.has(repository, _sha256(data)):
                continue  # like docker push: a blob the repository already has is not uploaded again
            upload = self.client.initiate_layer_upload(repositoryName=repository)
            self.client.upload_layer_part(repositoryName=repository, uploadId=upload["uploadId"],
                                          partFirstByte=0, partLastByte=len(data) - 1, layerPartBlob=data)
            self.client.complete_layer_upload(repositoryName=repository, uploadId=upload["uploadId"],
                                              layerDigests=[_sha256(data)])

    def push_untagged(self, repository: str, image: ImageBlobs) -> str:
        """Push a manifest by digest only, as BuildKit pushes the children of its index (moto takes a PutImage
        without imageTag, like ECR)."""
        self.push_blobs(repository, image)
        if not self.has_digest(repository, image.digest):
            self.client.put_image(repositoryName=repository, imageManifest=image.manifest.decode(),
                                  imageManifestMediaType=image.media_type, imageDigest=image.digest)
        return image.digest

    def has_digest(self, repository: str, digest: str) -> bool:
        response = self.client.batch_get_image(repositoryName=repository, imageIds=[{"imageDigest": digest}],
                                               acceptedMediaTypes=list(media_types.ALL_MANIFESTS))
        self.calls.pop()  # inspection is not the service's traffic
        return bool(response["images"])

    def seed(self, repository: str, tag: str, manifest: bytes, media_type: str,
             blobs: Mapping[str, bytes] | None = None) -> str:
        """Store an image (or an index) at a new tag straight into moto's backend, as a push would leave it.

        For large fixtures (the 10,000-tag benchmark) where pushing through the API costs an HTTP round trip and a
        scan of the whole repository per call. What a push guarantees still holds: the manifest is stored as these
        exact bytes under their sha256 digest, and every blob is registered as a layer of the repository and served
        by the blob server. Only for tags the repository does not hold yet (no tag is moved).
        """
        digest = _sha256(manifest)
        backend = ecr_models.ecr_backends[ACCOUNT][REGION]
        with self._seed_lock:
            stored = backend.repositories[repository]
            for data in (blobs or {}).values():
                stored.layers[self.blob_server.add(repository, data)] = len(data)
            stored.images.append(ecr_models.Image(ACCOUNT, tag, manifest.decode("utf-8"), repository, media_type,
                                                  digest))
        return digest

    # ---- inspection

    def image_at(self, repository: str, tag: str) -> StoredImage | None:
        response = self.client.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": tag}],
                                               acceptedMediaTypes=list(media_types.ALL_MANIFESTS))
        self.calls.pop()  # inspection is not the service's traffic
        if not response["images"]:
            return None
        image = response["images"][0]
        return StoredImage(image["imageId"]["imageDigest"], image["imageManifestMediaType"],
                           image["imageManifest"].encode("utf-8"))

    def operations(self) -> list[str]:
        return [call.operation for call in self.calls]


def _reset_moto() -> None:
    """What POST /moto-api/reset does: every backend of the process back to empty."""
    from moto.core.base_backend import BackendDict

    BackendDict.reset()


@contextlib.contextmanager
def fake_ecr() -> Iterator[FakeEcr]:
    with FakeEcr() as ecr:
        yield ecr
