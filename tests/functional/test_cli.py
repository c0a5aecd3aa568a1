"""``ecr-multiarch`` driven in-process (``cli.main``) against the fake ECR: output, JSON, exit codes, ECR state."""

import hashlib
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from devkit.fake_ecr import FakeEcr
from devkit.images import ImageBlobs, make_image
from ecr_multiarch import cli
from ecr_multiarch.domain import media_types
from ecr_multiarch.reconcile import STATUSES
from tests.conftest import EVENTS, load_event

AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")
MISLABELLED = make_image("amd64", revision="mislabelled")


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Any:
    def invoke(*argv: str) -> Run:
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return invoke


def push_version(ecr: FakeEcr, version: str, amd64: ImageBlobs = AMD64, arm64: ImageBlobs = ARM64,
                 repository: str = "golang") -> None:
    ecr.push(repository, f"{version}-amd64", amd64)
    ecr.push(repository, f"{version}-arm64", arm64)


def expected_index(amd64: ImageBlobs = AMD64, arm64: ImageBlobs = ARM64) -> bytes:
    """The Docker manifest list written out by hand, independently of the code under test."""
    return ('{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",'
            f'"manifests":[{{"mediaType":"{amd64.media_type}","size":{len(amd64.manifest)},"digest":"{amd64.digest}",'
            '"platform":{"architecture":"amd64","os":"linux"}},'
            f'{{"mediaType":"{arm64.media_type}","size":{len(arm64.manifest)},"digest":"{arm64.digest}",'
            '"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}').encode()


# --------------------------------------------------------------------------------------------- plan


def test_plan_prints_the_exact_index_its_digest_and_the_decision_and_writes_nothing(ecr: FakeEcr, run: Any) -> None:
    push_version(ecr, "1.0")
    ecr.calls.clear()
    result = run("plan", "golang:1.0")
    expected = expected_index()
    digest = "sha256:" + hashlib.sha256(expected).hexdigest()
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "golang:1.0: would create the index (the tag does not exist yet); nothing written"
    assert f"  digest      {digest}" in lines
    assert any(re.fullmatch(rf"  linux/arm64/v8\s+{ARM64.digest}  golang:1\.0-arm64", line) for line in lines)
    assert lines[-1].encode() == expected  # the bytes that would be written, exactly
    assert ecr.image_at("golang", "1.0") is None
    assert "put_image" not in ecr.operations()
    assert ecr.operations().count("batch_get_image") == 1  # the plan costs what an assembly's first read costs


def test_plan_json_shape(ecr: FakeEcr, run: Any) -> None:
    push_version(ecr, "1.0")
    document = run("plan", "golang:1.0", "--json").json()
    expected = expected_index()
    assert document == {
        "outcome": "planned",
        "repository": "golang",
        "version": "1.0",
        "digest": "sha256:" + hashlib.sha256(expected).hexdigest(),
        "reason": "DRY_RUN: would create the index",
        "mediaType": media_types.DOCKER_MANIFEST_LIST,
        "decision": "create",
        "index": json.loads(expected),
        "manifest": expected.decode(),
        "children": {AMD64.digest: "1.0-amd64", ARM64.digest: "1.0-arm64"},
    }


def test_plan_decisions_update_unchanged_waiting_rejected(ecr: FakeEcr, run: Any) -> None:
    push_version(ecr, "1.0")
    assert run("assemble", "golang:1.0").code == 0
    assert run("plan", "golang:1.0", "--json").json()["decision"] == "unchanged"
    ecr.push("golang", "1.0-arm64", make_image("arm64", variant="v8", revision="2"))
    assert run("plan", "golang:1.0", "--json").json()["decision"] == "update"

    ecr.push("golang", "2.0-amd64", AMD64)
    waiting = run("plan", "golang:2.0")
    assert waiting.code == 0 and waiting.out.strip() == "golang:2.0: waiting for 2.0-arm64; nothing to write"

    push_version(ecr, "3.0", arm64=MISLABELLED)
    rejected = run("plan", "golang:3.0", "--json")
    assert rejected.code == 1
    assert rejected.json()["decision"] == "rejected" and "mislabelled" in rejected.json()["reason"]


