"""Task leases: an orchestration instance owns the tasks it claimed until it lets go or dies.

A task needs work when `work_after <= now`. An instance claims such a task if nobody holds
it, it already holds it, or the holder's lease (`claim_expires_at`) has run out. The owner
renews its leases while it runs; a killed owner's leases expire and another instance
takes its tasks over.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..store.database import Dialect, Transaction
from ..store.queue import TASKS_DUE

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    task_uuid: str
    previous_owner: str | None


def claim_due_tasks(  # noqa: PLR0913 - the claim's query parameters
    transaction: Transaction,
    dialect: Dialect,
    *,
    owner: str,
    now: float,
    lease_seconds: float,
    limit: int,
    honour_leases: bool = True,
    expire_leases: bool = True,
) -> list[Claim]:
    """Claim up to `limit` tasks that need work; rows other instances are claiming are skipped."""
    conditions = ["work_after IS NOT NULL", "work_after <= ?"]
    params: list[object] = [now]
    if honour_leases:
        claimable = ["claimed_by IS NULL", "claimed_by = ?"]
        params.append(owner)
        if expire_leases:
            claimable.append("claim_expires_at <= ?")
            params.append(now)
        conditions.append(f"({' OR '.join(claimable)})")
    lock = dialect.skip_locked if honour_leases else ""
    rows = transaction.fetch_all(
        f"SELECT task_uuid, claimed_by FROM tasks WHERE {' AND '.join(conditions)}"
        f" ORDER BY priority DESC, work_after LIMIT ?{lock}",
        [*params, limit],
    )
    if not rows:
        return []
    uuids = [row["task_uuid"] for row in rows]
    transaction.execute(
        "UPDATE tasks SET claimed_by = ?, claim_expires_at = ?"
        f" WHERE task_uuid IN ({', '.join('?' * len(uuids))})",
        [owner, now + lease_seconds, *uuids],
    )
    claims = [Claim(row["task_uuid"], row["claimed_by"]) for row in rows]
    for claim in claims:
        if claim.previous_owner not in (None, owner):
            logger.info(
                "took over task %s from %s (lease expired)", claim.task_uuid, claim.previous_owner
            )
    return claims


def renew_leases(
    transaction: Transaction, dialect: Dialect, owner: str, now: float, lease_seconds: float
) -> int:
    """Extend every lease `owner` holds; rows are locked in key order, as everywhere else."""
    return transaction.execute(
        "UPDATE tasks SET claim_expires_at = ? WHERE task_uuid IN ("
        f"SELECT task_uuid FROM tasks WHERE claimed_by = ? ORDER BY task_uuid{dialect.lock_row})",
        (now + lease_seconds, owner),
    )


def release_leases(transaction: Transaction, dialect: Dialect, owner: str) -> int:
    """Give every owned task back so that another instance can claim it at once (and wake the
    others for the ones that are due)."""
    released = transaction.execute(
        "UPDATE tasks SET claimed_by = NULL, claim_expires_at = NULL WHERE task_uuid IN ("
        f"SELECT task_uuid FROM tasks WHERE claimed_by = ? ORDER BY task_uuid{dialect.lock_row})",
        (owner,),
    )
    if released:
        transaction.announce_work(TASKS_DUE)
    return released
