"""A stand-in for tasker-core's servers (orchestration and the workers), reproducing the
behaviours measured on the real Python worker (upstream-facts.md):

- exits 1 with `TASKER_CONFIG_PATH environment variable not set` on stderr when it is unset
  (and with an error naming the file when it names no file);
- binds its gRPC port (a plain TCP listener here) on `TASKER_WORKER_GRPC_BIND_ADDRESS`, or
  `TASKER_ORCHESTRATION_GRPC_BIND_ADDRESS` with `--role orchestration` (defaults
  `0.0.0.0:9191` / `0.0.0.0:9190` as upstream); a failed bind logs `Worker gRPC server error
  error=transport error` and the server goes on serving REST;
- serves REST on `TASKER_WEB_BIND_ADDRESS`: `/health` 200 `{"status":"healthy",
  "timestamp":...,"worker_id":"worker-<uuid>"}` (a random id, not the instance id),
  `/health/live` 200, `/health/ready` 503 for a worker;
- log lines start with an RFC 3339 UTC timestamp;
- SIGTERM (or SIGINT) starts a graceful shutdown of `FAKE_SHUTDOWN_SECONDS` (default 1.0),
  then `<name> terminated gracefully` and exit 0; a second SIGTERM during that shutdown makes
  it hang until SIGKILL.

Every start, signal and exit is appended as a JSON line (with the pid) to the file
`FAKE_SIGNAL_LOG` names, if set. `FAKE_STARTUP_SECONDS` (default 0) delays the binds.
Standard library only, so it is serving within about 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TextIO

SIGNAL_LOG_VAR = "FAKE_SIGNAL_LOG"
SHUTDOWN_SECONDS_VAR = "FAKE_SHUTDOWN_SECONDS"
STARTUP_SECONDS_VAR = "FAKE_STARTUP_SECONDS"
GRPC_VARIABLES = {
    "orchestration": ("TASKER_ORCHESTRATION_GRPC_BIND_ADDRESS", "0.0.0.0:9190"),
    "worker": ("TASKER_WORKER_GRPC_BIND_ADDRESS", "0.0.0.0:9191"),
}
HANDLED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)
REPORTED_ENV = (
    "TASKER_INSTANCE_ID",
    "TASKER_WORKER_ID",
    "TASKER_WEB_BIND_ADDRESS",
    "TASKER_ORCHESTRATION_GRPC_BIND_ADDRESS",
    "TASKER_WORKER_GRPC_BIND_ADDRESS",
    "TASKER_CONFIG_PATH",
    "TASKER_TEMPLATE_PATH",
    "TASKER_ENV",
    "WORKSPACE_PATH",
    "DATABASE_URL",
    "TASKER_MESSAGING_BACKEND",
    "TASKER_TEST_ORCHESTRATION_URLS",
    "WORKER_ID",
    "PORT",
)


def now() -> str:
    """RFC 3339 UTC with microseconds, as tracing-subscriber prints it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def log(level: str, target: str, text: str, *, stream: TextIO | None = None) -> None:
    print(f"{now()} {level:>5} {target}: {text}", file=stream or sys.stdout, flush=True)


def record(event: str, **fields: object) -> None:
    """Append one event to the `FAKE_SIGNAL_LOG` file (one write, so lines never interleave)."""
    path = os.environ.get(SIGNAL_LOG_VAR)
    if not path:
        return
    entry = {
        "event": event,
        "pid": os.getpid(),
        "instance": os.environ.get("TASKER_INSTANCE_ID"),
        "program": "tasker-worker",
        **fields,
    }
    with Path(path).open("a", encoding="utf-8") as file:
        file.write(json.dumps(entry) + "\n")


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--role", choices=sorted(GRPC_VARIABLES), default="worker")
    parser.add_argument("--name", default="Worker Server", help="used in the shutdown line")
    parser.add_argument("--target", default="tasker_worker", help="the log target")
    parser.add_argument("--script", default=None, help="the script a wrapper was asked to run")
    return parser.parse_args(argv)


