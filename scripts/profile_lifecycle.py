"""Where `cluster.start` and `cluster.stop` spend their time: CLI, imports, and each phase.

1. The CLI with nothing running (medians of `--repeats` subprocess runs): the interpreter alone,
   `import invoke`, `import tasks` (our CLI's imports), `invoke cluster.stop` and
   `invoke cluster.status`, and the same two through `tasker-cluster` (no invoke); then the
   top imports of `python -X importtime -m invoke cluster.stop`, by cumulative time.
2. A library start of N instances of `scripts/stand_in.py` (healthy after 0.5 s), its phases
   timed by wrapping the functions `tasker_cluster.cluster.start` calls: stale records,
   port preflight, prepare, launch (Popen), the launches' records (create time), record
   writes, the health wait (first and last healthy from the progress events).
3. A library stop of the same instances, phases timed the same way in
   `tasker_cluster.process.stop`: process-tree collection, waiting for exit, reaping.
4. The floor of a start (`--floor`): the time until all N stand-ins answer healthy, seen by
   this harness as `scripts/bench_peers.py` sees it, for a bare spawner (`Popen` of each
   stand-in, nothing else), the same bare spawner after importing what `tasker-cluster start`
   imports before its first spawn, and `tasker-cluster start` itself; interleaved, medians of
   `--repeats`, with honcho beside them when `nox -s bench` has installed it. The
   differences are what our imports and the rest of our start cost.

Nothing in `src/` is changed: the wrappers live in this process only.

    python scripts/profile_lifecycle.py [--instances 10] [--repeats 5] [--floor] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STAND_IN = ROOT / "scripts" / "stand_in.py"
RESULTS = ROOT / "results"


def clean_env(cluster_dir: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TASKER_")}
    environ["TASKER_CLUSTER_DIR"] = str(cluster_dir)
    return environ


def wall(argv: list[str], env: dict[str, str], repeats: int) -> dict[str, float]:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - began)
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def cli_figures(repeats: int) -> dict[str, Any]:
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="profile-cli-") as directory:
        env = clean_env(Path(directory))
        commands = {
            "python -c pass": [py, "-c", "pass"],
            "import invoke": [py, "-c", "import invoke"],
            "import invoke.program (what -m invoke loads)": [py, "-c", "import invoke.program"],
            "import tasks (our CLI)": [py, "-c", "import tasks"],
            "invoke cluster.stop (nothing running)": [py, "-m", "invoke", "cluster.stop"],
            "invoke cluster.status (nothing running)": [py, "-m", "invoke", "cluster.status"],
            "tasker-cluster stop (nothing running)": [py, "-m", "tasker_cluster.cli", "stop"],
            "tasker-cluster status (nothing running)": [py, "-m", "tasker_cluster.cli", "status"],
            "invoke --list": [py, "-m", "invoke", "--list"],
        }
        walls = {name: wall(argv, env, repeats) for name, argv in commands.items()}
        traced = subprocess.run(
            [py, "-X", "importtime", "-m", "invoke", "cluster.stop"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        ).stderr
    return {"wall_s": walls, "imports": parse_importtime(traced)}


def parse_importtime(text: str) -> dict[str, Any]:
    """Top-level packages by cumulative µs, and our modules' own time."""
    top: dict[str, int] = defaultdict(int)
    ours_self = 0
    modules: list[tuple[str, int, int]] = []
    for line in text.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line.removeprefix("import time:").split("|", 2)
        depth = (len(name) - len(name.lstrip())) // 2
        module = name.strip()
        modules.append((module, int(self_us), int(cumulative_us)))
        if module.startswith("tasker_cluster") or module == "tasks":
            ours_self += int(self_us)
        if depth <= 1:
            top[module.split(".")[0]] += int(cumulative_us)
    biggest = sorted(modules, key=lambda m: -m[1])[:15]
    return {
        "top_level_cumulative_ms": {
            k: round(v / 1000, 1) for k, v in sorted(top.items(), key=lambda kv: -kv[1])[:15]
        },
        "ours_self_ms": round(ours_self / 1000, 1),
        "largest_self_ms": {name: round(s / 1000, 1) for name, s, _ in biggest},
        "modules": len(modules),
    }


