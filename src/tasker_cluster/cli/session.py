"""What every command shares: one session (logging, errors as exit codes), the cluster it
acts on, output helpers.

It imports no front end and nothing heavy: `command_session` turns library errors into
`CommandExit`, which the invoke tasks (`cli_session`) and `tasker-cluster` (`cli.main`) each
turn into their own exit; the cluster and its settings load when a command opens them.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from tasker_cluster.cli import exit_codes
from tasker_cluster.cli.exit_codes import CommandExit
from tasker_cluster.cli.hints import explain
from tasker_cluster.cluster.errors import InstanceNotConfiguredError, UnknownInstanceError
from tasker_cluster.config.errors import ConfigError, EnvFileNotFoundError, UnknownServiceError
from tasker_cluster.config.problems import ConfigProblem
from tasker_cluster.errors import ClusterError

if TYPE_CHECKING:
    from tasker_cluster.cluster.facade import Cluster

WATCH_INTERVAL = 2.0
CLEAR_SCREEN = "\x1b[H\x1b[2J"


USAGE_ERRORS: tuple[type[ClusterError], ...] = (
    ConfigError,
    EnvFileNotFoundError,
    UnknownServiceError,
    UnknownInstanceError,
    InstanceNotConfiguredError,
)


def code_for(error: ClusterError) -> int:
    """USAGE for errors in what was asked, FAILED for everything that went wrong doing it."""
    return exit_codes.USAGE if isinstance(error, USAGE_ERRORS) else exit_codes.FAILED


def write_lines(out: IO[str], lines: Iterable[str]) -> None:
    out.writelines(f"{line}\n" for line in lines)
    out.flush()


@contextlib.contextmanager
def command_session() -> Iterator[None]:
    """Log warnings to stderr; turn library errors into `CommandExit` with their message."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        yield
    except ClusterError as error:
        raise CommandExit(explain(error), code_for(error)) from None


@contextlib.contextmanager
def cli_session() -> Iterator[None]:
    """`command_session` for the invoke tasks: every `CommandExit` becomes `invoke.Exit`."""
    from invoke.exceptions import Exit  # noqa: PLC0415 - loaded already when a task runs

    try:
        with command_session():
            yield
    except CommandExit as end:
        raise Exit(end.message, code=end.code) from None


@contextlib.contextmanager
def interrupt_undoes(command: str) -> Iterator[None]:
    """Ctrl-C during a start or restart: the library stopped what it spawned; say so."""
    try:
        yield
    except KeyboardInterrupt:
        raise CommandExit(
            f"interrupted: stopped every instance this {command} had spawned",
            exit_codes.INTERRUPTED,
        ) from None


def repeat_until_interrupted(step: Callable[[], None], interval: float) -> None:
    """Run `step` every `interval` seconds until Ctrl-C."""
    try:
        while True:
            step()
            time.sleep(interval)
    except KeyboardInterrupt:
        return


EnvFiles = str | Sequence[str] | None


def env_file_paths(env_files: EnvFiles) -> list[Path] | None:
    """`--env-file` values (repeated, or comma-separated) as paths; None: the default profile."""
    given = [env_files] if isinstance(env_files, str) else list(env_files or [])
    paths = [Path(part.strip()) for item in given for part in item.split(",") if part.strip()]
    return paths or None


def open_cluster(env_files: EnvFiles) -> Cluster:
    """The cluster the settings of `env_files` describe (the default profile if none)."""
    from tasker_cluster.cluster.facade import Cluster  # noqa: PLC0415 - only when a command runs
    from tasker_cluster.config.loader import load_settings  # noqa: PLC0415

    return Cluster(load_settings(env_file_paths(env_files)))


def batch_size(value: str | bool | None) -> int | None:
    """`--rolling` (1), `--rolling=N` (N) or not given (None); a bad N is a usage error."""
    if value is None or value is False:
        return None
    if value is True or value == "":
        return 1
    text = str(value).strip()
    if not text.isdigit() or int(text) < 1:
        rule, fix = "a batch size must be a whole number of 1 or more", "write it like --rolling=2"
        raise ConfigError([ConfigProblem("--rolling", text, "the --rolling flag", rule, fix)])
    return int(text)


def split_items(text: str) -> list[str]:
    """`a=1,b=2` or `a=1 b=2` as `["a=1", "b=2"]`."""
    return [item for item in re.split(r"[\s,]+", text) if item]
