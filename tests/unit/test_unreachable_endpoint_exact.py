"""What the CLI says when an endpoint does not answer, exactly, and which exit code it leads to."""

from ecr_multiarch.aws_session import AwsConfigurationError, unreachable_error
from ecr_multiarch.errors import TransientError


def test_the_sandboxs_endpoint_says_to_check_the_sandbox() -> None:
    error = unreachable_error("http://127.0.0.1:38883/", {"AWS_ENDPOINT_URL": "http://127.0.0.1:38883"},
                              "Connection refused")
    assert isinstance(error, AwsConfigurationError)  # exit 2: running it again does not start the sandbox
    assert str(error) == (
        "cannot connect to http://127.0.0.1:38883 (from AWS_ENDPOINT_URL: Connection refused): it points at this "
        "machine, as the sandbox's export lines do: is `make sandbox` still running? Start it again and paste its "
        "new export lines, or `unset AWS_ENDPOINT_URL` to use AWS")


def test_the_variable_named_is_the_one_that_holds_this_endpoint_the_service_specific_first() -> None:
    environ = {"AWS_ENDPOINT_URL": "http://localhost:4566", "AWS_ENDPOINT_URL_ECR": "http://localhost:4566",
               "AWS_ENDPOINT_URL_STS": "http://localhost:9999"}
    assert "(from AWS_ENDPOINT_URL_ECR: " in str(unreachable_error("http://localhost:4566/", environ, "refused"))
    assert "(from AWS_ENDPOINT_URL_STS: " in str(unreachable_error("http://localhost:9999/", environ, "refused"))


def test_another_configured_endpoint_and_a_profiles_endpoint() -> None:
    remote = unreachable_error("https://ecr.internal.example:8443/", {}, "Name or service not known")
    assert isinstance(remote, AwsConfigurationError)
    assert str(remote) == (
        "cannot connect to https://ecr.internal.example:8443 (from the profile's endpoint_url: Name or service not "
        "known): is the service there running? Or remove endpoint_url from the profile to use AWS")


def test_awss_own_endpoint_is_the_networks_problem_transient() -> None:
    error = unreachable_error("https://api.ecr.us-east-1.amazonaws.com/", {}, "Name or service not known")
    assert isinstance(error, TransientError)  # exit 3: run it again when the network is back
    assert str(error) == ("cannot connect to https://api.ecr.us-east-1.amazonaws.com (Name or service not known): "
                          "check the network (or the proxy: HTTPS_PROXY)")
