"""An exclusive `fcntl.flock` on `<cluster dir>/.pids/.lock`, waited for under a deadline."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from tasker_cluster.process.errors import LockTimeoutError

log = logging.getLogger(__name__)

LOCK_POLL_INTERVAL = 0.05


class ClusterLock:
    """Held by start, stop and restart so two of them never act on the cluster at once."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._fd: int | None = None

    def __enter__(self) -> ClusterLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        tries = 0

        def locked() -> bool:
            nonlocal tries
            tries += 1
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if tries == 1:
                    log.info("waiting for the cluster lock %s", self.path)
                return False
            return True

        try:
            if not locked():  # free, as it mostly is: no wait machinery to load
                self._wait(locked)
        except LockTimeoutError:
            holder = _read_holder(fd)
            os.close(fd)
            raise LockTimeoutError(self.path, self.timeout, holder) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def _wait(self, locked: Callable[[], bool]) -> None:
        """Poll `locked` until it holds; `LockTimeoutError` (holder unknown here) after the
        timeout."""
        from tasker_cluster.wait import WaitTimeoutError, wait_for  # noqa: PLC0415 - when held

        try:
            wait_for(
                locked, self.timeout, f"the cluster lock {self.path}", interval=LOCK_POLL_INTERVAL
            )
        except WaitTimeoutError:
            raise LockTimeoutError(self.path, self.timeout, None) from None

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def _read_holder(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
