"""The CLI's AWS configuration, resolved as the AWS CLI resolves it, and credential problems told as what they are.

Region: ``--region``, then the region of the ECR registry host in the reference
(``123456789012.dkr.ecr.us-east-1.amazonaws.com/golang:1.0``), then AWS_REGION, AWS_DEFAULT_REGION, the profile's.
boto3 alone skips AWS_REGION, which is why the order is spelled out here. Profile: ``--profile``, then AWS_PROFILE.
Missing, expired or unusable credentials are a configuration problem (exit 2, with what to do), never "transient".

CLI only: the Lambda functions get their region and credentials from the runtime.
"""

from __future__ import annotations

import os
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
    endpoints = EndpointWatch(os.environ)
    session.events.register("after-call", endpoints.after_call)
    session.events.register("needs-retry", endpoints.needs_retry)
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


# How long invoke waits for a configured endpoint to accept a connection (check_reachable).
PROBE_SECONDS = 3.0
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass
class EndpointWatch:
    """botocore hooks on the CLI's sessions: a connection to an endpoint that has not answered yet in this run fails
    the command at once, naming the endpoint, instead of after botocore's retries (the functions' policy: 6
    attempts with backoff, 20-30 s of silence for a stopped sandbox). Once an endpoint has answered, a failed
    connection to it is a blip, and retried as in the functions. Endpoints are told apart by host and port (STS and
    ECR may be configured apart)."""

    environ: Mapping[str, str]
    answered: set[str] = field(default_factory=set)

    def after_call(self, http_response: Any = None, **_: Any) -> None:
        from urllib.parse import urlsplit

        # Any HTTP answer, an error response included.
        self.answered.add(urlsplit(str(getattr(http_response, "url", ""))).netloc)

    def needs_retry(self, caught_exception: Exception | None = None, **_: Any) -> None:
        from urllib.parse import urlsplit

        from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError

        if not isinstance(caught_exception, EndpointConnectionError | ConnectTimeoutError):
            return  # an answer (throttling, a 500…) or another error: botocore's own retry handler decides
        endpoint_url = str(caught_exception.kwargs.get("endpoint_url", ""))
        if urlsplit(endpoint_url).netloc in self.answered:
            return
        raise unreachable_error(endpoint_url, self.environ, _cause(caught_exception))


def _cause(error: BaseException) -> str:
    """The socket's own words (Connection refused, Name or service not known), deep in urllib3's chain."""
    seen: BaseException | None = error.kwargs.get("error") if hasattr(error, "kwargs") else error
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror
        seen = seen.__cause__ or seen.__context__
    return "timed out" if "timeout" in type(error).__name__.lower() else "no connection"


def check_reachable(endpoint_url: str, environ: Mapping[str, str]) -> None:
    """One TCP connection to a configured endpoint (AWS_ENDPOINT_URL…, not AWS's own), closed at once: for invoke,
    whose handlers build their clients where EndpointWatch cannot hook. Skipped behind a proxy (it connects)."""
    import socket
    import urllib.request
    from urllib.parse import urlsplit

    parts = urlsplit(endpoint_url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    if _is_aws(host) or (parts.scheme in urllib.request.getproxies() and not urllib.request.proxy_bypass(host)):
        return
    try:
        socket.create_connection((host, port), timeout=PROBE_SECONDS).close()
    except TimeoutError:
        raise unreachable_error(endpoint_url, environ, f"no answer within {PROBE_SECONDS:g} s") from None
    except OSError as error:
        raise unreachable_error(endpoint_url, environ, error.strerror or str(error)) from None


def _is_aws(host: str) -> bool:
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn"))


def unreachable_error(endpoint_url: str, environ: Mapping[str, str], reason: str) -> Exception:
    """What to say about an endpoint that does not answer: a configured one (the sandbox's, a local stand-in) is a
    configuration problem, exit 2; AWS's own is the network's, transient, exit 3."""
    from urllib.parse import urlsplit

    from .errors import TransientError

    parts = urlsplit(endpoint_url)
    endpoint, host = f"{parts.scheme}://{parts.netloc}", parts.hostname or ""
    if _is_aws(host):
        return TransientError(f"cannot connect to {endpoint} ({reason}): check the network (or the proxy: "
                              "HTTPS_PROXY)")
    variable = _variable_naming(parts.netloc, environ)
    source, undo = (variable, f"`unset {variable}`") if variable else (
        "the profile's endpoint_url", "remove endpoint_url from the profile")
    message = f"cannot connect to {endpoint} (from {source}: {reason})"
    if host in LOOPBACK_HOSTS or host.startswith("127."):
        return AwsConfigurationError(
            f"{message}: it points at this machine, as the sandbox's export lines do: is `make sandbox` still "
            f"running? Start it again and paste its new export lines, or {undo} to use AWS")
    return AwsConfigurationError(f"{message}: is the service there running? Or {undo} to use AWS")


def _variable_naming(netloc: str, environ: Mapping[str, str]) -> str | None:
    """The AWS_ENDPOINT_URL_<SERVICE> (first) or AWS_ENDPOINT_URL that names this host and port, if one does."""
    from urllib.parse import urlsplit

    names = sorted((name for name in environ if name.startswith("AWS_ENDPOINT_URL")),
                   key=lambda name: (name == "AWS_ENDPOINT_URL", name))
    return next((name for name in names if urlsplit(environ[name]).netloc == netloc), None)
