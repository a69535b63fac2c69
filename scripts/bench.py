"""`nox -s bench`: the lifecycle and workload benchmarks, tables plus JSON and PNG charts.

Runs, each as its own process: `scripts/bench_peers.py` (start and stop of 1, 5, 10 stand-in
instances under us, honcho, circus and supervisord in the same run, with ratios; the peers are
installed into a venv of their own, `.nox/bench-peers`, when missing), `scripts/bench_lifecycle.py`
(start/status/stop beside their physical limits), `scripts/bench_workflow.py` (the 4-step linear
workflow's latency and one load run's run and verification cost on SQLite and PostgreSQL) and
`scripts/bench_workload.py` (load runs over 1-2 orchestration x 1-4 workers x
SQLite/PostgreSQL), then draws the lifecycle chart. Everything lands in `results/` (git-ignored).

    python scripts/bench.py            # full: a quarter of an hour or more on 2 cores
    python scripts/bench.py --quick    # 1 repeat, 60 tasks per cell: a few minutes
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parent
RESULTS = SCRIPTS.parent / "results"
LIFECYCLE_SCRIPT = SCRIPTS / "bench_lifecycle.py"
PEERS_SCRIPT = SCRIPTS / "bench_peers.py"
WORKFLOW_SCRIPT = SCRIPTS / "bench_workflow.py"
WORKLOAD_SCRIPT = SCRIPTS / "bench_workload.py"
LIFECYCLE_SERIES = {
    "start": "start (until all healthy)",
    "status": "status",
    "stop_term": "stop (SIGTERM honoured)",
    "stop_ignore": "stop (SIGTERM ignored)",
}


def run_script(command: list[str]) -> int:
    print(f"$ {' '.join(command)}", flush=True)
    return subprocess.run(command, check=False).returncode


def lifecycle_chart(source: Path, path: Path) -> None:
    """Grouped bars of the lifecycle medians per instance count, with the limits as lines."""
    import matplotlib  # noqa: PLC0415 - only needed for the chart

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    document: dict[str, Any] = json.loads(source.read_text())
    medians: dict[str, dict[str, float]] = document["medians_s"]
    sizes = sorted(medians, key=int)
    series = [key for key in LIFECYCLE_SERIES if all(key in medians[n] for n in sizes)]
    figure, axes = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / max(1, len(series))
    for offset, key in enumerate(series):
        positions = [i + offset * width for i in range(len(sizes))]
        bars = axes.bar(
            positions, [medians[n][key] for n in sizes], width, label=LIFECYCLE_SERIES[key]
        )
        axes.bar_label(bars, fmt="%.2f", fontsize=7)
    for value, label, style in (
        (document.get("delay_s"), "startup delay (floor of start)", "--"),
        (document.get("grace_s"), "grace period (floor of stop, TERM ignored)", ":"),
    ):
        if isinstance(value, int | float):
            axes.axhline(value, linestyle=style, color="grey", linewidth=1, label=label)
    axes.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(sizes))])
    axes.set_xticklabels([f"{n} instance{'s' if n != '1' else ''}" for n in sizes])
    axes.set_ylabel("seconds (median)")
    axes.set_title(f"cluster lifecycle, {os.cpu_count()} CPUs")
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def use_bytecode_cache(prefix: Path) -> None:
    """Let every process this run starts cache its bytecode (under `prefix`, not in src/).

    With PYTHONDONTWRITEBYTECODE set (as on some CI machines) and sources newer than their
    .pyc, each `invoke` would compile our modules afresh: 0.2 s or more of every CLI figure
    that a user's machine never pays.
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ.setdefault("PYTHONPYCACHEPREFIX", str(prefix))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and tasks")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--skip-lifecycle", action="store_true")
    parser.add_argument("--skip-workflow", action="store_true")
    parser.add_argument("--skip-workload", action="store_true")
    args = parser.parse_args(argv)
    args.results.mkdir(parents=True, exist_ok=True)
    use_bytecode_cache(args.results / ".pycache")
    failures: list[str] = []
    if not args.skip_peers:
        command = [sys.executable, str(PEERS_SCRIPT), "--repeats", "1" if args.quick else "3"]
        command += [
            f"--{kind}={args.results / f'bench-peers.{ext}'}"
            for kind, ext in (("json", "json"), ("chart", "png"), ("markdown", "md"))
        ]
        if run_script(command) != 0:
            failures.append("peers")
    if not args.skip_lifecycle:
        if LIFECYCLE_SCRIPT.is_file():
            lifecycle_json = args.results / "bench-lifecycle.json"
            command = [sys.executable, str(LIFECYCLE_SCRIPT), "--json", str(lifecycle_json)]
            if args.quick:
                command += ["--repeats", "1"]
            if run_script(command) == 0 and lifecycle_json.is_file():
                lifecycle_chart(lifecycle_json, args.results / "bench-lifecycle.png")
            else:
                failures.append("lifecycle")
        else:
            print(f"{LIFECYCLE_SCRIPT} is missing: lifecycle benchmark skipped")
    if not args.skip_workflow:
        command = [sys.executable, str(WORKFLOW_SCRIPT)]
        command += ["--tasks", "15", "--load-tasks", "300"] if args.quick else []
        command += [
            f"--{kind}={args.results / f'bench-workflow.{ext}'}"
            for kind, ext in (("json", "json"), ("chart", "png"), ("markdown", "md"))
        ]
        if run_script(command) != 0:
            failures.append("workflow")
    if not args.skip_workload:
        command = [
            sys.executable,
            str(WORKLOAD_SCRIPT),
            "--json",
            str(args.results / "bench-workload.json"),
            "--charts",
            str(args.results),
        ]
        if args.quick:
            command.append("--quick")
        if run_script(command) != 0:
            failures.append("workload")
    written = sorted(p.name for p in args.results.glob("bench-*.*"))
    print(f"results in {args.results}: {', '.join(written) or 'none'}")
    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
