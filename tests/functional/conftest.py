from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from devkit.fake_ecr import FakeEcr
from devkit.lambda_context import FakeLambdaContext
from ecr_multiarch import handler
from ecr_multiarch.adapters.ecr import BOTOCORE_CONFIG, EcrRegistry
from ecr_multiarch.adapters.http_blobs import HttpBlobReader
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.settings import Settings

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def ecr() -> Iterator[FakeEcr]:
    with FakeEcr() as fake:
        fake.create_repository("golang")
        fake.calls.clear()
        yield fake


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def invoke(ecr: FakeEcr, settings: Settings) -> Iterator[Invoke]:
    """The real handler, wired to the fake ECR through the real boto3 and requests adapters."""
    assembler = Assembler(EcrRegistry(boto3.client("ecr", config=BOTOCORE_CONFIG)), HttpBlobReader(), settings)
    handler.configure(assembler)
    yield lambda event: handler.lambda_handler(event, FakeLambdaContext())  # type: ignore[arg-type]
    handler.configure(None)
