import pytest

from ecr_multiarch.domain.index import IndexFormat
from ecr_multiarch.settings import Settings, SettingsError


def test_defaults() -> None:
    assert Settings.from_environment({}) == Settings(("amd64", "arm64"), IndexFormat.AUTO, False)


def test_reads_every_variable() -> None:
    settings = Settings.from_environment(
        {"REQUIRED_ARCHITECTURES": " arm64 , amd64,armv7 ", "INDEX_FORMAT": "OCI", "DRY_RUN": "True"}
    )
    assert settings == Settings(("arm64", "amd64", "armv7"), IndexFormat.OCI, True)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"REQUIRED_ARCHITECTURES": ""}, "is empty"),
        ({"REQUIRED_ARCHITECTURES": "amd64,sparc"}, "unknown suffixes"),
        ({"REQUIRED_ARCHITECTURES": "amd64,amd64"}, "twice"),
        ({"INDEX_FORMAT": "v2"}, "use auto, docker or oci"),
        ({"DRY_RUN": "maybe"}, "use true or false"),
    ],
)
def test_rejects_unusable_values(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_environment(environ)
