"""PostgreSQL backend (psycopg 3): pooled autocommit connections with explicit transactions.

Importing this module imports psycopg, so only `open_database` does, for postgresql:// URLs.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable
from typing import TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row

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
from .schema import POSTGRES_TYPES, schema_statements

T = TypeVar("T")

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


@functools.lru_cache(maxsize=512)
def _native(sql: str) -> str:
    return sql.replace("?", "%s")


def redacted(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


class PostgresTransaction(Transaction):
    def __init__(self, connection: psycopg.Connection[Row]) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Params = ()) -> int:
        return self._connection.execute(_native(sql), params).rowcount

    def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return self._connection.execute(_native(sql), params).fetchall()


class PostgresDatabase(Database):
    dialect = POSTGRES_DIALECT

    def __init__(self, url: str, pool_size: int = 4) -> None:
        self.url = url
        self._pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            self._connect,
            lambda connection: connection.close(),
            pool_size,
            is_broken=lambda connection: connection.closed or connection.broken,
        )

    def _connect(self) -> psycopg.Connection[Row]:
        try:
            return psycopg.connect(
                self.url, autocommit=True, row_factory=dict_row, connect_timeout=5
            )
        except psycopg.OperationalError as error:
            raise DatabaseUnavailableError(redacted(self.url), str(error).strip()) from error

    def _transact(self, work: Callable[[Transaction], T], write: bool) -> T:
        with self._pool.connection() as connection:
            try:
                connection.execute("BEGIN" if write else READ_ONLY_BEGIN)
                try:
                    result = work(PostgresTransaction(connection))
                except BaseException:
                    with contextlib.suppress(psycopg.Error):
                        connection.execute("ROLLBACK")
                    raise
                connection.execute("COMMIT")
                return result
            except _TRANSIENT as error:
                raise TransientError(str(error).strip()) from error
            except pg_errors.IntegrityError as error:
                raise ConstraintViolationError(str(error).strip()) from error
            except psycopg.OperationalError as error:
                if connection.broken or connection.closed:
                    raise DatabaseUnavailableError(
                        redacted(self.url), str(error).strip()
                    ) from error
                raise

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        with self._pool.connection() as connection:
            try:
                return PostgresTransaction(connection).fetch_all(sql, params)
            except psycopg.OperationalError as error:
                if connection.broken or connection.closed:
                    raise DatabaseUnavailableError(
                        redacted(self.url), str(error).strip()
                    ) from error
                raise

    def ensure_schema(self) -> None:
        """An advisory lock serializes concurrent creators; existing objects are kept."""

        def create(transaction: Transaction) -> None:
            transaction.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK_KEY,))
            for statement in schema_statements(POSTGRES_TYPES):
                transaction.execute(statement)

        self.write(create)

    def close(self) -> None:
        self._pool.close()
