"""The schema, written once for both backends; creating it is idempotent."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ColumnTypes:
    serial_key: str
    timestamp: str


SQLITE_TYPES = ColumnTypes(serial_key="INTEGER PRIMARY KEY AUTOINCREMENT", timestamp="REAL")
POSTGRES_TYPES = ColumnTypes(serial_key="BIGSERIAL PRIMARY KEY", timestamp="DOUBLE PRECISION")

# Timestamps are seconds since the epoch (UTC); JSON documents are stored as text.
_STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS tasks (
        task_uuid TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        namespace TEXT NOT NULL,
        version TEXT NOT NULL,
        status TEXT NOT NULL,
        context TEXT NOT NULL,
        initiator TEXT NOT NULL,
        source_system TEXT NOT NULL,
        reason TEXT NOT NULL,
        tags TEXT NOT NULL,
        priority INTEGER NOT NULL,
        correlation_id TEXT NOT NULL,
        parent_correlation_id TEXT,
        options TEXT,
        requested_at {ts},
        idempotency_key TEXT,
        identity_hash TEXT NOT NULL UNIQUE,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL,
        completed_at {ts},
        work_after {ts},
        claimed_by TEXT,
        claim_expires_at {ts}
    )""",
    "CREATE INDEX IF NOT EXISTS tasks_work_after_idx ON tasks (work_after)"
    " WHERE work_after IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS tasks_claimed_by_idx ON tasks (claimed_by)"
    " WHERE claimed_by IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS tasks_created_at_idx ON tasks (created_at)",
    "CREATE INDEX IF NOT EXISTS tasks_status_idx ON tasks (status, namespace)",
    """CREATE TABLE IF NOT EXISTS workflow_steps (
        step_uuid TEXT PRIMARY KEY,
        task_uuid TEXT NOT NULL REFERENCES tasks (task_uuid),
        name TEXT NOT NULL,
        handler TEXT NOT NULL,
        position INTEGER NOT NULL,
        dependencies TEXT NOT NULL,
        current_state TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL,
        retryable BOOLEAN NOT NULL,
        retry_backoff_ms INTEGER NOT NULL,
        results TEXT,
        last_error TEXT,
        processor_uuid TEXT,
        claim_token TEXT,
        claim_expires_at {ts},
        next_retry_at {ts},
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL,
        completed_at {ts},
        UNIQUE (task_uuid, name)
    )""",
    "CREATE INDEX IF NOT EXISTS workflow_steps_task_idx ON workflow_steps (task_uuid, position)",
    """CREATE TABLE IF NOT EXISTS task_transitions (
        id {serial},
        task_uuid TEXT NOT NULL REFERENCES tasks (task_uuid),
        from_state TEXT,
        to_state TEXT NOT NULL,
        processor TEXT,
        metadata TEXT NOT NULL,
        sort_key INTEGER NOT NULL,
        most_recent BOOLEAN NOT NULL,
        created_at {ts} NOT NULL
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS task_transitions_most_recent_idx"
    " ON task_transitions (task_uuid) WHERE most_recent",
    "CREATE UNIQUE INDEX IF NOT EXISTS task_transitions_sort_key_idx"
    " ON task_transitions (task_uuid, sort_key)",
    """CREATE TABLE IF NOT EXISTS workflow_step_transitions (
        id {serial},
        step_uuid TEXT NOT NULL REFERENCES workflow_steps (step_uuid),
        task_uuid TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        worker_uuid TEXT,
        processor TEXT,
        success BOOLEAN,
        execution_time_ms INTEGER,
        metadata TEXT NOT NULL,
        sort_key INTEGER NOT NULL,
        most_recent BOOLEAN NOT NULL,
        created_at {ts} NOT NULL
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS workflow_step_transitions_most_recent_idx"
    " ON workflow_step_transitions (step_uuid) WHERE most_recent",
    "CREATE UNIQUE INDEX IF NOT EXISTS workflow_step_transitions_sort_key_idx"
    " ON workflow_step_transitions (step_uuid, sort_key)",
    "CREATE INDEX IF NOT EXISTS workflow_step_transitions_task_idx"
    " ON workflow_step_transitions (task_uuid)",
    """CREATE TABLE IF NOT EXISTS tasks_dlq (
        dlq_entry_uuid TEXT PRIMARY KEY,
        task_uuid TEXT NOT NULL UNIQUE REFERENCES tasks (task_uuid),
        original_state TEXT NOT NULL,
        dlq_reason TEXT NOT NULL,
        dlq_timestamp {ts} NOT NULL,
        resolution_status TEXT NOT NULL,
        resolution_notes TEXT,
        resolved_by TEXT,
        resolution_timestamp {ts},
        metadata TEXT,
        task_snapshot TEXT NOT NULL,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS queue_messages (
        msg_id {serial},
        queue_name TEXT NOT NULL,
        message TEXT NOT NULL,
        enqueued_at {ts} NOT NULL,
        vt {ts} NOT NULL,
        read_ct INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX IF NOT EXISTS queue_messages_visible_idx ON queue_messages (queue_name, vt)",
)


def schema_statements(types: ColumnTypes) -> list[str]:
    return [
        statement.format(serial=types.serial_key, ts=types.timestamp) for statement in _STATEMENTS
    ]
