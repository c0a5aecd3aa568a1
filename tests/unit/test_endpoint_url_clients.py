"""ECR_MULTIARCH_ENDPOINT_URL reaches every AWS client the functions build (ECR, STS, EventBridge, Lambda), and an
empty one (the template's value) leaves each at AWS. `sam local invoke --env-vars` points the functions at a local
stand-in with it (docs/sam-local.md); tests/packaging/test_runtime_emulator.py runs that for real."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from ecr_multiarch import handler, notify, reconcile_handler

ENDPOINT = "http://127.0.0.1:5000"


class Recorded:
    """Every boto3.client call: service name and endpoint; the client answers invoke() for the self-invocation."""

    def __init__(self) -> None:
        self.made: list[tuple[str, str | None]] = []
        self._real = boto3.client

    def __call__(self, service: str, **kwargs: Any) -> Any:
        self.made.append((service, kwargs.get("endpoint_url")))
        client = self._real(service, **kwargs)
        if service == "lambda":
            client.invoke = lambda **_: {"StatusCode": 202}
        return client


@pytest.fixture
def fresh_roots(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorded]:
    recorded = Recorded()
    monkeypatch.setattr(boto3, "client", recorded)
    for module in (handler, reconcile_handler, notify):
        module.configure(None)
    yield recorded
    for module in (handler, reconcile_handler, notify):
        module.configure(None)


@pytest.mark.parametrize("value", [ENDPOINT, ""], ids=["set", "empty"])
def test_every_client_of_the_sweep_goes_to_the_endpoint(
    fresh_roots: Recorded, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("ECR_MULTIARCH_ENDPOINT_URL", value)
    services = reconcile_handler.services()
    services.invoke_async("arn:aws:lambda:us-east-1:123456789012:function:reconcile", {"reconcile": {}})
    assert services.events_client is not None
    events = services.events_client()

    assert fresh_roots.made == [("ecr", value or None), ("lambda", value or None), ("events", value or None)]
    assert events.meta.endpoint_url == (value or "https://events.us-east-1.amazonaws.com")


@pytest.mark.parametrize("value", [ENDPOINT, ""], ids=["set", "empty"])
def test_every_client_of_the_event_path_goes_to_the_endpoint(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ECR_MULTIARCH_ENDPOINT_URL", value)
    handler.configure(None)
    try:
        assert handler.aws_client("ecr").meta.endpoint_url == (value or "https://api.ecr.us-east-1.amazonaws.com")
        assert handler.events_client().meta.endpoint_url == (value or "https://events.us-east-1.amazonaws.com")
        registry = handler.services()._registry  # the STS fallback of the registry adapter
        assert registry._endpoint_url == (value or None)  # type: ignore[attr-defined]
    finally:
        handler.configure(None)
