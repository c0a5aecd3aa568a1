"""``ecr-multiarch``: the functions' own assembly and sweep, from a terminal or a CI job.

Same code path and settings as the Lambda functions (REQUIRED_ARCHITECTURES, INDEX_FORMAT, DRY_RUN,
RECONCILE_REPOSITORIES from the environment, overridable by options), the AWS configuration resolved as the AWS
CLI resolves it (aws_session.py), and input checked as ECR checks it before any call (reference.py).

Output: results on stdout (a table, or JSON with --json); progress bars, notes and errors on stderr. On a terminal,
with the optional ``cli`` extra (rich), the progress bar and summary table are drawn by rich (terminal.py); pipes
and --json get plain text. Nothing here is imported by the Lambda functions.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from unittest import mock

from .aws_session import (
    REGION_ADVICE,
    AwsConfigurationError,
    CredentialWatch,
    caller_account,
    check_reachable,
    open_session,
    profile_region,
    require_credentials,
    resolve_region,
)
from .domain.events import Skip, classify_event
from .domain.incomplete import IncompleteVersion
from .domain.index import ImageIndex, IndexFormat
from .domain.tags import parse_arch_tag
from .errors import PermanentError, TransientError
from .incomplete import IncompleteVersionFinder, incomplete_lines
from .outcome import Outcome, OutcomeKind
from .reconcile import (
    Cursor,
    CursorError,
    Reconciler,
    ReconcileSettings,
    SweepEntry,
    SweepProgress,
    SweepReport,
    parse_repository_patterns,
)
from .reference import ImageReference, InvalidReferenceError, check_repository_pattern, parse_reference
from .settings import Settings, SettingsError

if TYPE_CHECKING:
    from .adapters.ecr import EcrRegistry
    from .assembler import Assembler
    from .ports import StoredManifest

PROGRAM = "ecr-multiarch"

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_FAILED = 3
# As a shell reports a command a signal ended: 128 + SIGINT (Ctrl-C), 128 + SIGPIPE (stdout's reader went away).
EXIT_INTERRUPTED = 130
EXIT_PIPE_CLOSED = 141

# ClientError codes that mean "your credentials or permissions", not "try again".
_CONFIGURATION_ERROR_CODES = frozenset({
    "AccessDenied", "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
    "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnauthorizedOperation",
})

# The sweep's clock for --time-budget (a module attribute so tests can step it).
clock: Callable[[], float] = time.monotonic


class UsageError(Exception):
    """A bad argument or missing configuration: exit code 2, with a message saying what to do."""


# --------------------------------------------------------------------------------------------- parser

_EPILOG = f"""\
exit codes:
  {EXIT_OK}  done; nothing rejected (waiting versions are not errors)
  {EXIT_REJECTED}  something was rejected (mislabelled tag, single-arch image at a version tag, missing repository,
     a version with no tag at all…)
  {EXIT_USAGE}  usage or configuration error (bad arguments or settings, no region or credentials, access denied)
  {EXIT_FAILED}  a transient failure (throttling, network, a tag that kept changing): run it again
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C)
  {EXIT_PIPE_CLOSED}  stdout's reader stopped reading (`| head -1`): the rest of the output is dropped, quietly

