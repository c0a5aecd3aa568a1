"""The bounded JSON reader (domain/json_document.py): the edges of its cut and of its Unicode check."""

from ecr_multiarch.domain.json_document import MAX_CONTAINERS, MAX_VALUES, parse_json_document, quoted


def test_a_value_whose_repr_is_exactly_the_limit_is_quoted_whole() -> None:
    assert quoted("x" * 78) == "'" + "x" * 78 + "'"  # 80 characters: not cut
    assert quoted("x" * 79) == "'" + "x" * 74 + "…" + "xxx'"  # 81: cut to 75 + … + the last 4


def test_numbers_booleans_and_null_beside_a_surrogate_pair_parse() -> None:
    # A surrogate escape makes every parsed value be checked: values that are not text must pass that check.
    body = b'["\\ud83d\\udc33", 1, null, true, {"a": 2.5}]'
    assert parse_json_document(body, "config") == ["🐳", 1, None, True, {"a": 2.5}]


def test_exactly_the_container_and_value_bounds_are_accepted() -> None:
    containers = b"[" + b",".join([b"[]"] * (MAX_CONTAINERS - 1)) + b"]"  # the outer list and 49,999 inner ones
    assert len(parse_json_document(containers, "index")) == MAX_CONTAINERS - 1
    values = b"[" + b",".join([b"0"] * (MAX_VALUES + 1)) + b"]"  # MAX_VALUES separators
    assert len(parse_json_document(values, "config")) == MAX_VALUES + 1