def test_plan_of_an_arch_tag_or_a_full_uri_means_its_version(ecr: FakeEcr, run: Any) -> None:
    push_version(ecr, "1.0")
    by_arch_tag = run("plan", "golang:1.0-arm64", "--json")
    assert by_arch_tag.json()["version"] == "1.0"
    assert "is the arm64 tag of 1.0" in by_arch_tag.err
    by_uri = run("plan", "123456789012.dkr.ecr.us-east-1.amazonaws.com/golang:1.0", "--json")
    assert by_uri.json()["repository"] == "golang" and by_uri.json()["version"] == "1.0"


def test_plan_of_a_missing_repository_is_rejected(ecr: FakeEcr, run: Any) -> None:
    result = run("plan", "nope:1.0")
    assert result.code == 1 and "does not exist" in result.out


def test_plan_of_a_version_with_no_tag_at_all_is_an_error_naming_the_nearest_versions(ecr: FakeEcr, run: Any) -> None:
    push_version(ecr, "1.19.2-alpine")
    ecr.push("golang", "1.20-alpine-amd64", AMD64)
    ecr.calls.clear()
    result = run("plan", "golang:9.9.9-alpine")
    assert result.code == 1  # as a missing repository: a typo fails the CI job instead of waiting forever
    assert result.out == (
        "golang:9.9.9-alpine: no such version: none of its tags (9.9.9-alpine-amd64, 9.9.9-alpine-arm64, "
        "9.9.9-alpine) exists in golang; nearest versions there: 1.19.2-alpine, 1.20-alpine\n")
    assert ecr.operations() == ["batch_get_image", "list_tags_for_resource", "list_images"]  # listed only now
    document = run("plan", "golang:1.19.3-alpine", "--json").json()
    assert (document["outcome"], document["decision"], document["nearby"]) == (
        "rejected", "absent", ["1.19.2-alpine", "1.20-alpine"])
    assert "missing" not in document and "incomplete" not in document

    waiting = run("plan", "golang:1.20-alpine", "--json")  # one arch tag exists: the version does, it waits
    assert waiting.code == 0 and waiting.json()["decision"] == "waiting"
    assert "nearby" not in waiting.json()


def test_assemble_of_a_version_with_no_tag_at_all_writes_nothing_and_exits_1(ecr: FakeEcr, run: Any) -> None:
    push_version(ecr, "1.0")
    ecr.calls.clear()
    result = run("assemble", "golang:1.1")
    assert result.code == 1
    assert result.out == ("rejected   golang:1.1  no such version: none of its tags (1.1-amd64, 1.1-arm64, 1.1) "
                          "exists in golang; nearest versions there: 1.0\n")
    assert run("assemble", "golang:1.1", "--json").json()["nearby"] == ["1.0"]
    assert "put_image" not in ecr.operations()


def test_a_version_tag_alone_is_a_version_that_waits(ecr: FakeEcr, run: Any) -> None:
    ecr.push("golang", "1.0", AMD64)  # a plain single-arch push at the version tag: not a typo
    assert run("plan", "golang:1.0", "--json").json()["decision"] == "waiting"


def test_a_repository_with_its_own_architectures_is_judged_by_them(ecr: FakeEcr, run: Any) -> None:
    ecr.client.tag_resource(resourceArn="arn:aws:ecr:us-east-1:123456789012:repository/golang",
                            tags=[{"Key": "ecr-multiarch:architectures", "Value": "armv7"}])
    ecr.push("golang", "1.0-amd64", AMD64)  # of no concern to this repository
    ecr.push("golang", "2.0-armv7", make_image("arm", variant="v7"))
    # The first read asks for the function's arch tags (2.0-amd64, 2.0-arm64): none exists, yet 2.0 does.
    assert run("plan", "golang:2.0", "--json").json()["decision"] == "create"
    absent = run("plan", "golang:1.0", "--json").json()  # only an arch tag the repository does not require
    assert absent["decision"] == "absent" and absent["reason"].startswith(
        "no such version: none of its tags (1.0-armv7, 1.0) exists in golang")


