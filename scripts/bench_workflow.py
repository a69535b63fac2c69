"""The 4-step linear workflow's latency and one load run's cost, on SQLite and PostgreSQL.

For each database, on a fresh managed cluster of 2 orchestration x 2 Python workers:

- latency: `--tasks` tasks of the 4-step linear template (found at run time in the
  orchestration's `GET /v1/templates`: a template of 4 steps whose name contains
  `mathematical_sequence`, e.g. `linear_workflow/mathematical_sequence` or tasker-core's
  `linear_workflow_py/mathematical_sequence_py`), one at a time after a warm-up; per task the
  server's time (`completed_at - created_at`) and the client's (POST sent until a `GET` every
  5 ms sees it complete); p50, p95 and minimum in ms;
- load: `load.run --tasks=N` of fan_out width 10 (`--load-tasks`): run time, verification
  time, the verification's and the following's HTTP requests, and whether every invariant held.

    python scripts/bench_workflow.py [--tasks 40] [--load-tasks 2000] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from tasker_cluster.cli.printer import table
from tasker_cluster.client.client import OrchestrationCluster
from tasker_cluster.client.service_info import Template
from tasker_cluster.client.task_request import TaskRequest
from tasker_cluster.load.runner import run_load_async
from tasker_cluster.load.spec import LoadSpec
from tasker_cluster.load.stats import percentile
from tasker_cluster.load.target import target_from_cluster
from tasker_cluster.testing.errors import TaskerTestingError
from tasker_cluster.testing.manager import MultiInstanceTestManager

RESULTS = Path(__file__).resolve().parents[1] / "results"
DATABASES = ("sqlite", "postgres")
TEMPLATE_HINT = "mathematical_sequence"
STEPS = 4
WARM_UP = 3
POLL = 0.005
TASK_TIMEOUT = 30.0


def linear_template(templates: tuple[Template, ...]) -> Template:
    matches = [t for t in templates if TEMPLATE_HINT in t.name and len(t.steps) == STEPS]
    if not matches:
        names = ", ".join(f"{t.namespace}/{t.name}" for t in templates)
        raise LookupError(f"no {STEPS}-step *{TEMPLATE_HINT}* template among: {names}")
    return sorted(matches, key=lambda t: (t.namespace, t.name))[0]


async def one_task(
    cluster: OrchestrationCluster, template: Template, number: int
) -> tuple[float, float]:
    """(server ms, client ms) of one task, run alone."""
    body = TaskRequest(
        name=template.name,
        namespace=template.namespace,
        version=template.version,
        context={"even_number": 2 * (number % 1000 + 1)},
        initiator="bench_workflow",
        source_system="bench",
        reason="latency",
        tags=("bench",),
    )
    began = time.perf_counter()
    created = await cluster.create_task(body)
    deadline = began + TASK_TIMEOUT
    while True:
        task = await cluster.get_task(created.task_uuid)
        if task.is_terminal:
            client_ms = (time.perf_counter() - began) * 1000
            break
        if time.perf_counter() > deadline:
            raise TimeoutError(f"task {created.task_uuid} not finished in {TASK_TIMEOUT:g} s")
        await asyncio.sleep(POLL)
    if task.status != "complete":
        raise RuntimeError(f"task {created.task_uuid} ended {task.status}")
    if task.created_at is None or task.completed_at is None:
        return client_ms, client_ms
    server_ms = (task.completed_at - task.created_at).total_seconds() * 1000
    return server_ms, client_ms


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": percentile(values, 0.50),
        "p95_ms": percentile(values, 0.95),
        "min_ms": min(values),
        "max_ms": max(values),
        "mean_ms": statistics.fmean(values),
    }


async def measure(db: str, tasks: int, load_tasks: int) -> dict[str, Any]:
    result: dict[str, Any] = {"db": db, "orchestration": 2, "workers": 2}
    async with MultiInstanceTestManager() as manager:
        try:
            await manager.setup(orchestration=2, workers=2, db=db)  # type: ignore[arg-type]
        except (TaskerTestingError, OSError) as error:
            result["skipped"] = str(error)
            return result
        cluster = manager.cluster
        template = linear_template(await cluster.templates())
        result["template"] = f"{template.namespace}/{template.name}/{template.version}"
        for number in range(WARM_UP):
            await one_task(cluster, template, number)
        server, client = [], []
        for number in range(tasks):
            server_ms, client_ms = await one_task(cluster, template, number)
            server.append(server_ms)
            client.append(client_ms)
        result["latency"] = {"tasks": tasks, "server": summary(server), "client": summary(client)}
        print(
            f"  {db}: {result['template']} p50 {result['latency']['server']['p50_ms']:.0f} ms"
            f" (client {result['latency']['client']['p50_ms']:.0f} ms)",
            flush=True,
        )
        if load_tasks > 0:
            target = target_from_cluster(manager.faults().lifecycle)
            spec = LoadSpec(tasks=load_tasks, width=10, concurrency=50, timeout=900)
            report = await run_load_async(spec, target, write_manifest=False)
            result["load"] = {
                "tasks": load_tasks,
                "width": 10,
                "run_s": round(report.elapsed_s, 2),
                "tasks_per_s": report.tasks_per_s,
                "verify_s": report.verify_cost.seconds,
                "verify_requests": report.verify_cost.requests,
                "follow_requests": report.follow_cost.requests,
                "ok": report.ok,
                "broken": report.broken_invariants,
            }
            print(f"  {db}: load {result['load']}", flush=True)
    return result


def latency_rows(results: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for r in results:
        if "latency" not in r:
            rows.append([r["db"], "2 x 2", "-", "skipped", "", "", "", ""])
            continue
        s, c = r["latency"]["server"], r["latency"]["client"]
        rows.append(
            [
                r["db"],
                "2 x 2",
                r["template"],
                f"{s['p50_ms']:.0f}",
                f"{s['p95_ms']:.0f}",
                f"{s['min_ms']:.0f}",
                f"{s['p50_ms'] / STEPS:.0f}",
                f"{c['p50_ms']:.0f} / {c['p95_ms']:.0f} / {c['min_ms']:.0f}",
            ]
        )
    return rows


LATENCY_HEADERS = (
    "db", "orch x workers", "template", "p50 ms", "p95 ms", "min ms", "p50 per step ms",
    "client p50/p95/min ms",
)  # fmt: skip


def load_rows(results: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for r in results:
        load = r.get("load")
        if not load:
            continue
        rows.append(
            [
                r["db"],
                str(load["tasks"]),
                f"{load['run_s']:.1f}",
                f"{load['tasks_per_s']:.1f}",
                f"{load['verify_s']:.1f}",
                f"{load['verify_s'] / load['run_s']:.2f}" if load["run_s"] else "-",
                str(load["verify_requests"]),
                f"{load['verify_requests'] / load['tasks']:.1f}",
                str(load["follow_requests"]),
                "all held" if load["ok"] else f"BROKEN {load['broken']}",
            ]
        )
    return rows


LOAD_HEADERS = (
    "db", "tasks", "run s", "tasks/s", "verify s", "verify / run", "verify requests",
    "per task", "follow requests", "invariants",
)  # fmt: skip


def markdown(headers: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def chart(results: list[dict[str, Any]], path: Path) -> None:
    try:
        import matplotlib  # noqa: PLC0415 - only needed for the chart
    except ImportError:
        print(f"no chart ({path}): matplotlib is not installed", flush=True)
        return

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    measured = [r for r in results if "latency" in r]
    if not measured:
        return
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    keys = ("p50_ms", "p95_ms", "min_ms")
    width = 0.8 / len(keys)
    for offset, key in enumerate(keys):
        heights = [r["latency"]["server"][key] for r in measured]
        bars = left.bar(
            [i + offset * width for i in range(len(measured))], heights, width, label=key
        )
        left.bar_label(bars, fmt="%.0f", fontsize=8)
    left.set_xticks([i + width for i in range(len(measured))])
    left.set_xticklabels([r["db"] for r in measured])
    left.set_ylabel("ms")
    left.set_title("4-step linear workflow, one at a time, 2 x 2")
    left.legend(fontsize=8)
    loaded = [r for r in measured if "load" in r]
    if loaded:
        positions = range(len(loaded))
        run = [r["load"]["run_s"] for r in loaded]
        verify = [r["load"]["verify_s"] for r in loaded]
        bars = right.bar([p - 0.2 for p in positions], run, 0.4, label="run")
        right.bar_label(bars, fmt="%.1f", fontsize=8)
        bars = right.bar([p + 0.2 for p in positions], verify, 0.4, label="verification")
        right.bar_label(bars, fmt="%.1f", fontsize=8)
        right.set_xticks(list(positions))
        right.set_xticklabels([f"{r['db']} ({r['load']['tasks']} tasks)" for r in loaded])
        right.set_ylabel("seconds")
        right.set_title("load.run fan_out width 10: run and verification")
        right.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=40, help="latency tasks per database")
    parser.add_argument("--load-tasks", type=int, default=2000, help="0: no load run")
    parser.add_argument("--db", default=",".join(DATABASES))
    parser.add_argument("--json", type=Path, default=RESULTS / "bench-workflow.json")
    parser.add_argument("--chart", type=Path, default=RESULTS / "bench-workflow.png")
    parser.add_argument("--markdown", type=Path, default=RESULTS / "bench-workflow.md")
    args = parser.parse_args(argv)
    databases = [db for db in args.db.split(",") if db]
    if set(databases) - set(DATABASES):
        parser.error(f"--db: use {' and/or '.join(DATABASES)}")
    results = [asyncio.run(measure(db, args.tasks, args.load_tasks)) for db in databases]
    load = os.getloadavg()[0]
    title = (
        f"4-step linear workflow, one task at a time, {args.tasks} tasks after {WARM_UP} warm-up "
        f"(server time completed_at - created_at), {os.cpu_count()} cores, load {load:.1f}"
    )
    print(title)
    print("\n".join(table(latency_rows(results), LATENCY_HEADERS)))
    if any("load" in r for r in results):
        print(f"load.run fan_out width 10 on 2 x 2 (load {os.getloadavg()[0]:.1f})")
        print("\n".join(table(load_rows(results), LOAD_HEADERS)))
    for path in (args.json, args.chart, args.markdown):
        path.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "command": " ".join(["bench_workflow.py", *argv]),
                "cpus": os.cpu_count(),
                "load_average": load,
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    args.markdown.write_text(
        "\n".join(
            [
                title,
                "",
                *markdown(LATENCY_HEADERS, latency_rows(results)),
                "",
                *markdown(LOAD_HEADERS, load_rows(results)),
            ]
        )
        + "\n"
    )
    chart(results, args.chart)
    broken = [r["db"] for r in results if "load" in r and not r["load"]["ok"]]
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
