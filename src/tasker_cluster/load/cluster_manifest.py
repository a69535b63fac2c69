"""Manifests of `cluster.start` and of load runs against a cluster directory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasker_cluster.config.layers import ORIGIN_ENVIRONMENT
from tasker_cluster.load.manifest import manifest_path, new_manifest, write_manifest
from tasker_cluster.secrets import mask, redact_url

if TYPE_CHECKING:
    from tasker_cluster.cluster.facade import Cluster
    from tasker_cluster.cluster.start import StartReport
    from tasker_cluster.config.model import ClusterSettings
    from tasker_cluster.load.report import LoadReport
    from tasker_cluster.load.target import LoadTarget


def write_cluster_manifest(cluster: Cluster, report: StartReport) -> Path:
    """Write `<cluster dir>/manifests/cluster-start-<UTC time>.json` after `cluster.start`."""
    described = describe_cluster(cluster)
    described["started"] = list(report.started)
    described["already_running"] = list(report.already_running)
    manifest = new_manifest("cluster-start", cluster=described, timings=start_timings(report))
    return write_manifest(manifest_path(cluster.settings.cluster_dir, "cluster-start"), manifest)


def start_timings(report: StartReport) -> dict[str, float]:
    key = "start_to_healthy_s" if report.waited else "start_s"
    return {key: round(report.elapsed, 3)}


def describe_cluster(cluster: Cluster) -> dict[str, Any]:
    """Counts, ports, commands and environment profile of the running cluster."""
    settings = cluster.settings
    records = sorted(cluster.records(), key=lambda r: (r.service, r.number))
    counts: dict[str, int] = {}
    for record in records:
        counts[record.service] = counts.get(record.service, 0) + 1
    return {
        "dir": str(settings.cluster_dir),
        "multi_instance": settings.multi_instance,
        "counts": counts,
        "instances": [
            {
                "id": r.instance_id,
                "service": r.service,
                "port": r.port,
                "url": r.url,
                "pid": r.pid,
                "argv": list(r.argv),
                "started_at": r.started_at,
            }
            for r in records
        ],
        "env_profile": env_profile(settings),
    }


def env_profile(settings: ClusterSettings) -> dict[str, Any]:
    """Where the configuration came from, and the instance environment it sets.

    Only values from env files and overrides, plus `TASKER_*` and `DATABASE_URL` from the
    process environment, are recorded; secrets are masked.
    """
    recorded: dict[str, str] = {}
    for key, value in sorted(settings.passthrough.items()):
        origin = _origin(settings, key)
        if origin != ORIGIN_ENVIRONMENT or key.startswith("TASKER_") or key == "DATABASE_URL":
            recorded[key] = _masked(key, value)
    sources = {layer.default_origin for layer in settings.layers} | _file_origins(settings)
    return {"sources": sorted(sources), "instance_environment": recorded}


def _origin(settings: ClusterSettings, key: str) -> str | None:
    layer = next((layer for layer in settings.layers if key in layer.values), None)
    return None if layer is None else layer.origin(key)


def _masked(key: str, value: str) -> str:
    return mask(key, value)[0]


def _file_origins(settings: ClusterSettings) -> set[str]:
    return {origin for layer in settings.layers for origin in layer.origins.values()}


redact = redact_url  # the name this module's users know


def write_load_manifest(target: LoadTarget, report: LoadReport) -> Path | None:
    if target.cluster is None or target.cluster_dir is None:
        return None
    manifest = new_manifest(
        "load-run",
        cluster={
            **describe_cluster(target.cluster),
            "orchestration_urls": target.config.orchestration_urls,
        },
        timings=_timings(report),
        load=report.spec,
        summary=_summary(report),
    )
    return write_manifest(manifest_path(target.cluster_dir, "load-run"), manifest)


def _timings(report: LoadReport) -> dict[str, float]:
    return {
        "run_s": report.elapsed_s,
        "follow_s": report.follow_cost.seconds,
        "verify_s": report.verify_cost.seconds,
    }


def _summary(report: LoadReport) -> Mapping[str, Any]:
    return {
        "started_at": report.started_at,
        "ok": report.ok,
        "broken_invariants": report.broken_invariants,
        "tasks_completed": report.tasks_completed,
        "tasks_per_s": report.tasks_per_s,
        "steps_per_s": report.steps_per_s,
        "faults": len(report.faults),
    }
