"""Run one `Cluster.start` in its own process and print what it did as JSON.

Usage: python start_cluster.py '<overrides as JSON>'. Used to race two starts against each other.
"""

from __future__ import annotations

import json
import os
import sys

from tasker_cluster.cluster.facade import Cluster
from tasker_cluster.config.loader import load_settings


def main() -> None:
    overrides = json.loads(sys.argv[1])
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TASKER_")}
    cluster = Cluster(load_settings(env_files=[], overrides=overrides, environ=environ))
    report = cluster.start(timeout=60)
    result = {"started": report.started, "already_running": report.already_running}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
