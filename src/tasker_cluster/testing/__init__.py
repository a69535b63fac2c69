"""Test infrastructure for multi-instance tasker clusters: client, manager and pytest plugin.

Names are imported on first use, so loading the pytest plugin stays cheap for test runs that
never touch a cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tasker_cluster.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from tasker_cluster.testing.client import OrchestrationCluster
    from tasker_cluster.testing.cluster_config import ClusterConfig
    from tasker_cluster.testing.errors import (
        ApiError,
        ClusterConfigError,
        ClusterNotHealthyError,
        InconsistentStateError,
        InstanceUnreachableError,
        ManagerStateError,
        NoHealthyInstanceError,
        TaskerTestingError,
        TaskTimeoutError,
    )
    from tasker_cluster.testing.instance_clients import InstanceClient, WorkerClient
    from tasker_cluster.testing.manager import MultiInstanceTestManager
    from tasker_cluster.testing.models import Step, Task, TaskCreated, TaskPage
    from tasker_cluster.testing.prometheus import Metrics
    from tasker_cluster.testing.strategies import FirstHealthy, Random, RoundRobin, Sticky
    from tasker_cluster.testing.task_request import TaskRequest
    from tasker_cluster.testing.transitions import StepTransition, TaskTransition

_EXPORTS = {
    "ApiError": "errors",
    "ClusterConfig": "cluster_config",
    "ClusterConfigError": "errors",
    "ClusterNotHealthyError": "errors",
    "FirstHealthy": "strategies",
    "InconsistentStateError": "errors",
    "InstanceClient": "instance_clients",
    "InstanceUnreachableError": "errors",
    "ManagerStateError": "errors",
    "Metrics": "prometheus",
    "MultiInstanceTestManager": "manager",
    "NoHealthyInstanceError": "errors",
    "OrchestrationCluster": "client",
    "Random": "strategies",
    "RoundRobin": "strategies",
    "Step": "models",
    "StepTransition": "transitions",
    "Sticky": "strategies",
    "Task": "models",
    "TaskCreated": "models",
    "TaskPage": "models",
    "TaskRequest": "task_request",
    "TaskTimeoutError": "errors",
    "TaskTransition": "transitions",
    "TaskerTestingError": "errors",
    "WorkerClient": "instance_clients",
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
