"""The worker service's metrics."""

from __future__ import annotations

from collections.abc import Callable

from ..metrics import Counter, ServiceMetrics


class WorkerMetrics(ServiceMetrics):
    def register(self, counter: Callable[..., Counter]) -> None:
        self.steps_claimed: Counter = counter(
            "tasker_steps_claimed_total", "Steps this worker moved to in_progress."
        )
        self.steps_executed: Counter = counter(
            "tasker_steps_executed_total", "Step handler runs, by outcome.", ("outcome",)
        )
        self.claim_conflicts: Counter = counter(
            "tasker_step_claim_conflicts_total",
            "Messages whose step was no longer claimable, and claims lost before completion.",
        )
        self.results_sent: Counter = counter(
            "tasker_step_results_sent_total", "Result messages sent to the orchestration."
        )
        self.steps_redelivered: Counter = counter(
            "tasker_steps_redelivered_total",
            "Steps re-claimed after another worker's claim expired.",
        )
        self.steps_released: Counter = counter(
            "tasker_steps_released_total", "Unfinished steps given back at shutdown."
        )
