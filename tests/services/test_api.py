"""The orchestration REST API, served by a real process, spoken to over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from tasker_cluster.services.orchestration.app import ROUTES
from tasker_cluster.services.templates import TemplateRegistry

from .support import ServiceFactory, ServiceProcess, create_task, step_mapping, task_request

MATH = {"namespace": "linear_workflow", "name": "mathematical_sequence"}


@pytest.fixture(scope="module")
def orchestration(module_services: ServiceFactory) -> ServiceProcess:
    url = f"sqlite:///{module_services.directory / 'api.sqlite3'}"
    return module_services.orchestration("orchestration-api", url)


@pytest.fixture
def client(orchestration: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=orchestration.url, timeout=10) as http:
        yield http


UPSTREAM_CODES = {"BadRequest": "BAD_REQUEST", "NotFound": "NOT_FOUND", "Conflict": "CONFLICT"}


def _error(response: httpx.Response, status: int, kind: str, variant: str) -> str:
    """The message of an error answered as tasker-core's document describes it
    (`{variant: {message}}`) and as its server sends it (`{"error": {code, message}}`, the
    code upper-case), our `kind` added, all saying the same."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {variant, "error"}, body
    assert (body["error"]["code"], body["error"]["kind"]) == (UPSTREAM_CODES[variant], kind)
    message: str = body["error"]["message"]
    assert body[variant] == {"message": message}
    return message


def _total(client: httpx.Client) -> int:
    return int(client.get("/v1/tasks", params={"per_page": 1}).json()["pagination"]["total_count"])


def test_health_endpoints(client: httpx.Client) -> None:
    health = client.get("/health").json()
    assert health["status"] == "healthy" and health["instance_id"] == "orchestration-api"
    assert health["timestamp"].endswith("Z")
    assert client.get("/health/live").json()["status"] == "alive"
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"]["status"] == "healthy"
    assert client.get("/live").json()["status"] == "alive"
    assert client.get("/ready").json()["checks"]["web_database"]["status"] == "healthy"
    detailed = client.get("/health/detailed").json()
    assert detailed["status"] == "healthy"
    upstream = {"web_database", "orchestration_database", "circuit_breaker", "command_processor"}
    assert upstream | {"database", "orchestration_loop"} <= set(detailed["checks"])
    assert detailed["info"]["database_backend"] == "sqlite"
    assert detailed["info"]["faults"] == "none"


def test_creating_a_task_returns_its_steps(client: httpx.Client) -> None:
    created = create_task(client, "", **MATH, context={"even_number": 4}, tags=["t1"])
    assert created["status"] == "pending" and created["total_steps"] == 4
    assert list(step_mapping(created)) == [f"linear_step_{n}" for n in range(1, 5)]
    assert created["context"] == {"even_number": 4}
    task = client.get(f"/v1/tasks/{created['task_uuid']}").json()
    assert task["context"] == {"even_number": 4}
    assert task["tags"] == ["t1"]
    assert task["version"] == "1.0.0" and task["priority"] == 0
    assert uuid.UUID(task["correlation_id"])
    assert task["total_steps"] == 4
    assert step_mapping(task) == step_mapping(created)
    first = task["steps"][0]
    assert first["dependencies_satisfied"] is True and first["total_parents"] == 0


def test_steps_audit_and_transitions(client: httpx.Client) -> None:
    created = create_task(client, "", **MATH, context={"even_number": 2})
    task_uuid = created["task_uuid"]
    step_uuid = step_mapping(created)["linear_step_2"]
    steps = client.get(f"/v1/tasks/{task_uuid}/workflow_steps").json()
    assert [step["name"] for step in steps] == [f"linear_step_{n}" for n in range(1, 5)]
    step = client.get(f"/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}").json()
    assert step["dependencies"] == ["linear_step_1"]
    assert step["current_state"] == "pending" and step["max_attempts"] == 3
    assert step["step_uuid"] == step_uuid and step["total_parents"] == 1
    assert step["dependencies_satisfied"] is False and step["ready_for_execution"] is False
    # tasker-core's audit is one row per recorded result: none before the step has run
    assert client.get(f"/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}/audit").json() == []
    path = f"/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}/transitions"
    history = client.get(path).json()
    assert [(row["from_state"], row["to_state"]) for row in history] == [(None, "pending")]
    assert history[0]["processor"] == "orchestration-api" and history[0]["most_recent"] is True
    transitions = client.get(f"/v1/tasks/{task_uuid}/transitions").json()
    assert transitions[0]["to_state"] == "pending"
    assert transitions[0]["processor"] == "orchestration-api"
    assert [row["sort_key"] for row in transitions] == list(range(1, len(transitions) + 1))
    assert [row["most_recent"] for row in transitions][-1] is True


