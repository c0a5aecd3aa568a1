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


def test_extra_suffixes_extend_the_table_normalised() -> None:
    from ecr_multiarch.domain.platform import ExpectedPlatform

    settings = Settings.from_environment({
        "ARCH_SUFFIXES_EXTRA": "arm=linux/armhf; aarch64=linux/aarch64;win2019=windows/amd64 jetson=linux/arm64/v8",
        "REQUIRED_ARCHITECTURES": "amd64,arm,win2019",
    })
    assert settings.expected_platform("arm") == ExpectedPlatform("linux", "arm", "v7")
    assert settings.expected_platform("aarch64") == ExpectedPlatform("linux", "arm64")
    assert settings.expected_platform("win2019") == ExpectedPlatform("windows", "amd64")
    assert settings.expected_platform("jetson") == ExpectedPlatform("linux", "arm64", "v8")
    assert settings.expected_platform("armv7") == ExpectedPlatform("linux", "arm", "v7")  # defaults stay
    assert settings.required_architectures == ("amd64", "arm", "win2019")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("arm", "is not <suffix>=<os>/<architecture>"),
        ("arm=linux", "is not <suffix>=<os>/<architecture>"),
        ("arm=linux/arm/v7/x", "is not <suffix>=<os>/<architecture>"),
        ("-arm=linux/arm", "is not <suffix>=<os>/<architecture>"),
        ("arm,x=linux/arm", "is not <suffix>=<os>/<architecture>"),
        ("amd64=linux/arm64", "defines 'amd64' again"),
        ("arm=linux/arm/v7;arm=linux/arm/v6", "defines 'arm' again"),
    ],
)
def test_unusable_extra_suffixes(extra: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_environment({"ARCH_SUFFIXES_EXTRA": extra})


def test_two_required_suffixes_for_one_platform_are_refused() -> None:
    with pytest.raises(SettingsError, match="one platform twice"):
        Settings.from_environment({"ARCH_SUFFIXES_EXTRA": "arm=linux/arm/v7", "REQUIRED_ARCHITECTURES": "arm,armv7"})


def test_index_annotations_are_read_as_a_sorted_json_object() -> None:
    settings = Settings.from_environment({"INDEX_ANNOTATIONS": '{"z.b": "2; with = and ,", "a.a": "1"}'})
    assert settings.index_annotations == (("a.a", "1"), ("z.b", "2; with = and ,"))
    assert Settings.from_environment({"INDEX_ANNOTATIONS": " "}).index_annotations == ()


@pytest.mark.parametrize("raw", ["not json", "[]", '{"a": 1}', '{"": "x"}'])
def test_unusable_index_annotations(raw: str) -> None:
    with pytest.raises(SettingsError, match="INDEX_ANNOTATIONS"):
        Settings.from_environment({"INDEX_ANNOTATIONS": raw})


@pytest.mark.parametrize(("raw", "endpoint"), [
    ("", None), ("  ", None), ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
    (" http://host.docker.internal:5000/ ", "http://host.docker.internal:5000"), ("https://ecr.example", "https://ecr.example"),
])
def test_the_endpoint_url_is_empty_for_aws_or_a_scheme_host_and_port(raw: str, endpoint: str | None) -> None:
    assert Settings.from_environment({"ECR_MULTIARCH_ENDPOINT_URL": raw}).endpoint_url == endpoint


@pytest.mark.parametrize("raw", ["127.0.0.1:5000", "ftp://127.0.0.1", "http://", "http://:5000", "http://a:0",
                                 "http://a:65536", "http://a:port", "http://[::1", "http://key:secret@a",
                                 "http://a/ecr", "http://a?x=1", "http://a#top"])
def test_an_endpoint_url_that_is_not_a_scheme_host_and_port_is_refused_naming_the_variable(raw: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_environment({"ECR_MULTIARCH_ENDPOINT_URL": raw})
    assert str(raised.value) == (f"ECR_MULTIARCH_ENDPOINT_URL is {raw!r}; give http(s)://host[:port] (e.g. "
                                 "http://127.0.0.1:5000), or leave it empty for AWS")
