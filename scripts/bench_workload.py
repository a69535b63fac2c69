"""Workload benchmark: load runs of fan_out tasks on managed clusters.

Every cell of 1 and 2 orchestration instances x 1, 2 and 4 workers x SQLite and PostgreSQL
gets a fresh cluster, a small warm-up run, then `--repeat` measured runs; the table shows
medians and the scaling ratio against the 1x1 cell of the same database. Results go to
`results/bench-workload.json` and one PNG chart per database.

    python scripts/bench_workload.py            # 300 tasks x 3 repeats per cell
    python scripts/bench_workload.py --quick    # 60 tasks x 1 repeat: a few minutes
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast

from rich.console import Console
from rich.table import Table

from tasker_cluster.load.report import LoadReport
from tasker_cluster.load.runner import run_load_async
from tasker_cluster.load.spec import LoadSpec
from tasker_cluster.load.target import target_from_cluster
from tasker_cluster.testing.errors import TaskerTestingError
from tasker_cluster.testing.manager import MultiInstanceTestManager

RESULTS = Path(__file__).resolve().parents[1] / "results"
WARM_UP_TASKS = 10


Database = Literal["sqlite", "postgres"]
DATABASES: tuple[Database, ...] = ("sqlite", "postgres")


@dataclass(frozen=True)
class Cell:
    db: Database
    orchestration: int
    workers: int


@dataclass
class CellResult:
    cell: Cell
    runs: list[dict[str, Any]] = field(default_factory=list)
    skipped: str | None = None

    def median(self, key: str) -> float:
        values = [run[key] for run in self.runs if run[key] is not None]
        return statistics.median(values) if values else 0.0

    @property
    def all_ok(self) -> bool:
        return bool(self.runs) and all(run["ok"] for run in self.runs)


def run_figures(report: LoadReport) -> dict[str, Any]:
    latency = report.latency
    return {
        "tasks_per_s": report.tasks_per_s,
        "steps_per_s": report.steps_per_s,
        "p50_ms": latency.p50_ms if latency else None,
        "p95_ms": latency.p95_ms if latency else None,
        "verify_s": report.verify_cost.seconds,
        "verify_requests": report.verify_cost.requests,
        "follow_requests": report.follow_cost.requests,
        "ok": report.ok,
        "broken": report.broken_invariants,
    }


async def measure(cell: Cell, spec: LoadSpec, repeat: int, console: Console) -> CellResult:
    result = CellResult(cell)
    async with MultiInstanceTestManager() as manager:
        try:
            await manager.setup(
                orchestration=cell.orchestration,
                workers=cell.workers,
                db=cell.db,
            )
        except (TaskerTestingError, OSError) as error:
            result.skipped = str(error)
            console.print(f"[yellow]skipped {cell}: {error}[/yellow]")
            return result
        target = target_from_cluster(manager.faults().lifecycle)
        warm_up = replace(spec, tasks=WARM_UP_TASKS)
        await run_load_async(warm_up, target, write_manifest=False)
        for number in range(repeat):
            report = await run_load_async(replace(spec, seed=number), target, write_manifest=False)
            result.runs.append(run_figures(report))
            console.print(
                f"  {cell.db:<8} {cell.orchestration} orch x {cell.workers} workers "
                f"run {number + 1}/{repeat}: {report.tasks_per_s:.1f} tasks/s"
                + ("" if report.ok else f" [red]BROKEN {report.broken_invariants}[/red]")
            )
    return result


def table_for(db: str, results: list[CellResult]) -> Table:
    rows = [r for r in results if r.cell.db == db]
    base = next((r for r in rows if (r.cell.orchestration, r.cell.workers) == (1, 1)), None)
    base_rate = base.median("tasks_per_s") if base and base.runs else 0.0
    table = Table(title=f"workload: fan_out on {db} (medians, {os.cpu_count()} CPUs)")
    for name in ("orch", "workers", "tasks/s", "steps/s", "p50 ms", "p95 ms", "x 1x1", "verify s"):
        table.add_column(name, justify="right")
    table.add_column("invariants")
    for row in rows:
        if row.skipped:
            table.add_row(str(row.cell.orchestration), str(row.cell.workers), *["-"] * 6, "skipped")
            continue
        rate = row.median("tasks_per_s")
        table.add_row(
            str(row.cell.orchestration),
            str(row.cell.workers),
            f"{rate:.1f}",
            f"{row.median('steps_per_s'):.1f}",
            f"{row.median('p50_ms'):.0f}",
            f"{row.median('p95_ms'):.0f}",
            f"{rate / base_rate:.2f}" if base_rate else "-",
            f"{row.median('verify_s'):.1f}",
            "ok" if row.all_ok else "[red]BROKEN[/red]",
        )
    return table


def chart(db: str, results: list[CellResult], path: Path) -> None:
    import matplotlib  # noqa: PLC0415 - only needed for the chart

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    rows = [r for r in results if r.cell.db == db and r.runs]
    orchestrations = sorted({r.cell.orchestration for r in rows})
    workers = sorted({r.cell.workers for r in rows})
    figure, axes = plt.subplots(figsize=(7, 4))
    width = 0.8 / max(1, len(orchestrations))
    for offset, orchestration in enumerate(orchestrations):
        heights = [
            next(
                (
                    r.median("tasks_per_s")
                    for r in rows
                    if (r.cell.orchestration, r.cell.workers) == (orchestration, w)
                ),
                0.0,
            )
            for w in workers
        ]
        positions = [i + offset * width for i in range(len(workers))]
        bars = axes.bar(positions, heights, width, label=f"{orchestration} orchestration")
        axes.bar_label(bars, fmt="%.0f", fontsize=8)
    axes.set_xticks([i + width * (len(orchestrations) - 1) / 2 for i in range(len(workers))])
    axes.set_xticklabels([f"{w} worker{'s' if w > 1 else ''}" for w in workers])
    axes.set_ylabel("tasks/s (median)")
    axes.set_title(f"fan_out throughput on {db}, {os.cpu_count()} CPUs")
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--width", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="60 tasks, 1 repeat")
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--orchestration", default="1,2")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--json", type=Path, default=RESULTS / "bench-workload.json")
    parser.add_argument("--charts", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.tasks, args.repeat = 60, 1
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=110)
    spec = LoadSpec(tasks=args.tasks, width=args.width, concurrency=args.concurrency, timeout=600)
    databases = args.db.split(",")
    unknown = [db for db in databases if db not in DATABASES]
    if unknown:
        console.print(f"[red]--db: unknown {', '.join(unknown)}; use sqlite and/or postgres[/red]")
        return 2
    cells = [
        Cell(cast(Database, db), int(orchestration), int(workers))
        for db in databases
        for orchestration in args.orchestration.split(",")
        for workers in args.workers.split(",")
    ]
    console.print(f"workload benchmark: {len(cells)} cells, {spec.tasks} tasks x {args.repeat}")
    results = [asyncio.run(measure(cell, spec, args.repeat, console)) for cell in cells]
    for db in dict.fromkeys(cell.db for cell in cells):
        console.print(table_for(db, results))
        if any(r.runs for r in results if r.cell.db == db):
            chart(db, results, args.charts / f"bench-workload-{db}.png")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "command": " ".join([Path(sys.argv[0]).name, *argv]),
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
                "spec": spec.to_dict(),
                "repeat": args.repeat,
                "cells": [
                    {**asdict(r.cell), "runs": r.runs, "skipped": r.skipped} for r in results
                ],
            },
            indent=2,
        )
        + "\n"
    )
    console.print(f"results: {args.json} and {args.charts}/bench-workload-*.png")
    return 0 if all(r.all_ok or r.skipped for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
