"""Storage: one interface, a SQLite and a PostgreSQL backend, and the operations on top."""

from __future__ import annotations

from .database import (
    ConstraintViolationError,
    Database,
    DatabaseUnavailableError,
    Dialect,
    Row,
    StorageError,
    Transaction,
    TransientError,
)

__all__ = [
    "ConstraintViolationError",
    "Database",
    "DatabaseUnavailableError",
    "Dialect",
    "Row",
    "StorageError",
    "Transaction",
    "TransientError",
    "open_database",
]


def open_database(url: str, pool_size: int = 4) -> Database:
    """A database for `url`; psycopg is imported only for postgresql:// URLs."""
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresDatabase  # noqa: PLC0415 - psycopg only when needed

        return PostgresDatabase(url, pool_size)
    from .sqlite import SqliteDatabase  # noqa: PLC0415 - symmetric with the line above

    return SqliteDatabase(url, pool_size)
