"""Planning a task's next move: read it and its steps (in bulk), then decide."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ...states import TASK_TERMINAL, StepState, TaskState
from ..errors import LeaseLostError
from ..store.database import Dialect, Row, Transaction, placeholders
from .evaluation import Decision, StepSnapshot, decide


@dataclass(frozen=True)
class TaskPlan:
    """What one evaluation found: the task as read and the decision taken on it."""

    task_uuid: str
    namespace: str
    status: TaskState
    decision: Decision | None


def plan_task(
    transaction: Transaction,
    dialect: Dialect,
    task_uuid: str,
    *,
    owner: str,
    now: float,
    guarded: bool,
) -> TaskPlan | None:
    """Read one task (locked and checked to be ours when `guarded`) and decide on it."""
    plans, lost = plan_tasks(
        transaction, dialect, [task_uuid], owner=owner, now=now, guarded=guarded
    )
    if lost:
        raise LeaseLostError(task_uuid, f"now claimed by {lost[task_uuid]}")
    return plans[0] if plans else None


def plan_tasks(
    transaction: Transaction,
    dialect: Dialect,
    task_uuids: list[str],
    *,
    owner: str,
    now: float,
    guarded: bool,
) -> tuple[list[TaskPlan], dict[str, str | None]]:
    """Plans for the tasks, read in two queries; and the tasks (with their owner) not ours."""
    if not task_uuids:
        return [], {}
    marks = placeholders(len(task_uuids))
    lock = dialect.lock_row if guarded else ""
    tasks = transaction.fetch_all(
        "SELECT task_uuid, status, namespace, claimed_by FROM tasks"
        f" WHERE task_uuid IN ({marks}) ORDER BY task_uuid{lock}",
        task_uuids,
    )
    lost = {t["task_uuid"]: t["claimed_by"] for t in tasks if guarded and t["claimed_by"] != owner}
    ours = [task for task in tasks if task["task_uuid"] not in lost]
    open_tasks = [t["task_uuid"] for t in ours if TaskState(t["status"]) not in TASK_TERMINAL]
    steps: dict[str, list[StepSnapshot]] = {task_uuid: [] for task_uuid in open_tasks}
    if open_tasks:
        for row in transaction.fetch_all(
            "SELECT task_uuid, step_uuid, name, handler, current_state, dependencies, attempts,"
            " next_retry_at FROM workflow_steps"
            f" WHERE task_uuid IN ({placeholders(len(open_tasks))}) ORDER BY task_uuid, position",
            open_tasks,
        ):
            steps[row["task_uuid"]].append(_snapshot(row))
    plans = [
        TaskPlan(
            task["task_uuid"],
            task["namespace"],
            TaskState(task["status"]),
            decide(steps[task["task_uuid"]], now) if task["task_uuid"] in steps else None,
        )
        for task in ours
    ]
    return plans, lost


def _snapshot(row: Row) -> StepSnapshot:
    return StepSnapshot(
        step_uuid=row["step_uuid"],
        name=row["name"],
        handler=row["handler"],
        current_state=StepState(row["current_state"]),
        dependencies=tuple(json.loads(row["dependencies"])),
        attempts=int(row["attempts"]),
        next_retry_at=row["next_retry_at"],
    )
