"""External mode against a deployment whose API has no transitions route: transitions are read
from its database, with tasker-core's table and column names (schema `tasker`)."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tasker_cluster.client.client import OrchestrationCluster
from tasker_cluster.client.cluster_config import ClusterConfig
from tasker_cluster.client.db_transitions import DatabaseTransitions
from tasker_cluster.client.environment import DEFAULT_POSTGRES_URL, POSTGRES_URL_VAR
from tasker_cluster.client.errors import TransitionsUnreadableError
from tasker_cluster.testing.databases import ScratchDatabase, postgres_database

pytestmark = pytest.mark.postgres
psycopg = pytest.importorskip("psycopg")
WORKER_METADATA = json.dumps({"worker_id": "w-1"})

TABLES = """
CREATE SCHEMA tasker;
CREATE TABLE tasker.workflow_steps (
    workflow_step_uuid uuid PRIMARY KEY, task_uuid uuid NOT NULL, named_step_uuid uuid
);
CREATE TABLE tasker.task_transitions (
    task_transition_uuid uuid PRIMARY KEY, task_uuid uuid NOT NULL, to_state text NOT NULL,
    from_state text, metadata jsonb, sort_key integer NOT NULL, most_recent boolean NOT NULL,
    created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now(),
    processor_uuid uuid, transition_metadata jsonb
);
CREATE TABLE tasker.workflow_step_transitions (
    workflow_step_transition_uuid uuid PRIMARY KEY, workflow_step_uuid uuid NOT NULL,
    to_state text NOT NULL, from_state text, metadata jsonb, sort_key integer NOT NULL,
    most_recent boolean NOT NULL, created_at timestamp NOT NULL DEFAULT now(),
    updated_at timestamp NOT NULL DEFAULT now()
);
"""


@pytest.fixture
def tasker_database() -> Iterator[ScratchDatabase]:
    admin = os.environ.get(POSTGRES_URL_VAR, DEFAULT_POSTGRES_URL)
    try:
        database = postgres_database(admin)
    except Exception as error:
        pytest.skip(f"PostgreSQL at {admin} is not available: {error}")
    with psycopg.connect(database.url, autocommit=True) as connection:
        connection.execute(TABLES.encode())
    yield database
    database.drop()


def test_transitions_come_from_tasker_cores_tables(tasker_database: ScratchDatabase) -> None:
    task, step, processor = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    states = [(None, "pending"), ("pending", "enqueued"), ("enqueued", "in_progress")]
    with psycopg.connect(tasker_database.url, autocommit=True) as connection:
        connection.execute("INSERT INTO tasker.workflow_steps VALUES (%s, %s, NULL)", (step, task))
        for key, (before, after) in enumerate(states, start=1):
            connection.execute(
                "INSERT INTO tasker.task_transitions (task_transition_uuid, task_uuid, to_state,"
                " from_state, metadata, sort_key, most_recent, processor_uuid)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (uuid.uuid4(), task, after, before, "{}", key, key == 3, processor),
            )
            connection.execute(
                "INSERT INTO tasker.workflow_step_transitions (workflow_step_transition_uuid,"
                " workflow_step_uuid, to_state, from_state, metadata, sort_key, most_recent)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    uuid.uuid4(),
                    step,
                    after,
                    before,
                    json.dumps({"worker_id": "w-1"}),
                    key,
                    key == 3,
                ),
            )
    reader = DatabaseTransitions(tasker_database.url)

    tasks = asyncio.run(reader.task_transitions(task))
    steps = asyncio.run(reader.step_transitions(task))

    assert [(t.from_state, t.to_state, t.most_recent) for t in tasks] == [
        (None, "pending", False),
        ("pending", "enqueued", False),
        ("enqueued", "in_progress", True),
    ]
    assert {t.processor for t in tasks} == {str(processor)}
    assert [(s.step_uuid, s.to_state, s.worker_uuid) for s in steps] == [
        (step, "pending", "w-1"),
        (step, "enqueued", "w-1"),
        (step, "in_progress", "w-1"),
    ]
    assert asyncio.run(reader.task_transitions(uuid.uuid4())) == ()


def test_a_database_without_the_tables_is_named_with_the_fix() -> None:
    reader = DatabaseTransitions("postgresql://nobody:secret@127.0.0.1:1/none")

    with pytest.raises(TransitionsUnreadableError) as error:
        asyncio.run(reader.task_transitions(uuid.uuid4()))

    message = str(error.value)
    assert message.startswith("could not read transitions from postgresql://nobody:***@127.0.0.1:1")
    assert "secret" not in message
    assert message.endswith("Give the deployment's DATABASE_URL (tasker-core's schema `tasker`).")


def test_tasker_cores_url_keys_are_read_in_its_order_of_preference() -> None:
    env = {
        "TASKER_TEST_ORCHESTRATION_URL": "http://127.0.0.1:8080",
        "TASKER_TEST_WORKER_PYTHON_URLS": "http://127.0.0.1:8300,http://127.0.0.1:8301",
        "TASKER_TEST_WORKER_RUST_URLS": "http://127.0.0.1:8100",
        "TASKER_TEST_PYTHON_WORKER_URL": "http://127.0.0.1:9999",
        "TASKER_TEST_DATABASE_URL": "postgresql://tasker@127.0.0.1/tasker",
    }

    config = ClusterConfig.from_env(env)

    assert config.orchestration_urls == ("http://127.0.0.1:8080",)
    assert config.worker_urls == (
        "http://127.0.0.1:8100",
        "http://127.0.0.1:8300",
        "http://127.0.0.1:8301",
    ), "the per-runtime lists win over the singular keys"
    assert config.database_url == "postgresql://tasker@127.0.0.1/tasker"
    singular = ClusterConfig.from_env(
        {"TASKER_TEST_ORCHESTRATION_URL": "http://127.0.0.1:8080",
         "TASKER_TEST_PYTHON_WORKER_URL": "http://127.0.0.1:8083"}
    )  # fmt: skip
    assert singular.worker_urls == ("http://127.0.0.1:8083",)


class NoTransitionsRoute(BaseHTTPRequestHandler):
    """An orchestration API as tasker-core's: it has no transitions route."""

    def do_GET(self) -> None:
        body = b'{"NotFound": {"message": "no such route"}}'
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        del format, args


def test_an_api_without_a_transitions_route_is_read_through_its_database(
    tasker_database: ScratchDatabase,
) -> None:
    task, step = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(tasker_database.url, autocommit=True) as connection:
        connection.execute("INSERT INTO tasker.workflow_steps VALUES (%s, %s, NULL)", (step, task))
        connection.execute(
            "INSERT INTO tasker.task_transitions (task_transition_uuid, task_uuid, to_state,"
            " from_state, metadata, sort_key, most_recent) VALUES (%s, %s, 'pending', NULL,"
            " '{}', 1, true)",
            (uuid.uuid4(), task),
        )
    server = ThreadingHTTPServer(("127.0.0.1", 0), NoTransitionsRoute)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"

    async def read() -> tuple[str, ...]:
        config = ClusterConfig((url,), database_url=tasker_database.url)
        async with OrchestrationCluster(config) as cluster:
            transitions = await cluster.task_transitions(task)
            per_instance = await cluster.all_clients()[0].task_transitions(task)
            assert per_instance == transitions
            return tuple(t.to_state for t in transitions)

    try:
        assert asyncio.run(read()) == ("pending",)
    finally:
        server.shutdown()
        server.server_close()
