"""Contract tests for what makes the stack operable in a real account (issue 11): alarms that can reach a person,
log groups that exist before their functions, a rule scoped to this account and the RepositoryNames repositories,
parameters that accept what the code accepts, pipeline events, the dashboard, the IaC scan and samconfig.toml.

Templates are read as written (short tags in long form) and, where SAM generates resources (the functions' roles,
the rule), as SAM's own translator turns them into CloudFormation (samtranslator, offline).
"""

from __future__ import annotations

import copy
import fnmatch
import importlib
import json
import re
import tomllib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.contract.test_template import (
    EVENTS_DIR,
    NO_VALUE,
    PSEUDO_PARAMETERS,
    ROOT,
    Evaluator,
    as_list,
    load_event,
    load_template,
    matches,
    parameter_defaults,
)

FUNCTIONS = ("AssemblerFunction", "ReconcileFunction")
ACCOUNT = PSEUDO_PARAMETERS["AWS::AccountId"]
EMAIL = {"AlarmEmail": "ops@example.com"}
STACK = "ecr-multiarch"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


class StackEvaluator(Evaluator):
    """test_template's Evaluator, with the stack's name, and references to resources left as they are."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, str]) -> None:
        super().__init__(template, {"AWS::StackName": STACK, **parameters})
        self._resources = set(template["Resources"])

    def resolve(self, node: Any) -> Any:
        if isinstance(node, dict) and (node.get("Ref") in self._resources or set(node) == {"Fn::GetAtt"}):
            return node
        return super().resolve(node)


def resolve(template: dict[str, Any], node: Any, **overrides: str) -> Any:
    return StackEvaluator(template, {**parameter_defaults(template), **overrides}).resolve(node)


def resources_of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def translated(template: dict[str, Any]) -> dict[str, Any]:
    """The template as SAM turns it into CloudFormation (offline: code locations replaced by an S3 URI)."""
    import boto3
    from samtranslator.parser import parser
    from samtranslator.translator.translator import Translator

    document = copy.deepcopy(template)
    for resource in document["Resources"].values():
        for key in ("CodeUri", "ContentUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = "s3://bucket/key"
    translator = Translator({}, parser.Parser(), boto_session=boto3.session.Session(region_name="us-east-1"))
    result: dict[str, Any] = translator.translate(sam_template=document, parameter_values={})
    return result


# --------------------------------------------------------------------------------------------- 1. alarm topic


def alarms_using_the_topic(template: dict[str, Any]) -> list[str]:
    return [name for name, alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").items()
            if {"Ref": "AlarmTopic"} in resolve(template, alarm["Properties"].get("AlarmActions", []), **EMAIL)]


def alarm_arn(template: dict[str, Any], name: str) -> str:
    alarm_name = resolve(template, template["Resources"][name]["Properties"]["AlarmName"], **EMAIL)
    return f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{alarm_name}"


def test_every_alarm_notifies_the_topic_when_there_is_an_email(template: dict[str, Any]) -> None:
    alarms = set(resources_of_type(template, "AWS::CloudWatch::Alarm"))
    assert alarms == {"FailedEventsAlarm", "FunctionErrorsAlarm", "IncompleteVersionsAlarm"}
    assert set(alarms_using_the_topic(template)) == alarms
    for name in alarms:  # and no action (a dangling topic) without one
        assert resolve(template, template["Resources"][name]["Properties"]["AlarmActions"]) is NO_VALUE


def test_the_topic_is_encrypted_with_a_rotated_customer_key_not_the_aws_managed_one(template: dict[str, Any]) -> None:
    topic = template["Resources"]["AlarmTopic"]
    assert topic["Properties"]["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}
    assert "alias/aws/sns" not in json.dumps(template)
    key = template["Resources"]["AlarmTopicKey"]
    assert key["Type"] == "AWS::KMS::Key" and key["Properties"]["EnableKeyRotation"] is True
    for name in ("AlarmTopic", "AlarmTopicKey", "AlarmTopicKeyAlias", "AlarmTopicPolicy"):
        assert template["Resources"][name]["Condition"] == "HasAlarmEmail"


def key_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    policy = template["Resources"]["AlarmTopicKey"]["Properties"]["KeyPolicy"]
    statements: list[dict[str, Any]] = resolve(template, policy["Statement"], **EMAIL)
    return statements


def test_the_key_policy_lets_this_accounts_alarms_use_the_key_and_the_account_manage_it(
    template: dict[str, Any]
) -> None:
    statements = key_statements(template)
    (admin,) = [s for s in statements if s["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}]
    assert admin["Effect"] == "Allow" and admin["Action"] == "kms:*"
    (cloudwatch,) = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch["Effect"] == "Allow"
    # What SNS asks of the publisher's principal for an encrypted topic: a data key, and decrypting it.
    assert set(as_list(cloudwatch["Action"])) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    assert cloudwatch["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    source_arn = cloudwatch["Condition"]["ArnLike"]["aws:SourceArn"]
    for alarm in alarms_using_the_topic(template):
        assert fnmatch.fnmatchcase(alarm_arn(template, alarm), source_arn), alarm
    assert not fnmatch.fnmatchcase("arn:aws:cloudwatch:us-east-1:999999999999:alarm:x", source_arn)
    assert len(statements) == 2


def test_the_topic_policy_lets_exactly_the_stacks_alarms_publish(template: dict[str, Any]) -> None:
    policy = template["Resources"]["AlarmTopicPolicy"]["Properties"]
    assert policy["Topics"] == [{"Ref": "AlarmTopic"}]
    (statement,) = resolve(template, policy["PolicyDocument"]["Statement"], **EMAIL)
    assert statement["Effect"] == "Allow" and statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert as_list(statement["Action"]) == ["sns:Publish"] and statement["Resource"] == {"Ref": "AlarmTopic"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    allowed = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert sorted(allowed, key=str) == sorted(
        ({"Fn::GetAtt": [name, "Arn"]} for name in alarms_using_the_topic(template)), key=str)


def test_every_alarm_has_a_name_of_this_stack(template: dict[str, Any]) -> None:
    names = [alarm["Properties"]["AlarmName"] for alarm in resources_of_type(template,
                                                                              "AWS::CloudWatch::Alarm").values()]
    assert all(name["Fn::Sub"].startswith("${AWS::StackName}-") for name in names)
    assert len(set(map(json.dumps, names))) == len(names)


# --------------------------------------------------------------------------------------------- 3. log groups


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_logs_to_its_own_group_named_without_the_function(template: dict[str, Any],
                                                                        function: str) -> None:
    group_id = f"{function}LogGroup"
    properties = template["Resources"][function]["Properties"]
    assert properties["LoggingConfig"] == {"LogGroup": {"Ref": group_id}}
    group = template["Resources"][group_id]
    name = group["Properties"]["LogGroupName"]
    # No reference to the function: CloudFormation creates the group first (the function refers to it).
    assert function not in json.dumps(name) and "/aws/lambda/" not in json.dumps(name)
    assert resolve(template, name).startswith("/ecr-multiarch/")
    assert group["Properties"]["RetentionInDays"] == 30
    assert group["DeletionPolicy"] == "Delete"


def test_log_group_names_differ(template: dict[str, Any]) -> None:
    names = {json.dumps(template["Resources"][f"{f}LogGroup"]["Properties"]["LogGroupName"]) for f in FUNCTIONS}
    assert len(names) == len(FUNCTIONS)


@pytest.fixture(scope="module")
def cloudformation(template: dict[str, Any]) -> dict[str, Any]:
    return translated(template)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_generated_function_waits_for_its_log_group_and_may_write_to_it(cloudformation: dict[str, Any],
                                                                            function: str) -> None:
    resources = cloudformation["Resources"]
    assert resources[function]["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": f"{function}LogGroup"}}
    role = resources[f"{function}Role"]["Properties"]
    # AWSLambdaBasicExecutionRole allows logs:CreateLogGroup, logs:CreateLogStream and logs:PutLogEvents on every
    # log group ("Resource": "*"), the group LoggingConfig names included.
    assert "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole" in role["ManagedPolicyArns"]


# --------------------------------------------------------------------------------------------- 4. the scoped rule


def rule_pattern(template: dict[str, Any], **overrides: str) -> dict[str, Any]:
    rule = template["Resources"]["AssemblerFunction"]["Properties"]["Events"]["ArchImagePushed"]
    pattern: dict[str, Any] = resolve(template, rule["Properties"]["Pattern"], **overrides)
    return pattern


def event_for(repository: str, *, account: str = ACCOUNT, replicated: bool = False) -> dict[str, Any]:
    event = load_event("replicate-arm64.json" if replicated else "push-arm64.json")
    event["detail"]["repository-name"] = repository
    event["account"] = account
    return event


def test_the_rule_takes_only_this_accounts_events(template: dict[str, Any]) -> None:
    pattern = rule_pattern(template)
    assert pattern["account"] == [ACCOUNT]
    assert matches(pattern, event_for("golang"))
    assert not matches(pattern, event_for("golang", account="999999999999"))  # forwarded from another account


def test_the_rule_routes_replication_with_the_same_tag_filter(template: dict[str, Any]) -> None:
    pattern = rule_pattern(template)
    assert set(pattern["detail-type"]) == {"ECR Image Action", "ECR Replication Action"}
    assert set(pattern["detail"]["action-type"]) == {"PUSH", "REPLICATE"}
    assert matches(pattern, load_event("replicate-arm64.json"))
    failed = load_event("replicate-arm64.json")
    failed["detail"]["result"] = "FAILURE"
    assert not matches(pattern, failed)
    untagged = load_event("replicate-arm64.json")
    untagged["detail"]["image-tag"] = "1.19.2-alpine"  # our own index, replicated: never routed (loop guard)
    assert not matches(pattern, untagged)


def test_the_replication_sample_is_the_same_image_as_the_push_sample() -> None:
    pushed, replicated = load_event("push-arm64.json"), load_event("replicate-arm64.json")
    for key in ("repository-name", "image-digest", "image-tag"):
        assert pushed["detail"][key] == replicated["detail"][key]


def test_all_repositories_means_no_repository_filter(template: dict[str, Any]) -> None:
    assert "repository-name" not in rule_pattern(template)
    assert matches(rule_pattern(template), event_for("any/repository"))


@pytest.mark.parametrize(
    ("names", "repository", "routed"),
    [
        ("golang", "golang", True),
        ("golang", "golang-tools", False),
        ("golang", "team/golang", False),
        ("golang,team/*", "team/app", True),
        ("golang,team/*", "team/sub/app", True),  # '*' crosses '/', in IAM as in EventBridge
        ("golang,team/*", "other/app", False),
        ("base-?", "base-a", True),
        ("base-?", "base-ab", True),  # '?' widens to '*' in the rule (IAM still refuses base-ab)
        ("base-?", "base", False),
        (",".join(f"repo{i}" for i in range(10)), "repo9", True),
        (",".join(f"repo{i}" for i in range(10)), "repo10", False),
    ],
)
def test_the_rule_takes_only_the_repository_names(template: dict[str, Any], names: str, repository: str,
                                                  routed: bool) -> None:
    pattern = rule_pattern(template, RepositoryNames=names)
    assert matches(pattern, event_for(repository)) is routed
    assert matches(pattern, event_for(repository, replicated=True)) is routed


def test_each_name_becomes_one_wildcard_filter(template: dict[str, Any]) -> None:
    filters = rule_pattern(template, RepositoryNames="golang,team/*,base-?")["detail"]["repository-name"]
    assert filters == [{"wildcard": "golang"}, {"wildcard": "team/*"}, {"wildcard": "base-*"}]


def test_moto_implements_the_operators_the_rule_uses() -> None:
    # moto's matcher treats an operator it does not know as a match: prove each one can say no.
    event = event_for("golang")
    assert not matches({"detail": {"repository-name": [{"wildcard": "team/*"}]}}, event)
    assert not matches({"account": ["999999999999"]}, event)
    assert not matches({"detail": {"image-tag": [{"suffix": "-amd64"}]}}, event)


def test_consecutive_wildcards_are_refused_by_the_parameter_as_eventbridge_refuses_them(
    template: dict[str, Any]
) -> None:
    # Where moto and EventBridge differ: EventBridge rejects a wildcard pattern with consecutive '*' when the rule
    # is created; moto accepts it. The parameter's pattern keeps such names (and '?' next to '*') out.
    assert matches({"detail": {"repository-name": [{"wildcard": "team/**"}]}}, event_for("team/app"))
    allowed = template["Parameters"]["RepositoryNames"]["AllowedPattern"]
    for names in ("team/**", "team/*?", "a??", "golang,x?*"):
        assert re.fullmatch(allowed, names) is None, names
    for names in ("team/*", "a?b*", "*", "golang,team/*-?"):
        assert re.fullmatch(allowed, names) is not None, names


def test_the_generated_rule_carries_the_pattern(cloudformation: dict[str, Any]) -> None:
    rule = cloudformation["Resources"]["AssemblerFunctionArchImagePushed"]["Properties"]
    assert set(rule["EventPattern"]) == {"source", "account", "detail-type", "detail"}


# --------------------------------------------------------------------------------------------- 5. parameters


def suffix_grammar() -> re.Pattern[str]:
    settings = importlib.import_module("ecr_multiarch.settings")
    grammar: re.Pattern[str] = settings._SUFFIX
    return grammar


def known_suffixes() -> list[str]:
    return list(importlib.import_module("ecr_multiarch.domain.tags").DEFAULT_SUFFIXES)


def test_required_architectures_accepts_every_known_suffix(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["RequiredArchitectures"]
    assert "windows-amd64" in known_suffixes()
    for suffix in known_suffixes():
        assert re.fullmatch(parameter["AllowedPattern"], suffix), suffix
        assert suffix in parameter["Description"], f"the description does not list {suffix}"
    assert re.fullmatch(parameter["AllowedPattern"], ",".join(known_suffixes()))
    settings_module = importlib.import_module("ecr_multiarch.settings")
    # And the function starts with them (windows-amd64 is not the same platform as amd64: allowed together).
    settings_module.parse_architectures(",".join(known_suffixes()))


@settings(deadline=None, max_examples=30)
@given(st.lists(st.from_regex(suffix_grammar(), fullmatch=True), min_size=1, max_size=4))
def test_required_architectures_accepts_every_suffix_the_extras_grammar_accepts(extra: list[str]) -> None:
    # ArchSuffixesExtra may define any suffix settings.py's grammar accepts; RequiredArchitectures may then name it.
    assert re.fullmatch(REQUIRED_ARCHITECTURES_PATTERN, ",".join(extra))


REQUIRED_ARCHITECTURES_PATTERN = load_template()["Parameters"]["RequiredArchitectures"]["AllowedPattern"]


@pytest.mark.parametrize("value", ["amd64, arm64", "AMD64", "", "amd64,", ",amd64", "amd64--arm64", "-amd64"])
def test_required_architectures_refuses_what_the_code_refuses(template: dict[str, Any], value: str) -> None:
    assert re.fullmatch(template["Parameters"]["RequiredArchitectures"]["AllowedPattern"], value) is None


def test_incomplete_after_hours_reaches_the_sweep(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["IncompleteAfterHours"]
    assert parameter["Type"] == "Number" and parameter["Default"] == "24"
    variables = template["Resources"]["ReconcileFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["INCOMPLETE_AFTER_HOURS"] == {"Ref": "IncompleteAfterHours"}
    incomplete = importlib.import_module("ecr_multiarch.incomplete")
    for hours in (parameter["Default"], str(parameter["MinValue"]), str(parameter["MaxValue"])):
        assert incomplete.parse_incomplete_after({"INCOMPLETE_AFTER_HOURS": hours}).total_seconds() == \
            float(hours) * 3600


# --------------------------------------------------------------------------------------------- 7. pipeline events


def events_statements(template: dict[str, Any], function: str, **overrides: str) -> list[dict[str, Any]]:
    statements = [s for policy in template["Resources"][function]["Properties"]["Policies"]
                  for s in resolve(template, policy["Statement"], **overrides)]
    return [s for s in statements if any(a.startswith("events:") for a in as_list(s["Action"]))]


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize(("bus", "arn"), [
    ("default", f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default"),
    ("platform-events", f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/platform-events"),
])
def test_put_events_is_allowed_on_the_named_bus_only(template: dict[str, Any], function: str, bus: str,
                                                     arn: str) -> None:
    (statement,) = events_statements(template, function, EventBusName=bus)
    assert statement["Effect"] == "Allow" and as_list(statement["Action"]) == ["events:PutEvents"]
    assert as_list(statement["Resource"]) == [arn]
    variables = resolve(template, template["Resources"][function]["Properties"]["Environment"]["Variables"],
                        EventBusName=bus)
    assert variables["EVENT_BUS_NAME"] == bus


@pytest.mark.parametrize("function", FUNCTIONS)
def test_publishing_off_removes_the_permission_and_the_bus(template: dict[str, Any], function: str) -> None:
    assert events_statements(template, function, PublishEvents="false") == []
    variables = resolve(template, template["Resources"][function]["Properties"]["Environment"]["Variables"],
                        PublishEvents="false")
    assert variables["EVENT_BUS_NAME"] == ""


def test_event_bus_parameter_takes_names_not_arns(template: dict[str, Any]) -> None:
    allowed = template["Parameters"]["EventBusName"]["AllowedPattern"]
    assert re.fullmatch(allowed, "default") and re.fullmatch(allowed, "team.platform/events-1")
    assert re.fullmatch(allowed, "arn:aws:events:us-east-1:123456789012:event-bus/x") is None


# --------------------------------------------------------------------------------------------- 8. dashboard


def dashboard(template: dict[str, Any]) -> dict[str, Any]:
    (resource,) = resources_of_type(template, "AWS::CloudWatch::Dashboard").values()
    body = resource["Properties"]["DashboardBody"]["Fn::Sub"]
    references = set(re.findall(r"\$\{([^}]+)\}", body))
    known = set(PSEUDO_PARAMETERS) | {"AWS::StackName"} | {
        f"{name}{suffix}" for name in template["Resources"] for suffix in ("", ".QueueName", ".Arn")}
    assert references <= known, f"the body names what the template does not have: {references - known}"
    document: dict[str, Any] = json.loads(re.sub(r"\$\{([^}]+)\}", lambda m: f"<{m.group(1)}>", body))
    return document


def dashboard_metrics(template: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(namespace, metric, dimension value) of every graphed metric."""
    return [(metric[0], metric[1], metric[3]) for widget in dashboard(template)["widgets"]
            for metric in widget["properties"]["metrics"]]


