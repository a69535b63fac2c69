"""Throw-away databases for a managed test cluster: a SQLite file or a fresh PostgreSQL database."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tasker_cluster.layout import DATABASE_FILE
from tasker_cluster.secrets import redact_url
from tasker_cluster.testing.errors import DatabaseSetupError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScratchDatabase:
    """`url` is what the instances get as DATABASE_URL; `name` is set for PostgreSQL."""

    url: str
    backend: str
    admin_url: str | None = None
    name: str | None = None

    def drop(self) -> None:
        if self.admin_url is None or self.name is None:
            return
        _execute(self.admin_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)', "drop")
        logger.info("dropped test database %s", self.name)


def sqlite_database(cluster_dir: Path) -> ScratchDatabase:
    data_dir = cluster_dir / ".data"
    data_dir.mkdir(parents=True, exist_ok=True)
    return ScratchDatabase(f"sqlite:///{(data_dir / DATABASE_FILE).absolute()}", "sqlite")


def postgres_database(admin_url: str) -> ScratchDatabase:
    """Create `tasker_test_<pid>_<random>` on the server of `admin_url`."""
    name = f"tasker_test_{os.getpid()}_{secrets.token_hex(4)}"
    _execute(admin_url, f'CREATE DATABASE "{name}"', "create")
    logger.info("created test database %s", name)
    parts = urlsplit(admin_url)
    url = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
    return ScratchDatabase(url, "postgres", admin_url, name)


def _execute(admin_url: str, statement: str, action: str) -> None:
    import psycopg  # noqa: PLC0415 - only PostgreSQL clusters pay for this import

    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(statement.encode())
    except psycopg.Error as error:
        raise DatabaseSetupError(redact_url(admin_url), action, str(error).strip()) from error
