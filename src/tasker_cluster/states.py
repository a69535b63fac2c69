"""Task and workflow step state names and the terminal-state sets (tasker-core's vocabulary).

The ground layer: imports nothing from the package, so the services, the client, the load
run and the tests all name states from here. The transitions between them live in
`tasker_cluster.services.statemachine`.
"""

from __future__ import annotations

import enum


class TaskState(enum.StrEnum):
    PENDING = "pending"
    INITIALIZING = "initializing"
    ENQUEUING_STEPS = "enqueuing_steps"
    STEPS_IN_PROCESS = "steps_in_process"
    EVALUATING_RESULTS = "evaluating_results"
    WAITING_FOR_DEPENDENCIES = "waiting_for_dependencies"
    WAITING_FOR_RETRY = "waiting_for_retry"
    BLOCKED_BY_FAILURES = "blocked_by_failures"
    COMPLETE = "complete"
    ERROR = "error"
    CANCELLED = "cancelled"
    RESOLVED_MANUALLY = "resolved_manually"


class StepState(enum.StrEnum):
    PENDING = "pending"
    ENQUEUED = "enqueued"
    IN_PROGRESS = "in_progress"
    ENQUEUED_FOR_ORCHESTRATION = "enqueued_for_orchestration"
    ENQUEUED_AS_ERROR_FOR_ORCHESTRATION = "enqueued_as_error_for_orchestration"
    WAITING_FOR_RETRY = "waiting_for_retry"
    ERROR = "error"
    COMPLETE = "complete"
    CANCELLED = "cancelled"
    RESOLVED_MANUALLY = "resolved_manually"


# A task in one of these states never moves again. StrEnum members equal their values, so
# `"complete" in TASK_TERMINAL` holds for plain strings read from the API or the database.
TASK_TERMINAL: frozenset[TaskState] = frozenset(
    {TaskState.COMPLETE, TaskState.ERROR, TaskState.CANCELLED, TaskState.RESOLVED_MANUALLY}
)
# A step in one of these states never moves again (`error` can still be resolved manually).
STEP_TERMINAL: frozenset[StepState] = frozenset(
    {StepState.COMPLETE, StepState.CANCELLED, StepState.RESOLVED_MANUALLY}
)
# A step whose work counts as done: its dependents may run, and the API counts it completed.
STEP_DONE: frozenset[StepState] = frozenset({StepState.COMPLETE, StepState.RESOLVED_MANUALLY})
# Steps that a worker or the orchestration still has to act on before the task can settle.
STEP_IN_FLIGHT: frozenset[StepState] = frozenset(
    {
        StepState.ENQUEUED,
        StepState.IN_PROGRESS,
        StepState.ENQUEUED_FOR_ORCHESTRATION,
        StepState.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION,
    }
)
