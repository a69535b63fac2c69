"""Run manifests: what ran, where, with which versions, so that a run can be repeated."""

from __future__ import annotations

import json
import logging
import platform
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tasker_cluster
from tasker_cluster.load.errors import LoadSpecError, ManifestError
from tasker_cluster.load.spec import LoadSpec

SCHEMA_VERSION = 1
MANIFESTS_DIR = "manifests"
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Manifest:
    """One `cluster.start` or `load.run`; `load` is set for load runs."""

    kind: str
    created_at: str
    versions: Mapping[str, str]
    git_commit: str | None
    cluster: Mapping[str, Any]
    timings: Mapping[str, float]
    load: LoadSpec | None = None
    summary: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "kind": self.kind,
            "created_at": self.created_at,
            "versions": dict(self.versions),
            "git_commit": self.git_commit,
            "cluster": dict(self.cluster),
            "timings": dict(self.timings),
            "load": None if self.load is None else self.load.to_dict(),
            "seed": None if self.load is None else self.load.seed,
            "summary": dict(self.summary),
        }


def new_manifest(
    kind: str,
    cluster: Mapping[str, Any],
    timings: Mapping[str, float],
    load: LoadSpec | None = None,
    summary: Mapping[str, Any] | None = None,
) -> Manifest:
    return Manifest(
        kind=kind,
        created_at=utc_now_iso(),
        versions=versions(),
        git_commit=git_commit(),
        cluster=cluster,
        timings=timings,
        load=load,
        summary=summary or {},
    )


def write_manifest(path: Path, manifest: Manifest) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(manifest.to_dict(), indent=2, sort_keys=True) + "\n")
    temporary.replace(path)
    _LOG.info("manifest written to %s", path)
    return path


def read_manifest(path: Path) -> Manifest:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ManifestError(path, "the file does not exist") from None
    except (OSError, json.JSONDecodeError) as error:
        raise ManifestError(path, f"it is not readable JSON ({error})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_VERSION:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise ManifestError(path, f"schema is {found!r}, expected {SCHEMA_VERSION}")
    try:
        load = None if data.get("load") is None else LoadSpec.from_dict(data["load"])
        return Manifest(
            kind=str(data["kind"]),
            created_at=str(data["created_at"]),
            versions=dict(data["versions"]),
            git_commit=data.get("git_commit"),
            cluster=dict(data["cluster"]),
            timings={key: float(value) for key, value in data["timings"].items()},
            load=load,
            summary=dict(data.get("summary") or {}),
        )
    except KeyError as missing:
        raise ManifestError(path, f"the key {missing} is missing") from None
    except (LoadSpecError, TypeError, ValueError) as error:
        raise ManifestError(path, f"its load parameters are invalid ({error})") from None


def manifest_path(cluster_dir: Path, kind: str, when: datetime | None = None) -> Path:
    """`<cluster dir>/manifests/<kind>-<UTC timestamp>.json`."""
    stamp = (when or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S.%fZ")
    return cluster_dir / MANIFESTS_DIR / f"{kind}-{stamp}.json"


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "tasker_cluster": tasker_cluster.__version__,
        "platform": platform.platform(),
    }


def git_commit(directory: Path | None = None) -> str | None:
    """HEAD of the checkout this package runs from, or None outside a git checkout."""
    where = directory or Path(__file__).resolve().parents[3]
    try:
        result = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and commit else None
