"""The database interface both backends implement: transactions run as retried callables."""

from __future__ import annotations

import logging
import random
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ...wait import retry
from ..errors import ServiceError

Row = dict[str, Any]
Params = Sequence[object]
T = TypeVar("T")
C = TypeVar("C")

logger = logging.getLogger(__name__)

TRANSACTION_ATTEMPTS = 8


class StorageError(ServiceError):
    """A database operation failed."""


class ConstraintViolationError(StorageError):
    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"constraint violated: {detail}")


class DatabaseUnavailableError(StorageError):
    def __init__(self, url: str, detail: str) -> None:
        self.url = url
        self.detail = detail
        super().__init__(f"database {url} is unavailable: {detail}")


class TransientError(StorageError):
    """Lock contention or a deadlock: the transaction is safe to run again."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"transient database conflict (the transaction is retried): {detail}")


@dataclass(frozen=True)
class Dialect:
    name: str
    # Appended to a SELECT that picks rows to change, e.g. " FOR UPDATE SKIP LOCKED".
    skip_locked: str
    lock_row: str


class Transaction(ABC):
    """One open transaction; SQL uses `?` placeholders on every backend."""

    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement, return the number of rows it changed."""

    @abstractmethod
    def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...

    def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = self.fetch_all(sql, params)
        return rows[0] if rows else None

    def announce_work(self, topic: str) -> None:  # noqa: B027 - SQLite's is empty
        """Tell the other instances' watchers that work on `topic` (a queue's name or
        `queue.TASKS_DUE`) was written, once this commits: PostgreSQL's NOTIFY, sent once per
        topic and transaction. SQLite needs nothing: its watchers see every commit."""


# Both backends accept at least this many parameters in one statement.
MAX_PARAMETERS = 30_000


def placeholders(count: int) -> str:
    return ", ".join("?" * count)


def insert_rows(
    transaction: Transaction, table: str, columns: Sequence[str], rows: Sequence[Params]
) -> None:
    """Insert many rows with multi-row VALUES statements: one round trip per chunk."""
    if not rows:
        return
    group = f"({placeholders(len(columns))})"
    chunk = max(1, MAX_PARAMETERS // len(columns))
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        transaction.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([group] * len(part))}",
            [value for row in part for value in row],
        )


class Database(ABC):
    dialect: Dialect
    url: str

    def write(self, work: Callable[[Transaction], T]) -> T:
        """Run `work` in a write transaction, again from the start after transient failures."""
        return self._retrying(work, write=True)

    def read(self, work: Callable[[Transaction], T]) -> T:
        """Run `work` in a read-only transaction: every query sees one snapshot."""
        return self._retrying(work, write=False)

    def _retrying(self, work: Callable[[Transaction], T], write: bool) -> T:
        return retry(
            lambda attempt: self._transact(work, write),
            TRANSACTION_ATTEMPTS,
            retryable=lambda error: isinstance(error, TransientError),
            pause=_transaction_pause,
            on_retry=_log_failed_attempt,
        )

    @abstractmethod
    def query(self, sql: str, params: Params = ()) -> list[Row]:
        """One read-only statement on its own, outside any explicit transaction."""

    @abstractmethod
    def _transact(self, work: Callable[[Transaction], T], write: bool) -> T: ...

    @abstractmethod
    def ensure_schema(self) -> None:
        """Create every table and index that is missing; safe to run from many processes."""

    @abstractmethod
    def close(self) -> None: ...


def _transaction_pause(attempt: int) -> float:
    """A short, jittered pause that grows with each failed attempt (counted from 0)."""
    return random.uniform(0.001, 0.004) * (attempt + 1)


def _log_failed_attempt(attempt: int, error: Exception) -> None:
    logger.debug("transaction attempt %d failed: %s", attempt + 1, error)


class ConnectionPool(Generic[C]):
    """At most `max_size` connections, made on demand; a caller waits for a free one."""

    def __init__(
        self,
        connect: Callable[[], C],
        disconnect: Callable[[C], None],
        max_size: int,
        is_broken: Callable[[C], bool] = lambda connection: False,
    ) -> None:
        self._connect = connect
        self._disconnect = disconnect
        self._is_broken = is_broken
        self._max_size = max_size
        self._idle: list[C] = []
        self._open = 0
        self._closed = False
        self._condition = threading.Condition()

    @contextmanager
    def connection(self) -> Iterator[C]:
        connection = self._acquire()
        try:
            yield connection
        finally:
            self._release(connection)

    def _acquire(self) -> C:
        with self._condition:
            while not self._idle and self._open >= self._max_size:
                self._condition.wait()
            if self._idle:
                return self._idle.pop()
            self._open += 1
        try:
            return self._connect()
        except BaseException:
            with self._condition:
                self._open -= 1
                self._condition.notify()
            raise

    def _release(self, connection: C) -> None:
        with self._condition:
            keep = not self._closed and not self._is_broken(connection)
            if keep:
                self._idle.append(connection)
            else:
                self._open -= 1
            self._condition.notify()
        if not keep:
            try:
                self._disconnect(connection)
            except Exception:  # a broken connection may fail to close; it is gone either way
                logger.debug("closing a connection failed", exc_info=True)

    def close(self) -> None:
        with self._condition:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
        for connection in idle:
            self._disconnect(connection)
