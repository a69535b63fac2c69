"""A fixture checkout laid out as tasker-core's main is today, with stand-ins for its tools.

`make_checkout(root)` writes:

- `config/dotenv/{base,test,cluster,orchestration,rust-worker,ruby-worker,python-worker,
  typescript-worker}.env` in upstream's shape: `base.env` sets `WORKSPACE_PATH` to another
  machine's absolute path, the others use `${WORKSPACE_PATH}`; `test.env` has `DATABASE_URL`
  and `TASKER_MESSAGING_BACKEND=rabbitmq`; `cluster.env` the counts and the REST and gRPC base
  ports (free ones, so tests run in parallel with anything) and the `TASKER_TEST_*` URLs;
- `config/tasker/generated/{orchestration-test,worker-test}.toml`, `tests/fixtures/
  task_templates/{rust,ruby,python,typescript}/`, `crates/tasker-{py,rb,ts}/bin/server.*`;
- `bin/` with stand-ins for `cargo`, `uv`, `bundle` and `bun` (absolute `#!python` shebangs):

  * `cargo build [--release] -p tasker-orchestration --bin tasker-server` writes
    `target/<profile>/tasker-server`, `-p tasker-example-rs` writes `target/<profile>/
    rust-worker` (scripts that exec the fake server); other builds do nothing; `cargo run`
    builds, then runs the binary as a child without forwarding signals;
  * `uv sync ...` and `uv run maturin develop` do nothing; `uv run python bin/server.py` runs
    the fake server as a child and forwards SIGTERM/SIGINT to it, as uv does;
  * `bundle check` fails until `bundle install` ran; `bundle exec rake compile` does nothing;
    `bundle exec ruby bin/server.rb` execs the fake server;
  * `bun install` creates `node_modules`; `bun run bin/server.ts` runs the fake server as a
    child without forwarding signals (as `cargo run` does).

Every stand-in appends its argv, working directory and pid to `.fake/calls.log` (JSON lines),
so tests can see what ran and how often; `Checkout.fail(program, ...)` makes that program's
preparing invocations fail; `Checkout.grab_port_during_prepare(program, port)` makes them
leave a foreign listener on a port. The fake server is `tests/fakes/tasker_worker.py`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import sys
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from tasker_cluster.testing.free_ports import free_port_range

FAKE_SERVER = Path(__file__).resolve().parent / "tasker_worker.py"
STAND_INS = ("cargo", "uv", "bundle", "bun")
OTHER_MACHINE = "/Users/petetaylor/projects/tasker-systems/tasker-core"
PORT_SPAN = 10

# type name -> (cluster.env key part, <target>.env, REST port, gRPC port of <target>.env)
TYPES: Mapping[str, tuple[str, str, int, int]] = {
    "orchestration": ("ORCHESTRATION", "orchestration", 8080, 9190),
    "worker-rust": ("WORKER_RUST", "rust-worker", 8081, 9191),
    "worker-ruby": ("WORKER_RUBY", "ruby-worker", 8082, 9102),
    "worker-python": ("WORKER_PYTHON", "python-worker", 8083, 9103),
    "worker-ts": ("WORKER_TS", "typescript-worker", 8085, 9105),
}
TEMPLATE_DIRS = {
    "worker-rust": "rust",
    "worker-ruby": "ruby",
    "worker-python": "python",
    "worker-ts": "typescript",
}
TEST_URL_TYPES = {
    "worker-rust": "RUST",
    "worker-ruby": "RUBY",
    "worker-python": "PYTHON",
    "worker-ts": "TS",
}


@dataclass(frozen=True)
class Call:
    """One run of a stand-in: the program, its arguments, where and as which instance."""

    program: str
    args: tuple[str, ...]
    cwd: str
    pid: int
    instance: str | None

    @property
    def line(self) -> str:
        return " ".join((self.program, *self.args))


@dataclass(frozen=True)
class ServerEvent:
    """A line the fake server (or a wrapper stand-in) wrote to the signal log."""

    event: str
    pid: int
    instance: str | None
    program: str
    data: Mapping[str, object] = field(default_factory=dict)

    @property
    def signal(self) -> str | None:
        value = self.data.get("signal")
        return None if value is None else str(value)

    @property
    def env(self) -> dict[str, str]:
        """The environment a server reported at start (see `tasker_worker.REPORTED_ENV`)."""
        value = self.data.get("env")
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}

    def text(self, key: str) -> str:
        return str(self.data.get(key, ""))


@dataclass(frozen=True)
class Ports:
    """The REST and gRPC base port of each type in the checkout's `cluster.env`."""

    rest: Mapping[str, int]
    grpc: Mapping[str, int]


