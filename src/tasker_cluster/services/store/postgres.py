"""PostgreSQL backend (psycopg 3): pooled autocommit connections with explicit transactions.

Importing this module imports psycopg, so only `open_database` does, for postgresql:// URLs.
"""

from __future__ import annotations

import contextlib
import functools

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row

from ...secrets import redact_url
from .database import (
    ConstraintViolationError,
    DatabaseUnavailableError,
    Dialect,
    Row,
    Transaction,
    TransientError,
)
from .pooled import PooledDatabase
from .queue import WORK_CHANNEL
from .schema import POSTGRES_TYPES

POSTGRES_DIALECT = Dialect(
    name="postgresql", skip_locked=" FOR UPDATE SKIP LOCKED", lock_row=" FOR UPDATE"
)
SCHEMA_LOCK_KEY = 7_303_011
READ_ONLY_BEGIN = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
_TRANSIENT = (
    pg_errors.DeadlockDetected,
    pg_errors.SerializationFailure,
    pg_errors.LockNotAvailable,
)


class PostgresDatabase(PooledDatabase["psycopg.Connection[Row]"]):
    """Concurrent schema creators are serialized by an advisory lock."""

    dialect = POSTGRES_DIALECT
    schema_types = POSTGRES_TYPES
    begin_write = "BEGIN"
    begin_read = READ_ONLY_BEGIN
    # Delivered after the commit to every `wakeup.WorkWatcher` LISTENing. A notifying commit
    # takes PostgreSQL's notification lock, so only transactions that make work for another
    # process notify, once per topic (see `announce_work`'s callers).
    announce_sql = f"SELECT pg_notify('{WORK_CHANNEL}', ?)"

    def _connect(self) -> psycopg.Connection[Row]:
        try:
            return psycopg.connect(
                self.url, autocommit=True, row_factory=dict_row, connect_timeout=5
            )
        except psycopg.OperationalError as error:
            raise DatabaseUnavailableError(redact_url(self.url), str(error).strip()) from error

    def _is_broken(self, connection: psycopg.Connection[Row]) -> bool:
        return connection.closed or connection.broken

    @staticmethod
    @functools.lru_cache(maxsize=512)
    def _native(sql: str) -> str:
        return sql.replace("?", "%s")

    def _rollback(self, connection: psycopg.Connection[Row]) -> None:
        with contextlib.suppress(psycopg.Error):
            connection.execute("ROLLBACK")

    def _transaction_error(
        self, connection: psycopg.Connection[Row], error: Exception
    ) -> Exception | None:
        if isinstance(error, _TRANSIENT):
            return TransientError(str(error).strip())
        if isinstance(error, pg_errors.IntegrityError):
            return ConstraintViolationError(str(error).strip())
        return self._query_error(connection, error)

    def _query_error(
        self, connection: psycopg.Connection[Row], error: Exception
    ) -> Exception | None:
        """A failure of the connection itself; other errors are the statement's."""
        if isinstance(error, psycopg.OperationalError) and self._is_broken(connection):
            return DatabaseUnavailableError(redact_url(self.url), str(error).strip())
        return None

    def _lock_schema(self, transaction: Transaction) -> None:
        transaction.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK_KEY,))
