"""Errors of the test infrastructure: each carries its facts and builds its own message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tasker_cluster.errors import ClusterError


class TaskerTestingError(ClusterError):
    """Base class of every error raised by `tasker_cluster.testing`."""


class ClusterConfigError(TaskerTestingError):
    """A cluster configuration value is missing or malformed."""

    def __init__(self, variable: str, value: str | None, problem: str, fix: str) -> None:
        self.variable = variable
        self.value = value
        self.problem = problem
        self.fix = fix
        shown = "unset" if value is None else repr(value)
        super().__init__(f"{variable} is {shown}: {problem}. {fix}")


class InvalidTaskRequestError(TaskerTestingError, ValueError):
    """A task request builder was given a value the template does not accept."""

    def __init__(self, template: str, field: str, value: object, rule: str) -> None:
        self.template = template
        self.field = field
        self.value = value
        self.rule = rule
        super().__init__(f"{template}: {field}={value!r} is invalid: {rule}")


class ApiError(TaskerTestingError):
    """An instance answered with an HTTP error status."""

    def __init__(self, method: str, url: str, status: int, code: str, message: str) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"{method} {url} -> {status} {code}: {message}")


class ResponseFormatError(TaskerTestingError):
    """A response body does not have the shape the API contract promises."""

    def __init__(self, url: str, what: str, problem: str) -> None:
        self.url = url
        self.what = what
        self.problem = problem
        super().__init__(f"unexpected {what} from {url}: {problem}")


class InstanceUnreachableError(TaskerTestingError):
    """A request could not reach the instance chosen for it."""

    def __init__(self, method: str, url: str, reason: str) -> None:
        self.method = method
        self.url = url
        self.reason = reason
        super().__init__(f"{method} {url} failed: {reason}")


class NoHealthyInstanceError(TaskerTestingError):
    """No instance of the cluster passed a health check."""

    def __init__(self, attempts: Sequence[tuple[str, str]]) -> None:
        self.attempts = tuple(attempts)
        tried = "; ".join(f"{url}: {reason}" for url, reason in self.attempts)
        super().__init__(
            f"no healthy orchestration instance among {len(self.attempts)} tried ({tried}). "
            "Start the cluster or check its logs."
        )


class ClusterNotHealthyError(TaskerTestingError):
    """Some instances did not become healthy before the deadline."""

    def __init__(self, timeout: float, last_errors: Mapping[str, str]) -> None:
        self.timeout = timeout
        self.last_errors = dict(last_errors)
        listed = "; ".join(f"{url} (last error: {error})" for url, error in last_errors.items())
        super().__init__(
            f"{len(self.last_errors)} instance(s) not healthy after {timeout:g} s: {listed}"
        )


class TaskTimeoutError(TaskerTestingError):
    """Tasks did not reach a terminal state before the deadline."""

    def __init__(self, timeout: float, stuck: Mapping[str, str]) -> None:
        self.timeout = timeout
        self.stuck = dict(stuck)
        listed = ", ".join(f"{uuid} ({state})" for uuid, state in self.stuck.items())
        super().__init__(f"{len(self.stuck)} task(s) not terminal after {timeout:g} s: {listed}")


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
