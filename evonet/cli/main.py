"""The ``evonet`` command line: argparse front end and error handling.

Every error is one line, ``evonet COMMAND: error: ...``, with a close match suggested
for a mistyped command or flag.

Each subcommand lives in :mod:`evonet.cli`. Bad input of any kind ends in one line on
stderr that names the problem, and exit code 2, never a traceback. Ctrl-C at any moment,
start-up included, ends in one line and exit code 130.
"""

from __future__ import annotations

import gc
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

from evonet import __version__, signals

DESCRIPTION = (
    "Evolve neural networks to play Snake or any Gymnasium environment, and train them by "
    "gradient descent."
)
EXAMPLES = """examples:
  evonet evolve snake
      evolve Snake players with the default settings
  evonet watch
      watch the best of your newest run play
  evonet evaluate checkpoints/snake/best.npz --episodes 100
      its mean score on 100 fresh games

Run 'evonet COMMAND --help' for a command's options."""
COMMANDS = ("train", "evolve", "evaluate", "watch", "play", "plot")


def build_parser() -> argparse.ArgumentParser:
    # The subcommands import numpy, pygame and the rest (argparse too): only here, once
    # main() handles Ctrl-C, so Ctrl-C during start-up is no traceback either.
    import argparse

    from evonet.cli import evaluate as evaluate_cmd
    from evonet.cli import evolve as evolve_cmd
    from evonet.cli import play as play_cmd
    from evonet.cli import plot as plot_cmd
    from evonet.cli import train as train_cmd
    from evonet.cli import watch as watch_cmd
    from evonet.cli.errors import UsageError
    from evonet.cli.help import Formatter, metavar

    class Parser(argparse.ArgumentParser):
        """argparse that reports errors in one line (no usage block) with exit code 2."""

        def __init__(self, *args, **kwargs) -> None:
            kwargs.setdefault("formatter_class", Formatter)
            super().__init__(*args, **kwargs)

        def add_argument(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return super().add_argument(*args, **metavar(kwargs))

        def error(self, message: str) -> None:  # type: ignore[override]
            raise UsageError(f"{self.prog}: error: {message}{_choice_hint(message)}")

    parser = Parser(prog="evonet", description=DESCRIPTION, epilog=EXAMPLES)
    parser.add_argument("--version", action="version", version=f"evonet {__version__}")
    sub = parser.add_subparsers(
        title="commands", dest="command", required=True, parser_class=Parser, metavar="COMMAND"
    )
    train_cmd.add_parser(sub)
    evolve_cmd.add_parser(sub)
    evaluate_cmd.add_parser(sub)
    watch_cmd.add_parser(sub)
    play_cmd.add_parser(sub)
    plot_cmd.add_parser(sub)
    assert tuple(sub.choices) == COMMANDS
    return parser


def parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """``argv`` parsed, or UsageError with the command's prefix and a close match for a
    mistyped command or flag ("did you mean --population?")."""
    from evonet.cli.errors import UsageError
    from evonet.text import did_you_mean

    first = argv[0] if argv else ""
    if first and not first.startswith("-") and first not in COMMANDS:
        raise UsageError(
            f"evonet: error: unknown command {first!r}{did_you_mean(first, COMMANDS)}; "
            f"the commands are {', '.join(COMMANDS)} (evonet --help)"
        )
    args, extra = parser.parse_known_args(argv)
    if extra:
        sub = _subparser(parser, args.command)
        flags = [o for a in sub._actions for o in a.option_strings if o.startswith("--")]
        unknown = next((e for e in extra if e.startswith("-")), extra[0])
        hint = did_you_mean(unknown.split("=")[0], flags) if unknown.startswith("-") else ""
        raise UsageError(
            f"{sub.prog}: error: unrecognized argument{'s' * (len(extra) > 1)}: "
            f"{' '.join(extra)}{hint}"
        )
    return args


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[command]
    raise AssertionError("evonet has subcommands")


def _choice_hint(message: str) -> str:
    """argparse's "invalid choice: 'sinus' (choose from 'digits', 'sine', 'xor')" gets
    " (did you mean sine?)"."""
    import re

    from evonet.text import did_you_mean

    found = re.search(r"invalid choice: '?([^']*?)'? \(choose from (.*)\)$", message)
    if found is None:
        return ""
    return did_you_mean(found[1], [c.strip().strip("'") for c in found[2].split(",")])


def command_list(parser: argparse.ArgumentParser) -> str:
    """What a bare ``evonet`` says: its usage, then each command with its one-line help."""
    sub = next(a for a in parser._actions if a.dest == "command")
    rows = [(c.dest, c.help or "") for c in sub._choices_actions]
    width = max(len(name) for name, _ in rows)
    lines = [parser.format_usage().rstrip(), "", "commands:"]
    lines += [f"  {name:<{width}}  {text}" for name, text in rows]
    lines += ["", "Run 'evonet COMMAND --help' for one, 'evonet --help' for examples."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code.

    With ``argv`` None (a real process), Ctrl-C during start-up exits at once with 130:
    imports are where a KeyboardInterrupt can surface as some other exception.
    """
    real = argv is None
    prefix = "evonet"  # then "evonet COMMAND", once the command is known
    if real:
        signals.exit_on_interrupt()
    try:
        from evonet.cli.errors import UsageError

        argv = sys.argv[1:] if argv is None else list(argv)
        try:
            parser = build_parser()
            if not argv:
                print(command_list(parser), file=sys.stderr)
                return 2
            args = parse(parser, argv)
            prefix = f"evonet {args.command}"
            if real:
                signals.interrupts_raise()
            code = int(args.run(args) or 0)
            if real:
                # The process ends next and frees what is left with it: without this, a
                # last garbage collection walks every object of every module (the compiled
                # engine's are many) before a closed window's command returns the prompt.
                gc.freeze()
            return code
        except UsageError as e:
            msg = str(e)
            print(msg if msg.startswith("evonet") else f"{prefix}: error: {msg}", file=sys.stderr)
            return 2
    except KeyboardInterrupt:
        print("\nevonet: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        from evonet.cli.output import silence_stdout

        silence_stdout()
        print("evonet: stdout was closed before the output was complete", file=sys.stderr)
        return 128 + signal.SIGPIPE
    except OSError as e:
        # A path the commands did not foresee (a name too long for the file system, a
        # loop of links): still one line that names it.
        where = f"{e.filename}: " if e.filename else ""
        print(f"{prefix}: error: {where}{e.strerror or e}", file=sys.stderr)
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
            signals.ignore_interrupts()


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
