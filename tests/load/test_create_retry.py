"""`load.run`'s creator resends a create that got no answer to the next instance, with the same
idempotency key, and that is what makes the resend safe.

Instance A (`exit_after_create`) commits the task and SIGKILLs itself before answering; B shares
A's database. With the key the resend to B answers A's task: one task, created, run to the end.
Without the key (the control) the resend either makes a second task (`always_unique`) or is
refused with 409 (`strict`), leaving A's task behind unknown to the client.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.inspection import query
from services.support import ServiceFactory, ServiceProcess, wait_for_task
from tasker_cluster.client.client import OrchestrationCluster
from tasker_cluster.client.cluster_config import ClusterConfig
from tasker_cluster.client.models import TaskCreated
from tasker_cluster.load.creator import create_tasks
from tasker_cluster.load.spec import LoadSpec
from tasker_cluster.load.tracking import Tracker

pytestmark = pytest.mark.slow

UNIQUE_TEMPLATE = """\
name: unique_job
namespace_name: identity_tests
version: 1.0.0
description: "One step; every request is a new task."
identity_strategy: always_unique
steps:
  - name: work
    handler:
      callable: TaskerCluster::FanOutItemHandler
    dependencies: []
"""
# The creator's template per identity strategy: the built-in fan_out is strict (the default).
TEMPLATES = {"strict": "fan_out", "always_unique": "identity_tests/unique_job"}
Sent = list[tuple[int, dict[str, Any]]]


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[ServiceFactory]:
    factory = ServiceFactory(tmp_path)
    yield factory
    factory.finish()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tasker.sqlite3'}"


@pytest.fixture
def template_env(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "unique_job.yaml").write_text(UNIQUE_TEMPLATE, encoding="utf-8")
    return {"TASKER_TEMPLATE_PATH": str(folder)}


def start_pair(
    processes: ServiceFactory, database_url: str, env: dict[str, str]
) -> tuple[ServiceProcess, ServiceProcess]:
    """A (dies after storing a task, before answering) and B, sharing one database."""
    dying = processes.orchestration(
        "orchestration-1", database_url, TASKER_FAULTS="exit_after_create", **env
    )
    return dying, processes.orchestration("orchestration-2", database_url, **env)


def request_body(request: object) -> dict[str, Any]:
    """The JSON a creation sends: the creator hands over a `TaskRequest` or a plain body."""
    to_json = getattr(request, "to_json", None)
    if callable(to_json):
        body: dict[str, Any] = to_json()
        return body
    assert isinstance(request, Mapping), f"not a task request: {request!r}"
    return dict(request)


def record_sends(
    cluster: OrchestrationCluster, monkeypatch: pytest.MonkeyPatch, *, drop_key: bool
) -> Sent:
    """Wrap each instance client's `create_task`: note (instance, body) of every send, and,
    with `drop_key`, send the creator's request without its idempotency key."""
    sent: Sent = []
    for index in range(cluster.instance_count):
        client = cluster.client(index)

        def wrap(
            original: Callable[[Mapping[str, Any]], Awaitable[TaskCreated]], index: int
        ) -> Callable[[object], Awaitable[TaskCreated]]:
            async def create_task(request: object) -> TaskCreated:
                body = request_body(request)
                assert str(body["idempotency_key"]).startswith("load-")
                if drop_key:
                    del body["idempotency_key"]
                sent.append((index, body))
                return await original(body)

            return create_task

        monkeypatch.setattr(client, "create_task", wrap(client.create_task, index))
    return sent


async def create_one(
    urls: tuple[str, str], template: str, monkeypatch: pytest.MonkeyPatch, *, drop_key: bool
) -> tuple[Tracker, Sent]:
    """One creation through `load.creator.create_tasks`: creation 0 goes to A first."""
    spec = LoadSpec(tasks=1, template=template, width=2, concurrency=1)
    tracker = Tracker(spec.tasks)
    async with OrchestrationCluster(ClusterConfig(urls, request_timeout=10)) as cluster:
        sent = record_sends(cluster, monkeypatch, drop_key=drop_key)
        await create_tasks(cluster, spec, tracker, time.monotonic() + 60)
    assert tracker.creating_done
    return tracker, sent


async def test_a_create_lost_with_its_instance_is_answered_by_the_next_with_one_task(
    processes: ServiceFactory,
    database_url: str,
    template_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dying, survivor = start_pair(processes, database_url, template_env)
    processes.worker("worker-python-1", database_url, **template_env)

    tracker, sent = await create_one(
        (dying.url, survivor.url), TEMPLATES["strict"], monkeypatch, drop_key=False
    )

    assert dying.wait(10) == -signal.SIGKILL, "A did not die by its own SIGKILL"
    # A got the creation first, gave no answer; B got the very same body, key included.
    assert [index for index, _ in sent] == [0, 1]
    assert sent[0][1] == sent[1][1]
    key = sent[0][1]["idempotency_key"]
    assert tracker.create_errors == 0, tracker.create_error_examples
    assert [task.created_by for task in tracker.tasks] == [1]
    task_uuid = tracker.tasks[0].task_uuid
    # A committed the task before it died; B answered that task instead of making another.
    assert query(database_url, "SELECT task_uuid, idempotency_key FROM tasks") == [(task_uuid, key)]
    with httpx.Client(timeout=10) as client:
        assert wait_for_task(client, survivor.url, task_uuid, timeout=60) == "complete"
    assert query(database_url, "SELECT COUNT(*) FROM tasks") == [(1,)]


@pytest.mark.parametrize("strategy", ["always_unique", "strict"])
async def test_without_the_key_the_same_resend_is_not_safe(
    processes: ServiceFactory,
    database_url: str,
    template_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    strategy: str,
) -> None:
    dying, survivor = start_pair(processes, database_url, template_env)

    tracker, sent = await create_one(
        (dying.url, survivor.url), TEMPLATES[strategy], monkeypatch, drop_key=True
    )

    assert dying.wait(10) == -signal.SIGKILL
    assert [index for index, _ in sent] == [0, 1] and sent[0][1] == sent[1][1]
    stored = query(database_url, "SELECT task_uuid, idempotency_key FROM tasks")
    assert all(key is None for _, key in stored)
    if strategy == "always_unique":
        # the resend made a second task; A's is stored and the client never heard of it
        assert len(stored) == 2, stored
        assert tracker.create_errors == 0, tracker.create_error_examples
        assert [task.created_by for task in tracker.tasks] == [1]
        orphans = {uuid for uuid, _ in stored} - {tracker.tasks[0].task_uuid}
        assert len(orphans) == 1
    else:
        # strict identity refuses the resend: the creation failed although A stored the task
        assert len(stored) == 1, stored
        assert tracker.tasks == []
        assert tracker.create_errors == 1
        (error,) = tracker.create_error_examples
        assert "409 CONFLICT (duplicate_task)" in error and stored[0][0] in error, error
