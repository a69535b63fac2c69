"""What both backends share: a pool of DB-API connections, the transaction, the schema."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from .database import ConnectionPool, Database, Params, Row, Transaction
from .schema import ColumnTypes, schema_statements

T = TypeVar("T")


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    def execute(self, sql: str, params: Params = ..., /) -> Cursor: ...

    def close(self) -> None: ...


C = TypeVar("C", bound=Connection)


class PooledTransaction(Transaction, Generic[C]):
    """A transaction on one connection; `native` turns `?` placeholders into the driver's.

    `announce_sql` takes the topic as its one parameter.
    """

    def __init__(
        self, connection: C, native: Callable[[str], str], announce_sql: str | None = None
    ) -> None:
        self._connection = connection
        self._native = native
        self._announce_sql = announce_sql
        self._announced: set[str] = set()

    def execute(self, sql: str, params: Params = ()) -> int:
        return self._connection.execute(self._native(sql), params).rowcount

    def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        rows: list[Row] = self._connection.execute(self._native(sql), params).fetchall()
        return rows

    def announce_work(self, topic: str) -> None:
        if self._announce_sql is not None and topic not in self._announced:
            self._announced.add(topic)
            self._connection.execute(self._native(self._announce_sql), (topic,))


class PooledDatabase(Database, Generic[C]):
    """A backend over a `ConnectionPool`; each one says how it begins and how it fails.

    Errors are translated into the `StorageError`s of `database`; an error the backend does
    not recognise propagates as it is.
    """

    schema_types: ColumnTypes
    begin_write: str
    begin_read: str
    announce_sql: str | None = None

    def __init__(self, url: str, pool_size: int = 4) -> None:
        self.url = url
        self._pool: ConnectionPool[C] = ConnectionPool(
            self._connect, lambda connection: connection.close(), pool_size, self._is_broken
        )

    @abstractmethod
    def _connect(self) -> C: ...

    def _is_broken(self, connection: C) -> bool:
        return False

    def _transaction(self, connection: C) -> Transaction:
        return PooledTransaction(connection, self._native, self.announce_sql)

    @staticmethod
    def _native(sql: str) -> str:
        """The driver's form of `sql` (written with `?` placeholders)."""
        return sql

    @abstractmethod
    def _rollback(self, connection: C) -> None:
        """Roll back after a failure, ignoring the backend's errors in doing so."""

    @abstractmethod
    def _transaction_error(self, connection: C, error: Exception) -> Exception | None:
        """What to raise instead of `error` from a transaction, or None to let it through."""

    @abstractmethod
    def _query_error(self, connection: C, error: Exception) -> Exception | None:
        """What to raise instead of `error` from a single statement, or None."""

    def _transact(self, work: Callable[[Transaction], T], write: bool) -> T:
        with self._pool.connection() as connection:
            try:
                connection.execute(self.begin_write if write else self.begin_read)
                try:
                    result = work(self._transaction(connection))
                    connection.execute("COMMIT")
                except BaseException:
                    self._rollback(connection)
                    raise
            except Exception as error:
                translated = self._transaction_error(connection, error)
                if translated is None:
                    raise
                raise translated from error
            return result

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        with self._pool.connection() as connection:
            try:
                return self._transaction(connection).fetch_all(sql, params)
            except Exception as error:
                translated = self._query_error(connection, error)
                if translated is None:
                    raise
                raise translated from error

    def _lock_schema(self, transaction: Transaction) -> None:
        """Serialize concurrent schema creators, where `begin_write` alone does not."""

    def ensure_schema(self) -> None:
        """Existing objects are kept; concurrent callers are serialized."""

        def create(transaction: Transaction) -> None:
            self._lock_schema(transaction)
            for statement in schema_statements(self.schema_types):
                transaction.execute(statement)

        self.write(create)

    def close(self) -> None:
        self._pool.close()
