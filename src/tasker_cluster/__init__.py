"""Run, watch, load and test a multi-instance tasker cluster on one machine.

The names a user reaches for are importable from here, each loaded on first use so that
`import tasker_cluster` stays cheap: `Cluster` and `load_settings` (the lifecycle library),
`OrchestrationCluster` (the tasker HTTP client), `MultiInstanceTestManager` (tests).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tasker_cluster.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from tasker_cluster.client.client import OrchestrationCluster
    from tasker_cluster.cluster.facade import Cluster
    from tasker_cluster.config.loader import load_settings
    from tasker_cluster.config.model import ClusterSettings, ServiceType
    from tasker_cluster.errors import ClusterError
    from tasker_cluster.testing.manager import MultiInstanceTestManager

__version__ = "0.1.0"

_EXPORTS = {
    "Cluster": "tasker_cluster.cluster.facade",
    "ClusterError": "tasker_cluster.errors",
    "ClusterSettings": "tasker_cluster.config.model",
    "MultiInstanceTestManager": "tasker_cluster.testing.manager",
    "OrchestrationCluster": "tasker_cluster.client.client",
    "ServiceType": "tasker_cluster.config.model",
    "load_settings": "tasker_cluster.config.loader",
}

__all__ = [
    "Cluster",
    "ClusterError",
    "ClusterSettings",
    "MultiInstanceTestManager",
    "OrchestrationCluster",
    "ServiceType",
    "__version__",
    "load_settings",
]

__getattr__ = lazy_exports(__name__, _EXPORTS)
