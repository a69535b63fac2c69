"""Templates in tasker-core's YAML format, context validation, and the built-in step handlers."""

from __future__ import annotations

import importlib
import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest

from tasker_cluster.services.errors import (
    InvalidFieldError,
    TemplateError,
    TemplateNotFoundError,
    UnknownHandlerError,
)
from tasker_cluster.services.handlers import HandlerRegistry, StepContext, StepHandlerResult
from tasker_cluster.services.templates import TemplateRegistry, parse_template
from tasker_cluster.services.templates.yaml_format import load_directory, parse_yaml

from .support import ServiceFactory, create_task, wait_for_task
from .upstream import UPSTREAM, require

yaml: Any = importlib.import_module("yaml")  # untyped: PyYAML ships no stubs
TEMPLATES = TemplateRegistry.builtin()
HANDLERS = HandlerRegistry.builtin()
BUILTIN_FILES = sorted(
    (entry.name, entry.read_text(encoding="utf-8"))
    for entry in resources.files("tasker_cluster.services.templates").iterdir()
    if entry.name.endswith(".yaml")
)
TEMPLATE_SCHEMA = UPSTREAM / "schemas" / "task-template.json"
UPSTREAM_SAMPLES = UPSTREAM / "task_templates"
PYTHON_FIXTURES = {
    ("linear_workflow_py", "mathematical_sequence_py", "1.0.0"): [
        "linear_step_1_py",
        "linear_step_2_py",
        "linear_step_3_py",
        "linear_step_4_py",
    ],
    ("diamond_workflow_py", "parallel_computation_py", "1.0.0"): [
        "diamond_start_py",
        "diamond_branch_b_py",
        "diamond_branch_c_py",
        "diamond_end_py",
    ],
    ("test_scenarios_py", "success_only_py", "1.0.0"): ["success_step_py"],
    ("test_scenarios_py", "retryable_error_only_py", "1.0.0"): ["retryable_error_step_py"],
    ("test_scenarios_py", "permanent_error_only_py", "1.0.0"): ["permanent_error_step_py"],
}


def test_the_documented_templates_exist() -> None:
    keys = {template.key for template in TEMPLATES.all()}
    assert keys == {
        ("linear_workflow", "mathematical_sequence", "1.0.0"),
        ("diamond_workflow", "diamond", "1.0.0"),
        ("load_testing", "fan_out", "1.0.0"),
        ("load_testing", "sleep", "1.0.0"),
        ("load_testing", "cpu_burn", "1.0.0"),
        ("retry_workflow", "flaky", "1.0.0"),
        *PYTHON_FIXTURES,
    }
    for template in TEMPLATES.all():
        for step in template.steps:
            HANDLERS.get(step.handler)


def test_fan_out_steps_are_generated_from_the_width() -> None:
    template = TEMPLATES.get("load_testing", "fan_out", "1.0.0")
    context = template.validated_context({"width": 3})
    assert context == {"width": 3, "sleep_ms": 0}
    steps = template.expand(context)
    assert [step.name for step in steps] == ["fan_out_1", "fan_out_2", "fan_out_3", "join"]
    assert steps[-1].dependencies == ("fan_out_1", "fan_out_2", "fan_out_3")
    assert all(step.dependencies == () for step in steps[:-1])


@pytest.mark.parametrize(
    ("template", "context", "message"),
    [
        (
            ("load_testing", "fan_out"),
            {},
            "field 'context.width' is required: expected an integer in 1..1000",
        ),
        (
            ("load_testing", "fan_out"),
            {"width": 1001},
            "field 'context.width' must be an integer in 1..1000, got 1001",
        ),
        (
            ("load_testing", "fan_out"),
            {"width": True},
            "field 'context.width' must be an integer in 1..1000, got true",
        ),
        (
            ("linear_workflow", "mathematical_sequence"),
            {"even_number": 3},
            "field 'context.even_number' must be an integer in -1e+06..1e+06 and a multiple of 2,"
            " got 3",
        ),
        (
            ("load_testing", "sleep"),
            {"seconds": "1"},
            "field 'context.seconds' must be a number in 0..3600, got '1'",
        ),
    ],
)
def test_bad_contexts_are_rejected_by_field(
    template: tuple[str, str], context: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidFieldError) as raised:
        TEMPLATES.get(*template, "1.0.0").validated_context(context)
    assert str(raised.value) == message


def test_unknown_template_names_the_listing_route() -> None:
    with pytest.raises(TemplateNotFoundError) as raised:
        TEMPLATES.get("load_testing", "fan_in", "1.0.0")
    assert str(raised.value) == (
        "no task template load_testing/fan_in/1.0.0; GET /v1/templates lists the templates"
    )


