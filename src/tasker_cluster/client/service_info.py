"""Health and template answers of orchestration and worker instances."""

from __future__ import annotations

from dataclasses import dataclass, field

from tasker_cluster.client.fields import Fields, JsonObject


@dataclass(frozen=True)
class Health:
    status: str
    timestamp: str | None
    instance_id: str | None
    worker_id: str | None
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_healthy(self) -> bool:
        return self.status == "healthy"

    @classmethod
    def parse(cls, raw: object, url: str) -> Health:
        f = Fields(raw, "health response", url)
        return cls(
            status=f.text("status"),
            timestamp=f.opt_text("timestamp"),
            instance_id=f.opt_text("instance_id"),
            worker_id=f.opt_text("worker_id"),
            raw=f.raw,
        )


@dataclass(frozen=True)
class TemplateStep:
    name: str
    handler: str | None
    dependencies: tuple[str, ...]


@dataclass(frozen=True)
class Template:
    namespace: str
    name: str
    version: str
    description: str | None
    steps: tuple[TemplateStep, ...]
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse_list(cls, raw: object, url: str) -> tuple[Template, ...]:
        outer = Fields(raw, "template list", url)
        return tuple(cls._parse_one(item, url) for item in outer.items("templates"))

    @classmethod
    def _parse_one(cls, raw: object, url: str) -> Template:
        f = Fields(raw, "template", url)
        steps = []
        for step in f.items("steps"):
            s = Fields(step, "template step", url)
            steps.append(
                TemplateStep(s.text("name"), s.opt_text("handler"), s.texts("dependencies"))
            )
        return cls(
            namespace=f.text("namespace"),
            name=f.text("name"),
            version=f.text("version"),
            description=f.opt_text("description"),
            steps=tuple(steps),
            raw=f.raw,
        )
