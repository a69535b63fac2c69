"""Whole workflows through one orchestration and one worker process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tasker_cluster.services.statemachine import STEP_TRANSITIONS, TASK_TRANSITIONS
from tasker_cluster.states import StepState, TaskState

from .inspection import query
from .support import (
    ServiceFactory,
    ServiceProcess,
    create_task,
    metric_value,
    step_mapping,
    task_status,
    wait_for_task,
    wait_until,
)

WORKER_ID = "worker-python-7"


@pytest.fixture(scope="module")
def cluster(module_services: ServiceFactory) -> tuple[ServiceProcess, ServiceProcess]:
    url = f"sqlite:///{module_services.directory / 'workflows.sqlite3'}"
    orchestration = module_services.orchestration("orchestration-1", url)
    worker = module_services.worker(
        "worker-python-1", url, TASKER_WORKER_ID=WORKER_ID, TASKER_WORKER_CONCURRENCY="2"
    )
    return orchestration, worker


@pytest.fixture(scope="module")
def database_url(module_services: ServiceFactory) -> str:
    return f"sqlite:///{module_services.directory / 'workflows.sqlite3'}"


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as http:
        yield http


def _run(client: httpx.Client, url: str, namespace: str, name: str, context: dict[str, Any]) -> Any:
    created = create_task(client, url, namespace, name, context)
    wait_for_task(client, url, created["task_uuid"])
    return client.get(f"{url}/v1/tasks/{created['task_uuid']}").json()


def test_mathematical_sequence_computes_n_to_the_sixteenth(
    cluster: tuple[ServiceProcess, ServiceProcess], client: httpx.Client
) -> None:
    url = cluster[0].url
    task = _run(client, url, "linear_workflow", "mathematical_sequence", {"even_number": 6})
    assert task["status"] == "complete"
    assert task["completion_percentage"] == 100.0 and task["completed_at"]
    last = next(step for step in task["steps"] if step["name"] == "linear_step_4")
    assert last["results"] == {"value": 6**16}
    assert {step["processor_uuid"] for step in task["steps"]} == {WORKER_ID}
    step_url = f"{url}/v1/tasks/{task['task_uuid']}/workflow_steps/{last['workflow_step_uuid']}"
    [result] = client.get(f"{step_url}/audit").json()  # one audit row per recorded result
    assert (result["success"], result["worker_uuid"]) == (True, WORKER_ID)
    assert result["execution_time_ms"] >= 0 and result["step_name"] == "linear_step_4"
    assert result["result"] == {"value": 6**16}
    assert result["workflow_step_uuid"] == last["workflow_step_uuid"]
    assert result["correlation_id"] == task["correlation_id"]
    rows = client.get(f"{step_url}/transitions").json()
    assert [row["to_state"] for row in rows] == [
        "pending",
        "enqueued",
        "in_progress",
        "enqueued_for_orchestration",
        "complete",
    ]
    assert [row["worker_uuid"] for row in rows[2:]] == [WORKER_ID] * 3
    assert rows[3]["success"] is True and rows[3]["execution_time_ms"] >= 0
    transitions = client.get(f"{url}/v1/tasks/{task['task_uuid']}/transitions").json()
    assert transitions[-1]["to_state"] == "complete"
    assert [t["to_state"] for t in transitions].count("complete") == 1
    assert {t["processor"] for t in transitions} == {"orchestration-1"}


def test_diamond_joins_its_branches(
    cluster: tuple[ServiceProcess, ServiceProcess], client: httpx.Client
) -> None:
    task = _run(client, cluster[0].url, "diamond_workflow", "diamond", {"even_number": 4})
    end = next(step for step in task["steps"] if step["name"] == "diamond_end")
    assert (task["status"], end["results"]) == ("complete", {"value": 4**8})


def test_a_flaky_step_is_retried_until_it_succeeds(
    cluster: tuple[ServiceProcess, ServiceProcess], client: httpx.Client
) -> None:
    task = _run(client, cluster[0].url, "retry_workflow", "flaky", {"fail_times": 2})
    step = task["steps"][0]
    assert task["status"] == "complete"
    assert (step["attempts"], step["results"]) == (3, {"attempts": 3})
    step_url = (
        f"{cluster[0].url}/v1/tasks/{task['task_uuid']}/workflow_steps/{step['workflow_step_uuid']}"
    )
    history = client.get(f"{step_url}/transitions").json()
    states = [row["to_state"] for row in history]
    assert states.count("waiting_for_retry") == 2 and states.count("in_progress") == 3
    audit = client.get(f"{step_url}/audit").json()  # the results: two failures, one success
    assert [row["success"] for row in audit] == [False, False, True]
    assert audit[0]["result"] == {"error": "flaky step failed on attempt 1 (fails 2 times)"}
    assert audit[2]["result"] == {"attempts": 3}
    errors = [row for row in history if row["to_state"] == "enqueued_as_error_for_orchestration"]
    assert [row["metadata"]["error"] for row in errors] == [
        "flaky step failed on attempt 1 (fails 2 times)",
        "flaky step failed on attempt 2 (fails 2 times)",
    ]


def test_a_step_out_of_attempts_fails_the_task(
    cluster: tuple[ServiceProcess, ServiceProcess], client: httpx.Client
) -> None:
    task = _run(client, cluster[0].url, "retry_workflow", "flaky", {"fail_times": 5})
    step = task["steps"][0]
    assert (task["status"], task["failed_steps"]) == ("error", 1)
    assert (step["current_state"], step["attempts"]) == ("error", 5)
    assert step["last_error"] == "flaky step failed on attempt 5 (fails 5 times)"
    transitions = client.get(f"{cluster[0].url}/v1/tasks/{task['task_uuid']}/transitions").json()
    assert [t["to_state"] for t in transitions][-2:] == ["blocked_by_failures", "error"]


def test_cancelling_a_running_task_drops_its_result(
    cluster: tuple[ServiceProcess, ServiceProcess], client: httpx.Client
) -> None:
    url, worker = cluster[0].url, cluster[1]
    conflicts = metric_value(client, worker.url, "tasker_step_claim_conflicts_total")
    created = create_task(client, url, "load_testing", "sleep", {"seconds": 0.5})
    task_uuid = created["task_uuid"]
    step_url = f"{url}/v1/tasks/{task_uuid}/workflow_steps/{step_mapping(created)['sleep']}"
    wait_until(
        lambda: client.get(step_url).json()["current_state"] == "in_progress",
        30,
        what="the sleep step to start",
    )
    assert client.delete(f"{url}/v1/tasks/{task_uuid}").status_code == 200
    wait_until(
        lambda: metric_value(client, worker.url, "tasker_step_claim_conflicts_total") > conflicts,
        30,
        what="the worker to find its claim gone",
    )
    assert task_status(client, url, task_uuid) == "cancelled"
    step = client.get(step_url).json()
    assert step["current_state"] == "cancelled" and step["results"] is None


def test_resetting_the_failed_step_reopens_the_task(
    cluster: tuple[ServiceProcess, ServiceProcess], client: httpx.Client
) -> None:
    url = cluster[0].url
    task = _run(client, url, "test_scenarios_py", "permanent_error_only_py", {"n": 1})
    assert task["status"] == "error"
    step = task["steps"][0]
    step_url = f"{url}/v1/tasks/{task['task_uuid']}/workflow_steps/{step['workflow_step_uuid']}"
    summary = client.get(f"{url}/v1/tasks/{task['task_uuid']}/summary").json()
    assert summary["task"]["status"] == "error" and summary["task"]["failed_steps"] == 1
    assert summary["dlq"] == {
        "in_dlq": True,
        "dlq_reason": "MaxRetriesExceeded",
        "resolution_status": "Pending",
    }
    assert [s["name"] for s in summary["template"]["steps"]] == ["permanent_error_step_py"]
    assert summary["template"]["steps"][0]["retryable"] is False
    assert summary["steps"][0]["error"]["retryable"] is False
    assert summary["links"]["steps"] == f"/v1/tasks/{task['task_uuid']}/workflow_steps"
    reset = {"action_type": "reset_for_retry", "reason": "fixed upstream", "reset_by": "ops"}
    answer = client.patch(step_url, json=reset)
    assert answer.status_code == 200, answer.text
    assert wait_for_task(client, url, task["task_uuid"]) == "error"
    history = client.get(f"{url}/v1/tasks/{task['task_uuid']}/transitions").json()
    states = [row["to_state"] for row in history]
    assert states.count("error") == 2, states
    reopened = states.index("error") + 1
    assert states[reopened : reopened + 2] == ["pending", "initializing"], states
    assert history[reopened]["metadata"]["operator"] == "ops"
    step_states = [row["to_state"] for row in client.get(f"{step_url}/transitions").json()]
    assert step_states.count("in_progress") == 2 and step_states[-1] == "error", step_states


def test_worker_endpoints(
    cluster: tuple[ServiceProcess, ServiceProcess], client: httpx.Client
) -> None:
    worker = cluster[1]
    health = client.get(f"{worker.url}/health").json()
    assert (health["status"], health["worker_id"]) == ("healthy", WORKER_ID)
    assert health["instance_id"] == "worker-python-1"
    assert client.get(f"{worker.url}/health/live").json()["status"] == "alive"
    ready = client.get(f"{worker.url}/health/ready")
    assert (
        ready.status_code == 200 and ready.json()["checks"]["queue_poller"]["status"] == "healthy"
    )
    detailed = client.get(f"{worker.url}/health/detailed").json()
    assert detailed["worker_id"] == WORKER_ID
    assert detailed["system_info"]["concurrency"] == 2
    assert detailed["system_info"]["supported_namespaces"]
    names = {
        template["name"] for template in client.get(f"{worker.url}/templates").json()["templates"]
    }
    assert "fan_out" in names and "mathematical_sequence" in names
    text = client.get(f"{worker.url}/metrics").text
    series = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all('{instance="worker-python-1"' in line for line in series)
    assert metric_value(client, worker.url, "tasker_steps_claimed_total") >= 1
    assert 'outcome="success"' in text


def test_a_worker_serves_only_its_namespaces(services: ServiceFactory, sqlite_url: str) -> None:
    orchestration = services.orchestration("orchestration-1", sqlite_url)
    worker = services.worker(
        "worker-python-1", sqlite_url, TASKER_WORKER_NAMESPACES="retry_workflow"
    )
    with httpx.Client(timeout=10) as http:
        templates = http.get(f"{worker.url}/templates").json()["templates"]
        assert [t["name"] for t in templates] == ["flaky"]
        flaky = create_task(http, orchestration.url, "retry_workflow", "flaky", {"fail_times": 0})
        fan_out = create_task(http, orchestration.url, "load_testing", "fan_out", {"width": 1})
        assert wait_for_task(http, orchestration.url, flaky["task_uuid"]) == "complete"
        assert task_status(http, orchestration.url, fan_out["task_uuid"]) == "steps_in_process"


def test_every_recorded_move_is_in_tasker_cores_tables(
    cluster: tuple[ServiceProcess, ServiceProcess], client: httpx.Client, database_url: str
) -> None:
    """Run last in this module: every transition its workflows recorded (success, retries,
    permanent failure, cancellation, a reset) is one the state machines allow."""
    _run(client, cluster[0].url, "retry_workflow", "flaky", {"fail_times": 1})
    tasks = query(database_url, "SELECT from_state, to_state FROM task_transitions")
    steps = query(database_url, "SELECT from_state, to_state FROM workflow_step_transitions")
    assert tasks and steps
    bad_tasks = {
        (before, after)
        for before, after in tasks
        if TaskState(after) not in TASK_TRANSITIONS[TaskState(before) if before else None]
    }
    bad_steps = {
        (before, after)
        for before, after in steps
        if StepState(after) not in STEP_TRANSITIONS[StepState(before) if before else None]
    }
    assert (bad_tasks, bad_steps) == (set(), set())
    assert ("waiting_for_retry", "pending") in {(b, a) for b, a in steps}
