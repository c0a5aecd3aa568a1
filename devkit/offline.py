"""An AWS configuration that can only reach the in-memory ECR: for the demo and the sandbox's own process.

The shell they run in may hold a real configuration, or the export lines of a running sandbox: an endpoint
(AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_ECR, a profile's endpoint_url or services section), a profile, keys, a config
file. Any of them would send the in-memory ECR's seeding to that place instead (moto intercepts only requests for
AWS's own endpoints). So, for as long as the block lasts, every AWS_* variable is dropped, both config files are
empty and configured endpoints are ignored; FakeEcr then sets its fake keys and, for a server, its own endpoint.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

# What stays set: no file to read, no instance metadata to ask, no endpoint but the one FakeEcr itself sets.
OFFLINE = {
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


@contextmanager
def offline_aws_environment() -> Iterator[None]:
    """No AWS configuration of the caller's applies inside: the environment and boto3's default session are put
    back as they were afterwards (the CLI and tests run the demo in their own process)."""
    saved_session = getattr(sys.modules.get("boto3"), "DEFAULT_SESSION", None)
    with mock.patch.dict(os.environ):
        for name in [name for name in os.environ if name.startswith("AWS_")]:
            del os.environ[name]
        os.environ.update(OFFLINE)
        # A default session built earlier has read the caller's config file (endpoint_url included) already.
        _set_default_session(None)
        try:
            yield
        finally:
            _set_default_session(saved_session)


def _set_default_session(session: object) -> None:
    boto3 = sys.modules.get("boto3")  # not imported yet: its first session will read the environment of its time
    if boto3 is not None:
        setattr(boto3, "DEFAULT_SESSION", session)  # noqa: B010 - a ModuleType from sys.modules
