"""aws_session works with every botocore pyproject allows (boto3>=1.35): LoginError is recent botocore."""

import boto3
import pytest
from botocore import exceptions

from ecr_multiarch.aws_session import AwsConfigurationError, CredentialWatch, open_session, require_credentials


def test_missing_credentials_are_a_configuration_error_on_a_botocore_without_login_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(exceptions, "LoginError", raising=False)
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    session = open_session(None, "us-east-1", watch=CredentialWatch())
    assert isinstance(session, boto3.session.Session)
    with pytest.raises(AwsConfigurationError, match="no AWS credentials found"):
        require_credentials(session)
