"""A deploy under load: `load.run --chaos=rolling-restart:SERVICE:...` restarts every instance
of a service one at a time while tasks flow, and nothing is lost or done twice across it."""

from __future__ import annotations

import asyncio

import pytest

from tasker_cluster.load.chaos_spec import parse_chaos
from tasker_cluster.load.report import LoadReport
from tasker_cluster.load.runner import run_load_async
from tasker_cluster.load.spec import LoadSpec

from .test_load_cluster import managed

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("service", ["orchestration", "worker-python"])
def test_a_rolling_restart_under_load_loses_nothing_and_doubles_nothing(service: str) -> None:
    spec = LoadSpec(
        tasks=40,
        width=4,
        concurrency=6,
        rate=10.0,
        sleep_ms=20,
        chaos=(parse_chaos(f"rolling-restart:{service}:every=1500ms"),),
        seed=11,
        timeout=240,
    )

    async def scenario() -> LoadReport:
        async with managed(orchestration=2, workers=2) as (_, target):
            return await run_load_async(spec, target)

    report = asyncio.run(scenario())
    rolls = [f for f in report.faults if f.action == "rolling-restart"]
    assert rolls, report.faults
    assert all(f.error is None and f.restored_offset_s is not None for f in rolls), rolls
    assert report.ok, [r for r in report.invariants if not r.ok]
    assert report.create_errors == 0, report.create_error_examples
    assert report.tasks_completed == 40
