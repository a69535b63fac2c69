"""The worker service's metrics."""

from __future__ import annotations

from ..metrics import Counter, MetricsRegistry


class WorkerMetrics:
    def __init__(self, instance: str) -> None:
        self.registry = MetricsRegistry(instance)
        counter = self.registry.counter
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
        self.http_requests: Counter = counter(
            "tasker_http_requests_total", "HTTP requests served.", ("method", "route", "status")
        )
