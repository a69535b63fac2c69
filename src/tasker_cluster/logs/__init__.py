"""Instance logs: files, the last lines, time-ordered merging and filters, following, rotation."""

from tasker_cluster.logs.files import (
    LogLine,
    Selector,
    log_files,
    parse_time,
    tail_lines,
    tail_logs,
)
from tasker_cluster.logs.follow import FOLLOW_INTERVAL, LogFollower
from tasker_cluster.logs.merge import LineFilter, merge_by_time, parse_since
from tasker_cluster.logs.rotate import rotate, rotated_path

__all__ = [
    "FOLLOW_INTERVAL",
    "LineFilter",
    "LogFollower",
    "LogLine",
    "Selector",
    "log_files",
    "merge_by_time",
    "parse_since",
    "parse_time",
    "rotate",
    "rotated_path",
    "tail_lines",
    "tail_logs",
]
