"""The stand-in service every tool runs in `scripts/bench_peers.py`: standard library only.

It writes `<pid-dir>/<port>.pid` at once (so the harness can find it, and clean it up by pid,
even when a tool leaves it behind), sleeps `--delay` seconds, then listens on 127.0.0.1 and
answers `GET /health` with 200. With `--ignore-term` it ignores SIGTERM; otherwise SIGTERM ends
it at once.

    python3 scripts/stand_in.py --port 18080 --delay 0.5 --pid-dir /tmp/x [--ignore-term]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path


class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        healthy = self.path.split("?")[0] == "/health"
        body = b'{"status":"healthy"}' if healthy else b'{"error":"not found"}'
        self.send_response(200 if healthy else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "0")))
    parser.add_argument("--delay", type=float, default=0.5)
    parser.add_argument("--pid-dir", type=Path, default=None)
    parser.add_argument("--ignore-term", action="store_true")
    args = parser.parse_args(argv)
    began = time.monotonic()
    if args.ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if args.pid_dir is not None:
        args.pid_dir.mkdir(parents=True, exist_ok=True)
        (args.pid_dir / f"{args.port}.pid").write_text(f"{os.getpid()}\n")
    time.sleep(max(0.0, args.delay - (time.monotonic() - began)))
    server = HTTPServer(("127.0.0.1", args.port), Health)
    server.serve_forever(poll_interval=0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
