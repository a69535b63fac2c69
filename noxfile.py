"""Reproducible lint, test and cluster-matrix sessions: `nox --list` shows them all."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True
nox.options.sessions = [
    "lint",
    "typecheck",
    "unit",
    "integration",
    "single_instance",
    "multi_instance",
]

DEV_EXTRAS = ".[dev]"
SHARED_ENV = "cluster_env"
# bin directory and location of the one environment every cluster session runs in, set by the
# `cluster_env` session, which nox runs (once per invocation) before any session requiring it
_SHARED: dict[str, str] = {}
PYTHON_PATHS = ("src", "tests", "scripts", "tasks.py", "noxfile.py")
CLUSTER_MATRIX = [
    nox.param(
        orchestration,
        workers,
        db,
        id=f"{orchestration}orch-{workers}workers-{db}",
        tags=["postgres"] if db == "postgres" else [],
    )
    for db in ("sqlite", "postgres")
    for orchestration in (2, 3)
    for workers in (2, 3)
]


def _install(session: nox.Session, extras: str = DEV_EXTRAS) -> None:
    session.install("-e", extras)


@nox.session(tags=["quick"])
def lint(session: nox.Session) -> None:
    """Ruff lint and format check (posargs: the paths to check instead of all)."""
    session.install("ruff")
    paths = session.posargs or PYTHON_PATHS
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package, tasks.py and noxfile.py."""
    _install(session)
    session.run("mypy", *session.posargs)


@nox.session
def unit(session: nox.Session) -> None:
    """Fast tests of every component (config, records, client, plugin, API)."""
    _install(session)
    session.run("pytest", "-m", "not slow", "--ignore=tests/cluster", *session.posargs)


@nox.session(tags=["quick"], default=False)
def unit_quick(session: nox.Session) -> None:
    """Unit tests minus PostgreSQL, signal and connect-timeout tests, on 2 xdist workers
    (< 60 s with lint: `nox -t quick`); `unit` in the default run covers them all."""
    _install(session)
    session.run(
        "pytest",
        "-n",
        "2",
        "-m",
        "not slow and not postgres",
        "--ignore=tests/cluster",
        "--deselect=tests/services/test_signals.py",
        "--deselect=tests/load/test_cli.py::test_nothing_listening_is_named",
        *session.posargs,
    )


@nox.session
def integration(session: nox.Session) -> None:
    """Slow tests: real processes, crashes, both databases, the fuzz run, tasker-core's own
    client (the `tasker-py` wheel) against our orchestration."""
    _install(session, ".[dev,tasker-core]")
    session.run("pytest", "-m", "slow", "--ignore=tests/cluster", *session.posargs)


def _run_cluster_tests(
    session: nox.Session, orchestration: int, workers: int, db: str, *extra: str
) -> None:
    """Start a cluster of its own (ports, state dir, database), test it, always stop it.

    Runs in the shared environment of `cluster_env` (the session itself has none)."""
    bin_dir = _SHARED.get("bin")
    if bin_dir is None:
        session.error(f"the {SHARED_ENV} session did not run first")
    cluster_dir = Path(session.create_tmp()) / "cluster"
    shutil.rmtree(cluster_dir, ignore_errors=True)
    shared_env = {
        "VIRTUAL_ENV": _SHARED["location"],
        "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
    }
    session.run(
        str(Path(bin_dir) / "pytest"),
        "tests/cluster",
        "--tasker-cluster=managed",
        f"--tasker-orchestration={orchestration}",
        f"--tasker-workers={workers}",
        f"--tasker-db={db}",
        f"--tasker-cluster-dir={cluster_dir}",
        *extra,
        *session.posargs,
        env=shared_env,
        external=True,
    )
    shutil.rmtree(cluster_dir, ignore_errors=True)  # kept (with its logs) only on failure


@nox.session(name=SHARED_ENV)
def cluster_env(session: nox.Session) -> None:
    """The one environment the cluster sessions share: installed here, once per nox run."""
    _install(session)
    _SHARED["bin"] = session.bin
    _SHARED["location"] = str(Path(session.bin).parent)


@nox.session(tags=["cluster"], venv_backend="none", requires=[SHARED_ENV])
def single_instance(session: nox.Session) -> None:
    """Race and consistency tests against one of each service, legacy names and ports."""
    _run_cluster_tests(
        session,
        1,
        1,
        "sqlite",
        "--tasker-env-file=config/dotenv/single-instance.env",
        "--tasker-ports=configured",
    )


@nox.session(tags=["cluster"], venv_backend="none", requires=[SHARED_ENV])
@nox.parametrize(("orchestration", "workers", "db"), CLUSTER_MATRIX)
def multi_instance(session: nox.Session, orchestration: int, workers: int, db: str) -> None:
    """Race and consistency tests against N orchestration and M worker instances."""
    _run_cluster_tests(session, orchestration, workers, db)


@nox.session
def bench(session: nox.Session) -> None:
    """Lifecycle and workload benchmarks: tables, JSON and PNG charts under results/ (posargs:
    scripts/bench.py's, e.g. --quick)."""
    _install(session, ".[dev,bench]")
    session.run("python", "scripts/bench.py", *session.posargs)
