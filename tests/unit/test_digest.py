import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecr_multiarch.domain.digest import Digest, InvalidDigestError


@given(st.binary())
def test_digest_of_is_sha256_of_the_bytes(data: bytes) -> None:
    digest = Digest.of(data)
    assert str(digest) == "sha256:" + hashlib.sha256(data).hexdigest()
    assert digest.matches(data)
    assert not digest.matches(data + b"x")


@pytest.mark.parametrize(
    "value",
    ["", "sha256:", "sha256:" + "A" * 64, "sha512:" + "a" * 64, "sha256:" + "a" * 63, "a" * 64, None, 7],
)
def test_rejects_what_is_not_a_sha256_digest(value: object) -> None:
    with pytest.raises(InvalidDigestError):
        Digest(value)  # type: ignore[arg-type]
