"""`invoke load.run`: flags to a `LoadSpec`, a live progress bar, the report, the exit code.

Importing this module is cheap (invoke only); the runner loads when the task runs.
"""

from __future__ import annotations

import json as json_module
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from tasker_cluster.cli import exit_codes

if TYPE_CHECKING:
    from tasker_cluster.load.report import LoadReport
    from tasker_cluster.load.spec import LoadSpec
    from tasker_cluster.load.target import LoadTarget

EXIT_BROKEN = exit_codes.FAILED
EXIT_USAGE = exit_codes.USAGE
SEED_LIMIT = 2**31
PIPE_WIDTH = 140


_NUMBER_FLAGS: dict[str, type[int] | type[float]] = {
    "tasks": int,
    "width": int,
    "concurrency": int,
    "seed": int,
    "sleep_ms": int,
    "rate": float,
    "timeout": float,
}
Flag = str | int | float | None


def build_spec(
    *, manifest: str | None = None, chaos: Sequence[str] | None = None, **flags: Flag
) -> LoadSpec:
    """The manifest's spec (or the defaults) with every given flag applied on top.

    Flags are LoadSpec fields; numbers may be given as text, as invoke passes them.
    """
    from tasker_cluster.load.errors import LoadSpecError, ManifestError  # noqa: PLC0415
    from tasker_cluster.load.manifest import read_manifest  # noqa: PLC0415
    from tasker_cluster.load.spec import LoadSpec  # noqa: PLC0415

    base: dict[str, Any] = LoadSpec().to_dict()
    base["seed"] = None
    if manifest:
        recorded = read_manifest(Path(manifest)).load
        if recorded is None:
            raise ManifestError(Path(manifest), "it records a cluster start, not a load run")
        base = recorded.to_dict()
    for name, value in flags.items():
        if name not in base:
            raise LoadSpecError(name, value, f"is not a load parameter ({', '.join(base)})")
        if value is None:
            continue
        kind = _NUMBER_FLAGS.get(name)
        try:
            base[name] = kind(value) if kind is not None else str(value)
        except ValueError:
            rule = "must be an integer" if kind is int else "must be a number"
            raise LoadSpecError(name, value, rule) from None
    if chaos:
        base["chaos"] = list(chaos)
    if base["seed"] is None:
        base["seed"] = secrets.randbelow(SEED_LIMIT)
    return LoadSpec.from_dict(base)


def resolve_cli_target(
    cluster_dir: str | None,
    env_file: str | None,
    urls: str | None,
    api_key: str | None = None,
    jwt: str | None = None,
) -> LoadTarget:
    """`--urls`, else TASKER_TEST_ORCHESTRATION_URLS, else the cluster of `cluster.start`.

    Credentials: `--api-key` / `--jwt`, else TASKER_TEST_API_KEY / TASKER_TEST_JWT, else (for
    a cluster directory with auth on) a key from the cluster's own configuration.
    """
    from tasker_cluster.client.cluster_config import (  # noqa: PLC0415 - see module doc
        API_KEY_VAR,
        JWT_VAR,
        ClusterConfig,
        credential,
        credential_from_env,
        parse_url_list,
    )
    from tasker_cluster.client.environment import ORCHESTRATION_URLS_VAR  # noqa: PLC0415
    from tasker_cluster.load.target import (  # noqa: PLC0415 - see module doc
        resolve_target,
        target_from_cluster_dir,
        with_credentials,
    )

    api_key = credential("--api-key", api_key) or credential_from_env(os.environ, API_KEY_VAR)
    jwt = credential("--jwt", jwt) or credential_from_env(os.environ, JWT_VAR)
    if urls:
        target = resolve_target(ClusterConfig(parse_url_list("--urls", urls)))
    elif os.environ.get(ORCHESTRATION_URLS_VAR) and cluster_dir is None:
        target = resolve_target(ClusterConfig.from_env())
    else:
        from tasker_cluster.cli.session import env_file_paths  # noqa: PLC0415 - see module doc

        env_files = env_file_paths(env_file)
        target = target_from_cluster_dir(Path(cluster_dir) if cluster_dir else None, env_files)
    return with_credentials(target, api_key, jwt)


