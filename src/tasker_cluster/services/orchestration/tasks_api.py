"""The `/v1/tasks` routes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import time
import uuid
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from ...api.task_request import TaskRequest
from ..errors import (
    DuplicateTaskError,
    InvalidFieldError,
    StepNotFoundError,
    TaskNotFoundError,
    TaskUuidCollisionError,
)
from ..faults import STALE_READ_SECONDS, Fault
from ..store import reads
from ..store.cancellation import cancel_task
from ..store.database import ConstraintViolationError, Row, Transaction
from ..store.tasks import NewTask, insert_task
from .state import OrchestrationState
from .validation import check_storable, parse_task_list_query, parse_task_request, path_uuid
from .views import (
    Readiness,
    audit_view,
    step_transition_view,
    step_view,
    task_transition_view,
    task_view,
)


async def tasks(request: Request) -> JSONResponse:
    """`/v1/tasks`: one route for both methods, so a 405 lists both in `Allow`."""
    if request.method == "POST":
        return await create_task(request)
    return await list_tasks(request)


async def task(request: Request) -> JSONResponse:
    if request.method == "DELETE":
        return await cancel(request)
    return await get_task(request)


def _task_uuid(request: Request) -> str:
    """The task uuid of the path; one that is not a UUID names no task (404)."""
    text = request.path_params["task_uuid"]
    task_uuid = path_uuid(text, "task_uuid")
    if task_uuid is None:
        raise TaskNotFoundError(text)
    return task_uuid


def _new_task_uuid(state: OrchestrationState) -> str:
    if Fault.WEAK_TASK_UUID in state.settings.faults:
        return str(uuid.UUID(int=int(time.time())))
    return str(uuid.uuid4())


def identity_hash(request: TaskRequest, strategy: str) -> str:
    """tasker-core's task identity: an `idempotency_key` wins; else `strict` hashes the named
    task and its context, `always_unique` makes every request new."""
    named = f"{request.namespace}/{request.name}/{request.version}"
    if request.idempotency_key is not None:
        material = f"{named}\nkey:{request.idempotency_key}"
    elif strategy == "always_unique":
        material = f"{named}\nunique:{uuid.uuid4()}"
    else:
        context = json.dumps(request.context, sort_keys=True, separators=(",", ":"))
        material = f"{named}\ncontext:{context}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _full_task(transaction: Transaction, task_uuid: str) -> dict[str, Any]:
    row = reads.get_task(transaction, task_uuid)
    if row is None:
        raise TaskNotFoundError(task_uuid)
    return task_view(row, reads.get_steps(transaction, task_uuid))


async def create_task(request: Request) -> JSONResponse:
    state = OrchestrationState.of(request)
    task_request = parse_task_request(await state.read_body(request))
    template = state.templates.get(task_request.namespace, task_request.name, task_request.version)
    check_storable(task_request)
    strategy = template.identity_strategy
    if strategy == "caller_provided" and task_request.idempotency_key is None:
        raise InvalidFieldError(
            "idempotency_key",
            "a string (the template's identity strategy is caller_provided)",
            missing=True,
        )
    if not isinstance(task_request.context, dict):
        raise InvalidFieldError("context", "a JSON object", task_request.context)
    context = template.validated_context(task_request.context)
    task = NewTask(
        task_uuid=_new_task_uuid(state),
        request=dataclasses.replace(task_request, context=context),
        steps=template.expand(context),
        identity_hash=identity_hash(dataclasses.replace(task_request, context=context), strategy),
    )

    def existing(transaction: Transaction) -> dict[str, Any] | None:
        row = reads.task_by_identity(transaction, task.identity_hash)
        if row is None:
            return None
        if task_request.idempotency_key is None:
            raise DuplicateTaskError(row["task_uuid"], task.identity_hash)
        return _full_task(transaction, row["task_uuid"])

    def insert(transaction: Transaction) -> dict[str, Any]:
        found = existing(transaction)
        if found is not None:
            return found
        insert_task(transaction, task, state.instance, time.time())
        return _full_task(transaction, task.task_uuid)

    try:
        body = await run_in_threadpool(state.database.write, insert)
    except ConstraintViolationError:
        # A concurrent create with the same identity won, or (weak_task_uuid) the uuid clashed.
        found = await run_in_threadpool(state.database.read, existing)
        if found is None:
            raise TaskUuidCollisionError(task.task_uuid) from None
        body = found
    if body["task_uuid"] == task.task_uuid:
        if Fault.EXIT_AFTER_CREATE in state.settings.faults:
            # The task is stored and committed; the caller never hears of it.
            os.kill(os.getpid(), signal.SIGKILL)
        state.metrics.tasks_created.inc()
        state.loop.wake()
    return JSONResponse(body, status_code=201)


async def list_tasks(request: Request) -> JSONResponse:
    query = parse_task_list_query(request.query_params)

    def load(transaction: Transaction) -> dict[str, Any]:
        offset = (query.page - 1) * query.per_page
        rows, total = reads.list_tasks(transaction, offset, query.per_page, query.filters)
        steps = reads.get_steps_of(transaction, [row["task_uuid"] for row in rows])
        pages = (total + query.per_page - 1) // query.per_page
        return {
            "tasks": [task_view(row, steps[row["task_uuid"]]) for row in rows],
            "pagination": {
                "page": query.page,
                "per_page": query.per_page,
                "total_count": total,
                "total_pages": pages,
                "has_next": query.page < pages,
                "has_previous": query.page > 1,
            },
        }

    return await _read(request, load)


async def get_task(request: Request) -> JSONResponse:
    state = OrchestrationState.of(request)
    task_uuid = _task_uuid(request)
    stale = Fault.STALE_READS in state.settings.faults
    cached = state.read_cache.get(task_uuid) if stale else None
    if cached is not None and cached[0] > time.monotonic():
        return JSONResponse(cached[1])
    body = await run_in_threadpool(state.database.read, lambda tx: _full_task(tx, task_uuid))
    if stale:
        state.read_cache[task_uuid] = (time.monotonic() + STALE_READ_SECONDS, body)
    return JSONResponse(body)


async def cancel(request: Request) -> JSONResponse:
    """Cancel the task (and its unfinished steps); answers the task as it is now."""
    state = OrchestrationState.of(request)
    task_uuid = _task_uuid(request)
    dialect = state.database.dialect

    def write(transaction: Transaction) -> dict[str, Any]:
        cancel_task(transaction, dialect, task_uuid, state.instance, time.time())
        return _full_task(transaction, task_uuid)

    return JSONResponse(await run_in_threadpool(state.database.write, write))


def _require_task(transaction: Transaction, task_uuid: str) -> Row:
    row = reads.get_task(transaction, task_uuid)
    if row is None:
        raise TaskNotFoundError(task_uuid)
    return row


def _step_uuids(request: Request) -> tuple[str, str]:
    task_uuid = _task_uuid(request)
    text = request.path_params["step_uuid"]
    step_uuid = path_uuid(text, "step_uuid")
    if step_uuid is None:
        raise StepNotFoundError(task_uuid, text)
    return task_uuid, step_uuid


def _require_step(transaction: Transaction, task_uuid: str, step_uuid: str) -> Row:
    _require_task(transaction, task_uuid)
    row = reads.get_step(transaction, task_uuid, step_uuid)
    if row is None:
        raise StepNotFoundError(task_uuid, step_uuid)
    return row


async def _read(request: Request, load: Callable[[Transaction], Any]) -> JSONResponse:
    """The JSON of what `load` reads, in one read-only transaction."""
    database = OrchestrationState.of(request).database
    return JSONResponse(await run_in_threadpool(database.read, load))


def step_document(transaction: Transaction, task_uuid: str, step_uuid: str) -> dict[str, Any]:
    step = _require_step(transaction, task_uuid, step_uuid)
    return step_view(step, Readiness(reads.get_steps(transaction, task_uuid)))


async def list_steps(request: Request) -> JSONResponse:
    """The task's steps; upstream documents no 404 here, so an unknown task has none."""
    task_uuid = path_uuid(request.path_params["task_uuid"], "task_uuid")

    def load(transaction: Transaction) -> list[dict[str, Any]]:
        if task_uuid is None:
            return []
        steps = reads.get_steps(transaction, task_uuid)
        readiness = Readiness(steps)
        return [step_view(step, readiness) for step in steps]

    return await _read(request, load)


