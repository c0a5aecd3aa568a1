"""The Registry port on Amazon ECR through boto3."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import ClientError

from ..domain import media_types
from ..domain.digest import Digest, InvalidDigestError
from ..domain.index import ImageIndex
from ..errors import (
    ImmutableTagError,
    IndexRejectedError,
    ManifestIntegrityError,
    PermanentError,
    ReferencedImagesMissingError,
    RepositoryNotFoundError,
    TransientError,
)
from ..ports import PutResult, StoredManifest

if TYPE_CHECKING:
    from mypy_boto3_ecr import ECRClient

logger = logging.getLogger(__name__)

# BatchGetImage takes at most 100 image ids per call; ListImages returns at most 1,000 per page.
BATCH_GET_LIMIT = 100
LIST_PAGE_SIZE = 1000

# botocore's standard mode retries throttling, 5xx and connection errors with jittered backoff; adaptive mode also
# slows the client down when ECR throttles (PutImage is 10 TPS per account, shared with every docker push).
BOTOCORE_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 6},
    connect_timeout=5,
    read_timeout=15,
)

# Per-id BatchGetImage failures that mean "this tag is not there (any more)".
_ABSENT_FAILURE_CODES = frozenset({"ImageNotFound", "ImageTagDoesNotMatchDigest", "MissingDigestAndTag"})


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


class EcrRegistry:
    def __init__(self, client: ECRClient) -> None:
        self._client = client

    def get_manifests(self, repository: str, tags: Sequence[str]) -> dict[str, StoredManifest]:
        found: dict[str, StoredManifest] = {}
        wanted = list(dict.fromkeys(tags))
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            chunk = wanted[start : start + BATCH_GET_LIMIT]
            response = self._call(
                "BatchGetImage",
                repository,
                lambda chunk=chunk: self._client.batch_get_image(
                    repositoryName=repository,
                    imageIds=[{"imageTag": tag} for tag in chunk],
                    acceptedMediaTypes=list(media_types.ALL_MANIFESTS),
                ),
            )
            asked = set(chunk)
            for image in response.get("images", []):
                manifest = _stored_manifest(image, asked)
                if manifest is not None:
                    found[manifest.tag] = manifest
            for failure in response.get("failures", []):
                code = failure.get("failureCode", "")
                if code not in _ABSENT_FAILURE_CODES:
                    raise TransientError(
                        f"BatchGetImage failed for {repository}:{failure.get('imageId', {}).get('imageTag')}: "
                        f"{code} {failure.get('failureReason', '')}".strip()
                    )
        return found

    def list_tags(self, repository: str) -> list[str]:
        def pages() -> list[Any]:
            paginator = self._client.get_paginator("list_images")
            return list(paginator.paginate(repositoryName=repository, filter={"tagStatus": "TAGGED"},
                                           PaginationConfig={"PageSize": LIST_PAGE_SIZE}))

        tags: list[str] = []
        for page in self._call("ListImages", repository, pages):
            tags.extend(image_id["imageTag"] for image_id in page.get("imageIds", []) if image_id.get("imageTag"))
        return list(dict.fromkeys(tags))

    def list_tag_digests(self, repository: str) -> dict[str, Digest]:
        """Every tag with the digest it points to (ListImages, tagged only, pages of 1,000): a sweep's listing."""
        def pages() -> list[Any]:
            paginator = self._client.get_paginator("list_images")
            return list(paginator.paginate(repositoryName=repository, filter={"tagStatus": "TAGGED"},
                                           PaginationConfig={"PageSize": LIST_PAGE_SIZE}))

        digests: dict[str, Digest] = {}
        for page in self._call("ListImages", repository, pages):
            for image_id in page.get("imageIds", []):
                tag, digest = image_id.get("imageTag"), image_id.get("imageDigest")
                if not tag:
                    continue
                try:
                    digests[tag] = Digest(digest)
                except InvalidDigestError as error:
                    raise ManifestIntegrityError(f"ListImages named {repository}:{tag} with {error}") from None
        return digests

    def list_repositories(self) -> list[str]:
        """The name of every repository of the registry (DescribeRepositories, pages of 1,000)."""
        paginator = self._client.get_paginator("describe_repositories")
        names: list[str] = []
        for page in paginator.paginate(PaginationConfig={"PageSize": LIST_PAGE_SIZE}):
            names.extend(str(repository["repositoryName"]) for repository in page.get("repositories", []))
        return names

    def config_download_url(self, repository: str, digest: Digest) -> str:
        response = self._call(
            "GetDownloadUrlForLayer",
            repository,
            lambda: self._client.get_download_url_for_layer(repositoryName=repository, layerDigest=str(digest)),
        )
        return str(response["downloadUrl"])

    def put_index(self, repository: str, tag: str, index: ImageIndex) -> PutResult:
        try:
            self._call(
                "PutImage",
                repository,
                lambda: self._client.put_image(
                    repositoryName=repository,
                    imageManifest=index.body.decode("ascii"),
                    imageManifestMediaType=index.media_type,
                    imageTag=tag,
                    imageDigest=str(index.digest),
                ),
            )
        except ClientError as error:
            code = error_code(error)
            if code == "ImageAlreadyExistsException":
                return PutResult.ALREADY_EXISTS
            if code == "ImageTagAlreadyExistsException":
                raise ImmutableTagError(
                    f"{repository}:{tag} is immutable and already holds another image; "
                    "the index cannot be written (make the tag mutable, or exclude the version tag from immutability)"
                ) from None
            if code == "ReferencedImagesNotFoundException":
                raise ReferencedImagesMissingError(
                    f"a child of {repository}:{tag} disappeared before the index was written: {_message(error)}"
                ) from None
            if code in {"InvalidParameterException", "ImageDigestDoesNotMatchException", "LimitExceededException"}:
                raise IndexRejectedError(f"ECR refused the index for {repository}:{tag}: {code}: {_message(error)}") \
                    from None
            raise
        return PutResult.WRITTEN

    def _call(self, operation: str, repository: str, call: Any) -> Any:
        try:
            return call()
        except ClientError as error:
            if error_code(error) == "RepositoryNotFoundException":
                raise RepositoryNotFoundError(f"repository {repository!r} does not exist ({operation})") from None
            raise


def _stored_manifest(image: dict[str, Any], asked: set[str]) -> StoredManifest | None:
    image_id = image.get("imageId", {})
    tag = image_id.get("imageTag")
    if tag not in asked:
        logger.warning("BatchGetImage returned an image for a tag that was not asked for", extra={"tag": tag})
        return None
    body = str(image.get("imageManifest", "")).encode("utf-8")
    try:
        digest = Digest(image_id.get("imageDigest"))
    except InvalidDigestError as error:
        raise ManifestIntegrityError(f"ECR returned {tag} with an invalid digest: {error}") from None
    if not digest.matches(body):
        raise ManifestIntegrityError(
            f"ECR returned manifest bytes for {tag} whose sha256 {Digest.of(body)} is not its digest {digest}"
        )
    media_type = image.get("imageManifestMediaType") or _declared_media_type(body)
    if not media_type:
        raise PermanentError(f"{tag}: ECR named no media type and the manifest declares none")
    return StoredManifest(tag=tag, digest=digest, media_type=media_type, body=body)


def _declared_media_type(body: bytes) -> str | None:
    try:
        value = json.loads(body).get("mediaType")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None
