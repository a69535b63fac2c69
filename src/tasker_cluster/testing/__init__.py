"""Test infrastructure for multi-instance tasker clusters: client, manager and pytest plugin.

Names are imported on first use, so loading the pytest plugin stays cheap for test runs that
never touch a cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tasker_cluster.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from tasker_cluster.client.client import OrchestrationCluster
    from tasker_cluster.client.cluster_config import ClusterConfig
    from tasker_cluster.client.errors import (
        ApiError,
        ClusterConfigError,
        ClusterNotHealthyError,
        InstanceUnreachableError,
        NoHealthyInstanceError,
        TaskTimeoutError,
    )
    from tasker_cluster.client.instance_clients import InstanceClient, WorkerClient
    from tasker_cluster.client.models import Step, Task, TaskCreated, TaskPage
    from tasker_cluster.client.prometheus import Metrics
    from tasker_cluster.client.strategies import FirstHealthy, Random, RoundRobin, Sticky
    from tasker_cluster.client.task_request import TaskRequest
    from tasker_cluster.client.transitions import StepTransition, TaskTransition
    from tasker_cluster.testing.errors import (
        InconsistentStateError,
        ManagerStateError,
        TaskerTestingError,
    )
    from tasker_cluster.testing.manager import MultiInstanceTestManager

_EXPORTS = {
    "ApiError": "tasker_cluster.client.errors",
    "ClusterConfig": "tasker_cluster.client.cluster_config",
    "ClusterConfigError": "tasker_cluster.client.errors",
    "ClusterNotHealthyError": "tasker_cluster.client.errors",
    "FirstHealthy": "tasker_cluster.client.strategies",
    "InconsistentStateError": ".errors",
    "InstanceClient": "tasker_cluster.client.instance_clients",
    "InstanceUnreachableError": "tasker_cluster.client.errors",
    "ManagerStateError": ".errors",
    "Metrics": "tasker_cluster.client.prometheus",
    "MultiInstanceTestManager": ".manager",
    "NoHealthyInstanceError": "tasker_cluster.client.errors",
    "OrchestrationCluster": "tasker_cluster.client.client",
    "Random": "tasker_cluster.client.strategies",
    "RoundRobin": "tasker_cluster.client.strategies",
    "Step": "tasker_cluster.client.models",
    "StepTransition": "tasker_cluster.client.transitions",
    "Sticky": "tasker_cluster.client.strategies",
    "Task": "tasker_cluster.client.models",
    "TaskCreated": "tasker_cluster.client.models",
    "TaskPage": "tasker_cluster.client.models",
    "TaskRequest": "tasker_cluster.client.task_request",
    "TaskTimeoutError": "tasker_cluster.client.errors",
    "TaskTransition": "tasker_cluster.client.transitions",
    "TaskerTestingError": ".errors",
    "WorkerClient": "tasker_cluster.client.instance_clients",
}

__all__ = [
    "ApiError",
    "ClusterConfig",
    "ClusterConfigError",
    "ClusterNotHealthyError",
    "FirstHealthy",
    "InconsistentStateError",
    "InstanceClient",
    "InstanceUnreachableError",
    "ManagerStateError",
    "Metrics",
    "MultiInstanceTestManager",
    "NoHealthyInstanceError",
    "OrchestrationCluster",
    "Random",
    "RoundRobin",
    "Step",
    "StepTransition",
    "Sticky",
    "Task",
    "TaskCreated",
    "TaskPage",
    "TaskRequest",
    "TaskTimeoutError",
    "TaskTransition",
    "TaskerTestingError",
    "WorkerClient",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
