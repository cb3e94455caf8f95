"""Argument types and checks shared by the subcommands."""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from evonet.evolution.config import parse_board, parse_hidden

if TYPE_CHECKING:
    from evonet.games.base import GameSpec

T = TypeVar("T")


# What a flag's value looks like in help, by the name of its type (see int_in and the rest).
METAVARS = {"whole number": "N", "number": "X", "float": "X", "parse_hidden": "N,N,...",
            "snake_board": "WxH"}  # fmt: skip


def metavar(kwargs: dict) -> dict:
    """``add_argument`` keywords with a metavar from the type's name when none is set."""
    name = getattr(kwargs.get("type"), "__name__", "")
    if kwargs.get("metavar") is None and kwargs.get("choices") is None and name in METAVARS:
        return {**kwargs, "metavar": METAVARS[name]}
    return kwargs


def add_render_flag(p: argparse.ArgumentParser, window: str) -> None:
    """``--render window|terminal`` of the views; ``window`` says what the window shows."""
    p.add_argument(
        "--render",
        choices=["window", "terminal"],
        default="window",
        help=f"{window}, or curses in this terminal (default: window)",
    )


def flag_doc(settings: type, name: str) -> str:
    """A settings field's help (:mod:`evonet.fields`) as a flag's: no full stop, and a
    first word in lower case, as flags read ("Generations to run" -> "generations to
    run"; "P, genomes" and "L2 penalty" stay)."""
    from evonet.fields import help_of

    doc = help_of(settings, name).rstrip(".")
    return doc[0].lower() + doc[1:] if doc[1:2].islower() else doc


class Formatter(argparse.HelpFormatter):
    """Help text as argparse wraps it, except a text of several lines (the examples at the
    end of a command's help), which is kept as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "\n".join(indent + line for line in text.splitlines())
        return super()._fill_text(text, width, indent)


def examples(*lines: tuple[str, str], notes: str = "") -> str:
    """The end of a command's help: ``(command, what it does)`` pairs, each command on
    its own line (they are long), then ``notes`` as a wrapped paragraph."""
    import textwrap

    text = "examples:\n" + "\n".join(f"  {c}\n      {what}" for c, what in lines)
    return text + ("\n\n" + textwrap.fill(notes, 79) if notes else "")


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def int_in(lo: int | None = None, hi: int | None = None) -> Callable[[str], int]:
    """An argparse ``type=``: a whole number from ``lo`` to ``hi`` inclusive (None: no
    bound on that side)."""

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a whole number, got {_clip(text)}"
            ) from None
        if lo is not None and value < lo:
            raise argparse.ArgumentTypeError(f"must be at least {lo}, got {text}")
        if hi is not None and value > hi:
            raise argparse.ArgumentTypeError(f"must be from {lo} to {hi}, got {text}")
        return value

    convert.__name__ = "whole number"
    return convert


def float_in(lo: float, hi: float = math.inf, above: bool = False) -> Callable[[str], float]:
    """An argparse ``type=``: a finite number from ``lo`` (excluded if ``above``) to ``hi``
    inclusive; nan and infinities are refused."""

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {_clip(text)}") from None
        low_ok = value > lo if above else value >= lo  # false for nan too
        if not (low_ok and value <= hi and math.isfinite(value)):
            if hi == math.inf:
                need = f"a finite number {'above' if above else 'from'} {lo:g}"
            else:
                need = f"from {lo:g} to {hi:g}"
            raise argparse.ArgumentTypeError(f"must be {need}, got {text}")
        return value

    convert.__name__ = "number"
    return convert


def _clip(text: str) -> str:
    """``text`` quoted, shortened if long, so an error stays one readable line."""
    return repr(text) if len(text) <= 40 else repr(text[:40]) + f"... ({len(text)} characters)"


whole_number = int_in()
positive_int = int_in(1)
nonneg_int = int_in(0)
positive_float = float_in(0, above=True)
nonneg_float = float_in(0)


def _argument_type(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse ``type=`` from a library parser that raises ValueError."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    convert.__name__ = parse.__name__.strip("_")
    return convert


hidden_sizes = _argument_type(parse_hidden)  # "16,16" -> (16, 16)


def _snake_board(text: str) -> tuple[int, int]:
    from evonet.games.snake.rules import check_board  # --board is Snake's setting

    return check_board(*parse_board(text))


board_size = _argument_type(_snake_board)  # "10x10" -> (width, height)


def check_writable(path: str | os.PathLike | None, flag: str) -> Path | None:
    """Fail early, before any long work, if ``path`` cannot be written."""
    if path is None:
        return None
    if str(path).endswith(("/", os.sep)):
        raise UsageError(f"{flag} {path}: names a folder, expected a file name")
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{flag} {p}: is a folder, expected a file name")
    parent = p.parent
    if parent.exists() and not parent.is_dir():
        raise UsageError(f"{flag} {p}: {parent} is not a folder")
    if not parent.is_dir():
        raise UsageError(f"{flag} {p}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"{flag} {p}: folder {parent} is not writable")
    return p


def emit_json(obj: dict) -> None:
    """One JSON object on one stdout line; NaN and infinities become null (strict JSON)."""
    clean = {
        k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in obj.items()
    }
    print(json.dumps(clean, sort_keys=False, allow_nan=False), flush=True)


def silence_stdout() -> None:
    """Point stdout at the null device once its reader has gone (a closed pipe), so that
    nothing written later, the interpreter's final flush included, fails again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def info(text: str) -> None:
    """Human-facing status on stderr, so stdout stays clean for --json."""
    print(text, file=sys.stderr, flush=True)