def test_listing_pages_and_filters(client: httpx.Client) -> None:
    for width in (1, 2, 3):
        create_task(client, "", "load_testing", "fan_out", {"width": width})
    page = client.get("/v1/tasks", params={"namespace": "load_testing", "per_page": 2}).json()
    assert page["pagination"]["per_page"] == 2
    assert page["pagination"]["total_count"] >= 3
    assert page["pagination"]["has_next"] is True and page["pagination"]["has_previous"] is False
    assert all(task["namespace"] == "load_testing" for task in page["tasks"])
    last = page["pagination"]["total_pages"]
    final = client.get(
        "/v1/tasks", params={"namespace": "load_testing", "per_page": 2, "page": last}
    ).json()
    assert final["pagination"]["has_next"] is False and final["pagination"]["has_previous"]
    assert client.get("/v1/tasks", params={"status": "complete"}).json()["tasks"] == []


def test_cancelling_twice_changes_nothing_the_second_time(client: httpx.Client) -> None:
    created = create_task(client, "", "load_testing", "sleep", {"seconds": 1})
    task_uuid = created["task_uuid"]
    response = client.delete(f"/v1/tasks/{task_uuid}")
    assert response.status_code == 200
    cancelled = response.json()
    assert cancelled["task_uuid"] == task_uuid and cancelled["status"] == "cancelled"
    assert {step["current_state"] for step in cancelled["steps"]} == {"cancelled"}
    assert client.get(f"/v1/tasks/{task_uuid}").json()["status"] == "cancelled"
    again = client.delete(f"/v1/tasks/{task_uuid}")
    assert again.status_code == 200 and again.json()["updated_at"] == cancelled["updated_at"]
    history = client.get(f"/v1/tasks/{task_uuid}/transitions").json()
    assert [row["to_state"] for row in history].count("cancelled") == 1


def test_a_manual_action_the_step_state_refuses_is_a_conflict(client: httpx.Client) -> None:
    created = create_task(client, "", "load_testing", "sleep", {"seconds": 1})
    step_uuid = step_mapping(created)["sleep"]
    path = f"/v1/tasks/{created['task_uuid']}/workflow_steps/{step_uuid}"
    reset = {"action_type": "reset_for_retry", "reason": "try again", "reset_by": "ops"}
    # the step moves on while this runs (a worker may claim it), so its state is read back
    message = _error(client.patch(path, json=reset), 409, "step_state_conflict", "Conflict")
    prefix, _, rest = message.partition(" is ")
    state, _, tail = rest.partition("; ")
    assert (prefix, tail) == (f"step {step_uuid}", "reset_for_retry is only for a step in error")
    assert state in {"pending", "enqueued", "in_progress"}, message
    resolve = {"action_type": "resolve_manually", "reason": "done by hand", "resolved_by": "ops"}
    resolved = client.patch(path, json=resolve)
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["current_state"] == "resolved_manually"
    message = _error(client.patch(path, json=resolve), 409, "step_state_conflict", "Conflict")
    assert message == (
        f"step {step_uuid} is resolved_manually; resolve_manually is only for a step that is"
        " not terminal"
    )
    bad = client.patch(path, json={"action_type": "explode"})
    assert _error(bad, 400, "invalid_field", "BadRequest").startswith("field 'action_type'")
    complete = {
        "action_type": "complete_manually",
        "reason": "done by hand",
        "completed_by": "ops",
        "completion_data": {"result": {}, "metadata": True},
    }
    message = _error(client.patch(path, json=complete), 400, "invalid_field", "BadRequest")
    assert message.startswith("field 'completion_data.metadata'"), message


