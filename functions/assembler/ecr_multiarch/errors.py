"""The few failure kinds the service acts on; adapters translate AWS and HTTP errors into these.

Two families, because they call for opposite reactions:
- PermanentError: retrying cannot help (the repository is gone, the tag is immutable, an input is wrong).
  Reported once (log + metric) as outcome ``rejected``; the invocation succeeds so Lambda does not retry it.
- TransientError: the next attempt may well succeed. botocore / urllib3 have already retried; raising lets Lambda
  retry the event, and finally deliver it to the dead-letter destination.
Messages never carry a presigned URL.
"""


class AssemblyError(Exception):
    """Base of every error this package raises on purpose."""


class PermanentError(AssemblyError):
    pass


class TransientError(AssemblyError):
    pass


class RepositoryNotFoundError(PermanentError):
    pass


class AccessDeniedError(PermanentError):
    """The function's role may not touch this repository: a deployment setting, not a passing fault."""


class RepositoryPolicyError(PermanentError):
    """A repository tag of ours (ecr-multiarch:*) holds a value that cannot be used."""


class ImmutableTagError(PermanentError):
    """The version tag is immutable and already holds another image."""


class IndexRejectedError(PermanentError):
    """ECR refused the index itself (invalid parameter, digest mismatch, a limit): rebuilding gives the same bytes."""


class ImageUnreadableError(PermanentError):
    """ECR will not hand out an image for a reason that is not ours to fix: archived, a KMS key it cannot use, a
    pull-through cache whose upstream refuses us. The reason names ECR's failure code and who can fix it."""


class ConfigBlobMissingError(PermanentError):
    """The config blob a manifest names is not in the repository, or not available (archived, unassociated)."""


class ManifestIntegrityError(TransientError):
    """ECR returned manifest bytes whose sha256 is not the digest it named."""


class ReferencedImagesMissingError(TransientError):
    """A child went away between our read and our write (re-pushed or deleted concurrently)."""


class BlobUnavailableError(TransientError):
    """The config blob could not be downloaded (timeouts, connection errors, 5xx after retries)."""


class BlobIntegrityError(TransientError):
    """The downloaded config is not the blob the manifest names (wrong size, wrong sha256, truncated)."""


class BlobUrlExpiredError(TransientError):
    """The presigned download URL was refused (403): it expired; ask ECR for a fresh one."""


class UnsettledError(TransientError):
    """The version tag kept changing under us for every allowed attempt; let Lambda retry later."""
