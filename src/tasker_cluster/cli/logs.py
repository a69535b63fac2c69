"""`cluster.logs`: the lines of every selected instance's log merged in time order, picked by
`--since`, `--grep` or `--task`; `--follow` keeps printing (and rotates logs by size)."""

from __future__ import annotations

import json
import re
import sys
import urllib.request
from collections.abc import Sequence
from typing import IO

from tasker_cluster.cli import printer
from tasker_cluster.cli.session import EnvFiles, open_cluster, repeat_until_interrupted, write_lines
from tasker_cluster.cluster.facade import Cluster
from tasker_cluster.config.errors import ConfigError
from tasker_cluster.config.problems import ConfigProblem
from tasker_cluster.logs import FOLLOW_INTERVAL, LineFilter, LogLine, parse_since

TASK_LOOKUP_TIMEOUT = 2.0


def line_filter(
    cluster: Cluster, since: str | None, grep: str | None, task: str | None
) -> LineFilter:
    """The filter the flags ask for; a bad value is a usage error naming the flag."""
    problems = []
    moment = pattern = None
    if since is not None:
        try:
            moment = parse_since(since)
        except ValueError as error:
            fix = "write it like --since 5m or --since 2026-01-31T12:00:00Z"
            problems.append(ConfigProblem("--since", since, "the --since flag", str(error), fix))
    if grep is not None:
        try:
            pattern = re.compile(grep)
        except re.error as error:
            rule = f"it is not a regular expression ({error})"
            fix = "escape special characters with \\"
            problems.append(ConfigProblem("--grep", grep, "the --grep flag", rule, fix))
    if problems:
        raise ConfigError(problems)
    needles = task_needles(cluster, task) if task else ()
    return LineFilter(moment, pattern, needles)


def task_needles(cluster: Cluster, task: str) -> tuple[str, ...]:
    """The task's uuid and, when an orchestration instance can tell, its steps' uuids."""
    for url in (
        r.url for r in cluster.records() if cluster.settings.role_of(r.service) == "orchestration"
    ):
        try:
            with urllib.request.urlopen(
                f"{url}/v1/tasks/{task}", timeout=TASK_LOOKUP_TIMEOUT
            ) as answer:
                body = json.loads(answer.read())
        except (OSError, ValueError):
            continue
        steps = body.get("steps", []) if isinstance(body, dict) else []
        uuids = [
            s.get("workflow_step_uuid") or s.get("step_uuid") for s in steps if isinstance(s, dict)
        ]
        return (task, *(str(u) for u in uuids if u))
    return (task,)


def _render(
    lines: Sequence[LogLine], formatter: printer.LogFormatter, as_json: bool, timestamps: bool
) -> list[str]:
    if as_json:
        return [
            json.dumps(
                {
                    "instance_id": line.instance_id,
                    "time": line.time.isoformat() if line.time else None,
                    "text": line.text,
                }
            )
            for line in lines
        ]
    formatted = formatter.format(lines)
    if not timestamps:
        return formatted
    return [
        f"{line.time.strftime('%H:%M:%S.%f')[:-3] if line.time else ' ' * 12} {text}"
        for line, text in zip(lines, formatted, strict=True)
    ]


def run_logs(  # noqa: PLR0913 - one parameter per flag of cluster.logs
    env_file: EnvFiles,
    service: str | None,
    instance: str | None,
    follow: bool,
    lines: int,
    *,
    since: str | None = None,
    grep: str | None = None,
    task: str | None = None,
    timestamps: bool = False,
    as_json: bool = False,
    out: IO[str] | None = None,
) -> None:
    out = out or sys.stdout
    cluster = open_cluster(env_file)
    picked = line_filter(cluster, since, grep, task)
    colour = printer.wants_colour(out) and not as_json
    if not follow:
        found = cluster.tail_logs(service, instance, lines, picked)
        formatter = printer.LogFormatter(colour, [line.instance_id for line in found])
        empty = [] if as_json else [f"no log lines in {cluster.settings.logs_dir}"]
        write_lines(out, _render(found, formatter, as_json, timestamps) if found else empty)
        return
    cluster.rotate_logs()
    initial = cluster.tail_logs(service, instance, lines, picked)
    follower = cluster.follow_logs(service, instance, 0)
    formatter = printer.LogFormatter(colour, follower.instance_ids)
    write_lines(out, _render(initial, formatter, as_json, timestamps))

    def print_new_lines() -> None:
        cluster.rotate_logs()
        if fresh := picked.apply(follower.poll()):
            write_lines(out, _render(fresh, formatter, as_json, timestamps))

    repeat_until_interrupted(print_new_lines, FOLLOW_INTERVAL)
