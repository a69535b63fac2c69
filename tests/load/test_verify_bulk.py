"""Verification reads the run's database in bulk: the number of reads does not grow with the
number of tasks, and the invariants come out as the API reads give them."""

from __future__ import annotations

import asyncio

import pytest

from tasker_cluster.load.report import LoadReport
from tasker_cluster.load.runner import run_load_async
from tasker_cluster.load.spec import LoadSpec
from tasker_cluster.load.target import LoadTarget

from .test_load_cluster import managed

pytestmark = pytest.mark.slow


def test_verification_costs_the_same_few_reads_for_any_number_of_tasks() -> None:
    async def scenario() -> tuple[LoadReport, LoadReport, LoadReport]:
        async with managed(orchestration=2, workers=2) as (manager, target):
            small = await run_load_async(LoadSpec(tasks=10, width=3, seed=1), target)
            large = await run_load_async(LoadSpec(tasks=60, width=3, seed=2), target)
            through_api = await run_load_async(
                LoadSpec(tasks=10, width=3, seed=3), LoadTarget(target.config, "urls only")
            )
            del manager
            return small, large, through_api

    small, large, through_api = asyncio.run(scenario())

    assert small.ok and large.ok and through_api.ok
    assert small.verify_cost.requests == large.verify_cost.requests == 3
    assert through_api.verify_cost.requests >= 10 * (1 + 3 + 1), "one read per task and step"
    assert [r.name for r in small.invariants] == [r.name for r in through_api.invariants]