@dataclass(frozen=True)
class Checkout:
    """A fixture tasker-core tree at `root`; see the module doc."""

    root: Path
    counts: Mapping[str, int]
    ports: Ports

    @property
    def dotenv(self) -> Path:
        return self.root / "config" / "dotenv"

    @property
    def bin_dir(self) -> Path:
        return self.root / "bin"

    @property
    def fake_dir(self) -> Path:
        return self.root / ".fake"

    @property
    def calls_log(self) -> Path:
        return self.fake_dir / "calls.log"

    @property
    def signal_log(self) -> Path:
        return self.fake_dir / "signals.log"

    def path(self, without: Sequence[str] = ()) -> str:
        """A PATH with the stand-ins first (leaving out `without`), then only the system
        directories: no real cargo (~/.cargo/bin) or uv (pip installs it beside python) is
        found; everything the fixture runs has an absolute path or shebang."""
        stand_ins = self.bin_dir
        if without:
            stand_ins = self.fake_dir / ("bin-without-" + "-".join(sorted(without)))
            stand_ins.mkdir(parents=True, exist_ok=True)
            for program in STAND_INS:
                link = stand_ins / program
                if program not in without and not link.exists():
                    link.symlink_to(self.bin_dir / program)
        return os.pathsep.join([str(stand_ins), "/usr/local/bin", "/usr/bin", "/bin"])

    def environ(
        self, *, shutdown_seconds: float = 1.0, without: Sequence[str] = ()
    ) -> dict[str, str]:
        """What a test adds to a clean environment to run the profile on this checkout."""
        return {
            "TASKER_CORE_DIR": str(self.root),
            "PATH": self.path(without),
            "FAKE_SIGNAL_LOG": str(self.signal_log),
            "FAKE_SHUTDOWN_SECONDS": str(shutdown_seconds),
            "PYTHONUNBUFFERED": "1",
        }

    def calls(self) -> list[Call]:
        if not self.calls_log.exists():
            return []
        found = []
        for line in self.calls_log.read_text(encoding="utf-8").splitlines():
            data = json.loads(line)
            found.append(
                Call(
                    data["program"],
                    tuple(data["args"]),
                    data["cwd"],
                    data["pid"],
                    data.get("instance"),
                )
            )
        return found

    def call_lines(self) -> list[str]:
        return [call.line for call in self.calls()]

    def events(self) -> list[ServerEvent]:
        if not self.signal_log.exists():
            return []
        found = []
        for line in self.signal_log.read_text(encoding="utf-8").splitlines():
            data = json.loads(line)
            found.append(
                ServerEvent(
                    str(data.pop("event")),
                    int(data.pop("pid")),
                    data.pop("instance", None),
                    str(data.pop("program", "")),
                    data,
                )
            )
        return found

    def servers(self) -> list[ServerEvent]:
        """The start event of every fake server that came up, in order."""
        return [e for e in self.events() if e.event == "start" and e.program == "tasker-worker"]

    def signals_by_pid(self, name: str = "SIGTERM") -> dict[int, int]:
        """How many `name` signals each process (server or wrapper) recorded."""
        counts: dict[int, int] = {}
        for event in self.events():
            if event.event == "signal" and event.signal == name:
                counts[event.pid] = counts.get(event.pid, 0) + 1
        return counts

    def fail(self, program: str, message: str, code: int = 101, when: str = "") -> None:
        """Make `program`'s preparing runs (those whose argv contains `when`) fail: print
        `message` to stderr and exit with `code`."""
        self.fake_dir.mkdir(exist_ok=True)
        marker = {"message": message, "code": code, "when": when}
        (self.fake_dir / f"fail-{program}.json").write_text(json.dumps(marker), encoding="utf-8")

    def grab_port_during_prepare(self, program: str, port: int) -> None:
        """Make `program`'s first preparing run leave a detached listener on `port` (as a
        daemon a build starts would); its pid goes to `.fake/holder-<port>.pid`."""
        self.fake_dir.mkdir(exist_ok=True)
        (self.fake_dir / f"grab-{program}.json").write_text(
            json.dumps({"port": port}), encoding="utf-8"
        )

    def holder_pids(self) -> list[int]:
        return [int(p.read_text()) for p in sorted(self.fake_dir.glob("holder-*.pid"))]

    def write_cluster_env(self, counts: Mapping[str, int], ports: Ports) -> Checkout:
        """Rewrite `cluster.env` with these counts and ports (as a user editing it would)."""
        (self.dotenv / "cluster.env").write_text(cluster_env(counts, ports), encoding="utf-8")
        return Checkout(self.root, dict(counts), ports)


