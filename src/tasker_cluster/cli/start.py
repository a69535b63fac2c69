"""`cluster.start`: plan the instances (counts from the profile, `--scale` and the per-type
flags), start them in parallel and wait until all are healthy."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import IO

from tasker_cluster.cli import printer
from tasker_cluster.cli.progress import progress_view
from tasker_cluster.cli.session import EnvFiles, interrupt_undoes, open_cluster, write_lines
from tasker_cluster.cluster.facade import Cluster
from tasker_cluster.cluster.start import StartReport
from tasker_cluster.config.errors import ConfigError
from tasker_cluster.config.problems import ConfigProblem

SCALE_FLAG = "--scale"


def parse_scale(
    scale: Sequence[str],
    flags: Mapping[str, str | None],
    *,
    key: str = SCALE_FLAG,
    origin: str = f"the {SCALE_FLAG} flag",
) -> tuple[dict[str, str], dict[str, str]]:
    """Counts per type from `TYPE=N` items (`--scale`, repeatable) and the per-type shorthand
    flags (`--orchestration=2`), with where each came from; a shorthand flag wins."""
    counts: dict[str, str] = {}
    origins: dict[str, str] = {}
    problems = []
    for item in scale:
        service, equals, count = (part.strip() for part in item.partition("="))
        if not equals or not service:
            fix = f"write it like {key} worker-python=3".replace("TYPE=N ", "")
            problems.append(ConfigProblem(key, item, origin, "it must be TYPE=N", fix))
            continue
        counts[service], origins[service] = count, origin
    if problems:
        raise ConfigError(problems)
    for service, value in flags.items():
        if value is not None:
            counts[service], origins[service] = str(value), f"the --{service} flag"
    return counts, origins


def run_start(
    env_file: EnvFiles,
    flags: Mapping[str, str | None],
    wait: bool,
    timeout: float,
    *,
    scale: Sequence[str] = (),
    out: IO[str] | None = None,
) -> tuple[Cluster, StartReport]:
    """Plan once, say what will start, start it, record the start's manifest; the report
    carries the plan."""
    out = out or sys.stdout
    cluster = open_cluster(env_file)
    counts, origins = parse_scale(scale, flags)
    plan = cluster.plan(counts, origins, others=None)
    write_lines(out, [f"starting {len(plan)} instance(s): {plan.summary() or 'none configured'}"])
    with interrupt_undoes("start"), progress_view(out, len(plan)) as on_progress:
        report = cluster.start(plan, wait=wait, timeout=timeout, on_progress=on_progress)
    write_lines(out, printer.start_lines(report))
    from tasker_cluster.load.cluster_manifest import write_cluster_manifest  # noqa: PLC0415

    write_cluster_manifest(cluster, report)
    return cluster, report
