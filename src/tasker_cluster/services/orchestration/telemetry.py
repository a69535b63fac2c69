"""The orchestration service's metrics."""

from __future__ import annotations

from collections.abc import Callable

from ..metrics import Counter, ServiceMetrics


class OrchestrationMetrics(ServiceMetrics):
    def register(self, counter: Callable[..., Counter]) -> None:
        self.tasks_created: Counter = counter(
            "tasker_tasks_created_total", "Tasks created through this instance."
        )
        self.tasks_completed: Counter = counter(
            "tasker_tasks_completed_total", "Tasks this instance moved to complete."
        )
        self.tasks_failed: Counter = counter(
            "tasker_tasks_failed_total", "Tasks this instance moved to error."
        )
        self.steps_enqueued: Counter = counter(
            "tasker_steps_enqueued_total", "Steps this instance enqueued for workers."
        )
        self.results_processed: Counter = counter(
            "tasker_step_results_processed_total", "Step results this instance applied."
        )
        self.duplicate_results: Counter = counter(
            "tasker_duplicate_results_total", "Step results recognised as already applied."
        )
        self.claim_conflicts: Counter = counter(
            "tasker_claim_conflicts_total",
            "Task evaluations abandoned because another instance owned or changed the task.",
        )
        self.leases_taken_over: Counter = counter(
            "tasker_task_leases_taken_over_total",
            "Tasks claimed after another owner's lease ran out.",
        )
        self.loop_errors: Counter = counter(
            "tasker_orchestration_loop_errors_total", "Orchestration loop iterations that failed."
        )
