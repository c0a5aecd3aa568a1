"""Contract tests for template.yaml, the layer requirements and events/*.json.

These tests read the deployment artefacts and check them against each other and
against the function code: the Handler imports, every environment variable the
settings read is set, the EventBridge pattern matches exactly the events we want
(using moto's EventBridge pattern matcher), and the IAM policy stays least privilege.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import json
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from devkit.built import RUNTIME_PROVIDED
from devkit.locks import LockedRequirement, UvLock, read_requirements, runtime_closure

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
EVENTS_DIR = ROOT / "events"

FUNCTION_ID = "AssemblerFunction"
LAYER_ID = "RuntimeDependenciesLayer"
REPOSITORY_PARAMETER = "RepositoryNames"

# Every arch suffix the tag grammar knows; the rule must route all of them.
KNOWN_SUFFIXES = ("amd64", "arm64", "armv7", "armv6", "386", "ppc64le", "s390x", "riscv64")
# ListTagsForResource: per-repository policy read from the repository's own ecr-multiarch:* tags.
ALLOWED_ACTIONS = {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:PutImage", "ecr:ListTagsForResource",
                   "ecr:ListImages"}  # the last two: repository policy tags; alias tags

# Variables the Lambda service itself sets in every execution environment; the
# settings module may read them without the template declaring them.
LAMBDA_RUNTIME_ENVIRONMENT = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "ecr-multiarch-AssemblerFunction-0123456789AB",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "LAMBDA_TASK_ROOT": "/var/task",
}
PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
}
NO_VALUE = object()


# --------------------------------------------------------------------------- loading


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short tags into their long form."""


def _construct_short_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_short_tag)


def load_template() -> dict[str, Any]:
    with TEMPLATE_PATH.open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=_CfnLoader)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def function(template: dict[str, Any]) -> dict[str, Any]:
    resource = template["Resources"][FUNCTION_ID]
    assert resource["Type"] == "AWS::Serverless::Function"
    return resource


def function_property(template: dict[str, Any], name: str) -> Any:
    """A function property, falling back to Globals/Function like SAM does."""
    properties = template["Resources"][FUNCTION_ID]["Properties"]
    if name in properties:
        return properties[name]
    return template.get("Globals", {}).get("Function", {})[name]


def the_rule_pattern(function: dict[str, Any], **overrides: str) -> dict[str, Any]:
    """The rule's pattern as CloudFormation resolves it for these parameter values (defaults otherwise)."""
    rules = [e for e in function["Properties"]["Events"].values() if e["Type"] == "EventBridgeRule"]
    assert len(rules) == 1, "expected exactly one EventBridgeRule event on the function"
    template = load_template()
    pattern: dict[str, Any] = Evaluator(template, {**parameter_defaults(template), **overrides}).resolve(
        rules[0]["Properties"]["Pattern"])
    return pattern


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))


# --------------------------------------------------------------- intrinsic evaluation


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    return {name: spec["Default"] for name, spec in template["Parameters"].items()}


class Evaluator:
    """Resolves the intrinsic functions this template uses, for given parameter values."""

    def __init__(self, template: dict[str, Any], parameters: Mapping[str, str]) -> None:
        self._template = template
        self._values = {**PSEUDO_PARAMETERS, **parameters}

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self._template["Conditions"][name]))

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) != 1 or not next(iter(node)).startswith(("Fn::", "Ref", "Condition")):
            resolved = {key: self.resolve(value) for key, value in node.items()}
            return {key: value for key, value in resolved.items() if value is not NO_VALUE}  # AWS::NoValue: no key
        ((key, arg),) = node.items()
        if key == "Ref":
            if arg == "AWS::NoValue":
                return NO_VALUE
            return self._values[arg]
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::Not":
            return not self.resolve(arg[0])
        if key == "Fn::Equals":
            left, right = (self.resolve(a) for a in arg)
            return left == right
        if key == "Fn::If":
            name, when_true, when_false = arg
            return self.resolve(when_true if self.condition(name) else when_false)
        if key == "Fn::Join":
            delimiter, values = arg
            assert isinstance(delimiter, str), "Fn::Join delimiters cannot hold functions"
            return delimiter.join(self.resolve(values))
        if key == "Fn::Split":
            delimiter, source = arg
            return self.resolve(source).split(delimiter)
        if key == "Fn::Select":
            index, values = arg
            return self.resolve(values)[int(index)]
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else arg
            scope = {**self._values, **{k: self.resolve(v) for k, v in variables.items()}}
            return re.sub(r"\$\{([^}!]+)\}", lambda m: str(scope[m.group(1)]), text)
        return {key: self.resolve(arg)}


