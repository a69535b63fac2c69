"""Templates as data files, context validation, and the built-in step handlers."""

from __future__ import annotations

from typing import Any

import pytest

from tasker_cluster.services.errors import (
    InvalidFieldError,
    TemplateError,
    TemplateNotFoundError,
    UnknownHandlerError,
)
from tasker_cluster.services.handlers import HandlerRegistry, StepContext, StepHandlerResult
from tasker_cluster.services.templates import TemplateRegistry, parse_template

TEMPLATES = TemplateRegistry.builtin()
HANDLERS = HandlerRegistry.builtin()


def test_the_documented_templates_exist() -> None:
    keys = {template.key for template in TEMPLATES.all()}
    assert keys == {
        ("linear_workflow", "mathematical_sequence", "1.0.0"),
        ("diamond_workflow", "diamond", "1.0.0"),
        ("load_testing", "fan_out", "1.0.0"),
        ("load_testing", "sleep", "1.0.0"),
        ("load_testing", "cpu_burn", "1.0.0"),
        ("retry_workflow", "flaky", "1.0.0"),
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
