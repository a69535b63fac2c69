"""`--chaos` parsing: accepted forms and the exact messages of rejected ones."""

from __future__ import annotations

import pytest

from tasker_cluster.load.chaos_spec import ChaosAction, ChaosSpec, parse_chaos
from tasker_cluster.load.errors import ChaosSpecError

FORM = (
    "expected ACTION:SERVICE:every=DURATION[,for=DURATION] with ACTION kill, pause or "
    "rolling-restart and durations like 500ms, 10s or 2m (e.g. kill:worker-python:every=10s or "
    "pause:orchestration:every=15s,for=3s)"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kill:worker-python:every=10s", ChaosSpec(ChaosAction.KILL, "worker-python", 10.0, 0.0)),
        ("pause:orchestration:every=15s", ChaosSpec(ChaosAction.PAUSE, "orchestration", 15.0, 3.0)),
        (
            "pause:orchestration:every=15s,for=500ms",
            ChaosSpec(ChaosAction.PAUSE, "orchestration", 15.0, 0.5),
        ),
        (
            "kill:worker-rust:every=1.5m,for=2s",
            ChaosSpec(ChaosAction.KILL, "worker-rust", 90.0, 2.0),
        ),
        (
            " kill : orchestration : for=1s , every=4s ",
            ChaosSpec(ChaosAction.KILL, "orchestration", 4.0, 1.0),
        ),
    ],
)
def test_accepted_forms(text: str, expected: ChaosSpec) -> None:
    assert parse_chaos(text) == expected


def test_text_round_trips() -> None:
    spec = parse_chaos("pause:orchestration:every=15s,for=500ms")
    assert spec.text == "pause:orchestration:every=15s,for=500ms"
    assert parse_chaos(spec.text) == spec


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("kill:worker-python", "it has 2 ':'-separated parts, not 3"),
        (
            "stop:worker-python:every=10s",
            "action 'stop' is not one of kill, pause, rolling-restart",
        ),
        ("kill:Worker_Python:every=10s", "service 'Worker_Python' is not a service type name"),
        ("kill:worker-python:every=10", "duration '10' is not a number followed by ms, s or m"),
        ("kill:worker-python:every=ten", "duration 'ten' is not a number followed by ms, s or m"),
        ("kill:worker-python:for=1s", "every=DURATION is missing"),
        ("kill:worker-python:every=10s,often", "option 'often' is not KEY=VALUE"),
        ("kill:worker-python:every=10s,count=3", "option 'count' is unknown (use every= and for=)"),
        ("kill:worker-python:every=1s,every=2s", "option 'every' is given twice"),
        ("pause:orchestration:every=2s,for=2s", "for=2s must be shorter than every=2s"),
        ("pause:orchestration:every=2s", "for=3s must be shorter than every=2s"),
        ("kill:worker-python:every=50ms", "every=50ms is shorter than 100ms"),
    ],
)
def test_rejected_forms_name_the_spec_the_problem_and_the_form(text: str, problem: str) -> None:
    with pytest.raises(ChaosSpecError) as caught:
        parse_chaos(text)
    assert str(caught.value) == f"invalid chaos spec {text!r}: {problem}; {FORM}"
    assert caught.value.spec == text
    assert caught.value.problem == problem
