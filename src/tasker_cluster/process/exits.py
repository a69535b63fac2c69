"""The zombie rule: a process that has exited counts as gone, whether or not it was reaped.

PID 1 of a container may reap orphans only every few seconds; until then they are zombies.
Waiting for them to vanish would stall every stop, so an exited process is gone as soon as
its status says zombie, and one that is our own child is reaped on the spot.

psutil is imported where a process is first looked at, not with the module: reading records
and spawning (which a start does before anything else) need no psutil.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil


def reap_if_child(pid: int) -> None:
    """Collect the exit status of `pid` if it is a child of this process (else do nothing)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def has_exited(process: psutil.Process) -> bool:
    """Whether `process` is gone or a zombie (reaping it when it is our child).

    A process we may not inspect is taken as still running.
    """
    import psutil  # noqa: PLC0415 - a dictionary look-up once loaded

    try:
        if process.status() == psutil.STATUS_ZOMBIE:
            reap_if_child(process.pid)
            return True
        return not process.is_running()
    except psutil.NoSuchProcess:
        return True
    except psutil.AccessDenied:
        return False
