"""The CLI's input grammar, table-tested: what ECR accepts passes, everything else names the part that is wrong."""

import re

import pytest

from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.reference import (
    ImageReference,
    InvalidReferenceError,
    check_repository_pattern,
    check_tag,
    parse_reference,
)

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(("text", "expected"), [
    ("golang:1.0", ImageReference("golang", "1.0")),
    ("team/golang:1.19.2-alpine-arm64", ImageReference("team/golang", "1.19.2-alpine-arm64")),
    ("a.b_c__d--e/f:V_1", ImageReference("a.b_c__d--e/f", "V_1")),
    ("docker-hub/library/golang:1.0", ImageReference("docker-hub/library/golang", "1.0")),
    ("go:" + "x" * 128, ImageReference("go", "x" * 128)),
    (f"golang@{DIGEST}", ImageReference("golang", None, Digest(DIGEST))),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com/golang:1.0",
     ImageReference("golang", "1.0", None, "123456789012", "us-east-1")),
    ("210987654321.dkr.ecr-fips.us-gov-west-1.amazonaws.com/team/go:1",
     ImageReference("team/go", "1", None, "210987654321", "us-gov-west-1")),
    ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/golang:1.0",
     ImageReference("golang", "1.0", None, "123456789012", "cn-north-1")),
    ("123456789012.dkr-ecr.eu-west-1.on.aws/golang:1.0",
     ImageReference("golang", "1.0", None, "123456789012", "eu-west-1")),
])
def test_valid_references(text: str, expected: ImageReference) -> None:
    assert parse_reference(text, what="REF") == expected


@pytest.mark.parametrize(("text", "says"), [
    ("Golang:1.0", r"repository 'Golang': a repository name is lowercase"),
    ("gölang:1.0", r"repository 'gölang': a repository name is lowercase"),
    ("g:1.0", r"repository 'g': a repository name has 2 to 256 characters \(1 given\)"),
    ("a" * 257 + ":1.0", r"has 2 to 256 characters \(257 given\)"),
    ("team//go:1.0", r"no leading, trailing or doubled separator"),
    ("-go:1.0", r"repository '-go'"),
    ("golang:1.0:extra", r"exactly one ':'"),
    (f"golang:1.0@{DIGEST}", r"exactly one ':'"),
    ("golang", r"no tag; give REPOSITORY:TAG, e.g. golang:1.19.2-alpine"),
    ("golang:", r"tag '': the tag is empty"),
    ("golang:ünïcødé-arm64", r"tag 'ünïcødé-arm64': a tag is ASCII only"),
    ("golang:" + "x" * 129, r"at most 128 characters \(129 given\)"),
    ("golang:.hidden", r"does not start with '.' or '-'"),
    ("golang:not a tag", r"tag 'not a tag': a tag is letters"),
    ("golang@sha256:abc", r"'sha256:abc' is not a digest"),
    ("localhost:5000/golang:1.0", r"'localhost:5000' is not an ECR registry host"),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.co/golang:1.0", r"is not an ECR registry host"),
    ("12345.dkr.ecr.us-east-1.amazonaws.com/golang:1.0", r"not an ECR registry host"),
])
def test_invalid_references_name_what_was_typed_and_give_an_example(text: str, says: str) -> None:
    with pytest.raises(InvalidReferenceError) as error:
        parse_reference(text, what="REPOSITORY:VERSION")
    message = str(error.value)
    assert message.startswith(f"REPOSITORY:VERSION {text!r}: ")
    assert re.search(says, message), message
    assert "e.g." in message


@pytest.mark.parametrize("tag", ["1.0", "latest", "_x", "A-b.C_d", "9" * 128])
def test_valid_tags(tag: str) -> None:
    assert check_tag(tag, what="tag") == tag


@pytest.mark.parametrize("tag", ["", "-x", ".x", "a b", "a/b", "a:b", "é", "x" * 129, "١٢٣"])
def test_invalid_tags(tag: str) -> None:
    with pytest.raises(InvalidReferenceError, match=r"^--tag "):
        check_tag(tag, what="--tag")


@pytest.mark.parametrize("pattern", ["golang", "team/*", "go?ang", "*"])
def test_valid_repository_patterns(pattern: str) -> None:
    assert check_repository_pattern(pattern, what="REPOSITORY") == pattern


@pytest.mark.parametrize("pattern", ["Golang", "Team/*", "gö*", "a", "te am/*"])
def test_invalid_repository_patterns_name_the_argument(pattern: str) -> None:
    with pytest.raises(InvalidReferenceError, match=rf"^REPOSITORY {re.escape(repr(pattern))}: .*e\.g\. "):
        check_repository_pattern(pattern, what="REPOSITORY")