environment (the functions' own settings):
  REQUIRED_ARCHITECTURES   tag suffixes that must all exist, in index order (default amd64,arm64)
  INDEX_FORMAT             auto, docker or oci (default auto)
  DRY_RUN                  true: never write (assemble and reconcile then only plan)
  RECONCILE_REPOSITORIES   repositories `reconcile` sweeps when none are named (default *: all)
  AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL and the rest of the standard AWS configuration; the region is
  --region, else the registry host's (123456789012.dkr.ecr.us-east-1.amazonaws.com/golang:1.0), else AWS_REGION,
  AWS_DEFAULT_REGION, the profile's; a host naming another account reads and writes that account's registry

examples:
  {PROGRAM} plan golang:1.19.2-alpine
  {PROGRAM} assemble golang:1.19.2-alpine
  {PROGRAM} reconcile golang 'team/*' --dry-run
  {PROGRAM} reconcile --json > sweep.json
  {PROGRAM} invoke events/push-arm64.json
  {PROGRAM} demo
  {PROGRAM} sandbox          # an in-memory ECR on 127.0.0.1: try every command above with no account
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Write multi-architecture image indexes to Amazon ECR from arch-suffixed tags "
        "(golang:1.19.2-alpine-amd64 + golang:1.19.2-alpine-arm64 -> golang:1.19.2-alpine).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    _add_common_options(parser, None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    command = _command_factory(commands)
    _add_registry_commands(command)
    _add_local_commands(command)
    return parser


# (name, help, description, examples) -> the subcommand's parser, with the common options.
Command = Callable[[str, str, str, str], argparse.ArgumentParser]


def _command_factory(commands: Any) -> Command:
    def command(name: str, help_text: str, description: str, examples: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(
            name, help=help_text, description=description, epilog="examples:\n" + examples,
            formatter_class=argparse.RawDescriptionHelpFormatter)
        # Accepted after the command too (`ecr-multiarch plan X --json`); SUPPRESS keeps a value given before it.
        _add_common_options(sub, argparse.SUPPRESS)
        return sub

    return command


def _add_registry_commands(command: Command) -> None:
    """The commands that act on a registry: plan, assemble, reconcile."""
    plan = command(
        "plan", "print the index that would be written, its digest and the decision; write nothing",
        "Read the version's architecture tags and print the exact index bytes that would be written at "
        "REPOSITORY:VERSION, their digest, and the decision (create, update, unchanged, waiting, rejected; absent "
        "when no tag of the version exists: exit 1, naming the nearest versions). Nothing is written, whatever "
        "DRY_RUN says.",
        f"  {PROGRAM} plan golang:1.19.2-alpine\n  {PROGRAM} plan golang:1.19.2-alpine --json | jq .index\n"
        f"  {PROGRAM} plan 123456789012.dkr.ecr.us-east-1.amazonaws.com/golang:1.19.2-alpine --region us-east-1\n",
    )
    plan.add_argument("reference", metavar="REPOSITORY:VERSION",
                      help="the multi-arch tag to plan (an arch tag such as golang:1.0-arm64 means its version)")
    plan.set_defaults(run=run_plan)

    assemble = command(
        "assemble", "write the index of one version now (when every architecture is there)",
        "Do what the function does on a push event, now: write (or update) the index at REPOSITORY:VERSION "
        "when every required architecture tag exists, verify it, and print the outcome. DRY_RUN=true only plans.",
        f"  {PROGRAM} assemble golang:1.19.2-alpine\n  {PROGRAM} assemble golang:1.19.2-alpine --json\n",
    )
    assemble.add_argument("reference", metavar="REPOSITORY:VERSION", help="the multi-arch tag to write")
    assemble.add_argument("--force", action="store_true",
                          help="replace the index at the tag even when the new one drops platforms it serves")
    assemble.set_defaults(run=run_assemble)

    reconcile = command(
        "reconcile", "sweep repositories: make every complete version's index current",
        "Sweep whole repositories as the scheduled function does: group tags by version, write every missing "
        "or stale index, and print a summary (created, updated, unchanged, waiting, rejected). A progress bar "
        "is drawn on stderr when it is a terminal.",
        f"  {PROGRAM} reconcile golang\n  {PROGRAM} reconcile golang 'team/*' --dry-run\n"
        f"  {PROGRAM} reconcile --json > sweep.json          # RECONCILE_REPOSITORIES, default: all\n"
        f"  {PROGRAM} reconcile golang --time-budget 600     # stop after 10 minutes, print how to resume\n",
    )
    reconcile.add_argument("repositories", nargs="*", metavar="REPOSITORY",
                           help="repository names or quoted patterns ('team/*', '?' = one character); "
                           "default: $RECONCILE_REPOSITORIES, else every repository")
    reconcile.add_argument("--dry-run", action="store_true", help="plan only: report what would be written")
    reconcile.add_argument("--time-budget", type=_positive_seconds, metavar="SECONDS",
                           help="stop cleanly after this long and print a --resume cursor (default: no limit)")
    reconcile.add_argument("--resume", metavar="CURSOR", help="continue a stopped sweep (the JSON cursor it printed)")
    reconcile.add_argument("--no-progress", action="store_true", help="never draw the progress bar")
    reconcile.set_defaults(run=run_reconcile)



def _add_local_commands(command: Command) -> None:
    """The commands that run the functions here: invoke, demo, sandbox."""
    invoke = command(
        "invoke", "run a Lambda handler on an event file, in-process (like `sam local invoke`, no container)",
        "Run the real Lambda handler on the event in EVENT.json with this machine's AWS configuration, the way "
        "`sam local invoke` does but without Docker. An ECR event goes to the assembler function, a scheduled "
        "event (or a {\"reconcile\": …} payload) to the reconcile function; the reconcile function's "
        "continuations run here too. The handler's result is printed on stdout, its logs and metrics on stderr.",
        f"  {PROGRAM} invoke events/push-arm64.json\n  {PROGRAM} invoke events/schedule/scheduled-event.json\n",
    )
    invoke.add_argument("event", metavar="EVENT.json", help="the event, as JSON (events/ holds samples)")
    invoke.add_argument("--function", choices=("auto", "assembler", "reconcile"), default="auto",
                        help="which function's handler (default: chosen from the event)")
    invoke.add_argument("--timeout", type=_positive_seconds, metavar="SECONDS",
                        help="the function's timeout, enforced as Lambda does: past it the invocation ends as "
                        "timed out (Sandbox.Timedout, exit 3) (default: template.yaml's, 60 for the assembler, 900 for "
                        "reconcile)")
    invoke.set_defaults(run=run_invoke)

    demo = command(
        "demo", "what `make demo` runs: the handler against an in-memory ECR (needs the dev extras)",
        "Seed an in-memory ECR with a real image for each required architecture, replay the sample events "
        "through the real handler and print the index written (--json: one document). Needs a source checkout "
        "with the dev extras (devkit/, moto).",
        f"  {PROGRAM} demo\n  {PROGRAM} demo --verbose\n  {PROGRAM} demo --architectures amd64,arm64,armv7 "
        f"--index-format oci --json\n",
    )
    demo.set_defaults(run=run_demo)

    sandbox = command(
        "sandbox", "serve the demo's in-memory ECR on 127.0.0.1 until Ctrl-C: try every command with no account",
        "Start the in-memory ECR the demo uses (moto, corrected where it is not ECR, with config blobs served over "
        "HTTP on 127.0.0.1) as a server in the foreground, seeded with repository golang (a complete version, an "
        "incomplete one, a stale index, a BuildKit pair). It prints the `export AWS_ENDPOINT_URL=… AWS_REGION=… "
        "AWS_ACCESS_KEY_ID=…` lines: paste them into another shell, and plan, assemble, reconcile and invoke work "
        "there with no AWS account. Needs a source checkout with the dev extras (devkit/, moto[server]).",
        f"  {PROGRAM} sandbox\n  # in another shell: paste the export lines, then\n"
        f"  {PROGRAM} plan golang:1.19.2-alpine\n  {PROGRAM} reconcile --dry-run\n",
    )
    sandbox.set_defaults(run=run_sandbox)


def _add_common_options(parser: argparse.ArgumentParser, default: Any) -> None:
    def value(normal: Any) -> Any:
        return normal if default is None else default

    group = parser.add_argument_group("common options")
    group.add_argument("--profile", default=value(None), help="AWS profile (default: $AWS_PROFILE or the default)")
    group.add_argument("--region", default=value(None),
                       help="AWS region (default: the registry host's in the reference, else $AWS_REGION, "
                       "$AWS_DEFAULT_REGION, the profile's)")
    group.add_argument("--architectures", default=value(None), metavar="LIST",
                       help="required tag suffixes, in index order (default: $REQUIRED_ARCHITECTURES or amd64,arm64)")
    group.add_argument("--index-format", choices=[f.value for f in IndexFormat], default=value(None),
                       help="index media type (default: $INDEX_FORMAT or auto)")
    group.add_argument("--json", action="store_true", default=value(False), help="machine-readable output on stdout")
    group.add_argument("-v", "--verbose", action="store_true", default=value(False),
                       help="log each step to stderr; reconcile also lists every version it changed or left waiting")


def _positive_seconds(raw: str) -> float:
    try:
        seconds = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a number of seconds") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return seconds


# --------------------------------------------------------------------------------------------- main


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ecr-multiarch")
    except PackageNotFoundError:
        return "unknown (not installed: pip install -e . in the checkout)"


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            code = _main(argv)
        finally:
            # Inside the try: what is still buffered (all of a short output) is written here, where a reader that
            # has gone (`| head -1`) can be told apart, not by the interpreter on its way out (a traceback).
            sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_PIPE_CLOSED
    if argv is None and any(worker.is_alive() for worker in _abandoned):
        # This process is the program and a timed-out handler still runs: end now, as Lambda ends the sandbox,
        # rather than wait for it (interpreter exit joins its download threads). In-process callers pass argv.
        sys.stderr.flush()
        os._exit(code)
    return code


def _discard_stdout() -> None:
    """The reader of stdout is gone: the rest of the output goes to devnull, so that nothing left in the buffer
    raises again at exit (the recipe of Python's signal module docs, "Note on SIGPIPE")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    # No file under stdout (an in-process caller's capture): nothing is flushed to a pipe at exit either.
    with contextlib.suppress(OSError, ValueError):
        os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.verbose and args.command not in {"demo", "invoke", "sandbox"}:  # those have their own logging
        _log_steps_to_stderr()
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except (UsageError, SettingsError, CursorError, InvalidReferenceError, AwsConfigurationError) as error:
        return _fail(str(error), EXIT_USAGE)
    except TransientError as error:
        return _fail(f"{error} (transient: run it again)", EXIT_FAILED)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except Exception as error:
        return _aws_error(error)


@contextlib.contextmanager
def _restored_default_session() -> Iterator[None]:
    """``invoke`` makes its session boto3's default for the handlers; put the caller's back after it, so running
    the CLI in-process (tests, scripts) leaves boto3 as it found it."""
    boto3 = sys.modules.get("boto3")
    saved = getattr(boto3, "DEFAULT_SESSION", None)
    try:
        yield
    finally:
        boto3 = sys.modules.get("boto3")
        if boto3 is not None:
            setattr(boto3, "DEFAULT_SESSION", saved)  # noqa: B010 - a ModuleType from sys.modules


def _log_steps_to_stderr() -> None:
    """The service's own step logs (reads, writes, decisions) on stderr; not botocore's chatter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    package = logging.getLogger("ecr_multiarch")
    package.addHandler(handler)
    package.setLevel(logging.INFO)


def _aws_error(error: Exception) -> int:
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
    )

    from .aws_session import CREDENTIALS_ADVICE

    if isinstance(error, NoRegionError):
        return _fail(f"no AWS region: {REGION_ADVICE}", EXIT_USAGE)
    if isinstance(error, NoCredentialsError | PartialCredentialsError | ProfileNotFound):
        return _fail(f"AWS credentials: {error}; {CREDENTIALS_ADVICE}", EXIT_USAGE)
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in _CONFIGURATION_ERROR_CODES:
            return _fail(f"AWS refused the call: {error}", EXIT_USAGE)
        return _fail(f"AWS error: {error}", EXIT_FAILED)
    if isinstance(error, BotoCoreError):
        return _fail(f"AWS error: {error}", EXIT_FAILED)
    raise error


def _fail(message: str, code: int) -> int:
    print(f"{PROGRAM}: error: {message}", file=sys.stderr)
    return code


def _note(message: str) -> None:
    print(f"{PROGRAM}: {message}", file=sys.stderr)


def _exit_code(statuses: Sequence[str]) -> int:
    if "rejected" in statuses:
        return EXIT_REJECTED
    if "failed" in statuses:
        return EXIT_FAILED
    return EXIT_OK


def _print_json(document: Any) -> None:
    print(json.dumps(document, indent=2))


# --------------------------------------------------------------------------------------------- composition


def _settings(args: argparse.Namespace, *, dry_run: bool | None = None) -> Settings:
    environment = dict(os.environ)
    if args.architectures is not None:
        environment["REQUIRED_ARCHITECTURES"] = args.architectures
    if args.index_format is not None:
        environment["INDEX_FORMAT"] = args.index_format
    try:
        settings = Settings.from_environment(environment)
    except SettingsError as error:
        # Name what the user typed: the flag when they gave one, the variable otherwise.
        message = str(error)
        if args.architectures is not None:
            message = message.replace("REQUIRED_ARCHITECTURES", "--architectures")
        raise UsageError(message) from None
    return settings if dry_run is None else replace(settings, dry_run=dry_run)


@dataclass(frozen=True)
class _Ecr:
    """ECR as one run sees it: the registry port, and the client and registryId under it (the stuck-version report
    dates tags with DescribeImages through the same client, so in the same region and registry)."""

    registry: EcrRegistry
    client: Any
    registry_id: str | None


def _ecr(args: argparse.Namespace, reference: ImageReference | None = None) -> _Ecr:
    """ECR in the resolved region, with checked credentials; a reference naming a registry host reads and writes
    that registry (its account as registryId: cross-account works as the caller's permissions allow)."""
    from .adapters.ecr import BOTOCORE_CONFIG, EcrRegistry

    host_region = reference.region if reference is not None else None
    region = resolve_region(args.region, host_region, os.environ, None) or profile_region(args.profile)
    if region is None:
        raise AwsConfigurationError(f"no AWS region: {REGION_ADVICE}")
    session = open_session(args.profile, region, watch=CredentialWatch(raise_at_once=True))
    require_credentials(session)
    registry = reference.account if reference is not None else None
    client = session.client("ecr", config=BOTOCORE_CONFIG)
    # The registry's account names repository ARNs: the host's, else the caller's, asked with this session's profile.
    return _Ecr(EcrRegistry(client, account_id=registry or caller_account(session), registry_id=registry),
                client, registry)


def _assembler(registry: EcrRegistry, settings: Settings) -> Assembler:
    from .adapters.http_blobs import HttpBlobReader
    from .assembler import Assembler, PlatformCache
    from .reconcile import PLATFORM_CACHE_ENTRIES

    # Repository tags (ecr-multiarch:*) apply here as in the function: the CLI decides what the function would.
    return Assembler(registry, HttpBlobReader(), settings, PlatformCache(PLATFORM_CACHE_ENTRIES),
                     repository_tags=registry)


def parse_version_reference(text: str, suffixes: Sequence[str]) -> tuple[ImageReference, str]:
    """``REPOSITORY:VERSION`` (optionally with the registry host) -> (reference, version); an arch tag means its
    version, since that is the index it belongs to."""
    reference = parse_reference(text.strip(), what="REPOSITORY:VERSION")
    if reference.tag is None:
        raise UsageError(f"REPOSITORY:VERSION {text!r} names a digest; give the version tag the index goes to, "
                         f"e.g. {reference.repository}:1.19.2-alpine")
    repository, tag = reference.repository, reference.tag
    parsed = parse_arch_tag(tag, suffixes)
    if parsed is not None:
        _note(f"{repository}:{tag} is the {parsed.suffix} tag of {parsed.version}; using {repository}:{parsed.version}")
        tag = parsed.version
    return reference, tag


# --------------------------------------------------------------------------------------------- plan, assemble


def run_plan(args: argparse.Namespace) -> int:
    settings = _settings(args, dry_run=True)  # a plan never writes
    reference, version = parse_version_reference(args.reference, tuple(settings.suffixes))  # the one tag grammar
    repository = reference.repository
    ecr = _ecr(args, reference)
    assembler = _assembler(ecr.registry, settings)
    decided = _decide(ecr.registry, assembler, repository, version)
    outcome, current = decided.outcome, decided.current
    decision = "absent" if decided.nearby is not None else {
        OutcomeKind.PLANNED: "update" if version in current else "create",
    }.get(outcome.kind, outcome.kind.value)
    tags_by_digest = {str(manifest.digest): tag for tag, manifest in current.items() if tag != version}
    finder = _incomplete_finder(ecr, assembler)  # a waiting version stuck for too long (ops)
    incomplete = _find_incomplete(finder, [outcome])
    if args.json:
        document = {**outcome.to_json(), "decision": decision}
        if outcome.kind is OutcomeKind.WAITING:
            document["incomplete"] = incomplete[0].to_json() if incomplete else None
        if decided.nearby is not None:
            document["nearby"] = decided.nearby
        if outcome.index is not None:
            document["index"] = outcome.index.to_json()
            document["manifest"] = outcome.index.body.decode("ascii")
            document["children"] = {str(child.digest): tags_by_digest.get(str(child.digest))
                                    for child in outcome.index.manifests}
        _print_json(document)
    else:
        print(_plan_text(outcome, decision, tags_by_digest))
        print("\n".join(incomplete_lines(incomplete, finder.threshold)), end="\n" if incomplete else "")
    return _exit_code([outcome.kind.value])


@dataclass(frozen=True)
class _Decided:
    """One version's outcome, with the first read under it (which of the version's tags exist); ``nearby`` is set
    only for a version with no tag at all: the versions the repository holds that look most like it."""

    outcome: Outcome
    current: Mapping[str, StoredManifest]
    nearby: list[str] | None = None


def _decide(registry: EcrRegistry, assembler: Assembler, repository: str, version: str, *,
            force: bool = False) -> _Decided:
    """What plan and assemble print: the assembler's outcome, except that a version none of whose tags exists is
    rejected (exit 1, as a missing repository is) instead of waiting: a typo must fail a CI job, not pass it."""
    try:
        # The assembler's first read, done here so the CLI knows which of the version's tags exist; passed on as
        # ``prefetched``, so it costs exactly the calls an assembly would.
        current = registry.get_manifests(repository, assembler.version_tags(version))
    except PermanentError as error:
        return _Decided(Outcome(OutcomeKind.REJECTED, repository, version, reason=str(error)), {})
    outcome = assembler.assemble(repository, version, prefetched=current, force=force)
    if outcome.kind is not OutcomeKind.WAITING or version in current:
        return _Decided(outcome, current)
    arch_tags = assembler.version_tags(version, repository)[:-1]  # the repository's own set, read by the assembly
    if set(outcome.missing) != set(arch_tags):
        return _Decided(outcome, current)
    nearby, listing_problem = _nearby_versions(registry, repository, version, assembler.settings.suffixes)
    reason = (f"no such version: none of its tags ({', '.join([*arch_tags, version])}) exists in {repository}; "
              + (listing_problem or (f"nearest versions there: {', '.join(nearby)}" if nearby
                                     else "the repository holds no tags")))
    return _Decided(Outcome(OutcomeKind.REJECTED, repository, version, reason=reason), current, nearby)


def _nearby_versions(registry: EcrRegistry, repository: str, version: str,
                     suffixes: Iterable[str]) -> tuple[list[str], str | None]:
    """(the nearest versions, None), or ([], why they could not be listed): the hint must not hide the error."""
    from .nearby import nearest_versions

    try:
        return nearest_versions(version, registry.list_tags(repository), suffixes), None
    except (PermanentError, TransientError, AwsConfigurationError) as error:
        return [], f"its other versions could not be listed ({error})"


def _incomplete_finder(ecr: _Ecr, assembler: Assembler) -> IncompleteVersionFinder:
    from .incomplete import finder_for

    # The run's own client: a session of its own would miss the region resolved above (boto3 alone ignores
    # AWS_REGION and the registry host) and the registryId of a cross-account reference.
    return finder_for(ecr.client, assembler.settings_for, os.environ, registry_id=ecr.registry_id)


def _find_incomplete(finder: IncompleteVersionFinder, outcomes: list[Outcome]) -> list[IncompleteVersion]:
    """The stuck versions, best effort as in the sweep: a caller without ecr:DescribeImages (or refused for any
    other reason) gets its plan or sweep result with a note, not exit 2 after the writes are done."""
    try:
        return finder.find(outcomes)
    except AwsConfigurationError as error:
        _note(f"stuck versions not reported: {error}")
        return []


def _plan_text(outcome: Outcome, decision: str, tags_by_digest: dict[str, str]) -> str:
    name = f"{outcome.repository}:{outcome.version}"
    headline = {
        "create": f"{name}: would create the index (the tag does not exist yet); nothing written",
        "update": f"{name}: would update the index (the tag holds an older one); nothing written",
        "unchanged": f"{name}: unchanged (the tag already holds exactly this index); nothing to write",
        "waiting": f"{name}: waiting for {', '.join(outcome.missing)}; nothing to write",
        "rejected": f"{name}: rejected: {outcome.reason}",
        "absent": f"{name}: {outcome.reason}",
    }[decision]
    lines = [headline]
    if outcome.index is not None:
        lines.extend(_index_lines(outcome.index, tags_by_digest, outcome.repository or ""))
        lines.append("exact bytes:")
        lines.append(outcome.index.body.decode("ascii"))
    return "\n".join(lines)


def _index_lines(index: ImageIndex, tags_by_digest: dict[str, str], repository: str) -> list[str]:
    lines = [
        f"  digest      {index.digest}",
        f"  media type  {index.media_type}",
        f"  size        {len(index.body)} bytes",
    ]
    for child in index.manifests:
        tag = tags_by_digest.get(str(child.digest))
        lines.append(f"  {child.platform!s:<16} {child.digest}" + (f"  {repository}:{tag}" if tag else ""))
    return lines


def run_assemble(args: argparse.Namespace) -> int:
    settings = _settings(args)
    reference, version = parse_version_reference(args.reference, tuple(settings.suffixes))  # the one tag grammar
    repository = reference.repository
    registry = _ecr(args, reference).registry
    decided = _decide(registry, _assembler(registry, settings), repository, version, force=args.force)
    outcome = decided.outcome
    if args.json:
        document = outcome.to_json()
        if decided.nearby is not None:
            document["nearby"] = decided.nearby
        _print_json(document)
    else:
        print(_outcome_line(outcome))
        if outcome.index is not None and outcome.kind is not OutcomeKind.UNCHANGED:
            print("\n".join(_index_lines(outcome.index, {}, repository)))
    return _exit_code([outcome.kind.value])


def _outcome_line(outcome: Outcome) -> str:
    name = f"{outcome.repository}:{outcome.version}" if outcome.version else f"{outcome.repository}"
    detail = {
        OutcomeKind.WAITING: f"missing {', '.join(outcome.missing)}",
        OutcomeKind.REJECTED: outcome.reason or "",
        OutcomeKind.PLANNED: f"{outcome.digest} ({outcome.reason})",
    }.get(outcome.kind, outcome.digest or "")
    return f"{outcome.kind.value:<10} {name}  {detail}".rstrip()


# --------------------------------------------------------------------------------------------- reconcile


def run_reconcile(args: argparse.Namespace) -> int:
    settings = _settings(args, dry_run=True if args.dry_run else None)
    cursor = _parse_cursor(args.resume) if args.resume else None
    if args.repositories:
        for name in args.repositories:
            check_repository_pattern(name, what="REPOSITORY")
        patterns = parse_repository_patterns(",".join(args.repositories))
    else:
        patterns = ReconcileSettings.from_environment(os.environ).repositories
    ecr = _ecr(args)
    reconciler = Reconciler(ecr.registry, _assembler(ecr.registry, settings), clock=clock)
    if cursor is not None:
        repositories = list(cursor.repositories)
    else:
        repositories = reconciler.resolve_repositories(patterns)
        if not repositories:
            _note(f"no repository matches {', '.join(patterns)}")
    with _progress(not args.no_progress) as progress:
        report = reconciler.sweep(repositories, cursor=cursor, time_budget=args.time_budget, on_progress=progress)
    finder = _incomplete_finder(ecr, reconciler.assembler)  # stuck versions (ops; INCOMPLETE_AFTER_HOURS)
    incomplete = _find_incomplete(finder, [entry.outcome for entry in report.entries if entry.outcome is not None])
    if args.json:
        _print_json({**report.to_json(), "dryRun": settings.dry_run,
                     "incomplete": [version.to_json() for version in incomplete]})
    else:
        _print_summary(report, dry_run=settings.dry_run, verbose=args.verbose)
        print("\n".join(incomplete_lines(incomplete, finder.threshold)), end="\n" if incomplete else "")
    return _exit_code([entry.status for entry in report.entries])


def _parse_cursor(raw: str) -> Cursor:
    try:
        return Cursor.from_json(json.loads(raw))
    except ValueError as error:
        raise UsageError(f"--resume: not a cursor printed by a stopped sweep ({error})") from None


def _table_key(entry: SweepEntry) -> str:
    if entry.status == "planned":
        return "would update" if entry.replaces else "would create"
    return entry.status


def _summary_counts(report: SweepReport, *, dry_run: bool) -> tuple[list[str], list[list[object]], list[object]]:
    """(header, one row per repository, totals) of the summary table."""
    columns = ["would create", "would update"] if dry_run else ["created", "updated"]
    columns += ["unchanged", "waiting", "rejected"]
    if any(entry.status == "failed" for entry in report.entries):
        columns.append("failed")
    counts: dict[str, dict[str, int]] = {name: dict.fromkeys(columns, 0) for name in report.repositories}
    for entry in report.entries:
        counts.setdefault(entry.repository, dict.fromkeys(columns, 0))[_table_key(entry)] += 1
    rows: list[list[object]] = [[name, *(row[column] for column in columns)] for name, row in counts.items()]
    totals: list[object] = ["total", *(sum(row[column] for row in counts.values()) for column in columns)]
    return ["repository", *columns], rows, totals


def _plain_table(header: list[str], rows: list[list[object]], totals: list[object]) -> list[str]:
    every: list[Sequence[object]] = [header, *rows, totals]
    width = max(len(str(row[0])) for row in every)

    def line(cells: Sequence[object]) -> str:
        return str(cells[0]).ljust(width) + "".join(f"  {cell!s:>12}" for cell in cells[1:])
    rule = "-" * len(line(header))
    return [line(header), rule, *(line(row) for row in rows), rule, line(totals)]


def _summary_details(report: SweepReport, *, dry_run: bool, verbose: bool) -> list[str]:
    """What follows the table: the versions worth naming, then the closing line (or how to resume)."""
    lines: list[str] = []
    shown = {"rejected", "failed"} | ({"created", "updated", "waiting", "planned"} if verbose else set())
    details = [entry for entry in report.entries if entry.status in shown]
    if details:
        lines.append("")
        lines.extend(_entry_line(entry) for entry in details)
    lines.append("")
    if report.cursor is None:
        lines.append(f"{'Planned' if dry_run else 'Swept'} {len(report.repositories)} "
                     f"repositor{'y' if len(report.repositories) == 1 else 'ies'}; {report.writes} "
                     f"index{'' if report.writes == 1 else 'es'} written.")
    else:
        cursor = json.dumps(report.cursor.to_json(), separators=(",", ":"))
        lines.append("Stopped at the time budget; resume with:")
        lines.append(f"  {PROGRAM} reconcile --resume '{cursor}'")
    return lines


def _summary_text(report: SweepReport, *, dry_run: bool, verbose: bool) -> str:
    return "\n".join([*_plain_table(*_summary_counts(report, dry_run=dry_run)),
                      *_summary_details(report, dry_run=dry_run, verbose=verbose)])


def _print_summary(report: SweepReport, *, dry_run: bool, verbose: bool) -> None:
    """On a terminal with rich installed, rich draws the table; elsewhere (pipes, files) the plain text."""
    from . import terminal

    if sys.stdout.isatty() and terminal.available():
        terminal.print_table(sys.stdout, *_summary_counts(report, dry_run=dry_run))
        print("\n".join(_summary_details(report, dry_run=dry_run, verbose=verbose)[1:]))
    else:
        print(_summary_text(report, dry_run=dry_run, verbose=verbose))


def _entry_line(entry: SweepEntry) -> str:
    name = entry.repository if entry.version is None else f"{entry.repository}:{entry.version}"
    if entry.outcome is None:
        return f"{'failed':<10} {name}  {entry.failure}"
    return _outcome_line(entry.outcome).replace(
        f"{entry.outcome.repository}:{entry.outcome.version}" if entry.outcome.version else name, name, 1)


@contextlib.contextmanager
def _progress(wanted: bool) -> Iterator[Callable[[SweepProgress], None] | None]:
    """rich's progress bar on stderr when it is a terminal and rich (the `cli` extra) is installed; else none."""
    from . import terminal

    if not wanted or not sys.stderr.isatty() or not terminal.available():
        yield None
        return
    with terminal.ProgressBar(sys.stderr) as bar:
        yield bar


# --------------------------------------------------------------------------------------------- invoke


@dataclass
class LocalLambdaContext:
    """The context object a handler gets, with a real countdown so the reconcile time budget behaves as in AWS."""

    function_name: str
    timeout_seconds: float
    invoked_function_arn: str = ""
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        # No account in the ARN; the handlers never read one from it (the event's, DescribeRepositories or STS).
        self.invoked_function_arn = self.invoked_function_arn or f"arn:aws:lambda:local::function:{self.function_name}"
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


def _is_reconcile_event(event: Any) -> bool:
    return isinstance(event, dict) and ("reconcile" in event or event.get("detail-type") == "Scheduled Event")


def run_invoke(args: argparse.Namespace) -> int:
    try:
        event = json.loads(Path(args.event).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read the event {args.event}: {error}") from None
    function = args.function
    if function == "auto":
        function = "reconcile" if _is_reconcile_event(event) else "assembler"
    settings = _settings(args)  # the flags checked here, with their own names, before the handler reads them
    if function == "reconcile":
        _check_reconcile_payload(args.event, event)
    needs_aws = function == "reconcile" or not isinstance(classify_event(event, settings.suffixes), Skip)
    watch = CredentialWatch(raise_at_once=False)  # the handler runs as in Lambda; the CLI tells afterwards
    with _function_environment(args, event, needs_aws=needs_aws, watch=watch):
        timeout = args.timeout or (900.0 if function == "reconcile" else 60.0)
        try:
            results = (_invoke_reconcile(event, timeout) if function == "reconcile"
                       else [_invoke_assembler(event, timeout)])
        except FunctionTimedOutError as timed_out:
            print(json.dumps(timed_out.response))  # the invocation's response, as Lambda returns it
            raise
        except Exception:
            if watch.problem:
                raise AwsConfigurationError(watch.problem) from None
            raise
    if watch.problem:
        raise AwsConfigurationError(watch.problem)
    if args.json:
        print(json.dumps(results if len(results) > 1 else results[0], separators=(",", ":")))
    else:
        for result in results:
            print(json.dumps(result))  # as `sam local invoke` prints a response: the runtime's JSON, one line
    statuses: list[str] = []
    for result in results:
        if "error" in result:
            return EXIT_USAGE
        totals = result.get("totals")
        if isinstance(totals, dict):
            statuses += [status for status, count in totals.items() if count]
        else:
            statuses.append(str(result.get("outcome")))
    return _exit_code(statuses)


def _check_reconcile_payload(path: str, event: Any) -> None:
    """A malformed {"reconcile": …} payload is the user's to fix: said here, not logged as the function's ERROR."""
    from .reconcile_handler import ReconcileRequest

    try:
        ReconcileRequest.from_event(event)
    except (CursorError, SettingsError) as error:
        raise UsageError(f"EVENT.json {path}: {error}") from None


@contextlib.contextmanager
def _function_environment(args: argparse.Namespace, event: Any, *, needs_aws: bool,
                          watch: CredentialWatch) -> Iterator[None]:
    """The environment Lambda gives a function, for the length of one invoke: region, settings, credentials.

    Region as for every command, then the event's own (where the push happened, so where the function runs).
    An event the function skips makes no AWS call: it needs neither a region nor credentials.
    """
    event_region = event.get("region") if isinstance(event, dict) and isinstance(event.get("region"), str) else None
    region = (resolve_region(args.region, None, os.environ, None) or profile_region(args.profile) or event_region)
    if region is None and needs_aws:
        raise AwsConfigurationError(f"no AWS region: {REGION_ADVICE}")
    overrides = {"AWS_REGION": region or "us-east-1", "AWS_DEFAULT_REGION": region or "us-east-1"}
    if args.architectures:
        overrides["REQUIRED_ARCHITECTURES"] = args.architectures
    if args.index_format:
        overrides["INDEX_FORMAT"] = args.index_format
    overrides.setdefault("POWERTOOLS_TRACE_DISABLED", os.environ.get("POWERTOOLS_TRACE_DISABLED", "true"))
    with mock.patch.dict(os.environ, overrides), _restored_default_session():
        # The handlers build their clients with boto3's default session: make it this profile's, watched.
        session = open_session(args.profile, overrides["AWS_REGION"], watch=watch)
        if needs_aws:
            require_credentials(session)
            check_reachable(session.client("ecr").meta.endpoint_url, os.environ)  # the handler's, as configured
        import boto3

        boto3.DEFAULT_SESSION = session
        yield


@contextlib.contextmanager
def _handler_output(module: ModuleType) -> Iterator[None]:
    """As `sam local invoke` shows them: the handler's logs and metrics on stderr, leaving stdout to the result."""
    stream_handler = module.logger.registered_handler
    previous = stream_handler.setStream(sys.stderr) if isinstance(stream_handler, logging.StreamHandler) else None
    try:
        with contextlib.redirect_stdout(sys.stderr):  # Powertools prints metrics (EMF) with print()
            yield
    finally:
        if previous is not None:
            stream_handler.setStream(previous)


class FunctionTimedOutError(TransientError):
    """The handler outran --timeout: reported as Lambda reports it; ``response`` is what the invoke returns."""

    def __init__(self, context: LocalLambdaContext) -> None:
        seconds = context.timeout_seconds
        super().__init__(f"{context.function_name} timed out after {seconds:g} s, as Lambda would stop it there "
                         f"(--timeout {seconds:g}); what it did until then stays done; give it longer with --timeout")
        self.response = {"errorType": "Sandbox.Timedout",
                         "errorMessage": f"RequestId: {context.aws_request_id} Error: Task timed out after "
                                         f"{seconds:.2f} seconds"}


# Handlers that outran their timeout and still run (a thread cannot be stopped from outside): the program ends
# without waiting for them, as Lambda ends the sandbox (main).
_abandoned: list[threading.Thread] = []


def _run_handler(handler: Callable[[Any, Any], dict[str, Any]], event: Any,
                 context: LocalLambdaContext) -> dict[str, Any]:
    """One invocation, framed on stderr by the START / END / REPORT lines Lambda (and `sam local invoke`) print,
    in a thread of its own so that the function's timeout ends the invocation whatever the handler is waiting on."""
    request = context.aws_request_id
    print(f"START RequestId: {request} Version: {context.function_version}", file=sys.stderr)
    started = time.monotonic()
    finished: dict[str, Any] = {}

    def invocation() -> None:
        try:
            finished["result"] = handler(event, context)
        except BaseException as error:  # handed to the calling thread, raised there
            finished["error"] = error

    worker = threading.Thread(target=invocation, name=f"invocation-{request}", daemon=True)
    worker.start()
    worker.join(context.timeout_seconds)
    elapsed = (time.monotonic() - started) * 1000
    timed_out = worker.is_alive()
    print(f"END RequestId: {request}", file=sys.stderr)
    print(f"REPORT RequestId: {request}\tDuration: {elapsed:.2f} ms\tMemory Size: {context.memory_limit_in_mb} MB"
          + ("\tStatus: timeout" if timed_out else ""), file=sys.stderr)
    if timed_out:
        _abandoned.append(worker)
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        print(f"{stamp} {request} Task timed out after {context.timeout_seconds:.2f} seconds", file=sys.stderr)
        raise FunctionTimedOutError(context)
    if "error" in finished:
        raise finished["error"]
    result: dict[str, Any] = finished["result"]
    return result


def _invoke_assembler(event: Any, timeout: float) -> dict[str, Any]:
    import boto3

    from . import handler

    # The function's own composition root, from this environment, its clients from the profile's watched session
    # (_function_environment made it boto3's default; the handler builds botocore clients, not boto3's).
    handler.configure(None, session=boto3.DEFAULT_SESSION._session if boto3.DEFAULT_SESSION else None)
    try:
        with _handler_output(handler):
            result: dict[str, Any] = _run_handler(
                handler.lambda_handler, event, LocalLambdaContext("ecr-multiarch-AssemblerFunction", timeout))
    finally:
        handler.configure(None)
    return result


def _invoke_reconcile(event: Any, timeout: float) -> list[dict[str, Any]]:
    from . import reconcile_handler

    reconcile_handler.configure(None)
    continuations: list[dict[str, Any]] = []
    services = reconcile_handler.services()
    # Continuations run here, one after the other, instead of as asynchronous Lambda invocations.
    services.invoke_async = lambda _arn, payload: continuations.append(payload)
    results: list[dict[str, Any]] = []
    try:
        with _handler_output(reconcile_handler):
            pending: list[Any] = [event]
            while pending:
                context = LocalLambdaContext("ecr-multiarch-ReconcileFunction", timeout)
                results.append(_run_handler(reconcile_handler.lambda_handler, pending.pop(0), context))
                pending.extend(continuations)
                continuations.clear()
    finally:
        reconcile_handler.configure(None)
    return results


# --------------------------------------------------------------------------------------------- demo


def _load_devkit(name: str, what: str) -> ModuleType:
    """devkit is development-only (not in the package, not in the layer): found in a source checkout."""
    checkout = Path(__file__).resolve().parents[3]
    module = f"devkit.{name}"
    for attempt in range(2):
        try:
            return importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name not in {"devkit", module}:
                raise UsageError(f"the {what} needs the development extras ({error.name} is missing): "
                                 "run `make venv` (or pip install -e '.[dev]') in a source checkout") from None
            if attempt or not (checkout / "devkit" / f"{name}.py").is_file():
                break
            sys.path.insert(0, str(checkout))
    raise UsageError(f"the {what} lives in devkit/, which only a source checkout has: clone the repository, "
                     f"run `make venv`, then `.venv/bin/ecr-multiarch {name}` there")


def _refuse_unused_options(args: argparse.Namespace, command: str, unused: Sequence[str]) -> None:
    """A common option this command would ignore is a usage error, not silently dropped."""
    given = [f"--{name.replace('_', '-')}" for name in unused if getattr(args, name, None) not in (None, False)]
    if given:
        raise UsageError(f"{command} does not take {', '.join(given)}: it runs its own in-memory ECR, with no AWS "
                         f"profile or region{'' if command == 'demo' else ' and a fixed seed and output'}; "
                         f"e.g. {PROGRAM} {command}")


def run_demo(args: argparse.Namespace) -> int:
    _refuse_unused_options(args, "demo", ("profile", "region"))
    _settings(args)  # --architectures / --index-format checked here first: exit 2 naming the flag
    demo = _load_devkit("demo", "demo")
    argv = ["--verbose"] if args.verbose else []
    if args.architectures is not None:
        argv += ["--architectures", args.architectures]
    if args.index_format is not None:
        argv += ["--index-format", args.index_format]
    if args.json:
        argv.append("--json")
    code: int = demo.main(argv)
    return code


def run_sandbox(args: argparse.Namespace) -> int:
    # The seed and the export lines are fixed; the settings are the client's, given where plan & co. run.
    _refuse_unused_options(args, "sandbox", ("profile", "region", "architectures", "index_format", "json", "verbose"))
    sandbox = _load_devkit("sandbox", "sandbox")
    code: int = sandbox.main([])
    return code


if __name__ == "__main__":
    sys.exit(main())
