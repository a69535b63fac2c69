"""Storage on both backends: schema, atomic creation, queue visibility and every guard."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tasker_cluster.api.task_request import TaskRequest
from tasker_cluster.services.errors import LeaseLostError, TaskAlreadyTerminalError
from tasker_cluster.services.handlers import StepHandlerResult
from tasker_cluster.services.orchestration.evaluation import Decision
from tasker_cluster.services.orchestration.leases import claim_due_tasks
from tasker_cluster.services.orchestration.planning import TaskPlan, plan_task
from tasker_cluster.services.orchestration.progress import carry_out, carry_out_all
from tasker_cluster.services.orchestration.results import apply_results
from tasker_cluster.services.store import (
    ConstraintViolationError,
    Database,
    Transaction,
    open_database,
)
from tasker_cluster.services.store.cancellation import cancel_task
from tasker_cluster.services.store.queue import read, send_many, step_queue
from tasker_cluster.services.store.tasks import NewTask, insert_task
from tasker_cluster.services.templates import StepSpec, TemplateRegistry
from tasker_cluster.services.worker.claims import claim_steps
from tasker_cluster.services.worker.completion import FinishedStep, complete_steps
from tasker_cluster.services.worker.model import ClaimRequest
from tasker_cluster.states import StepState, TaskState

from .inspection import query

TEMPLATES = TemplateRegistry.builtin()
QUEUE = step_queue("load_testing")
NOW = 1_000_000.0


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = open_database(database_url)
    db.ensure_schema()
    yield db
    db.close()


def _new_task(width: int = 2, steps: list[StepSpec] | None = None) -> NewTask:
    template = TEMPLATES.get("load_testing", "fan_out", "1.0.0")
    context = template.validated_context({"width": width})
    request = TaskRequest(
        name="fan_out",
        namespace="load_testing",
        version="1.0.0",
        context=context,
        initiator="tests",
        source_system="",
        reason="",
        tags=["a"],
    )
    return NewTask(
        task_uuid=str(uuid.uuid4()),
        request=request,
        steps=template.expand(context) if steps is None else steps,
        identity_hash=str(uuid.uuid4()),
    )


def _create(database: Database, width: int = 2) -> tuple[str, dict[str, str]]:
    task = _new_task(width)
    mapping = database.write(lambda tx: insert_task(tx, task, "orchestration-1", NOW))
    return task.task_uuid, mapping


def _evaluate(database: Database, task_uuid: str, owner: str, now: float) -> Any:
    def run(tx: Transaction) -> Any:
        plan = plan_task(tx, database.dialect, task_uuid, owner=owner, now=now, guarded=True)
        assert plan is not None
        return carry_out(tx, plan, owner, now, guarded=True)

    return database.write(run)


def _claim(database: Database, worker: str, now: float, timeout: float = 30.0) -> Any:
    request = ClaimRequest(worker, [QUEUE], 10, timeout, now)
    return database.write(lambda tx: claim_steps(tx, database.dialect, request))


def _claim_task(database: Database, owner: str, now: float, expire: bool = True) -> list[str]:
    claims = database.write(
        lambda tx: claim_due_tasks(
            tx,
            database.dialect,
            owner=owner,
            now=now,
            lease_seconds=10,
            limit=10,
            expire_leases=expire,
        )
    )
    return [claim.task_uuid for claim in claims]


def test_schema_creation_is_idempotent(database: Database, database_url: str) -> None:
    database.ensure_schema()
    database.ensure_schema()
    assert query(database_url, "SELECT COUNT(*) FROM tasks") == [(0,)]


def test_schema_creation_is_safe_from_many_processes_at_once(database_url: str) -> None:
    script = (
        "import sys; from tasker_cluster.services.store import open_database;"
        " db = open_database(sys.argv[1]); db.ensure_schema(); db.close()"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script, database_url], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    results = [(process.wait(60), process.stderr.read()) for process in processes if process.stderr]
    assert results == [(0, b"")] * 4
    assert query(database_url, "SELECT COUNT(*) FROM queue_messages") == [(0,)]


def test_the_database_allows_one_current_transition_per_task(database: Database) -> None:
    task_uuid, _ = _create(database)
    with pytest.raises(ConstraintViolationError):
        database.write(
            lambda tx: tx.execute(
                "INSERT INTO task_transitions (task_uuid, from_state, to_state, processor,"
                " metadata, sort_key, most_recent, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (task_uuid, "pending", "initializing", "rogue", "{}", 2, True, NOW),
            )
        )


def test_task_creation_stores_everything_or_nothing(database: Database, database_url: str) -> None:
    spec = StepSpec("same_name", "square", (), 3, True, 100)
    with pytest.raises(ConstraintViolationError):
        database.write(lambda tx: insert_task(tx, _new_task(steps=[spec, spec]), "o-1", NOW))
    for table in ("tasks", "workflow_steps", "task_transitions", "workflow_step_transitions"):
        assert query(database_url, f"SELECT COUNT(*) FROM {table}") == [(0,)], table
    task_uuid, mapping = _create(database, width=3)
    assert set(mapping) == {"fan_out_1", "fan_out_2", "fan_out_3", "join"}
    rows = query(
        database_url, "SELECT status, work_after FROM tasks WHERE task_uuid = ?", (task_uuid,)
    )
    assert rows == [("pending", NOW)]


def test_a_read_message_is_hidden_until_its_visibility_timeout(database: Database) -> None:
    database.write(lambda tx: send_many(tx, QUEUE, [{"n": 1}], NOW))

    def take(now: float) -> list[Any]:
        return database.write(
            lambda tx: read(tx, database.dialect, [QUEUE], limit=5, visibility_timeout=30, now=now)
        )

    first = take(NOW)
    assert [(m.body, m.read_ct) for m in first] == [({"n": 1}, 1)]
    assert take(NOW + 29) == []
    again = take(NOW + 30)
    assert [(m.msg_id, m.read_ct) for m in again] == [(first[0].msg_id, 2)]


def test_only_one_worker_claims_a_step(database: Database, database_url: str) -> None:
    task_uuid, _ = _create(database, width=1)
    _claim_task(database, "orchestration-1", NOW)
    assert _evaluate(database, task_uuid, "orchestration-1", NOW).enqueued == 1
    # The same step enqueued twice (as a redelivery race would) is claimed once.
    message = query(database_url, "SELECT message FROM queue_messages")[0][0]
    database.write(
        lambda tx: tx.execute(
            "INSERT INTO queue_messages (queue_name, message, enqueued_at, vt, read_ct)"
            " VALUES (?, ?, ?, ?, 0)",
            (QUEUE, message, NOW, NOW),
        )
    )
    first = _claim(database, "worker-a", NOW)
    second = _claim(database, "worker-b", NOW)
    assert [len(first.claimed), first.conflicts, len(second.claimed)] == [1, 1, 0]
    rows = query(
        database_url,
        "SELECT worker_uuid FROM workflow_step_transitions WHERE to_state = 'in_progress'",
    )
    assert rows == [("worker-a",)]


def test_a_dead_workers_step_is_reclaimed_after_the_timeout(
    database: Database, database_url: str
) -> None:
    task_uuid, _ = _create(database, width=1)
    _claim_task(database, "orchestration-1", NOW)
    _evaluate(database, task_uuid, "orchestration-1", NOW)
    dead = _claim(database, "worker-dead", NOW, timeout=30)
    assert _claim(database, "worker-new", NOW + 10).claimed == []
    redelivered = _claim(database, "worker-new", NOW + 30)
    assert [step.redelivered for step in redelivered.claimed] == [True]
    late = FinishedStep(dead.claimed[0], StepHandlerResult(True, {"value": 1}), 5)
    assert database.write(lambda tx: complete_steps(tx, [late], "worker-dead", NOW + 31)) == [False]
    fresh = FinishedStep(redelivered.claimed[0], StepHandlerResult(True, {"value": 1}), 5)
    assert database.write(lambda tx: complete_steps(tx, [fresh], "worker-new", NOW + 31)) == [True]
    audit = query(
        database_url,
        "SELECT from_state, to_state, worker_uuid, metadata FROM workflow_step_transitions"
        " WHERE step_uuid = ? ORDER BY sort_key",
        (dead.claimed[0].step_uuid,),
    )
    assert [row[:3] for row in audit[2:]] == [
        ("enqueued", "in_progress", "worker-dead"),
        ("in_progress", "in_progress", "worker-new"),
        ("in_progress", "enqueued_for_orchestration", "worker-new"),
    ]
    assert '"redelivered": true' in audit[3][3]


def _run_to_results(database: Database, task_uuid: str) -> list[Any]:
    _claim_task(database, "orchestration-1", NOW)
    _evaluate(database, task_uuid, "orchestration-1", NOW)
    batch = _claim(database, "worker-a", NOW)
    finished = [
        FinishedStep(step, StepHandlerResult(True, {"value": 1}), 1) for step in batch.claimed
    ]
    database.write(lambda tx: complete_steps(tx, finished, "worker-a", NOW))
    return database.write(
        lambda tx: read(
            tx,
            database.dialect,
            ["orchestration_step_results"],
            limit=50,
            visibility_timeout=30,
            now=NOW,
        )
    )


def test_a_result_delivered_twice_is_applied_once(database: Database, database_url: str) -> None:
    task_uuid, _ = _create(database, width=1)
    results = _run_to_results(database, task_uuid)
    assert len(results) == 1
    first = database.write(
        lambda tx: apply_results(
            tx, database.dialect, results, processor="orchestration-1", now=NOW
        )
    )
    again = database.write(
        lambda tx: apply_results(
            tx, database.dialect, results, processor="orchestration-2", now=NOW
        )
    )
    assert (first.applied, first.duplicates, again.applied, again.duplicates) == (1, 0, 0, 1)
    completes = query(
        database_url,
        "SELECT COUNT(*) FROM workflow_step_transitions WHERE to_state = 'complete'",
    )
    assert completes == [(1,)]


def test_finalizing_twice_writes_one_complete_transition(
    database: Database, database_url: str
) -> None:
    task_uuid, mapping = _create(database, width=1)
    database.write(
        lambda tx: tx.execute(
            "UPDATE workflow_steps SET current_state = 'complete' WHERE task_uuid = ?", (task_uuid,)
        )
    )
    database.write(
        lambda tx: tx.execute(
            "UPDATE tasks SET status = 'steps_in_process', claimed_by = 'o-1' WHERE task_uuid = ?",
            (task_uuid,),
        )
    )
    # Two evaluations planned from the same state, as two racing instances would.
    plan = database.read(
        lambda tx: plan_task(tx, database.dialect, task_uuid, owner="o-1", now=NOW, guarded=False)
    )
    assert plan is not None
    first = database.write(lambda tx: carry_out(tx, plan, "o-1", NOW, guarded=True))
    assert first.final_state == TaskState.COMPLETE and first.finalized
    with pytest.raises(LeaseLostError, match="was no longer steps_in_process"):
        database.write(lambda tx: carry_out(tx, plan, "o-1", NOW, guarded=True))
    rows = query(database_url, "SELECT COUNT(*) FROM task_transitions WHERE to_state = 'complete'")
    assert rows == [(1,)]
    assert len(mapping) == 2


def test_a_lease_keeps_other_instances_out_until_it_expires(database: Database) -> None:
    task_uuid, _ = _create(database)
    assert _claim_task(database, "orchestration-1", NOW) == [task_uuid]
    assert _claim_task(database, "orchestration-2", NOW + 9) == []
    assert _claim_task(database, "orchestration-2", NOW + 11, expire=False) == []
    assert _claim_task(database, "orchestration-2", NOW + 11) == [task_uuid]
    with pytest.raises(LeaseLostError, match="now claimed by orchestration-2"):
        _evaluate(database, task_uuid, "orchestration-1", NOW + 11)


def test_cancelling_stops_every_open_step(database: Database, database_url: str) -> None:
    task_uuid, _ = _create(database, width=2)
    database.write(lambda tx: cancel_task(tx, database.dialect, task_uuid, "o-1", NOW))
    states = query(database_url, "SELECT DISTINCT current_state FROM workflow_steps")
    assert states == [(StepState.CANCELLED.value,)]
    # cancelling again changes nothing: no second transition, no error (tasker-core answers
    # a cancel with the task; a cancelled task stays as it is)
    database.write(lambda tx: cancel_task(tx, database.dialect, task_uuid, "o-1", NOW + 1))
    cancelled = "SELECT COUNT(*) FROM task_transitions WHERE to_state = 'cancelled'"
    assert query(database_url, cancelled) == [(1,)]
    # a task that finished otherwise cannot be cancelled
    other, _ = _create(database)
    database.write(
        lambda tx: tx.execute("UPDATE tasks SET status = 'complete' WHERE task_uuid = ?", (other,))
    )
    with pytest.raises(TaskAlreadyTerminalError, match="is already complete"):
        database.write(lambda tx: cancel_task(tx, database.dialect, other, "o-1", NOW))


def test_single_statement_queries_return_rows_as_mappings(database: Database) -> None:
    _create(database)
    assert database.query("SELECT COUNT(*) AS tasks FROM tasks") == [{"tasks": 1}]


def test_a_task_the_state_machine_refuses_is_postponed_not_fatal(
    database: Database, database_url: str
) -> None:
    task_uuid, _ = _create(database)
    other_uuid, _ = _create(database)
    # No transition leads from initializing back to pending.
    backwards = Decision((), (TaskState.INITIALIZING, TaskState.PENDING))
    refused = TaskPlan(task_uuid, "load_testing", TaskState.PENDING, backwards)
    fine = database.read(
        lambda tx: plan_task(tx, database.dialect, other_uuid, owner="o-1", now=NOW, guarded=False)
    )
    assert fine is not None
    evaluations = database.write(
        lambda tx: carry_out_all(tx, [refused, fine], "o-1", NOW, guarded=False)
    )
    assert [(e.final_state, e.enqueued) for e in evaluations] == [
        (TaskState.PENDING, 0),
        (TaskState.STEPS_IN_PROCESS, 2),
    ]
    rows = query(database_url, "SELECT work_after FROM tasks WHERE task_uuid = ?", (task_uuid,))
    assert rows == [(NOW + 5.0,)]
