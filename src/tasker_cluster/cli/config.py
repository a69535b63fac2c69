"""`cluster.config [--json]`: the resolved configuration, where each value came from, secrets
masked; then the plan it gives."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import IO

from tasker_cluster.cli import printer
from tasker_cluster.cli.session import EnvFiles, open_cluster, write_lines
from tasker_cluster.config.describe import describe


def run_config(
    env_file: EnvFiles, as_json: bool, everything: bool, *, out: IO[str] | None = None
) -> None:
    out = out or sys.stdout
    cluster = open_cluster(env_file)
    entries = describe(cluster.settings, everything=everything)
    if as_json:
        write_lines(out, [json.dumps([asdict(entry) for entry in entries], indent=2)])
        return
    rows = [[entry.key, entry.value, entry.origin] for entry in entries]
    plan = cluster.plan()
    write_lines(
        out,
        [
            *printer.table(rows, ("KEY", "VALUE", "FROM"), colour=printer.wants_colour(out)),
            f"plan: {len(plan)} instance(s): {plan.summary() or 'none configured'}",
        ],
    )