def test_malformed_template_files_are_refused() -> None:
    with pytest.raises(TemplateError, match="depends on \\['b'\\], which are not defined"):
        parse_template(
            "bad.json",
            {
                "namespace": "n",
                "name": "x",
                "version": "1",
                "steps": [{"name": "a", "handler": "square", "dependencies": ["b"]}],
            },
        )
    with pytest.raises(TemplateError, match="KeyError"):
        parse_template("empty.json", {})


def _run(handler: str, data: dict[str, Any], deps: dict[str, Any], retry: int = 0) -> Any:
    context = StepContext("t", "s", "step", data, deps, retry_count=retry, max_retries=4)
    result: StepHandlerResult = HANDLERS.get(handler).call(context)
    return result


def test_the_mathematical_sequence_squares_four_times() -> None:
    value: Any = None
    for index in range(4):
        deps = {} if index == 0 else {"previous": {"value": value}}
        value = _run("square", {"even_number": 6}, deps).result["value"]
    assert value == 6**16


def test_join_counts_its_fan_out() -> None:
    deps = {f"fan_out_{n}": {"value": 1} for n in range(1, 8)}
    assert _run("fan_out_join", {"width": 7}, deps).result == {"value": 7}


def test_flaky_fails_retryably_then_succeeds() -> None:
    first = _run("flaky", {"fail_times": 2}, {}, retry=0)
    assert (first.success, first.retryable) == (False, True)
    assert first.error_message == "flaky step failed on attempt 1 (fails 2 times)"
    assert _run("flaky", {"fail_times": 2}, {}, retry=2).result == {"attempts": 3}


def test_unknown_handler_lists_the_known_ones() -> None:
    with pytest.raises(UnknownHandlerError, match="unknown step handler 'nope'; known handlers"):
        HANDLERS.get("nope")


# --- tasker-core's YAML format ---------------------------------------------------------------


def _samples(into: Path) -> Path:
    """tasker-core's sample templates, copied into `into` (never into the project)."""
    source = require(UPSTREAM_SAMPLES, "tasker-core's sample task templates")
    into.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.yaml")):
        shutil.copy(path, into / path.name)
    return into


@pytest.mark.parametrize(("name", "text"), BUILTIN_FILES, ids=[name for name, _ in BUILTIN_FILES])
def test_builtin_templates_validate_against_tasker_cores_schema(name: str, text: str) -> None:
    jsonschema = pytest.importorskip(
        "jsonschema", reason="jsonschema is not installed (schemathesis brings it)"
    )
    schema_path = require(TEMPLATE_SCHEMA, "tasker-core's task-template.json")
    validator = jsonschema.Draft7Validator(json.loads(schema_path.read_text(encoding="utf-8")))
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(yaml.safe_load(text))
    ]
    assert errors == [], f"{name} breaks tasker-core's template schema"
    assert parse_yaml(name, text).key in {template.key for template in TEMPLATES.all()}


def test_python_fixture_templates_have_upstreams_names_and_steps() -> None:
    for key, step_names in PYTHON_FIXTURES.items():
        template = TEMPLATES.get(*key)
        assert [step.name for step in template.steps] == step_names
        for step in template.steps:
            handler = HANDLERS.get(step.handler)
            assert handler.handler_name == step.handler


def test_python_fixture_templates_match_upstreams_files(tmp_path: Path) -> None:
    theirs = {t.key: t for t in load_directory(_samples(tmp_path / "upstream"), "development")}
    for key in PYTHON_FIXTURES:
        ours, upstream = TEMPLATES.get(*key), theirs[key]
        assert [
            (s.name, s.handler, s.dependencies, s.max_attempts, s.retryable, s.retry_backoff_ms)
            for s in ours.steps
        ] == [
            (s.name, s.handler, s.dependencies, s.max_attempts, s.retryable, s.retry_backoff_ms)
            for s in upstream.steps
        ], key
        assert ours.context_fields == upstream.context_fields, key


def _outcome(handler: str, data: dict[str, Any], deps: dict[str, Any]) -> StepHandlerResult:
    context = StepContext("t", "s", "step", data, deps, retry_count=0, max_retries=2)
    return HANDLERS.get(handler).call(context)


def test_linear_py_handlers_square_add_multiply_divide() -> None:
    template = TEMPLATES.get("linear_workflow_py", "mathematical_sequence_py", "1.0.0")
    results: dict[str, Any] = {}
    for step in template.steps:
        deps = {name: results[name] for name in step.dependencies}
        outcome = _outcome(step.handler, {"even_number": 6}, deps)
        assert outcome.success, outcome.error_message
        results[step.name] = outcome.result
    assert [r["result"] for r in results.values()] == [36, 46, 138, 69.0]
    odd = _outcome(template.steps[0].handler, {"even_number": 7}, {})
    assert (odd.success, odd.retryable) == (False, False)
    assert odd.error_message == "task context must contain an even integer 'even_number', got 7"


