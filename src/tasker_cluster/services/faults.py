"""Fault injection: each fault switches off one guarantee so a test can prove it notices."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .errors import InvalidEnvironmentError


class Fault(enum.StrEnum):
    NO_CLAIM_GUARD = "no_claim_guard"
    NO_FINALIZE_GUARD = "no_finalize_guard"
    NO_RESULT_DEDUP = "no_result_dedup"
    DUPLICATE_RESULTS = "duplicate_results"
    WEAK_TASK_UUID = "weak_task_uuid"
    STALE_READS = "stale_reads"
    NO_REDELIVERY = "no_redelivery"
    NO_LEASE_EXPIRY = "no_lease_expiry"
    EXIT_AFTER_CREATE = "exit_after_create"


# How long a faulty path pauses between its read and its write, widening the race window
# so that a concurrent instance reliably interleaves.
RACE_WINDOW_SECONDS = 0.15
STALE_READ_SECONDS = 5.0


@dataclass(frozen=True)
class Faults:
    enabled: frozenset[Fault] = frozenset()

    def __contains__(self, fault: object) -> bool:
        return fault in self.enabled

    def __bool__(self) -> bool:
        return bool(self.enabled)

    @classmethod
    def parse(cls, text: str, variable: str = "TASKER_FAULTS") -> Faults:
        names = [name.strip() for name in text.split(",") if name.strip()]
        known = {fault.value: fault for fault in Fault}
        for name in names:
            if name not in known:
                raise InvalidEnvironmentError(
                    variable, text, f"names unknown fault {name!r}; known: {', '.join(known)}"
                )
        return cls(frozenset(known[name] for name in names))

    def describe(self) -> str:
        return ",".join(sorted(fault.value for fault in self.enabled)) or "none"
