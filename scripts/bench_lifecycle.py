"""Benchmark the cluster lifecycle against its physical limits.

For N = 1, 5, 10 instances of a stand-in service that takes a known time to become healthy:
`start` (wait until all healthy), `status`, `stop` of instances that honour SIGTERM, and `stop`
of instances that ignore it (killed after the grace period). Each figure is the median of
several runs, shown beside its limit as a ratio:

- start: one instance's own startup (the median start of N=1; the configured delay is its floor)
- stop of SIGTERM-ignoring instances: the grace period (`stop --timeout`)
- stop of SIGTERM-honouring instances and status: the same operation on one instance

Run: .venv/bin/python scripts/bench_lifecycle.py [--repeats 3] [--delay 1.0] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tasker_cluster.cli.printer import table
from tasker_cluster.cluster.facade import Cluster
from tasker_cluster.config.loader import PROJECT_ROOT, load_settings
from tasker_cluster.testing.free_ports import free_port_range

FAKE_SERVICE = PROJECT_ROOT / "tests" / "fakes" / "fake_service.py"
SIZES = (1, 5, 10)


def make_cluster(directory: Path, count: int, *arguments: str) -> Cluster:
    command = shlex.join(["{python}", str(FAKE_SERVICE), *arguments])
    overrides = {
        "TASKER_CLUSTER_DIR": str(directory),
        "TASKER_ORCHESTRATION_INSTANCES": str(count),
        "TASKER_ORCHESTRATION_BASE_PORT": str(free_port_range(count)),
        "TASKER_ORCHESTRATION_COMMAND": command,
        "TASKER_WORKER_PYTHON_INSTANCES": "0",
    }
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TASKER_")}
    return Cluster(load_settings(env_files=[], overrides=overrides, environ=environ))


def timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def run_once(count: int, delay: float, grace: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-lifecycle-") as directory:
        honouring = make_cluster(Path(directory) / "term", count, "--delay", str(delay))
        figures = {"start": timed(lambda: honouring.start(timeout=120))}
        figures["status"] = timed(honouring.status)
        figures["stop_term"] = timed(lambda: honouring.stop(timeout=10))
        ignoring = make_cluster(Path(directory) / "ignore", count, "--ignore-term")
        ignoring.start(timeout=120)
        figures["stop_ignore"] = timed(lambda: ignoring.stop(timeout=grace))
    return figures


def measure(repeats: int, delay: float, grace: float) -> dict[int, dict[str, float]]:
    medians: dict[int, dict[str, float]] = {}
    for count in SIZES:
        runs = [run_once(count, delay, grace) for _ in range(repeats)]
        medians[count] = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    return medians


def render(medians: dict[int, dict[str, float]], delay: float, grace: float) -> list[str]:
    one = medians[SIZES[0]]
    rows = [
        [
            str(count),
            f"{m['start']:.2f}",
            f"{m['start'] / one['start']:.2f}x of {one['start']:.2f}",
            f"{m['start'] / delay:.2f}x of {delay:.2f}",
            f"{m['status']:.3f}",
            f"{m['status'] / one['status']:.2f}x",
            f"{m['stop_term']:.3f}",
            f"{m['stop_term'] / one['stop_term']:.2f}x",
            f"{m['stop_ignore']:.2f}",
            f"{m['stop_ignore'] / grace:.2f}x of {grace:.2f}",
        ]
        for count, m in medians.items()
    ]
    headers = (
        "N", "start s", "/ own startup", "/ delay", "status s", "/ N=1",
        "stop(TERM) s", "/ N=1", "stop(ignore) s", "/ grace",
    )  # fmt: skip
    return table(rows, headers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds to become healthy")
    parser.add_argument("--grace", type=float, default=2.0, help="stop --timeout for TERM-ignoring")
    parser.add_argument("--json", type=Path, default=None, help="also write the medians here")
    args = parser.parse_args()
    medians = measure(args.repeats, args.delay, args.grace)
    load = os.getloadavg()[0]
    print(
        f"cluster lifecycle, medians of {args.repeats} runs, stand-in healthy after "
        f"{args.delay:g} s, grace {args.grace:g} s, {os.cpu_count()} cores, load {load:.1f}"
    )
    print("\n".join(render(medians, args.delay, args.grace)))
    if args.json is not None:
        document: dict[str, Any] = {
            "delay_s": args.delay,
            "grace_s": args.grace,
            "repeats": args.repeats,
            "load_average": load,
            "medians_s": {str(count): figures for count, figures in medians.items()},
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