def test_a_version_in_an_empty_repository_says_so(ecr: FakeEcr, run: Any) -> None:
    result = run("plan", "golang:1.0")
    assert result.code == 1
    assert result.out.endswith("exists in golang; the repository holds no tags\n")


@pytest.mark.parametrize("refusal", ["permanent", "access denied"])
def test_no_version_and_no_permission_to_list_still_fails_saying_why_nothing_is_named(
    ecr: FakeEcr, run: Any, monkeypatch: pytest.MonkeyPatch, refusal: str
) -> None:
    from ecr_multiarch.aws_session import AwsConfigurationError
    from ecr_multiarch.errors import PermanentError

    error = PermanentError if refusal == "permanent" else AwsConfigurationError  # the latter: the credential watch's

    def refused(*_args: Any) -> Any:
        raise error("ListImages on golang: AccessDeniedException: not authorized")

    monkeypatch.setattr("ecr_multiarch.adapters.ecr.EcrRegistry.list_tags", refused)
    result = run("plan", "golang:1.0")
    assert result.code == 1
    assert result.out.endswith("exists in golang; its other versions could not be listed (ListImages on golang: "
                               "AccessDeniedException: not authorized)\n")


# --------------------------------------------------------------------------------------------- assemble


def test_assemble_writes_the_index_then_finds_it_unchanged(ecr: FakeEcr, run: Any) -> None:
    push_version(ecr, "1.0")
    created = run("assemble", "golang:1.0", "--json")
    expected = expected_index()
    assert created.code == 0
    assert created.json() == {"outcome": "created", "repository": "golang", "version": "1.0",
                              "digest": "sha256:" + hashlib.sha256(expected).hexdigest(),
                              "mediaType": media_types.DOCKER_MANIFEST_LIST}
    stored = ecr.image_at("golang", "1.0")
    assert stored is not None and stored.manifest == expected
    again = run("assemble", "golang:1.0")
    assert again.code == 0 and again.out.startswith("unchanged  golang:1.0  sha256:")


def test_assemble_respects_dry_run_and_index_format(ecr: FakeEcr, run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    push_version(ecr, "1.0")
    monkeypatch.setenv("DRY_RUN", "true")
    assert run("assemble", "golang:1.0", "--json").json()["outcome"] == "planned"
    assert ecr.image_at("golang", "1.0") is None
    monkeypatch.setenv("DRY_RUN", "false")
    assert run("--index-format", "oci", "assemble", "golang:1.0").code == 0
    stored = ecr.image_at("golang", "1.0")
    assert stored is not None and stored.media_type == media_types.OCI_INDEX


def test_assemble_rejected_and_waiting_exit_codes(ecr: FakeEcr, run: Any) -> None:
    push_version(ecr, "1.0", arm64=MISLABELLED)
    rejected = run("assemble", "golang:1.0")
    assert rejected.code == 1 and rejected.out.startswith("rejected   golang:1.0  golang:1.0-arm64 is labelled arm64")
    ecr.push("golang", "2.0-amd64", AMD64)
    waiting = run("assemble", "golang:2.0")
    assert waiting.code == 0 and waiting.out.strip() == "waiting    golang:2.0  missing 2.0-arm64"


# --------------------------------------------------------------------------------------------- reconcile


@pytest.fixture
def mixed(ecr: FakeEcr, run: Any) -> FakeEcr:
    """1.0 to create, 1.1 waiting, 1.2 current, 1.3 stale, 1.4 mislabelled; python: 3.12 to create."""
    for version in ("1.0", "1.2", "1.3"):
        push_version(ecr, version)
    ecr.push("golang", "1.1-amd64", AMD64)
    push_version(ecr, "1.4", arm64=MISLABELLED)
    assert run("assemble", "golang:1.2").code == 0 and run("assemble", "golang:1.3").code == 0
    ecr.push("golang", "1.3-arm64", make_image("arm64", variant="v8", revision="2"))
    ecr.create_repository("python")
    push_version(ecr, "3.12", repository="python")
    ecr.calls.clear()
    return ecr


def test_reconcile_prints_a_summary_table_and_exits_1_when_something_is_rejected(mixed: FakeEcr, run: Any) -> None:
    result = run("reconcile", "golang", "python")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].split() == ["repository", "created", "updated", "unchanged", "waiting", "rejected"]
    table = [line.split() for line in lines[2:] if re.fullmatch(r"[\w/.-]+(\s+\d+)+", line)]
    rows = {cells[0]: [int(n) for n in cells[1:]] for cells in table}
    assert rows == {"golang": [1, 1, 1, 1, 1], "python": [1, 0, 0, 0, 0], "total": [2, 1, 1, 1, 1]}
    assert any(line.startswith("rejected   golang:1.4  golang:1.4-arm64 is labelled arm64") for line in lines)
    assert lines[-1] == "Swept 2 repositories; 3 indexes written."
    assert result.err == ""  # not a terminal: no progress bar
    assert [c.params["imageTag"] for c in mixed.calls if c.operation == "put_image"] == ["1.0", "1.3", "3.12"]


