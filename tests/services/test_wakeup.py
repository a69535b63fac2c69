"""Wake-ups: a loop learns of new work from an event (PostgreSQL NOTIFY, SQLite's data
version) rather than its next poll, and the poll alone still finishes the work without them.

Timing assertions are loose on purpose: a 10 s poll interval (the largest allowed) against a
bound of a few seconds, for a task that needs eight hand-offs between processes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import psycopg
import pytest

from tasker_cluster.services.errors import InvalidEnvironmentError
from tasker_cluster.services.settings import ServiceKind, ServiceSettings
from tasker_cluster.services.store import Database, Transaction, open_database
from tasker_cluster.services.store.queue import TASKS_DUE, send_many
from tasker_cluster.services.wakeup import WorkWatcher

from .support import ServiceFactory, ServiceProcess, create_task, wait_for_task

SLOWEST_POLL_MS = "10000"  # TASKER_POLL_INTERVAL_MS's maximum
EVENT_BOUND_SECONDS = 6.0  # well under one slow poll, let alone the eight a task would need
SEQUENCE = ("linear_workflow", "mathematical_sequence", {"even_number": 4})


def _pair(
    services: ServiceFactory, database_url: str, **env: str
) -> tuple[ServiceProcess, ServiceProcess]:
    orchestration = services.orchestration("orchestration-1", database_url, **env)
    worker = services.worker("worker-python-1", database_url, **env)
    return orchestration, worker


def _run_sequence(client: httpx.Client, url: str, timeout: float) -> float:
    """Seconds from the create to the task's completion, as the client sees them."""
    namespace, name, context = SEQUENCE
    began = time.monotonic()
    created = create_task(client, url, namespace, name, context)
    assert wait_for_task(client, url, created["task_uuid"], timeout) == "complete"
    return time.monotonic() - began


@pytest.mark.slow
def test_a_task_finishes_on_wake_ups_long_before_the_polls_would_have_run(
    services: ServiceFactory, database_url: str
) -> None:
    orchestration, _ = _pair(services, database_url, TASKER_POLL_INTERVAL_MS=SLOWEST_POLL_MS)
    time.sleep(0.5)  # every loop has polled once and now sleeps for 10 s
    with httpx.Client(timeout=10) as client:
        for _ in range(2):  # and again, right after the loops went back to sleep
            elapsed = _run_sequence(client, orchestration.url, timeout=60)
            assert elapsed < EVENT_BOUND_SECONDS, f"a 4-step task took {elapsed:.1f} s"


@pytest.mark.slow
def test_without_wake_ups_the_polls_alone_finish_the_task(
    services: ServiceFactory, database_url: str
) -> None:
    """What a lost notification leaves: the work waits for a poll, and is done."""
    orchestration, worker = _pair(
        services, database_url, TASKER_WAKEUPS="off", TASKER_POLL_INTERVAL_MS="1000"
    )
    time.sleep(0.5)
    with httpx.Client(timeout=10) as client:
        elapsed = _run_sequence(client, orchestration.url, timeout=60)
    # The worker sleeps a whole poll before it sees the first step: the polls did the work.
    assert elapsed > 1.0, f"finished in {elapsed:.2f} s without wake-ups: something woke it"
    for service in (orchestration, worker):
        assert "wake-ups are off (TASKER_WAKEUPS=off)" in service.log()


def test_tasker_wakeups_is_on_or_off() -> None:
    base = {"DATABASE_URL": "sqlite:///tmp/x.db"}
    assert ServiceSettings.from_environ(ServiceKind.WORKER, base).wakeups is True
    off = {**base, "TASKER_WAKEUPS": "off"}
    assert ServiceSettings.from_environ(ServiceKind.WORKER, off).wakeups is False
    with pytest.raises(InvalidEnvironmentError, match="TASKER_WAKEUPS"):
        ServiceSettings.from_environ(ServiceKind.WORKER, {**base, "TASKER_WAKEUPS": "maybe"})


# The two implementations, in process.


class _Woken:
    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self) -> None:
        self.event.set()

    def wait(self, timeout: float) -> bool:
        woken = self.event.wait(timeout)
        self.event.clear()
        return woken


@contextmanager
def _opened(url: str) -> Iterator[Database]:
    database = open_database(url)
    database.ensure_schema()
    try:
        yield database
    finally:
        database.close()


@contextmanager
def _watching(url: str, topics: set[str]) -> Iterator[tuple[WorkWatcher, _Woken]]:
    wake = _Woken()
    watcher = WorkWatcher(url, topics, [wake], "test-watcher")
    watcher.start()
    assert wake.wait(10), "the watcher did not wake once on starting to watch"
    try:
        yield watcher, wake
    finally:
        watcher.stop(5)
    assert not watcher.alive


def _enqueue(queue: str) -> Callable[[Transaction], None]:
    def work(transaction: Transaction) -> None:
        send_many(transaction, queue, [{"n": 1}], time.time())

    return work


def test_a_wake_up_comes_only_after_the_commit_that_enqueued(database_url: str) -> None:
    with _opened(database_url) as database, _watching(database_url, {"ours_queue"}) as watch:
        _, wake = watch
        early: list[bool] = []

        def enqueue_then_linger(transaction: Transaction) -> None:
            _enqueue("ours_queue")(transaction)
            early.append(wake.wait(0.5))

        database.write(enqueue_then_linger)
        assert early == [False]
        assert wake.wait(5)


@pytest.mark.postgres
def test_postgres_watchers_wake_for_their_topics_only(postgres_url: str) -> None:
    with _opened(postgres_url) as database, _watching(postgres_url, {TASKS_DUE}) as watch:
        watcher, wake = watch
        database.write(_enqueue("other_queue"))
        assert not wake.wait(0.5)
        assert watcher.notifications == 0
        database.write(lambda tx: tx.announce_work(TASKS_DUE))
        assert wake.wait(5)
        assert watcher.notifications == 1


@pytest.mark.postgres
def test_a_postgres_watcher_reconnects_and_wakes_for_what_it_missed(postgres_url: str) -> None:
    name = postgres_url.rsplit("/", 1)[1]
    with _opened(postgres_url) as database, _watching(postgres_url, {"ours_queue"}) as watch:
        watcher, wake = watch
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND query LIKE 'LISTEN%%'",
                (name,),
            ).fetchall()
        assert killed == [(True,)]
        assert wake.wait(10), "no wake-up after the listening connection was lost"
        assert watcher.alive
        database.write(_enqueue("ours_queue"))
        assert wake.wait(5)
        assert watcher.notifications == 1


def test_a_stopped_watcher_wakes_no_more(sqlite_url: str) -> None:
    with _opened(sqlite_url) as database:
        with _watching(sqlite_url, set()) as (_, wake):
            database.write(_enqueue("any_queue"))
            assert wake.wait(5)
        database.write(_enqueue("any_queue"))
        assert not wake.wait(0.2)


def test_a_disabled_watcher_starts_no_thread(sqlite_url: str) -> None:
    watcher = WorkWatcher(sqlite_url, set(), [], "test-watcher", enabled=False)
    watcher.start()
    assert not watcher.alive
    watcher.stop()
