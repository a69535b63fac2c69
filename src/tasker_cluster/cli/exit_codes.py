"""The exit codes of every command, one meaning each (docs/cli.md lists them)."""

from __future__ import annotations

OK = 0
FAILED = 1  # the command ran and did not reach its goal: a crash, a timeout, a broken invariant
USAGE = 2  # a bad flag or configuration value: nothing was done
NOT_HEALTHY = 3  # `status --check` / `check --running`: not every instance is healthy
INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)


class CommandExit(Exception):
    """End a command with `code`, printing `message` (if any) to stderr.

    The command bodies raise it; each front end turns it into its own way of exiting (the
    invoke tasks into `invoke.Exit`, `tasker-cluster` into its return code), so a command
    body imports no front end.
    """

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
