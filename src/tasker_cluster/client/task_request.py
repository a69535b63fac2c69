"""The body of `POST /v1/tasks`, with builders for the reference services' templates."""

from __future__ import annotations

from typing import Any

from tasker_cluster.api import task_request as api
from tasker_cluster.client.errors import InvalidTaskRequestError

MAX_FAN_OUT_WIDTH = 1000


class TaskRequest(api.TaskRequest):
    """tasker-core's `TaskRequest` (`tasker_cluster.api.task_request`: the fields, defaults
    and JSON), with builders for the reference services' templates."""

    @classmethod
    def fan_out(cls, width: int, sleep_ms: int = 0, **fields: Any) -> TaskRequest:
        """`load_testing/fan_out`: `width` parallel steps, then a join step."""
        if not 1 <= width <= MAX_FAN_OUT_WIDTH:
            raise InvalidTaskRequestError(
                "load_testing/fan_out", "width", width, f"must be 1..{MAX_FAN_OUT_WIDTH}"
            )
        _require_not_negative("load_testing/fan_out", "sleep_ms", sleep_ms)
        return cls("fan_out", "load_testing", {"width": width, "sleep_ms": sleep_ms}, **fields)

    @classmethod
    def mathematical_sequence(cls, even_number: int = 2, **fields: Any) -> TaskRequest:
        """`linear_workflow/mathematical_sequence`: four squaring steps in a line."""
        _require_even("linear_workflow/mathematical_sequence", even_number)
        return cls(
            "mathematical_sequence", "linear_workflow", {"even_number": even_number}, **fields
        )

    @classmethod
    def diamond(cls, even_number: int = 2, **fields: Any) -> TaskRequest:
        """`diamond_workflow/diamond`: start, two parallel branches, end."""
        _require_even("diamond_workflow/diamond", even_number)
        return cls("diamond", "diamond_workflow", {"even_number": even_number}, **fields)

    @classmethod
    def sleep(cls, seconds: float, **fields: Any) -> TaskRequest:
        """`load_testing/sleep`: one step that sleeps for `seconds`."""
        _require_not_negative("load_testing/sleep", "seconds", seconds)
        return cls("sleep", "load_testing", {"seconds": seconds}, **fields)

    @classmethod
    def flaky(cls, fail_times: int, **fields: Any) -> TaskRequest:
        """`retry_workflow/flaky`: one step that fails retryably `fail_times` times."""
        _require_not_negative("retry_workflow/flaky", "fail_times", fail_times)
        return cls("flaky", "retry_workflow", {"fail_times": fail_times}, **fields)


def _require_not_negative(template: str, field: str, value: float) -> None:
    if value < 0:
        raise InvalidTaskRequestError(template, field, value, "must be 0 or more")


def _require_even(template: str, even_number: int) -> None:
    if isinstance(even_number, bool) or not isinstance(even_number, int) or even_number % 2:
        raise InvalidTaskRequestError(template, "even_number", even_number, "must be an even int")