def test_reconcile_json_shape_and_a_second_run_writes_nothing(mixed: FakeEcr, run: Any) -> None:
    document = run("reconcile", "golang", "--json").json()
    assert set(document) == {"complete", "repositories", "totals", "writes", "cursor", "versions", "dryRun",
                             "incomplete"}
    assert document["incomplete"] == []  # 1.1 waits, but was pushed moments ago
    assert document["complete"] is True and document["cursor"] is None and document["dryRun"] is False
    assert document["repositories"] == ["golang"]
    assert document["totals"] == {**dict.fromkeys(STATUSES, 0), "created": 1, "updated": 1, "unchanged": 1,
                                  "waiting": 1, "rejected": 1}
    assert [(v["version"], v["outcome"]) for v in document["versions"]] == [
        ("1.0", "created"), ("1.1", "waiting"), ("1.2", "unchanged"), ("1.3", "updated"), ("1.4", "rejected")]
    assert document["versions"][1]["missing"] == ["1.1-arm64"]

    mixed.calls.clear()
    second = run("reconcile", "golang", "--json")
    assert second.code == 1  # 1.4 is still mislabelled
    assert second.json()["writes"] == 0 and "put_image" not in mixed.operations()


def test_reconcile_dry_run_plans_and_writes_nothing(mixed: FakeEcr, run: Any) -> None:
    result = run("reconcile", "golang", "--dry-run")
    header = result.out.splitlines()[0]
    assert re.split(r"\s{2,}", header) == ["repository", "would create", "would update", "unchanged", "waiting",
                                           "rejected"]
    assert "golang" in result.out and result.out.splitlines()[-1] == "Planned 1 repository; 0 indexes written."
    assert "put_image" not in mixed.operations()
    document = run("reconcile", "golang", "--dry-run", "--json").json()
    assert document["dryRun"] is True and document["totals"]["planned"] == 2
    assert {v["version"]: v.get("action") for v in document["versions"]}["1.3"] == "update"


