"""Committing finished steps in groups: whatever finished during one commit goes into the next.

A busy worker so pays one transaction for many steps instead of one per step.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from ..store.database import Database
from .completion import FinishedStep, complete_steps
from .telemetry import WorkerMetrics

logger = logging.getLogger(__name__)

GROUP_LIMIT = 64


class ResultCommitter:
    """A thread that commits finished steps; `on_committed` gets their message ids."""

    def __init__(
        self,
        database: Database,
        worker_id: str,
        metrics: WorkerMetrics,
        copies: int,
        on_committed: Callable[[list[int]], None],
    ) -> None:
        self._database = database
        self._worker_id = worker_id
        self._metrics = metrics
        self._copies = copies
        self._on_committed = on_committed
        self._finished: queue.SimpleQueue[FinishedStep | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="step-committer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, finished: FinishedStep) -> None:
        self._finished.put(finished)

    def stop(self, timeout: float) -> None:
        """Commit what was submitted before this call, then end."""
        self._finished.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (first := self._finished.get()) is not None:
            group = [first]
            while len(group) < GROUP_LIMIT:
                try:
                    item = self._finished.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._finished.put(None)
                    break
                group.append(item)
            self._commit(group)

    def _commit(self, group: list[FinishedStep]) -> None:
        try:
            accepted = self._database.write(
                lambda tx: complete_steps(tx, group, self._worker_id, time.time(), self._copies)
            )
        except Exception:
            logger.exception(
                "could not commit %d step results; they will be redelivered", len(group)
            )
            accepted = [False] * len(group)
        self._metrics.results_sent.inc(self._copies * sum(accepted))
        for item, ok in zip(group, accepted, strict=True):
            if not ok:
                self._metrics.claim_conflicts.inc()
                logger.info("claim on step %s was lost before it finished", item.step.step_uuid)
        self._on_committed([item.step.msg_id for item in group])