def test_templates_are_listed(client: httpx.Client) -> None:
    templates = client.get("/v1/templates").json()["templates"]
    fan_out = next(t for t in templates if t["name"] == "fan_out")
    assert fan_out["namespace"] == "load_testing" and fan_out["version"] == "1.0.0"
    assert fan_out["steps"][1] == {
        "name": "join",
        "handler": "fan_out_join",
        "dependencies": ["fan_out_{i}"],
    }


VALID = task_request(**MATH, context={"even_number": 2})
BAD = 400, "invalid_field", "BadRequest"


def _without(name: str) -> dict[str, Any]:
    return {key: value for key, value in VALID.items() if key != name}


BAD_BODIES: list[tuple[Any, tuple[int, str, str], str]] = [
    (
        b"{not json",
        (400, "malformed_json", "BadRequest"),
        "request body is not valid JSON: Expecting property"
        " name enclosed in double quotes: line 1 column 2 (char 1)",
    ),
    (b"[1, 2]", BAD, "field 'body' must be a JSON object (a TaskRequest), got an array"),
    ({**VALID, "name": 5}, BAD, "field 'name' must be a string, got 5"),
    (_without("version"), BAD, "field 'version' is required: expected a string"),
    (
        {**VALID, "priority": 2**40},
        BAD,
        "field 'priority' must be a 32-bit integer or null, got 1099511627776",
    ),
    (
        {**VALID, "priority": "high"},
        BAD,
        "field 'priority' must be a 32-bit integer or null, got 'high'",
    ),
    ({**VALID, "tags": "x"}, BAD, "field 'tags' must be an array of strings, got 'x'"),
    (
        {**VALID, "tags": ["a\x00"]},
        BAD,
        "field 'tags' must be an array of at most 100 strings without NUL characters, got an array",
    ),
    (
        {**VALID, "correlation_id": "nope"},
        BAD,
        "field 'correlation_id' must be a UUID string like 123e4567-e89b-12d3-a456-426614174000,"
        " got 'nope'",
    ),
    (
        _without("requested_at"),
        BAD,
        "field 'requested_at' is required: expected an RFC 3339 date-time",
    ),
    (
        {**VALID, "requested_at": "yesterday"},
        BAD,
        "field 'requested_at' must be an RFC 3339 date-time like 2026-01-31T12:00:00Z,"
        " got 'yesterday'",
    ),
    (_without("context"), BAD, "field 'context' is required: expected a JSON object"),
    ({**VALID, "context": []}, BAD, "field 'context' must be a JSON object, got an array"),
    (
        {**VALID, "context": {"even_number": 7}},
        BAD,
        "field 'context.even_number' must be an integer in -1e+06..1e+06 and a multiple of 2,"
        " got 7",
    ),
    (
        {**VALID, "name": "no_such", "context": {}},
        (404, "template_not_found", "NotFound"),
        "no task template linear_workflow/no_such/1.0.0; GET /v1/templates lists the templates",
    ),
    (
        b'{"name": "x", "namespace": "y", "context": {"n": NaN}}',
        (400, "malformed_json", "BadRequest"),
        "request body is not valid JSON: NaN is not valid JSON",
    ),
]


@pytest.mark.parametrize(("body", "expected", "message"), BAD_BODIES)
def test_bad_requests_get_a_precise_4xx_and_store_nothing(
    client: httpx.Client, body: Any, expected: tuple[int, str, str], message: str
) -> None:
    before = _total(client)
    if isinstance(body, bytes):
        response = client.post(
            "/v1/tasks", content=body, headers={"content-type": "application/json"}
        )
    else:
        response = client.post("/v1/tasks", json=body)
    assert _error(response, *expected) == message
    assert _total(client) == before


