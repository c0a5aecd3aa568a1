"""The bounded JSON reader: every hostile shape is a JsonDocumentError naming the bound, never another exception."""

import json
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecr_multiarch.domain.json_document import (
    MAX_CONTAINERS,
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    MAX_VALUES,
    JsonDocumentError,
    nesting_depth,
    parse_json_document,
    quoted,
)

CONFIG = {"architecture": "arm64", "os": "linux", "variant": "v8", "config": {"Env": ["PATH=/bin"]}}


def nested(depth: int) -> bytes:
    """``depth`` levels: objects and arrays alternating, as a real document nests."""
    return (b'{"a":[' * (depth // 2)) + (b"{}" if depth % 2 else b"1") + (b"]}" * (depth // 2))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, f"nests deeper than {MAX_DEPTH} levels"),  # RecursionError in json.loads
        (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, f"nests deeper than {MAX_DEPTH} levels"),
        (nested(MAX_DEPTH + 1), f"nests deeper than {MAX_DEPTH} levels"),
        (b"[[]," * 70 + b"[]" + b"]" * 70, f"nests deeper than {MAX_DEPTH} levels"),  # no run of '[': exact count
        (b"[" * 100_000, f"nests deeper than {MAX_DEPTH} levels"),  # unterminated too; json.loads would recurse
        (b"[{}," * 40 + b"1", "brackets do not pair up"),
        (b'["abc', "brackets do not pair up"),
        (json.dumps(CONFIG).encode("utf-16"), "is not UTF-8 (byte 0 is 0xff)"),  # json.loads(bytes) accepts it
        (b'{"architecture":"arm64","os":"linux","author":"J\xf6rg"}', "is not UTF-8 (byte 48 is 0xf6)"),
        (b"\xef\xbb\xbf" + json.dumps(CONFIG).encode(), "Unexpected UTF-8 BOM"),
        (b"[" + b"{}," * (MAX_CONTAINERS + 1) + b"{}]", f"more than {MAX_CONTAINERS} objects and arrays"),
        (b"[" + b"0," * (MAX_VALUES + 1) + b"0]", f"more than {MAX_VALUES} values"),
        (b'"' + b"a" * MAX_DOCUMENT_BYTES + b'"', f"over the {MAX_DOCUMENT_BYTES}-byte limit"),
        (b"[" + b"9" * 5000 + b"]", "is not valid JSON"),  # Python's 4,300-digit int limit, a ValueError
        (b"{'single': 'quotes'}", "is not valid JSON"),
        (b"", "is not valid JSON"),
    ],
    ids=["deep-arrays", "deep-objects", "one-over", "deep-without-runs", "unterminated-deep", "unterminated",
         "unterminated-string",
         "utf-16", "latin-1", "bom", "containers", "values", "size", "huge-int", "not-json", "empty"],
)
def test_hostile_documents_are_refused_with_the_bound_named(body: bytes, reason: str) -> None:
    with pytest.raises(JsonDocumentError) as refused:
        parse_json_document(body, "config")
    assert str(refused.value).startswith("config ")
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    "body",
    [
        nested(MAX_DEPTH),  # exactly at the bound
        json.dumps({"brackets in strings": "[[[[[[" * 100, "escaped": 'a\\"[{', "slash": "\\"}).encode(),
        json.dumps({"ünïcødé": "日本語", "emoji": "🐳"}, ensure_ascii=False).encode("utf-8"),
        json.dumps(CONFIG, indent=3).encode(),
    ],
    ids=["at-the-depth-bound", "brackets-in-strings", "utf-8", "pretty"],
)
def test_well_formed_documents_parse_as_json_loads_does(body: bytes) -> None:
    assert parse_json_document(body, "config") == json.loads(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=40,
)


@given(value=json_values, indent=st.sampled_from([None, 2]))
def test_any_json_within_bounds_reads_exactly_as_json_loads(value: Any, indent: int | None) -> None:
    body = json.dumps(value, indent=indent, ensure_ascii=False).encode("utf-8")
    assert parse_json_document(body, "document") == json.loads(body)


def reference_depth(brackets: bytes) -> int | None:
    """Depth by walking the brackets one by one: the obvious algorithm, to check the fast one against."""
    depth = deepest = 0
    for byte in brackets:
        depth += 1 if byte == ord("[") else -1
        if depth < 0:
            return None
        deepest = max(deepest, depth)
    return deepest if depth == 0 else None


@given(brackets=st.text(alphabet="[]", max_size=60).map(str.encode), limit=st.integers(0, 12))
def test_nesting_depth_agrees_with_a_walk(brackets: bytes, limit: int) -> None:
    expected = reference_depth(brackets)
    found = nesting_depth(brackets, limit)
    if expected is None:
        # Unbalanced: reported as such, or as too deep when the limit ran out first; never as a valid depth.
        assert found is None or found == limit + 1
    elif expected <= limit:
        assert found == expected
    else:
        assert found == limit + 1


@pytest.mark.parametrize("body", [b'{"architecture": "\\ud800"}', b'{"\\udc00": 1}', b'["\\ud83d"]'])
def test_a_lone_surrogate_is_refused(body: bytes) -> None:
    with pytest.raises(JsonDocumentError, match="lone UTF-16 surrogate"):
        parse_json_document(body, "config")


@pytest.mark.parametrize(("body", "value"), [(b'["\\ud83d\\udc33"]', ["🐳"]), (b'["\\\\ud800"]', ["\\ud800"])])
def test_surrogate_pairs_and_escaped_backslashes_are_fine(body: bytes, value: list[str]) -> None:
    assert parse_json_document(body, "config") == value


def test_quoted_values_are_cut_and_printable() -> None:
    assert quoted("arm64") == "'arm64'"
    long = quoted("x" * 1_000_000)
    assert len(long) == 80 and long.startswith("'xxx") and long.endswith("xxx'")
    assert quoted("\ud800") == "'\\ud800'"


@pytest.mark.parametrize(
    "body",
    [b'"' + b'\\"' * 64_000, b'"' + b'\\"' * 64_000 + b"\\", b'"\\' * 64_000],
    ids=["escaped-quotes", "escaped-quotes-then-backslash", "quote-backslash"],
)
def test_an_unterminated_string_of_escaped_quotes_is_refused_in_linear_time(body: bytes) -> None:
    """A config is any bytes a pusher uploads. When the string scan required a closing quote, every escaped quote
    started a new attempt that scanned to the end: this 128 KB body took 78 s (a 4 MiB one, hours), so the event
    timed out into the dead-letter queue and the sweep died at that version every day. Now it is milliseconds."""
    started = time.perf_counter()
    with pytest.raises(JsonDocumentError, match="is not valid JSON"):
        parse_json_document(body, "config")
    assert time.perf_counter() - started < 3.0
