"""`ConfigProblem`: one invalid value, kept as data so that all of them are reported at once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigProblem:
    """One invalid configuration value: which key, its value and origin, the rule and the fix."""

    key: str
    value: str | None
    origin: str | None
    rule: str
    fix: str

    def describe(self) -> str:
        if self.value is None:
            return f"{self.key} is not set: {self.rule}; {self.fix}"
        return f"{self.key}={self.value!r} (from {self.origin}): {self.rule}; {self.fix}"
