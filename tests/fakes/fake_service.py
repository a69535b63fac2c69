"""A small HTTP service standing in for orchestration and workers in the lifecycle tests.

It answers `GET /health` with its instance id, and can misbehave on request: take time to
become healthy, ignore SIGTERM, run the real server as a child (the wrapper case), crash at
start, or claim another instance's id. Standard library only, so it starts fast.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPORTED_ENV = (
    "TASKER_INSTANCE_ID",
    "TASKER_INSTANCE_PORT",
    "TASKER_WEB_BIND_ADDRESS",
    "PORT",
    "TASKER_WORKER_ID",
    "TASKER_CLUSTER_DIR",
    "DATABASE_URL",
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=None, help="default: TASKER_INSTANCE_PORT")
    parser.add_argument("--host", default=None, help="default: from TASKER_WEB_BIND_ADDRESS")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before listening")
    parser.add_argument("--ignore-term", action="store_true", help="ignore SIGTERM")
    parser.add_argument("--wrapper", action="store_true", help="run the server as a child")
    parser.add_argument("--child-session", action="store_true", help="child in its own session")
    parser.add_argument("--crash", default=None, help="print this to stderr and exit")
    parser.add_argument("--exit-code", type=int, default=3)
    parser.add_argument("--answer-as", default=None, help="instance id /health reports")
    parser.add_argument("--tick", type=float, default=0.0, help="log a line every N seconds")
    parser.add_argument("--threads", type=int, default=0, help="extra idle threads to run")
    return parser.parse_args(argv)


def say(text: str) -> None:
    instance_id = os.environ.get("TASKER_INSTANCE_ID", "-")
    stamp = ""
    if os.environ.get("FAKE_STAMP"):
        now = datetime.now(UTC)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z "
    print(f"{stamp}[{instance_id}] {text}", flush=True)


def run_wrapper(args: argparse.Namespace, argv: list[str]) -> int:
    child_argv = [sys.executable, __file__, *(a for a in argv if a not in ("--wrapper",))]
    child = subprocess.Popen(child_argv, start_new_session=args.child_session)
    say(f"wrapper pid {os.getpid()} started server pid {child.pid}")
    return child.wait()


def make_handler(instance_id: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/health":
                self.send_error(404)
                return
            env = {key: os.environ[key] for key in REPORTED_ENV if key in os.environ}
            body = {"status": "healthy", "instance_id": instance_id, "pid": os.getpid(), "env": env}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            del format, args

    return Handler


def tick(interval: float) -> None:
    count = 0
    while True:
        time.sleep(interval)
        count += 1
        say(f"tick {count}")


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if args.crash is not None:
        say("starting")
        print(args.crash, file=sys.stderr, flush=True)
        return int(args.exit_code)
    if args.wrapper:
        return run_wrapper(args, argv)
    bind = os.environ.get("TASKER_WEB_BIND_ADDRESS", "127.0.0.1:0")
    host = args.host or bind.rsplit(":", 1)[0].strip("[]")
    port = args.port if args.port is not None else int(os.environ["TASKER_INSTANCE_PORT"])
    instance_id = args.answer_as or os.environ.get("TASKER_INSTANCE_ID", "fake")
    if args.delay:
        say(f"warming up for {args.delay} s")
        time.sleep(args.delay)
    server = ThreadingHTTPServer((host, port), make_handler(instance_id))
    if not args.ignore_term:
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    say(f"listening on {host}:{port} as pid {os.getpid()}")
    if args.tick:
        threading.Thread(target=tick, args=(args.tick,), daemon=True).start()
    for _ in range(args.threads):
        threading.Thread(target=threading.Event().wait, daemon=True).start()
    server.serve_forever(poll_interval=0.1)
    say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