def resolved_environment(template: dict[str, Any], **overrides: str) -> dict[str, str]:
    parameters = {**parameter_defaults(template), **overrides}
    variables = function_property(template, "Environment")["Variables"]
    resolved = Evaluator(template, parameters).resolve(variables)
    assert all(isinstance(v, str) for v in resolved.values()), resolved
    return resolved


def policy_statements(template: dict[str, Any], *, ecr_only: bool = True, **overrides: str) -> list[dict[str, Any]]:
    parameters = {**parameter_defaults(template), **overrides}
    policies = template["Resources"][FUNCTION_ID]["Properties"]["Policies"]
    evaluator = Evaluator(template, parameters)
    statements: list[dict[str, Any]] = []
    for policy in policies:
        assert isinstance(policy, dict) and "Statement" in policy, (
            "only inline policy documents are allowed (no managed or SAM policy templates)"
        )
        statements.extend(evaluator.resolve(policy["Statement"]))
    if ecr_only:  # events:PutEvents has its own tests (test_operations)
        statements = [s for s in statements if all(a.startswith("ecr:") for a in as_list(s["Action"]))]
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ------------------------------------------------------------------------------ lint


def run_cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    for module, why in (
        ("cfnlint", "cfn-lint is a dev dependency and must be installed to run the contract tests"),
        # Newer cfn-lint releases no longer pull aws-sam-translator in; without it they
        # skip the SAM transform and pass broken SAM templates without a word.
        ("samtranslator", "aws-sam-translator is needed for cfn-lint to check a SAM template"),
    ):
        if importlib.util.find_spec(module) is None:
            pytest.fail(why)
    return subprocess.run(
        [sys.executable, "-c", "from cfnlint.runner import main; main()", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_template_passes_cfn_lint() -> None:
    result = run_cfn_lint(TEMPLATE_PATH)
    assert result.returncode == 0, f"cfn-lint failed:\n{result.stdout}\n{result.stderr}"


def test_cfn_lint_catches_a_broken_sam_template(template: dict[str, Any], tmp_path: Path) -> None:
    # Canary: the same template with an output naming a resource SAM never generates
    # must fail, or the lint above proves nothing.
    broken = copy.deepcopy(template)
    broken["Outputs"]["Canary"] = {"Value": {"Fn::GetAtt": [f"{FUNCTION_ID}NoSuchEvent", "Arn"]}}
    path = tmp_path / "broken-template.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    result = run_cfn_lint(path)
    assert result.returncode != 0, f"cfn-lint passed a template with a dangling GetAtt:\n{result.stdout}"
    assert f"{FUNCTION_ID}NoSuchEvent" in result.stdout


def test_template_loads_with_cloudformation_short_tags(template: dict[str, Any]) -> None:
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    env = template["Resources"][FUNCTION_ID]["Properties"]["Environment"]["Variables"]
    assert env["INDEX_FORMAT"] == {"Ref": "IndexFormat"}


# ---------------------------------------------------------------- function and layer


def test_handler_resolves_to_a_callable(template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    code_dir = ROOT / function_property(template, "CodeUri")
    assert code_dir.is_dir(), f"CodeUri {code_dir} does not exist"
    module_name, _, attribute = function_property(template, "Handler").rpartition(".")
    for name, value in {**LAMBDA_RUNTIME_ENVIRONMENT, **resolved_environment(template)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.syspath_prepend(str(code_dir))

    module = importlib.import_module(module_name)

    assert Path(module.__file__).resolve().is_relative_to(code_dir.resolve()), (
        f"{module_name} was imported from {module.__file__}, not from the CodeUri {code_dir}"
    )
    assert callable(getattr(module, attribute, None)), f"{module_name}.{attribute} is not callable"


def test_function_runtime_settings(template: dict[str, Any]) -> None:
    assert function_property(template, "Runtime") == "python3.13"
    assert function_property(template, "Architectures") == ["arm64"]
    assert function_property(template, "Timeout") == 60
    assert function_property(template, "MemorySize") == 256
    assert function_property(template, "Tracing") == "Active"


def test_layer_is_built_for_the_function_runtime_and_architecture(template: dict[str, Any]) -> None:
    layer = template["Resources"][LAYER_ID]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    runtime = function_property(template, "Runtime")
    architectures = function_property(template, "Architectures")
    assert {"Ref": LAYER_ID} in function_property(template, "Layers")
    assert runtime in layer["Properties"]["CompatibleRuntimes"]
    assert set(architectures) <= set(layer["Properties"]["CompatibleArchitectures"])
    # BuildMethod makefile (layers/runtime/Makefile): the pinned requirements only, with --no-deps, as wheels for the
    # function's platform, plus bytecode for the runtime's Python (tests/packaging checks what a real sam build made).
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Metadata"]["BuildArchitecture"] in architectures
    content = ROOT / layer["Properties"]["ContentUri"]
    assert (content / "requirements.txt").is_file()
    makefile = make_variables_and_targets(content / "Makefile")
    assert f"build-{LAYER_ID}" in makefile["targets"]
    assert makefile["PIP_PLATFORM"].endswith("_" + PIP_MACHINE[layer["Metadata"]["BuildArchitecture"]])
    assert f"python{makefile['PIP_PYTHON_VERSION']}" == runtime
    assert f"python{makefile['PYTHON313'].removeprefix('python')}" == runtime
    assert "--no-deps" in makefile["text"], "every dependency must be pinned in requirements.txt, none pulled in"
    assert "--invalidation-mode unchecked-hash" in makefile["text"]


@pytest.mark.parametrize("function_id", [FUNCTION_ID, "ReconcileFunction"])
def test_function_build_ships_bytecode_for_the_runtime(template: dict[str, Any], function_id: str) -> None:
    # BuildMethod makefile (functions/assembler/Makefile): the package's sources and their bytecode, which must be
    # unchecked-hash: /var/task is read-only and the zip drops the timestamps a default .pyc is checked against.
    function = template["Resources"][function_id]
    assert function["Metadata"]["BuildMethod"] == "makefile"
    makefile = make_variables_and_targets(ROOT / function["Properties"]["CodeUri"] / "Makefile")
    assert f"build-{function_id}" in makefile["targets"]
    assert f"python{makefile['PYTHON313'].removeprefix('python')}" == function_property(template, "Runtime")
    assert "--invalidation-mode unchecked-hash" in makefile["text"]


# Lambda architecture -> the machine in manylinux wheel platform tags.
PIP_MACHINE = {"arm64": "aarch64", "x86_64": "x86_64"}


def make_variables_and_targets(path: Path) -> dict[str, Any]:
    """The simple `NAME := value` / `NAME ?= value` assignments and the rule targets of a Makefile."""
    text = path.read_text(encoding="utf-8")
    rules = re.findall(r"^([\w. -]+):(?!=)", text, re.MULTILINE)  # a rule may name several targets
    found: dict[str, Any] = {"text": text, "targets": {target for rule in rules for target in rule.split()}}
    for name, value in re.findall(r"^(\w+)\s*[:?]?=\s*(\S+)\s*$", text, re.MULTILINE):
        found[name] = value
    return found


def layer_requirements(template: dict[str, Any]) -> dict[str, LockedRequirement]:
    return read_requirements(ROOT / template["Resources"][LAYER_ID]["Properties"]["ContentUri"] / "requirements.txt")


def test_layer_requirements_are_pinned_with_hashes(template: dict[str, Any]) -> None:
    requirements = layer_requirements(template)  # raises for an entry that is not ==
    assert requirements, "the layer ships no requirements"
    unhashed = [name for name, entry in requirements.items() if not entry.hashes]
    assert not unhashed, f"pip checks every wheel against the lock's hashes; none for {unhashed}"


def test_layer_ships_powertools_and_requests_but_not_boto3(template: dict[str, Any]) -> None:
    names = set(layer_requirements(template))
    assert {"aws-lambda-powertools", "requests"} <= names
    assert not names & RUNTIME_PROVIDED, "boto3 and its dependencies come from the Lambda runtime"
    # The layer is installed with --no-deps, so the tracer's dependencies are listed, not implied by an extra.
    assert {"aws-xray-sdk", "wrapt"} <= names, "Tracing is Active: the X-Ray SDK Powertools' Tracer uses is needed"


def test_layer_ships_what_uv_lock_resolved_for_the_package(template: dict[str, Any]) -> None:
    # One resolution for tests and layer: every package the function needs at run time, at uv.lock's version,
    # minus what the runtime provides (make lock-check also diffs the whole export, hashes included).
    lock = UvLock(ROOT / "uv.lock")
    requirements = layer_requirements(template)
    assert set(requirements) == runtime_closure(lock, "ecr-multiarch", RUNTIME_PROVIDED)
    assert {name: entry.version for name, entry in requirements.items()} == {
        name: lock.version(name) for name in requirements}
    assert all(entry.marker is None for entry in requirements.values()), "the layer is one platform: no markers"


def test_the_makefile_leaves_out_what_the_runtime_provides() -> None:
    # make lock-export drops these from the layer; devkit.built checks the built layer against the same set.
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    (names,) = re.findall(r"^RUNTIME_PROVIDED := (.+)$", makefile, re.MULTILINE)
    assert set(names.split()) == RUNTIME_PROVIDED


def test_layer_pins_what_the_tests_run_with(template: dict[str, Any]) -> None:
    # The dev environment (uv.lock) is what every test exercises; the layer must ship the same versions.
    from importlib.metadata import PackageNotFoundError, version

    differing: list[str] = []
    for name, entry in layer_requirements(template).items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = "not installed"
        if installed != entry.version:
            differing.append(f"{name}: layer {entry.version}, dev environment {installed}")
    assert not differing, differing


@pytest.mark.parametrize("tool", ["uv", "sam", "checkov"])
def test_each_tool_environment_is_locked_from_its_input(tool: str) -> None:
    # requirements/<tool>.in names the tool at one version; the .txt beside it is uv's resolution of it, every entry
    # pinned and hashed. A version bumped in the .in without `make lock` fails here.
    wanted = read_requirements(ROOT / "requirements" / f"{tool}.in")
    locked = read_requirements(ROOT / "requirements" / f"{tool}.txt")
    assert wanted, f"requirements/{tool}.in names nothing"
    assert {name: locked[name].version for name in wanted if name in locked} == {
        name: entry.version for name, entry in wanted.items()}
    assert all(entry.hashes for entry in locked.values())


# --------------------------------------------------------------------------- settings


def settings_module() -> Any:
    code_dir = ROOT / load_template()["Resources"][FUNCTION_ID]["Properties"]["CodeUri"]
    if str(code_dir) not in sys.path:
        sys.path.insert(0, str(code_dir))
    return importlib.import_module("ecr_multiarch.settings")


def variables_read() -> set[str]:
    """What the function's code reads: the settings' variables and the event notifier's."""
    settings_module()
    return set(settings_module().ENVIRONMENT_VARIABLES) | set(
        importlib.import_module("ecr_multiarch.notify").NOTIFY_ENVIRONMENT_VARIABLES)


def test_every_variable_the_settings_read_is_set(template: dict[str, Any]) -> None:
    declared = set(function_property(template, "Environment")["Variables"])
    read = variables_read()
    missing = read - declared - set(LAMBDA_RUNTIME_ENVIRONMENT)
    assert not missing, f"settings read variables the template does not set: {sorted(missing)}"


def test_every_non_powertools_variable_is_read_by_the_settings(template: dict[str, Any]) -> None:
    declared = {v for v in function_property(template, "Environment")["Variables"] if not v.startswith("POWERTOOLS_")}
    unread = declared - variables_read()
    assert not unread, f"template sets variables nobody reads: {sorted(unread)}"


def test_settings_accept_the_template_defaults(template: dict[str, Any]) -> None:
    environment = {**LAMBDA_RUNTIME_ENVIRONMENT, **resolved_environment(template)}
    settings_module().Settings.from_environment(environment)


@pytest.mark.parametrize("function_id", ["AssemblerFunction", "ReconcileFunction"])
def test_the_endpoint_url_is_declared_empty_so_a_deployed_function_talks_to_aws(
    template: dict[str, Any], function_id: str
) -> None:
    # Declared, so `sam local invoke --env-vars` can set it (it overrides declared variables only); a literal empty
    # string, not a parameter, so no deployment can point the functions away from AWS.
    variables = template["Resources"][function_id]["Properties"]["Environment"]["Variables"]
    assert variables["ECR_MULTIARCH_ENDPOINT_URL"] == ""
    assert "Environment" not in template.get("Globals", {}).get("Function", {})
    environment = {**LAMBDA_RUNTIME_ENVIRONMENT, **Evaluator(template, parameter_defaults(template)).resolve(variables)}
    assert settings_module().Settings.from_environment(environment).endpoint_url is None


def _allowed_value_cases() -> list[tuple[str, str]]:
    template = load_template()
    variables = template["Resources"][FUNCTION_ID]["Properties"]["Environment"]["Variables"]
    referenced = {v["Ref"] for v in variables.values() if isinstance(v, dict) and "Ref" in v}
    return [
        (name, value)
        for name, spec in template["Parameters"].items()
        if name in referenced
        for value in spec.get("AllowedValues", [])
    ]


@pytest.mark.parametrize(("parameter", "value"), _allowed_value_cases())
def test_settings_accept_every_allowed_parameter_value(template: dict[str, Any], parameter: str, value: str) -> None:
    environment = {**LAMBDA_RUNTIME_ENVIRONMENT, **resolved_environment(template, **{parameter: value})}
    settings_module().Settings.from_environment(environment)


def test_allowed_value_cases_cover_index_format_and_dry_run() -> None:
    parameters = {parameter for parameter, _ in _allowed_value_cases()}
    assert {"IndexFormat", "DryRun"} <= parameters


def test_required_architectures_default_uses_known_suffixes(template: dict[str, Any]) -> None:
    default = template["Parameters"]["RequiredArchitectures"]["Default"]
    assert set(default.split(",")) <= set(KNOWN_SUFFIXES)


# ------------------------------------------------------------------------ event rule


MATCHING_EVENTS = ("push-amd64.json", "push-arm64.json", "replicate-arm64.json")
NON_MATCHING_EVENTS = ("push-index.json", "push-untagged.json", "delete-amd64.json")


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    from moto.events.models import EventPattern  # heavy import, only where needed

    return EventPattern.load(json.dumps(pattern)).matches_event(event)


def with_tag(event: dict[str, Any], tag: str | None) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    if tag is None:
        changed["detail"].pop("image-tag", None)
    else:
        changed["detail"]["image-tag"] = tag
    return changed


def test_every_event_file_is_classified() -> None:
    on_disk = {path.name for path in EVENTS_DIR.glob("*.json")}
    assert on_disk == set(MATCHING_EVENTS) | set(NON_MATCHING_EVENTS)


def test_pattern_uses_only_operators_the_matcher_implements(function: dict[str, Any]) -> None:
    # moto treats an unknown operator as a match, so pin down what we rely on.
    detail = the_rule_pattern(function)["detail"]
    operators = {key for f in detail["image-tag"] for key in f}
    assert operators == {"suffix"}
    assert all(isinstance(f["suffix"], str) for f in detail["image-tag"])
    assert not matches({"detail": {"image-tag": [{"suffix": "-zzz"}]}}, load_event("push-amd64.json")), (
        "moto's EventPattern does not implement suffix"
    )


def test_pattern_routes_every_known_suffix(function: dict[str, Any]) -> None:
    suffixes = {f["suffix"] for f in the_rule_pattern(function)["detail"]["image-tag"]}
    assert suffixes == {f"-{suffix}" for suffix in KNOWN_SUFFIXES}


def test_pattern_routes_every_suffix_the_tag_grammar_knows(function: dict[str, Any]) -> None:
    # A suffix the code knows but the rule drops would never be assembled.
    tags = importlib.import_module("ecr_multiarch.domain.tags")
    pattern = the_rule_pattern(function)
    event = load_event("push-amd64.json")
    unrouted = [s for s in tags.DEFAULT_SUFFIXES if not matches(pattern, with_tag(event, f"1.0-{s}"))]
    assert not unrouted, f"the rule never delivers tags ending in {unrouted}"


def test_pattern_does_not_filter_on_media_types(function: dict[str, Any]) -> None:
    # Absent fields never match, and older events have no media types.
    detail = the_rule_pattern(function)["detail"]
    assert "manifest-media-type" not in detail
    assert "artifact-media-type" not in detail


@pytest.mark.parametrize("event_file", MATCHING_EVENTS)
def test_pattern_matches_arch_tag_pushes(function: dict[str, Any], event_file: str) -> None:
    assert matches(the_rule_pattern(function), load_event(event_file))


@pytest.mark.parametrize("event_file", NON_MATCHING_EVENTS)
def test_pattern_ignores_other_events(function: dict[str, Any], event_file: str) -> None:
    assert not matches(the_rule_pattern(function), load_event(event_file))


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("1.0-arm64", True),
        ("1.19.2-alpine-amd64", True),
        *[(f"1.0-{suffix}", True) for suffix in KNOWN_SUFFIXES],
        ("1.0", False),
        ("1.0-arm64-debug", False),
        ("latest", False),
        ("arm64", False),
        ("1.0-ARM64", False),
        ("1.0_arm64", False),
        ("1.0-arm64 ", False),
        ("", False),
        (None, False),
    ],
)
def test_pattern_on_synthetic_tags(function: dict[str, Any], tag: str | None, expected: bool) -> None:
    event = with_tag(load_event("push-amd64.json"), tag)
    assert matches(the_rule_pattern(function), event) is expected


def test_pattern_matches_events_without_media_types(function: dict[str, Any]) -> None:
    event = load_event("push-arm64.json")
    del event["detail"]["manifest-media-type"]
    del event["detail"]["artifact-media-type"]
    assert matches(the_rule_pattern(function), event)


@pytest.mark.parametrize(
    ("field", "value"),
    [("result", "FAILURE"), ("action-type", "DELETE"), ("source", "aws.ecr-public")],
)
def test_pattern_ignores_failed_deleted_or_foreign_events(function: dict[str, Any], field: str, value: str) -> None:
    event = load_event("push-amd64.json")
    if field in event["detail"]:
        event["detail"][field] = value
    else:
        event[field] = value
    assert not matches(the_rule_pattern(function), event)


# ---------------------------------------------------------------------------- policy


def test_policy_allows_only_the_three_ecr_actions(template: dict[str, Any]) -> None:
    statements = policy_statements(template)
    assert statements
    actions: set[str] = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        statement_actions = as_list(statement["Action"])
        assert not [a for a in statement_actions if "*" in a or "?" in a], "no wildcard actions"
        actions.update(statement_actions)
    assert actions == ALLOWED_ACTIONS


def repository_arns(template: dict[str, Any], names: str | None = None) -> list[str]:
    overrides = {} if names is None else {REPOSITORY_PARAMETER: names}
    return [arn for s in policy_statements(template, **overrides) for arn in as_list(s["Resource"])]


def arn(name: str) -> str:
    return f"arn:aws:ecr:us-east-1:123456789012:repository/{name}"


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (None, [arn("*")]),
        ("*", [arn("*")]),
        ("golang", [arn("golang")]),
        ("golang,team/app,base-*", [arn("golang"), arn("team/app"), arn("base-*")]),
        (",".join(f"repo{i}" for i in range(10)), [arn(f"repo{i}") for i in range(10)]),
    ],
)
def test_policy_resources_follow_repository_names(
    template: dict[str, Any], names: str | None, expected: list[str]
) -> None:
    assert repository_arns(template, names) == expected


