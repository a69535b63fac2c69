"""The one wait primitive: a monotonic `Deadline` and `wait_for` / `wait_for_async`.

Every loop that polls for something (a lock, a port, a process exit, health, a task state)
uses these, so each wait shares the same deadline semantics and the same timeout error: it
names what it waited for, for how long, and what the last look saw.

`retry` / `retry_async` are their counterpart for work that is repeated a fixed number of
times after transient failures (a transaction, a request): the last failure propagates as is.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
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


def _sleeps(
    deadline: Deadline,
    interval: float,
    max_interval: float | None,
    what: str,
    describe: Callable[[], object] | None,
) -> Iterator[float]:
    """How long to sleep after each failed check, never past `deadline`; once it has passed,
    `WaitTimeoutError` naming `what` (and what `describe` says it last saw)."""
    for pause in _pauses(interval, max_interval):
        if deadline.expired:
            raise WaitTimeoutError(what, deadline.seconds, describe() if describe else None)
        yield min(pause, deadline.remaining())
    raise AssertionError("unreachable: _pauses never ends")


def _pauses(interval: float, max_interval: float | None) -> Iterator[float]:
    """`interval`, then doubling up to `max_interval` when one is given, else constant."""
    pause = interval
    while True:
        yield pause
        if max_interval is not None:
            pause = min(pause * 2, max_interval)


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
    sleeps = _sleeps(_as_deadline(timeout), interval, max_interval, what, describe)
    while True:
        result = check()
        if result is not None and result is not False:
            return result
        time.sleep(next(sleeps))


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
    import asyncio  # noqa: PLC0415 - asyncio costs ~30 ms; the CLI's sync waits never pay it

    sleeps = _sleeps(_as_deadline(timeout), interval, max_interval, what, describe)
    while True:
        result = await check()
        if result is not None and result is not False:
            return result
        await asyncio.sleep(next(sleeps))


Pause = float | Callable[[int], float]
"""Seconds to sleep after a failed attempt: a constant, or a function of the attempt number."""
Retryable = Callable[[Exception], bool]
OnRetry = Callable[[int, Exception], None]


def _always(error: Exception) -> bool:
    return True


def _pause_after(pause: Pause, attempt: int) -> float:
    return max(0.0, pause(attempt) if callable(pause) else pause)


def retry(
    work: Callable[[int], T],
    attempts: int,
    *,
    retryable: Retryable = _always,
    pause: Pause = 0.0,
    on_retry: OnRetry | None = None,
) -> T:
    """Return `work(attempt)` for the first attempt (counted from 0) that does not raise.

    An exception is retried only while attempts remain and `retryable(error)` is true;
    otherwise it propagates unchanged (so callers keep their own error types). Before each
    retry `on_retry(attempt, error)` is called and the loop sleeps `pause` (or
    `pause(attempt)`) seconds.
    """
    for attempt in range(attempts):
        try:
            return work(attempt)
        except Exception as error:
            if attempt + 1 >= attempts or not retryable(error):
                raise
            if on_retry is not None:
                on_retry(attempt, error)
        time.sleep(_pause_after(pause, attempt))
    raise ValueError(f"retry needs at least one attempt, got {attempts}")


async def retry_async(
    work: Callable[[int], Awaitable[T]],
    attempts: int,
    *,
    retryable: Retryable = _always,
    pause: Pause = 0.0,
    on_retry: OnRetry | None = None,
) -> T:
    """`retry` for a coroutine `work`, sleeping with `asyncio.sleep`."""
    import asyncio  # noqa: PLC0415 - see wait_for_async

    for attempt in range(attempts):
        try:
            return await work(attempt)
        except Exception as error:
            if attempt + 1 >= attempts or not retryable(error):
                raise
            if on_retry is not None:
                on_retry(attempt, error)
        await asyncio.sleep(_pause_after(pause, attempt))
    raise ValueError(f"retry needs at least one attempt, got {attempts}")
