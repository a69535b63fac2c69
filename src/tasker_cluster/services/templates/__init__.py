"""Built-in task templates, stored as JSON data files next to this module."""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources

from ..errors import TemplateNotFoundError
from .model import ContextField, StepSpec, StepTemplate, TaskTemplate, parse_template

__all__ = [
    "ContextField",
    "StepSpec",
    "StepTemplate",
    "TaskTemplate",
    "TemplateRegistry",
    "parse_template",
]


class TemplateRegistry:
    """Templates by `(namespace, name, version)`."""

    def __init__(self, templates: Iterable[TaskTemplate]) -> None:
        self._templates = {template.key: template for template in templates}

    @classmethod
    def builtin(cls) -> TemplateRegistry:
        folder = resources.files(__name__)
        templates = [
            parse_template(entry.name, json.loads(entry.read_text(encoding="utf-8")))
            for entry in sorted(folder.iterdir(), key=lambda item: item.name)
            if entry.name.endswith(".json")
        ]
        return cls(templates)

    def get(self, namespace: str, name: str, version: str) -> TaskTemplate:
        try:
            return self._templates[(namespace, name, version)]
        except KeyError:
            raise TemplateNotFoundError(namespace, name, version) from None

    def all(self) -> list[TaskTemplate]:
        return sorted(self._templates.values(), key=lambda template: template.key)

    def namespaces(self) -> list[str]:
        return sorted({template.namespace for template in self._templates.values()})

    def in_namespaces(self, namespaces: Iterable[str]) -> list[TaskTemplate]:
        wanted = set(namespaces)
        return [template for template in self.all() if template.namespace in wanted]