class Timers:
    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, module: ModuleType, name: str, label: str) -> Callable[[], None]:
        original: Callable[..., Any] = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.totals[label] += time.perf_counter() - began
                self.calls[label] += 1

        setattr(module, name, timed)
        return lambda: setattr(module, name, original)

    @contextmanager
    def patched(self, targets: list[tuple[ModuleType, str, str]]) -> Iterator[None]:
        undo = [self.wrap(module, name, label) for module, name, label in targets]
        try:
            yield
        finally:
            for restore in reversed(undo):
                restore()


def phase_figures(count: int) -> dict[str, Any]:
    began = time.perf_counter()
    from tasker_cluster.cluster import facade, start  # noqa: PLC0415
    from tasker_cluster.config.loader import load_settings  # noqa: PLC0415
    from tasker_cluster.health.readiness import ProgressEvent  # noqa: PLC0415
    from tasker_cluster.process import stop  # noqa: PLC0415
    from tasker_cluster.testing.free_ports import free_port_range  # noqa: PLC0415

    imports_s = time.perf_counter() - began
    result: dict[str, Any] = {"instances": count, "library_imports_s": round(imports_s, 3)}
    with tempfile.TemporaryDirectory(prefix="profile-phases-") as directory:
        command = shlex.join(["python3", str(STAND_IN), "--delay", "0.5"])
        overrides = {
            "TASKER_CLUSTER_DIR": directory,
            "TASKER_ORCHESTRATION_INSTANCES": str(count),
            "TASKER_ORCHESTRATION_BASE_PORT": str(free_port_range(count)),
            "TASKER_ORCHESTRATION_COMMAND": command,
            "TASKER_WORKER_PYTHON_INSTANCES": "0",
        }
        environ = {k: v for k, v in os.environ.items() if not k.startswith("TASKER_")}
        began = time.perf_counter()
        settings = load_settings(env_files=None, overrides=overrides, environ=environ)
        cluster = facade.Cluster(settings)
        plan = cluster.plan({"orchestration": count})
        result["settings_and_plan_s"] = round(time.perf_counter() - began, 4)
        events: list[tuple[str, float]] = []

        def on_progress(event: ProgressEvent) -> None:
            events.append((event.state, event.elapsed_seconds))

        timers = Timers()
        with timers.patched(
            [
                (start, "clean_stale_records", "stale records"),
                (start, "port_conflicts", "port preflight"),
                (start, "_prepare", "prepare"),
                (start, "launch", "launch (Popen)"),
                (start, "launched", "record of a launch (psutil create_time)"),
                (start, "write_record", "record writes"),
                (start, "_wait_ready", "health wait"),
            ]
        ):
            began = time.perf_counter()
            cluster.start(plan, timeout=60, on_progress=on_progress)
            total = time.perf_counter() - began
        healthy = [elapsed for state, elapsed in events if state == "healthy"]
        spawned = [elapsed for state, elapsed in events if state == "spawned"]
        result["start"] = {
            "total_s": round(total, 4),
            "phases_s": {k: round(v, 4) for k, v in timers.totals.items()},
            "calls": dict(timers.calls),
            "last_spawned_at_s": round(max(spawned, default=0.0), 4),
            "first_healthy_at_s": round(min(healthy, default=0.0), 4),
            "last_healthy_at_s": round(max(healthy, default=0.0), 4),
        }
        result["start"]["other_s"] = round(total - sum(timers.totals.values()), 4)
        timers = Timers()
        with timers.patched(
            [
                (stop, "collect_trees", "collect process trees"),
                (stop, "wait_gone", "wait for exit (TERM sent in the first poll)"),
                (stop, "reap_if_child", "reap"),
            ]
        ):
            began = time.perf_counter()
            cluster.stop(timeout=2)
            total = time.perf_counter() - began
        result["stop"] = {
            "total_s": round(total, 4),
            "phases_s": {k: round(v, 4) for k, v in timers.totals.items()},
            "calls": dict(timers.calls),
            "other_s": round(total - sum(timers.totals.values()), 4),
        }
    return result


