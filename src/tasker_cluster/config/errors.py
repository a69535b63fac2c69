"""Errors of configuration: each carries its facts and builds its own message."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tasker_cluster.config.problems import ConfigProblem
from tasker_cluster.errors import ClusterError


class ConfigError(ClusterError):
    """The merged configuration has one or more invalid values; nothing was started."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        header = "invalid cluster configuration" + (f" ({count} problems)" if count > 1 else "")
        lines = "\n".join(f"  {problem.describe()}" for problem in self.problems)
        super().__init__(f"{header}:\n{lines}")


class EnvFileNotFoundError(ClusterError):
    """An env file that was asked for does not exist."""

    def __init__(
        self, path: Path, searched: Sequence[Path], *, included_by: Path | None = None
    ) -> None:
        self.path = path
        self.searched = tuple(searched)
        self.included_by = included_by
        places = ", ".join(str(place) for place in self.searched)
        via = f", included by {included_by} (TASKER_ENV_INCLUDE)" if included_by else ""
        super().__init__(f"env file {str(path)!r} not found (looked in {places}){via}")


class UnknownServiceError(ClusterError):
    """A service type name that the configuration does not define."""

    def __init__(self, service: str, known: Sequence[str]) -> None:
        self.service = service
        self.known = tuple(known)
        super().__init__(
            f"unknown service type {service!r}; known types: {', '.join(self.known) or 'none'} "
            "(a type exists when TASKER_<TYPE>_INSTANCES, _BASE_PORT or _COMMAND is configured)"
        )
