"""`tasker-cluster start|stop|status`: the lifecycle commands without invoke.

The same commands as `invoke cluster.start / stop / status`, with the same flags, defaults,
output and exit codes (`cli.commands` runs both), for where the command's own time matters:
invoke and its task loading take about 0.1 s before a task body runs (a status of ten
instances takes less than that). Every other command, and `load.run`, stays an invoke task.

    tasker-cluster start --orchestration=2 --timeout=30
    tasker-cluster status --json
    tasker-cluster stop --timeout=2
    python -m tasker_cluster.cli status      # the same, without the console script
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from tasker_cluster.cli import exit_codes, flags
from tasker_cluster.cli.exit_codes import CommandExit

PROGRAM = "tasker-cluster"


def _env_file(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env-file", action="append", default=None, metavar="PATH", help=flags.ENV_FILE_HELP
    )


def _start(args: argparse.Namespace) -> None:
    from tasker_cluster.cli.start import run_start  # noqa: PLC0415

    counts = {service: getattr(args, flag) for flag, service in flags.START_TYPE_FLAGS.items()}
    run_start(args.env_file, counts, args.wait, args.timeout, scale=args.scale or [])


def _stop(args: argparse.Namespace) -> None:
    from tasker_cluster.cli import commands  # noqa: PLC0415

    commands.stop(args.env_file, args.service, args.instance, args.timeout)


def _status(args: argparse.Namespace) -> None:
    from tasker_cluster.cli import commands  # noqa: PLC0415

    commands.status(args.env_file, args.service, args.json, args.check, args.watch)


def build_parser() -> argparse.ArgumentParser:
    """The parser of `tasker-cluster`: one subcommand per lifecycle task."""
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Start, stop and show the cluster's instances (as `invoke cluster.*`).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    start = commands.add_parser("start", help=flags.START_DOC, description=flags.START_DOC)
    for flag, service in flags.START_TYPE_FLAGS.items():
        start.add_argument(
            f"--{service}", dest=flag, default=None, metavar="N", help=flags.START_HELP[flag]
        )
    start.add_argument(
        "--scale", action="append", default=None, metavar="TYPE=N", help=flags.START_HELP["scale"]
    )
    start.add_argument(
        "--wait",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=flags.START_HELP["wait"],
    )
    start.add_argument(
        "--timeout", type=int, default=flags.START_TIMEOUT, help=flags.START_HELP["timeout"]
    )
    _env_file(start)
    start.set_defaults(run=_start)

    stop = commands.add_parser("stop", help=flags.STOP_DOC, description=flags.STOP_DOC)
    stop.add_argument("--service", default=None, help=flags.STOP_HELP["service"])
    stop.add_argument("--instance", default=None, help=flags.STOP_HELP["instance"])
    stop.add_argument(
        "--timeout", type=int, default=flags.STOP_TIMEOUT, help=flags.STOP_HELP["timeout"]
    )
    _env_file(stop)
    stop.set_defaults(run=_stop)

    status = commands.add_parser("status", help=flags.STATUS_DOC, description=flags.STATUS_DOC)
    status.add_argument("--service", default=None, help=flags.STATUS_HELP["service"])
    for name in ("json", "check", "watch"):
        status.add_argument(f"--{name}", action="store_true", help=flags.STATUS_HELP[name])
    _env_file(status)
    status.set_defaults(run=_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit code (`cli.exit_codes`), as the invoke task would exit.

    A command's `CommandExit` prints its message to stderr, as invoke prints an `Exit`'s; a
    Ctrl-C no command handles exits 1, as under invoke.
    """
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], None] = args.run
    from tasker_cluster.cli import session  # noqa: PLC0415

    try:
        with session.command_session():
            run(args)
    except CommandExit as end:
        if end.message:
            print(end.message, file=sys.stderr)
        return end.code
    except KeyboardInterrupt:
        return exit_codes.FAILED
    return exit_codes.OK


if __name__ == "__main__":
    sys.exit(main())
