"""The `/v1/tasks` routes."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from ..errors import StepNotFoundError, TaskNotFoundError, TaskUuidCollisionError
from ..faults import STALE_READ_SECONDS, Fault
from ..store import reads
from ..store.cancellation import cancel_task
from ..store.database import ConstraintViolationError, Row, Transaction
from ..store.tasks import NewTask, insert_task
from .state import OrchestrationState
from .validation import parse_task_list_query, parse_task_request, path_uuid
from .views import (
    step_states,
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
    return path_uuid(request.path_params["task_uuid"], "task_uuid")


def _new_task_uuid(state: OrchestrationState) -> str:
    if Fault.WEAK_TASK_UUID in state.settings.faults:
        return str(uuid.UUID(int=int(time.time())))
    return str(uuid.uuid4())


async def create_task(request: Request) -> JSONResponse:
    state = OrchestrationState.of(request)
    task_request = parse_task_request(await state.read_body(request))
    template = state.templates.get(task_request.namespace, task_request.name, task_request.version)
    context = template.validated_context(task_request.context)
    task = NewTask(
        task_uuid=_new_task_uuid(state),
        request=dataclasses.replace(task_request, context=context),
        steps=template.expand(context),
    )
    now = time.time()
    try:
        mapping = await run_in_threadpool(
            state.database.write, lambda tx: insert_task(tx, task, state.instance, now)
        )
    except ConstraintViolationError:
        raise TaskUuidCollisionError(task.task_uuid) from None
    state.metrics.tasks_created.inc()
    state.loop.wake()
    body = {
        "task_uuid": task.task_uuid,
        "status": "created",
        "created_at": state.iso(now),
        "step_count": len(mapping),
        "step_mapping": mapping,
    }
    return JSONResponse(body, status_code=201)


async def list_tasks(request: Request) -> JSONResponse:
    query = parse_task_list_query(request.query_params)

    def load(transaction: Transaction) -> dict[str, Any]:
        offset = (query.page - 1) * query.per_page
        rows, total = reads.list_tasks(
            transaction, offset, query.per_page, query.namespace, query.status
        )
        counts = reads.step_state_counts(transaction, [row["task_uuid"] for row in rows])
        pages = (total + query.per_page - 1) // query.per_page
        return {
            "tasks": [task_view(row, counts[row["task_uuid"]]) for row in rows],
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

    def load(transaction: Transaction) -> dict[str, Any]:
        row = reads.get_task(transaction, task_uuid)
        if row is None:
            raise TaskNotFoundError(task_uuid)
        steps = reads.get_steps(transaction, task_uuid)
        return {**task_view(row, step_states(steps)), "steps": [step_view(s) for s in steps]}

    body = await run_in_threadpool(state.database.read, load)
    if stale:
        state.read_cache[task_uuid] = (time.monotonic() + STALE_READ_SECONDS, body)
    return JSONResponse(body)


async def cancel(request: Request) -> JSONResponse:
    state = OrchestrationState.of(request)
    task_uuid = _task_uuid(request)
    dialect = state.database.dialect
    await run_in_threadpool(
        state.database.write,
        lambda tx: cancel_task(tx, dialect, task_uuid, state.instance, time.time()),
    )
    return JSONResponse({"task_uuid": task_uuid, "status": "cancelled"})


def _require_task(transaction: Transaction, task_uuid: str) -> None:
    if reads.get_task(transaction, task_uuid) is None:
        raise TaskNotFoundError(task_uuid)


def _step_uuids(request: Request) -> tuple[str, str]:
    return _task_uuid(request), path_uuid(request.path_params["step_uuid"], "step_uuid")


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


async def _task_rows(
    request: Request,
    fetch: Callable[[Transaction, str], list[Row]],
    view: Callable[[Row], dict[str, Any]],
) -> JSONResponse:
    """The views of the rows `fetch` reads for the task in the path (404 if it is unknown)."""
    task_uuid = _task_uuid(request)

    def load(transaction: Transaction) -> list[dict[str, Any]]:
        _require_task(transaction, task_uuid)
        return [view(row) for row in fetch(transaction, task_uuid)]

    return await _read(request, load)


async def list_steps(request: Request) -> JSONResponse:
    return await _task_rows(request, reads.get_steps, step_view)


async def get_step(request: Request) -> JSONResponse:
    task_uuid, step_uuid = _step_uuids(request)
    return await _read(request, lambda tx: step_view(_require_step(tx, task_uuid, step_uuid)))


async def step_audit(request: Request) -> JSONResponse:
    task_uuid, step_uuid = _step_uuids(request)

    def load(transaction: Transaction) -> list[dict[str, Any]]:
        _require_step(transaction, task_uuid, step_uuid)
        return [step_transition_view(r) for r in reads.step_transitions(transaction, step_uuid)]

    return await _read(request, load)


async def task_transitions(request: Request) -> JSONResponse:
    return await _task_rows(request, reads.task_transitions, task_transition_view)
