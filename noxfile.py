"""Reproducible lint, test and cluster-matrix sessions: `nox --list` shows them all."""

from __future__ import annotations

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
PYTHON_PATHS = ("src", "tests", "scripts", "tasks.py", "noxfile.py")
CLUSTER_MATRIX = [
    nox.param(orchestration, workers, db, id=f"{orchestration}orch-{workers}workers-{db}")
    for db in ("sqlite", "postgres")
    for orchestration in (2, 3)
    for workers in (2, 3)
]


def _install(session: nox.Session, extras: str = DEV_EXTRAS) -> None:
    session.install("-e", extras)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    session.install("ruff")
    session.run("ruff", "check", *PYTHON_PATHS)
    session.run("ruff", "format", "--check", *PYTHON_PATHS)


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


@nox.session
def integration(session: nox.Session) -> None:
    """Slow tests: real processes, crashes, both databases, the fuzz run."""
    _install(session)
    session.run("pytest", "-m", "slow", "--ignore=tests/cluster", *session.posargs)


def _run_cluster_tests(
    session: nox.Session, orchestration: int, workers: int, db: str, *extra: str
) -> None:
    """Start a cluster of its own (ports, state dir, database), test it, always stop it."""
    _install(session)
    cluster_dir = Path(session.create_tmp()) / "cluster"
    shutil.rmtree(cluster_dir, ignore_errors=True)
    session.run(
        "pytest",
        "tests/cluster",
        "--tasker-cluster=managed",
        f"--tasker-orchestration={orchestration}",
        f"--tasker-workers={workers}",
        f"--tasker-db={db}",
        f"--tasker-cluster-dir={cluster_dir}",
        *extra,
        *session.posargs,
    )
    shutil.rmtree(cluster_dir, ignore_errors=True)  # kept (with its logs) only on failure


@nox.session
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


@nox.session
@nox.parametrize(("orchestration", "workers", "db"), CLUSTER_MATRIX)
def multi_instance(session: nox.Session, orchestration: int, workers: int, db: str) -> None:
    """Race and consistency tests against N orchestration and M worker instances."""
    _run_cluster_tests(session, orchestration, workers, db)


@nox.session
def bench(session: nox.Session) -> None:
    """Lifecycle and workload benchmarks: tables, JSON and PNG charts under results/."""
    _install(session, ".[dev,bench]")
    session.run("python", "scripts/bench.py", *session.posargs)
