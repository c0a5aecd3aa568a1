"""The Registry port on Amazon ECR through boto3."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from ..domain import media_types
from ..domain.digest import Digest, InvalidDigestError
from ..domain.index import ImageIndex
from ..errors import (
    AccessDeniedError,
    ImmutableTagError,
    IndexRejectedError,
    ManifestIntegrityError,
    PermanentError,
    ReferencedImagesMissingError,
    RepositoryNotFoundError,
    TransientError,
)
from ..ports import PutResult, StoredManifest
from ..redaction import redact_query_strings

if TYPE_CHECKING:
    from mypy_boto3_ecr import ECRClient

logger = logging.getLogger(__name__)

# At DEBUG, botocore logs raw response bodies: GetDownloadUrlForLayer's carries a presigned URL.
redact_query_strings("botocore.parsers", "botocore.endpoint", "botocore.hooks")

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
    def __init__(self, client: ECRClient, account_id: str | None = None, registry_id: str | None = None) -> None:
        """``account_id``: the registry's account, for repository ARNs; None asks STS once (GetCallerIdentity
        needs no IAM permission). ``registry_id``: another account's registry (cross-account), passed as
        registryId to every call; None is the caller's own."""
        self._client = client
        self._account_id = account_id if registry_id is None else registry_id
        self._registry: dict[str, Any] = {} if registry_id is None else {"registryId": registry_id}

    def repository_tags(self, repository: str) -> dict[str, str]:
        arn = f"arn:{self._client.meta.partition}:ecr:{self._client.meta.region_name}:{self._account()}:" \
              f"repository/{repository}"
        response = self._call("ListTagsForResource", repository,
                              lambda: self._client.list_tags_for_resource(resourceArn=arn))
        return {str(tag["Key"]): str(tag.get("Value", "")) for tag in response.get("tags", [])}

    def _account(self) -> str:
        if self._account_id is None:
            import boto3

            sts = boto3.client("sts", region_name=self._client.meta.region_name, config=BOTOCORE_CONFIG)
            try:
                self._account_id = str(sts.get_caller_identity()["Account"])
            except (ClientError, BotoCoreError) as error:
                raise TransientError(f"STS GetCallerIdentity failed: {type(error).__name__}") from None
        return self._account_id

    def get_manifests(self, repository: str, tags: Sequence[str]) -> dict[str, StoredManifest]:
        found: dict[str, StoredManifest] = {}
        for asked, images in self._batch_get(repository, [{"imageTag": tag} for tag in dict.fromkeys(tags)]):
            for image in images:
                manifest = _stored_manifest(image, {image_id["imageTag"] for image_id in asked})
                if manifest is not None:
                    found[manifest.tag] = manifest
        return found

    def get_manifests_by_digest(self, repository: str, digests: Sequence[Digest]) -> dict[Digest, StoredManifest]:
        found: dict[Digest, StoredManifest] = {}
        ids = [{"imageDigest": str(digest)} for digest in dict.fromkeys(digests)]
        for asked, images in self._batch_get(repository, ids):
            for image in images:
                manifest = _manifest_by_digest(image, {Digest(image_id["imageDigest"]) for image_id in asked})
                if manifest is not None:
                    found[manifest.digest] = manifest
        return found

    def _batch_get(
        self, repository: str, image_ids: list[dict[str, str]]
    ) -> Iterator[tuple[list[dict[str, str]], list[dict[str, Any]]]]:
        """BatchGetImage in chunks of 100 ids, every manifest type accepted: (ids asked, images returned) per chunk.

        An id that is simply not there is left out of the images; any other per-id failure is raised."""
        for start in range(0, len(image_ids), BATCH_GET_LIMIT):
            chunk = image_ids[start : start + BATCH_GET_LIMIT]
            response = self._call(
                "BatchGetImage",
                repository,
                lambda chunk=chunk: self._client.batch_get_image(
                    repositoryName=repository, imageIds=chunk, acceptedMediaTypes=list(media_types.ALL_MANIFESTS),
                    **self._registry,
                ),
            )
            for failure in response.get("failures", []):
                code = failure.get("failureCode", "")
                if code not in _ABSENT_FAILURE_CODES:
                    raise TransientError(
                        f"BatchGetImage failed for {repository} {failure.get('imageId', {})}: "
                        f"{code} {failure.get('failureReason', '')}".strip()
                    )
            yield chunk, response.get("images", [])

    def list_tags(self, repository: str) -> list[str]:
        return list(self.list_tag_digests(repository))

    def list_tag_digests(self, repository: str) -> dict[str, Digest]:
        """Every tag with the digest it points to (ListImages, tagged only, pages of 1,000): a sweep's listing."""
        def pages() -> list[Any]:
            paginator = self._client.get_paginator("list_images")
            return list(paginator.paginate(repositoryName=repository, filter={"tagStatus": "TAGGED"},
                                           PaginationConfig={"PageSize": LIST_PAGE_SIZE}, **self._registry))

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
        for page in paginator.paginate(PaginationConfig={"PageSize": LIST_PAGE_SIZE}, **self._registry):
            names.extend(str(repository["repositoryName"]) for repository in page.get("repositories", []))
        return names

    def config_download_url(self, repository: str, digest: Digest) -> str:
        response = self._call(
            "GetDownloadUrlForLayer",
            repository,
            lambda: self._client.get_download_url_for_layer(repositoryName=repository, layerDigest=str(digest),
                                                            **self._registry),
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
                    **self._registry,
                ),
            )
        except _AlreadyExists:
            return PutResult.ALREADY_EXISTS
        return PutResult.WRITTEN

    def _call(self, operation: str, repository: str, call: Any) -> Any:
        """Run one ECR call (botocore has already retried what it retries) and translate what it raises."""
        try:
            return call()
        except ClientError as error:
            raise translate_client_error(error, operation, repository) from None
        except ParamValidationError as error:
            # botocore refused the request before sending it: the same input would be refused on every retry.
            raise PermanentError(f"{operation} on {repository!r} has invalid parameters: {error}") from None
        except BotoCoreError as error:
            # Connection errors and timeouts that outlived botocore's retries.
            raise TransientError(f"{operation} on {repository} failed after retries: {type(error).__name__}") \
                from None


