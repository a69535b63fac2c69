"""The orchestration loop every orchestration instance runs in a background thread.

Each iteration: apply a batch of step results (one transaction), claim the tasks that need
work and evaluate them (one transaction, see `leases`), and now and then renew this
instance's leases. An idle iteration is one read-only query.
"""

from __future__ import annotations

import logging
import time
from functools import partial

from ...states import TaskState
from ..errors import LeaseLostError
from ..faults import RACE_WINDOW_SECONDS, Fault
from ..polling import PollingThread
from ..settings import ServiceSettings
from ..store.database import Database, StorageError, Transaction
from ..store.queue import ORCHESTRATION_RESULTS_QUEUE, TASKS_DUE, QueueMessage, delete, read
from ..wakeup import WorkWatcher
from .leases import Claim, claim_due_tasks, release_leases, renew_leases
from .planning import TaskPlan, plan_tasks
from .progress import Evaluation, carry_out, carry_out_all
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
        self.watcher = WorkWatcher(
            settings.database_url,
            {ORCHESTRATION_RESULTS_QUEUE, TASKS_DUE},
            [self.thread.wake],
            f"orchestration-watch-{self.owner}",
            enabled=settings.wakeups,
        )

    def start(self) -> None:
        self.thread.start()
        self.watcher.start()

    def wake(self) -> None:
        self.thread.wake()

    def stop(self, timeout: float) -> None:
        """Finish the current iteration, then hand this instance's tasks back."""
        self.watcher.stop()
        if not self.thread.stop(timeout):
            logger.warning("orchestration loop did not stop within %.1f s", timeout)
        try:
            released = self.database.write(
                lambda tx: release_leases(tx, self.database.dialect, self.owner)
            )
        except StorageError as error:
            logger.warning("could not release task leases (they expire on their own): %s", error)
            return
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

        def take(transaction: Transaction) -> list[QueueMessage]:
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
        if Fault.NO_FINALIZE_GUARD in self._faults:
            return self._process_tasks_unguarded()
        try:
            claims, evaluations, lost = self.database.write(self._claim_and_evaluate)
        except LeaseLostError as error:
            self.metrics.claim_conflicts.inc()
            logger.info("claim conflict, batch rolled back: %s", error)
            return 1
        self.metrics.claim_conflicts.inc(len(lost))
        for claim in claims:
            if claim.previous_owner not in (None, self.owner):
                self.metrics.leases_taken_over.inc()
        for evaluation in evaluations:
            self._count(evaluation)
        return len(claims)

    def _claim_and_evaluate(
        self, transaction: Transaction
    ) -> tuple[list[Claim], list[Evaluation], dict[str, str | None]]:
        """Claim due tasks and evaluate them, all in one transaction."""
        now = time.time()
        claims = claim_due_tasks(
            transaction,
            self.database.dialect,
            owner=self.owner,
            now=now,
            lease_seconds=self.settings.task_lease_seconds,
            limit=TASK_BATCH,
            expire_leases=Fault.NO_LEASE_EXPIRY not in self._faults,
        )
        plans, lost = plan_tasks(
            transaction,
            self.database.dialect,
            [claim.task_uuid for claim in claims],
            owner=self.owner,
            now=now,
            guarded=True,
        )
        evaluations = carry_out_all(transaction, plans, self.owner, now, guarded=True)
        return claims, evaluations, lost

    def _process_tasks_unguarded(self) -> int:
        """The `no_finalize_guard` fault: read, pause, then write without lease or CAS."""
        dialect = self.database.dialect
        claims = self.database.write(
            lambda tx: claim_due_tasks(
                tx,
                dialect,
                owner=self.owner,
                now=time.time(),
                lease_seconds=self.settings.task_lease_seconds,
                limit=TASK_BATCH,
                honour_leases=False,
            )
        )
        uuids = [claim.task_uuid for claim in claims]
        plans, _ = self.database.read(
            lambda tx: plan_tasks(
                tx, dialect, uuids, owner=self.owner, now=time.time(), guarded=False
            )
        )
        time.sleep(RACE_WINDOW_SECONDS)
        for plan in plans:
            try:
                self._count(self.database.write(partial(self._overwrite, plan)))
            except LeaseLostError as error:
                self.metrics.claim_conflicts.inc()
                logger.info("claim conflict: %s", error)
        return len(claims)

    def _overwrite(self, plan: TaskPlan, transaction: Transaction) -> Evaluation:
        return carry_out(transaction, plan, self.owner, time.time(), guarded=False)

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
