"""The ``evonet`` command line: argparse front end and error handling.

Each subcommand lives in :mod:`evonet.commands`. Bad input of any kind ends in one line on
stderr that names the problem, and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from evonet import __version__
from evonet.commands import evaluate as evaluate_cmd
from evonet.commands import evolve as evolve_cmd
from evonet.commands import play as play_cmd
from evonet.commands import train as train_cmd
from evonet.commands import watch as watch_cmd
from evonet.commands.common import UsageError


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line (no usage block) with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="evonet", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"evonet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train_cmd.add_parser(sub)
    evolve_cmd.add_parser(sub)
    evaluate_cmd.add_parser(sub)
    watch_cmd.add_parser(sub)
    play_cmd.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    try:
        args = build_parser().parse_args(argv)
        return int(args.run(args) or 0)
    except UsageError as e:
        msg = str(e)
        print(msg if msg.startswith("evonet") else f"evonet: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("evonet: interrupted", file=sys.stderr)
        return 130