def get_ready(game: GameSpec, always: bool = True) -> None:
    """Let the game compile or load its engine now, and say what that took: the first run
    after an install spends seconds compiling. With ``always=False`` only a compile is
    mentioned (for views, where a fast start needs no comment)."""
    seconds = time.perf_counter()
    with interrupt_held():
        note = game.warm_up()
    if note and (always or time.perf_counter() - seconds > 1.0):
        info(f"evonet: {note}")


@contextmanager
def interrupt_held() -> Iterator[None]:
    """Hold a Ctrl-C that comes inside the block, and raise KeyboardInterrupt after it.

    numba loads compiled code through ctypes callbacks; a KeyboardInterrupt raised inside
    one is printed as "Exception ignored" with a traceback, and the Ctrl-C is lost. Only
    the main thread takes signals; elsewhere this changes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    old = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        # None: a handler not set from Python (SIG_DFL is what such a process had).
        signal.signal(signal.SIGINT, signal.SIG_DFL if old is None else old)
    if held:
        raise KeyboardInterrupt


@contextmanager
def terminal_errors(hint: str) -> Iterator[None]:
    """Turn "cannot run the terminal view here" (no tty, unusable TERM) into one line."""
    from evonet.games.ui.terminal import NoTerminalError

    try:
        yield
    except NoTerminalError as e:
        raise UsageError(f"the terminal view needs an interactive terminal ({e}); {hint}") from None


@contextmanager
def window_errors(hint: str) -> Iterator[None]:
    """Turn "cannot open a window" failures (no pygame, no display) into one-line errors."""
    from evonet.games.ui.window import NoScreenError

    try:
        yield
    except ImportError as e:
        raise UsageError(str(e)) from None
    except NoScreenError as e:
        raise UsageError(f"{e}; {hint}") from None
    except Exception as e:
        pygame = sys.modules.get("pygame")
        if pygame is not None and isinstance(e, pygame.error):
            raise UsageError(f"cannot open a window ({e}); {hint}") from None
        raise


# evonet.evolution.evaluators.backends.BACKENDS, without importing it
BACKENDS = ("serial", "processes", "ray")
MAX_WORKERS = 1024


def add_backend_flags(
    p: argparse.ArgumentParser,
    default: str = "processes when there is more than one core, else serial",
) -> None:
    """``--backend`` and ``--workers``: where rollouts run. Never part of a run's results.
    ``default`` says which backend the command uses without either flag."""
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        help="where games are played: serial (this process), processes (worker "
        "processes) or ray (Ray tasks; pip install 'evonet[ray]'); the results are "
        f"identical (default: {default})",
    )
    p.add_argument(
        "--ray-address",
        metavar="auto|HOST:PORT",
        help="with --backend ray: join this running Ray cluster (default: start a local one)",
    )
    p.add_argument(
        "--workers",
        type=int_in(1, MAX_WORKERS),
        help="worker processes (processes) or tasks per generation (ray) (default: the "
        "cores available)",
    )


def evaluator_from(args: argparse.Namespace, default: str | None = None) -> object:
    """The evaluator ``--backend`` and ``--workers`` ask for (close it when done); with
    neither flag, ``default`` (None: the default of
    :func:`evonet.evolution.evaluators.backends.default_backend`)."""
    from evonet.evolution.evaluators.backends import make_evaluator

    if args.backend == "serial" and args.workers not in (None, 1):
        raise UsageError(
            f"--workers {args.workers}: the serial backend has one; use --backend processes"
        )
    backend = "processes" if args.backend is None and args.workers else args.backend
    if args.backend is None and args.workers is None:
        backend = default
    if args.ray_address is not None and backend != "ray":
        raise UsageError(f"--ray-address {args.ray_address}: needs --backend ray")
    evaluator = make_evaluator(backend, args.workers, args.ray_address)
    if backend == "ray":  # connect now: an unreachable cluster is a usage error
        try:
            evaluator.start()
        except ValueError as e:
            raise UsageError(str(e)) from None
    return evaluator
