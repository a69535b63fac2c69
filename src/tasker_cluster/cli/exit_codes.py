"""The exit codes of every command, one meaning each (docs/cli.md lists them)."""

from __future__ import annotations

from tasker_cluster.cluster.errors import InstanceNotConfiguredError, UnknownInstanceError
from tasker_cluster.config.errors import ConfigError, EnvFileNotFoundError, UnknownServiceError
from tasker_cluster.errors import ClusterError

OK = 0
FAILED = 1  # the command ran and did not reach its goal: a crash, a timeout, a broken invariant
USAGE = 2  # a bad flag or configuration value: nothing was done
NOT_HEALTHY = 3  # `status --check` / `check --running`: not every instance is healthy
INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)

USAGE_ERRORS: tuple[type[ClusterError], ...] = (
    ConfigError,
    EnvFileNotFoundError,
    UnknownServiceError,
    UnknownInstanceError,
    InstanceNotConfiguredError,
)


def code_for(error: ClusterError) -> int:
    """USAGE for errors in what was asked, FAILED for everything that went wrong doing it."""
    return USAGE if isinstance(error, USAGE_ERRORS) else FAILED
