"""Read queries behind the REST API; every instance reads the same shared tables."""

from __future__ import annotations

from collections.abc import Sequence

from .database import Row, Transaction, placeholders

TASK_COLUMNS = (
    "task_uuid, name, namespace, version, status, context, initiator, source_system, reason,"
    " tags, priority, correlation_id, parent_correlation_id, options, requested_at,"
    " idempotency_key, identity_hash, created_at, updated_at, completed_at"
)
STEP_COLUMNS = (
    "step_uuid, task_uuid, name, handler, position, dependencies, current_state, attempts,"
    " max_attempts, retryable, results, last_error, processor_uuid, next_retry_at, created_at,"
    " updated_at, completed_at"
)


def get_task(transaction: Transaction, task_uuid: str) -> Row | None:
    return transaction.fetch_one(
        f"SELECT {TASK_COLUMNS} FROM tasks WHERE task_uuid = ?", (task_uuid,)
    )


def get_steps(transaction: Transaction, task_uuid: str) -> list[Row]:
    return transaction.fetch_all(
        f"SELECT {STEP_COLUMNS} FROM workflow_steps WHERE task_uuid = ? ORDER BY position",
        (task_uuid,),
    )


def get_steps_of(transaction: Transaction, task_uuids: Sequence[str]) -> dict[str, list[Row]]:
    """The steps of each of `task_uuids`, in template order."""
    steps: dict[str, list[Row]] = {task_uuid: [] for task_uuid in task_uuids}
    if not task_uuids:
        return steps
    rows = transaction.fetch_all(
        f"SELECT {STEP_COLUMNS} FROM workflow_steps"
        f" WHERE task_uuid IN ({placeholders(len(task_uuids))}) ORDER BY task_uuid, position",
        list(task_uuids),
    )
    for row in rows:
        steps[row["task_uuid"]].append(row)
    return steps


def task_by_identity(transaction: Transaction, identity_hash: str) -> Row | None:
    return transaction.fetch_one(
        f"SELECT {TASK_COLUMNS} FROM tasks WHERE identity_hash = ?", (identity_hash,)
    )


def get_step(transaction: Transaction, task_uuid: str, step_uuid: str) -> Row | None:
    return transaction.fetch_one(
        f"SELECT {STEP_COLUMNS} FROM workflow_steps WHERE task_uuid = ? AND step_uuid = ?",
        (task_uuid, step_uuid),
    )


def list_tasks(
    transaction: Transaction,
    offset: int,
    limit: int,
    filters: dict[str, str],
) -> tuple[list[Row], int]:
    """A page of tasks, newest first, and the number of tasks matching the filters (column
    name to value: namespace, status, initiator, source_system)."""
    conditions: list[str] = []
    params: list[object] = []
    for column, value in filters.items():
        conditions.append(f"{column} = ?")
        params.append(value)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    total_row = transaction.fetch_one(f"SELECT COUNT(*) AS total FROM tasks{where}", params)
    rows = transaction.fetch_all(
        f"SELECT {TASK_COLUMNS} FROM tasks{where}"
        " ORDER BY created_at DESC, task_uuid LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return rows, int(total_row["total"]) if total_row else 0


def step_state_counts(
    transaction: Transaction, task_uuids: Sequence[str]
) -> dict[str, dict[str, int]]:
    """For each task, how many of its steps are in each state."""
    if not task_uuids:
        return {}
    rows = transaction.fetch_all(
        "SELECT task_uuid, current_state, COUNT(*) AS steps FROM workflow_steps"
        f" WHERE task_uuid IN ({placeholders(len(task_uuids))})"
        " GROUP BY task_uuid, current_state",
        list(task_uuids),
    )
    counts: dict[str, dict[str, int]] = {task_uuid: {} for task_uuid in task_uuids}
    for row in rows:
        counts[row["task_uuid"]][row["current_state"]] = int(row["steps"])
    return counts


def step_transitions(transaction: Transaction, step_uuid: str) -> list[Row]:
    return transaction.fetch_all(
        "SELECT id, step_uuid, task_uuid, from_state, to_state, worker_uuid, processor, success,"
        " execution_time_ms, metadata, sort_key, most_recent, created_at"
        " FROM workflow_step_transitions WHERE step_uuid = ? ORDER BY sort_key",
        (step_uuid,),
    )


def step_results(transaction: Transaction, step_uuid: str) -> list[Row]:
    """The transitions that recorded a step result (one audit row each), oldest first: the
    orchestration applying a worker's result (or an operator completing the step manually).
    The worker's own hand-over (`-> enqueued_*_for_orchestration`) is the same result on its
    way, not a second one."""
    return transaction.fetch_all(
        "SELECT t.id, t.step_uuid, t.task_uuid, t.from_state, t.to_state, t.worker_uuid,"
        " t.processor, t.success, COALESCE(t.execution_time_ms, w.execution_time_ms)"
        " AS execution_time_ms, t.metadata, w.metadata AS result_metadata, t.created_at,"
        " s.name AS step_name, s.results AS step_results FROM workflow_step_transitions t"
        " JOIN workflow_steps s ON s.step_uuid = t.step_uuid"
        " LEFT JOIN workflow_step_transitions w"
        " ON w.step_uuid = t.step_uuid AND w.sort_key = t.sort_key - 1"
        " WHERE t.step_uuid = ? AND t.success IS NOT NULL"
        " AND t.to_state NOT IN ('enqueued_for_orchestration',"
        " 'enqueued_as_error_for_orchestration') ORDER BY t.sort_key",
        (step_uuid,),
    )


def task_transitions(transaction: Transaction, task_uuid: str) -> list[Row]:
    return transaction.fetch_all(
        "SELECT id, task_uuid, from_state, to_state, processor, metadata, sort_key, most_recent,"
        " created_at FROM task_transitions WHERE task_uuid = ? ORDER BY sort_key",
        (task_uuid,),
    )