def free_ports(count: int = PORT_SPAN, avoid: Sequence[int] = ()) -> Ports:
    """A free range of `count` ports for the REST and the gRPC ports of each type."""
    taken = list(avoid)
    rest: dict[str, int] = {}
    grpc: dict[str, int] = {}
    for name in TYPES:
        for chosen in (rest, grpc):
            base = free_port_range(count, avoid=taken)
            chosen[name] = base
            taken.extend(range(base, base + count))
    return Ports(rest, grpc)


def make_checkout(
    root: Path,
    counts: Mapping[str, int] | None = None,
    ports: Ports | None = None,
) -> Checkout:
    """Write a tasker-core tree at `root` (see the module doc): `counts` per type (default 2
    each) and `ports` (default: free ranges) go into its `cluster.env`."""
    counts = dict.fromkeys(TYPES, 2) if counts is None else {**dict.fromkeys(TYPES, 0), **counts}
    ports = ports or free_ports()
    dotenv = root / "config" / "dotenv"
    dotenv.mkdir(parents=True, exist_ok=True)
    (dotenv / "base.env").write_text(BASE_ENV, encoding="utf-8")
    (dotenv / "test.env").write_text(TEST_ENV, encoding="utf-8")
    (dotenv / "cluster.env").write_text(cluster_env(counts, ports), encoding="utf-8")
    for name, (_, target, rest, grpc) in TYPES.items():
        (dotenv / f"{target}.env").write_text(target_env(name, rest, grpc), encoding="utf-8")
    generated = root / "config" / "tasker" / "generated"
    generated.mkdir(parents=True, exist_ok=True)
    for config in ("orchestration-test", "worker-test", "complete-test"):
        (generated / f"{config}.toml").write_text(
            f'# fixture stand-in for {config}.toml\n[common]\nenvironment = "test"\n',
            encoding="utf-8",
        )
    templates = root / "tests" / "fixtures" / "task_templates"
    for sub in (".", *TEMPLATE_DIRS.values()):
        (templates / sub).mkdir(parents=True, exist_ok=True)
        (templates / sub / "linear_workflow.yaml").write_text(
            "name: mathematical_sequence\nnamespace_name: linear_workflow\nversion: 1.0.0\n",
            encoding="utf-8",
        )
    crates = (("tasker-py", "server.py"), ("tasker-rb", "server.rb"), ("tasker-ts", "server.ts"))
    for crate, script in crates:
        (root / "crates" / crate / "bin").mkdir(parents=True, exist_ok=True)
        (root / "crates" / crate / "bin" / script).write_text(
            f"# fixture marker: crates/{crate}/bin/{script} (the stand-ins run the fake server)\n",
            encoding="utf-8",
        )
    (root / "Cargo.toml").write_text(CARGO_TOML, encoding="utf-8")
    (root / ".fake").mkdir(exist_ok=True)
    bin_dir = root / "bin"
    bin_dir.mkdir(exist_ok=True)
    for program in STAND_INS:
        write_script(bin_dir / program, stand_in_source(program, root))
    return Checkout(root, counts, ports)