class _AlreadyExists(Exception):
    """PutImage found the same bytes at the same tag: someone (a duplicate event, a retry) already wrote them."""


def translate_client_error(error: ClientError, operation: str, repository: str) -> Exception:
    """The error policy for ECR, in one place: which codes are permanent, which transient, and what to tell people.

    Throttling and 5xx are retried by botocore first (adaptive mode); what still fails arrives here.
    """
    code, message = error_code(error), _message(error)
    where = f"{operation} on {repository}"
    if code == "ImageAlreadyExistsException":
        return _AlreadyExists()
    if code == "RepositoryNotFoundException":
        return RepositoryNotFoundError(f"repository {repository!r} does not exist ({operation})")
    if code == "AccessDeniedException":
        return AccessDeniedError(f"{where} is not allowed: add the repository to the stack's RepositoryNames "
                                 f"parameter (or fix the IAM policy): {message}")
    if code == "ImageTagAlreadyExistsException":
        return ImmutableTagError(f"{repository} has immutable tags and the version tag already holds another image "
                                 "(make the repository MUTABLE, or exclude version tags from immutability)")
    if code == "ReferencedImagesNotFoundException":
        return ReferencedImagesMissingError(f"{where}: a child disappeared before the index was written: {message}")
    if code in _INDEX_REFUSED_CODES:
        return IndexRejectedError(f"ECR refused the index ({where}): {code}: {message}")
    return TransientError(f"{where} failed after retries: {code}: {message}")


# ECR refused the index itself; the same children would give the same bytes and the same refusal.
_INDEX_REFUSED_CODES = frozenset(
    {"InvalidParameterException", "ImageDigestDoesNotMatchException", "LimitExceededException"}
)


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


def _manifest_by_digest(image: dict[str, Any], asked: set[Digest]) -> StoredManifest | None:
    """A manifest asked for by digest: mapped by the digest of its bytes, never by what ECR says it is."""
    body = str(image.get("imageManifest", "")).encode("utf-8")
    digest = Digest.of(body)
    if digest not in asked:
        raise ManifestIntegrityError(f"ECR returned manifest bytes with digest {digest}, which was not asked for")
    media_type = image.get("imageManifestMediaType") or _declared_media_type(body)
    if not media_type:
        raise PermanentError(f"{digest}: ECR named no media type and the manifest declares none")
    return StoredManifest(tag="", digest=digest, media_type=media_type, body=body)


def _declared_media_type(body: bytes) -> str | None:
    try:
        value = json.loads(body).get("mediaType")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None
