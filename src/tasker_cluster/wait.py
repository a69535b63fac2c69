"""The one wait primitive: a monotonic `Deadline` and `wait_for` / `wait_for_async`.

Every loop that polls for something (a lock, a port, a process exit, health, a task state)
uses these, so each wait shares the same deadline semantics and the same timeout error: it
names what it waited for, for how long, and what the last look saw.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tasker_cluster.errors import ClusterError

T = TypeVar("T")


class Deadline:
    """A point on the monotonic clock; nested waits take `within()` so none overruns it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.end

    def within(self, seconds: float) -> Deadline:
        """A deadline `seconds` from now, but never later than this one."""
        child = Deadline(seconds)
        child.end = min(child.end, self.end)
        return child


class WaitTimeoutError(ClusterError):
    """`wait_for` gave up: `what` did not happen within `seconds`; `last` is the last look."""

    def __init__(self, what: str, seconds: float, last: object = None) -> None:
        self.what = what
        self.seconds = seconds
        self.last = last
        seen = "" if last is None else f" (last seen: {last})"
        super().__init__(f"timed out after {seconds:g} s waiting for {what}{seen}")


def _as_deadline(timeout: float | Deadline) -> Deadline:
    return timeout if isinstance(timeout, Deadline) else Deadline(timeout)


def wait_for(
    check: Callable[[], T | None],
    timeout: float | Deadline,
    what: str,
    *,
    interval: float = 0.05,
    max_interval: float | None = None,
    describe: Callable[[], object] | None = None,
) -> T:
    """Call `check` until it returns something other than None (or False); return that.

    `check` runs at least once, even on an expired deadline. Between calls it sleeps
    `interval`, doubling up to `max_interval` when one is given (a tight, backing-off cadence),
    never past the deadline. On timeout raises `WaitTimeoutError` naming `what` and, when
    `describe` is given, what it returns.
    """
    deadline = _as_deadline(timeout)
    pause = interval
    while True:
        result = check()
        if result is not None and result is not False:
            return result
        if deadline.expired:
            raise WaitTimeoutError(what, deadline.seconds, describe() if describe else None)
        time.sleep(min(pause, deadline.remaining()))
        if max_interval is not None:
            pause = min(pause * 2, max_interval)


async def wait_for_async(
    check: Callable[[], Awaitable[T | None]],
    timeout: float | Deadline,
    what: str,
    *,
    interval: float = 0.05,
    max_interval: float | None = None,
    describe: Callable[[], object] | None = None,
) -> T:
    """`wait_for` for a coroutine check, sleeping with `asyncio.sleep`."""
    deadline = _as_deadline(timeout)
    pause = interval
    while True:
        result = await check()
        if result is not None and result is not False:
            return result
        if deadline.expired:
            raise WaitTimeoutError(what, deadline.seconds, describe() if describe else None)
        await asyncio.sleep(min(pause, deadline.remaining()))
        if max_interval is not None:
            pause = min(pause * 2, max_interval)
