"""Wake the loops when another instance wrote work, instead of waiting for their next poll.

On SQLite a thread watches `PRAGMA data_version`, which changes whenever any other connection
commits, on a short interval (a pragma costs microseconds). For PostgreSQL the LISTEN side is
here (`tasker_work`), but it is off (`POSTGRES_NOTIFY`): a NOTIFY in every enqueueing commit
serializes those commits and measured slower than polling on a 2x2 cluster. The loops keep
their polls as the fallback that guarantees progress: a lost wake-up costs a poll interval.
`TASKER_WAKEUPS=off` leaves them to their polls alone.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

# PostgreSQL's NOTIFY serializes notifying commits: measured slower than polling (see store's
# postgres backend), so its watcher stays off unless this is turned on.
POSTGRES_NOTIFY = False
SWITCH = "TASKER_WAKEUPS"  # `off` leaves the loops to their polls (for comparison)
CHANNEL = "tasker_work"
NOTIFY_SQL = f"SELECT pg_notify('{CHANNEL}', '')"
SQLITE_LOOK_SECONDS = 0.002
LISTEN_TIMEOUT_SECONDS = 0.5
RECONNECT_SECONDS = 1.0

Wake = Callable[[], None]


class WorkWatcher:
    """A daemon thread that calls every `wake` when the shared database saw a commit."""

    def __init__(self, database_url: str, wakes: Sequence[Wake], name: str) -> None:
        self.database_url = database_url
        self.wakes = tuple(wakes)
        self._stopping = threading.Event()
        self.enabled = not database_url.startswith("postgres") or POSTGRES_NOTIFY
        target = self._watch_postgres if database_url.startswith("postgres") else self._watch_sqlite
        self._thread = threading.Thread(target=target, name=name, daemon=True)

    def start(self) -> None:
        if os.environ.get(SWITCH, "on").lower() in ("off", "0", "false") or not self.enabled:
            logger.info("no commit watcher (%s=off or PostgreSQL): the loops poll", SWITCH)
            return
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _wake_all(self) -> None:
        for wake in self.wakes:
            wake()

    def _watch_sqlite(self) -> None:
        path = urlsplit(self.database_url).path
        try:
            connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as error:
            logger.warning("no commit watcher on %s (%s); polling only", path, error)
            return
        try:
            seen = _data_version(connection)
            while not self._stopping.wait(SQLITE_LOOK_SECONDS):
                current = _data_version(connection)
                if current != seen:
                    seen = current
                    self._wake_all()
        except sqlite3.Error as error:
            logger.warning("commit watcher on %s stopped (%s); polling only", path, error)
        finally:
            connection.close()

    def _watch_postgres(self) -> None:
        import psycopg  # noqa: PLC0415 - loaded only for PostgreSQL, like the store

        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.database_url, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    while not self._stopping.is_set():
                        for _ in connection.notifies(timeout=LISTEN_TIMEOUT_SECONDS, stop_after=1):
                            self._wake_all()
            except psycopg.Error as error:
                logger.warning("LISTEN %s failed (%s); polling until it reconnects", CHANNEL, error)
                self._stopping.wait(RECONNECT_SECONDS)


def _data_version(connection: sqlite3.Connection) -> int:
    row = connection.execute("PRAGMA data_version").fetchone()
    return int(row[0])
