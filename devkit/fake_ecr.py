"""An in-memory ECR: moto's, corrected where moto is not ECR, plus a real HTTP blob server on 127.0.0.1.

Where moto 5.2.5 is not ECR, what the fake does instead, and the source (tests/functional/test_fake_ecr.py proves
each through boto3; the pure rules are in devkit/ecr_rules.py):
- Digests: moto hashes layer digests (an index gets a random value) and takes any imageDigest. -> sha256 of the
  exact manifest bytes; a wrong imageDigest is ImageDigestDoesNotMatchException (API_PutImage errors).
- A tag that moves: moto deletes the image it left when that was its only tag. -> the image stays, untagged:
  ListImages lists it without a tag (tagStatus UNTAGGED finds it), DescribeImages shows no imageTags, it can be read
  by digest and a new index may reference it ("if the tag already exists within the repo the old image remains
  within the registry but goes in an untagged state", the Stack Overflow answer on ECR lifecycle policies; the
  user guide's lifecycle policies act on such "untagged" images; only BatchDeleteImage of an image's last tag
  deletes it, API_BatchDeleteImage).
- Tag immutability: moto raises ImageAlreadyExistsException and matches exclusion filters as regular expressions
  ("v*" matched every tag). -> ImageTagAlreadyExistsException for any PutImage to a held immutable tag (user guide,
  image-tag-mutability.html), even of the same digest (aws/containers-roadmap#2179); IMMUTABLE_WITH_EXCLUSION
  leaves the tags its filters match mutable, MUTABLE_WITH_EXCLUSION makes only those immutable; a WILDCARD filter
  matches the whole tag, `*` any run of characters (API_ImageTagMutabilityExclusionFilter; aws-cdk TagMutability).
  moto already stores the filters (CreateRepository, PutImageTagMutability) and returns them in
  DescribeRepositories: kept.
- PutImage of an image manifest whose config or layers were never uploaded: moto accepts it. -> LayersNotFound-
  Exception (API_PutImage errors: "The specified layers could not be found"); foreign / non-distributable layers are
  not required. An index whose children are not in the repository: ReferencedImagesNotFoundException (API_PutImage).
  The same bytes pushed again without a tag: ImageAlreadyExistsException ("no changes to the manifest or tag").
- acceptedMediaTypes: moto ignores it. -> asked by tag, a stored type that is not accepted is translated Docker v2
  schema 2 <-> OCI (ECR user guide, image-manifest-formats.html, conversion table); the imageId keeps the image's
  digest, so the translated bytes do not hash to it. Asked by digest: bytes as stored ("no translation available",
  same page; aws/containers-roadmap#1075). Left out: as stored (the documented retag flow reads an OCI manifest
  back unchanged, aws/containers-roadmap#1873). No translation available (an index, schema 1, an OCI artifact not
  accepted): failure ImageNotFound, as a registry answers a manifest request with no acceptable format (404
  MANIFEST_UNKNOWN); ImageFailureCode has no media-type code (botocore's ECR model).
- BatchGetImage failures: moto only ever says ImageNotFound, loses the digest asked for and names the last tag an
  image got. -> failures name the id asked for; InvalidImageDigest, ImageTagDoesNotMatchDigest, MissingDigestAndTag
  as ECR reports them; images name the tag asked for; ``fail_image`` injects any ImageFailureCode per image;
  ``archive`` makes an image ImageInaccessible and leaves it out of ListImages unless imageStatus ARCHIVED/ANY
  (API_ListImagesFilter: "If not specified, only images with ACTIVE status are returned").
- GetDownloadUrlForLayer: not implemented by moto, uploaded bytes thrown away. -> uploaded blobs kept and served
  by ``BlobServer`` over real HTTP behind a presigned-looking URL (403 when wrong or expired, injectable faults);
  LayersNotFoundException for a blob never uploaded; LayerInaccessibleException for one no image references ("You
  can only get URLs for image layers that are referenced in an image", API_GetDownloadUrlForLayer); ``fail_layer``
  injects LayersNotFound / LayerInaccessible / UnableToGetUpstreamLayer per blob.
- ListImages ignores maxResults and nextToken. -> pages as ECR does (default 100, at most 1,000 per page).
- A missing repository is a bare Exception in moto's PutImage. -> RepositoryNotFoundException.
- BatchDeleteImage of an image an index lists (by digest, or by its last tag): moto deletes it. -> failure
  ImageReferencedByManifestList (aws/containers-roadmap#1567: such a tag cannot be deleted).
Not modelled: the imageStatus of DescribeImages, a blob becoming inaccessible again when the last image naming
it is deleted, throttling by rate (``faults`` injects it per call instead).

Per-image faults, for tests (each validated against botocore's ECR model):
    ecr.fail_image(repository, tag_or_digest, "KmsError", times=1)      # BatchGetImage failures[] entry
    ecr.fail_layer(repository, blob_digest, "LayerInaccessibleException")
    ecr.archive(repository, tag_or_digest); ecr.restore(repository, digest)
    ecr.convert_image(repository, tag_or_digest)  # served translated although accepted: reaches digest guards
    ecr.clear_faults()
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
import re
import secrets
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
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
from moto.ecr.exceptions import ImageAlreadyExistsException, InvalidParameterException, RepositoryNotFoundException
from moto.server import ThreadedMotoServer
from werkzeug.exceptions import HTTPException

from ecr_multiarch.domain import media_types

from . import ecr_rules
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


class LayerInaccessibleException(ServiceException):
    code = "LayerInaccessibleException"


class UnableToGetUpstreamLayerException(ServiceException):
    code = "UnableToGetUpstreamLayerException"


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


def _reachable(host: str) -> str:
    """The address this machine's own clients use for a server listening on ``host`` (every address: loopback)."""
    return "127.0.0.1" if host == "0.0.0.0" else host


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

    def __init__(self, host: str = "127.0.0.1", public_host: str | None = None) -> None:
        """``host``: the address to listen on; ``public_host``: the name the URLs give (default ``host``), for a
        client that reaches this machine by another name (a container: host.docker.internal)."""
        self._blobs: dict[tuple[str, str], bytes] = {}
        self._key = secrets.token_bytes(32)
        self._epoch = 0
        self.faults: deque[str] = deque()
        self.requests: list[str] = []  # digests asked for, in order (no URLs: they are secrets)
        self._lock = threading.Lock()
        self._public_host = public_host or _reachable(host)
        self._server = _QuietHTTPServer((host, 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="blob-server", daemon=True)

    @property
    def base_url(self) -> str:
        port = self._server.server_address[1]
        return f"http://{self._public_host}:{port}"

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


@dataclass
class _Fault:
    code: str
    remaining: int | None  # None: until cleared


class ImageFaults:
    """Per-image and per-layer failures injected by tests, and archived images (see FakeEcr.fail_image)."""

    def __init__(self) -> None:
        self.images: dict[tuple[str, str], _Fault] = {}  # (repository, tag or digest) -> BatchGetImage failure
        self.layers: dict[tuple[str, str], _Fault] = {}  # (repository, blob digest) -> GetDownloadUrlForLayer error
        self.archived: set[tuple[str, str]] = set()  # (repository, image digest)
        self.converted: set[tuple[str, str]] = set()  # (repository, tag or digest) served translated

    @staticmethod
    def _take(table: dict[tuple[str, str], _Fault], key: tuple[str, str]) -> str | None:
        fault = table.get(key)
        if fault is None:
            return None
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                del table[key]
        return fault.code

    def image_failure(self, repository: str, asked: dict[str, str], digest: str | None) -> str | None:
        for reference in (asked.get("imageTag"), asked.get("imageDigest"), digest):
            if reference and (repository, reference) in self.images:
                return self._take(self.images, (repository, reference))
        if digest is not None and (repository, digest) in self.archived:
            return "ImageInaccessible"
        return None

    def served_converted(self, repository: str, asked: dict[str, str], digest: str) -> bool:
        return any((repository, reference) in self.converted
                   for reference in (asked.get("imageTag"), asked.get("imageDigest"), digest) if reference)

    def layer_failure(self, repository: str, digest: str) -> str | None:
        return self._take(self.layers, (repository, digest))


_LAYER_ERRORS = {"LayersNotFoundException": LayersNotFoundException,
                 "LayerInaccessibleException": LayerInaccessibleException,
                 "UnableToGetUpstreamLayerException": UnableToGetUpstreamLayerException}
_FAILURE_REASONS = {"ImageNotFound": "Requested image not found",
                    "ImageInaccessible": "The image is archived and cannot be pulled until it is restored"}
_DIGEST = re.compile(r"^[0-9a-zA-Z_+.-]+:[0-9a-fA-F]{64}$")


class _EcrCorrections:
    """The patches that make moto's ECR behave like ECR where the service depends on it."""

    def __init__(self, blob_server: BlobServer, calls: list[RecordedCall],
                 faults: dict[str, deque[str]], image_faults: ImageFaults) -> None:
        self.blob_server = blob_server
        self.calls = calls
        self.faults = faults
        self.image_faults = image_faults
        self.lock = threading.RLock()  # moto's ECR backend is not thread-safe; the stress runs need it to be
        # Blobs some image of the repository references: GetDownloadUrlForLayer serves only those.
        self.referenced: dict[str, set[str]] = {}
        self._original_complete_layer_upload = ecr_models.ECRBackend.complete_layer_upload
        self._original_batch_delete_image = ecr_models.ECRBackend.batch_delete_image
        self._original_list_tags_for_resource = ecr_models.ECRBackend.list_tags_for_resource

    def record(self, operation: str, params: dict[str, Any]) -> None:
        """Count the call (ECR bills it even when it fails), then fail it if a fault is queued."""
        with self.lock:
            self.calls.append(RecordedCall(operation, params))
            queue = self.faults.get(operation)
            fault = queue.popleft() if queue else None
        if fault is not None:
            _raise_fault(fault)

    def reference(self, repository: str, manifest: dict[str, Any], media_type: str) -> None:
        self.referenced.setdefault(repository, set()).update(ecr_rules.required_blobs(manifest, media_type))

    # ---- PutImage

    def put_image(self, backend: Any, repository_name: str, image_manifest: str, image_tag: str | None,
                  image_manifest_mediatype: str | None = None, digest: str | None = None) -> Any:
        self.record("put_image", {
            "repositoryName": repository_name, "imageTag": image_tag, "imageDigest": digest,
            "imageManifestMediaType": image_manifest_mediatype, "imageManifest": image_manifest})
        with self.lock:
            repository = backend.repositories.get(repository_name)
            if repository is None:
                raise RepositoryNotFoundException(repository_name, backend.account_id)
            actual = _sha256(image_manifest.encode("utf-8"))
            if digest is not None and digest != actual:
                raise ImageDigestDoesNotMatchException(
                    f"Invalid parameter at 'imageDigest': {digest} does not match the manifest digest {actual}")
            try:
                document = json.loads(image_manifest)
            except (ValueError, RecursionError):
                raise InvalidParameterException("Invalid parameter at 'ImageManifest' failed to satisfy constraint: "
                                                "'Invalid JSON syntax'") from None
            media_type = image_manifest_mediatype or document.get("mediaType")
            if not media_type:
                raise InvalidParameterException("image manifest mediatype not provided in manifest or parameter")
            holder, existing = _holder_and_existing(repository, image_tag, actual)
            _refuse_put(repository, image_tag, actual, document, media_type, holder, existing)
            if holder is not None and image_tag is not None:
                holder.remove_tag(image_tag)  # the replaced image stays, untagged if that was its last tag
            if existing is None:
                existing = ecr_models.Image(backend.account_id, image_tag, image_manifest, repository_name,  # type: ignore[arg-type]
                                            media_type, actual)
                repository.images.append(existing)
            elif image_tag is not None:
                existing.update_tag(image_tag)
            self.reference(repository_name, document, media_type)
            return existing

    # ---- BatchGetImage

    def batch_get_image(self, response: Any) -> ActionResult:
        repository_name = response._get_param("repositoryName")
        image_ids = list(response._get_param("imageIds") or [])
        accepted = response._get_param("acceptedMediaTypes")
        self.record("batch_get_image", {"repositoryName": repository_name, "imageIds": image_ids,
                                        "acceptedMediaTypes": accepted})
        with self.lock:
            backend = response.ecr_backend
            repository = backend.repositories.get(repository_name)
            if repository is None:
                raise RepositoryNotFoundException(repository_name, backend.account_id)
            # Indexed once per call: a sweep of a 10,000-tag repository asks for 100 ids per call.
            by_tag = {tag: image for image in repository.images for tag in image.image_tags}
            by_digest = {image.image_digest: image for image in repository.images}
            images: list[dict[str, Any]] = []
            failures: list[dict[str, Any]] = []
            for asked in image_ids:
                outcome = _answer_one(self.image_faults, repository_name, asked, accepted, by_tag, by_digest)
                if "failureCode" in outcome:
                    failures.append(outcome)
                else:
                    images.append({"registryId": repository.registry_id, "repositoryName": repository_name,
                                   **outcome})
        return ActionResult({"images": images, "failures": failures})

    # ---- GetDownloadUrlForLayer, ListImages, uploads

    def get_download_url_for_layer(self, response: Any) -> ActionResult:
        repository_name = response._get_param("repositoryName")
        digest = response._get_param("layerDigest")
        self.record("get_download_url_for_layer", {"repositoryName": repository_name, "layerDigest": digest})
        with self.lock:
            backend = response.ecr_backend
            repository = backend.repositories.get(repository_name)
            if repository is None:
                raise RepositoryNotFoundException(repository_name, backend.account_id)
            injected = self.image_faults.layer_failure(repository_name, digest)
            if injected is not None:
                raise _LAYER_ERRORS[injected](f"{injected} (injected) for layer {digest}")
            if digest not in repository.layers or not self.blob_server.has(repository_name, digest):
                raise LayersNotFoundException(f"The specified layer {digest} does not exist")
            if digest not in self.referenced.get(repository_name, ()):
                raise LayerInaccessibleException(
                    f"The layer {digest} is not associated with an image and is not available")
        return ActionResult({"downloadUrl": self.blob_server.presign(repository_name, digest), "layerDigest": digest})

    def list_images(self, response: Any) -> ActionResult:
        repository_name = response._get_param("repositoryName")
        image_filter = response._get_param("filter") or {}
        tag_status = image_filter.get("tagStatus", "ANY")
        image_status = image_filter.get("imageStatus", "ACTIVE")
        max_results = int(response._get_param("maxResults") or 100)
        if not 1 <= max_results <= 1000:
            raise InvalidParameterException("maxResults must be between 1 and 1000")
        start = int(response._get_param("nextToken") or 0)
        self.record("list_images", {"repositoryName": repository_name, "maxResults": max_results,
                                    "nextToken": start})
        with self.lock:
            images = response.ecr_backend.list_images(repository_name, tag_status=tag_status)
            archived = {digest for repository, digest in self.image_faults.archived if repository == repository_name}
            if image_status == "ACTIVATING":
                images = []  # restoring is instant here
            elif image_status != "ANY":  # ACTIVE (the default) leaves archived images out, ARCHIVED lists only them
                images = [image for image in images if (image.image_digest in archived) == (image_status == "ARCHIVED")]
            ids = [{"imageDigest": image.image_digest, **({"imageTag": tag} if tag else {})}
                   for image in images for tag in (image.image_tags or [None])]
        page = ids[start : start + max_results]
        result: dict[str, Any] = {"imageIds": page}
        if start + max_results < len(ids):
            result["nextToken"] = str(start + max_results)
        return ActionResult(result)

    def complete_layer_upload(self, backend: Any, repository_name: str, upload_id: str, layer_digests: list[str],
                              registry_id: str | None = None) -> dict[str, Any]:
        with self.lock:
            repository = backend._get_repository(repository_name, registry_id)
            upload = repository.uploads.get(upload_id)
            if upload is not None:
                self.blob_server.add(repository_name, bytes(upload.layer_parts))
            return self._original_complete_layer_upload(backend, repository_name, upload_id, layer_digests,
                                                        registry_id)

    def batch_delete_image(self, backend: Any, repository_name: str, registry_id: str | None = None,
                           image_ids: list[dict[str, str]] | None = None) -> dict[str, Any]:
        """moto's, except that an image an index of the repository lists is not deleted (by digest, or by its last
        tag): failure ImageReferencedByManifestList (aws/containers-roadmap#1567)."""
        with self.lock:
            repository = backend.repositories.get(repository_name)
            if repository is None or not image_ids:
                return self._original_batch_delete_image(backend, repository_name, registry_id, image_ids)
            response: dict[str, Any] = {"imageIds": [], "failures": []}
            for image_id in image_ids:
                referencing = _indexes_listing(repository, _deleted_by(repository, image_id))
                if referencing:
                    response["failures"].append({
                        "imageId": image_id, "failureCode": "ImageReferencedByManifestList",
                        "failureReason": f"Requested image referenced by manifest list: {referencing}"})
                    continue
                answer = self._original_batch_delete_image(backend, repository_name, registry_id, [image_id])
                response["imageIds"] += answer["imageIds"]
                response["failures"] += answer["failures"]
            return response

    def list_tags_for_resource(self, backend: Any, arn: str) -> Any:
        self.record("list_tags_for_resource", {"resourceArn": arn})
        return self._original_list_tags_for_resource(backend, arn)

    def patches(self) -> list[Any]:
        def create_digest(image: Any) -> None:
            image._image_digest = _sha256(image.image_manifest.encode("utf-8"))

        patched: list[tuple[type, str, Callable[..., Any]]] = [(ecr_models.Image, "_create_digest", create_digest)]
        patched += [(ecr_models.ECRBackend, name, _as_method(getattr(self, name)))
                    for name in ("put_image", "complete_layer_upload", "list_tags_for_resource", "batch_delete_image")]
        patched += [(ecr_responses.ECRResponse, name, _as_method(getattr(self, name)))
                    for name in ("batch_get_image", "list_images", "get_download_url_for_layer")]
        return [mock.patch.object(owner, name, replacement) for owner, name, replacement in patched]


# The rules of PutImage and BatchGetImage, on moto's repository and image objects.


def _holder_and_existing(repository: Any, tag: str | None, digest: str) -> tuple[Any, Any]:
    holder = existing = None
    for image in repository.images:  # one pass: this runs for every write of a 10,000-tag sweep
        if image.image_digest == digest:
            existing = image
        if tag is not None and tag in image.image_tags:
            holder = image
    return holder, existing


def _deleted_by(repository: Any, image_id: dict[str, str]) -> Any:
    """The image BatchDeleteImage of this id would delete: the one with this digest, or the one whose last tag
    this is (removing one of several tags deletes nothing, API_BatchDeleteImage)."""
    for image in repository.images:
        if image_id.get("imageDigest") is not None:
            if image.image_digest == image_id["imageDigest"]:
                return image
        elif image_id.get("imageTag") in image.image_tags:
            return image if len(image.image_tags) == 1 else None
    return None


def _indexes_listing(repository: Any, image: Any) -> list[str]:
    if image is None:
        return []
    return [other.image_digest for other in repository.images if other is not image and image.image_digest in
            ecr_rules.referenced_manifests(_document(other.image_manifest), other.image_manifest_media_type or "")]


def _document(manifest: str | bytes) -> dict[str, Any]:
    """A stored manifest as JSON; a hostile one (tests seed them: too deep, not an object) references nothing."""
    try:
        document = json.loads(manifest)
    except (ValueError, RecursionError):
        return {}
    return document if isinstance(document, dict) else {}


def _refuse_put(repository: Any, tag: str | None, digest: str, document: dict[str, Any],
                media_type: str, holder: Any, existing: Any) -> None:
    """Raise what ECR raises for this PutImage, if anything."""
    if holder is not None and tag is not None and ecr_rules.tag_is_immutable(
            repository.image_tag_mutability, repository.image_tag_mutability_exclusion_filters, tag):
        # Even when the tag already holds these very bytes (aws/containers-roadmap#2179).
        raise ImageTagAlreadyExistsException(
            f"The image tag '{tag}' already exists in the '{repository.name}' repository and cannot be "
            "overwritten because the tag is immutable.")
    if existing is not None and (tag is None or existing is holder):
        raise ImageAlreadyExistsException(repository.name, repository.registry_id, digest, str(tag))
    missing_layers = [blob for blob in ecr_rules.required_blobs(document, media_type)
                      if blob not in repository.layers]
    if missing_layers:
        raise LayersNotFoundException(
            f"Layers with digests '{missing_layers}' required for pushing image into repository with name "
            f"'{repository.name}' in the registry with id '{repository.registry_id}' do not exist")
    children = ecr_rules.referenced_manifests(document, media_type)
    if children:
        present = {image.image_digest for image in repository.images}
        absent = [child for child in children if child not in present]
        if absent:
            raise ReferencedImagesNotFoundException(
                f"Some of the referenced images were not found: {', '.join(absent)}")


def _answer_one(faults: ImageFaults, repository: str, asked: dict[str, str], accepted: list[str] | None,
                by_tag: dict[str, Any], by_digest: dict[str, Any]) -> dict[str, Any]:
    """BatchGetImage's answer for one image id: an entry of ``images`` or of ``failures``."""
    def failure(code: str, reason: str | None = None) -> dict[str, Any]:
        return {"imageId": asked, "failureCode": code, "failureReason": reason or _FAILURE_REASONS.get(code, code)}

    tag, digest = asked.get("imageTag"), asked.get("imageDigest")
    if tag is None and digest is None:
        return failure("MissingDigestAndTag", "Invalid request parameters: both tag and digest cannot be null")
    if digest is not None and not _DIGEST.match(digest):
        return failure("InvalidImageDigest", f"Invalid image digest '{digest}'")
    image = by_digest.get(digest) if digest is not None else by_tag.get(str(tag))
    if image is not None and tag is not None and digest is not None and tag not in image.image_tags:
        return failure("ImageTagDoesNotMatchDigest", "Invalid request parameters: image tag does not match digest")
    injected = faults.image_failure(repository, asked, image.image_digest if image else None)
    if injected is not None:
        return failure(injected)
    if image is None:
        return failure("ImageNotFound")
    stored_type = image.image_manifest_media_type
    asked_by_tag = digest is None
    if faults.served_converted(repository, asked, image.image_digest):
        accepted, asked_by_tag = [ecr_rules.counterpart(stored_type)], True
    try:
        body, media_type = ecr_rules.as_accepted(image.image_manifest, stored_type, accepted,
                                                 by_tag=asked_by_tag)
    except ecr_rules.NoTranslation as error:
        return failure("ImageNotFound", f"Requested image not found in an accepted media type: {error}")
    # The imageId names the image in the repository: its digest, and the tag that was asked for (moto names
    # the last tag the image got). A translated manifest keeps the image's digest; its bytes do not hash to it.
    return {"imageId": {"imageDigest": image.image_digest, **({"imageTag": tag} if tag is not None else {})},
            "imageManifest": body, "imageManifestMediaType": media_type}


def _as_method(bound: Callable[..., Any]) -> Callable[..., Any]:
    """A plain function (so a descriptor: ``backend.put_image(...)`` passes the backend) calling ``bound``."""
    def method(instance: Any, *args: Any, **kwargs: Any) -> Any:
        return bound(instance, *args, **kwargs)
    return method


# --------------------------------------------------------------------------------------------- the fake


@dataclass(frozen=True)
class StoredImage:
    digest: str
    media_type: str
    manifest: bytes


class FakeEcr:
    """``with FakeEcr() as ecr:`` — moto's ECR, corrected, with a blob server; fake credentials, no AWS."""

    def __init__(self, *, server: bool = False, host: str = "127.0.0.1", port: int = 0,
                 public_host: str | None = None) -> None:
        """``server``: moto as an HTTP server on ``host``:``port`` (0: any free port) instead of in-process.
        ``public_host``: the name the blob URLs give, for a client that reaches this machine by another name."""
        self.calls: list[RecordedCall] = []
        self.faults: dict[str, deque[str]] = {operation: deque() for operation in RECORDED_OPERATIONS}
        self.blob_server = BlobServer(host, public_host)
        self._address = (host, port)
        self.endpoint_url: str | None = None
        self._server = server
        self._stack = contextlib.ExitStack()
        self._seed_lock = threading.Lock()
        self.client: Any = None
        self.image_faults = ImageFaults()
        self._corrections = _EcrCorrections(self.blob_server, self.calls, self.faults, self.image_faults)

    def __enter__(self) -> FakeEcr:
        stack = self._stack
        stack.enter_context(mock.patch.dict(os.environ, FAKE_CREDENTIALS))
        for patch in self._corrections.patches():
            stack.enter_context(patch)
        if self._server:
            logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
            moto_server = ThreadedMotoServer(ip_address=self._address[0], port=self._address[1], verbose=False)
            moto_server.start()
            stack.callback(moto_server.stop)
            host, port = moto_server.get_host_and_port()
            # This machine's own clients reach a server listening on every address through loopback.
            self.endpoint_url = f"http://{_reachable(host)}:{port}"
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

    def create_repository(self, name: str, *, immutable: bool = False, mutability: str | None = None,
                          exclusions: Sequence[str] = ()) -> None:
        """``mutability`` one of MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION (default from
        ``immutable``); ``exclusions``: the wildcard tag filters of the two *_WITH_EXCLUSION modes."""
        extra: dict[str, Any] = {}
        if exclusions:
            extra["imageTagMutabilityExclusionFilters"] = [{"filterType": "WILDCARD", "filter": pattern}
                                                           for pattern in exclusions]
        self.client.create_repository(repositoryName=name, imageTagMutability=mutability or (
            ecr_rules.IMMUTABLE if immutable else ecr_rules.MUTABLE), **extra)

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

    def seed(self, repository: str, tag: str | None, manifest: bytes, media_type: str,
             blobs: Mapping[str, bytes] | None = None) -> str:
        """Store an image (or an index) at a new tag straight into moto's backend, as a push would leave it.

        For large fixtures (the 10,000-tag benchmark) where pushing through the API costs an HTTP round trip and a
        scan of the whole repository per call. What a push guarantees still holds: the manifest is stored as these
        exact bytes under their sha256 digest, and every blob is registered as a layer of the repository and served
        by the blob server. Only for tags the repository does not hold yet (no tag is moved); ``tag`` None stores an
        untagged image (one a tag moved away from).
        """
        digest = _sha256(manifest)
        backend = ecr_models.ecr_backends[ACCOUNT][REGION]
        with self._seed_lock:
            stored = backend.repositories[repository]
            for data in (blobs or {}).values():
                stored.layers[self.blob_server.add(repository, data)] = len(data)
            stored.images.append(ecr_models.Image(ACCOUNT, tag, manifest.decode("utf-8"),  # type: ignore[arg-type]
                                                  repository, media_type, digest))
        with self._corrections.lock:
            self._corrections.reference(repository, _document(manifest), media_type)
        return digest

    # ---- per-image faults, as ECR reports them

    def fail_image(self, repository: str, reference: str, code: str, *, times: int | None = None) -> None:
        """BatchGetImage reports ``code`` in ``failures`` for this image, asked by this tag or digest (a digest
        also matches when the image is asked for by any of its tags); ``times`` answers, or until ``clear_faults``.

        ``code``: one of ECR's ImageFailureCode values (botocore's model): InvalidImageDigest, InvalidImageTag,
        ImageTagDoesNotMatchDigest, ImageNotFound, MissingDigestAndTag, ImageReferencedByManifestList, KmsError,
        UpstreamAccessDenied, UpstreamTooManyRequests, UpstreamUnavailable, ImageInaccessible.
        """
        if code not in ecr_rules.ecr_enum("ImageFailureCode"):
            known = ", ".join(ecr_rules.ecr_enum("ImageFailureCode"))
            raise ValueError(f"{code!r} is not an ECR ImageFailureCode ({known})")
        with self._corrections.lock:
            self.image_faults.images[(repository, reference)] = _Fault(code, times)

    def fail_layer(self, repository: str, digest: str, error: str, *, times: int | None = None) -> None:
        """GetDownloadUrlForLayer of this blob raises ``error``: LayersNotFoundException, LayerInaccessibleException
        or UnableToGetUpstreamLayerException (the errors ECR's model lists for it beyond the generic ones)."""
        if error not in _LAYER_ERRORS or error not in ecr_rules.operation_errors("GetDownloadUrlForLayer"):
            raise ValueError(f"{error!r} is not one of {', '.join(_LAYER_ERRORS)}")
        with self._corrections.lock:
            self.image_faults.layers[(repository, digest)] = _Fault(error, times)

    def archive(self, repository: str, reference: str) -> str:
        """Archive the image at this tag or digest, as an ECR lifecycle rule does: BatchGetImage answers
        ImageInaccessible for it and ListImages leaves it out unless asked for ARCHIVED (or ANY) images."""
        digest = reference if reference.startswith("sha256:") else self._digest_at(repository, reference)
        with self._corrections.lock:
            self.image_faults.archived.add((repository, digest))
        return digest

    def restore(self, repository: str, digest: str) -> None:
        with self._corrections.lock:
            self.image_faults.archived.discard((repository, digest))

    def convert_image(self, repository: str, reference: str) -> None:
        """BatchGetImage serves this image (by this tag or digest) translated Docker v2 schema 2 <-> OCI, as ECR
        does for a caller that does not accept the stored type, even when the caller accepts it: the only way to
        reach a guard against conversion from code that always accepts every type. The imageId keeps the stored
        digest; the bytes no longer hash to it."""
        with self._corrections.lock:
            self.image_faults.converted.add((repository, reference))

    def clear_faults(self) -> None:
        with self._corrections.lock:
            self.image_faults.images.clear()
            self.image_faults.layers.clear()
            self.image_faults.converted.clear()

    def _digest_at(self, repository: str, tag: str) -> str:
        stored = self.image_at(repository, tag)
        if stored is None:
            raise KeyError(f"{repository}:{tag} holds no image")
        return stored.digest

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