def test_diamond_py_handlers_average_their_branches() -> None:
    template = TEMPLATES.get("diamond_workflow_py", "parallel_computation_py", "1.0.0")
    results: dict[str, Any] = {}
    for step in template.steps:
        deps = {name: results[name] for name in step.dependencies}
        results[step.name] = _outcome(step.handler, {"even_number": 6}, deps).result
    assert {name: r["result"] for name, r in results.items()} == {
        "diamond_start_py": 36,
        "diamond_branch_b_py": 61,
        "diamond_branch_c_py": 72,
        "diamond_end_py": 66.5,
    }


def test_test_scenario_handlers() -> None:
    def bound(name: str) -> str:
        return TEMPLATES.get("test_scenarios_py", name, "1.0.0").steps[0].handler

    success = _outcome(bound("success_only_py"), {"message": "hi"}, {})
    assert (success.success, success.result) == (True, {"outcome": "success", "message": "hi"})
    retryable = _outcome(bound("retryable_error_only_py"), {}, {})
    assert (retryable.success, retryable.retryable) == (False, True)
    assert retryable.error_message == "retryable error (attempt 1)"
    permanent = _outcome(bound("permanent_error_only_py"), {"error_message": "no"}, {})
    assert (permanent.success, permanent.retryable, permanent.error_message) == (False, False, "no")
    template = TEMPLATES.get("test_scenarios_py", "permanent_error_only_py", "1.0.0")
    assert (template.steps[0].max_attempts, template.steps[0].retryable) == (1, False)


def test_handlers_are_found_by_template_callable() -> None:
    assert HANDLERS.get("TaskerCluster::FanOutJoinHandler").handler_name == "fan_out_join"
    assert HANDLERS.get("linear_workflow.step_handlers.LinearStep4Handler") is HANDLERS.get(
        "TaskerCluster::LinearWorkflow::LinearStep4Handler"
    )


def test_upstream_samples_load_from_the_template_path(tmp_path: Path) -> None:
    folder = _samples(tmp_path / "templates" / "python")
    loaded = load_directory(tmp_path / "templates", "development")
    assert {t.key for t in loaded} == {
        *PYTHON_FIXTURES,
        ("conditional_approval_py", "approval_routing_py", "1.0.0"),
    }
    registry = TemplateRegistry.from_environ({"TASKER_TEMPLATE_PATH": str(folder)})
    keys = {t.key for t in registry.all()}
    assert keys == {t.key for t in TEMPLATES.all()} | {t.key for t in loaded}
    # steps are ordered dependencies-first, whatever the file's order
    approval = registry.get("conditional_approval_py", "approval_routing_py", "1.0.0")
    assert approval.steps[-1].name == "finalize_approval_py"
    # `environments.<TASKER_ENV>` overrides apply: upstream's test environment allows 2 attempts
    tested = TemplateRegistry.from_environ(
        {"TASKER_TEMPLATE_PATH": str(folder), "TASKER_ENV": "test"}
    )
    linear = tested.get("linear_workflow_py", "mathematical_sequence_py", "1.0.0")
    assert {step.max_attempts for step in linear.steps} == {2}


def test_the_template_path_overrides_builtins_by_key(tmp_path: Path) -> None:
    (tmp_path / "fan_out.yaml").write_text(
        "name: fan_out\nnamespace_name: load_testing\nversion: 1.0.0\ndescription: mine\n"
        "steps:\n  - name: only\n    handler:\n      callable: TaskerCluster::SleepHandler\n",
        encoding="utf-8",
    )
    registry = TemplateRegistry.from_environ({"TASKER_TEMPLATE_PATH": str(tmp_path)})
    replaced = registry.get("load_testing", "fan_out", "1.0.0")
    assert replaced.description == "mine"
    assert [(step.name, step.handler) for step in replaced.steps] == [("only", "sleep")]
    assert len(registry.all()) == len(TEMPLATES.all())


