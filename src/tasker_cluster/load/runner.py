"""`run_load`: create, follow, disturb and verify; returns a `LoadReport`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

from tasker_cluster.client.client import OrchestrationCluster
from tasker_cluster.client.cluster_config import ClusterConfig
from tasker_cluster.client.errors import ClientError
from tasker_cluster.load.chaos import ChaosRunner
from tasker_cluster.load.cluster_manifest import write_load_manifest
from tasker_cluster.load.creator import create_tasks
from tasker_cluster.load.errors import ChaosNeedsClusterError
from tasker_cluster.load.follower import Follower
from tasker_cluster.load.manifest import utc_now_iso
from tasker_cluster.load.report import FaultRecord, LoadReport
from tasker_cluster.load.spec import LoadSpec
from tasker_cluster.load.summary import build_report
from tasker_cluster.load.target import LoadTarget, resolve_target
from tasker_cluster.load.tracking import Progress, Tracker
from tasker_cluster.load.verifier import verify

_LOG = logging.getLogger(__name__)
ProgressCallback = Callable[[Progress], None]
HEALTH_TIMEOUT = 5.0
PROGRESS_INTERVAL = 0.25


def run_load(
    spec: LoadSpec,
    target: LoadTarget | ClusterConfig | Path,
    on_progress: ProgressCallback | None = None,
    *,
    write_manifest: bool = True,
) -> LoadReport:
    """Run `spec` against a cluster directory, a `ClusterConfig` or a prepared `LoadTarget`.

    A run against a cluster directory writes `<cluster dir>/manifests/load-run-<time>.json`.
    """
    return asyncio.run(run_load_async(spec, target, on_progress, write_manifest=write_manifest))


async def run_load_async(
    spec: LoadSpec,
    target: LoadTarget | ClusterConfig | Path,
    on_progress: ProgressCallback | None = None,
    *,
    write_manifest: bool = True,
) -> LoadReport:
    resolved = resolve_target(target)
    chaos = _chaos_for(spec, resolved)
    started_at = utc_now_iso()
    async with OrchestrationCluster(resolved.config) as cluster:
        await cluster.wait_for_healthy(HEALTH_TIMEOUT, include_workers=False)
        instance_ids = await _instance_ids(cluster)
        tracker = Tracker(spec.tasks)
        deadline = tracker.started + spec.timeout
        report_progress = _reporter(on_progress, tracker, chaos)
        if chaos is not None:
            chaos.start()
        creating = asyncio.create_task(create_tasks(cluster, spec, tracker, deadline))
        ticker = asyncio.create_task(_tick(report_progress, "running"))
        try:
            follow_cost = await Follower(cluster, tracker).run(deadline)
            elapsed = time.monotonic() - tracker.started
            await creating
        finally:
            faults = await chaos.stop() if chaos is not None else []
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            if not creating.done():
                creating.cancel()
        report_progress("verifying")
        verification = await verify(cluster, tracker.tasks, database_url=resolved.database_url)
        report = build_report(
            spec=spec,
            target=resolved.description,
            started_at=started_at,
            elapsed_s=elapsed,
            tracker=tracker,
            verification=verification,
            instance_ids=instance_ids,
            request_counts=cluster.request_counts(),
            worker_ids=resolved.worker_ids(),
            faults=faults,
            follow_cost=follow_cost,
        )
        report_progress("done")
    if write_manifest and resolved.cluster_dir is not None:
        write_load_manifest(resolved, report)
    return report


def _chaos_for(spec: LoadSpec, target: LoadTarget) -> ChaosRunner | None:
    if not spec.chaos:
        return None
    if target.faults is None:
        raise ChaosNeedsClusterError([chaos.text for chaos in spec.chaos])
    runner = ChaosRunner(spec.chaos, target.faults, spec.seed)
    runner.check_targets()
    return runner


async def _instance_ids(cluster: OrchestrationCluster) -> dict[str, str]:
    """Orchestration URL -> instance id as `/health` reports it (the URL when it does not)."""
    ids: dict[str, str] = {}
    for client in cluster.all_clients():
        try:
            health = await client.health()
        except ClientError:
            health = None
        ids[client.url] = (health.instance_id if health else None) or client.url
    return ids


def _reporter(
    on_progress: ProgressCallback | None, tracker: Tracker, chaos: ChaosRunner | None
) -> Callable[[str], None]:
    def report(phase: str) -> None:
        if on_progress is not None:
            faults: list[FaultRecord] = chaos.faults if chaos is not None else []
            on_progress(tracker.progress(phase, len(faults)))

    return report


async def _tick(report: Callable[[str], None], phase: str) -> None:
    while True:
        report(phase)
        await asyncio.sleep(PROGRESS_INTERVAL)
