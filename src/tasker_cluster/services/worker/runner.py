"""The worker's engine: a poller claims steps, N executors run them, a committer commits them.

A step holds its slot (counted by `in_flight`) from its claim until its result is committed.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from ..errors import UnknownHandlerError
from ..faults import RACE_WINDOW_SECONDS, Fault
from ..handlers import HandlerRegistry, StepContext, StepHandlerResult, StepInterrupted
from ..polling import PollingThread
from ..settings import ServiceSettings
from ..store.database import Database, StorageError, Transaction
from ..store.queue import delete, step_queue, visible_probe
from ..wakeup import WorkWatcher
from .claims import claim_messages, claim_steps, read_messages
from .committer import ResultCommitter
from .completion import FinishedStep, release_steps
from .model import ClaimBatch, ClaimedStep, ClaimRequest
from .telemetry import WorkerMetrics

logger = logging.getLogger(__name__)


class WorkerRunner:
    def __init__(
        self,
        database: Database,
        *,
        settings: ServiceSettings,
        worker_id: str,
        namespaces: list[str],
        handlers: HandlerRegistry,
        metrics: WorkerMetrics,
    ) -> None:
        self.database = database
        self.settings = settings
        self.worker_id = worker_id
        self.queues = [step_queue(namespace) for namespace in namespaces]
        self.handlers = handlers
        self.metrics = metrics
        self._guarded = Fault.NO_CLAIM_GUARD not in settings.faults
        self._in_flight: dict[int, ClaimedStep] = {}
        self._finished: set[int] = set()
        self._released: set[int] = set()
        self._lock = threading.Condition()
        self._work: queue.SimpleQueue[ClaimedStep | None] = queue.SimpleQueue()
        self._interrupt = threading.Event()
        self.poller = PollingThread(
            f"worker-poll-{worker_id}", self.poll_once, settings.poll_interval_seconds
        )
        self.watcher = WorkWatcher(
            settings.database_url,
            self.queues,
            [self.poller.wake],
            f"worker-watch-{worker_id}",
            enabled=settings.wakeups,
        )
        self._threads = [
            threading.Thread(target=self._execute_loop, name=f"step-executor-{n}", daemon=True)
            for n in range(settings.worker_concurrency)
        ]
        copies = 2 if Fault.DUPLICATE_RESULTS in settings.faults else 1
        self._committer = ResultCommitter(database, worker_id, metrics, copies, self._forget)

    @property
    def in_flight(self) -> int:
        with self._lock:
            return len(self._in_flight)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        self._committer.start()
        self.poller.start()
        self.watcher.start()

    def poll_once(self) -> int:
        with self._lock:
            free = self.settings.worker_concurrency - len(self._in_flight)
            held = tuple(self._in_flight)
        if free <= 0 or self.poller.stopping:
            return 0
        now = time.time()
        if self._guarded and not self.database.query(*visible_probe(self.queues, now)):
            return 0
        request = ClaimRequest(
            self.worker_id,
            self.queues,
            free,
            self.settings.visibility_timeout_seconds,
            now,
            self._guarded,
            held,
        )
        if self._guarded:
            batch = self.database.write(lambda tx: self._claim(tx, request))
        else:
            batch = self._claim_unguarded(request)
        self.metrics.claim_conflicts.inc(batch.conflicts)
        self.metrics.steps_claimed.inc(len(batch.claimed))
        with self._lock:
            for step in batch.claimed:
                self._in_flight[step.msg_id] = step
        for step in batch.claimed:
            if step.redelivered:
                self.metrics.steps_redelivered.inc()
                logger.info(
                    "re-claimed redelivered step %s of task %s", step.step_uuid, step.task_uuid
                )
            self._work.put(step)
        return batch.read

    def _claim(self, transaction: Transaction, request: ClaimRequest) -> ClaimBatch:
        batch = claim_steps(transaction, self.database.dialect, request)
        if Fault.NO_REDELIVERY in self.settings.faults:
            delete(transaction, [step.msg_id for step in batch.claimed])
        return batch

    def _claim_unguarded(self, request: ClaimRequest) -> ClaimBatch:
        """The `no_claim_guard` fault: read, pause with no lock held, then claim regardless."""
        dialect = self.database.dialect
        messages = self.database.write(lambda tx: read_messages(tx, dialect, request))
        time.sleep(RACE_WINDOW_SECONDS)
        return self.database.write(lambda tx: claim_messages(tx, messages, request))

    def _execute_loop(self) -> None:
        while (step := self._work.get()) is not None:
            try:
                finished = self._execute(step)
            except Exception:
                logger.exception("step %s failed inside the worker", step.step_uuid)
                finished = None
            if finished is None:
                self._forget([step.msg_id])
            else:
                with self._lock:
                    self._finished.add(step.msg_id)
                self._committer.submit(finished)

    def _execute(self, step: ClaimedStep) -> FinishedStep | None:
        with self._lock:
            if step.msg_id in self._released:
                return None
        context = StepContext(
            task_uuid=step.task_uuid,
            step_uuid=step.step_uuid,
            step_name=step.step_name,
            input_data=step.input_data,
            dependency_results=step.dependency_results,
            retry_count=step.attempt - 1,
            max_retries=step.max_attempts - 1,
            stop_requested=self._interrupt,
        )
        started = time.perf_counter()
        try:
            outcome = self.handlers.get(step.handler).call(context)
        except StepInterrupted:
            return None
        except UnknownHandlerError as error:
            outcome = StepHandlerResult(success=False, error_message=str(error), retryable=False)
        except Exception as error:
            outcome = StepHandlerResult(
                success=False, error_message=f"{type(error).__name__}: {error}", retryable=True
            )
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        self.metrics.steps_executed.inc(outcome="success" if outcome.success else "failure")
        return FinishedStep(step, outcome, elapsed_ms)

    def _forget(self, msg_ids: list[int]) -> None:
        with self._lock:
            for msg_id in msg_ids:
                self._in_flight.pop(msg_id, None)
                self._finished.discard(msg_id)
            self._lock.notify_all()
        self.poller.wake()

    def stop(self, grace_seconds: float) -> None:
        """Stop claiming, let running steps finish for `grace_seconds`, release the rest."""
        self.watcher.stop()
        self.poller.stop(grace_seconds)
        deadline = time.monotonic() + grace_seconds
        with self._lock:
            while self._in_flight and time.monotonic() < deadline:
                self._lock.wait(deadline - time.monotonic())
            running = [s for m, s in self._in_flight.items() if m not in self._finished]
            self._released.update(step.msg_id for step in running)
        self._interrupt.set()
        if running:
            try:
                self.database.write(lambda tx: release_steps(tx, running, time.time()))
                self.metrics.steps_released.inc(len(running))
                logger.info("released %d unfinished steps for redelivery", len(running))
            except StorageError as error:
                logger.warning(
                    "could not release %d steps (redelivered after their visibility timeout): %s",
                    len(running),
                    error,
                )
        for _ in self._threads:
            self._work.put(None)
        self._committer.stop(max(deadline - time.monotonic(), 1.0))
