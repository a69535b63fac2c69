"""The orchestration loop every orchestration instance runs in a background thread.

Each iteration: apply a batch of step results, claim tasks that need work (see `leases`),
evaluate each claimed task in its own transaction, and renew this instance's leases.
"""

from __future__ import annotations

import logging
import time

from ..faults import RACE_WINDOW_SECONDS, Fault
from ..polling import PollingThread
from ..settings import ServiceSettings
from ..statemachine import TaskState
from ..store.database import Database, Transaction
from ..store.queue import ORCHESTRATION_RESULTS_QUEUE, delete, read
from .leases import claim_due_tasks, release_leases, renew_leases
from .progress import Evaluation, LeaseLostError, carry_out, plan_task
from .results import apply_results
from .telemetry import OrchestrationMetrics

logger = logging.getLogger(__name__)

RESULT_BATCH = 100
TASK_BATCH = 25
# One read-only statement telling an idle loop whether anything is due, without a write lock.
DUE_PROBE = (
    "SELECT EXISTS (SELECT 1 FROM queue_messages WHERE queue_name = ? AND vt <= ?) AS results_due,"
    " EXISTS (SELECT 1 FROM tasks WHERE work_after IS NOT NULL AND work_after <= ?) AS tasks_due"
)


class OrchestrationLoop:
    def __init__(
        self, database: Database, settings: ServiceSettings, metrics: OrchestrationMetrics
    ) -> None:
        self.database = database
        self.settings = settings
        self.metrics = metrics
        self.owner = settings.display_id
        self._faults = settings.faults
        self._renewed_at = time.monotonic()
        self.thread = PollingThread(
            f"orchestration-loop-{self.owner}",
            self.run_once,
            settings.poll_interval_seconds,
            on_error=lambda error: self.metrics.loop_errors.inc(),
        )

    def start(self) -> None:
        self.thread.start()

    def wake(self) -> None:
        self.thread.wake()

    def stop(self, timeout: float) -> None:
        """Finish the current iteration, then hand this instance's tasks back."""
        if not self.thread.stop(timeout):
            logger.warning("orchestration loop did not stop within %.1f s", timeout)
        released = self.database.write(
            lambda tx: release_leases(tx, self.database.dialect, self.owner)
        )
        logger.info("orchestration loop stopped; released %d task leases", released)

    def run_once(self) -> int:
        now = time.time()
        due = self.database.query(DUE_PROBE, (ORCHESTRATION_RESULTS_QUEUE, now, now))[0]
        results_due, tasks_due = bool(due["results_due"]), bool(due["tasks_due"])
        work = 0
        if results_due:
            work += self._process_results()
        if tasks_due or work:
            work += self._process_tasks()
        if time.monotonic() - self._renewed_at > self.settings.task_lease_seconds / 3:
            self._renew()
        return work

    def _process_results(self) -> int:
        settings = self.settings
        dialect = self.database.dialect
        now = time.time()

        def take(transaction: Transaction) -> list:  # type: ignore[type-arg]
            messages = read(
                transaction,
                dialect,
                [ORCHESTRATION_RESULTS_QUEUE],
                limit=RESULT_BATCH,
                visibility_timeout=settings.visibility_timeout_seconds,
                now=now,
            )
            if Fault.NO_REDELIVERY in self._faults:
                delete(transaction, [message.msg_id for message in messages])
            return messages

        messages = self.database.write(take)
        if not messages:
            return 0
        deduplicate = Fault.NO_RESULT_DEDUP not in self._faults
        report = self.database.write(
            lambda tx: apply_results(
                tx,
                self.database.dialect,
                messages,
                processor=self.owner,
                now=time.time(),
                deduplicate=deduplicate,
            )
        )
        self.metrics.results_processed.inc(report.applied)
        self.metrics.duplicate_results.inc(report.duplicates)
        if report.duplicates:
            logger.info("recorded %d duplicate step results", report.duplicates)
        return len(messages)

    def _process_tasks(self) -> int:
        guarded = Fault.NO_FINALIZE_GUARD not in self._faults
        claims = self.database.write(
            lambda tx: claim_due_tasks(
                tx,
                self.database.dialect,
                owner=self.owner,
                now=time.time(),
                lease_seconds=self.settings.task_lease_seconds,
                limit=TASK_BATCH,
                honour_leases=guarded,
                expire_leases=Fault.NO_LEASE_EXPIRY not in self._faults,
            )
        )
        for claim in claims:
            if claim.previous_owner not in (None, self.owner):
                self.metrics.leases_taken_over.inc()
            if self.thread.stopping:
                break
            try:
                self._evaluate(claim.task_uuid, guarded)
            except Exception:
                self.metrics.loop_errors.inc()
                logger.exception("evaluating task %s failed; it stays due", claim.task_uuid)
        return len(claims)

    def _evaluate(self, task_uuid: str, guarded: bool) -> None:
        dialect = self.database.dialect
        try:
            if guarded:
                evaluation = self.database.write(
                    lambda tx: self._plan_and_carry_out(tx, task_uuid, guarded=True)
                )
            else:
                plan = self.database.read(
                    lambda tx: plan_task(
                        tx, dialect, task_uuid, owner=self.owner, now=time.time(), guarded=False
                    )
                )
                if plan is None:
                    return
                time.sleep(RACE_WINDOW_SECONDS)
                evaluation = self.database.write(
                    lambda tx: carry_out(tx, plan, self.owner, time.time(), guarded=False)
                )
        except LeaseLostError as error:
            self.metrics.claim_conflicts.inc()
            logger.info("claim conflict: %s", error)
            return
        if evaluation is not None:
            self._count(evaluation)

    def _plan_and_carry_out(
        self, transaction: Transaction, task_uuid: str, guarded: bool
    ) -> Evaluation | None:
        now = time.time()
        plan = plan_task(
            transaction,
            self.database.dialect,
            task_uuid,
            owner=self.owner,
            now=now,
            guarded=guarded,
        )
        if plan is None:
            return None
        return carry_out(transaction, plan, self.owner, now, guarded)

    def _count(self, evaluation: Evaluation) -> None:
        self.metrics.steps_enqueued.inc(evaluation.enqueued)
        if evaluation.finalized and evaluation.final_state == TaskState.COMPLETE:
            self.metrics.tasks_completed.inc()
            logger.info("task %s complete", evaluation.task_uuid)
        elif evaluation.finalized and evaluation.final_state == TaskState.ERROR:
            self.metrics.tasks_failed.inc()
            logger.info("task %s failed", evaluation.task_uuid)

    def _renew(self) -> None:
        self._renewed_at = time.monotonic()
        self.database.write(
            lambda tx: renew_leases(
                tx, self.database.dialect, self.owner, time.time(), self.settings.task_lease_seconds
            )
        )
