"""The worker's records of claims: requests, claimed steps and claim batches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ClaimedStep:
    msg_id: int
    task_uuid: str
    step_uuid: str
    step_name: str
    handler: str
    attempt: int
    max_attempts: int
    claim_token: str
    redelivered: bool
    dependencies: tuple[str, ...]
    input_data: dict[str, Any] = field(default_factory=dict)
    dependency_results: dict[str, Any] = field(default_factory=dict)


@dataclass
class ClaimBatch:
    claimed: list[ClaimedStep] = field(default_factory=list)
    conflicts: int = 0
    read: int = 0


@dataclass(frozen=True)
class ClaimRequest:
    worker_id: str
    queues: list[str]
    limit: int
    visibility_timeout: float
    now: float
    guarded: bool = True
    exclude: tuple[int, ...] = ()
