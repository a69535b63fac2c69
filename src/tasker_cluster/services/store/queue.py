"""A pgmq-like message queue in one table: a read hides a message until its visibility timeout."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .database import Dialect, Transaction, insert_rows, placeholders

ORCHESTRATION_RESULTS_QUEUE = "orchestration_step_results"
# Wake-up topics (see `wakeup`): a queue's name when messages became visible in it, and this
# one when a task became due (`work_after`) for an instance that may be asleep.
TASKS_DUE = "tasks_due"
WORK_CHANNEL = "tasker_work"  # PostgreSQL's NOTIFY channel of every topic


def step_queue(namespace: str) -> str:
    return f"{namespace}_queue"


@dataclass(frozen=True)
class QueueMessage:
    msg_id: int
    queue_name: str
    body: dict[str, Any]
    read_ct: int
    enqueued_at: float


def send_many(
    transaction: Transaction, queue: str, bodies: Sequence[Mapping[str, Any]], now: float
) -> None:
    """Enqueue `bodies`, visible at once; the queue's readers are woken after the commit."""
    if not bodies:
        return
    insert_rows(
        transaction,
        "queue_messages",
        ("queue_name", "message", "enqueued_at", "vt", "read_ct"),
        [(queue, json.dumps(dict(body)), now, now, 0) for body in bodies],
    )
    transaction.announce_work(queue)


def read(  # noqa: PLR0913 - pgmq's read parameters
    transaction: Transaction,
    dialect: Dialect,
    queues: Sequence[str],
    *,
    limit: int,
    visibility_timeout: float,
    now: float,
    honour_visibility: bool = True,
    exclude: Sequence[int] = (),
) -> list[QueueMessage]:
    """Up to `limit` visible messages, oldest first, hidden for `visibility_timeout` seconds.

    With `honour_visibility=False` (a fault) hidden messages are read again too.
    """
    if limit <= 0 or not queues:
        return []
    conditions = [f"queue_name IN ({placeholders(len(queues))})"]
    params: list[object] = list(queues)
    if honour_visibility:
        conditions.append("vt <= ?")
        params.append(now)
    if exclude:
        conditions.append(f"msg_id NOT IN ({placeholders(len(exclude))})")
        params.extend(exclude)
    lock = dialect.skip_locked if honour_visibility else ""
    rows = transaction.fetch_all(
        "UPDATE queue_messages SET vt = ?, read_ct = read_ct + 1 WHERE msg_id IN ("
        f"SELECT msg_id FROM queue_messages WHERE {' AND '.join(conditions)}"
        f" ORDER BY msg_id LIMIT ?{lock})"
        " RETURNING msg_id, queue_name, message, read_ct, enqueued_at",
        [now + visibility_timeout, *params, limit],
    )
    messages = [
        QueueMessage(
            msg_id=row["msg_id"],
            queue_name=row["queue_name"],
            body=json.loads(row["message"]),
            read_ct=row["read_ct"],
            enqueued_at=row["enqueued_at"],
        )
        for row in rows
    ]
    return sorted(messages, key=lambda message: message.msg_id)


def visible_probe(queues: Sequence[str], now: float) -> tuple[str, list[object]]:
    """A cheap read-only query (rows only if a message is visible), so idle pollers take no
    write lock; run it with `Database.query`."""
    return (
        f"SELECT msg_id FROM queue_messages WHERE queue_name IN ({placeholders(len(queues))})"
        " AND vt <= ? LIMIT 1",
        [*queues, now],
    )


def delete(transaction: Transaction, msg_ids: Sequence[int]) -> None:
    if msg_ids:
        transaction.execute(
            f"DELETE FROM queue_messages WHERE msg_id IN ({placeholders(len(msg_ids))})",
            list(msg_ids),
        )


def make_visible(transaction: Transaction, msg_ids: Sequence[int], now: float) -> None:
    """Give read messages back at once instead of after their visibility timeout (and wake
    their queues' readers)."""
    if msg_ids:
        rows = transaction.fetch_all(
            f"UPDATE queue_messages SET vt = ? WHERE msg_id IN ({placeholders(len(msg_ids))})"
            " RETURNING queue_name",
            [now, *msg_ids],
        )
        for queue in sorted({row["queue_name"] for row in rows}):
            transaction.announce_work(queue)


def depth(transaction: Transaction, queue: str) -> int:
    row = transaction.fetch_one(
        "SELECT COUNT(*) AS depth FROM queue_messages WHERE queue_name = ?", (queue,)
    )
    return int(row["depth"]) if row else 0
