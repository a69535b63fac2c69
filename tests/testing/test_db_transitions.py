"""External mode against a deployment whose API has no transitions route: transitions are read
from its database, with tasker-core's table and column names (schema `tasker`)."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Iterator

import pytest

from tasker_cluster.client.environment import DEFAULT_POSTGRES_URL, POSTGRES_URL_VAR
from tasker_cluster.testing.databases import ScratchDatabase, postgres_database
from tasker_cluster.testing.db_transitions import DatabaseTransitions
from tasker_cluster.testing.errors import TransitionsUnreadableError

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