@pytest.mark.parametrize(
    ("names", "valid"),
    [
        ("*", True),
        ("golang", True),
        ("golang,team/app,base-*", True),
        (",".join(f"repo{i}" for i in range(10)), True),
        (",".join(f"repo{i}" for i in range(11)), False),  # would silently drop the 11th
        ("golang, python", False),
        ("Golang", False),
        ("", False),
        ("golang,", False),
    ],
)
def test_repository_names_pattern(template: dict[str, Any], names: str, valid: bool) -> None:
    pattern = template["Parameters"][REPOSITORY_PARAMETER]["AllowedPattern"]
    assert (re.fullmatch(pattern, names) is not None) is valid


# ---------------------------------------------------------------------------- events


DOCUMENTED_KEYS = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
REQUIRED_DETAIL_KEYS = {"result", "repository-name", "image-digest", "action-type"}
OPTIONAL_DETAIL_KEYS = {"image-tag", "manifest-media-type", "artifact-media-type"}
# ECR Replication Action (in the destination region): where the image came from, and no media types.
REPLICATION_DETAIL_KEYS = REQUIRED_DETAIL_KEYS | {"image-tag", "source-account", "source-region"}
MANIFEST_MEDIA_TYPES = {
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
}


@pytest.mark.parametrize("event_file", sorted(p.name for p in EVENTS_DIR.glob("*.json")))
def test_event_file_has_the_documented_shape(event_file: str) -> None:
    event = load_event(event_file)
    assert set(event) == DOCUMENTED_KEYS
    assert event["version"] == "0"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", event["id"])
    assert event["source"] == "aws.ecr"
    assert event["detail-type"] in {"ECR Image Action", "ECR Replication Action"}
    assert re.fullmatch(r"\d{12}", event["account"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    assert re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", event["region"])
    assert isinstance(event["resources"], list)

    detail = event["detail"]
    if event["detail-type"] == "ECR Replication Action":
        assert set(detail) == REPLICATION_DETAIL_KEYS and detail["action-type"] == "REPLICATE"
        assert re.fullmatch(r"\d{12}", detail["source-account"])
        assert re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", detail["source-region"])
    else:
        assert REQUIRED_DETAIL_KEYS <= set(detail) <= REQUIRED_DETAIL_KEYS | OPTIONAL_DETAIL_KEYS
        assert detail["action-type"] in {"PUSH", "DELETE"}
    assert detail["result"] == "SUCCESS"
    assert re.fullmatch(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*", detail["repository-name"])
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", detail["image-digest"])
    assert isinstance(detail.get("image-tag", ""), str)
    if "manifest-media-type" in detail:
        assert detail["manifest-media-type"] in MANIFEST_MEDIA_TYPES


# ------------------------------------------------------------------ failure handling (never lost)


def test_failed_invocations_retry_then_land_in_the_encrypted_queue(template: dict[str, Any]) -> None:
    function_properties = template["Resources"][FUNCTION_ID]["Properties"]
    invoke_config = function_properties["EventInvokeConfig"]
    assert invoke_config["MaximumRetryAttempts"] == 2
    assert 60 <= invoke_config["MaximumEventAgeInSeconds"] <= 21600
    assert invoke_config["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS", "Destination": {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}
    }
    queue = template["Resources"]["FailedEventsQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True


def test_the_rule_target_has_its_own_retry_policy_and_dead_letter_queue(function: dict[str, Any]) -> None:
    (rule,) = function["Properties"]["Events"].values()
    properties = rule["Properties"]
    assert properties["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}}
    assert properties["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert properties["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 86400


@pytest.mark.parametrize(
    ("alarm", "namespace", "metric"),
    [("FailedEventsAlarm", "AWS/SQS", "ApproximateNumberOfMessagesVisible"),
     ("FunctionErrorsAlarm", "AWS/Lambda", "Errors")],
)
def test_alarms_watch_the_queue_and_the_function(
    template: dict[str, Any], alarm: str, namespace: str, metric: str
) -> None:
    properties = template["Resources"][alarm]["Properties"]
    assert (properties["Namespace"], properties["MetricName"]) == (namespace, metric)
    assert properties["Threshold"] == 0 and properties["ComparisonOperator"] == "GreaterThanThreshold"
    assert properties["AlarmActions"] == {"Fn::If": ["HasAlarmEmail", [{"Ref": "AlarmTopic"}],
                                                     {"Ref": "AWS::NoValue"}]}
    assert template["Resources"]["AlarmTopic"]["Condition"] == "HasAlarmEmail"


def test_reserved_concurrency_is_a_parameter_and_zero_means_none(template: dict[str, Any]) -> None:
    assert template["Parameters"]["ReservedConcurrency"]["Default"] == 0
    assert template["Resources"][FUNCTION_ID]["Properties"]["ReservedConcurrentExecutions"] == {
        "Fn::If": ["HasReservedConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }


def test_logs_are_kept_for_a_bounded_time_and_tracing_is_on(template: dict[str, Any]) -> None:
    # The log group's name and wiring: test_operations.
    assert template["Resources"]["AssemblerFunctionLogGroup"]["Properties"]["RetentionInDays"] > 0
    assert function_property(template, "Tracing") == "Active"
