"""The wait primitive: deadlines are never overrun, checks run at least once, pauses back off
up to their maximum, and a timeout names what was awaited and what the last look saw."""

from __future__ import annotations

import asyncio
import time

import pytest

from tasker_cluster.wait import (
    Deadline,
    WaitTimeoutError,
    retry,
    retry_async,
    wait_for,
    wait_for_async,
)


class Clock:
    """Records every sleep `wait_for` makes, on the real monotonic clock."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sleeps: list[float] = []
        real_sleep = time.sleep

        def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)
            real_sleep(seconds)

        monkeypatch.setattr("tasker_cluster.wait.time.sleep", sleep)


def test_deadline_within_never_extends_its_parent() -> None:
    parent = Deadline(0.5)
    assert parent.within(10).end == parent.end
    child = parent.within(0.1)
    assert child.end < parent.end
    assert 0 < child.remaining() <= 0.1
    assert not parent.expired
    assert Deadline(0).expired
    assert Deadline(-1).remaining() == 0.0


def test_the_value_the_check_returns_is_returned() -> None:
    answers = iter([None, False, "ready"])
    assert wait_for(lambda: next(answers), 5, "a value", interval=0.001) == "ready"


def test_the_check_runs_at_least_once_on_an_expired_deadline() -> None:
    calls: list[int] = []

    def check() -> bool:
        calls.append(1)
        return True

    assert wait_for(check, Deadline(0), "anything") is True
    assert len(calls) == 1
    with pytest.raises(WaitTimeoutError):
        wait_for(lambda: calls.append(2), 0, "never")
    assert calls == [1, 2]


def test_empty_results_other_than_none_and_false_count_as_done() -> None:
    assert wait_for(lambda: [], 1, "an empty list") == []
    assert wait_for(lambda: 0, 1, "zero") == 0


@pytest.mark.parametrize("timeout", [0.05, 0.2])
def test_the_deadline_is_never_overrun(timeout: float, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(monkeypatch)
    deadline = Deadline(timeout)
    with pytest.raises(WaitTimeoutError):
        wait_for(lambda: None, deadline, "nothing", interval=0.03, max_interval=1.0)
    overrun = time.monotonic() - deadline.end
    assert 0 <= overrun < 0.02
    # every pause is cut to what is left of the deadline
    assert sum(clock.sleeps) <= timeout + 1e-3


def test_pauses_double_up_to_the_maximum(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(monkeypatch)
    answers = iter([None] * 6 + [True])
    wait_for(lambda: next(answers), 10, "the seventh look", interval=0.001, max_interval=0.008)
    assert clock.sleeps == pytest.approx([0.001, 0.002, 0.004, 0.008, 0.008, 0.008], abs=1e-4)


def test_pauses_stay_constant_without_a_maximum(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(monkeypatch)
    answers = iter([None] * 3 + [True])
    wait_for(lambda: next(answers), 10, "the fourth look", interval=0.002)
    assert clock.sleeps == pytest.approx([0.002] * 3, abs=1e-4)


def test_the_timeout_error_names_what_was_awaited_and_the_last_look() -> None:
    looks = iter(range(1000))
    last = -1

    def check() -> None:
        nonlocal last
        last = next(looks)

    with pytest.raises(WaitTimeoutError) as caught:
        wait_for(check, 0.05, "the answer", interval=0.01, describe=lambda: f"look {last}")
    error = caught.value
    assert error.what == "the answer"
    assert error.seconds == 0.05
    assert error.last == f"look {last}"
    assert last >= 1
    assert str(error) == f"timed out after 0.05 s waiting for the answer (last seen: look {last})"


def test_without_describe_the_message_has_no_last_look() -> None:
    with pytest.raises(WaitTimeoutError, match=r"^timed out after 0 s waiting for x$") as caught:
        wait_for(lambda: None, 0, "x")
    assert caught.value.last is None


def test_the_async_wait_shares_the_semantics() -> None:
    looks: list[float] = []

    async def check() -> str | None:
        looks.append(time.monotonic())
        return "done" if len(looks) == 4 else None

    async def main() -> None:
        assert await wait_for_async(check, 5, "four looks", interval=0.002) == "done"
        deadline = Deadline(0.05)
        with pytest.raises(WaitTimeoutError, match="waiting for never") as caught:
            await wait_for_async(
                lambda: asyncio.sleep(0, None), deadline, "never", describe=lambda: "still none"
            )
        assert caught.value.last == "still none"
        assert 0 <= time.monotonic() - deadline.end < 0.02

    asyncio.run(main())
    assert len(looks) == 4


def test_the_async_wait_backs_off(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        await real_sleep(seconds)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    answers = iter([None] * 4 + [True])

    async def check() -> bool | None:
        return next(answers)

    asyncio.run(wait_for_async(check, 10, "the fifth look", interval=0.001, max_interval=0.004))
    assert pauses == pytest.approx([0.001, 0.002, 0.004, 0.004], abs=1e-4)


def test_retry_returns_the_first_success_and_pauses_between(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock(monkeypatch)
    seen: list[tuple[int, str]] = []

    def work(attempt: int) -> int:
        if attempt < 2:
            raise ConnectionError(f"attempt {attempt}")
        return attempt

    result = retry(
        work,
        5,
        pause=lambda attempt: 0.001 * (attempt + 1),
        on_retry=lambda attempt, error: seen.append((attempt, str(error))),
    )
    assert result == 2
    assert seen == [(0, "attempt 0"), (1, "attempt 1")]
    assert clock.sleeps == pytest.approx([0.001, 0.002])


def test_retry_raises_the_last_error_unchanged_after_the_last_attempt() -> None:
    attempts: list[int] = []

    def work(attempt: int) -> None:
        attempts.append(attempt)
        raise KeyError(attempt)

    with pytest.raises(KeyError) as caught:
        retry(work, 3)
    assert caught.value.args == (2,)
    assert attempts == [0, 1, 2]


def test_retry_does_not_repeat_what_is_not_retryable() -> None:
    attempts: list[int] = []

    def work(attempt: int) -> None:
        attempts.append(attempt)
        raise ValueError("permanent")

    with pytest.raises(ValueError, match="permanent"):
        retry(work, 5, retryable=lambda error: not isinstance(error, ValueError))
    assert attempts == [0]


def test_retry_needs_an_attempt() -> None:
    with pytest.raises(ValueError, match="at least one attempt"):
        retry(lambda attempt: attempt, 0)


def test_retry_async_retries_then_propagates() -> None:
    attempts: list[int] = []

    async def work(attempt: int) -> str:
        attempts.append(attempt)
        if attempt == 0:
            raise TimeoutError("slow")
        if attempt == 1:
            return "second"
        raise AssertionError("not reached")

    assert asyncio.run(retry_async(work, 3, pause=0.001)) == "second"
    assert attempts == [0, 1]

    async def failing(attempt: int) -> None:
        raise OSError(f"attempt {attempt}")

    with pytest.raises(OSError, match="attempt 1"):
        asyncio.run(retry_async(failing, 2))
