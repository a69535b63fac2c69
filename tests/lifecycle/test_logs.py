"""Logs: tails of many files, following appends, new files, truncation; printed prefixes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasker_cluster.cli.printer import LogFormatter
from tasker_cluster.logs import (
    LineFilter,
    LogFollower,
    LogLine,
    merge_by_time,
    parse_since,
    rotate,
    tail_lines,
    tail_logs,
)


def everything(instance_id: str) -> bool:
    del instance_id
    return True


def test_tail_reads_the_last_lines_of_a_file_larger_than_one_block(tmp_path: Path) -> None:
    log = tmp_path / "a-1.log"
    log.write_text("".join(f"line {n} {'x' * 100}\n" for n in range(1, 501)))

    lines, end = tail_lines(log, 3)

    assert [line.split()[1] for line in lines] == ["498", "499", "500"]
    assert end == log.stat().st_size
    assert tail_lines(log, 0)[0] == []
    assert tail_lines(tmp_path / "missing.log", 5) == ([], 0)


def test_tail_logs_keeps_file_order_and_honours_the_selection(tmp_path: Path) -> None:
    (tmp_path / "worker-1.log").write_text("w1\nw2\n")
    (tmp_path / "orch-1.log").write_text("o1\no2\no3\n")
    (tmp_path / "notes.txt").write_text("ignored\n")

    assert merge_by_time(tail_logs(tmp_path, everything, 2)) == [
        LogLine("orch-1", "o2"),
        LogLine("orch-1", "o3"),
        LogLine("worker-1", "w1"),
        LogLine("worker-1", "w2"),
    ]
    only_workers = tail_logs(tmp_path, lambda i: i.startswith("worker"), 1)
    assert merge_by_time(only_workers) == [LogLine("worker-1", "w2")]


def test_follower_reads_appends_new_files_truncation_and_replacement(tmp_path: Path) -> None:
    first = tmp_path / "a-1.log"
    first.write_text("old 1\nold 2\n")
    follower = LogFollower(tmp_path, everything, tail=1)
    assert follower.initial == [LogLine("a-1", "old 2")]
    assert follower.poll() == []

    with first.open("a") as handle:
        handle.write("new 1\nhalf")
    (tmp_path / "b-1.log").write_text("b from its start\n")
    assert follower.poll() == [LogLine("a-1", "new 1"), LogLine("b-1", "b from its start")]

    with first.open("a") as handle:
        handle.write(" done\n")
    assert follower.poll() == [LogLine("a-1", "half done")]

    first.write_text("after truncation\n")
    assert follower.poll() == [LogLine("a-1", "after truncation")]

    replacement = tmp_path / "b-1.new"
    replacement.write_text("replaced file, longer than the old one\n")
    replacement.replace(tmp_path / "b-1.log")
    assert follower.poll() == [LogLine("b-1", "replaced file, longer than the old one")]


def test_a_partial_last_line_is_shown_once_nothing_more_arrives(tmp_path: Path) -> None:
    log = tmp_path / "a-1.log"
    log.write_text("")
    follower = LogFollower(tmp_path, everything)
    log.write_text("no newline yet")

    assert follower.poll() == []
    assert follower.poll() == [LogLine("a-1", "no newline yet")]
    assert follower.poll() == []


def test_prefixes_are_padded_to_the_widest_id_and_coloured_only_on_a_terminal() -> None:
    lines = [LogLine("worker-2", "claimed step"), LogLine("orchestration-1", "ready")]

    assert LogFormatter(colour=False, instance_ids=["orchestration-1"]).format(lines) == [
        "worker-2        | claimed step",
        "orchestration-1 | ready",
    ]
    plain = LogFormatter(colour=False)
    assert plain.format(lines[:1]) == ["worker-2 | claimed step"]
    assert plain.format(lines) == ["worker-2        | claimed step", "orchestration-1 | ready"]

    coloured = LogFormatter(colour=True, instance_ids=["worker-2", "orchestration-1"])
    first, second = coloured.format(lines)
    assert first == "\x1b[36mworker-2        |\x1b[0m claimed step"
    assert second == "\x1b[33morchestration-1 |\x1b[0m ready"


def stamped(second: int, text: str) -> str:
    return f"2026-01-31T12:00:{second:02d}.000Z {text}"


def test_three_interleaved_logs_merge_in_time_order_and_untimed_lines_keep_their_place(
    tmp_path: Path,
) -> None:
    (tmp_path / "a-1.log").write_text(
        f"{stamped(1, 'a first')}\n  traceback line\n{stamped(5, 'a')}\n"
    )
    (tmp_path / "b-1.log").write_text(f"{stamped(2, 'b')}\n{stamped(4, 'b again')}\n")
    (tmp_path / "c-1.log").write_text(f"{stamped(3, 'c')}\n{stamped(6, 'c last')}\n")

    merged = merge_by_time(tail_logs(tmp_path, everything, 10))

    assert [(line.instance_id, line.text[25:] or line.text) for line in merged] == [
        ("a-1", "a first"),
        ("a-1", "  traceback line"),
        ("b-1", "b"),
        ("c-1", "c"),
        ("b-1", "b again"),
        ("a-1", "a"),
        ("c-1", "c last"),
    ]


def test_since_grep_and_task_pick_lines_across_instances(tmp_path: Path) -> None:
    task, step = "6b1e0c1a-0000-4000-8000-000000000001", "6b1e0c1a-0000-4000-8000-0000000000aa"
    (tmp_path / "a-1.log").write_text(
        f"{stamped(1, 'old ' + task)}\n{stamped(7, 'created ' + task)}\n  detail of it\n"
    )
    (tmp_path / "b-1.log").write_text(
        f"{stamped(8, 'claimed step ' + step)}\n{stamped(9, 'idle')}\n"
    )
    lines = tail_logs(tmp_path, everything, 100)
    since = parse_since("2026-01-31T12:00:05Z")

    recent = LineFilter(since=since).apply(merge_by_time(lines))
    assert [line.text[25:] or line.text for line in recent] == [
        f"created {task}",
        "  detail of it",
        f"claimed step {step}",
        "idle",
    ]
    of_task = LineFilter(needles=(task, step)).apply(merge_by_time(lines))
    assert [line.instance_id for line in of_task] == ["a-1", "a-1", "b-1"]
    assert parse_since("90s") < parse_since("1s")
    with pytest.raises(ValueError, match="neither a duration"):
        parse_since("yesterday")


def test_follow_survives_rotation_without_losing_or_repeating_a_line(tmp_path: Path) -> None:
    log = tmp_path / "a-1.log"
    with log.open("a") as writer:  # as an instance writes: one descriptor, appending
        writer.write("line 0\n")
        writer.flush()
        follower = LogFollower(tmp_path, everything, 10)
        seen = [line.text for line in follower.initial]
        for number in range(1, 400):
            writer.write(f"line {number}\n")
            writer.flush()
            if number % 50 == 0:
                assert rotate(log, max_bytes=100, keep=2)
            if number % 7 == 0:
                seen += [line.text for line in follower.poll()]
        seen += [line.text for line in follower.poll()]

    assert seen == [f"line {number}" for number in range(400)]
    assert (tmp_path / "a-1.log.1").exists() and (tmp_path / "a-1.log.2").exists()
    assert not (tmp_path / "a-1.log.3").exists()
