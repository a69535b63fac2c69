"""Wake the loops when another instance wrote work, instead of waiting for their next poll.

One abstraction, two implementations. A writer announces a *topic* inside the transaction
that makes work (`Transaction.announce_work`: a step queue's name, the results queue's, or
`TASKS_DUE`); a `WorkWatcher` thread per process calls its `wake`s when work it cares about
may have been committed:

- PostgreSQL: the announcement is `pg_notify('tasker_work', <topic>)`, delivered only after
  the commit, so a woken loop always sees the work. The watcher holds one dedicated
  connection that LISTENs, and wakes only for its own topics (an orchestration for results
  and due tasks, a worker for its queues). After every (re)connect it wakes once, since what
  was announced while it was not listening is lost.
- SQLite: announcements are no-ops; the watcher looks at `PRAGMA data_version`, which changes
  whenever any other connection commits, every 2 ms (a pragma costs microseconds), and wakes
  for any commit (and once after its first look).

The loops keep their polls as the fallback that guarantees progress: a lost wake-up costs a
poll interval, never work. `TASKER_WAKEUPS=off` starts no watcher, so the loops poll alone
(what a lost notification looks like, and a comparison).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .store.queue import WORK_CHANNEL

if TYPE_CHECKING:
    import psycopg

logger = logging.getLogger(__name__)

SQLITE_LOOK_SECONDS = 0.002
LISTEN_TIMEOUT_SECONDS = 0.5
RECONNECT_SECONDS = 1.0
CONNECT_TIMEOUT_SECONDS = 5

Wake = Callable[[], None]


class WorkWatcher:
    """A daemon thread that calls every `wake` when work on one of `topics` may have arrived."""

    def __init__(
        self,
        database_url: str,
        topics: Collection[str],
        wakes: Sequence[Wake],
        name: str,
        *,
        enabled: bool = True,
    ) -> None:
        self.database_url = database_url
        self.topics = frozenset(topics)
        self.wakes = tuple(wakes)
        self.enabled = enabled
        self.postgres = database_url.startswith("postgres")
        self.notifications = 0  # announcements received for our topics (PostgreSQL)
        self._stopping = threading.Event()
        target = self._watch_postgres if self.postgres else self._watch_sqlite
        self._thread = threading.Thread(target=target, name=name, daemon=True)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        if not self.enabled:
            logger.info("wake-ups are off (TASKER_WAKEUPS=off): the loops only poll")
            return
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def wanted(self, payload: str) -> bool:
        """Whether an announcement of `payload` concerns us (an empty one concerns everyone)."""
        return not payload or payload in self.topics

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
            self._wake_all()  # whatever was committed before the first look
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

        failing = False
        while not self._stopping.is_set():
            try:
                with psycopg.connect(
                    self.database_url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
                ) as connection:
                    connection.execute(f"LISTEN {WORK_CHANNEL}")
                    if failing:
                        logger.info("LISTEN %s again; woken by notifications", WORK_CHANNEL)
                    failing = False
                    self._wake_all()  # whatever was announced while nobody listened
                    self._listen(connection)
            except psycopg.Error as error:
                if not failing:
                    logger.warning(
                        "LISTEN %s failed (%s); polling until it reconnects",
                        WORK_CHANNEL,
                        str(error).strip(),
                    )
                failing = True
                self._stopping.wait(RECONNECT_SECONDS)

    def _listen(self, connection: psycopg.Connection[tuple[object, ...]]) -> None:
        while not self._stopping.is_set():
            for notification in connection.notifies(timeout=LISTEN_TIMEOUT_SECONDS):
                if self.wanted(notification.payload):
                    self.notifications += 1
                    self._wake_all()
                if self._stopping.is_set():
                    return


def _data_version(connection: sqlite3.Connection) -> int:
    row = connection.execute("PRAGMA data_version").fetchone()
    return int(row[0])