def test_the_dashboard_shows_outcomes_errors_queue_duration_and_the_sweep(template: dict[str, Any]) -> None:
    graphed = set(dashboard_metrics(template))
    outcome = importlib.import_module("ecr_multiarch.outcome")
    reconcile = importlib.import_module("ecr_multiarch.reconcile")
    ours = {("EcrMultiarch", name, "ecr-multiarch") for name in (
        *(kind.value.capitalize() for kind in outcome.OutcomeKind),  # handler.py: one metric per outcome
        *(f"Reconcile{status.capitalize()}" for status in reconcile.STATUSES), "ReconcileWrites",
        "IncompleteVersions", "TransientError", "UnexpectedError", "EventsNotPublished")}
    assert ours <= graphed
    for function in FUNCTIONS:
        for metric in ("Errors", "Throttles", "Duration"):
            assert ("AWS/Lambda", metric, f"<{function}>") in graphed, (function, metric)
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "<FailedEventsQueue.QueueName>") in graphed


def test_every_graphed_metric_of_ours_is_one_the_code_emits(template: dict[str, Any]) -> None:
    sources = "".join((ROOT / "functions/assembler/ecr_multiarch" / name).read_text(encoding="utf-8")
                      for name in ("handler.py", "reconcile_handler.py"))
    emitted = set(re.findall(r'name="(\w+)"', sources)) | {
        kind.value.capitalize() for kind in importlib.import_module("ecr_multiarch.outcome").OutcomeKind} | {
        f"Reconcile{s.capitalize()}" for s in importlib.import_module("ecr_multiarch.reconcile").STATUSES}
    graphed = {metric for namespace, metric, _ in dashboard_metrics(template) if namespace == "EcrMultiarch"}
    assert graphed <= emitted, f"graphed but never emitted: {graphed - emitted}"


