"""Parsing of `--chaos` values such as `kill:worker-python:every=10s`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from tasker_cluster.load.errors import ChaosSpecError

_SERVICE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_DURATION = re.compile(r"^(?P<number>[0-9]+(?:\.[0-9]+)?)(?P<unit>ms|s|m)$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0}
_MIN_EVERY_SECONDS = 0.1
DEFAULT_PAUSE_SECONDS = 3.0


class ChaosAction(StrEnum):
    KILL = "kill"
    PAUSE = "pause"
    ROLLING_RESTART = "rolling-restart"


@dataclass(frozen=True)
class ChaosSpec:
    """One fault source: every `every_s` seconds, hit a random instance of `service`.

    `for_s` is how long the victim stays paused (pause) or dead before its restart (kill).
    """

    action: ChaosAction
    service: str
    every_s: float
    for_s: float

    @property
    def text(self) -> str:
        return f"{self.action}:{self.service}:every={_fmt(self.every_s)},for={_fmt(self.for_s)}"


def _fmt(seconds: float) -> str:
    if seconds == 0:
        return "0s"
    if seconds < 1 or seconds != int(seconds):
        return f"{round(seconds * 1000)}ms"
    return f"{int(seconds)}s"


def parse_duration(spec: str, text: str) -> float:
    """Seconds in `text` (`500ms`, `10s`, `1.5m`), or ChaosSpecError naming `spec`."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ChaosSpecError(spec, f"duration {text!r} is not a number followed by ms, s or m")
    return float(match["number"]) * _UNIT_SECONDS[match["unit"]]


def parse_chaos(spec: str) -> ChaosSpec:
    """Parse `ACTION:SERVICE:every=DURATION[,for=DURATION]`."""
    parts = spec.strip().split(":")
    if len(parts) != 3:
        raise ChaosSpecError(spec, f"it has {len(parts)} ':'-separated parts, not 3")
    action_text, service, options_text = (part.strip() for part in parts)
    try:
        action = ChaosAction(action_text)
    except ValueError:
        actions = ", ".join(action.value for action in ChaosAction)
        raise ChaosSpecError(spec, f"action {action_text!r} is not one of {actions}") from None
    if not _SERVICE.match(service):
        raise ChaosSpecError(spec, f"service {service!r} is not a service type name")
    options = _parse_options(spec, options_text)
    if "every" not in options:
        raise ChaosSpecError(spec, "every=DURATION is missing")
    every_s = parse_duration(spec, options["every"])
    if every_s < _MIN_EVERY_SECONDS:
        raise ChaosSpecError(spec, f"every={options['every']} is shorter than 100ms")
    default_for = DEFAULT_PAUSE_SECONDS if action is ChaosAction.PAUSE else 0.0
    for_s = parse_duration(spec, options["for"]) if "for" in options else default_for
    if for_s >= every_s:
        for_text = options.get("for", _fmt(for_s))
        raise ChaosSpecError(spec, f"for={for_text} must be shorter than every={options['every']}")
    return ChaosSpec(action=action, service=service, every_s=every_s, for_s=for_s)


def _parse_options(spec: str, text: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not value.strip():
            raise ChaosSpecError(spec, f"option {item.strip()!r} is not KEY=VALUE")
        if key not in ("every", "for"):
            raise ChaosSpecError(spec, f"option {key!r} is unknown (use every= and for=)")
        if key in options:
            raise ChaosSpecError(spec, f"option {key!r} is given twice")
        options[key] = value.strip()
    return options
