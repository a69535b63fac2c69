"""The bodies of `stop` and `status` as both front ends run them (`start`'s is
`cli.start.run_start`, which both call directly).

The invoke tasks (`tasks.py`, inside `session.cli_session`) and `tasker-cluster` (`cli.main`,
inside `session.command_session`) call these with the parsed flags, so both take the same
code path and print the same output. Each imports its command module when it runs.
"""

from __future__ import annotations

from tasker_cluster.cli.session import EnvFiles


def stop(env_file: EnvFiles, service: str | None, instance: str | None, timeout: float) -> None:
    from tasker_cluster.cli import stop as stop_cli  # noqa: PLC0415

    stop_cli.run_stop(env_file, service, instance, timeout)


def status(
    env_file: EnvFiles, service: str | None, as_json: bool, check: bool, watch: bool
) -> None:
    from tasker_cluster.cli import status as status_cli  # noqa: PLC0415

    status_cli.run_status(env_file, service, as_json, check, watch)
