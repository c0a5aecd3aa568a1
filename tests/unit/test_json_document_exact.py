"""The bounded JSON reader (domain/json_document.py): the edges of its cut and of its Unicode check."""

from ecr_multiarch.domain.json_document import parse_json_document, quoted


def test_a_value_whose_repr_is_exactly_the_limit_is_quoted_whole() -> None:
    assert quoted("x" * 78) == "'" + "x" * 78 + "'"  # 80 characters: not cut
    assert quoted("x" * 79) == "'" + "x" * 74 + "…" + "xxx'"  # 81: cut to 75 + … + the last 4


def test_numbers_booleans_and_null_beside_a_surrogate_pair_parse() -> None:
    # A surrogate escape makes every parsed value be checked: values that are not text must pass that check.
    body = b'["\\ud83d\\udc33", 1, null, true, {"a": 2.5}]'
    assert parse_json_document(body, "config") == ["🐳", 1, None, True, {"a": 2.5}]
