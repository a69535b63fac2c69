"""The follower against a scripted API: every task is followed to its end, slow tasks do not
hide later ones, unknown tasks are declared lost, and idle following backs off."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from tasker_cluster.client.api import UuidLike
from tasker_cluster.client.errors import ApiError
from tasker_cluster.client.models import Task
from tasker_cluster.load.follower import Follower
from tasker_cluster.load.tracking import TrackedTask, Tracker

CREATED = "2026-01-01T00:00:00+00:00"
DONE = "2026-01-01T00:00:02.500000+00:00"


def task_json(uuid: str, status: str) -> dict[str, Any]:
    return {
        "task_uuid": uuid,
        "name": "fan_out",
        "namespace": "load_testing",
        "status": status,
        "context": {},
        "tags": [],
        "completion_percentage": 100.0 if status == "complete" else 0.0,
        "steps": [],
        "created_at": CREATED,
        "completed_at": DONE if status == "complete" else None,
    }


class ScriptedApi:
    """Task i becomes complete after `reads_needed[i]` reads; `missing` answer 404."""

    def __init__(self, reads_needed: dict[str, int], missing: set[str]) -> None:
        self.reads_needed = reads_needed
        self.missing = missing
        self.reads: Counter[str] = Counter()

    async def get_task(self, task_uuid: UuidLike) -> Task:
        uuid = str(task_uuid)
        self.reads[uuid] += 1
        if uuid in self.missing:
            raise ApiError("GET", f"/v1/tasks/{uuid}", 404, "not_found", "no such task")
        done = self.reads[uuid] >= self.reads_needed[uuid]
        return Task.parse(task_json(uuid, "complete" if done else "steps_in_process"), "test")


def uuid_of(number: int) -> str:
    return f"00000000-0000-0000-0000-{number:012d}"


def test_every_task_is_followed_and_a_slow_head_hides_nothing() -> None:
    reads_needed = {uuid_of(i): 1 for i in range(40)}
    reads_needed[uuid_of(0)] = 12  # the oldest task is slow
    missing = {uuid_of(40)}
    api = ScriptedApi(reads_needed | {uuid_of(40): 0}, missing)
    tracker = Tracker(total=41)
    for number in range(41):
        tracker.add(TrackedTask(uuid_of(number), step_count=3, created_by=0))
    tracker.creating_done = True
    follower = Follower(api, tracker, concurrency=4, interval=0.01, max_interval=0.02)
    cost = asyncio.run(follower.run(deadline=time.monotonic() + 20))
    assert tracker.finished
    assert [t.status for t in tracker.tasks[:40]] == ["complete"] * 40
    assert tracker.tasks[40].lost
    assert api.reads[uuid_of(40)] == 3
    assert all(api.reads[uuid_of(i)] == 1 for i in range(1, 40))
    assert api.reads[uuid_of(0)] == 12
    assert cost.requests == sum(api.reads.values())
    assert tracker.tasks[1].completed_at is not None


def test_idle_rounds_back_off_up_to_the_maximum() -> None:
    api = ScriptedApi({uuid_of(0): 6}, set())
    tracker = Tracker(total=1)
    tracker.add(TrackedTask(uuid_of(0), step_count=1, created_by=0))
    tracker.creating_done = True
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(round(seconds, 3))

    follower = Follower(api, tracker, concurrency=4, interval=0.1, max_interval=0.3, sleep=record)
    asyncio.run(follower.run(deadline=time.monotonic() + 60))
    assert tracker.finished
    assert waits == [0.2, 0.3, 0.3, 0.3, 0.3]
    assert api.reads[uuid_of(0)] == 6


def test_following_stops_at_the_deadline() -> None:
    api = ScriptedApi({uuid_of(0): 10**9}, set())
    tracker = Tracker(total=1)
    tracker.add(TrackedTask(uuid_of(0), step_count=1, created_by=0))
    tracker.creating_done = True
    follower = Follower(api, tracker, concurrency=4, interval=0.01, max_interval=0.02)
    asyncio.run(follower.run(deadline=time.monotonic() + 0.2))
    assert not tracker.finished
    assert tracker.outstanding()[0].status == "steps_in_process"