def test_the_incomplete_versions_alarm_watches_the_metric_the_sweep_emits(template: dict[str, Any]) -> None:
    alarm = template["Resources"]["IncompleteVersionsAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("EcrMultiarch", "IncompleteVersions")
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "ecr-multiarch"}]
    assert alarm["Threshold"] == 0 and alarm["ComparisonOperator"] == "GreaterThanThreshold"
    source = (ROOT / "functions/assembler/ecr_multiarch/reconcile_handler.py").read_text(encoding="utf-8")
    assert 'name="IncompleteVersions"' in source


# --------------------------------------------------------------------------------------------- 9. checkov skips


def test_every_skipped_check_is_justified_next_to_its_resource(template: dict[str, Any]) -> None:
    skips = [(name, skip) for name, resource in template["Resources"].items()
             for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])]
    assert skips, "no skip at all: then this test should go"
    for name, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (name, skip)
        assert len(skip.get("comment", "").split()) >= 8, f"{name} skips {skip['id']} without a reason"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^checkov==\d+\.\d+\.\d+$", (ROOT / "requirements" / "checkov.in").read_text(encoding="utf-8"),
                     re.MULTILINE), "checkov's version (and so its checks) is locked"
    assert re.search(r"^test: checkov$", makefile, re.MULTILINE)


