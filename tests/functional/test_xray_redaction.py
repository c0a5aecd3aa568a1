"""No presigned URL in X-Ray, on either function: each handler runs with tracing on (as in Lambda, in a process of its
own), every segment document it emits is captured by a local emitter (no daemon), and none may hold a query string
or a signature — including the exception text of a failed blob download, which requests words with the full URL."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUERY_STRING = re.compile(r"\?[A-Za-z0-9_.~%-]+=")


_captured: dict[str, list[dict[str, Any]]] = {}


def captured_documents(function: str, tmp_path: Path) -> list[dict[str, Any]]:
    """The segment documents one traced run of ``function`` emitted (run once per test session)."""
    if function not in _captured:
        _captured[function] = _run_traced(function, tmp_path)
    return _captured[function]


def _run_traced(function: str, tmp_path: Path) -> list[dict[str, Any]]:
    output = tmp_path / f"{function}-segments.json"
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("POWERTOOLS_", "AWS_XRAY"))
    }
    environment["PYTHONPATH"] = os.pathsep.join([str(ROOT / "functions" / "assembler"), str(ROOT)])
    result = subprocess.run(
        [sys.executable, "-m", "tests.functional.xray_capture", function, str(output)],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(document) for document in json.loads(output.read_text(encoding="utf-8"))]


def walk(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [document, *(found for child in document.get("subsegments", []) for found in walk(child))]


@pytest.mark.parametrize("function", ["assembler", "reconcile"])
def test_no_segment_holds_a_presigned_url(function: str, tmp_path: Path) -> None:
    documents = captured_documents(function, tmp_path)
    entities = [entity for document in documents for entity in walk(document)]

    # The run was traced, and traced what matters: the handler, ECR calls through botocore, and a failure.
    names = {entity.get("name") for entity in entities}
    assert "## lambda_handler" in names
    assert "api.ecr" in names, f"botocore is not traced: {sorted(map(str, names))}"
    operations = {entity.get("aws", {}).get("operation") for entity in entities}
    assert "GetDownloadUrlForLayer" in operations  # the call whose answer is the presigned URL

    for document in documents:
        text = json.dumps(document)
        assert "X-Amz-" not in text, f"a signature reached X-Ray: {text[:2000]}"
        assert not QUERY_STRING.search(text), f"a query string reached X-Ray: {text[:2000]}"


@pytest.mark.parametrize("function", ["assembler", "reconcile"])
def test_only_botocore_is_traced(function: str, tmp_path: Path) -> None:
    entities = [entity for document in captured_documents(function, tmp_path) for entity in walk(document)]
    # Outbound calls X-Ray records: only AWS (botocore), never the HTTP download of a blob (requests/httplib).
    remote = [entity["name"] for entity in entities if entity.get("namespace") == "remote"]
    assert remote == [], f"a non-AWS HTTP call was traced: {remote}"
    # The event path takes the registry's account from the event: ECR alone. A sweep of a repository named outright
    # (no pattern, so no DescribeRepositories listing with ARNs) asks STS once for the account of its ARN.
    expected = {"api.ecr"} if function == "assembler" else {"api.ecr", "sts"}
    assert {entity["name"] for entity in entities if entity.get("namespace") == "aws"} == expected
