"""SQLite backend: WAL, a busy timeout and `BEGIN IMMEDIATE` for every write transaction."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .database import (
    ConnectionPool,
    ConstraintViolationError,
    Database,
    DatabaseUnavailableError,
    Dialect,
    Params,
    Row,
    Transaction,
    TransientError,
)
from .schema import SQLITE_TYPES, schema_statements

T = TypeVar("T")

SQLITE_DIALECT = Dialect(name="sqlite", skip_locked="", lock_row="")
BUSY_TIMEOUT_MS = 30_000
_UNAVAILABLE_MARKERS = ("unable to open", "disk I/O", "readonly", "no such table")


def sqlite_path(url: str) -> Path:
    """The absolute path of `sqlite:///<path>`: `sqlite:////tmp/x.db` and `sqlite:///tmp/x.db`
    both name /tmp/x.db."""
    return Path("/" + url.removeprefix("sqlite://").lstrip("/"))


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class SqliteTransaction(Transaction):
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Params = ()) -> int:
        return self._connection.execute(sql, params).rowcount

    def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        rows: list[Row] = self._connection.execute(sql, params).fetchall()
        return rows


class SqliteDatabase(Database):
    dialect = SQLITE_DIALECT

    def __init__(self, url: str, pool_size: int = 4) -> None:
        self.url = url
        self.path = sqlite_path(url)
        self._pool: ConnectionPool[sqlite3.Connection] = ConnectionPool(
            self._connect, lambda connection: connection.close(), pool_size
        )

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
        except (OSError, sqlite3.Error) as error:
            raise DatabaseUnavailableError(self.url, str(error)) from error
        connection.row_factory = _dict_row
        return connection

    def _transact(self, work: Callable[[Transaction], T], write: bool) -> T:
        with self._pool.connection() as connection:
            try:
                connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    result = work(SqliteTransaction(connection))
                    connection.execute("COMMIT")
                except BaseException:
                    if connection.in_transaction:
                        with contextlib.suppress(sqlite3.Error):
                            connection.execute("ROLLBACK")
                    raise
            except sqlite3.IntegrityError as error:
                raise ConstraintViolationError(str(error)) from error
            except sqlite3.OperationalError as error:
                text = str(error)
                if "locked" in text or "busy" in text:
                    raise TransientError(text) from error
                if any(marker in text for marker in _UNAVAILABLE_MARKERS):
                    raise DatabaseUnavailableError(self.url, text) from error
                raise
            return result

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        with self._pool.connection() as connection:
            try:
                return SqliteTransaction(connection).fetch_all(sql, params)
            except sqlite3.OperationalError as error:
                if "locked" in str(error) or "busy" in str(error):
                    raise TransientError(str(error)) from error
                raise

    def ensure_schema(self) -> None:
        """Concurrent callers are serialized by `BEGIN IMMEDIATE`; existing objects are kept."""

        def create(transaction: Transaction) -> None:
            for statement in schema_statements(SQLITE_TYPES):
                transaction.execute(statement)

        self.write(create)

    def close(self) -> None:
        self._pool.close()
