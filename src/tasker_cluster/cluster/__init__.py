"""`Cluster`: start, stop, watch and restart the instances one `ClusterSettings` describes.

`Cluster` is imported on first use, so that importing `cluster.errors` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tasker_cluster.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from tasker_cluster.cluster.facade import Cluster

__all__ = ["Cluster"]

__getattr__ = lazy_exports(__name__, {"Cluster": ".facade"})
