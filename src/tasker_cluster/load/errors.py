"""Errors of the load runner: each class carries its facts and builds its own message."""

from __future__ import annotations

from pathlib import Path

CHAOS_FORM = (
    "ACTION:SERVICE:every=DURATION[,for=DURATION] with ACTION kill, pause or rolling-restart "
    "and durations like 500ms, 10s or 2m (e.g. kill:worker-python:every=10s or "
    "pause:orchestration:every=15s,for=3s)"
)


class LoadError(Exception):
    """Base of every error raised by `tasker_cluster.load`."""


class ChaosSpecError(LoadError):
    """A `--chaos` value that does not parse."""

    def __init__(self, spec: str, problem: str) -> None:
        self.spec = spec
        self.problem = problem
        super().__init__(f"invalid chaos spec {spec!r}: {problem}; expected {CHAOS_FORM}")


class LoadSpecError(LoadError):
    """A load parameter outside its allowed range."""

    def __init__(self, field: str, value: object, rule: str) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        super().__init__(f"invalid load parameter {field}={value!r}: {rule}")


class UnknownTemplateError(LoadError):
    """A `--template` name the load runner cannot build a context for."""

    def __init__(self, template: str, known: list[str]) -> None:
        self.template = template
        self.known = known
        super().__init__(
            f"unknown template {template!r}: use one of {', '.join(known)} "
            "(or NAMESPACE/NAME for a template whose context is {})"
        )


class NoOrchestrationError(LoadError):
    """Nothing to send load to."""

    def __init__(self, cluster_dir: Path | None) -> None:
        self.cluster_dir = cluster_dir
        where = f"in the cluster directory {cluster_dir}" if cluster_dir else "anywhere"
        super().__init__(
            f"no running orchestration instance found {where} and "
            "TASKER_TEST_ORCHESTRATION_URLS is not set"
        )


class ChaosNeedsClusterError(LoadError):
    """Chaos was asked for while the target is a list of URLs, not a managed cluster."""

    def __init__(self, specs: list[str]) -> None:
        self.specs = specs
        super().__init__(
            f"chaos ({', '.join(specs)}) needs a managed cluster (its processes are "
            "signalled and restarted), not the bare URLs of TASKER_TEST_ORCHESTRATION_URLS"
        )


class NoVictimError(LoadError):
    """A chaos spec names a service of which no instance is running."""

    def __init__(self, service: str, running: list[str]) -> None:
        self.service = service
        self.running = running
        listed = ", ".join(running) if running else "none"
        super().__init__(
            f"chaos targets service {service!r} but no instance of it is running "
            f"(running instances: {listed})"
        )


class ManifestError(LoadError):
    """A manifest file that cannot be read back."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"cannot use manifest {path}: {problem}")