GOOD_STEP = "  - name: a\n    handler:\n      callable: TaskerCluster::SquareHandler\n"
HEADER = "name: t\nnamespace_name: n\nversion: 1.0.0\n"
BROKEN = [
    (
        "version: 1.0.0\nname: t\nsteps:\n" + GOOD_STEP,
        "field 'namespace_name' is required; add 'namespace_name: my_namespace'",
    ),
    (
        "name: t\nnamespace_name: n\nversion: 1.0\nsteps:\n" + GOOD_STEP,
        "field 'version' must be a string x.y.z, got 1.0 (a number); write e.g. 'version: 1.0.0'",
    ),
    (HEADER + "steps: []\n", "field 'steps' must be a non-empty list of steps, got []"),
    (
        HEADER + "steps:\n" + GOOD_STEP + "  - name: b\n    handler: {}\n",
        "field 'steps[1].handler.callable' is required; write 'handler: {callable: ",
    ),
    (
        HEADER + "steps:\n  - name: Bad-Name\n    handler: {callable: X}\n",
        "field 'steps[0].name' must match ^[a-z][a-z0-9_]*$",
    ),
    (
        HEADER + "steps:\n" + GOOD_STEP + "    dependencies: [nope]\n",
        "field 'steps[0].dependencies' names ['nope'], which are not steps of this template;"
        " depend on some of: a",
    ),
    (
        HEADER + "steps:\n" + GOOD_STEP + "    dependencies: [b]\n"
        "  - name: b\n    handler: {callable: X}\n    dependencies: [a]\n",
        "field 'steps' have a dependency cycle among a, b",
    ),
    (
        HEADER + "steps:\n" + GOOD_STEP + "    retry: {backoff_base_ms: 50}\n",
        "field 'steps[0].retry.backoff_base_ms' must be an integer in 100.., got 50",
    ),
    (
        HEADER + "input_schema:\n  properties:\n    n: {type: int}\nsteps:\n" + GOOD_STEP,
        "field 'input_schema.properties.n.type' must be one of integer, number,",
    ),
    (HEADER + "steps: [\n", "is not valid YAML: "),
    ("- just\n- a list\n", "field '(document)' must be a mapping, got a list"),
]


@pytest.mark.parametrize(("text", "message"), BROKEN)
def test_a_broken_template_is_refused_naming_file_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "broken.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(TemplateError) as raised:
        TemplateRegistry.from_environ({"TASKER_TEMPLATE_PATH": str(tmp_path)})
    assert raised.value.source == str(tmp_path / "broken.yaml")
    assert str(raised.value).startswith(f"invalid task template {tmp_path / 'broken.yaml'}: ")
    assert message in str(raised.value)


def test_template_path_problems_are_named(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="TASKER_TEMPLATE_PATH must name a directory"):
        TemplateRegistry.from_environ({"TASKER_TEMPLATE_PATH": str(tmp_path / "missing")})
    text = HEADER + "steps:\n" + GOOD_STEP
    (tmp_path / "one.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "two.yml").write_text(text, encoding="utf-8")
    with pytest.raises(TemplateError) as raised:
        load_directory(tmp_path)
    assert str(raised.value) == (
        f"invalid task template {tmp_path / 'two.yml'}: template n/t/1.0.0 is also defined in"
        f" {tmp_path / 'one.yaml'}; give one of them another namespace_name, name or version"
    )


def test_a_service_serves_and_runs_tasker_cores_templates(
    services: ServiceFactory, sqlite_url: str, tmp_path: Path
) -> None:
    folder = _samples(tmp_path / "upstream_templates")
    env = {"TASKER_TEMPLATE_PATH": str(folder)}
    orchestration = services.orchestration("orchestration-1", sqlite_url, **env)
    services.worker("worker-python-1", sqlite_url, **env)
    with httpx.Client(timeout=10) as client:
        listed = client.get(f"{orchestration.url}/v1/templates").json()["templates"]
        keys = {(t["namespace"], t["name"], t["version"]) for t in listed}
        assert (
            set(PYTHON_FIXTURES)
            | {
                ("conditional_approval_py", "approval_routing_py", "1.0.0"),
                ("load_testing", "fan_out", "1.0.0"),
            }
            <= keys
        )
        runs = {
            ("linear_workflow_py", "mathematical_sequence_py"): ({"even_number": 6}, "complete"),
            ("diamond_workflow_py", "parallel_computation_py"): ({"even_number": 6}, "complete"),
            ("test_scenarios_py", "success_only_py"): ({}, "complete"),
            ("test_scenarios_py", "permanent_error_only_py"): ({}, "error"),
        }
        created = {
            key: create_task(client, orchestration.url, *key, context)["task_uuid"]
            for key, (context, _) in runs.items()
        }
        for key, (_, status) in runs.items():
            assert wait_for_task(client, orchestration.url, created[key]) == status, key
        linear = client.get(f"{orchestration.url}/v1/tasks/{created[next(iter(runs))]}").json()
        results = {step["name"]: step["results"] for step in linear["steps"]}
        assert results["linear_step_4_py"] == {"result": 69.0, "operation": "divide"}
        assert [results[f"linear_step_{i}_py"]["result"] for i in (1, 2, 3)] == [36, 46, 138]
