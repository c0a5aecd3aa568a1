"""The Registry port on Amazon ECR through boto3."""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from ..domain import media_types
from ..domain.digest import Digest, InvalidDigestError
from ..domain.index import ImageIndex
from ..domain.json_document import JsonDocumentError, parse_json_document
from ..errors import (
    AccessDeniedError,
    AssemblyError,
    ConfigBlobMissingError,
    ImageUnreadableError,
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

def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


class EcrRegistry:
    def __init__(self, client: ECRClient, account_id: str | None = None, registry_id: str | None = None, *,
                 endpoint_url: str | None = None) -> None:
        """``account_id``: the registry's account, for repository ARNs; None asks STS once (GetCallerIdentity
        needs no IAM permission), when neither the caller nor DescribeRepositories gave the ARN. ``registry_id``:
        another account's registry (cross-account), passed as registryId to every call; None is the caller's own.
        ``endpoint_url``: where the STS client goes, like the ECR client (a local stand-in of AWS); None: AWS."""
        self._client = client
        self._account_id = account_id if registry_id is None else registry_id
        self._registry: dict[str, Any] = {} if registry_id is None else {"registryId": registry_id}
        self._endpoint_url = endpoint_url
        # Repository ARNs as DescribeRepositories states them (a sweep lists the registry to expand patterns).
        self._arns: dict[str, str] = {}

    def repository_tags(self, repository: str, account: str | None = None) -> dict[str, str]:
        """``account``: the registry's account as an ECR event states it; else the ARN DescribeRepositories gave,
        else ``account_id`` or STS. Never the Lambda context's ARN: under the Runtime Interface Emulator (sam local)
        it carries a placeholder account."""
        arn = self._arns.get(repository) if account is None else None
        if arn is None:
            arn = f"arn:{self._client.meta.partition}:ecr:{self._client.meta.region_name}:" \
                  f"{account or self._account()}:repository/{repository}"
        response = self._call("ListTagsForResource", repository,
                              lambda: self._client.list_tags_for_resource(resourceArn=arn))
        return {str(tag["Key"]): str(tag.get("Value", "")) for tag in response.get("tags", [])}

    def _account(self) -> str:
        if self._account_id is None:
            import boto3

            sts = boto3.client("sts", region_name=self._client.meta.region_name, config=BOTOCORE_CONFIG,
                               endpoint_url=self._endpoint_url)
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
                raise_image_failure(repository, failure)
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
        def pages() -> list[Any]:
            paginator = self._client.get_paginator("describe_repositories")
            return list(paginator.paginate(PaginationConfig={"PageSize": LIST_PAGE_SIZE}, **self._registry))

        listed = [repository for page in self._call("DescribeRepositories", "the registry", pages)
                  for repository in page.get("repositories", [])]
        # Each repository's own ARN: right in every account and under any emulator, and free with the listing.
        self._arns.update({str(repository["repositoryName"]): str(repository["repositoryArn"])
                           for repository in listed if repository.get("repositoryArn")})
        return [str(repository["repositoryName"]) for repository in listed]

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


# --------------------------------------------------------------------------------------------- the error table
#
# Every answer ECR can give that is not the data asked for, and what it means here. One table, so the reaction to a
# code is decided once and read in one place (docs/errors.md shows the same table for operators); a unit test holds
# it to botocore's model, so a code that a botocore upgrade brings fails the build until someone classifies it.


class Reaction(enum.StrEnum):
    ABSENT = "absent"  # the image is not there: an arch tag is awaited (``waiting``); nothing else is wrong
    PERMANENT = "permanent"  # retrying cannot help: ``rejected``, with the code and what to do, reported once
    TRANSIENT = "transient"  # may pass: TransientError (Lambda retries, then the dead-letter queue; the sweep retries)
    DONE = "done"  # what was asked is already so (PutImage of bytes the tag already holds): success


@dataclass(frozen=True, slots=True)
class Classification:
    reaction: Reaction
    advice: str  # what the code means for this image and who can fix it; goes into the reason
    error: type[AssemblyError] = PermanentError  # raised for PERMANENT / TRANSIENT


def _permanent(advice: str, error: type[AssemblyError] = PermanentError) -> Classification:
    return Classification(Reaction.PERMANENT, advice, error)


def _transient(advice: str, error: type[AssemblyError] = TransientError) -> Classification:
    return Classification(Reaction.TRANSIENT, advice, error)


_ABSENT = Classification(Reaction.ABSENT, "not in the repository")

# BatchGetImage ``failures[].failureCode``, per image id (botocore: shape ImageFailureCode).
IMAGE_FAILURES: Mapping[str, Classification] = {
    "ImageNotFound": _ABSENT,
    "ImageTagDoesNotMatchDigest": _ABSENT,  # asked by tag and digest: the tag has moved on
    "MissingDigestAndTag": _ABSENT,  # an id with neither: nothing to find
    "ImageInaccessible": _permanent(
        "the image is archived and cannot be pulled: restore it (aws ecr update-image-storage-class "
        "--target-storage-class STANDARD) or push it again", ImageUnreadableError),
    "KmsError": _permanent(
        "the repository's KMS key cannot be used to read the image: the key is disabled or pending deletion, or the "
        "function's role may not kms:Decrypt with it", ImageUnreadableError),
    "UpstreamAccessDenied": _permanent(
        "the pull-through cache's upstream registry refused the credentials: fix the cache rule's secret",
        ImageUnreadableError),
    "InvalidImageDigest": _permanent("ECR calls the digest invalid", ImageUnreadableError),
    "InvalidImageTag": _permanent("ECR calls the tag invalid", ImageUnreadableError),
    "ImageReferencedByManifestList": _permanent(
        "the image is referenced by an image index and cannot be used this way", ImageUnreadableError),
    "UpstreamTooManyRequests": _transient("the pull-through cache's upstream registry is throttling"),
    "UpstreamUnavailable": _transient("the pull-through cache's upstream registry is unavailable"),
}

# A failure code this table does not know (ECR adds codes): reported as ``rejected`` with the code, never retried
# in a loop. A retry cannot fix what nobody understood, and the next push or sweep tries again anyway; an
# unclassified transient code costs one late index, an unclassified permanent one retried would cost an alarm
# and a dead-letter queue full of events, forever.
UNKNOWN_IMAGE_FAILURE = _permanent(
    "a failure code ecr-multiarch does not know; it is reported, not retried (please report it)", ImageUnreadableError)

_ANY = "*"
# ClientError codes by (operation, code); ``*`` for every operation. botocore has already retried throttling, 5xx
# and connection errors (adaptive mode): what arrives here outlived those retries.
CLIENT_ERRORS: Mapping[tuple[str, str], Classification] = {
    (_ANY, "ServerException"): _transient("ECR had an internal error"),
    (_ANY, "ThrottlingException"): _transient("ECR throttled the calls (PutImage is 10 per second per account)"),
    (_ANY, "RepositoryNotFoundException"): _permanent("the repository does not exist", RepositoryNotFoundError),
    (_ANY, "AccessDeniedException"): _permanent(
        "not allowed: add the repository to the stack's RepositoryNames parameter (or fix the IAM policy)",
        AccessDeniedError),
    (_ANY, "InvalidParameterException"): _permanent("ECR refused the request as invalid"),
    (_ANY, "KmsException"): _permanent(
        "the repository's KMS key cannot be used: the key is disabled or pending deletion, or the function's role "
        "may not use it"),
    (_ANY, "LimitExceededException"): _permanent("a service quota of the account is reached"),
    # BatchGetImage
    ("BatchGetImage", "UnableToGetUpstreamImageException"): _permanent(
        "the pull-through cache could not get the image upstream, usually because of the credentials secret"),
    # GetDownloadUrlForLayer (the config blob)
    ("GetDownloadUrlForLayer", "LayersNotFoundException"): _permanent(
        "the config blob the manifest names is not in the repository: the image is broken; push it again",
        ConfigBlobMissingError),
    ("GetDownloadUrlForLayer", "LayerInaccessibleException"): _permanent(
        "the config blob is not available (archived, or not associated with an image): restore or push the image "
        "again", ConfigBlobMissingError),
    ("GetDownloadUrlForLayer", "UnableToGetUpstreamLayerException"): _transient(
        "the pull-through cache could not get the config blob upstream"),
    # PutImage (our index)
    ("PutImage", "ImageAlreadyExistsException"): Classification(
        Reaction.DONE, "the same bytes are already at the tag (a duplicate event, a retry): success"),
    ("PutImage", "ImageTagAlreadyExistsException"): _permanent(
        "the repository has immutable tags and the version tag already holds another image (make the repository "
        "MUTABLE, or exclude version tags from immutability)", ImmutableTagError),
    ("PutImage", "ReferencedImagesNotFoundException"): _transient(
        "a child disappeared before the index was written", ReferencedImagesMissingError),
    ("PutImage", "InvalidParameterException"): _permanent("ECR refused the index", IndexRejectedError),
    ("PutImage", "ImageDigestDoesNotMatchException"): _permanent("ECR refused the index", IndexRejectedError),
    ("PutImage", "LimitExceededException"): _permanent(
        "ECR refused the index: a repository quota (images per repository, tags per image) is reached",
        IndexRejectedError),
    ("PutImage", "LayersNotFoundException"): _permanent("ECR refused the index", IndexRejectedError),
}


def classify_client_error(operation: str, code: str, http_status: int | None = None) -> Classification:
    """The table's verdict; a code it does not list is transient when ECR answered 5xx or 429, else permanent (a 4xx
    says the request is wrong, and it will be just as wrong on the next attempt)."""
    known = CLIENT_ERRORS.get((operation, code)) or CLIENT_ERRORS.get((_ANY, code))
    if known is not None:
        return known
    if http_status is not None and (http_status >= 500 or http_status == 429):
        return _transient("an error code ecr-multiarch does not know, with a server-side status")
    return _permanent("an error code ecr-multiarch does not know; it is reported, not retried (please report it)")


def raise_image_failure(repository: str, failure: Mapping[str, Any]) -> None:
    """One BatchGetImage ``failures`` entry: nothing for an absent image (left out of the result), else raised."""
    code = str(failure.get("failureCode", ""))
    verdict = IMAGE_FAILURES.get(code)
    if verdict is None:
        logger.warning("unknown BatchGetImage failure code", extra={"failure_code": code, "repository": repository})
        verdict = UNKNOWN_IMAGE_FAILURE
    if verdict.reaction in (Reaction.ABSENT, Reaction.DONE):
        return
    image_id = failure.get("imageId") or {}
    image = image_id.get("imageTag") or image_id.get("imageDigest") or "an image"
    reason = str(failure.get("failureReason") or "").strip()
    raise verdict.error(f"{repository}:{image} cannot be read: {code}: {verdict.advice}"
                        + (f" (ECR: {reason})" if reason else ""))


def translate_client_error(error: ClientError, operation: str, repository: str) -> Exception:
    """The error for one ClientError, as the table says; ImageAlreadyExistsException is our success signal."""
    code, message = error_code(error), _message(error)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    verdict = classify_client_error(operation, code, status if isinstance(status, int) else None)
    if verdict.reaction is Reaction.DONE:
        return _AlreadyExists()
    where = f"{operation} on {repository}" + (" failed after retries" if verdict.reaction is Reaction.TRANSIENT else "")
    return verdict.error(f"{where}: {code}: {verdict.advice}" + (f": {message}" if message else ""))


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
        document = parse_json_document(body, "manifest")  # bounded: hostile bytes are never a crash
    except JsonDocumentError:
        return None
    value = document.get("mediaType") if isinstance(document, dict) else None
    return value if isinstance(value, str) else None
