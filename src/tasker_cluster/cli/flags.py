"""The flags both front ends share: their help texts and defaults.

`tasks.py` (the invoke tasks) and `cli.main` (`tasker-cluster`) document and default every
flag of `start`, `stop` and `status` from here, so the two cannot drift apart.
"""

from __future__ import annotations

SELECT_HELP = {
    "service": "only instances of this service type, e.g. orchestration or worker-python",
    "instance": "only this instance, e.g. orchestration-2",
}
ENV_FILE_HELP = (
    "profile to read (default: config/dotenv/multi-instance.env); repeat it, or separate files "
    "with commas, to layer several (later ones win)"
)
STOP_TIMEOUT_HELP = "seconds between SIGTERM and SIGKILL{when} (default: 10)"

# the per-type shorthand flags of start: flag name -> service type
START_TYPE_FLAGS = {
    "orchestration": "orchestration",
    "worker_python": "worker-python",
    "worker_rust": "worker-rust",
    "worker_ruby": "worker-ruby",
    "worker_ts": "worker-ts",
}
START_HELP = {
    "scale": "TYPE=N: run N instances of any configured type (repeatable), e.g. worker-python=3",
    **{
        flag: f"number of {service} instances (default: from the env file)"
        for flag, service in START_TYPE_FLAGS.items()
    },
    "wait": "wait until every instance answers healthy (default: on; --no-wait to skip)",
    "timeout": "seconds to wait for all instances to become healthy (default: 60)",
}
STOP_HELP = {**SELECT_HELP, "timeout": STOP_TIMEOUT_HELP.format(when="")}
STATUS_HELP = {
    "service": SELECT_HELP["service"],
    "json": "print the rows as JSON",
    "check": "exit non-zero unless every instance is healthy",
    "watch": "refresh every 2 s until Ctrl-C",
}

START_TIMEOUT = 60
STOP_TIMEOUT = 10

START_DOC = "Start instances in parallel; wait until all are healthy."
STOP_DOC = "Stop instances and all their child processes."
STATUS_DOC = "Show state, pid, port, uptime, CPU, RSS and health."
