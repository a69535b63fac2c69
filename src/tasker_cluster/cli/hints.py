"""What to do next, in the words of this command line: the library states facts, the CLI adds
the flag or command that fixes them."""

from __future__ import annotations

from dataclasses import dataclass

from tasker_cluster.cluster.errors import (
    InstanceNotConfiguredError,
    NotRunningError,
    StartTimeoutError,
)
from tasker_cluster.config.errors import EnvFileNotFoundError
from tasker_cluster.load.errors import (
    ChaosNeedsClusterError,
    ManifestError,
    NoOrchestrationError,
    NoVictimError,
)


@dataclass(frozen=True)
class Hint:
    """A sentence to add to an error's message, and what joins it to the message."""

    text: str
    joiner: str = "; "


HINTS: dict[type[Exception], Hint] = {
    EnvFileNotFoundError: Hint(
        "pass an existing file, e.g. --env-file config/dotenv/multi-instance.env"
    ),
    StartTimeoutError: Hint(
        "read their logs with `invoke cluster.logs --instance=<id>`, or allow more time "
        "with --timeout",
        "\n",
    ),
    InstanceNotConfiguredError: Hint("pass its profile with --env-file"),
    NotRunningError: Hint("start it with `invoke cluster.start` or see `invoke cluster.status`"),
    NoOrchestrationError: Hint(
        "start one with `invoke cluster.start`, pass --cluster-dir, or set "
        "TASKER_TEST_ORCHESTRATION_URLS to comma-separated URLs"
    ),
    ChaosNeedsClusterError: Hint(
        "start the cluster with `invoke cluster.start` and unset "
        "TASKER_TEST_ORCHESTRATION_URLS, or drop --chaos"
    ),
    NoVictimError: Hint("start one (`invoke cluster.scale TYPE=N`) or change --chaos"),
    ManifestError: Hint(
        "pass --manifest a file written by `invoke load.run` "
        "(<cluster dir>/manifests/load-run-*.json)"
    ),
}


def explain(error: Exception) -> str:
    """The error's message, followed by the CLI's hint for its kind, if there is one."""
    hint = next((h for kind, h in HINTS.items() if isinstance(error, kind)), None)
    return str(error) if hint is None else f"{error}{hint.joiner}{hint.text}"
