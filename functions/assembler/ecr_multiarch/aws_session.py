"""The CLI's AWS configuration, resolved as the AWS CLI resolves it, and credential problems told as what they are.

Region: ``--region``, then the region of the ECR registry host in the reference
(``123456789012.dkr.ecr.us-east-1.amazonaws.com/golang:1.0``), then AWS_REGION, AWS_DEFAULT_REGION, the profile's.
boto3 alone skips AWS_REGION, which is why the order is spelled out here. Profile: ``--profile``, then AWS_PROFILE.
Missing, expired or unusable credentials are a configuration problem (exit 2, with what to do), never "transient".

CLI only: the Lambda functions get their region and credentials from the runtime.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3

CREDENTIALS_ADVICE = (
    "configure credentials: `aws configure` (access keys), AWS_PROFILE=NAME or --profile NAME (a named profile), "
    "or `aws sso login --profile NAME` (IAM Identity Center); see "
    "https://docs.aws.amazon.com/cli/latest/userguide/cli-chap-configure.html"
)
REGION_ADVICE = (
    "pass --region (e.g. --region us-east-1), name the registry host "
    "(123456789012.dkr.ecr.us-east-1.amazonaws.com/golang:1.0), set AWS_REGION, or `aws configure set region REGION`"
)

# Error codes AWS answers when the credentials themselves are the problem, and when they lack a permission.
_CREDENTIAL_CODES = frozenset({
    "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
    "InvalidSignatureException", "SignatureDoesNotMatch", "RequestExpired",
})
_PERMISSION_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})


class AwsConfigurationError(Exception):
    """Region, profile or credentials cannot be used as configured: exit 2; the message says what to do."""


def resolve_region(flag: str | None, host_region: str | None, environ: Mapping[str, str],
                   profile_region: str | None) -> str | None:
    """The region a run acts on, in the AWS CLI's order, with the registry host's region before the environment."""
    if flag and host_region and flag != host_region:
        raise AwsConfigurationError(
            f"--region {flag} contradicts the registry host's region {host_region}: an ECR registry lives in one "
            f"region; drop --region or pass --region {host_region}")
    return flag or host_region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or profile_region


@dataclass
class CredentialWatch:
    """A botocore ``after-call`` hook: a call AWS refused for the credentials' sake becomes a configuration error.

    ``raise_at_once``: raise it from the call (plan, assemble, reconcile), so no retry loop or "failed" entry
    hides it; otherwise only remember it (invoke: the handler runs as in Lambda, and the CLI tells afterwards).
    """

    raise_at_once: bool = True
    problem: str | None = field(default=None)

    def __call__(self, parsed: Any = None, model: Any = None, **_: Any) -> None:
        error = parsed.get("Error", {}) if isinstance(parsed, dict) else {}
        code = str(error.get("Code", ""))
        operation = getattr(model, "name", "the call")
        if code in _CREDENTIAL_CODES:
            self.problem = (f"AWS refused {operation} ({code}: {error.get('Message', '')}): the credentials are "
                            f"expired or invalid; refresh them (`aws sso login`, a new session token) or "
                            f"{CREDENTIALS_ADVICE}")
        elif code in _PERMISSION_CODES:
            self.problem = (f"AWS refused {operation} ({code}: {error.get('Message', '')}): the caller lacks this "
                            "permission; use a role or profile that has it (see docs/cli.md for the list)")
        else:
            return
        if self.raise_at_once:
            raise AwsConfigurationError(self.problem)


def open_session(profile: str | None, region: str | None, *, watch: CredentialWatch) -> boto3.session.Session:
    """A session on ``profile`` in ``region``, with ``watch`` on every call its clients make."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        session = boto3.session.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as error:
        raise AwsConfigurationError(f"{error}: check --profile / AWS_PROFILE ({CREDENTIALS_ADVICE})") from None
    session.events.register("after-call", watch)
    return session


def caller_account(session: boto3.session.Session) -> str:
    """The caller's account (STS GetCallerIdentity, which needs no permission), through ``session``'s profile."""
    from .adapters.ecr import BOTOCORE_CONFIG

    return str(session.client("sts", config=BOTOCORE_CONFIG).get_caller_identity()["Account"])


def profile_region(profile: str | None) -> str | None:
    """The region the profile (or AWS_DEFAULT_REGION) names, without building clients."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.session.Session(profile_name=profile).region_name
    except ProfileNotFound as error:
        raise AwsConfigurationError(f"{error}: check --profile / AWS_PROFILE ({CREDENTIALS_ADVICE})") from None


def require_credentials(session: boto3.session.Session) -> None:
    """Resolve the credentials now (locally; an SSO or assume-role profile fetches them), so a missing or expired
    set is reported as such before any ECR call, not as a failed call."""
    from botocore import exceptions

    # LoginError (`aws login` sessions) is recent botocore; pyproject allows boto3>=1.35, whose botocore lacks it.
    login_error: type[Exception] = getattr(exceptions, "LoginError", exceptions.SSOError)
    unusable = (exceptions.NoCredentialsError, exceptions.PartialCredentialsError, exceptions.CredentialRetrievalError,
                exceptions.SSOError, exceptions.TokenRetrievalError, login_error,
                exceptions.InvalidConfigError, exceptions.ProfileNotFound, exceptions.ClientError)
    try:
        credentials = session.get_credentials()
        if credentials is None:
            raise AwsConfigurationError(f"no AWS credentials found; {CREDENTIALS_ADVICE}")
        credentials.get_frozen_credentials()
    except (exceptions.SSOError, exceptions.TokenRetrievalError) as error:
        raise AwsConfigurationError(
            f"the SSO session of profile {session.profile_name!r} needs a login ({error}): run "
            f"`aws sso login --profile {session.profile_name}`, then try again") from None
    except unusable as error:
        raise AwsConfigurationError(f"AWS credentials cannot be used ({error}); {CREDENTIALS_ADVICE}") from None
