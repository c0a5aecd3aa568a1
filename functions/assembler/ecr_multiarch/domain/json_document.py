"""The one reader for JSON the registry hands us (manifests, indexes, configs): bounded, so content is never a crash.

Anyone who can push to a repository decides these bytes, and a sha256 match only proves they are the bytes that
were pushed. ``json.loads`` alone turns hostile shapes into exceptions nobody handles: ``[[[[...`` a few thousand
levels deep raises RecursionError (the event is retried and dead-lettered, a sweep aborts there every day), a
UTF-16 document is silently accepted (``json.loads(bytes)`` guesses the encoding), and a few MiB of ``[{},{},…]``
become ~100 MB of Python objects. So, before ``json.loads`` ever sees a document:

- size: at most ``max_bytes`` (the cap the callers already had: ECR's manifest limit, our config cap);
- encoding: strict UTF-8, as RFC 8259 requires of JSON exchanged between systems;
- shape: a pre-scan at C speed (a regex removes the strings, ``bytes.translate`` keeps only brackets) bounds the
  nesting depth and the number of containers and values, and refuses brackets that do not pair up (the parser
  would recurse into those before finding the end);
- strings: no lone surrogate (``"\\ud800"`` is valid JSON syntax but not Unicode: it cannot be encoded again, so a
  reason or a log line quoting it would break the JSON encoder of the logger or of Lambda's response).

Every violation is a ``JsonDocumentError`` (a ``ValueError``) whose message names the document and the bound, so
callers that already turn ``ValueError`` into ``rejected`` need nothing else. No library in the Lambda layer does
this (orjson and pydantic-core cap depth but are compiled dependencies the function does not otherwise need).
"""

from __future__ import annotations

import json
import re
from typing import Any

# ECR stores manifests of up to 4,194,304 characters; a config larger than that is not a config.
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
# Real manifests, indexes and configs nest 5 to 8 levels; 64 leaves room for any tool's metadata and is far below
# the depth at which the parser would recurse out of the stack.
MAX_DEPTH = 64
# Objects and arrays, and values (counted by their separators). A config with a 1,000-entry history and a
# 200-layer manifest use a few thousand of each; these bounds keep a 4 MiB document within a few tens of MB.
MAX_CONTAINERS = 50_000
MAX_VALUES = 200_000

# A JSON string, escapes included (no quote may appear outside strings in valid JSON, so this finds them all). An
# unterminated string runs to the end of the input: every quote the scan meets starts a match that ends at the closing
# quote or at the end, never a failed attempt. (Requiring the closing quote made ``"\"\"\"…`` quadratic: each
# escaped quote started a new attempt that scanned to the end, so a 128 KB config took 78 s, a 4 MiB one hours,
# and the event path and the sweep would time out on it every time.) Such a document is not JSON either way, and
# json.loads stops at the unterminated string, so the brackets after it are never parsed: not counting them is safe.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
# An escaped UTF-16 surrogate; only when one appears are the parsed strings checked (a pair is fine, a lone one not).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_BRACKETS = b"[]{}"
# Map both kinds onto one pair: which kind closes which is json.loads's concern; depth is ours.
_ONE_KIND = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in _BRACKETS)
_NOT_SEPARATORS = bytes(byte for byte in range(256) if byte not in b",:")


def quoted(value: object, limit: int = 80) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters: registry content quoted in a reason or a log line
    must not carry megabytes into it (repr already escapes what cannot be printed)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + "…" + text[-4:]


class JsonDocumentError(ValueError):
    """Bytes from the registry that are not a JSON document within our bounds (the message says which bound)."""


def parse_json_document(
    body: bytes,
    what: str,
    *,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """``body`` parsed as JSON, or JsonDocumentError naming ``what`` and the problem. Never RecursionError."""
    if len(body) > max_bytes:
        raise JsonDocumentError(f"{what} is {len(body)} bytes, over the {max_bytes}-byte limit")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise JsonDocumentError(f"{what} is not UTF-8 (byte {error.start} is {body[error.start]:#04x})") from None
    _check_shape(body, what, max_depth)
    try:
        document = json.loads(text)
    except RecursionError:  # unreachable after the depth check; kept so a parser change cannot bring the crash back
        raise JsonDocumentError(f"{what} nests too deeply to parse") from None
    except ValueError as error:
        raise JsonDocumentError(f"{what} is not valid JSON: {error}") from None
    if _SURROGATE_ESCAPE.search(body) and not _all_unicode(document):
        raise JsonDocumentError(f"{what} holds a string with a lone UTF-16 surrogate (not Unicode text)")
    return document


def _all_unicode(value: Any) -> bool:
    """Whether every string in ``value`` (keys too) can be encoded; recursion is bounded by the depth check."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_all_unicode(key) and _all_unicode(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_all_unicode(item) for item in value)
    return True


def _check_shape(body: bytes, what: str, max_depth: int) -> None:
    outside_strings = _STRING.sub(b"", body)
    brackets = outside_strings.translate(_ONE_KIND, _NOT_BRACKETS)
    too_deep = JsonDocumentError(f"{what} nests deeper than {max_depth} levels")
    if b"[" * (max_depth + 1) in brackets:  # the usual deep shape, found in one scan whatever the size
        raise too_deep
    if len(brackets) // 2 > MAX_CONTAINERS:
        raise JsonDocumentError(f"{what} has more than {MAX_CONTAINERS} objects and arrays")
    if len(outside_strings.translate(None, _NOT_SEPARATORS)) > MAX_VALUES:
        raise JsonDocumentError(f"{what} has more than {MAX_VALUES} values")
    # Exact depth, on at most 2 * MAX_CONTAINERS brackets now: at most max_depth + 1 passes over 100 KB.
    depth = nesting_depth(brackets, max_depth)
    if depth is None:
        raise JsonDocumentError(f"{what} is not valid JSON: its brackets do not pair up")
    if depth > max_depth:
        raise too_deep


def nesting_depth(brackets: bytes, limit: int) -> int | None:
    """The nesting depth of a string of ``[`` and ``]`` when it is at most ``limit``, ``limit + 1`` when deeper,
    None when the brackets do not pair up.

    Each pass deletes the innermost pairs (``[]``), so a balanced string of depth d is empty after exactly d passes;
    a pass is one ``bytes.replace`` (C speed), and there are at most ``limit`` + 1 of them.
    """
    for depth in range(limit + 1):
        if not brackets:
            return depth
        if b"[]" not in brackets:
            return None  # something left, but no innermost pair: unbalanced
        brackets = brackets.replace(b"[]", b"")
    return limit + 1
