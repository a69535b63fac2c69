"""Read typed values from the merged configuration, recording every invalid one."""

from __future__ import annotations

import shlex

from tasker_cluster.config.layers import LayeredConfig
from tasker_cluster.config.problems import ConfigProblem

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


class ConfigReader:
    """Typed access to a `LayeredConfig`; a bad value becomes a `ConfigProblem`, not an error,
    so that all of them can be reported together."""

    def __init__(self, config: LayeredConfig) -> None:
        self.config = config
        self.problems: list[ConfigProblem] = []

    def problem(self, key: str, rule: str, fix: str) -> None:
        self.problems.append(
            ConfigProblem(key, self.config.raw(key), self.config.origin(key), rule, fix)
        )

    def has_problem(self, key: str) -> bool:
        return any(problem.key == key for problem in self.problems)

    def _expanded(self, key: str, text: str) -> str:
        expanded, missing = self.config.expand(key, text)
        for name in missing:
            self.problem(key, f"it refers to ${{{name}}}, which is not set", f"set {name}")
        return expanded

    def text(self, key: str, default: str | None = None) -> str | None:
        raw = self.config.raw(key)
        return default if raw is None else self._expanded(key, raw)

    def integer(self, key: str, low: int, high: int, rule: str, fix: str) -> int | None:
        raw = self.text(key)
        if raw is None:
            return None
        value = raw.strip()
        if not value.isdigit() or not low <= int(value) <= high:
            self.problem(key, rule, fix)
            return None
        return int(value)

    def flag(self, key: str, default: bool) -> bool:
        raw = self.text(key)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value in _TRUE | _FALSE:
            return value in _TRUE
        self.problem(key, "must be true or false", "set it to true or false")
        return default

    def arguments(self, key: str) -> tuple[str, ...]:
        """Split like a shell would (no shell runs it), then resolve `${NAME}` per argument,
        so that a referenced path with spaces stays one argument."""
        raw = self.config.raw(key)
        if raw is None:
            return ()
        try:
            parts = shlex.split(raw)
        except ValueError as error:
            self.problem(key, f"cannot be split into arguments ({error})", "fix its quoting")
            return ()
        return tuple(self._expanded(key, part) for part in parts)
