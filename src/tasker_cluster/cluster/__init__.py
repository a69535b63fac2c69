"""`Cluster`: start, stop, watch and restart the instances one `ClusterSettings` describes."""

from tasker_cluster.cluster.facade import Cluster

__all__ = ["Cluster"]
