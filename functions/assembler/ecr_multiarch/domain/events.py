"""Classifying an ECR event: is it an arch tag that arrived (pushed here, or replicated here from another region
or account) that this function must act on, and if not, why not.

Two kinds arrive: "ECR Image Action" (action-type PUSH) for a push into this registry, and "ECR Replication Action"
(action-type REPLICATE) in a replication destination, where the image arrives without any push event. Both carry
repository-name, image-digest, image-tag and result; a replication event adds source-account and source-region.

Everything but action-type, repository-name, result and image-digest is optional in real events; delivery is at
least once. Our own index writes come back as PUSH events too: a tag without a known suffix is skipped here (the
EventBridge rule filters the same way, so this is the second of two guards). An index at an arch-suffixed tag is
not skipped: that is what BuildKit pushes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import media_types
from .digest import Digest, InvalidDigestError
from .json_document import quoted
from .tags import ArchTag, parse_arch_tag

# An AWS account id: twelve digits.
_ACCOUNT = re.compile(r"[0-9]{12}")
# ECR's repository name grammar (2 to 256 characters), so a malformed name is skipped here, not sent to ECR.
_REPOSITORY_NAME = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*")

ECR_SOURCE = "aws.ecr"
IMAGE_ACTION = "ECR Image Action"
REPLICATION_ACTION = "ECR Replication Action"
# The action-type each detail-type must carry for an image that is now here (a DELETE is not one).
ARRIVAL_ACTIONS = {IMAGE_ACTION: "PUSH", REPLICATION_ACTION: "REPLICATE"}


@dataclass(frozen=True, slots=True)
class ArchPush:
    """A successful push of an arch-suffixed tag: the version it belongs to may now be complete."""

    repository: str
    digest: Digest
    arch_tag: ArchTag
    # The registry's account: the event's top-level ``account`` (EventBridge sets it to the account the event
    # happened in, the registry's). None when the event has no well-formed one (a hand-written event).
    account: str | None = None

    @property
    def version(self) -> str:
        return self.arch_tag.version


@dataclass(frozen=True, slots=True)
class Skip:
    """An event this function does not act on, and the reason (logged and returned)."""

    reason: str
    repository: str | None = None
    tag: str | None = None


def _text(detail: Mapping[str, Any], key: str) -> str | None:
    value = detail.get(key)
    return value if isinstance(value, str) and value else None


def classify_event(event: Any, suffixes: Iterable[str]) -> ArchPush | Skip:
    """Never raises: anything unexpected is a Skip with a reason that names what was wrong."""
    if not isinstance(event, Mapping):
        return Skip("event is not a JSON object")
    detail_type = event.get("detail-type")
    if event.get("source") != ECR_SOURCE or not isinstance(detail_type, str) or detail_type not in ARRIVAL_ACTIONS:
        return Skip(f"not an ECR image action or replication action (source={quoted(event.get('source'))}, "
                    f"detail-type={quoted(detail_type)})")
    action = ARRIVAL_ACTIONS[detail_type]
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        return Skip("event has no detail object")
    repository = _text(detail, "repository-name")
    tag = _text(detail, "image-tag")
    if repository is None:
        return Skip("event has no repository-name")
    if not (2 <= len(repository) <= 256 and _REPOSITORY_NAME.fullmatch(repository)):
        return Skip("repository-name is not a valid ECR repository name")
    if detail.get("action-type") != action:
        return Skip(f"action-type is {quoted(detail.get('action-type'))}, not {action}", repository, tag)
    if detail.get("result") != "SUCCESS":
        return Skip(f"result is {quoted(detail.get('result'))}, not SUCCESS", repository, tag)
    if tag is None:
        return Skip("untagged push" if action == "PUSH" else "untagged image replicated", repository)
    manifest_media_type = _text(detail, "manifest-media-type")
    parsed = parse_arch_tag(tag, suffixes)
    if parsed is None:
        if manifest_media_type in media_types.INDEXES:
            # The loop guard: our own index push carries no arch suffix.
            return Skip(f"pushed image is an index ({manifest_media_type}) at a tag without an architecture "
                        "suffix (such as our own index push)", repository, tag)
        return Skip("tag has no configured architecture suffix", repository, tag)
    # An index at an arch tag is an input: `docker buildx build --push` (provenance on by default) pushes every
    # arch tag as an OCI index holding the image and its attestation manifest.
    try:
        digest = Digest(detail.get("image-digest"))  # type: ignore[arg-type]
    except InvalidDigestError:
        return Skip("event has no valid image-digest", repository, tag)
    account = event.get("account")
    return ArchPush(repository=repository, digest=digest, arch_tag=parsed,
                    account=account if isinstance(account, str) and _ACCOUNT.fullmatch(account) else None)
