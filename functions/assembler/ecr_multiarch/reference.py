"""What a user types on the command line, checked the way ECR checks it, before any call is made.

Pure (no I/O). Every error names what was typed (the argument or the flag) and shows a valid example, so a
typo never reaches AWS and never comes back as an error about something the user did not write.

Sources of the grammar: botocore's ECR model (``RepositoryName``: 2-256 characters, the pattern below;
``RegistryId``: 12 digits), Docker's tag grammar as ECR applies it (ASCII letters, digits, ``_``, ``.``, ``-``, not
starting with ``.`` or ``-``, at most 128 characters), and ECR's registry host names
(``<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]``, ``<account>.dkr-ecr.<region>.on.aws``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .domain.digest import Digest, InvalidDigestError

# botocore data/ecr/*/service-2.json, shape RepositoryName.
_REPOSITORY = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*")
REPOSITORY_MIN, REPOSITORY_MAX = 2, 256
# The same characters, plus the sweep's wildcards (* any run, ? one character).
_REPOSITORY_PATTERN = re.compile(r"[a-z0-9._/*?-]+")
# Docker's tag grammar, ASCII only (ECR refuses anything else).
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
TAG_MAX = 128
_REGISTRY_HOST = re.compile(
    r"(?P<account>\d{12})\.(?:dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"|dkr-ecr(?:-fips)?\.(?P<dualstack_region>[a-z0-9-]+)\.on\.aws)"
)
_LOOKS_LIKE_ECR_HOST = re.compile(r"\d+\.dkr[.-]")

REPOSITORY_EXAMPLE = "golang (or team/golang)"
TAG_EXAMPLE = "1.19.2-alpine"
REFERENCE_EXAMPLE = "golang:1.19.2-alpine"


class InvalidReferenceError(ValueError):
    """What the user typed cannot be what ECR accepts; the message says which part and gives a valid example."""


@dataclass(frozen=True, slots=True)
class ImageReference:
    """``[<registry host>/]<repository>(:<tag>|@<digest>)``; the registry's account and region when a host is named."""

    repository: str
    tag: str | None = None
    digest: Digest | None = None
    account: str | None = None
    region: str | None = None


def repository_problem(name: str) -> str | None:
    """Why ECR would refuse ``name`` as a repository name, or None."""
    if not REPOSITORY_MIN <= len(name) <= REPOSITORY_MAX:
        return f"a repository name has {REPOSITORY_MIN} to {REPOSITORY_MAX} characters ({len(name)} given)"
    if not _REPOSITORY.fullmatch(name):
        return ("a repository name is lowercase ASCII letters and digits, separated by '.', '_', '__', '-' or '/' "
                "(no leading, trailing or doubled separator)")
    return None


def tag_problem(tag: str) -> str | None:
    """Why ECR would refuse ``tag`` as an image tag, or None."""
    if not tag:
        return "the tag is empty"
    if len(tag) > TAG_MAX:
        return f"a tag has at most {TAG_MAX} characters ({len(tag)} given)"
    if not tag.isascii():
        return "a tag is ASCII only: letters, digits, '_', '.' and '-'"
    if not _TAG.fullmatch(tag):
        return "a tag is letters, digits, '_', '.' and '-', and does not start with '.' or '-'"
    return None


def check_repository(name: str, *, what: str) -> str:
    problem = repository_problem(name)
    if problem:
        raise InvalidReferenceError(f"{what} {name!r}: {problem}; e.g. {REPOSITORY_EXAMPLE}")
    return name


def check_repository_pattern(pattern: str, *, what: str) -> str:
    """A repository name, or a pattern with ``*`` / ``?`` whose literal parts use a name's characters."""
    if "*" not in pattern and "?" not in pattern:
        return check_repository(pattern, what=what)
    if len(pattern) > REPOSITORY_MAX or not _REPOSITORY_PATTERN.fullmatch(pattern):
        raise InvalidReferenceError(
            f"{what} {pattern!r}: a pattern is lowercase letters, digits, '.', '_', '-', '/' and the wildcards "
            f"'*' and '?' (quote it in the shell); e.g. 'team/*'")
    return pattern


def check_tag(tag: str, *, what: str) -> str:
    problem = tag_problem(tag)
    if problem:
        raise InvalidReferenceError(f"{what} {tag!r}: {problem}; e.g. {TAG_EXAMPLE}")
    return tag


def parse_reference(text: str, *, what: str) -> ImageReference:
    """``golang:1.0``, ``team/golang@sha256:…`` or ``123456789012.dkr.ecr.us-east-1.amazonaws.com/golang:1.0``.

    Exactly one of ``:tag`` and ``@digest``; the host, when given, must be an ECR registry's.
    """
    account = region = None
    first, slash, rest = text.partition("/")
    # Docker reads a first part with a '.' as a host; ECR names may hold dots (my.team/app), so only what looks
    # like an AWS host, a host:port or localhost is taken for one.
    if slash and (first.endswith((".amazonaws.com", ".amazonaws.com.cn", ".on.aws")) or ":" in first
                  or first == "localhost" or _LOOKS_LIKE_ECR_HOST.match(first)):
        host = _REGISTRY_HOST.fullmatch(first)
        if host is None:
            raise InvalidReferenceError(
                f"{what} {text!r}: {first!r} is not an ECR registry host; use <account>.dkr.ecr.<region>."
                f"amazonaws.com/{REFERENCE_EXAMPLE}, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/"
                f"{REFERENCE_EXAMPLE}, or just {REFERENCE_EXAMPLE}")
        account, region = host["account"], host["region"] or host["dualstack_region"]
        text_after_host = rest
    else:
        text_after_host = text
    name, at, digest_text = text_after_host.partition("@")
    digest = None
    if at:
        try:
            digest = Digest(digest_text)
        except InvalidDigestError:
            raise InvalidReferenceError(
                f"{what} {text!r}: {digest_text!r} is not a digest; a digest is sha256: and 64 lowercase hex "
                f"digits, e.g. golang@sha256:{'0' * 64}") from None
    repository, colon, tag = name.partition(":")
    if ":" in tag or (colon and at):
        raise InvalidReferenceError(
            f"{what} {text!r}: a reference has exactly one ':' (before the tag) or one '@' (before the digest); "
            f"e.g. {REFERENCE_EXAMPLE}")
    if not colon and not at:
        raise InvalidReferenceError(f"{what} {text!r}: no tag; give REPOSITORY:TAG, e.g. {REFERENCE_EXAMPLE}")
    check_repository(repository, what=f"{what} {text!r}: repository")
    if colon:
        check_tag(tag, what=f"{what} {text!r}: tag")
    return ImageReference(repository, tag if colon else None, digest, account, region)
