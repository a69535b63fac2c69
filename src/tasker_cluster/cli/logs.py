"""`cluster.logs`: the last lines of every selected instance's log, merged; `--follow`."""

from __future__ import annotations

import sys
from typing import IO

from tasker_cluster.cli import printer
from tasker_cluster.cli.session import EnvFiles, open_cluster, repeat_until_interrupted, write_lines
from tasker_cluster.logs import FOLLOW_INTERVAL


def run_logs(
    env_file: EnvFiles,
    service: str | None,
    instance: str | None,
    follow: bool,
    lines: int,
    *,
    out: IO[str] | None = None,
) -> None:
    out = out or sys.stdout
    cluster = open_cluster(env_file)
    colour = printer.wants_colour(out)
    if not follow:
        found = cluster.tail_logs(service, instance, lines)
        formatter = printer.LogFormatter(colour, [line.instance_id for line in found])
        empty = [f"no logs in {cluster.settings.logs_dir}"]
        write_lines(out, formatter.format(found) if found else empty)
        return
    follower = cluster.follow_logs(service, instance, lines)
    formatter = printer.LogFormatter(colour, follower.instance_ids)
    write_lines(out, formatter.format(follower.initial))

    def print_new_lines() -> None:
        if fresh := follower.poll():
            write_lines(out, formatter.format(fresh))

    repeat_until_interrupted(print_new_lines, FOLLOW_INTERVAL)
