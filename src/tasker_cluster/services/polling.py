"""A background thread that polls: at once while there is work, backing off while idle."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

IDLE_CEILING_SECONDS = 0.25


class PollingThread:
    """Calls `iteration()` (returning how much work it did) until stopped.

    After an idle iteration it waits `base_interval`, doubling up to
    `max(base_interval, IDLE_CEILING_SECONDS)`; `wake()` cuts a wait short. An iteration that
    raises is logged, counted by `on_error`, and followed by a wait.
    """

    def __init__(
        self,
        name: str,
        iteration: Callable[[], int],
        base_interval: float,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.name = name
        self._iteration = iteration
        self._base = base_interval
        self._ceiling = max(base_interval, IDLE_CEILING_SECONDS)
        self._on_error = on_error
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.last_iteration_at: float | None = None
        self.last_error: str | None = None

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float) -> bool:
        """Ask the thread to finish its iteration and end; True if it ended within `timeout`."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def seconds_since_iteration(self) -> float | None:
        if self.last_iteration_at is None:
            return None
        return time.monotonic() - self.last_iteration_at

    def _run(self) -> None:
        delay = self._base
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                worked = self._iteration()
            except Exception as error:
                worked = 0
                described = f"{type(error).__name__}: {error}"
                if described != self.last_error:  # a persisting failure is logged once in full
                    logger.exception("%s iteration failed", self.name)
                else:
                    logger.warning("%s iteration failed again: %s", self.name, described)
                self.last_error = described
                if self._on_error is not None:
                    self._on_error(error)
            else:
                self.last_error = None
            self.last_iteration_at = time.monotonic()
            if worked:
                delay = self._base
                continue
            self._wake.wait(delay)
            delay = min(delay * 2, self._ceiling)
