"""What a load run does: `LoadSpec`, and the task requests it sends."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tasker_cluster.api.task_request import TaskRequest
from tasker_cluster.load.chaos_spec import ChaosSpec, parse_chaos
from tasker_cluster.load.errors import LoadSpecError, UnknownTemplateError

MAX_FAN_OUT_WIDTH = 1000
ContextBuilder = Callable[["LoadSpec"], dict[str, Any]]


@dataclass(frozen=True)
class TemplateRef:
    namespace: str
    name: str
    version: str
    context: ContextBuilder


BUILT_IN_TEMPLATES: dict[str, TemplateRef] = {
    "fan_out": TemplateRef(
        "load_testing", "fan_out", "1.0.0", lambda s: {"width": s.width, "sleep_ms": s.sleep_ms}
    ),
    "sleep": TemplateRef(
        "load_testing", "sleep", "1.0.0", lambda s: {"seconds": s.sleep_ms / 1000}
    ),
    "cpu_burn": TemplateRef(
        "load_testing", "cpu_burn", "1.0.0", lambda s: {"milliseconds": s.sleep_ms}
    ),
    "mathematical_sequence": TemplateRef(
        "linear_workflow", "mathematical_sequence", "1.0.0", lambda s: {"even_number": 2}
    ),
    "diamond": TemplateRef("diamond_workflow", "diamond", "1.0.0", lambda s: {"even_number": 2}),
    "flaky": TemplateRef("retry_workflow", "flaky", "1.0.0", lambda s: {"fail_times": 1}),
}


def resolve_template(template: str) -> TemplateRef:
    """A built-in short name, or `NAMESPACE/NAME[/VERSION]` sent with an empty context."""
    if template in BUILT_IN_TEMPLATES:
        return BUILT_IN_TEMPLATES[template]
    parts = template.split("/")
    if len(parts) in (2, 3) and all(parts):
        short = BUILT_IN_TEMPLATES.get(parts[1])
        if short is not None and short.namespace == parts[0]:
            return short
        version = parts[2] if len(parts) == 3 else "1.0.0"
        return TemplateRef(parts[0], parts[1], version, lambda s: {})
    raise UnknownTemplateError(template, sorted(BUILT_IN_TEMPLATES))


@dataclass(frozen=True)
class LoadSpec:
    """Parameters of one load run; with the same seed, chaos picks the same victims."""

    tasks: int = 1000
    template: str = "fan_out"
    width: int = 10
    concurrency: int = 50
    rate: float | None = None
    chaos: tuple[ChaosSpec, ...] = field(default=())
    seed: int = 0
    timeout: float = 300.0
    sleep_ms: int = 0

    def __post_init__(self) -> None:
        _check(self.tasks >= 1, "tasks", self.tasks, "must be at least 1")
        _check(
            1 <= self.width <= MAX_FAN_OUT_WIDTH,
            "width",
            self.width,
            f"must be between 1 and {MAX_FAN_OUT_WIDTH}",
        )
        _check(1 <= self.concurrency <= 1000, "concurrency", self.concurrency, "must be 1..1000")
        _check(self.rate is None or self.rate > 0, "rate", self.rate, "must be > 0 tasks/s")
        _check(self.timeout > 0, "timeout", self.timeout, "must be > 0 seconds")
        _check(self.sleep_ms >= 0, "sleep_ms", self.sleep_ms, "must be >= 0")
        _check(self.seed >= 0, "seed", self.seed, "must be >= 0")
        resolve_template(self.template)

    def task_request(self) -> TaskRequest:
        """One creation of this run: a new correlation id and its own idempotency key, so a
        resend after a lost answer (on any instance) answers the task it created."""
        ref = resolve_template(self.template)
        return TaskRequest(
            name=ref.name,
            namespace=ref.namespace,
            version=ref.version,
            context=ref.context(self),
            initiator="tasker-cluster-load",
            source_system="load.run",
            reason=f"load run seed={self.seed}",
            tags=("load",),
            idempotency_key=f"load-{uuid.uuid4()}",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "tasks": self.tasks,
            "template": self.template,
            "width": self.width,
            "concurrency": self.concurrency,
            "rate": self.rate,
            "chaos": [spec.text for spec in self.chaos],
            "seed": self.seed,
            "timeout": self.timeout,
            "sleep_ms": self.sleep_ms,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LoadSpec:
        rate = data.get("rate")
        return cls(
            tasks=int(data["tasks"]),
            template=str(data["template"]),
            width=int(data["width"]),
            concurrency=int(data["concurrency"]),
            rate=None if rate is None else float(rate),
            chaos=tuple(parse_chaos(str(text)) for text in data.get("chaos", [])),
            seed=int(data["seed"]),
            timeout=float(data["timeout"]),
            sleep_ms=int(data.get("sleep_ms", 0)),
        )


def _check(condition: bool, name: str, value: object, rule: str) -> None:
    if not condition:
        raise LoadSpecError(name, value, rule)
