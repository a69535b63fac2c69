"""Fixture factories in the style of pytest-redis: declare as many clusters as a suite needs.

```python
# conftest.py
from tasker_cluster.testing.plugin_factories import tasker_cluster_noproc, tasker_cluster_proc

big_cluster = tasker_cluster_proc(orchestration=3, workers=3)
postgres_cluster = tasker_cluster_proc(db="postgres", scope="module")
staging = tasker_cluster_noproc(orchestration_urls=("http://127.0.0.1:8080",))
```

Each assignment is a fixture named like the variable that yields a
`MultiInstanceTestManager`. A parameter left out comes from the plugin's options and ini keys
(`--tasker-workers`, `--tasker-env`, ...).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from tasker_cluster.testing.plugin_options import Backend, PluginSettings

if TYPE_CHECKING:
    from tasker_cluster.testing.manager import MultiInstanceTestManager

Scope = Literal["session", "package", "module", "class", "function"]
SPEC_ATTRIBUTE = "tasker_cluster_spec"


@dataclass(frozen=True)
class ClusterSpec:
    """What a factory was given; `resolve` fills the rest in from the session's settings."""

    managed: bool
    orchestration: int | None = None
    workers: int | None = None
    db: Backend | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    env_file: Path | None = None
    cluster_dir: Path | None = None
    free_ports: bool | None = None
    startup_timeout: float | None = None
    orchestration_urls: tuple[str, ...] = ()
    worker_urls: tuple[str, ...] = ()

    def resolve(self, base: PluginSettings, name: str) -> PluginSettings:
        given: dict[str, Any] = {
            key: value
            for key, value in (
                ("orchestration", self.orchestration),
                ("workers", self.workers),
                ("db", self.db),
                ("env_file", self.env_file),
                ("free_ports", self.free_ports),
                ("startup_timeout", self.startup_timeout),
            )
            if value is not None
        }
        if self.managed:
            # a managed cluster of its own: never the directory of the session's cluster
            cluster_dir = self.cluster_dir or (
                base.cluster_dir / name if base.cluster_dir is not None else None
            )
            return dataclasses.replace(
                base,
                mode="managed",
                env={**base.env, **self.env},
                cluster_dir=cluster_dir,
                orchestration_urls=(),
                worker_urls=(),
                **given,
            )
        attach_by_url = bool(self.orchestration_urls)
        return dataclasses.replace(
            base,
            mode="external",
            cluster_dir=None if attach_by_url else (self.cluster_dir or base.cluster_dir),
            orchestration_urls=self.orchestration_urls,
            worker_urls=self.worker_urls,
            **given,
        )


def cluster_spec(function: object) -> ClusterSpec | None:
    """The spec of a factory-made fixture function, None for any other function."""
    spec = getattr(function, SPEC_ATTRIBUTE, None)
    return spec if isinstance(spec, ClusterSpec) else None


def _make_fixture(spec: ClusterSpec, scope: Scope, doc: str) -> Any:
    def cluster_fixture(request: pytest.FixtureRequest) -> Iterator[MultiInstanceTestManager]:
        from tasker_cluster.testing.plugin import plugin_session  # noqa: PLC0415 - cycle

        session = plugin_session(request.config)
        name = request.fixturename
        assert name is not None
        manager = session.start(name, spec.resolve(session.settings, name))
        yield manager
        session.stop(name, keep_files=request.session.testsfailed > 0)

    cluster_fixture.__doc__ = doc
    setattr(cluster_fixture, SPEC_ATTRIBUTE, spec)
    return pytest.fixture(scope=scope)(cluster_fixture)


def tasker_cluster_proc(  # noqa: PLR0913 - a fixture factory's options, as pytest-redis' take them
    *,
    orchestration: int | None = None,
    workers: int | None = None,
    db: Backend | None = None,
    env: Mapping[str, str] | None = None,
    env_file: Path | str | None = None,
    cluster_dir: Path | str | None = None,
    free_ports: bool | None = None,
    startup_timeout: float | None = None,
    scope: Scope = "session",
) -> Any:
    """A fixture that starts a cluster of its own, yields its manager and stops it.

    Left-out parameters come from the plugin's options; `env` is added to `--tasker-env`.
    Without `cluster_dir` state goes to a temporary directory, or to `<--tasker-cluster-dir>/
    <fixture name>` when that option is given. On failure the state is kept and named in the
    terminal summary, as for `tasker_cluster`.
    """
    if orchestration is not None and orchestration < 1:
        raise ValueError(f"tasker_cluster_proc(orchestration={orchestration}): must be >= 1")
    if workers is not None and workers < 0:
        raise ValueError(f"tasker_cluster_proc(workers={workers}): must be >= 0")
    spec = ClusterSpec(
        managed=True,
        orchestration=orchestration,
        workers=workers,
        db=db,
        env=dict(env or {}),
        env_file=Path(env_file) if env_file is not None else None,
        cluster_dir=Path(cluster_dir) if cluster_dir is not None else None,
        free_ports=free_ports,
        startup_timeout=startup_timeout,
    )
    return _make_fixture(spec, scope, "A managed cluster declared with tasker_cluster_proc.")


def tasker_cluster_noproc(
    *,
    cluster_dir: Path | str | None = None,
    orchestration_urls: tuple[str, ...] | list[str] = (),
    worker_urls: tuple[str, ...] | list[str] = (),
    env_file: Path | str | None = None,
    startup_timeout: float | None = None,
    scope: Scope = "session",
) -> Any:
    """A fixture that attaches to a running cluster (never starts or stops one).

    Through `cluster_dir` (a cluster started with `invoke cluster.start`: logs and fault
    injection work) or by `orchestration_urls` (any deployment: `fault_injection` tests that
    use it are skipped at collection). With neither, the plugin's `--tasker-cluster-dir`,
    `TASKER_CLUSTER_DIR` or `TASKER_TEST_ORCHESTRATION_URLS` is used.
    """
    if cluster_dir is not None and orchestration_urls:
        raise ValueError("tasker_cluster_noproc: give cluster_dir or orchestration_urls, not both")
    if worker_urls and not orchestration_urls:
        raise ValueError("tasker_cluster_noproc: worker_urls need orchestration_urls")
    spec = ClusterSpec(
        managed=False,
        cluster_dir=Path(cluster_dir) if cluster_dir is not None else None,
        orchestration_urls=tuple(orchestration_urls),
        worker_urls=tuple(worker_urls),
        env_file=Path(env_file) if env_file is not None else None,
        startup_timeout=startup_timeout,
    )
    return _make_fixture(spec, scope, "A running cluster attached with tasker_cluster_noproc.")
