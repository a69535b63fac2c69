"""SQLite backend: WAL, a busy timeout and `BEGIN IMMEDIATE` for every write transaction."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from .database import (
    ConstraintViolationError,
    DatabaseUnavailableError,
    Dialect,
    Row,
    TransientError,
)
from .pooled import PooledDatabase
from .schema import SQLITE_TYPES

SQLITE_DIALECT = Dialect(name="sqlite", skip_locked="", lock_row="")
BUSY_TIMEOUT_MS = 30_000
_UNAVAILABLE_MARKERS = ("unable to open", "disk I/O", "readonly", "no such table")


def sqlite_path(url: str) -> Path:
    """The absolute path of `sqlite:///<path>`: `sqlite:////tmp/x.db` and `sqlite:///tmp/x.db`
    both name /tmp/x.db."""
    return Path("/" + url.removeprefix("sqlite://").lstrip("/"))


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class SqliteDatabase(PooledDatabase[sqlite3.Connection]):
    """Concurrent schema creators are serialized by `BEGIN IMMEDIATE`."""

    dialect = SQLITE_DIALECT
    schema_types = SQLITE_TYPES
    begin_write = "BEGIN IMMEDIATE"
    begin_read = "BEGIN"

    def __init__(self, url: str, pool_size: int = 4) -> None:
        self.path = sqlite_path(url)
        super().__init__(url, pool_size)

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

    def _rollback(self, connection: sqlite3.Connection) -> None:
        if connection.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")

    def _transaction_error(
        self, connection: sqlite3.Connection, error: Exception
    ) -> Exception | None:
        if isinstance(error, sqlite3.IntegrityError):
            return ConstraintViolationError(str(error))
        if (contention := self._query_error(connection, error)) is not None:
            return contention
        if isinstance(error, sqlite3.OperationalError) and any(
            marker in str(error) for marker in _UNAVAILABLE_MARKERS
        ):
            return DatabaseUnavailableError(self.url, str(error))
        return None

    def _query_error(self, connection: sqlite3.Connection, error: Exception) -> Exception | None:
        """Lock contention: the statement is safe to run again."""
        text = str(error)
        if isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
            return TransientError(text)
        return None
