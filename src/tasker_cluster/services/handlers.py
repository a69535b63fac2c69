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
    """A step handler; `handler_name` is the name steps store, `callables` the template
    `handler.callable` values bound to it (tasker-core's Python callables included)."""

    handler_name: ClassVar[str]
    callables: ClassVar[tuple[str, ...]] = ()

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
    callables = ("TaskerCluster::SquareHandler",)

    def call(self, context: StepContext) -> StepHandlerResult:
        values = _dependency_values(context)
        base = values[0] if values else int(context.input_data["even_number"])
        return self.success({"value": base * base})


class MultiplyHandler(StepHandler):
    handler_name = "multiply"
    callables = ("TaskerCluster::MultiplyHandler",)

    def call(self, context: StepContext) -> StepHandlerResult:
        product = 1
        for value in _dependency_values(context):
            product *= value
        return self.success({"value": product})


class FanOutItemHandler(StepHandler):
    handler_name = "fan_out_item"
    callables = ("TaskerCluster::FanOutItemHandler",)

    def call(self, context: StepContext) -> StepHandlerResult:
        context.sleep(int(context.input_data.get("sleep_ms", 0)) / 1000)
        return self.success({"value": 1, "step": context.step_name})


class FanOutJoinHandler(StepHandler):
    handler_name = "fan_out_join"
    callables = ("TaskerCluster::FanOutJoinHandler",)

    def call(self, context: StepContext) -> StepHandlerResult:
        return self.success({"value": sum(_dependency_values(context))})


class SleepHandler(StepHandler):
    handler_name = "sleep"
    callables = ("TaskerCluster::SleepHandler",)

    def call(self, context: StepContext) -> StepHandlerResult:
        seconds = float(context.input_data["seconds"])
        context.sleep(seconds)
        return self.success({"slept_seconds": seconds})


class CpuBurnHandler(StepHandler):
    """Spins until this thread has used `milliseconds` of CPU time."""

    handler_name = "cpu_burn"
    callables = ("TaskerCluster::CpuBurnHandler",)

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
    callables = ("TaskerCluster::FlakyHandler",)

    def call(self, context: StepContext) -> StepHandlerResult:
        fail_times = int(context.input_data["fail_times"])
        attempt = context.retry_count + 1
        if context.retry_count < fail_times:
            return self.failure(
                f"flaky step failed on attempt {attempt} (fails {fail_times} times)",
                retryable=True,
            )
        return self.success({"attempts": attempt})


# Handlers of tasker-core's Python fixtures (`tests/fixtures/task_templates/python`): ours, doing
# the same computation. `handler_name` is tasker-core's Python callable, so a template of theirs
# binds to them unchanged; the `TaskerCluster::` callable is what our own YAML templates name.


def _named_result(context: StepContext, step: str) -> Any:
    """`result` of dependency `step` (tasker-core's handlers read it by name)."""
    found = context.dependency_results.get(step)
    if not isinstance(found, Mapping) or "result" not in found:
        raise KeyError(f"step {context.step_name!r} needs the result of {step!r}, got {found!r}")
    return found["result"]


class _EvenSquareHandler(StepHandler):
    """Squares the context's `even_number`; an odd or missing number fails permanently."""

    def call(self, context: StepContext) -> StepHandlerResult:
        number = context.input_data.get("even_number")
        if isinstance(number, bool) or not isinstance(number, int) or number % 2:
            return self.failure(
                f"task context must contain an even integer 'even_number', got {number!r}",
                retryable=False,
            )
        return self.success({"result": number * number, "operation": "square"})


class _ArithmeticHandler(StepHandler):
    """Applies `operation` with `operand` to the result of step `source`."""

    source: ClassVar[str]
    operation: ClassVar[str]
    operand: ClassVar[int]

    def call(self, context: StepContext) -> StepHandlerResult:
        value = _named_result(context, self.source)
        if self.operation == "add":
            result = value + self.operand
        elif self.operation == "multiply":
            result = value * self.operand
        else:
            result = value / self.operand
        return self.success({"result": result, "operation": self.operation})


class LinearStep1Handler(_EvenSquareHandler):
    """`linear_step_1_py`: n -> n**2."""

    handler_name = "linear_workflow.step_handlers.LinearStep1Handler"
    callables = (handler_name, "TaskerCluster::LinearWorkflow::LinearStep1Handler")


class LinearStep2Handler(_ArithmeticHandler):
    """`linear_step_2_py`: + 10."""

    handler_name = "linear_workflow.step_handlers.LinearStep2Handler"
    callables = (handler_name, "TaskerCluster::LinearWorkflow::LinearStep2Handler")
    source, operation, operand = "linear_step_1_py", "add", 10


class LinearStep3Handler(_ArithmeticHandler):
    """`linear_step_3_py`: * 3."""

    handler_name = "linear_workflow.step_handlers.LinearStep3Handler"
    callables = (handler_name, "TaskerCluster::LinearWorkflow::LinearStep3Handler")
    source, operation, operand = "linear_step_2_py", "multiply", 3


