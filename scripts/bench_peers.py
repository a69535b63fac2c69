"""Our lifecycle beside honcho, circus and supervisord: the same stand-in under each tool.

For N = 1, 5, 10 instances of `scripts/stand_in.py` (healthy 0.5 s after launch, run through
`python3` on PATH, on free 127.0.0.1 ports), per tool and run:

- start until all healthy: from launching the tool (for us `invoke cluster.start` and
  `tasker-cluster start`, each a subprocess) until this harness has seen every instance's
  `GET /health` answer 200; the harness polls every instance the same way (every 5 ms) for
  every tool;
- stop, SIGTERM honoured: for us `invoke cluster.stop --timeout=2` (and `tasker-cluster stop
  --timeout=2`) as a subprocess, CLI start included; for a peer, SIGTERM to the tool's own
  process (honcho and circusd in the foreground, supervisord with nodaemon) until it has
  exited;
- stop, SIGTERM ignored (stand-ins started with --ignore-term): the same, every tool given a
  2 s stop timeout where it has one (circus `graceful_timeout`, supervisor `stopwaitsecs`;
  honcho has none); a tool still running after `--cap` seconds is killed by pid and reported as
  "> cap";
- children of a wrapper left: each instance started as `sh -c 'python3 stand_in.py ...; echo
  done'`, the stand-ins still alive 0.3 s after stop; they are then killed by pid.

Beside the tools, the floor of a start (start only): a bare spawner, a `python -c` that `Popen`s
each stand-in and does nothing else (no configuration, no records, no health wait). No tool
that reads and checks a configuration before it spawns can start faster than it.

Everything each tool is configured with is its default but the commands, ports, file paths and
stop timeouts. Medians over `--repeats` runs, with min-max; ratios to the faster of honcho and
circus. The peers are installed into their own venv (`--peers-venv`) if missing.

    python scripts/bench_peers.py [--repeats 3] [--json PATH] [--chart PATH] [--markdown PATH]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from tasker_cluster.cli.printer import table
from tasker_cluster.testing.free_ports import free_port_range

ROOT = Path(__file__).resolve().parents[1]
STAND_IN = ROOT / "scripts" / "stand_in.py"
RESULTS = ROOT / "results"
PEERS_VENV = ROOT / ".nox" / "bench-peers"
PEER_PACKAGES = ("honcho", "circus", "supervisor")
PEER_EXECUTABLES = ("honcho", "circusd", "supervisord")
TOOLS = ("ours", "ours-lean", "honcho", "circus", "supervisord", "floor")
# our two front ends: the invoke tasks, and `tasker-cluster` (the same commands without invoke's
# start-up; run as `python -m tasker_cluster.cli`, which is what the console script runs)
OURS = {
    "ours": [sys.executable, "-m", "invoke"],
    "ours-lean": [sys.executable, "-m", "tasker_cluster.cli"],
}
BASELINES = ("honcho", "circus")
# The floor: each stand-in started with Popen on its own port, then nothing until SIGTERM. It
# reads the same variables as our start (`ours_env`); `imports` lets a caller add what another
# tool imports before its first spawn (scripts/profile_lifecycle.py).
BARE_SPAWNER = """\
import os, shlex, signal, subprocess, sys
{imports}
argv = shlex.split(os.environ["TASKER_ORCHESTRATION_COMMAND"])
base = int(os.environ["TASKER_ORCHESTRATION_BASE_PORT"])
for number in range(int(os.environ["TASKER_ORCHESTRATION_INSTANCES"])):
    subprocess.Popen(argv, env={{**os.environ, "PORT": str(base + number)}},
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
signal.pause()
"""
FLOOR = "floor"
SIZES = (1, 5, 10)
DELAY = 0.5
STOP_TIMEOUT = 2
POLL = 0.005
SETTLE = 0.3
START_LIMIT = 60.0
METRICS = {
    "start": "start, all healthy",
    "stop_term": "stop, TERM honoured",
    "stop_ignore": f"stop, TERM ignored ({STOP_TIMEOUT} s)",
}


SOURCES = {"start": "term", "stop_term": "term", "stop_ignore": "ignore"}  # metric: scenario


def ensure_peers(venv: Path) -> Path:
    """The bin directory of a venv holding honcho, circus and supervisor (made if missing)."""
    bin_dir = venv / "bin"
    if all((bin_dir / name).is_file() for name in PEER_EXECUTABLES):
        return bin_dir
    print(f"installing {', '.join(PEER_PACKAGES)} into {venv}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [
        str(bin_dir / "python"),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]
    subprocess.run([*pip, *PEER_PACKAGES], check=True)
    return bin_dir


def peer_versions(bin_dir: Path) -> dict[str, str]:
    script = (
        "import importlib.metadata as m; "
        f"print(' '.join(p + '=' + m.version(p) for p in {list(PEER_PACKAGES)!r}))"
    )
    out = subprocess.run(
        [str(bin_dir / "python"), "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return dict(item.split("=", 1) for item in out.split())


@dataclass(frozen=True)
class Scenario:
    name: str
    ignore_term: bool = False
    wrapper: bool = False


TERM = Scenario("term")
IGNORE = Scenario("ignore", ignore_term=True)
WRAPPER = Scenario("wrapper", wrapper=True)


def stand_in_line(scenario: Scenario, pid_dir: Path, port: int | None) -> str:
    """The shell-syntax command of one instance (no --port: it reads PORT, as ours sets it)."""
    argv = ["python3", str(STAND_IN), "--delay", str(DELAY), "--pid-dir", str(pid_dir)]
    if port is not None:
        argv += ["--port", str(port)]
    if scenario.ignore_term:
        argv.append("--ignore-term")
    line = shlex.join(argv)
    return f"sh -c {shlex.quote(line + '; echo done')}" if scenario.wrapper else line


def healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
    try:
        connection.request("GET", "/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def wait_healthy(ports: Sequence[int], began: float, limit: float = START_LIMIT) -> float:
    """Seconds from `began` until every port answered 200 on /health."""
    pending = list(ports)
    while pending:
        pending = [port for port in pending if not healthy(port)]
        if not pending:
            break
        if time.perf_counter() - began > limit:
            raise TimeoutError(f"ports {pending} not healthy after {limit:g} s")
        time.sleep(POLL)
    return time.perf_counter() - began


def stand_ins(pid_dir: Path, since: float) -> list[psutil.Process]:
    """The stand-ins of this cycle still alive (not zombies), by their pid files."""
    alive: list[psutil.Process] = []
    for path in sorted(pid_dir.glob("*.pid")):
        try:
            process = psutil.Process(int(path.read_text()))
            if process.create_time() < since - 1 or process.status() == psutil.STATUS_ZOMBIE:
                continue
            if str(STAND_IN) in " ".join(process.cmdline()):
                alive.append(process)
        except (psutil.Error, ValueError, OSError):
            continue
    return alive


def kill_all(processes: Sequence[psutil.Process]) -> None:
    for process in processes:
        try:
            if process.is_running():
                process.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(list(processes), timeout=3)


@dataclass
class Cycle:
    start: float | None = None
    stop: float | None = None
    capped: bool = False
    left: int | None = None
    cli_start: float | None = None
    status: float | None = None
    error: str | None = None


@dataclass
class Work:
    directory: Path
    ports: list[int]
    scenario: Scenario
    cap: float
    peers_bin: Path
    began_wall: float = field(default_factory=time.time)
    descendants: list[psutil.Process] = field(default_factory=list)

    @property
    def pid_dir(self) -> Path:
        return self.directory / "pids"


def ours_env(work: Work) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TASKER_")}
    environ.update(
        {
            "TASKER_CLUSTER_DIR": str(work.directory / "cluster"),
            "TASKER_ORCHESTRATION_INSTANCES": str(len(work.ports)),
            "TASKER_ORCHESTRATION_BASE_PORT": str(work.ports[0]),
            "TASKER_ORCHESTRATION_COMMAND": stand_in_line(work.scenario, work.pid_dir, None),
            "TASKER_WORKER_PYTHON_INSTANCES": "0",
        }
    )
    return environ


def command(tool: str, name: str, arguments: Sequence[str]) -> list[str]:
    """The argv of our `name` command (start, stop, status) under front end `tool`."""
    return [*OURS[tool], f"cluster.{name}" if tool == "ours" else name, *arguments]


def invoke(arguments: Sequence[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return run_ours("ours", arguments[0].removeprefix("cluster."), arguments[1:], env)


def run_ours(
    tool: str, name: str, arguments: Sequence[str], env: dict[str, str]
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        command(tool, name, arguments),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )


def cycle_ours(tool: str, work: Work, cycle: Cycle, with_status: bool) -> None:
    env = ours_env(work)
    began = time.perf_counter()
    cli = subprocess.Popen(
        command(tool, "start", [f"--timeout={START_LIMIT:g}"]),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        cycle.start = wait_healthy(work.ports, began)
        _, stderr = cli.communicate(timeout=START_LIMIT)
        cycle.cli_start = time.perf_counter() - began
        if cli.returncode != 0:
            raise RuntimeError(f"{tool} start exited {cli.returncode}: {stderr.decode()[-400:]}")
        if with_status:
            began = time.perf_counter()
            run_ours(tool, "status", [], env)
            cycle.status = time.perf_counter() - began
        began = time.perf_counter()
        stopped = run_ours(tool, "stop", [f"--timeout={STOP_TIMEOUT}"], env)
        cycle.stop = time.perf_counter() - began
        if stopped.returncode != 0:
            cycle.error = f"{tool} stop exited {stopped.returncode}"
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
        if cycle.stop is None:  # a failed start: stop what it left, by the records
            invoke(["cluster.stop", "--timeout=1"], env)


def cycle_floor(work: Work, cycle: Cycle) -> None:
    """Start only: the bare spawner until all are healthy; its stand-ins go by their pid files."""
    began = time.perf_counter()
    spawner = subprocess.Popen(
        [sys.executable, "-c", BARE_SPAWNER.format(imports="")],
        cwd=ROOT,
        env=ours_env(work),
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        cycle.start = wait_healthy(work.ports, began)
    finally:
        spawner.kill()
        spawner.wait()


def peer_argv(tool: str, work: Work) -> list[str]:
    """Write the tool's configuration for this cycle; the command that runs it in the foreground."""
    lines = [stand_in_line(work.scenario, work.pid_dir, port) for port in work.ports]
    d = work.directory
    if tool == "honcho":
        procfile = d / "Procfile"
        procfile.write_text("".join(f"s{i}: {line}\n" for i, line in enumerate(lines, 1)))
        return [str(work.peers_bin / "honcho"), "start", "-f", str(procfile), "-d", str(d)]
    if tool == "circus":
        watchers = "".join(
            f"\n[watcher:s{i}]\ncmd = {line}\nnumprocesses = 1\ncopy_env = True\n"
            f"graceful_timeout = {STOP_TIMEOUT}\n"
            for i, line in enumerate(lines, 1)
        )
        config = d / "circus.ini"
        config.write_text(
            f"[circus]\nendpoint = ipc://{d}/circus.sock\npubsub_endpoint = ipc://{d}/pub.sock\n"
            f"stats_endpoint = ipc://{d}/stats.sock\n{watchers}"
        )
        return [str(work.peers_bin / "circusd"), str(config)]
    if tool == "supervisord":
        programs = "".join(
            f"\n[program:s{i}]\ncommand = {line}\nautorestart = false\n"
            f"stopwaitsecs = {STOP_TIMEOUT}\n"
            for i, line in enumerate(lines, 1)
        )
        config = d / "supervisord.conf"
        config.write_text(
            f"[supervisord]\nnodaemon = true\nlogfile = {d}/supervisord.log\n"
            f"pidfile = {d}/supervisord.pid\nchildlogdir = {d}\n{programs}"
        )
        return [str(work.peers_bin / "supervisord"), "-c", str(config)]
    raise ValueError(tool)


def cycle_peer(tool: str, work: Work, cycle: Cycle) -> None:
    argv = peer_argv(tool, work)
    with (work.directory / f"{tool}.log").open("wb") as log:
        began = time.perf_counter()
        process = subprocess.Popen(
            argv,
            cwd=work.directory,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        cycle.start = wait_healthy(work.ports, began)
        work.descendants = psutil.Process(process.pid).children(recursive=True)
        began = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=work.cap)
            cycle.stop = time.perf_counter() - began
        except subprocess.TimeoutExpired:
            cycle.capped = True
    finally:
        if process.poll() is None:  # capped, or a failed start: kill the tool by pid
            if not work.descendants:
                try:
                    work.descendants = psutil.Process(process.pid).children(recursive=True)
                except psutil.Error:
                    work.descendants = []
            process.kill()
            process.wait()


def run_cycle(tool: str, count: int, scenario: Scenario, cap: float, peers_bin: Path) -> Cycle:
    cycle = Cycle()
    with tempfile.TemporaryDirectory(prefix=f"bench-peers-{tool}-") as directory:
        base = free_port_range(count)
        ports = list(range(base, base + count))
        work = Work(Path(directory), ports, scenario, cap, peers_bin)
        try:
            if tool in OURS:
                cycle_ours(tool, work, cycle, with_status=scenario is TERM)
            elif tool == FLOOR:
                cycle_floor(work, cycle)
            else:
                cycle_peer(tool, work, cycle)
        except (OSError, RuntimeError, TimeoutError, subprocess.SubprocessError) as error:
            cycle.error = f"{type(error).__name__}: {error}"
        finally:
            time.sleep(SETTLE if scenario.wrapper else 0.0)
            left = stand_ins(work.pid_dir, work.began_wall)
            cycle.left = len(left)
            kill_all(left)  # then whatever else of the tool is still running, by pid
            kill_all([p for p in work.descendants if p.is_running()])
    return cycle


def spread(values: Sequence[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
    }


def measure(
    repeats: int,
    cap: float,
    peers_bin: Path,
    tools: Sequence[str],
    sizes: Sequence[int] = SIZES,
) -> dict[str, Any]:
    """{N: {tool: {metric: {median, min, max} | {capped: true}, left, errors}}}."""
    figures: dict[str, Any] = {}
    for count in sizes:
        per_tool: dict[str, Any] = {}
        samples: dict[str, dict[str, list[Cycle]]] = {
            tool: {s.name: [] for s in (TERM, IGNORE, WRAPPER)} for tool in tools
        }
        for number in range(repeats):
            for tool in tools:  # interleaved, so a busy moment of the machine hits every tool
                for scenario in (TERM,) if tool == FLOOR else (TERM, IGNORE, WRAPPER):
                    cycle = run_cycle(tool, count, scenario, cap, peers_bin)
                    samples[tool][scenario.name].append(cycle)
                    shown = "> cap" if cycle.capped else f"{cycle.stop or 0:.2f}s"
                    shown = "-" if tool == FLOOR else shown
                    print(
                        f"  N={count:<2} run {number + 1}/{repeats} {tool:<11} {scenario.name:<7}"
                        f" start {cycle.start or 0:.2f}s stop {shown} left {cycle.left}"
                        + (f"  ERROR {cycle.error}" if cycle.error else ""),
                        flush=True,
                    )
        for tool in tools:
            runs = samples[tool]
            entry: dict[str, Any] = {}
            for metric, scenario_name in SOURCES.items():
                cycles = runs[scenario_name]
                attr = "start" if metric == "start" else "stop"
                values = [getattr(c, attr) for c in cycles if getattr(c, attr) is not None]
                capped = metric != "start" and any(c.capped for c in cycles)
                if capped and len(values) * 2 <= len(cycles):
                    entry[metric] = {"capped": True, "cap": cap, "samples": values}
                elif values:
                    entry[metric] = {**spread(values), "samples": values}
            if runs["wrapper"]:  # the floor has no stop
                entry["left"] = max((c.left or 0) for c in runs["wrapper"])
                entry["left_samples"] = [c.left for c in runs["wrapper"]]
            if tool in OURS:
                for key in ("cli_start", "status"):
                    values = [getattr(c, key) for c in runs["term"] if getattr(c, key) is not None]
                    if values:
                        entry[key] = spread(values)
            errors = [c.error for cycles in runs.values() for c in cycles if c.error]
            if errors:
                entry["errors"] = errors
            per_tool[tool] = entry
        figures[str(count)] = per_tool
    return figures


def baseline(per_tool: dict[str, Any], metric: str) -> float | None:
    values = [
        per_tool[tool][metric]["median"]
        for tool in BASELINES
        if tool in per_tool and "median" in per_tool[tool].get(metric, {})
    ]
    return min(values) if values else None


def cell(entry: dict[str, Any], best: float | None, *, ranges: bool) -> tuple[str, str]:
    if not entry:
        return "-", "-"
    if entry.get("capped"):
        return f"> {entry['cap']:g} s (cap)", "-"
    text = f"{entry['median']:.2f} s"
    if ranges and entry["max"] > entry["min"]:
        text += f" ({entry['min']:.2f}-{entry['max']:.2f})"
    ratio = f"{entry['median'] / best:.2f}" if best else "-"
    return text, ratio


TOOL_LABELS = {
    "ours": "`invoke cluster.start` / `cluster.stop`",
    "ours-lean": "`tasker-cluster start` / `stop`",
    "honcho": "honcho",
    "circus": "circus",
    "supervisord": "supervisord",
    FLOOR: "floor: a bare spawner (`Popen` each, nothing else)",
}


def rows_for(figures: dict[str, Any], *, ranges: bool, markdown: bool) -> list[list[str]]:
    rows: list[list[str]] = []
    for count, per_tool in figures.items():
        for tool, entry in per_tool.items():
            row = [count, TOOL_LABELS[tool] if markdown else tool]
            for metric in METRICS:
                row += cell(entry.get(metric, {}), baseline(per_tool, metric), ranges=ranges)
            row.append(f"{entry['left']} of {count}" if "left" in entry else "-")
            rows.append(row)
    return rows


HEADERS = ["N", "tool"]
for _label in METRICS.values():
    HEADERS += [_label, "÷ best peer"]
HEADERS.append("wrapper children left")


def markdown_table(figures: dict[str, Any]) -> list[str]:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += [
        "| " + " | ".join(row) + " |" for row in rows_for(figures, ranges=True, markdown=True)
    ]
    return lines


def ours_notes(figures: dict[str, Any]) -> list[str]:
    notes = []
    for count, per_tool in figures.items():
        for tool, (start, status) in {
            "ours": ("`invoke cluster.start`", "`invoke cluster.status`"),
            "ours-lean": ("`tasker-cluster start`", "`tasker-cluster status`"),
        }.items():
            ours = per_tool.get(tool, {})
            if "status" in ours and "cli_start" in ours:
                notes.append(
                    f"N={count}: {start} returned after {ours['cli_start']['median']:.2f} s;"
                    f" {status} took {ours['status']['median']:.3f} s"
                    f" ({ours['status']['min']:.3f}-{ours['status']['max']:.3f})"
                )
    return notes


def chart(figures: dict[str, Any], path: Path, cap: float) -> None:
    try:
        import matplotlib  # noqa: PLC0415 - only needed for the chart
    except ImportError:
        print(f"no chart ({path}): matplotlib is not installed", flush=True)
        return

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    sizes = list(figures)
    tools = list(next(iter(figures.values())))
    figure, axes_row = plt.subplots(1, len(METRICS), figsize=(14, 4.5))
    width = 0.8 / max(1, len(tools))
    for axes, (metric, label) in zip(axes_row, METRICS.items(), strict=True):
        for offset, tool in enumerate(tools):
            heights, labels, hatches = [], [], []
            for n in sizes:
                entry = figures[n][tool].get(metric, {})
                capped = bool(entry.get("capped"))
                heights.append(cap if capped else entry.get("median", 0.0))
                # no label where there is no figure (the floor has a start only)
                shown = f"{entry['median']:.2f}" if "median" in entry else ""
                labels.append("> cap" if capped else shown)
                hatches.append("//" if capped else "")
            positions = [i + offset * width for i in range(len(sizes))]
            bars = axes.bar(positions, heights, width, label=tool)
            for bar, hatch in zip(bars, hatches, strict=True):
                bar.set_hatch(hatch)
            axes.bar_label(bars, labels=labels, fontsize=6, rotation=90, padding=2)
        axes.set_xticks([i + width * (len(tools) - 1) / 2 for i in range(len(sizes))])
        axes.set_xticklabels([f"N={n}" for n in sizes])
        axes.set_title(label, fontsize=10)
        axes.set_ylabel("seconds (median)")
    axes_row[0].legend(fontsize=8)
    figure.suptitle(f"lifecycle beside the peers, stand-in healthy after {DELAY:g} s")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cap", type=float, default=20.0, help="seconds before a stop is cut")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument(
        "--sizes", default=",".join(map(str, SIZES)), help="instance counts, e.g. 10 or 1,5,10"
    )
    parser.add_argument("--peers-venv", type=Path, default=PEERS_VENV)
    parser.add_argument("--json", type=Path, default=RESULTS / "bench-peers.json")
    parser.add_argument("--chart", type=Path, default=RESULTS / "bench-peers.png")
    parser.add_argument("--markdown", type=Path, default=RESULTS / "bench-peers.md")
    args = parser.parse_args(argv)
    tools = [tool for tool in args.tools.split(",") if tool]
    unknown = sorted(set(tools) - set(TOOLS))
    if unknown:
        parser.error(f"--tools: unknown {', '.join(unknown)}; choose from {', '.join(TOOLS)}")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # see bench.py: use_bytecode_cache
    os.environ.setdefault("PYTHONPYCACHEPREFIX", str(RESULTS / ".pycache"))
    peers_bin = ensure_peers(args.peers_venv)
    warm_up = [sys.executable, "-m", "invoke", "--list"]  # caches the bytecode before timing
    subprocess.run(warm_up, cwd=ROOT, capture_output=True, check=False)
    versions = peer_versions(peers_bin)
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    figures = measure(args.repeats, args.cap, peers_bin, tools, sizes)
    load = os.getloadavg()[0]
    title = (
        f"lifecycle beside the peers ({', '.join(f'{k} {v}' for k, v in versions.items())}), "
        f"medians of {args.repeats} (min-max), stand-in healthy after {DELAY:g} s, "
        f"{os.cpu_count()} cores, load {load:.1f}; ratios to the faster of honcho and circus"
    )
    print(title)
    print("\n".join(table(rows_for(figures, ranges=True, markdown=False), HEADERS)))
    print("\n".join(ours_notes(figures)))
    for path in (args.json, args.chart, args.markdown):
        path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "command": " ".join(["bench_peers.py", *argv]),
        "repeats": args.repeats,
        "delay_s": DELAY,
        "stop_timeout_s": STOP_TIMEOUT,
        "cap_s": args.cap,
        "versions": versions,
        "cpus": os.cpu_count(),
        "load_average": load,
        "figures": figures,
    }
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    args.markdown.write_text(
        "\n".join([title, "", *markdown_table(figures), "", *ours_notes(figures)]) + "\n"
    )
    chart(figures, args.chart, args.cap)
    failed = [
        f"N={n} {tool}: {error}"
        for n, per_tool in figures.items()
        for tool, entry in per_tool.items()
        for error in entry.get("errors", [])
    ]
    for line in failed:
        print(f"error: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