def write_script(path: Path, source: str) -> None:
    path.write_text(f"#!{sys.executable}\n{source}", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def cluster_env(counts: Mapping[str, int], ports: Ports) -> str:
    lines = [
        "# TAS-73: Cluster Environment Configuration (fixture, in upstream's shape)",
        "# Layered on top of test.env when running multi-instance cluster tests.",
        "",
        "TASKER_MULTI_INSTANCE_MODE=true",
        "",
    ]
    for name, (part, _, _, _) in TYPES.items():
        lines.append(f"TASKER_{part}_INSTANCES={counts.get(name, 0)}")
    lines.append("")
    for name, (part, _, _, _) in TYPES.items():
        lines.append(f"TASKER_{part}_BASE_PORT={ports.rest[name]}")
        lines.append(f"TASKER_{part}_GRPC_BASE_PORT={ports.grpc[name]}")
    lines.append("")

    def urls(name: str, base: Mapping[str, int]) -> list[str]:
        return [f"http://localhost:{base[name] + n}" for n in range(counts.get(name, 0))]

    lines.append(f"TASKER_TEST_ORCHESTRATION_URLS={','.join(urls('orchestration', ports.rest))}")
    every_worker: list[str] = []
    for name, suffix in TEST_URL_TYPES.items():
        lines.append(f"TASKER_TEST_WORKER_{suffix}_URLS={','.join(urls(name, ports.rest))}")
        every_worker += urls(name, ports.rest)
    lines.append(f"TASKER_TEST_WORKER_URLS={','.join(every_worker)}")
    lines.append(
        f"TASKER_TEST_ORCHESTRATION_GRPC_URLS={','.join(urls('orchestration', ports.grpc))}"
    )
    for name, suffix in TEST_URL_TYPES.items():
        lines.append(f"TASKER_TEST_WORKER_{suffix}_GRPC_URLS={','.join(urls(name, ports.grpc))}")
    lines.append(f"TASKER_TEST_ORCHESTRATION_URL=http://localhost:{ports.rest['orchestration']}")
    lines.append(f"TASKER_TEST_WORKER_URL=http://localhost:{ports.rest['worker-rust']}")
    return "\n".join(lines) + "\n"


def target_env(name: str, rest: int, grpc: int) -> str:
    """`<target>.env` as upstream writes it: single-instance ports, config and template paths."""
    if name == "orchestration":
        return textwrap.dedent(
            f"""\
            # Orchestration-specific environment variables
            PORT={rest}
            TASKER_WEB_BIND_ADDRESS=0.0.0.0:{rest}
            TASKER_ORCHESTRATION_GRPC_BIND_ADDRESS=0.0.0.0:{grpc}
            TASKER_CONFIG_PATH=${{WORKSPACE_PATH}}/config/tasker/generated/complete-test.toml
            """
        )
    target = TYPES[name][1]
    templates = TEMPLATE_DIRS[name]
    return textwrap.dedent(
        f"""\
        # {target} specific environment variables
        WORKER_ID={target}-test
        TASKER_WEB_BIND_ADDRESS=0.0.0.0:{rest}
        TASKER_WORKER_GRPC_BIND_ADDRESS=0.0.0.0:{grpc}
        TASKER_CONFIG_PATH=${{WORKSPACE_PATH}}/config/tasker/generated/worker-test.toml
        TASKER_TEMPLATE_PATH=${{WORKSPACE_PATH}}/tests/fixtures/task_templates/{templates}
        """
    )


BASE_ENV = f"""\
# Base environment variables - common across all environments
RUST_LOG=info
LOG_LEVEL=info

# Core paths (absolute - update WORKSPACE_PATH for your system)
WORKSPACE_PATH={OTHER_MACHINE}
TASKER_CONFIG_ROOT=${{WORKSPACE_PATH}}/config
TASKER_FIXTURE_PATH=${{WORKSPACE_PATH}}/tests/fixtures

TASKER_ENV=test
"""

TEST_ENV = """\
# Test environment (fixture, in upstream's shape)
DATABASE_URL=postgresql://tasker:tasker@localhost:5432/tasker_rust_test
TASKER_MESSAGING_BACKEND=rabbitmq
RABBITMQ_URL=amqp://tasker:tasker@localhost:5672/%2F
REDIS_URL=redis://localhost:6379
TASKER_WEB_AUTH_ENABLED=false
TASKER_JWT_ISSUER=tasker-core-test
"""

CARGO_TOML = """\
[workspace]
members = ["tasker-orchestration", "tasker-example-rs", "crates/tasker-ts"]
"""


def stand_in_source(program: str, root: Path) -> str:
    """The Python source of one stand-in (after its shebang line)."""
    return STAND_IN_TEMPLATE.format(
        program=program,
        root=str(root),
        server=str(FAKE_SERVER),
        python=sys.executable,
    )


STAND_IN_TEMPLATE = '''\
"""Fixture stand-in for `{program}` in the checkout {root}."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

PROGRAM = {program!r}
ROOT = Path({root!r})
SERVER = {server!r}
PYTHON = {python!r}
FAKE = ROOT / ".fake"
ARGS = sys.argv[1:]


def log_call():
    entry = {{
        "program": PROGRAM,
        "args": ARGS,
        "cwd": os.getcwd(),
        "pid": os.getpid(),
        "instance": os.environ.get("TASKER_INSTANCE_ID"),
    }}
    with open(FAKE / "calls.log", "a", encoding="utf-8") as file:
        file.write(json.dumps(entry) + "\\n")


def record(event, **fields):
    path = os.environ.get("FAKE_SIGNAL_LOG")
    if path:
        entry = {{"event": event, "pid": os.getpid(),
                  "instance": os.environ.get("TASKER_INSTANCE_ID"), "program": PROGRAM, **fields}}
        with open(path, "a", encoding="utf-8") as file:
            file.write(json.dumps(entry) + "\\n")


def prepare_hooks():
    """Fail, or leave a port holder behind, if the test asked for it."""
    fail = FAKE / f"fail-{{PROGRAM}}.json"
    if fail.exists():
        marker = json.loads(fail.read_text())
        if marker["when"] in " ".join(ARGS):
            print(marker["message"], file=sys.stderr, flush=True)
            sys.exit(marker["code"])
    grab = FAKE / f"grab-{{PROGRAM}}.json"
    if grab.exists():
        port = json.loads(grab.read_text())["port"]
        grab.unlink()
        env = {{k: v for k, v in os.environ.items() if not k.startswith(("TASKER_", "FAKE_"))}}
        pid_file = FAKE / f"holder-{{port}}.pid"
        holder = subprocess.Popen(
            [PYTHON, "-c", HOLDER, str(port), str(pid_file)],
            env=env, start_new_session=True, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        while not pid_file.exists() and holder.poll() is None:
            time.sleep(0.01)


HOLDER = """
import os, socket, sys, time
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("0.0.0.0", int(sys.argv[1])))
listener.listen(8)
with open(sys.argv[2] + ".tmp", "w") as file:
    file.write(str(os.getpid()))
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
while True:
    time.sleep(3600)
"""


def preparing():
    prepare_hooks()
    sys.exit(0)


def server_argv(role, name, target, script=None):
    argv = [PYTHON, SERVER, "--role", role, "--name", name, "--target", target]
    return argv + (["--script", str(Path(script).resolve())] if script else [])


def write_binary(profile, binary, role, name, target):
    path = ROOT / "target" / profile / binary
    path.parent.mkdir(parents=True, exist_ok=True)
    argv = server_argv(role, name, target)
    path.write_text(
        f"#!{{PYTHON}}\\nimport os, sys\\nos.execv({{PYTHON!r}}, {{argv!r}} + sys.argv[1:])\\n"
    )
    path.chmod(0o755)
    return path


def child(argv, forward):
    """Run `argv` as a child; with `forward`, pass SIGTERM/SIGINT on to it (as uv does),
    else die of them and leave the child running (as cargo run and bun run do)."""
    process = subprocess.Popen(argv)

    def forward_signal(signum, frame):
        record("signal", signal=signal.Signals(signum).name)
        process.send_signal(signum)

    def die(signum, frame):
        record("signal", signal=signal.Signals(signum).name)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward_signal if forward else die)
    while True:
        try:
            return process.wait()
        except InterruptedError:
            continue


def need(script):
    if not Path(script).is_file():
        print(f"error: {{script}} not found in {{os.getcwd()}}", file=sys.stderr)
        sys.exit(2)


def cargo():
    profile = "release" if "--release" in ARGS else "debug"
    package = ARGS[ARGS.index("-p") + 1] if "-p" in ARGS else ""
    if ARGS[:1] == ["build"]:
        preparing_build(profile, package)
        sys.exit(0)
    if ARGS[:1] == ["run"]:
        path = build(profile, package)
        if path is None:
            print(f"error: no binary for package {{package}}", file=sys.stderr)
            sys.exit(101)
        sys.exit(child([str(path)], forward=False))
    sys.exit(0)


def build(profile, package):
    if package == "tasker-orchestration":
        return write_binary(profile, "tasker-server", "orchestration",
                            "Orchestration Server", "tasker_orchestration")
    if package == "tasker-example-rs":
        return write_binary(profile, "rust-worker", "worker", "Rust Worker Server",
                            "tasker_worker")
    return None


def preparing_build(profile, package):
    prepare_hooks()
    build(profile, package)


def uv():
    if ARGS[:2] == ["run", "python"] and len(ARGS) > 2 and ARGS[2].endswith("server.py"):
        need(ARGS[2])
        argv = server_argv("worker", "Python Worker Server", "tasker_core.worker", ARGS[2])
        sys.exit(child(argv, forward=True))
    preparing()


def bundle():
    if ARGS[:3] == ["exec", "ruby", "bin/server.rb"] or (
        ARGS[:2] == ["exec", "ruby"] and len(ARGS) > 2 and ARGS[2].endswith("server.rb")
    ):
        need(ARGS[2])
        argv = server_argv("worker", "Ruby Worker Server", "tasker_rb", ARGS[2])
        os.execv(argv[0], argv)
    installed = Path(".bundle") / "fixture-installed"
    if ARGS[:1] == ["check"] and not installed.exists():
        print("The following gems are missing", file=sys.stderr)
        sys.exit(1)
    if ARGS[:1] == ["install"]:
        installed.parent.mkdir(exist_ok=True)
        installed.write_text("installed by the fixture\\n")
    preparing()


def bun():
    if ARGS[:1] == ["run"] and len(ARGS) > 1 and ARGS[1].endswith("server.ts"):
        need(ARGS[1])
        argv = server_argv("worker", "TypeScript Worker Server", "tasker_ts", ARGS[1])
        sys.exit(child(argv, forward=False))
    if ARGS[:1] == ["install"]:
        Path("node_modules").mkdir(exist_ok=True)
    preparing()


log_call()
{{"cargo": cargo, "uv": uv, "bundle": bundle, "bun": bun}}[PROGRAM]()
'''


@dataclass(frozen=True)
class CoreCluster:
    """A checkout and the cluster directory a test runs it in."""

    checkout: Checkout
    cluster_dir: Path

    def environ(
        self,
        base: Mapping[str, str],
        *,
        shutdown_seconds: float = 1.0,
        without: Sequence[str] = (),
    ) -> dict[str, str]:
        """`base` (a clean environment) with the checkout, its stand-ins and this directory."""
        return {
            **base,
            **self.checkout.environ(shutdown_seconds=shutdown_seconds, without=without),
            "TASKER_CLUSTER_DIR": str(self.cluster_dir),
        }


def _kill(pids: Sequence[int], marker: str) -> list[str]:
    """SIGKILL each live pid whose command line mentions `marker` (so a reused pid is spared);
    describe what was killed."""
    killed: list[psutil.Process] = []
    described = []
    for pid in dict.fromkeys(pids):
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            command = " ".join(process.cmdline())
            if marker in command:
                process.send_signal(signal.SIGKILL)
                killed.append(process)
                described.append(f"pid {pid} {command}")
    psutil.wait_procs(killed, timeout=10)
    return described


def kill_holders(checkout: Checkout) -> list[str]:
    """Kill, by pid, the port holders a prepare stand-in left behind (foreign processes)."""
    return _kill(checkout.holder_pids(), str(checkout.fake_dir))


def kill_strays(checkout: Checkout) -> list[str]:
    """Kill, by pid, every fake server and stand-in of the checkout still running; describe
    them (none should be: this is the guard's clean-up)."""
    pids = [event.pid for event in checkout.events()] + [call.pid for call in checkout.calls()]
    return _kill(pids, str(FAKE_SERVER)) + _kill(pids, str(checkout.root))


__all__ = [
    "FAKE_SERVER",
    "OTHER_MACHINE",
    "Call",
    "Checkout",
    "CoreCluster",
    "Ports",
    "ServerEvent",
    "free_ports",
    "kill_holders",
    "kill_strays",
    "make_checkout",
]
