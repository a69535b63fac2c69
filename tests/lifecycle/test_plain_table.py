"""The plain table (no colour) is laid out without rich, exactly as rich lays it out."""

from __future__ import annotations

import random
import string
import subprocess
import sys

import pytest

from tasker_cluster.cli.printer import plain_table, table
from tasker_cluster.cli.tables import cell, new_table, render_lines

ALPHABET = string.ascii_letters + string.digits + " -_.:/[]()%|=,;'\"#@!?*+"


def rich_lines(rows: list[list[str]], headers: list[str]) -> list[str]:
    rendered = new_table(headers)
    for row in rows:
        rendered.add_row(*(cell(text, None) for text in row))
    return render_lines(rendered, colour=False)


def random_text(chance: random.Random, longest: int) -> str:
    return "".join(chance.choice(ALPHABET) for _ in range(chance.randint(0, longest)))


@pytest.mark.parametrize("seed", range(40))
def test_plain_tables_equal_richs_rendering(seed: int) -> None:
    chance = random.Random(seed)
    columns = chance.randint(1, 6)
    headers = [
        "".join(chance.choice(string.ascii_uppercase + "%_ ") for _ in range(chance.randint(0, 9)))
        for _ in range(columns)
    ]
    rows = [[random_text(chance, 30) for _ in range(columns)] for _ in range(chance.randint(0, 12))]

    assert plain_table(rows, headers) == rich_lines(rows, headers)


def test_the_status_columns_render_as_rich_renders_them() -> None:
    headers = ["INSTANCE", "STATE", "PID", "PORT", "UPTIME", "CPU%", "RSS", "HEALTH", "DETAIL"]
    healthy = ["orchestration-1", "healthy", "41", "8080 grpc:9090", "1h02m", "2.5"]
    stopped = ["orchestration-2", "stopped", "-", "8081", "-", "-"]
    rows = [[*healthy, "50.0 MiB", "3 ms", ""], [*stopped, "-", "-", "not running, yet [x]"]]

    assert table(rows, headers) == rich_lines(rows, headers)


@pytest.mark.parametrize(
    ("rows", "headers"),
    [
        ([["tab\there"]], ["A"]),
        ([["line\nbreak"]], ["A"]),
        ([["wide 表"]], ["A"]),
        ([["x"]], ["[bold]A"]),
        ([["x"]], [":smile:"]),
        ([["a", "b"]], ["A"]),
    ],
    ids=["tab", "line break", "wide character", "header markup", "header emoji", "row too long"],
)
def test_what_rich_might_render_otherwise_is_left_to_rich(
    rows: list[list[str]], headers: list[str]
) -> None:
    assert plain_table(rows, headers) is None


def test_a_table_that_rich_renders_is_the_same_either_way() -> None:
    rows, headers = [["wide 表", "x"]], ["A", "B"]

    assert table(rows, headers) == rich_lines(rows, headers)


def test_printing_a_plain_table_loads_no_rich() -> None:
    script = (
        "import sys; from tasker_cluster.cli import printer; "
        "printer.table([['a', 'b']], ['A', 'B']); "
        "print(sorted(m for m in sys.modules if m == 'rich' or m.startswith('rich.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    assert loaded.stdout.strip() == "[]"