class LinearStep4Handler(_ArithmeticHandler):
    """`linear_step_4_py`: / 2 (true division, as in Python: 6 gives 69.0)."""

    handler_name = "linear_workflow.step_handlers.LinearStep4Handler"
    callables = (handler_name, "TaskerCluster::LinearWorkflow::LinearStep4Handler")
    source, operation, operand = "linear_step_3_py", "divide", 2


class DiamondStartHandler(_EvenSquareHandler):
    """`diamond_start_py`: n -> n**2."""

    handler_name = "diamond_workflow.step_handlers.DiamondStartHandler"
    callables = (handler_name, "TaskerCluster::DiamondWorkflow::DiamondStartHandler")


class DiamondBranchBHandler(_ArithmeticHandler):
    """`diamond_branch_b_py`: start + 25."""

    handler_name = "diamond_workflow.step_handlers.DiamondBranchBHandler"
    callables = (handler_name, "TaskerCluster::DiamondWorkflow::DiamondBranchBHandler")
    source, operation, operand = "diamond_start_py", "add", 25


class DiamondBranchCHandler(_ArithmeticHandler):
    """`diamond_branch_c_py`: start * 2."""

    handler_name = "diamond_workflow.step_handlers.DiamondBranchCHandler"
    callables = (handler_name, "TaskerCluster::DiamondWorkflow::DiamondBranchCHandler")
    source, operation, operand = "diamond_start_py", "multiply", 2


class DiamondEndHandler(StepHandler):
    """`diamond_end_py`: the average of both branches (6 gives (61 + 72) / 2 = 66.5)."""

    handler_name = "diamond_workflow.step_handlers.DiamondEndHandler"
    callables = (handler_name, "TaskerCluster::DiamondWorkflow::DiamondEndHandler")

    def call(self, context: StepContext) -> StepHandlerResult:
        left = _named_result(context, "diamond_branch_b_py")
        right = _named_result(context, "diamond_branch_c_py")
        return self.success({"result": (left + right) / 2, "operation": "average"})


class SuccessStepHandler(StepHandler):
    """`success_step_py`: always succeeds, echoing the context's optional `message`."""

    handler_name = "test_scenarios.step_handlers.SuccessStepHandler"
    callables = (handler_name, "TaskerCluster::TestScenarios::SuccessStepHandler")

    def call(self, context: StepContext) -> StepHandlerResult:
        message = context.input_data.get("message", "step completed successfully")
        return self.success({"outcome": "success", "message": message})


class RetryableErrorStepHandler(StepHandler):
    """`retryable_error_step_py`: fails retryably on every attempt, so the task ends in error
    once the step's attempts are spent."""

    handler_name = "test_scenarios.step_handlers.RetryableErrorStepHandler"
    callables = (handler_name, "TaskerCluster::TestScenarios::RetryableErrorStepHandler")

    def call(self, context: StepContext) -> StepHandlerResult:
        attempt = context.retry_count + 1
        message = context.input_data.get("error_message", "retryable error")
        return self.failure(f"{message} (attempt {attempt})", retryable=True)


class PermanentErrorStepHandler(StepHandler):
    """`permanent_error_step_py`: fails with a non-retryable error at once."""

    handler_name = "test_scenarios.step_handlers.PermanentErrorStepHandler"
    callables = (handler_name, "TaskerCluster::TestScenarios::PermanentErrorStepHandler")

    def call(self, context: StepContext) -> StepHandlerResult:
        message = context.input_data.get("error_message", "permanent error")
        return self.failure(str(message), retryable=False)


BUILTIN_HANDLERS: tuple[type[StepHandler], ...] = (
    SquareHandler,
    MultiplyHandler,
    FanOutItemHandler,
    FanOutJoinHandler,
    SleepHandler,
    CpuBurnHandler,
    FlakyHandler,
    LinearStep1Handler,
    LinearStep2Handler,
    LinearStep3Handler,
    LinearStep4Handler,
    DiamondStartHandler,
    DiamondBranchBHandler,
    DiamondBranchCHandler,
    DiamondEndHandler,
    SuccessStepHandler,
    RetryableErrorStepHandler,
    PermanentErrorStepHandler,
)


def bound_handler_name(callable_name: str) -> str:
    """The `handler_name` a template's `handler.callable` binds to; an unknown callable is kept
    as it is (a worker then fails that step, naming the handlers it has)."""
    for handler_class in BUILTIN_HANDLERS:
        if callable_name == handler_class.handler_name or callable_name in handler_class.callables:
            return handler_class.handler_name
    return callable_name


class HandlerRegistry:
    def __init__(self, handlers: Iterable[StepHandler]) -> None:
        self._handlers = {handler.handler_name: handler for handler in handlers}
        self._aliases = {
            alias: handler for handler in self._handlers.values() for alias in handler.callables
        }

    @classmethod
    def builtin(cls) -> HandlerRegistry:
        return cls(handler_class() for handler_class in BUILTIN_HANDLERS)

    def get(self, name: str) -> StepHandler:
        """The handler named `name`, or bound to the template callable `name`."""
        handler = self._handlers.get(name) or self._aliases.get(name)
        if handler is None:
            raise UnknownHandlerError(name, self.names())
        return handler

    def names(self) -> list[str]:
        return sorted(self._handlers)