def test_reconcile_defaults_to_the_function_setting_and_expands_patterns(
    mixed: FakeEcr, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILE_REPOSITORIES", "pyth*")
    assert run("reconcile", "--json").json()["repositories"] == ["python"]
    monkeypatch.delenv("RECONCILE_REPOSITORIES")
    assert run("reconcile", "--json", "--dry-run").json()["repositories"] == ["golang", "python"]  # default: all


def test_reconcile_all_good_exits_0(ecr: FakeEcr, run: Any) -> None:
    push_version(ecr, "1.0")
    ecr.push("golang", "1.1-amd64", AMD64)  # waiting is not an error
    assert run("reconcile", "golang").code == 0


def test_reconcile_time_budget_prints_a_resume_command_that_finishes(
    ecr: FakeEcr, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for version in ("1.0", "1.1", "1.2"):
        push_version(ecr, version)
    ticks = iter(range(1000))
    monkeypatch.setattr(cli, "clock", lambda: float(next(ticks)))  # every look at the clock: one second later
    stopped = run("reconcile", "golang", "--time-budget", "3")
    assert stopped.code == 0
    resume = stopped.out.splitlines()[-1].strip()
    assert resume.startswith("ecr-multiarch reconcile --resume '")
    cursor = resume.split("'")[1]
    assert json.loads(cursor)["repositories"] == ["golang"]
    monkeypatch.setattr(cli, "clock", lambda: 0.0)
    finished = run("reconcile", "--resume", cursor, "--json").json()
    assert finished["complete"] is True
    done = [v["version"] for v in finished["versions"]]
    assert done and done[0] != "1.0"
    for version in ("1.0", "1.1", "1.2"):
        assert ecr.image_at("golang", version) is not None


def test_reconcile_draws_a_progress_bar_only_on_a_terminal(ecr: FakeEcr, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    for version in ("1.0", "1.1"):
        push_version(ecr, version)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli.main(["reconcile", "golang", "--json"]) == 0
    json.loads(capsys.readouterr().out)  # stdout stays pure JSON
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue())  # rich's colours and cursor moves
    assert re.search(r"golang .*━+.* 2/2 versions", drawn), drawn
    assert drawn.endswith("\n")

    terminal.truncate(0)
    assert cli.main(["reconcile", "golang", "--no-progress"]) == 0
    assert terminal.getvalue().strip("\x00") == ""


def test_reconcile_bad_arguments_exit_2(ecr: FakeEcr, run: Any) -> None:
    assert run("reconcile", "Golang").code == 2
    bad_resume = run("reconcile", "--resume", "{nope")
    assert bad_resume.code == 2 and "--resume" in bad_resume.err


# --------------------------------------------------------------------------------------------- invoke


def test_invoke_runs_the_assembler_handler_on_an_event_file(ecr: FakeEcr, run: Any, tmp_path: Path) -> None:
    push_version(ecr, "1.19.2-alpine")
    event = load_event("push-arm64.json", image_digest=ARM64.digest)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    result = run("invoke", str(path))
    assert result.code == 0, result.out
    assert json.loads(result.out)["outcome"] == "created"  # stdout: the handler's result only
    logs = [json.loads(line) for line in result.err.splitlines() if line.startswith("{")]
    assert any(log.get("message") == "outcome: created" for log in logs)  # structured logs, as in CloudWatch
    assert ecr.image_at("golang", "1.19.2-alpine") is not None


def test_invoke_skips_what_the_function_skips(ecr: FakeEcr, run: Any) -> None:
    result = run("invoke", str(EVENTS / "delete-amd64.json"), "--json")
    assert result.code == 0 and result.json()["outcome"] == "skipped"


def test_invoke_a_scheduled_event_runs_the_sweep_and_its_continuations(
    ecr: FakeEcr, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for version in ("1.0", "1.1", "1.2"):
        push_version(ecr, version)
    push_version(ecr, "1.3", arm64=MISLABELLED)
    monkeypatch.setenv("RECONCILE_REPOSITORIES", "golang")
    result = run("invoke", str(EVENTS / "schedule" / "scheduled-event.json"), "--json")
    assert result.code == 1  # 1.3 is rejected
    summary = result.json()
    assert summary["complete"] is True and summary["totals"]["created"] == 3 and summary["totals"]["rejected"] == 1

    # The first invocation finds no time left: it hands its cursor on, and the continuation runs here, next.
    remaining = iter([0, 900_000])
    monkeypatch.setattr(cli.LocalLambdaContext, "get_remaining_time_in_millis", lambda _self: next(remaining))
    results = run("invoke", str(EVENTS / "schedule" / "scheduled-event.json"), "--json").json()
    assert [(r["continuation"], r["complete"], r.get("continued")) for r in results] == [(0, False, True),
                                                                                         (1, True, None)]
    assert results[1]["totals"]["unchanged"] == 3 and results[1]["totals"]["rejected"] == 1


def test_invoke_an_unreadable_event_exits_2(ecr: FakeEcr, run: Any, tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{")
    assert run("invoke", str(tmp_path / "bad.json")).code == 2
    assert run("invoke", str(tmp_path / "missing.json")).code == 2


# --------------------------------------------------------------------------------------------- demo, help, config


def test_demo_delegates_to_the_devkit_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr("devkit.demo.main", lambda argv: calls.append(argv) or 0)
    assert cli.main(["demo"]) == 0
    assert cli.main(["demo", "--verbose"]) == 0
    assert calls == [[], ["--verbose"]]


@pytest.mark.parametrize("argv", [["demo", "--region", "eu-west-1"], ["--profile", "dev", "demo"],
                                  ["sandbox", "--json"], ["sandbox", "--architectures", "amd64"],
                                  ["--region", "eu-west-1", "sandbox"], ["sandbox", "--verbose"]])
def test_a_flag_the_command_would_ignore_is_refused(argv: list[str], run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Any] = []
    monkeypatch.setattr("devkit.demo.main", lambda argv: started.append(argv) or 0)
    monkeypatch.setattr("devkit.sandbox.main", lambda argv: started.append(argv) or 0)
    result = run(*argv)
    assert result.code == 2
    flag = next(word for word in argv if word.startswith("--"))
    assert f"does not take {flag}" in result.err and "e.g. ecr-multiarch" in result.err
    assert started == []


def test_demo_without_devkit_says_what_to_do(monkeypatch: pytest.MonkeyPatch, run: Any) -> None:
    def missing(name: str) -> Any:
        raise ModuleNotFoundError(f"No module named {name!r}", name="devkit")

    monkeypatch.setattr(cli.importlib, "import_module", missing)
    monkeypatch.setattr(cli, "__file__", "/nonexistent/site-packages/ecr_multiarch/cli.py")
    result = run("demo")
    assert result.code == 2 and "source checkout" in result.err


@pytest.mark.parametrize("command", ["plan", "assemble", "reconcile", "invoke", "demo", "sandbox"])
def test_every_command_has_complete_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"ecr-multiarch {command}" in out
    for option in ("--profile", "--region", "--json", "--architectures", "--index-format"):
        assert option in out


def test_top_level_help_lists_commands_exit_codes_and_settings(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for text in ("plan", "assemble", "reconcile", "invoke", "demo", "sandbox", "exit codes:", "REQUIRED_ARCHITECTURES",
                 "RECONCILE_REPOSITORIES", "AWS_ENDPOINT_URL"):
        assert text in out


def test_usage_errors_exit_2(ecr: FakeEcr, run: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("plan", "golang").code == 2
    assert run("plan", "golang:not a tag").code == 2
    assert run("--architectures", "amd64,sparc", "plan", "golang:1.0").code == 2
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["frobnicate"])
    assert exit_info.value.code == 2


def test_options_work_before_or_after_the_command(ecr: FakeEcr, run: Any) -> None:
    push_version(ecr, "1.0")
    assert run("--json", "plan", "golang:1.0").json()["decision"] == "create"
    assert run("plan", "golang:1.0", "--json").json()["decision"] == "create"
    assert run("--region", "us-east-1", "plan", "golang:1.0", "--region", "us-east-1").code == 0


def test_standard_aws_configuration(monkeypatch: pytest.MonkeyPatch, run: Any) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    no_region = run("plan", "golang:1.0")
    assert no_region.code == 2 and "no AWS region" in no_region.err
    no_profile = run("--profile", "nope", "plan", "golang:1.0")
    assert no_profile.code == 2 and "nope" in no_profile.err

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    args = cli.build_parser().parse_args(["--region", "eu-west-1", "plan", "golang:1.0"])
    # A registry host names the account: no STS call is needed to build the registry.
    reference = cli.parse_reference("123456789012.dkr.ecr.eu-west-1.amazonaws.com/golang:1.0", what="REF")
    client = cli._ecr(args, reference).client
    assert client.meta.endpoint_url == "http://127.0.0.1:4566" and client.meta.region_name == "eu-west-1"


def test_access_denied_is_a_configuration_error(ecr: FakeEcr, run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    def denied(*_args: Any, **_kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, "BatchGetImage")

    monkeypatch.setattr("ecr_multiarch.adapters.ecr.EcrRegistry.get_manifests", denied)
    result = run("plan", "golang:1.0")
    assert result.code == 2 and "not authorized" in result.err
