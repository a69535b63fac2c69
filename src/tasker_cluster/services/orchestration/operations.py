"""The operator routes of tasker-core's orchestration API, computed from the store:
`/config` (no secrets), templates (list and detail), the DLQ family and analytics.

DLQ entries: a task that ended in `error` (its steps ran out of retries) is entered as
`MaxRetriesExceeded` the first time any DLQ route looks; investigations update the entry.
Staleness lists the unfinished tasks by how long they have been in their state.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from ... import __version__
from ...states import TASK_TERMINAL, StepState, TaskState
from ..errors import DlqEntryNotFoundError, InvalidFieldError
from ..store.database import Row, Transaction, placeholders
from ..web import iso, iso_now
from .state import OrchestrationState
from .validation import UUID_TEXT, decode_json, optional_int

DLQ_REASONS = (
    "StalenessTimeout",
    "MaxRetriesExceeded",
    "DependencyCycleDetected",
    "WorkerUnavailable",
    "ManualDlq",
)
RESOLUTIONS = ("Pending", "ManuallyResolved", "PermanentlyFailed", "Cancelled")
STALE_MINUTES = 60
_DLQ = uuid.UUID("0b7e4f7a-1c39-4d5e-8b0c-6a2f9e5d3c11")


def auth_summary(state: OrchestrationState) -> dict[str, Any]:
    auth = state.auth
    return {
        "enabled": auth.enabled,
        "verification_method": auth.verification_method,
        "jwt_issuer": auth.jwt_issuer or "",
        "jwt_audience": auth.jwt_audience or "",
        "api_key_header": "X-API-Key",
        "api_key_count": len(auth.api_keys),
        "strict_validation": True,
        "allowed_algorithms": ["RS256"],
    }


async def config(request: Request) -> JSONResponse:
    """Upstream's `OrchestrationConfigResponse`: what is configured, never a secret."""
    state = OrchestrationState.of(request)
    body = {
        "metadata": {
            "timestamp": iso_now(),
            "environment": state.settings.environment,
            "version": __version__,
        },
        "auth": auth_summary(state),
        "circuit_breakers": {
            "enabled": False,
            "failure_threshold": 0,
            "timeout_seconds": 0,
            "success_threshold": 0,
        },
        "database_pools": {"web_api_pool_size": 8, "web_api_max_connections": 8},
        "deployment_mode": "reference",
        "messaging": {
            "backend": f"{state.database.dialect.name}-queue-table",
            "queues": sorted(
                {f"{name}_queue" for name in state.templates.namespaces()}
                | {"orchestration_step_results"}
            ),
        },
        "instance_id": state.settings.instance_id,
        "database_backend": state.database.dialect.name,
    }
    return JSONResponse(body)


async def templates(request: Request) -> JSONResponse:
    """Upstream's `TemplateListResponse`, optionally for one namespace."""
    registry = OrchestrationState.of(request).templates
    everything = registry.all()
    wanted = request.query_params.get("namespace")
    chosen = [t for t in everything if wanted is None or t.namespace == wanted]
    namespaces = sorted({t.namespace for t in everything})
    return JSONResponse(
        {
            "namespaces": [
                {
                    "name": name,
                    "description": None,
                    "template_count": sum(1 for t in everything if t.namespace == name),
                }
                for name in namespaces
            ],
            "templates": [t.summary() for t in chosen],
            "total_count": len(everything),
        }
    )


async def template(request: Request) -> JSONResponse:
    params = request.path_params
    registry = OrchestrationState.of(request).templates
    found = registry.get(params["namespace"], params["name"], params["version"])
    return JSONResponse(found.detail())


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def sync_dlq(transaction: Transaction, now: float) -> None:
    """Enter every task that ended in `error` and has no DLQ entry yet."""
    rows = transaction.fetch_all(
        "SELECT t.task_uuid, t.name, t.namespace, t.version, t.status, t.context, t.completed_at"
        " FROM tasks t WHERE t.status = ? AND NOT EXISTS"
        " (SELECT 1 FROM tasks_dlq d WHERE d.task_uuid = t.task_uuid)",
        (TaskState.ERROR.value,),
    )
    for row in rows:
        snapshot = {
            "task_uuid": row["task_uuid"],
            "namespace": row["namespace"],
            "name": row["name"],
            "version": row["version"],
            "status": row["status"],
            "context": _json(row["context"]),
        }
        transaction.execute(
            "INSERT INTO tasks_dlq (dlq_entry_uuid, task_uuid, original_state, dlq_reason,"
            " dlq_timestamp, resolution_status, task_snapshot, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (task_uuid) DO NOTHING",
            (
                str(uuid.uuid5(_DLQ, row["task_uuid"])),
                row["task_uuid"],
                row["status"],
                "MaxRetriesExceeded",
                row["completed_at"] or now,
                "Pending",
                json.dumps(snapshot),
                now,
                now,
            ),
        )


