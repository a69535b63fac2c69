"""Load runs against a tasker cluster: `run_load`, chaos, invariant reports, run manifests.

Names are imported on first use, so `tasks.py` can import the invoke collection cheaply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tasker_cluster.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from tasker_cluster.load.chaos_spec import ChaosAction, ChaosSpec, parse_chaos
    from tasker_cluster.load.cluster_manifest import write_cluster_manifest
    from tasker_cluster.load.errors import LoadError
    from tasker_cluster.load.manifest import Manifest, read_manifest, write_manifest
    from tasker_cluster.load.report import LoadReport
    from tasker_cluster.load.runner import run_load, run_load_async
    from tasker_cluster.load.spec import LoadSpec
    from tasker_cluster.load.target import LoadTarget

_EXPORTS = {
    "ChaosAction": ".chaos_spec",
    "ChaosSpec": ".chaos_spec",
    "parse_chaos": ".chaos_spec",
    "write_cluster_manifest": ".cluster_manifest",
    "LoadError": ".errors",
    "Manifest": ".manifest",
    "read_manifest": ".manifest",
    "write_manifest": ".manifest",
    "LoadReport": ".report",
    "run_load": ".runner",
    "run_load_async": ".runner",
    "LoadSpec": ".spec",
    "LoadTarget": ".target",
}
__all__ = [
    "ChaosAction",
    "ChaosSpec",
    "LoadError",
    "LoadReport",
    "LoadSpec",
    "LoadTarget",
    "Manifest",
    "parse_chaos",
    "read_manifest",
    "run_load",
    "run_load_async",
    "write_cluster_manifest",
    "write_manifest",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