# --------------------------------------------------------------------------------------------- 10. samconfig.toml


def test_samconfig_makes_a_guided_deploy_one_short_pass(template: dict[str, Any]) -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    assert config["version"] == 0.1
    deploy = {**config["default"]["global"]["parameters"], **config["default"]["deploy"]["parameters"]}
    assert deploy["stack_name"] == "ecr-multiarch"
    assert deploy["confirm_changeset"] is True and deploy["resolve_s3"] is True
    # SAM generates IAM roles (CAPABILITY_IAM); none is named, so CAPABILITY_NAMED_IAM is not needed.
    assert as_list(deploy["capabilities"]) == ["CAPABILITY_IAM"]
    named = [name for name, r in template["Resources"].items()
             if r["Type"].startswith("AWS::IAM::") and {"RoleName", "PolicyName", "UserName"} & set(r["Properties"])
             and r["Type"] != "AWS::IAM::Policy"]
    assert named == []
    # The region is the deployer's (profile or AWS_REGION), never pinned here.
    assert "region" not in json.dumps(config)


def test_published_samples_live_apart_from_ecr_events() -> None:
    ours = {p.parent.name for p in EVENTS_DIR.rglob("*.json") if json.loads(p.read_text())["source"] == "ecr-multiarch"}
    assert ours == {"published"}