OUR_FIRST_IMPORTS = "import tasker_cluster.cli.main, tasker_cluster.cli.start"


def floor_figures(count: int, repeats: int) -> dict[str, Any]:
    """Start until all healthy: a bare spawner, the same after our imports, and ours."""
    import bench_peers  # noqa: PLC0415 - the peers benchmark's harness, beside this script

    from tasker_cluster.testing.free_ports import free_port_range  # noqa: PLC0415

    variants = {
        "bare spawner": [sys.executable, "-c", bench_peers.BARE_SPAWNER.format(imports="")],
        "bare spawner after our imports": [
            sys.executable,
            "-c",
            bench_peers.BARE_SPAWNER.format(imports=OUR_FIRST_IMPORTS),
        ],
        "tasker-cluster start": [sys.executable, "-m", "tasker_cluster.cli", "start"],
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    peers_bin = bench_peers.PEERS_VENV / "bin"
    if (peers_bin / "honcho").is_file():  # installed by `nox -s bench`
        samples["honcho"] = []
    for _ in range(repeats):
        if "honcho" in samples:
            cycle = bench_peers.run_cycle("honcho", count, bench_peers.TERM, 5.0, peers_bin)
            if cycle.start is not None:
                samples["honcho"].append(cycle.start)
        for name, argv in variants.items():
            with tempfile.TemporaryDirectory(prefix="profile-floor-") as directory:
                base = free_port_range(count)
                pid_dir = Path(directory) / "pids"
                env = clean_env(Path(directory) / "cluster")
                env.update(
                    {
                        "TASKER_ORCHESTRATION_INSTANCES": str(count),
                        "TASKER_ORCHESTRATION_BASE_PORT": str(base),
                        "TASKER_ORCHESTRATION_COMMAND": shlex.join(
                            ["python3", str(STAND_IN), "--delay", "0.5", "--pid-dir", str(pid_dir)]
                        ),
                        "TASKER_WORKER_PYTHON_INSTANCES": "0",
                    }
                )
                began_wall = time.time()
                began = time.perf_counter()
                tool = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
                try:
                    samples[name].append(
                        bench_peers.wait_healthy(list(range(base, base + count)), began)
                    )
                finally:
                    if argv[-1] == "start":
                        tool.wait()
                        subprocess.run(
                            [*argv[:-1], "stop"],
                            cwd=ROOT,
                            env=env,
                            capture_output=True,
                            check=False,
                        )
                    tool.terminate()
                    tool.wait()
                    bench_peers.kill_all(bench_peers.stand_ins(pid_dir, began_wall))
    medians = {name: round(statistics.median(v), 4) for name, v in samples.items() if v}
    bare, imported, ours = (medians[name] for name in variants)
    return {
        "instances": count,
        "repeats": repeats,
        "median_s": medians,
        "our_imports_s": round(imported - bare, 4),
        "rest_of_our_start_s": round(ours - imported, 4),
        "samples_s": {name: [round(v, 4) for v in values] for name, values in samples.items()},
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, default=RESULTS / "profile-lifecycle.json")
    parser.add_argument("--floor", action="store_true", help="only the floor of a start (4.)")
    args = parser.parse_args(argv)
    document: dict[str, Any] = {"cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
    if args.floor:
        document["floor"] = floor_figures(args.instances, args.repeats)
    else:
        document["cli"] = cli_figures(args.repeats)
        document["phases"] = [phase_figures(args.instances) for _ in range(3)]
    document["load_after"] = os.getloadavg()[0]
    print(json.dumps(document, indent=2))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