async def get_step(request: Request) -> JSONResponse:
    task_uuid, step_uuid = _step_uuids(request)
    return await _read(request, lambda tx: step_document(tx, task_uuid, step_uuid))


async def step_audit(request: Request) -> JSONResponse:
    """One `StepAuditResponse` per result recorded for the step."""
    task_uuid, step_uuid = _step_uuids(request)

    def load(transaction: Transaction) -> list[dict[str, Any]]:
        task = reads.get_task(transaction, task_uuid)
        _require_step(transaction, task_uuid, step_uuid)
        correlation = task["correlation_id"] if task else None
        return [audit_view(r, correlation) for r in reads.step_results(transaction, step_uuid)]

    return await _read(request, load)


async def step_transitions(request: Request) -> JSONResponse:
    """Ours: every transition of the step, in order."""
    task_uuid, step_uuid = _step_uuids(request)

    def load(transaction: Transaction) -> list[dict[str, Any]]:
        _require_step(transaction, task_uuid, step_uuid)
        return [step_transition_view(r) for r in reads.step_transitions(transaction, step_uuid)]

    return await _read(request, load)


async def task_transitions(request: Request) -> JSONResponse:
    task_uuid = _task_uuid(request)

    def load(transaction: Transaction) -> list[dict[str, Any]]:
        _require_task(transaction, task_uuid)
        return [task_transition_view(row) for row in reads.task_transitions(transaction, task_uuid)]

    return await _read(request, load)
