"""`load.run` against real managed clusters: counts match the API, broken guarantees are named,
chaos loses nothing, and the run manifest replays the run."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tasker_cluster.cli.load import build_spec
from tasker_cluster.client.client import OrchestrationCluster
from tasker_cluster.load.chaos_spec import parse_chaos
from tasker_cluster.load.cluster_manifest import write_cluster_manifest
from tasker_cluster.load.manifest import Manifest, read_manifest
from tasker_cluster.load.report import LoadReport
from tasker_cluster.load.runner import run_load_async
from tasker_cluster.load.spec import LoadSpec
from tasker_cluster.load.target import LoadTarget, target_from_cluster
from tasker_cluster.testing.manager import MultiInstanceTestManager

pytestmark = pytest.mark.slow

TASKS_FILE = """
from invoke import Collection

from tasker_cluster.cli.load import load_collection

ns = Collection()
ns.add_collection(load_collection)
"""


@asynccontextmanager
async def managed(
    orchestration: int, workers: int, env: Mapping[str, str] | None = None
) -> AsyncIterator[tuple[MultiInstanceTestManager, LoadTarget]]:
    async with MultiInstanceTestManager() as manager:
        await manager.setup(orchestration=orchestration, workers=workers, env=env)
        yield manager, target_from_cluster(manager.faults().lifecycle)


async def all_tasks(cluster: OrchestrationCluster) -> list[str]:
    uuids: list[str] = []
    page = 1
    while True:
        listed = await cluster.list_tasks(page=page, per_page=100)
        uuids.extend(str(task.task_uuid) for task in listed.tasks)
        if not listed.pagination.has_next:
            return uuids
        page += 1


async def api_counts(cluster: OrchestrationCluster) -> dict[str, Counter[str]]:
    """Recount from the API what the report claims, independently of the load runner."""
    counts: dict[str, Counter[str]] = {
        "status": Counter(),
        "finalized_by": Counter(),
        "complete_transitions": Counter(),
        "steps_by_worker": Counter(),
    }
    for uuid in await all_tasks(cluster):
        task = await cluster.get_task(uuid)
        counts["status"][task.status] += 1
        transitions = await cluster.task_transitions(uuid)
        completes = [t for t in transitions if t.to_state == "complete"]
        counts["complete_transitions"][str(len(completes))] += 1
        for transition in completes[:1]:
            counts["finalized_by"][transition.processor or "?"] += 1
        for step in await cluster.list_steps(uuid):
            counts["steps_by_worker"][step.processor_uuid or "?"] += 1
    return counts


def test_report_counts_match_the_api_and_the_manifest_replays(tmp_path: Path) -> None:
    spec = LoadSpec(tasks=24, width=3, concurrency=6, seed=42, timeout=120)

    async def scenario() -> tuple[LoadReport, dict[str, Counter[str]], Path, Manifest]:
        async with managed(orchestration=2, workers=2) as (manager, target):
            report = await run_load_async(spec, target)
            counts = await api_counts(manager.cluster)
            assert target.cluster is not None and target.cluster_dir is not None
            [manifest] = (target.cluster_dir / "manifests").glob("load-run-*.json")
            copied = tmp_path / "manifest.json"
            copied.write_bytes(manifest.read_bytes())
            started = await asyncio.to_thread(target.cluster.start)
            start_manifest = read_manifest(write_cluster_manifest(target.cluster, started))
            return report, counts, copied, start_manifest

    report, counts, manifest_path, start_manifest = asyncio.run(scenario())
    assert report.ok, report.broken_invariants
    assert (report.tasks_created, report.tasks_completed, report.tasks_unfinished) == (24, 24, 0)
    assert counts["status"] == Counter({"complete": 24})
    assert counts["complete_transitions"] == Counter({"1": 24})
    assert report.steps_completed == 24 * 4
    finalized = {row.instance_id: row.tasks_finalized for row in report.orchestration}
    assert {k: v for k, v in finalized.items() if v} == dict(counts["finalized_by"])
    assert sum(row.tasks_created for row in report.orchestration) == 24
    assert all(row.tasks_created == 12 for row in report.orchestration)
    assert all(row.requests_served >= 12 for row in report.orchestration)
    assert {row.worker_id: row.steps_run for row in report.workers if row.steps_run} == dict(
        counts["steps_by_worker"]
    )
    assert report.latency is not None and report.latency.count == 24
    assert report.latency.p50_ms <= report.latency.p95_ms <= report.latency.p99_ms
    assert report.latency.p99_ms <= report.latency.max_ms
    assert report.verify_cost.requests == 3, "tasks, task and step transitions, read in bulk"
    assert LoadReport.from_dict(report.to_dict()) == report

    manifest = read_manifest(manifest_path)
    assert manifest.kind == "load-run"
    assert manifest.load == spec
    assert manifest.cluster["counts"] == {"orchestration": 2, "worker-python": 2}
    assert all(i["argv"][0] == sys.executable for i in manifest.cluster["instances"])
    assert build_spec(manifest=str(manifest_path)) == spec

    assert (start_manifest.kind, start_manifest.load) == ("cluster-start", None)
    assert start_manifest.cluster["already_running"] == [
        "orchestration-1", "orchestration-2", "worker-python-1", "worker-python-2",
    ]  # fmt: skip
    assert set(start_manifest.timings) == {"start_to_healthy_s"}
    environment = start_manifest.cluster["env_profile"]["instance_environment"]
    assert environment["DATABASE_URL"].startswith("sqlite:///")
    assert environment["TASKER_VISIBILITY_TIMEOUT_SECONDS"] == "4"
    assert "PATH" not in environment


@dataclass(frozen=True)
class Broken:
    fault: str
    invariant: str
    workers: int
    tasks: int
    width: int


@pytest.mark.parametrize(
    "broken",
    [
        Broken("no_claim_guard", "steps_claimed_more_than_once", workers=3, tasks=16, width=10),
        Broken("no_finalize_guard", "tasks_completed_more_than_once", workers=1, tasks=12, width=2),
    ],
    ids=lambda broken: broken.fault,
)
def test_a_switched_off_guarantee_fails_the_run_and_is_named(
    tmp_path: Path, broken: Broken
) -> None:
    invariant = broken.invariant
    (tmp_path / "tasks.py").write_text(TASKS_FILE)
    report_path = tmp_path / "report.json"

    async def scenario() -> subprocess.CompletedProcess[str]:
        env = {"TASKER_FAULTS": broken.fault}
        async with managed(3, broken.workers, env=env) as (_, target):
            command = [
                sys.executable, "-m", "invoke", "--search-root", str(tmp_path), "load.run",
                f"--tasks={broken.tasks}", f"--width={broken.width}", "--concurrency=8",
                "--timeout=90", f"--cluster-dir={target.cluster_dir}", f"--report={report_path}",
            ]  # fmt: skip
            return await asyncio.to_thread(
                subprocess.run, command, capture_output=True, text=True, timeout=300, check=False
            )

    result = asyncio.run(scenario())
    assert result.returncode == 1, result.stdout + result.stderr
    report = LoadReport.from_dict(json.loads(report_path.read_text()))
    # A switched-off claim guard may also let a second claimant complete the step again:
    # the guarantee under test must be named, its consequences may be named too.
    assert invariant in report.broken_invariants
    [violated] = [r for r in report.invariants if r.name == invariant]
    failure = result.stderr.splitlines()[-1]  # progress lines come first, on stderr too
    assert failure.startswith("load.run: broken: ")
    assert f"{invariant} ({violated.violations})" in failure
    assert result.stdout.startswith("load run FAILED: ")
    assert any(  # off a terminal, tables are plain columns two or more spaces apart
        re.split(r"\s{2,}", line.strip())[:2] == [invariant, f"{violated.violations} broken"]
        for line in result.stdout.splitlines()
    ), result.stdout
    assert report.tasks_completed == broken.tasks


def test_chaos_kills_workers_and_pauses_orchestration_without_losing_or_doubling() -> None:
    spec = LoadSpec(
        tasks=48,
        width=4,
        concurrency=8,
        rate=8.0,
        sleep_ms=20,
        chaos=(
            parse_chaos("kill:worker-python:every=1200ms"),
            parse_chaos("pause:orchestration:every=2s,for=500ms"),
        ),
        seed=7,
        timeout=240,
    )

    async def scenario() -> tuple[LoadReport, dict[str, Counter[str]]]:
        async with managed(orchestration=2, workers=3) as (manager, target):
            report = await run_load_async(spec, target)
            return report, await api_counts(manager.cluster)

    report, counts = asyncio.run(scenario())
    kills = [f for f in report.faults if f.action == "kill"]
    pauses = [f for f in report.faults if f.action == "pause"]
    assert len(kills) >= 3, report.faults
    assert pauses, report.faults
    assert all(f.error is None and f.restored_offset_s is not None for f in report.faults)
    assert {f.instance_id for f in kills} <= {
        "worker-python-1",
        "worker-python-2",
        "worker-python-3",
    }
    assert report.ok, [r for r in report.invariants if not r.ok]
    assert report.tasks_completed == 48
    assert counts["status"] == Counter({"complete": 48})
    assert counts["complete_transitions"] == Counter({"1": 48})
