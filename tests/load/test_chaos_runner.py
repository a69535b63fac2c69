"""ChaosRunner against a recording target: seeded victims, recovery, stop during a fault."""

from __future__ import annotations

import asyncio
import random
import signal
import time

import pytest

from tasker_cluster.load.chaos import ChaosRunner
from tasker_cluster.load.chaos_spec import parse_chaos
from tasker_cluster.load.errors import NoVictimError

WORKERS = ["worker-python-1", "worker-python-2", "worker-python-3"]


class RecordingTarget:
    def __init__(self, instances: dict[str, list[str]]) -> None:
        self.instances = instances
        self.calls: list[tuple[str, str]] = []

    def running(self, service: str | None = None) -> list[str]:
        if service is None:
            return [i for ids in self.instances.values() for i in ids]
        return list(self.instances.get(service, []))

    def signal(self, instance_id: str, signum: int) -> None:
        self.calls.append((signal.Signals(signum).name, instance_id))

    def restart(self, instance_id: str) -> None:
        self.calls.append(("restart", instance_id))

    def rolling_restart(self, service: str) -> None:
        self.calls.append(("rolling-restart", service))


async def run_until(runner: ChaosRunner, target: RecordingTarget, calls: int) -> None:
    runner.start()
    deadline = time.monotonic() + 10.0
    while len(target.calls) < calls:
        assert time.monotonic() < deadline, f"only {target.calls} after 10 s"
        await asyncio.sleep(0.01)
    await runner.stop()


def kill_victims(seed: int, count: int) -> list[str]:
    spec = parse_chaos("kill:worker-python:every=100ms")
    target = RecordingTarget({"worker-python": WORKERS})
    runner = ChaosRunner([spec], target, seed=seed)
    asyncio.run(run_until(runner, target, calls=2 * count))
    kills = [victim for action, victim in target.calls if action == "SIGKILL"]
    restarts = [victim for action, victim in target.calls if action == "restart"]
    assert restarts == kills[: len(restarts)]
    assert len(restarts) == len(kills), "every killed instance is restarted before stop returns"
    faults = runner.faults
    assert [fault.instance_id for fault in faults] == kills
    assert all(
        f.restored_offset_s is not None and f.restored_offset_s >= f.offset_s for f in faults
    )
    return kills[:count]


def test_victims_follow_the_seed() -> None:
    spec = parse_chaos("kill:worker-python:every=100ms")
    rng = random.Random(f"7:0:{spec.text}")
    expected = [rng.choice(WORKERS) for _ in range(4)]
    assert kill_victims(seed=7, count=4) == expected
    assert kill_victims(seed=7, count=4) == expected


def test_stop_during_a_pause_resumes_the_victim() -> None:
    spec = parse_chaos("pause:orchestration:every=10s,for=9s")
    target = RecordingTarget({"orchestration": ["orchestration-1"]})
    runner = ChaosRunner([spec], target, seed=1, clock=lambda: 100.0)

    async def scenario() -> None:
        runner.start()
        deadline = time.monotonic() + 10.0
        while not target.calls:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        await runner.stop()

    asyncio.run(scenario())
    assert target.calls == [("SIGSTOP", "orchestration-1"), ("SIGCONT", "orchestration-1")]
    [fault] = runner.faults
    assert (fault.action, fault.instance_id, fault.error) == ("pause", "orchestration-1", None)


def test_a_service_without_instances_is_refused_before_the_run() -> None:
    target = RecordingTarget({"orchestration": ["orchestration-1"]})
    runner = ChaosRunner([parse_chaos("kill:worker-python:every=1s")], target, seed=1)
    with pytest.raises(NoVictimError) as caught:
        runner.check_targets()
    assert str(caught.value) == (
        "chaos targets service 'worker-python' but no instance of it is running "
        "(running instances: orchestration-1)"
    )


def test_a_failed_recovery_is_recorded_not_raised() -> None:
    class FailingRestart(RecordingTarget):
        def restart(self, instance_id: str) -> None:
            self.calls.append(("restart", instance_id))
            raise RuntimeError("port 8300 is taken")

    target = FailingRestart({"worker-python": ["worker-python-1"]})
    spec = parse_chaos("kill:worker-python:every=10s")
    runner = ChaosRunner([spec], target, seed=3, clock=lambda: 100.0, recovery_retry_seconds=0.01)
    asyncio.run(run_until(runner, target, calls=4))
    assert (
        target.calls[:4] == [("SIGKILL", "worker-python-1")] + [("restart", "worker-python-1")] * 3
    )
    assert runner.faults[0].error == "recovery failed: port 8300 is taken"
    assert runner.faults[0].restored_offset_s is None


def test_a_rolling_restart_restarts_the_whole_service_and_is_recorded() -> None:
    target = RecordingTarget({"orchestration": ["orchestration-1", "orchestration-2"]})
    spec = parse_chaos("rolling-restart:orchestration:every=10s")
    runner = ChaosRunner([spec], target, seed=1, clock=lambda: 10.0)

    asyncio.run(run_until(runner, target, calls=1))

    assert target.calls[0] == ("rolling-restart", "orchestration")
    fault = runner.faults[0]
    assert (fault.action, fault.instance_id, fault.error) == (
        "rolling-restart",
        "orchestration-1,orchestration-2",
        None,
    )
