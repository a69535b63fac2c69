"""Logs: tails of many files, following appends, new files, truncation; printed prefixes."""

from __future__ import annotations

from pathlib import Path

from tasker_cluster.cli.printer import LogFormatter
from tasker_cluster.logs import LogFollower, LogLine, tail_lines, tail_logs


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

    assert tail_logs(tmp_path, everything, 2) == [
        LogLine("orch-1", "o2"),
        LogLine("orch-1", "o3"),
        LogLine("worker-1", "w1"),
        LogLine("worker-1", "w2"),
    ]
    assert tail_logs(tmp_path, lambda i: i.startswith("worker"), 1) == [LogLine("worker-1", "w2")]


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
