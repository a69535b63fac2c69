"""tasker-core's own Rust client (the `tasker-py` wheel) against our orchestration: every
operation it has, through scripts/check_tasker_client.py, against a real orchestration and
worker started here.

Needs `tasker_core` importable in this interpreter (`pip install tasker-py`, or this project's
`tasker-core` extra) and a PostgreSQL server for the client's worker bootstrap to connect to
(TASKER_TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/postgres): the test
gives it a throw-away database.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tasker_cluster.testing.manager import MultiInstanceTestManager
from tasker_cluster.testing.plugin_factories import tasker_cluster_proc

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_tasker_client.py"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
OPERATIONS = (
    "health_check",
    "create_task",
    "get_task",
    "list_tasks",
    "list_task_steps",
    "get_step",
    "get_step_audit_history",
    "cancel_task",
)
SCRIPT_TIMEOUT = 180.0

tasker_core_cluster = tasker_cluster_proc(orchestration=1, workers=1, scope="module")


@pytest.fixture(scope="module")
def tasker_core_installed() -> None:
    if importlib.util.find_spec("tasker_core") is None:
        pytest.skip("tasker-py is not installed (pip install tasker-py)")


@pytest.fixture
def bootstrap_database() -> Iterator[str]:
    """A fresh PostgreSQL database for tasker-core's worker bootstrap, dropped afterwards."""
    server = os.environ.get("TASKER_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    try:
        admin = psycopg.connect(server, autocommit=True, connect_timeout=3)
    except psycopg.Error as error:
        pytest.skip(f"PostgreSQL at {server} is unreachable: {str(error).strip()}")
    name = f"tasker_client_check_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{server.rpartition('/')[0]}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_tasker_cores_client_succeeds_at_every_operation(
    tasker_core_installed: None,
    tasker_core_cluster: MultiInstanceTestManager,
    bootstrap_database: str,
) -> None:
    url = tasker_core_cluster.cluster.client(0).url
    finished = subprocess.run(
        [sys.executable, str(SCRIPT), url, "--database-url", bootstrap_database],
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
        check=False,
        env={**os.environ, "RUST_LOG": "error"},
    )
    report = f"stdout:\n{finished.stdout}\nstderr (last lines):\n{finished.stderr[-3000:]}"
    rows = {
        line.split()[0]: line.split(None, 1)[1]
        for line in finished.stdout.splitlines()[2:]
        if line.strip()
    }
    assert list(rows) == list(OPERATIONS), report
    failed = {name: result for name, result in rows.items() if not result.startswith("ok:")}
    assert failed == {}, report
    assert finished.returncode == 0, report
