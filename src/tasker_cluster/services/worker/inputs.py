"""What a claimed step's handler gets: the task context and its dependencies' results."""

from __future__ import annotations

import json
from typing import Any

from ...states import StepState
from ..store.database import Transaction, placeholders
from .model import ClaimedStep


def load_inputs(transaction: Transaction, steps: list[ClaimedStep]) -> None:
    """Each step's task context and the results of the steps it depends on."""
    task_uuids = sorted({step.task_uuid for step in steps})
    if not task_uuids:
        return
    marks = placeholders(len(task_uuids))
    contexts = {
        row["task_uuid"]: json.loads(row["context"])
        for row in transaction.fetch_all(
            f"SELECT task_uuid, context FROM tasks WHERE task_uuid IN ({marks})", task_uuids
        )
    }
    wanted = {(step.task_uuid, name) for step in steps for name in step.dependencies}
    results: dict[tuple[str, str], Any] = {}
    if wanted:
        rows = transaction.fetch_all(
            f"SELECT task_uuid, name, results FROM workflow_steps WHERE task_uuid IN ({marks})"
            " AND current_state = ?",
            [*task_uuids, StepState.COMPLETE.value],
        )
        results = {
            (row["task_uuid"], row["name"]): json.loads(row["results"]) if row["results"] else None
            for row in rows
            if (row["task_uuid"], row["name"]) in wanted
        }
    for step in steps:
        step.input_data.update(contexts.get(step.task_uuid, {}))
        step.dependency_results.update(
            {name: results.get((step.task_uuid, name)) for name in step.dependencies}
        )
