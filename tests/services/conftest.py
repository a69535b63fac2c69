"""Fixtures: real service processes (always cleaned up) and throwaway databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from .support import ServiceFactory

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


# The service factories of the running test, so that a database fixture can stop their
# processes before it drops the database under them, whatever the fixture order.
FACTORIES = pytest.StashKey[list[ServiceFactory]]()


@pytest.fixture
def services(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ServiceFactory]:
    factory = ServiceFactory(tmp_path)
    request.node.stash.setdefault(FACTORIES, []).append(factory)
    yield factory
    factory.finish()


@pytest.fixture(scope="module")
def module_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceFactory]:
    """Services shared by the tests of one module (for read-mostly API tests)."""
    factory = ServiceFactory(tmp_path_factory.mktemp("services"))
    yield factory
    factory.finish()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tasker.sqlite3'}"


def _server_url() -> str:
    return os.environ.get("TASKER_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The server URL; skip (or, with CI set, fail) when PostgreSQL cannot be reached."""
    url = _server_url()
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as error:
        message = f"PostgreSQL at {url} is unreachable: {str(error).strip()}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)")
        pytest.skip(message)
    return url


@pytest.fixture
def postgres_url(postgres_server: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database, dropped after the test's services have been stopped."""
    name = f"tasker_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = postgres_server.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        for factory in request.node.stash.get(FACTORIES, []):
            factory.cleanup()
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tasker.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url
