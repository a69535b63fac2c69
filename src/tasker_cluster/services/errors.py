"""Errors of the reference services; each class carries its facts and builds its own message."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class of every error raised by the reference services."""


class InvalidEnvironmentError(ServiceError):
    """An environment variable does not satisfy its allowlist rule."""

    def __init__(self, variable: str, value: str, rule: str) -> None:
        self.variable = variable
        self.value = value
        self.rule = rule
        super().__init__(f"invalid environment: {variable}={value!r} {rule}")


class TemplateError(ServiceError):
    """A task template data file is malformed."""

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"invalid task template {source}: {problem}")


class UnknownHandlerError(ServiceError):
    """A template names a step handler that no worker provides."""

    def __init__(self, handler: str, known: list[str]) -> None:
        self.handler = handler
        self.known = known
        super().__init__(f"unknown step handler {handler!r}; known handlers: {', '.join(known)}")


class TransitionNotAllowedError(ServiceError):
    """A state machine was asked for a transition its table does not allow."""

    def __init__(self, machine: str, from_state: str | None, to_state: str) -> None:
        self.machine = machine
        self.from_state = from_state
        self.to_state = to_state
        super().__init__(f"{machine} transition {from_state} -> {to_state} is not allowed")


class LeaseLostError(ServiceError):
    """A task is owned by another orchestration instance, or changed under this one."""

    def __init__(self, task_uuid: str, detail: str) -> None:
        self.task_uuid = task_uuid
        self.detail = detail
        super().__init__(f"task {task_uuid}: {detail}")


class RequestError(ServiceError):
    """A client error, answered as tasker-core's `ApiError` (`{"BadRequest": {"message"}}`,
    `{"NotFound": ...}`, `{"Conflict": ...}`, or a bare string such as `"ServiceUnavailable"`),
    plus our `{"error": {"code", "message"}}` beside it where the variant is an object."""

    status = 400
    code = "bad_request"
    variant = "BadRequest"


class MalformedJsonError(RequestError):
    status = 400
    code = "malformed_json"

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"request body is not valid JSON: {detail}")


class PayloadTooLargeError(RequestError):
    status = 413
    code = "payload_too_large"

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"request body is larger than {limit} bytes")


class InvalidFieldError(RequestError):
    status = 400
    code = "invalid_field"

    def __init__(
        self, field: str, expected: str, got: object = None, missing: bool = False
    ) -> None:
        self.field = field
        self.expected = expected
        self.missing = missing
        if missing:
            message = f"field {field!r} is required: expected {expected}"
        else:
            message = f"field {field!r} must be {expected}, got {_show(got)}"
        super().__init__(message)


class InvalidParameterError(RequestError):
    status = 400
    code = "invalid_parameter"

    def __init__(self, name: str, value: str, expected: str) -> None:
        self.name = name
        self.value = value
        self.expected = expected
        super().__init__(f"parameter {name!r} must be {expected}, got {value!r}")


class TemplateNotFoundError(RequestError):
    status = 404
    variant = "NotFound"
    code = "template_not_found"

    def __init__(self, namespace: str, name: str, version: str) -> None:
        self.namespace = namespace
        self.name = name
        self.version = version
        super().__init__(
            f"no task template {namespace}/{name}/{version}; GET /v1/templates lists the templates"
        )


class TaskNotFoundError(RequestError):
    status = 404
    variant = "NotFound"
    code = "task_not_found"

    def __init__(self, task_uuid: str) -> None:
        self.task_uuid = task_uuid
        super().__init__(f"no task {task_uuid}")


class StepNotFoundError(RequestError):
    status = 404
    variant = "NotFound"
    code = "step_not_found"

    def __init__(self, task_uuid: str, step_uuid: str) -> None:
        self.task_uuid = task_uuid
        self.step_uuid = step_uuid
        super().__init__(f"task {task_uuid} has no workflow step {step_uuid}")


class RouteNotFoundError(RequestError):
    status = 404
    variant = "NotFound"
    code = "not_found"

    def __init__(self, method: str, path: str) -> None:
        self.method = method
        self.path = path
        super().__init__(f"no route {method} {path}; GET /api-docs/openapi.json lists the routes")


class MethodNotAllowedError(RequestError):
    status = 405
    code = "method_not_allowed"

    def __init__(self, method: str, path: str) -> None:
        self.method = method
        self.path = path
        super().__init__(f"method {method} is not allowed on {path}")


class TaskAlreadyTerminalError(RequestError):
    """A finished task cannot be cancelled: a state conflict, 409 (tasker-core documents 400
    for it, which a fuzzer counts as a valid request rejected; ours documents 409)."""

    status = 409
    variant = "Conflict"
    code = "task_terminal"

    def __init__(self, task_uuid: str, status: str) -> None:
        self.task_uuid = task_uuid
        self.task_status = status
        super().__init__(f"task {task_uuid} is already {status}; only unfinished tasks can change")


class StepStateConflictError(RequestError):
    """A manual action the step's current state does not allow (or the state moved meanwhile)."""

    status = 409
    variant = "Conflict"
    code = "step_state_conflict"

    def __init__(self, step_uuid: str, action: str, state: str, allowed: str) -> None:
        self.step_uuid = step_uuid
        self.action = action
        self.state = state
        super().__init__(f"step {step_uuid} is {state}; {action} is only for {allowed}")


class TaskUuidCollisionError(RequestError):
    status = 409
    variant = "Conflict"
    code = "task_uuid_collision"

    def __init__(self, task_uuid: str) -> None:
        self.task_uuid = task_uuid
        super().__init__(f"task uuid {task_uuid} already exists; retry the request")


class ServiceUnavailableError(RequestError):
    status = 503
    variant = "ServiceUnavailable"
    code = "unavailable"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"service unavailable: {reason}")


class DuplicateTaskError(RequestError):
    """Under the `strict` identity strategy the same request was already made (tasker-core: 409)."""

    status = 409
    code = "duplicate_task"
    variant = "Conflict"

    def __init__(self, task_uuid: str, identity_hash: str) -> None:
        self.task_uuid = task_uuid
        self.identity_hash = identity_hash
        super().__init__(
            f"a task with the same identity already exists: {task_uuid} (identity hash"
            f" {identity_hash[:16]}...); send an idempotency_key to get it back instead"
        )


class DlqEntryNotFoundError(RequestError):
    status = 404
    code = "dlq_entry_not_found"
    variant = "NotFound"

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"no DLQ entry for {what}")


class UnauthorizedError(RequestError):
    status = 401
    code = "unauthorized"
    variant = "Unauthorized"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"authentication failed: {reason}")


class ForbiddenError(RequestError):
    status = 403
    code = "forbidden"
    variant = "Forbidden"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"not allowed: {reason}")


STRING_VARIANTS = frozenset({"ServiceUnavailable", "Unauthorized", "Forbidden", "Internal"})


def _show(value: object) -> str:
    """A JSON-ish rendering of a bad value, short enough for an error message."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