def run_task(  # noqa: PLR0913 - one parameter per flag of load.run
    ctx: Context,
    *,
    tasks: Flag = None,
    template: str | None = None,
    width: Flag = None,
    concurrency: Flag = None,
    rate: Flag = None,
    chaos: Sequence[str] | None = None,
    json: bool = False,
    report: str | None = None,
    manifest: str | None = None,
    seed: Flag = None,
    timeout: Flag = None,
    sleep_ms: Flag = None,
    cluster_dir: str | None = None,
    env_file: str | None = None,
    urls: str | None = None,
    api_key: str | None = None,
    jwt: str | None = None,
) -> None:
    """Create tasks across the cluster, follow them, verify exactly-once, report."""
    import sys  # noqa: PLC0415

    from tasker_cluster.cli.colour import console_for  # noqa: PLC0415 - see module doc
    from tasker_cluster.cli.hints import explain  # noqa: PLC0415
    from tasker_cluster.cli.load_render import LiveProgress, render_report  # noqa: PLC0415
    from tasker_cluster.errors import ClusterError  # noqa: PLC0415
    from tasker_cluster.load.errors import LoadError  # noqa: PLC0415
    from tasker_cluster.load.runner import run_load  # noqa: PLC0415

    stream = sys.stderr if json else sys.stdout
    console = console_for(stream)
    if not console.is_terminal:
        console = console_for(stream, width=max(console.width, PIPE_WIDTH))
    try:
        spec = build_spec(
            tasks=tasks,
            template=template,
            width=width,
            concurrency=concurrency,
            rate=rate,
            chaos=chaos,
            seed=seed,
            timeout=timeout,
            sleep_ms=sleep_ms,
            manifest=manifest,
        )
        target = resolve_cli_target(cluster_dir, env_file, urls, api_key, jwt)
        with LiveProgress(console_for(sys.stderr), spec.tasks) as progress:
            result = run_load(spec, target, progress.update)
    except (LoadError, ClusterError) as error:
        raise Exit(f"load.run: {explain(error)}", code=EXIT_USAGE) from None
    except KeyboardInterrupt:
        raise Exit("load.run: interrupted", code=exit_codes.INTERRUPTED) from None
    if json:
        print(json_module.dumps(result.to_dict(), indent=2), flush=True)
    else:
        render_report(result, console)
    if report:
        write_json_report(Path(report), result)
    if not result.ok:
        raise Exit(failure_message(result), code=EXIT_BROKEN)


def write_json_report(path: Path, report: LoadReport) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json_module.dumps(report.to_dict(), indent=2) + "\n")


def failure_message(report: LoadReport) -> str:
    parts = [
        f"{result.name} ({result.violations})" for result in report.invariants if not result.ok
    ]
    if report.create_errors:
        parts.append(f"task creation failed ({report.create_errors})")
    return "load.run: broken: " + ", ".join(parts)


run = task(
    name="run",
    iterable=["chaos"],
    auto_shortflags=False,
    help={
        "tasks": "number of tasks to create (default 1000)",
        "template": "fan_out (default), sleep, cpu_burn, mathematical_sequence, diamond, flaky "
        "or NAMESPACE/NAME[/VERSION]",
        "width": "parallel steps of a fan_out task (default 10)",
        "concurrency": "task creations in flight at once (default 50)",
        "rate": "at most this many creations per second (default: unlimited)",
        "chaos": "ACTION:SERVICE:every=DURATION[,for=DURATION], e.g. kill:worker-python:every=10s "
        "or pause:orchestration:every=15s,for=3s (repeatable)",
        "json": "print the report as JSON on stdout instead of tables (progress is on stderr)",
        "report": "also write the report as JSON to this path",
        "manifest": "repeat the run recorded in this manifest (same parameters and seed)",
        "seed": "seed of the chaos victim choice (default: random, shown in the report)",
        "timeout": "give up following tasks after this many seconds (default 300)",
        "sleep-ms": "sleep_ms of fan_out steps / duration of sleep and cpu_burn steps (default 0)",
        "cluster-dir": "cluster directory of `cluster.start` (default: TASKER_CLUSTER_DIR)",
        "env-file": "env file of the cluster (default: config/dotenv/multi-instance.env)",
        "urls": "comma-separated orchestration URLs instead of a cluster directory",
        "api-key": "send this X-API-Key with every request (default: TASKER_TEST_API_KEY, else "
        "a key of the cluster's own configuration when its auth is on)",
        "jwt": "send Authorization: Bearer with this token (default: TASKER_TEST_JWT)",
    },
)(run_task)
load_collection = Collection("load")
load_collection.add_task(run)
