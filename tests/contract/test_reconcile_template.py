"""Contract tests for ReconcileFunction in template.yaml: its handler, settings, schedule and least-privilege policy.

The helpers (CloudFormation short tags, intrinsic evaluation) are test_template's; these tests hold the second
function to the same standard as the first and to what the sweep's code needs.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.contract.test_template import (
    EVENTS_DIR,
    LAMBDA_RUNTIME_ENVIRONMENT,
    ROOT,
    Evaluator,
    as_list,
    load_template,
    parameter_defaults,
)

FUNCTION_ID = "ReconcileFunction"
ASSEMBLER_ID = "AssemblerFunction"
CONTINUE_POLICY_ID = "ReconcileFunctionContinuePolicy"
IMAGE_ACTIONS = {"ecr:ListImages", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:PutImage",
                 "ecr:ListTagsForResource",  # per-repository policy (ecr-multiarch:* tags)
                 "ecr:DescribeImages"}  # push times of waiting versions' arch tags (stuck-version report)
LISTING_ACTIONS = {"ecr:DescribeRepositories"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def function(template: dict[str, Any]) -> dict[str, Any]:
    resource = template["Resources"][FUNCTION_ID]
    assert resource["Type"] == "AWS::Serverless::Function"
    return resource


def prop(template: dict[str, Any], name: str, function_id: str = FUNCTION_ID) -> Any:
    properties = template["Resources"][function_id]["Properties"]
    return properties[name] if name in properties else template["Globals"]["Function"][name]


def environment(template: dict[str, Any], **overrides: str) -> dict[str, str]:
    values = {**parameter_defaults(template), **overrides}
    resolved = Evaluator(template, values).resolve(prop(template, "Environment")["Variables"])
    assert all(isinstance(value, str) for value in resolved.values()), resolved
    return resolved


def statements(template: dict[str, Any], **overrides: str) -> list[dict[str, Any]]:
    evaluator = Evaluator(template, {**parameter_defaults(template), **overrides})
    found: list[dict[str, Any]] = []
    for policy in template["Resources"][FUNCTION_ID]["Properties"]["Policies"]:
        assert isinstance(policy, dict) and "Statement" in policy, "only inline policy documents"
        found.extend(evaluator.resolve(policy["Statement"]))
    # events:PutEvents has its own tests (test_operations)
    return [s for s in found if all(action.startswith("ecr:") for action in as_list(s["Action"]))]


def code_module(name: str) -> Any:
    return importlib.import_module(name)


# --------------------------------------------------------------------------------------------- function


def test_handler_resolves_to_a_callable_in_the_code_uri(template: dict[str, Any],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    code_dir = ROOT / prop(template, "CodeUri")
    module_name, _, attribute = prop(template, "Handler").rpartition(".")
    for name, value in {**LAMBDA_RUNTIME_ENVIRONMENT, **environment(template)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.syspath_prepend(str(code_dir))
    module = importlib.import_module(module_name)
    assert Path(module.__file__).resolve().is_relative_to(code_dir.resolve())
    assert callable(getattr(module, attribute, None))


def test_same_code_layer_and_runtime_as_the_assembler(template: dict[str, Any]) -> None:
    for name in ("CodeUri", "Layers", "Runtime", "Architectures", "Tracing"):
        assert prop(template, name) == prop(template, name, ASSEMBLER_ID), name


def test_timeout_leaves_room_for_the_safety_margin_and_continuations_stay_below_lambdas_loop_cutoff(
    template: dict[str, Any]
) -> None:
    handler = code_module("ecr_multiarch.reconcile_handler")
    timeout = prop(template, "Timeout")
    assert timeout == 900  # the longest Lambda allows: fewer hand-offs
    assert timeout * 0.1 >= handler.SAFETY_MARGIN_SECONDS
    assert handler.MAX_CONTINUATIONS < 16  # Lambda's recursive-loop detection stops chains at ~16 invocations


def test_every_variable_the_settings_read_is_set_and_every_set_variable_is_read(template: dict[str, Any]) -> None:
    read = set(code_module("ecr_multiarch.settings").ENVIRONMENT_VARIABLES) | set(
        code_module("ecr_multiarch.reconcile").RECONCILE_ENVIRONMENT_VARIABLES) | set(
        code_module("ecr_multiarch.notify").NOTIFY_ENVIRONMENT_VARIABLES) | set(
        code_module("ecr_multiarch.incomplete").INCOMPLETE_ENVIRONMENT_VARIABLES)
    declared = set(prop(template, "Environment")["Variables"])
    assert read - declared - set(LAMBDA_RUNTIME_ENVIRONMENT) == set()
    assert {name for name in declared if not name.startswith("POWERTOOLS_")} - read == set()


def test_settings_accept_the_defaults_and_sweep_exactly_the_repositories_the_policy_covers(
    template: dict[str, Any]
) -> None:
    for names in (None, "golang,team/*"):
        overrides = {} if names is None else {"RepositoryNames": names}
        env = {**LAMBDA_RUNTIME_ENVIRONMENT, **environment(template, **overrides)}
        code_module("ecr_multiarch.settings").Settings.from_environment(env)
        swept = code_module("ecr_multiarch.reconcile").ReconcileSettings.from_environment(env).repositories
        assert ",".join(swept) == (names or parameter_defaults(template)["RepositoryNames"])


def test_assembly_settings_are_the_assemblers(template: dict[str, Any]) -> None:
    mine = prop(template, "Environment")["Variables"]
    theirs = prop(template, "Environment", ASSEMBLER_ID)["Variables"]
    shared = set(code_module("ecr_multiarch.settings").ENVIRONMENT_VARIABLES) | {"POWERTOOLS_METRICS_NAMESPACE"} | set(
        code_module("ecr_multiarch.notify").NOTIFY_ENVIRONMENT_VARIABLES)
    assert {name: mine[name] for name in shared} == {name: theirs[name] for name in shared}


# --------------------------------------------------------------------------------------------- schedule


def test_schedule_event_uses_the_rate_and_state_parameters(function: dict[str, Any]) -> None:
    events = function["Properties"]["Events"]
    assert [event["Type"] for event in events.values()] == ["Schedule"]
    (schedule,) = events.values()
    assert schedule["Properties"]["Schedule"] == {"Ref": "ReconcileSchedule"}
    assert schedule["Properties"]["State"] == {"Ref": "ReconcileScheduleState"}


@pytest.mark.parametrize(("expression", "valid"), [
    ("rate(1 day)", True), ("rate(6 hours)", True), ("rate(30 minutes)", True), ("cron(0 3 * * ? *)", True),
    ("rate(0 days)", False), ("rate(1 week)", False), ("daily", False), ("", False),
])
def test_schedule_parameter_accepts_eventbridge_expressions(template: dict[str, Any], expression: str,
                                                            valid: bool) -> None:
    parameter = template["Parameters"]["ReconcileSchedule"]
    assert (re.fullmatch(parameter["AllowedPattern"], expression) is not None) is valid
    assert re.fullmatch(parameter["AllowedPattern"], parameter["Default"])


def test_schedule_can_be_disabled(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["ReconcileScheduleState"]
    assert set(parameter["AllowedValues"]) == {"ENABLED", "DISABLED"} and parameter["Default"] == "ENABLED"


def test_the_sample_scheduled_event_starts_a_fresh_sweep() -> None:
    handler = code_module("ecr_multiarch.reconcile_handler")
    cli = code_module("ecr_multiarch.cli")
    for path in sorted((EVENTS_DIR / "schedule").glob("*.json")):
        event = json.loads(path.read_text(encoding="utf-8"))
        assert event["source"] == "aws.events" and event["detail-type"] == "Scheduled Event"
        assert handler.ReconcileRequest.from_event(event) == handler.ReconcileRequest()
        assert cli._is_reconcile_event(event)


# --------------------------------------------------------------------------------------------- policy


def test_policy_allows_only_the_actions_the_sweep_uses_and_no_wildcard_actions(template: dict[str, Any]) -> None:
    found: set[str] = set()
    for statement in statements(template):
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        actions = as_list(statement["Action"])
        assert not [action for action in actions if "*" in action or "?" in action], "no wildcard actions"
        found.update(actions)
    assert found == IMAGE_ACTIONS | LISTING_ACTIONS


def arn(name: str) -> str:
    return f"arn:aws:ecr:us-east-1:123456789012:repository/{name}"


@pytest.mark.parametrize(("names", "expected"), [
    (None, [arn("*")]),
    ("golang", [arn("golang")]),
    ("golang,team/app,base-*", [arn("golang"), arn("team/app"), arn("base-*")]),
    (",".join(f"repo{i}" for i in range(10)), [arn(f"repo{i}") for i in range(10)]),
])
def test_image_actions_are_scoped_to_repository_names(template: dict[str, Any], names: str | None,
                                                      expected: list[str]) -> None:
    overrides = {} if names is None else {"RepositoryNames": names}
    for statement in statements(template, **overrides):
        if set(as_list(statement["Action"])) & IMAGE_ACTIONS:
            assert set(as_list(statement["Action"])) <= IMAGE_ACTIONS
            assert as_list(statement["Resource"]) == expected


def test_repository_listing_stays_in_this_account_and_region(template: dict[str, Any]) -> None:
    (listing,) = [s for s in statements(template, RepositoryNames="golang") if set(as_list(s["Action"])) &
                  LISTING_ACTIONS]
    assert as_list(listing["Action"]) == ["ecr:DescribeRepositories"]
    assert as_list(listing["Resource"]) == [arn("*")]


def test_self_invocation_is_granted_on_exactly_this_function_without_a_circular_reference(
    template: dict[str, Any]
) -> None:
    policy = template["Resources"][CONTINUE_POLICY_ID]
    assert policy["Type"] == "AWS::IAM::Policy"
    # The role SAM generates for the function; the function does not depend on this policy, so no cycle.
    assert policy["Properties"]["Roles"] == [{"Ref": f"{FUNCTION_ID}Role"}]
    assert "Role" not in template["Resources"][FUNCTION_ID]["Properties"]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow" and as_list(statement["Action"]) == ["lambda:InvokeFunction"]
    assert statement["Resource"] == [{"Fn::GetAtt": [FUNCTION_ID, "Arn"]}, {"Fn::Sub": f"${{{FUNCTION_ID}.Arn}}:*"}]
    assert "DependsOn" not in template["Resources"][FUNCTION_ID]


def test_failed_sweeps_land_in_the_failed_events_queue(template: dict[str, Any]) -> None:
    config = prop(template, "EventInvokeConfig")
    assert config["DestinationConfig"]["OnFailure"] == {"Type": "SQS",
                                                        "Destination": {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}}


def test_log_group_and_outputs(template: dict[str, Any]) -> None:
    log_group = template["Resources"][f"{FUNCTION_ID}LogGroup"]
    assert log_group["Properties"]["LogGroupName"] == {"Fn::Sub": "/ecr-multiarch/${AWS::StackName}/reconcile"}
    assert prop(template, "LoggingConfig") == {"LogGroup": {"Ref": f"{FUNCTION_ID}LogGroup"}}
    outputs = template["Outputs"]
    assert outputs["ReconcileFunctionName"]["Value"] == {"Ref": FUNCTION_ID}
    assert outputs["ReconcileScheduleRuleArn"]["Value"] == {"Fn::GetAtt": [f"{FUNCTION_ID}Sweep", "Arn"]}
