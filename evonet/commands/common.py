"""Argument types and checks shared by the subcommands."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from games.snake import MAX_SIDE, MIN_SIDE


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def nonneg_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def hidden_sizes(text: str) -> tuple[int, ...]:
    """``"16,16"`` -> ``(16, 16)``; an empty string means no hidden layer."""
    if text.strip() == "":
        return ()
    parts = text.split(",")
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer sizes like 10,25, got {text!r}"
        ) from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive, got {text!r}")
    return sizes


def check_writable(path: str | os.PathLike | None, flag: str) -> Path | None:
    """Fail early, before any long work, if ``path`` cannot be written."""
    if path is None:
        return None
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
    """One JSON object on one stdout line."""
    print(json.dumps(obj, sort_keys=False), flush=True)


def info(text: str) -> None:
    """Human-facing status on stderr, so stdout stays clean for --json."""
    print(text, file=sys.stderr, flush=True)


def board_size(text: str) -> tuple[int, int]:
    """``"10x10"`` -> ``(10, 10)`` (width, height)."""
    parts = text.lower().split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT like 10x10, got {text!r}"
        ) from None
    lo, hi = MIN_SIDE, MAX_SIDE
    if w < lo or h < lo:
        raise argparse.ArgumentTypeError(f"the board must be at least {lo}x{lo}, got {text!r}")
    if w > hi or h > hi:
        raise argparse.ArgumentTypeError(f"the board can be at most {hi}x{hi}, got {text!r}")
    return w, h


@contextmanager
def window_errors(hint: str) -> Iterator[None]:
    """Turn "cannot open a window" failures (no pygame, no display) into one-line errors."""
    from games.render.window import NoScreenError

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