def make_handler(role: str, worker_id: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            stamp = now()
            if self.path == "/health":
                body: dict[str, object] = {"status": "healthy", "timestamp": stamp}
                if role == "worker":
                    body["worker_id"] = worker_id
                self.answer(200, body)
            elif self.path == "/health/live":
                self.answer(200, {"status": "alive", "timestamp": stamp})
            elif self.path == "/health/ready" and role == "worker":
                self.answer(
                    503,
                    {
                        "error": "service_unavailable",
                        "message": "Worker is not ready to process steps",
                        "timestamp": stamp,
                    },
                )
            elif self.path == "/health/ready":
                self.answer(200, {"status": "ready", "timestamp": stamp})
            else:
                self.answer(404, {"error": "not_found", "message": self.path})

        def answer(self, code: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            del format, args

    return Handler


def serve_grpc(address: str, target: str) -> socket.socket | None:
    """The gRPC stand-in: a TCP listener accepting and closing connections; None (after the
    upstream error line) when the address cannot be bound."""
    host, port = split_address(address)
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(64)
    except OSError as error:
        listener.close()
        kind = "Orchestration" if "orchestration" in target else "Worker"
        log("ERROR", target, f"{kind} gRPC server error error=transport error ({error.strerror})")
        return None

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.close()

    threading.Thread(target=accept, daemon=True).start()
    log("INFO", target, f"gRPC server listening on {host}:{port}")
    return listener


def next_signal(mask: set[signal.Signals]) -> signal.Signals:
    """The next of `mask` (blocked in every thread)."""
    return signal.Signals(signal.sigwait(mask))


def wait_for_signals(mask: set[signal.Signals], seconds: float) -> signal.Signals | None:
    """The next of `mask`, or None after `seconds`."""
    info = signal.sigtimedwait(mask, max(seconds, 0.0))
    return None if info is None else signal.Signals(info.si_signo)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    mask = set(HANDLED)
    signal.pthread_sigmask(signal.SIG_BLOCK, mask)  # before any thread: all inherit the mask
    config_path = os.environ.get("TASKER_CONFIG_PATH")
    if not config_path:
        message = "TASKER_CONFIG_PATH environment variable not set"
        log("ERROR", args.target, message, stream=sys.stderr)
        return 1
    if not Path(config_path).is_file():
        log("ERROR", args.target, f"failed to load configuration from {config_path}: not found")
        return 1
    startup = float(os.environ.get(STARTUP_SECONDS_VAR, "0") or 0)
    if startup > 0:
        log("INFO", args.target, f"bootstrapping for {startup} s")
        time.sleep(startup)
    variable, default = GRPC_VARIABLES[args.role]
    grpc_address = os.environ.get(variable, default)
    web_address = os.environ.get("TASKER_WEB_BIND_ADDRESS", "0.0.0.0:8081")
    worker_id = f"worker-{uuid.uuid4()}"
    log("INFO", args.target, f"loaded configuration from {config_path}")
    grpc = serve_grpc(grpc_address, args.target)
    server = ThreadingHTTPServer(split_address(web_address), make_handler(args.role, worker_id))
    serving = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    serving.start()
    log("INFO", args.target, f"web server listening on {web_address}")
    record(
        "start",
        role=args.role,
        name=args.name,
        script=args.script,
        cwd=str(Path.cwd()),
        ppid=os.getppid(),
        rest=web_address,
        grpc=grpc_address,
        grpc_bound=grpc is not None,
        env={key: os.environ[key] for key in REPORTED_ENV if key in os.environ},
    )
    received = next_signal(mask)
    while received not in (signal.SIGTERM, signal.SIGINT):
        record("signal", signal=received.name)
        received = next_signal(mask)
    record("signal", signal=received.name)
    log("INFO", args.target, f"Received {received.name}, starting graceful shutdown")
    shutdown_seconds = float(os.environ.get(SHUTDOWN_SECONDS_VAR, "1.0") or 0)
    ends = time.monotonic() + shutdown_seconds
    while (left := ends - time.monotonic()) > 0:
        again = wait_for_signals(mask, left)
        if again is None:
            break
        record("signal", signal=again.name)
        if again is signal.SIGTERM:
            log("WARN", args.target, "Received SIGTERM during shutdown; shutdown is now stuck")
            while True:  # as the real worker: only SIGKILL ends it now
                record("signal", signal=next_signal(mask).name)
    server.shutdown()
    if grpc is not None:
        grpc.close()
    log("INFO", args.target, f"{args.name} terminated gracefully")
    record("exit", code=0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
