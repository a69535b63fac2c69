"""Errors of the tasker HTTP client: each carries its facts and builds its own message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tasker_cluster.errors import ClusterError


class ClientError(ClusterError):
    """Base class of every error raised by `tasker_cluster.client`."""


class ClusterConfigError(ClientError):
    """A cluster configuration value is missing or malformed."""

    def __init__(self, variable: str, value: str | None, problem: str, fix: str) -> None:
        self.variable = variable
        self.value = value
        self.problem = problem
        self.fix = fix
        shown = "unset" if value is None else repr(value)
        super().__init__(f"{variable} is {shown}: {problem}. {fix}")


class InvalidTaskRequestError(ClientError, ValueError):
    """A task request builder was given a value the template does not accept."""

    def __init__(self, template: str, field: str, value: object, rule: str) -> None:
        self.template = template
        self.field = field
        self.value = value
        self.rule = rule
        super().__init__(f"{template}: {field}={value!r} is invalid: {rule}")


class ApiError(ClientError):
    """An instance answered with an HTTP error status."""

    def __init__(
        self, method: str, url: str, status: int, code: str, message: str, kind: str | None = None
    ) -> None:
        self.method = method
        self.url = url
        self.status = status
        # tasker-core's upper-case code (e.g. NOT_FOUND, CONFLICT), and where the reference
        # services add it, the kind of error (e.g. task_not_found, duplicate_task)
        self.code = code
        self.kind = kind
        self.message = message
        shown = f"{code} ({kind})" if kind else code
        super().__init__(f"{method} {url} -> {status} {shown}: {message}")


class ResponseFormatError(ClientError):
    """A response body does not have the shape the API contract promises."""

    def __init__(self, url: str, what: str, problem: str) -> None:
        self.url = url
        self.what = what
        self.problem = problem
        super().__init__(f"unexpected {what} from {url}: {problem}")


class InstanceUnreachableError(ClientError):
    """A request could not reach the instance chosen for it."""

    def __init__(self, method: str, url: str, reason: str) -> None:
        self.method = method
        self.url = url
        self.reason = reason
        super().__init__(f"{method} {url} failed: {reason}")


class NoHealthyInstanceError(ClientError):
    """No instance of the cluster passed a health check."""

    def __init__(self, attempts: Sequence[tuple[str, str]]) -> None:
        self.attempts = tuple(attempts)
        tried = "; ".join(f"{url}: {reason}" for url, reason in self.attempts)
        super().__init__(
            f"no healthy orchestration instance among {len(self.attempts)} tried ({tried}). "
            "Start the cluster or check its logs."
        )


class ClusterNotHealthyError(ClientError):
    """Some instances did not become healthy before the deadline."""

    def __init__(self, timeout: float, last_errors: Mapping[str, str]) -> None:
        self.timeout = timeout
        self.last_errors = dict(last_errors)
        listed = "; ".join(f"{url} (last error: {error})" for url, error in last_errors.items())
        super().__init__(
            f"{len(self.last_errors)} instance(s) not healthy after {timeout:g} s: {listed}"
        )


class TaskTimeoutError(ClientError):
    """Tasks did not reach a terminal state before the deadline."""

    def __init__(self, timeout: float, stuck: Mapping[str, str]) -> None:
        self.timeout = timeout
        self.stuck = dict(stuck)
        listed = ", ".join(f"{uuid} ({state})" for uuid, state in self.stuck.items())
        super().__init__(f"{len(self.stuck)} task(s) not terminal after {timeout:g} s: {listed}")


class TransitionsUnreadableError(ClientError):
    """Transitions could not be read from a deployment's database."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(
            f"could not read transitions from {url}: {reason}. Give the deployment's "
            "DATABASE_URL (tasker-core's schema `tasker`)."
        )
