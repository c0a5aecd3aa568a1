import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"

# Never reach AWS: fake credentials and a region for every test, whatever the developer's shell holds.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "ecr-multiarch",
        "POWERTOOLS_METRICS_NAMESPACE": "EcrMultiarch",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
)
for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ECR"):
    os.environ.pop(variable, None)


def load_event(name: str, **detail: Any) -> dict[str, Any]:
    """An event from events/, with detail fields replaced (``image_digest=...`` sets ``image-digest``)."""
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    for key, value in detail.items():
        event["detail"][key.replace("_", "-")] = value
    return event


@pytest.fixture
def events_dir() -> Path:
    return EVENTS
