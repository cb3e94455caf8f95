"""What the commands print: status lines on stderr, JSON on stdout."""

from __future__ import annotations

import json
import math
import os
import sys
import textwrap
import time
from typing import TYPE_CHECKING

from evonet import signals
from evonet.text import terminal_columns

if TYPE_CHECKING:
    from evonet.games.base import GameSpec


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
    """Human-facing status on stderr, so stdout stays clean for --json; in a terminal,
    wrapped at word boundaries to its width (a file or pipe gets one line each)."""
    print(_wrapped(text), file=sys.stderr, flush=True)


def _terminal_columns() -> int | None:
    return terminal_columns(sys.stderr)


def _wrapped(text: str) -> str:
    width = _terminal_columns()
    if width is None:
        return text
    lines = text.splitlines() or [""]
    return "\n".join(
        textwrap.fill(line, width, subsequent_indent="  ", break_long_words=False,
                      break_on_hyphens=False) or line
        for line in lines
    )  # fmt: skip


def get_ready(game: GameSpec, always: bool = True) -> None:
    """Let the game compile or load its engine now, and say what that took: the first run
    after an install spends seconds compiling. With ``always=False`` only a compile is
    mentioned (for views, where a fast start needs no comment)."""
    from evonet.evolution import compiled_play

    seconds = time.perf_counter()
    with signals.held():
        notes = [game.warm_up(), compiled_play.warm_up(game)]
    note = "; ".join(n for n in notes if n)
    if note and (always or time.perf_counter() - seconds > 1.0):
        info(f"evonet: {note}")