def test_unknown_and_malformed_ids(client: httpx.Client) -> None:
    missing = str(uuid.uuid4())
    not_found = 404, "task_not_found", "NotFound"
    assert _error(client.get(f"/v1/tasks/{missing}"), *not_found) == f"no task {missing}"
    assert _error(client.delete(f"/v1/tasks/{missing}"), *not_found)
    assert _error(client.get(f"/v1/tasks/{missing}/transitions"), *not_found)
    # upstream documents no 404 for a task's step list: an unknown task has no steps
    assert client.get(f"/v1/tasks/{missing}/workflow_steps").json() == []
    created = create_task(client, "", **MATH, context={"even_number": 2})
    step_path = f"/v1/tasks/{created['task_uuid']}/workflow_steps/{missing}"
    assert _error(client.get(step_path), 404, "step_not_found", "NotFound") == (
        f"task {created['task_uuid']} has no workflow step {missing}"
    )
    # upstream types path uuids as strings: one that is not a UUID names nothing (404)
    assert _error(client.get("/v1/tasks/abc"), *not_found) == "no task abc"
    bad_page = client.get("/v1/tasks", params={"page": "x"})
    assert _error(bad_page, 400, "invalid_parameter", "BadRequest") == (
        "parameter 'page' must be an integer of 0 or more, got 'x'"
    )
    empty_page = client.get("/v1/tasks?page=")
    assert _error(empty_page, 400, "invalid_parameter", "BadRequest") == (
        "parameter 'page' must be an integer of 0 or more, got ''"
    )
    clamped = client.get("/v1/tasks", params={"per_page": 101}).json()
    assert clamped["pagination"]["per_page"] == 100
    assert client.get("/v1/tasks", params={"status": "done"}).json()["tasks"] == []


def test_unknown_routes_and_methods_answer_in_json(client: httpx.Client) -> None:
    assert _error(client.get("/v2/tasks"), 404, "not_found", "NotFound") == (
        "no route GET /v2/tasks; GET /api-docs/openapi.json lists the routes"
    )
    response = client.put("/v1/tasks")
    assert _error(response, 405, "method_not_allowed", "BadRequest") == (
        "method PUT is not allowed on /v1/tasks"
    )
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


def test_metrics_are_labelled_with_the_instance(client: httpx.Client) -> None:
    create_task(client, "", **MATH, context={"even_number": 2})
    client.get("/v1/tasks/not-a-uuid")
    text = client.get("/metrics").text
    series = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert series and all('{instance="orchestration-api"' in line for line in series)
    created = next(s for s in series if s.startswith("tasker_tasks_created_total"))
    assert float(created.rsplit(" ", 1)[1]) >= 1
    assert any('route="/v1/tasks/{task_uuid}",status="404"' in line for line in series), (
        "requests are counted by route template"
    )
    for name in (
        "tasker_tasks_completed_total",
        "tasker_steps_enqueued_total",
        "tasker_step_results_processed_total",
        "tasker_duplicate_results_total",
        "tasker_claim_conflicts_total",
    ):
        assert any(line.startswith(name + "{") for line in series), name


def test_the_openapi_document_lists_every_route(client: httpx.Client) -> None:
    document = client.get("/api-docs/openapi.json").json()
    assert document["openapi"] == "3.0.3"
    assert set(document["paths"]) == {
        "/health",
        "/health/ready",
        "/ready",
        "/health/live",
        "/live",
        "/health/detailed",
        "/metrics",
        "/config",
        "/v1/templates",
        "/v1/templates/{namespace}/{name}/{version}",
        "/v1/tasks",
        "/v1/tasks/{task_uuid}",
        "/v1/tasks/{task_uuid}/summary",
        "/v1/tasks/{task_uuid}/transitions",
        "/v1/tasks/{task_uuid}/workflow_steps",
        "/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}",
        "/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}/audit",
        "/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}/transitions",
        "/v1/dlq",
        "/v1/dlq/task/{task_uuid}",
        "/v1/dlq/entry/{dlq_entry_uuid}",
        "/v1/dlq/stats",
        "/v1/dlq/investigation-queue",
        "/v1/dlq/staleness",
        "/v1/analytics/performance",
        "/v1/analytics/bottlenecks",
    }
    served = {route.path for route in ROUTES if isinstance(route, Route)}
    assert set(document["paths"]) | {"/api-docs/openapi.json"} == served
    step = document["paths"]["/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}"]
    assert set(step) == {"get", "patch"}
    variants = document["components"]["schemas"]["TaskRequest"]["oneOf"]
    assert len(variants) == len(TemplateRegistry.builtin().all()), "one per built-in template"
