"""The orchestration REST API, served by a real process, spoken to over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .support import ServiceFactory, ServiceProcess, create_task

MATH = {"namespace": "linear_workflow", "name": "mathematical_sequence"}


@pytest.fixture(scope="module")
def orchestration(module_services: ServiceFactory) -> ServiceProcess:
    url = f"sqlite:///{module_services.directory / 'api.sqlite3'}"
    return module_services.orchestration("orchestration-api", url)


@pytest.fixture
def client(orchestration: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=orchestration.url, timeout=10) as http:
        yield http


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    message: str = body["error"]["message"]
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
    detailed = client.get("/health/detailed").json()
    assert detailed["status"] == "healthy"
    assert set(detailed["checks"]) == {"database", "orchestration_loop"}
    assert detailed["info"]["database_backend"] == "sqlite"
    assert detailed["info"]["faults"] == "none"


def test_creating_a_task_returns_its_steps(client: httpx.Client) -> None:
    created = create_task(client, "", **MATH, context={"even_number": 4}, tags=["t1"])
    assert created["status"] == "created"
    assert created["step_count"] == 4
    assert list(created["step_mapping"]) == [f"linear_step_{n}" for n in range(1, 5)]
    task = client.get(f"/v1/tasks/{created['task_uuid']}").json()
    assert task["context"] == {"even_number": 4}
    assert task["tags"] == ["t1"]
    assert task["version"] == "1.0.0" and task["priority"] == 0
    assert uuid.UUID(task["correlation_id"])
    assert task["total_steps"] == 4
    assert {step["step_uuid"] for step in task["steps"]} == set(created["step_mapping"].values())


def test_steps_audit_and_transitions(client: httpx.Client) -> None:
    created = create_task(client, "", **MATH, context={"even_number": 2})
    task_uuid = created["task_uuid"]
    step_uuid = created["step_mapping"]["linear_step_2"]
    steps = client.get(f"/v1/tasks/{task_uuid}/workflow_steps").json()
    assert [step["name"] for step in steps] == [f"linear_step_{n}" for n in range(1, 5)]
    step = client.get(f"/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}").json()
    assert step["dependencies"] == ["linear_step_1"]
    assert step["current_state"] == "pending" and step["max_attempts"] == 3
    audit = client.get(f"/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}/audit").json()
    assert [(row["from_state"], row["to_state"]) for row in audit] == [(None, "pending")]
    assert audit[0]["processor"] == "orchestration-api" and audit[0]["most_recent"] is True
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


def test_cancelling_twice_is_a_conflict(client: httpx.Client) -> None:
    created = create_task(client, "", "load_testing", "sleep", {"seconds": 1})
    task_uuid = created["task_uuid"]
    response = client.delete(f"/v1/tasks/{task_uuid}")
    assert response.json() == {"task_uuid": task_uuid, "status": "cancelled"}
    assert client.get(f"/v1/tasks/{task_uuid}").json()["status"] == "cancelled"
    message = _error(client.delete(f"/v1/tasks/{task_uuid}"), 409, "task_terminal")
    assert message == f"task {task_uuid} is already cancelled; only unfinished tasks can change"


def test_templates_are_listed(client: httpx.Client) -> None:
    templates = client.get("/v1/templates").json()["templates"]
    fan_out = next(t for t in templates if t["name"] == "fan_out")
    assert fan_out["namespace"] == "load_testing" and fan_out["version"] == "1.0.0"
    assert fan_out["steps"][1] == {
        "name": "join",
        "handler": "fan_out_join",
        "dependencies": ["fan_out_{i}"],
    }


BAD_BODIES: list[tuple[Any, int, str, str]] = [
    (
        b"{not json",
        400,
        "malformed_json",
        "request body is not valid JSON: Expecting property"
        " name enclosed in double quotes: line 1 column 2 (char 1)",
    ),
    (b"[1, 2]", 422, "invalid_field", "field 'body' must be a JSON object, got an array"),
    (
        {**MATH, "context": {"even_number": 2}, "name": 5},
        422,
        "invalid_field",
        "field 'name' must be a string of 1..128 letters, digits, '_', '.' or '-', got 5",
    ),
    (
        {**MATH, "context": {"even_number": 2}, "priority": 101},
        422,
        "invalid_field",
        "field 'priority' must be an integer in -100..100, got 101",
    ),
    (
        {**MATH, "context": {"even_number": 2}, "priority": "high"},
        422,
        "invalid_field",
        "field 'priority' must be an integer in -100..100, got 'high'",
    ),
    (
        {**MATH, "context": {"even_number": 2}, "tags": "x"},
        422,
        "invalid_field",
        "field 'tags' must be an array of at most 100 strings without NUL characters, got 'x'",
    ),
    (
        {**MATH, "context": {"even_number": 2}, "correlation_id": "nope"},
        422,
        "invalid_field",
        "field 'correlation_id' must be a UUID string like 123e4567-e89b-12d3-a456-426614174000,"
        " got 'nope'",
    ),
    ({**MATH}, 422, "invalid_field", "field 'context' is required: expected a JSON object"),
    (
        {**MATH, "context": []},
        422,
        "invalid_field",
        "field 'context' must be a JSON object, got an array",
    ),
    (
        {**MATH, "context": {"even_number": 7}},
        422,
        "invalid_field",
        "field 'context.even_number' must be an integer in -1e+06..1e+06 and a multiple of 2,"
        " got 7",
    ),
    (
        {**MATH, "name": "no_such", "context": {}},
        404,
        "template_not_found",
        "no task template linear_workflow/no_such/1.0.0; GET /v1/templates lists the templates",
    ),
    (
        b'{"name": "x", "namespace": "y", "context": {"n": NaN}}',
        400,
        "malformed_json",
        "request body is not valid JSON: NaN is not valid JSON",
    ),
]


@pytest.mark.parametrize(("body", "status", "code", "message"), BAD_BODIES)
def test_bad_requests_get_a_precise_4xx_and_store_nothing(
    client: httpx.Client, body: Any, status: int, code: str, message: str
) -> None:
    before = _total(client)
    if isinstance(body, bytes):
        response = client.post(
            "/v1/tasks", content=body, headers={"content-type": "application/json"}
        )
    else:
        response = client.post("/v1/tasks", json=body)
    assert _error(response, status, code) == message
    assert _total(client) == before


def test_unknown_and_malformed_ids(client: httpx.Client) -> None:
    missing = str(uuid.uuid4())
    assert _error(client.get(f"/v1/tasks/{missing}"), 404, "task_not_found") == f"no task {missing}"
    assert _error(client.delete(f"/v1/tasks/{missing}"), 404, "task_not_found")
    assert _error(client.get(f"/v1/tasks/{missing}/transitions"), 404, "task_not_found")
    created = create_task(client, "", **MATH, context={"even_number": 2})
    step_path = f"/v1/tasks/{created['task_uuid']}/workflow_steps/{missing}"
    assert _error(client.get(step_path), 404, "step_not_found") == (
        f"task {created['task_uuid']} has no workflow step {missing}"
    )
    assert _error(client.get("/v1/tasks/abc"), 422, "invalid_parameter") == (
        "parameter 'task_uuid' must be a UUID, got 'abc'"
    )
    assert _error(client.get("/v1/tasks", params={"per_page": 101}), 422, "invalid_parameter") == (
        "parameter 'per_page' must be an integer in 1..100, got '101'"
    )
    assert "parameter 'status' must be a task state" in _error(
        client.get("/v1/tasks", params={"status": "done"}), 422, "invalid_parameter"
    )


def test_unknown_routes_and_methods_answer_in_json(client: httpx.Client) -> None:
    assert _error(client.get("/v2/tasks"), 404, "not_found") == (
        "no route GET /v2/tasks; GET /api-docs/openapi.json lists the routes"
    )
    response = client.put("/v1/tasks")
    assert _error(response, 405, "method_not_allowed") == "method PUT is not allowed on /v1/tasks"
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


def test_metrics_are_labelled_with_the_instance(client: httpx.Client) -> None:
    create_task(client, "", **MATH, context={"even_number": 2})
    client.get("/v1/tasks/not-a-uuid")
    text = client.get("/metrics").text
    series = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert series and all('{instance="orchestration-api"' in line for line in series)
    created = next(s for s in series if s.startswith("tasker_tasks_created_total"))
    assert float(created.rsplit(" ", 1)[1]) >= 1
    assert any('route="/v1/tasks/{task_uuid}",status="422"' in line for line in series), (
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
        "/health/live",
        "/health/detailed",
        "/metrics",
        "/v1/templates",
        "/v1/tasks",
        "/v1/tasks/{task_uuid}",
        "/v1/tasks/{task_uuid}/transitions",
        "/v1/tasks/{task_uuid}/workflow_steps",
        "/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}",
        "/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}/audit",
    }
    variants = document["components"]["schemas"]["TaskRequest"]["oneOf"]
    assert len(variants) == 6
