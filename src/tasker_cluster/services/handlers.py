"""Step handlers, shaped like tasker's Python worker, and the built-in ones."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .errors import UnknownHandlerError


class StepInterrupted(Exception):
    """Raised inside a handler when the worker shuts down; the step is released, not failed."""


@dataclass(frozen=True)
class StepContext:
    task_uuid: str
    step_uuid: str
    step_name: str
    input_data: Mapping[str, Any]
    dependency_results: Mapping[str, Any]
    retry_count: int
    max_retries: int
    stop_requested: threading.Event = field(default_factory=threading.Event, compare=False)

    def sleep(self, seconds: float) -> None:
        """Sleep, but give the step back at once if the worker is shutting down."""
        if self.stop_requested.wait(max(seconds, 0.0)):
            raise StepInterrupted(f"step {self.step_uuid} interrupted by shutdown")


@dataclass(frozen=True)
class StepHandlerResult:
    success: bool
    result: Any = None
    error_message: str | None = None
    retryable: bool = False
    metadata: Mapping[str, Any] = field(default_factory=dict)


class StepHandler(ABC):
    handler_name: ClassVar[str]

    @abstractmethod
    def call(self, context: StepContext) -> StepHandlerResult: ...

    def success(
        self, result: Any = None, metadata: Mapping[str, Any] | None = None
    ) -> StepHandlerResult:
        return StepHandlerResult(success=True, result=result, metadata=metadata or {})

    def failure(
        self, message: str, retryable: bool = True, metadata: Mapping[str, Any] | None = None
    ) -> StepHandlerResult:
        return StepHandlerResult(
            success=False, error_message=message, retryable=retryable, metadata=metadata or {}
        )


def _dependency_values(context: StepContext) -> list[int]:
    return [int(result["value"]) for result in context.dependency_results.values()]


class SquareHandler(StepHandler):
    """Squares its single dependency's value, or the context's `even_number` at the root."""

    handler_name = "square"

    def call(self, context: StepContext) -> StepHandlerResult:
        values = _dependency_values(context)
        base = values[0] if values else int(context.input_data["even_number"])
        return self.success({"value": base * base})


class MultiplyHandler(StepHandler):
    handler_name = "multiply"

    def call(self, context: StepContext) -> StepHandlerResult:
        product = 1
        for value in _dependency_values(context):
            product *= value
        return self.success({"value": product})


class FanOutItemHandler(StepHandler):
    handler_name = "fan_out_item"

    def call(self, context: StepContext) -> StepHandlerResult:
        context.sleep(int(context.input_data.get("sleep_ms", 0)) / 1000)
        return self.success({"value": 1, "step": context.step_name})


class FanOutJoinHandler(StepHandler):
    handler_name = "fan_out_join"

    def call(self, context: StepContext) -> StepHandlerResult:
        return self.success({"value": sum(_dependency_values(context))})


class SleepHandler(StepHandler):
    handler_name = "sleep"

    def call(self, context: StepContext) -> StepHandlerResult:
        seconds = float(context.input_data["seconds"])
        context.sleep(seconds)
        return self.success({"slept_seconds": seconds})


class CpuBurnHandler(StepHandler):
    """Spins until this thread has used `milliseconds` of CPU time."""

    handler_name = "cpu_burn"

    def call(self, context: StepContext) -> StepHandlerResult:
        budget = int(context.input_data["milliseconds"]) / 1000
        start = time.thread_time()
        checksum = 0
        while time.thread_time() - start < budget:
            if context.stop_requested.is_set():
                raise StepInterrupted(f"step {context.step_uuid} interrupted by shutdown")
            checksum = (checksum + sum(range(1000))) % 1_000_003
        burned_ms = round((time.thread_time() - start) * 1000)
        return self.success({"burned_ms": burned_ms, "checksum": checksum})


class FlakyHandler(StepHandler):
    """Fails retryably while `retry_count < fail_times`, then succeeds."""

    handler_name = "flaky"

    def call(self, context: StepContext) -> StepHandlerResult:
        fail_times = int(context.input_data["fail_times"])
        attempt = context.retry_count + 1
        if context.retry_count < fail_times:
            return self.failure(
                f"flaky step failed on attempt {attempt} (fails {fail_times} times)",
                retryable=True,
            )
        return self.success({"attempts": attempt})


BUILTIN_HANDLERS: tuple[type[StepHandler], ...] = (
    SquareHandler,
    MultiplyHandler,
    FanOutItemHandler,
    FanOutJoinHandler,
    SleepHandler,
    CpuBurnHandler,
    FlakyHandler,
)


class HandlerRegistry:
    def __init__(self, handlers: Iterable[StepHandler]) -> None:
        self._handlers = {handler.handler_name: handler for handler in handlers}

    @classmethod
    def builtin(cls) -> HandlerRegistry:
        return cls(handler_class() for handler_class in BUILTIN_HANDLERS)

    def get(self, name: str) -> StepHandler:
        try:
            return self._handlers[name]
        except KeyError:
            raise UnknownHandlerError(name, self.names()) from None

    def names(self) -> list[str]:
        return sorted(self._handlers)
