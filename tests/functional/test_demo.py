"""`make demo` is the first thing a new user runs: it must end with a real index over both children."""

import json
import re

import pytest

from devkit import demo


def test_demo_prints_an_index_over_both_children(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main([]) == 0
    out = capsys.readouterr().out
    outcomes = [json.loads(line.split("outcome: ", 1)[1])["outcome"] for line in out.splitlines()
                if line.startswith("  outcome: ")]
    assert outcomes == ["waiting", "created", "unchanged", "skipped", "skipped", "skipped"]
    assert "ECR now holds golang:1.19.2-alpine" in out
    assert re.search(r"linux/amd64\s+-> sha256:[0-9a-f]{64}  \(golang:1\.19\.2-alpine-amd64\)", out)
    assert re.search(r"linux/arm64/v8\s+-> sha256:[0-9a-f]{64}  \(golang:1\.19\.2-alpine-arm64\)", out)
    assert "X-Amz-Signature" not in out
