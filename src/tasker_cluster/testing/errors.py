"""Errors of the test infrastructure: each carries its facts and builds its own message."""

from __future__ import annotations

from collections.abc import Sequence

from tasker_cluster.errors import ClusterError


class TaskerTestingError(ClusterError):
    """Base class of every error raised by `tasker_cluster.testing`."""


class ManagerStateError(TaskerTestingError):
    """A manager method was called in a state where it cannot work."""

    def __init__(self, operation: str, reason: str, fix: str) -> None:
        self.operation = operation
        self.reason = reason
        self.fix = fix
        super().__init__(f"cannot {operation}: {reason}. {fix}")


class UnknownInstanceError(TaskerTestingError):
    """An instance id that the cluster does not know."""

    def __init__(self, instance_id: str, known: Sequence[str]) -> None:
        self.instance_id = instance_id
        self.known = tuple(known)
        super().__init__(
            f"unknown instance {instance_id!r}; the cluster has: {', '.join(self.known) or 'none'}"
        )


class DatabaseSetupError(TaskerTestingError):
    """The test database could not be created or dropped."""

    def __init__(self, url: str, action: str, reason: str) -> None:
        self.url = url
        self.action = action
        self.reason = reason
        super().__init__(
            f"could not {action} test database on {url}: {reason}. "
            "Set TASKER_TEST_POSTGRES_URL to a reachable server where this user may create "
            "databases."
        )


class InstanceStillRunningError(TaskerTestingError):
    """An instance survived a signal that should have ended it."""

    def __init__(self, instance_id: str, pid: int, timeout: float) -> None:
        self.instance_id = instance_id
        self.pid = pid
        self.timeout = timeout
        super().__init__(
            f"{instance_id} (pid {pid}) is still running {timeout:g} s after it was killed; "
            "check whether it ignores signals or is traced"
        )


class NoFreePortRangeError(TaskerTestingError):
    """No run of consecutive free ports was found."""

    def __init__(self, count: int, host: str, attempts: int) -> None:
        self.count = count
        self.host = host
        self.attempts = attempts
        super().__init__(
            f"found no {count} consecutive free ports on {host} in {attempts} attempts; "
            "free some ports or run fewer instances"
        )


class InconsistentStateError(TaskerTestingError):
    """Two orchestration instances disagree about a task."""

    def __init__(
        self,
        task_uuid: str,
        field: str,
        reference: tuple[str, object],
        differing: tuple[str, object],
    ) -> None:
        self.task_uuid = task_uuid
        self.field = field
        self.reference = reference
        self.differing = differing
        super().__init__(
            f"task {task_uuid}: {field} differs between instances: "
            f"{reference[0]} reports {reference[1]!r}, {differing[0]} reports {differing[1]!r}"
        )