DLQ_COLUMNS = (
    "dlq_entry_uuid, task_uuid, original_state, dlq_reason, dlq_timestamp, resolution_status,"
    " resolution_notes, resolved_by, resolution_timestamp, metadata, task_snapshot, created_at,"
    " updated_at"
)


def dlq_view(row: Row) -> dict[str, Any]:
    return {
        "dlq_entry_uuid": row["dlq_entry_uuid"],
        "task_uuid": row["task_uuid"],
        "original_state": row["original_state"],
        "dlq_reason": row["dlq_reason"],
        "dlq_timestamp": iso(row["dlq_timestamp"]),
        "resolution_status": row["resolution_status"],
        "resolution_notes": row["resolution_notes"],
        "resolved_by": row["resolved_by"],
        "resolution_timestamp": iso(row["resolution_timestamp"]),
        "metadata": _json(row["metadata"]),
        "task_snapshot": _json(row["task_snapshot"]),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


async def _dlq(request: Request, work: Any) -> JSONResponse:
    database = OrchestrationState.of(request).database

    def run(transaction: Transaction) -> Any:
        sync_dlq(transaction, time.time())
        return work(transaction)

    return JSONResponse(await run_in_threadpool(database.write, run))


async def dlq_list(request: Request) -> JSONResponse:
    query = request.query_params
    status = query.get("resolution_status")
    limit = optional_int(query, "limit", 50, 0, 1000)
    offset = optional_int(query, "offset", 0, 0, 2**62)
    where = " WHERE resolution_status = ?" if status in RESOLUTIONS else ""
    params: list[object] = [status] if where else []

    def load(transaction: Transaction) -> list[dict[str, Any]]:
        rows = transaction.fetch_all(
            f"SELECT {DLQ_COLUMNS} FROM tasks_dlq{where}"
            " ORDER BY dlq_timestamp DESC, dlq_entry_uuid LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [dlq_view(row) for row in rows]

    return await _dlq(request, load)


async def dlq_task(request: Request) -> JSONResponse:
    task_uuid = request.path_params["task_uuid"]

    def load(transaction: Transaction) -> dict[str, Any]:
        row = None
        if UUID_TEXT.fullmatch(task_uuid):
            row = transaction.fetch_one(
                f"SELECT {DLQ_COLUMNS} FROM tasks_dlq WHERE task_uuid = ?",
                (str(uuid.UUID(task_uuid)),),
            )
        if row is None:
            raise DlqEntryNotFoundError(f"task {task_uuid}")
        return dlq_view(row)

    return await _dlq(request, load)


async def dlq_update(request: Request) -> JSONResponse:
    entry = request.path_params["dlq_entry_uuid"]
    state = OrchestrationState.of(request)
    known = UUID_TEXT.fullmatch(entry) and await run_in_threadpool(
        state.database.read,
        lambda tx: tx.fetch_one(
            "SELECT 1 AS found FROM tasks_dlq WHERE dlq_entry_uuid = ?", (str(uuid.UUID(entry)),)
        ),
    )
    if not known:
        raise DlqEntryNotFoundError(f"entry {entry}")
    data = decode_json(await state.read_body(request))
    if not isinstance(data, dict):
        raise InvalidFieldError("body", "a JSON object (an UpdateInvestigationRequest)", data)
    status = data.get("resolution_status")
    notes = data.get("resolution_notes")
    resolved_by = data.get("resolved_by")
    if status is not None and status not in RESOLUTIONS:
        raise InvalidFieldError("resolution_status", "one of " + ", ".join(RESOLUTIONS), status)
    for name, value in (("resolution_notes", notes), ("resolved_by", resolved_by)):
        if value is not None and not isinstance(value, str):
            raise InvalidFieldError(name, "a string or null", value)
    metadata = json.dumps(data["metadata"]) if data.get("metadata") is not None else None

    def write(transaction: Transaction) -> dict[str, Any]:
        now = time.time()
        found = UUID_TEXT.fullmatch(entry) and transaction.execute(
            "UPDATE tasks_dlq SET resolution_status = COALESCE(?, resolution_status),"
            " resolution_notes = COALESCE(?, resolution_notes),"
            " resolved_by = COALESCE(?, resolved_by), metadata = COALESCE(?, metadata),"
            " resolution_timestamp = CASE WHEN ? THEN ? ELSE resolution_timestamp END,"
            " updated_at = ? WHERE dlq_entry_uuid = ?",
            (
                status,
                notes,
                resolved_by,
                metadata,
                status not in (None, "Pending"),
                now,
                now,
                str(uuid.UUID(entry)) if UUID_TEXT.fullmatch(entry) else entry,
            ),
        )
        if not found:
            raise DlqEntryNotFoundError(f"entry {entry}")
        return {
            "success": True,
            "message": "investigation updated",
            "dlq_entry_uuid": str(uuid.UUID(entry)),
        }

    return await _dlq(request, write)


async def dlq_stats(request: Request) -> JSONResponse:
    def load(transaction: Transaction) -> list[dict[str, Any]]:
        rows = transaction.fetch_all(
            "SELECT dlq_reason, resolution_status, COUNT(*) AS n, MIN(dlq_timestamp) AS oldest,"
            " MAX(dlq_timestamp) AS newest FROM tasks_dlq GROUP BY dlq_reason, resolution_status"
        )
        stats: dict[str, dict[str, Any]] = {}
        for row in rows:
            entry = stats.setdefault(
                row["dlq_reason"],
                {
                    "dlq_reason": row["dlq_reason"],
                    "total_entries": 0,
                    "pending": 0,
                    "manually_resolved": 0,
                    "permanent_failures": 0,
                    "cancelled": 0,
                    "avg_resolution_time_minutes": None,
                    "oldest_entry": None,
                    "newest_entry": None,
                    "_oldest": None,
                    "_newest": None,
                },
            )
            count = int(row["n"])
            entry["total_entries"] += count
            key = {
                "Pending": "pending",
                "ManuallyResolved": "manually_resolved",
                "PermanentlyFailed": "permanent_failures",
                "Cancelled": "cancelled",
            }[row["resolution_status"]]
            entry[key] += count
            entry["_oldest"] = min(x for x in (entry["_oldest"], row["oldest"]) if x is not None)
            entry["_newest"] = max(x for x in (entry["_newest"], row["newest"]) if x is not None)
        result = []
        for entry in stats.values():
            entry["oldest_entry"] = iso(entry.pop("_oldest"))
            entry["newest_entry"] = iso(entry.pop("_newest"))
            result.append(entry)
        return result

    return await _dlq(request, load)


async def dlq_investigation_queue(request: Request) -> JSONResponse:
    limit = optional_int(request.query_params, "limit", 100, 0, 1000)

    def load(transaction: Transaction) -> list[dict[str, Any]]:
        now = time.time()
        rows = transaction.fetch_all(
            "SELECT d.dlq_entry_uuid, d.task_uuid, d.original_state, d.dlq_reason,"
            " d.dlq_timestamp, t.status, t.namespace, t.name, t.updated_at FROM tasks_dlq d"
            " JOIN tasks t ON t.task_uuid = d.task_uuid WHERE d.resolution_status = 'Pending'"
            " ORDER BY d.dlq_timestamp LIMIT ?",
            (limit,),
        )
        return [
            {
                "dlq_entry_uuid": row["dlq_entry_uuid"],
                "task_uuid": row["task_uuid"],
                "original_state": row["original_state"],
                "dlq_reason": row["dlq_reason"],
                "dlq_timestamp": iso(row["dlq_timestamp"]),
                "minutes_in_dlq": round(max(0.0, now - row["dlq_timestamp"]) / 60, 3),
                "priority_score": round(max(0.0, now - row["dlq_timestamp"]) / 60, 3),
                "current_state": row["status"],
                "namespace_name": row["namespace"],
                "task_name": row["name"],
                "time_in_state_minutes": int(max(0.0, now - row["updated_at"]) // 60),
            }
            for row in rows
        ]

    return await _dlq(request, load)


async def dlq_staleness(request: Request) -> JSONResponse:
    limit = optional_int(request.query_params, "limit", 100, 0, 1000)
    terminal = sorted(TASK_TERMINAL)

    def load(transaction: Transaction) -> list[dict[str, Any]]:
        now = time.time()
        rows = transaction.fetch_all(
            "SELECT task_uuid, status, namespace, name, priority, created_at, updated_at"
            f" FROM tasks WHERE status NOT IN ({placeholders(len(terminal))})"
            " ORDER BY updated_at LIMIT ?",
            [*terminal, limit],
        )
        result = []
        for row in rows:
            in_state = int(max(0.0, now - row["updated_at"]) // 60)
            health = (
                "stale"
                if in_state >= STALE_MINUTES
                else "warning"
                if in_state >= STALE_MINUTES // 2
                else "healthy"
            )
            result.append(
                {
                    "task_uuid": row["task_uuid"],
                    "current_state": row["status"],
                    "time_in_state_minutes": min(in_state, 2**31 - 1),
                    "task_age_minutes": min(
                        int(max(0.0, now - row["created_at"]) // 60), 2**31 - 1
                    ),
                    "staleness_threshold_minutes": STALE_MINUTES,
                    "health_status": health,
                    "priority": max(-(2**31), min(2**31 - 1, int(row["priority"]))),
                    "namespace_name": row["namespace"],
                    "task_name": row["name"],
                }
            )
        return result

    return await _dlq(request, load)


async def performance(request: Request) -> JSONResponse:
    hours = optional_int(request.query_params, "hours", 24, 0, 24 * 365 * 100)
    database = OrchestrationState.of(request).database

    def load(transaction: Transaction) -> dict[str, Any]:
        now = time.time()
        since = now - hours * 3600
        row = transaction.fetch_one(
            "SELECT COUNT(*) AS total,"
            " SUM(CASE WHEN status = 'complete' THEN 1 ELSE 0 END) AS completed,"
            " SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END) AS failed,"
            f" SUM(CASE WHEN status NOT IN ({placeholders(len(TASK_TERMINAL))})"
            " THEN 1 ELSE 0 END) AS active,"
            " AVG(CASE WHEN completed_at IS NOT NULL THEN completed_at - created_at END) AS dur"
            " FROM tasks WHERE created_at >= ?",
            [*sorted(TASK_TERMINAL), since],
        )
        steps = transaction.fetch_one(
            "SELECT COUNT(*) AS n, AVG(completed_at - created_at) AS dur FROM workflow_steps"
            " WHERE completed_at IS NOT NULL AND created_at >= ?",
            (since,),
        )
        total = int(row["total"] or 0) if row else 0
        completed = int(row["completed"] or 0) if row else 0
        failed = int(row["failed"] or 0) if row else 0
        finished = completed + failed
        per_hour = max(hours, 1)
        return {
            "total_tasks": total,
            "active_tasks": int(row["active"] or 0) if row else 0,
            "completed_tasks": completed,
            "failed_tasks": failed,
            "completion_rate": completed / finished if finished else 0.0,
            "error_rate": failed / finished if finished else 0.0,
            "average_task_duration_seconds": float(row["dur"] or 0.0) if row else 0.0,
            "average_step_duration_seconds": float(steps["dur"] or 0.0) if steps else 0.0,
            "tasks_per_hour": total // per_hour,
            "steps_per_hour": int(steps["n"] or 0) // per_hour if steps else 0,
            "system_health_score": 1.0 - (failed / finished if finished else 0.0),
            "analysis_period_start": iso(since),
            "calculated_at": iso(now),
        }

    return JSONResponse(await run_in_threadpool(database.read, load))


async def bottlenecks(request: Request) -> JSONResponse:
    query = request.query_params
    limit = optional_int(query, "limit", 10, 0, 1000)
    minimum = optional_int(query, "min_executions", 5, 0, 2**31 - 1)
    database = OrchestrationState.of(request).database

    def load(transaction: Transaction) -> dict[str, Any]:
        step_rows = transaction.fetch_all(
            "SELECT t.namespace, t.name AS task_name, t.version, s.name AS step_name,"
            " COUNT(*) AS n, AVG(s.completed_at - s.created_at) AS avg_d,"
            " MAX(s.completed_at - s.created_at) AS max_d, MAX(s.completed_at) AS last_at,"
            " SUM(CASE WHEN s.current_state = 'error' THEN 1 ELSE 0 END) AS errors"
            " FROM workflow_steps s JOIN tasks t ON t.task_uuid = s.task_uuid"
            " WHERE s.completed_at IS NOT NULL OR s.current_state = 'error'"
            " GROUP BY t.namespace, t.name, t.version, s.name HAVING COUNT(*) >= ?"
            " ORDER BY avg_d DESC LIMIT ?",
            (minimum, limit),
        )
        task_rows = transaction.fetch_all(
            "SELECT namespace, name, version, COUNT(*) AS n,"
            " AVG(completed_at - created_at) AS avg_d, MAX(completed_at - created_at) AS max_d,"
            " MAX(completed_at) AS last_at,"
            " SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END) AS errors,"
            " AVG((SELECT COUNT(*) FROM workflow_steps s WHERE s.task_uuid = tasks.task_uuid))"
            " AS steps FROM tasks WHERE completed_at IS NOT NULL"
            " GROUP BY namespace, name, version HAVING COUNT(*) >= ? ORDER BY avg_d DESC LIMIT ?",
            (minimum, limit),
        )
        task_counts = {
            row["status"]: int(row["n"])
            for row in transaction.fetch_all(
                "SELECT status, COUNT(*) AS n FROM tasks GROUP BY status"
            )
        }
        step_counts = {
            row["current_state"]: int(row["n"])
            for row in transaction.fetch_all(
                "SELECT current_state, COUNT(*) AS n FROM workflow_steps GROUP BY current_state"
            )
        }
        health: dict[str, int] = {}
        for state in TaskState:
            health[f"{state.value}_tasks"] = task_counts.get(state.value, 0)
        health["total_tasks"] = sum(task_counts.values())
        for step_state in StepState:
            health[f"{step_state.value}_steps"] = step_counts.get(step_state.value, 0)
        health["total_steps"] = sum(step_counts.values())

        def rate(errors: Any, count: Any) -> float:
            return int(errors or 0) / int(count) if count else 0.0

        return {
            "slow_steps": [
                {
                    "namespace_name": r["namespace"],
                    "task_name": r["task_name"],
                    "version": r["version"],
                    "step_name": r["step_name"],
                    "average_duration_seconds": float(r["avg_d"] or 0.0),
                    "max_duration_seconds": float(r["max_d"] or 0.0),
                    "execution_count": int(r["n"]),
                    "error_count": int(r["errors"] or 0),
                    "error_rate": rate(r["errors"], r["n"]),
                    "last_executed_at": iso(r["last_at"]),
                }
                for r in step_rows
            ],
            "slow_tasks": [
                {
                    "namespace_name": r["namespace"],
                    "task_name": r["name"],
                    "version": r["version"],
                    "average_duration_seconds": float(r["avg_d"] or 0.0),
                    "max_duration_seconds": float(r["max_d"] or 0.0),
                    "execution_count": int(r["n"]),
                    "average_step_count": float(r["steps"] or 0.0),
                    "error_count": int(r["errors"] or 0),
                    "error_rate": rate(r["errors"], r["n"]),
                    "last_executed_at": iso(r["last_at"]),
                }
                for r in task_rows
            ],
            "resource_utilization": {"database_pool_utilization": 0.0, "system_health": health},
            "recommendations": [],
        }

    return JSONResponse(await run_in_threadpool(database.read, load))
