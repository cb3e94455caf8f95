"""The ``evonet`` command line: argparse front end and error handling.

Each subcommand lives in :mod:`evonet.commands`. Bad input of any kind ends in one line on
stderr that names the problem, and exit code 2, never a traceback. Ctrl-C at any moment,
start-up included, ends in one line and exit code 130.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

from evonet import __version__


def build_parser() -> argparse.ArgumentParser:
    # The subcommands import numpy, pygame and the rest (argparse too): only here, once
    # main() handles Ctrl-C, so Ctrl-C during start-up is no traceback either.
    import argparse

    from evonet.commands import evaluate as evaluate_cmd
    from evonet.commands import evolve as evolve_cmd
    from evonet.commands import play as play_cmd
    from evonet.commands import train as train_cmd
    from evonet.commands import watch as watch_cmd
    from evonet.commands.common import UsageError

    class Parser(argparse.ArgumentParser):
        """argparse that reports errors in one line (no usage block) with exit code 2."""

        def error(self, message: str) -> None:  # type: ignore[override]
            raise UsageError(f"{self.prog}: {message}")

    parser = Parser(prog="evonet", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"evonet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    train_cmd.add_parser(sub)
    evolve_cmd.add_parser(sub)
    evaluate_cmd.add_parser(sub)
    watch_cmd.add_parser(sub)
    play_cmd.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code.

    With ``argv`` None (a real process), Ctrl-C during start-up exits at once with 130:
    imports are where a KeyboardInterrupt can surface as some other exception.
    """
    real = argv is None
    if real:
        signal.signal(signal.SIGINT, _exit_interrupted)
    try:
        from evonet.commands.common import UsageError

        try:
            args = build_parser().parse_args(argv)
            if real:
                signal.signal(signal.SIGINT, signal.default_int_handler)
            return int(args.run(args) or 0)
        except UsageError as e:
            msg = str(e)
            print(msg if msg.startswith("evonet") else f"evonet: error: {msg}", file=sys.stderr)
            return 2
    except KeyboardInterrupt:
        print("\nevonet: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        from evonet.commands.common import silence_stdout

        silence_stdout()
        print("evonet: stdout was closed before the output was complete", file=sys.stderr)
        return 128 + signal.SIGPIPE
    except OSError as e:
        # A path the commands did not foresee (a name too long for the file system, a
        # loop of links): still one line that names it.
        where = f"{e.filename}: " if e.filename else ""
        print(f"evonet: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2
    except Exception as e:
        if not _caused_by_interrupt(e):
            raise
        print("\nevonet: interrupted", file=sys.stderr)
        return 130
    finally:
        if real:
            # The process is about to exit: a Ctrl-C now would only turn a finished
            # command's exit into a traceback from interpreter shutdown.
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def _exit_interrupted(signum: int, frame: object) -> None:
    os.write(2, b"\nevonet: interrupted\n")
    os._exit(130)


def _caused_by_interrupt(e: BaseException) -> bool:
    """Whether a KeyboardInterrupt lies behind ``e`` (some code, class creation during an
    import among them, wraps whatever it catches in another exception)."""
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False
