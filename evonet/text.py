"""How output words things: counts with their plural, the same everywhere."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from typing import Any


def count(n: int, noun: str) -> str:
    """``count(1, "game")`` -> ``"1 game"``, ``count(1200, "game")`` -> ``"1,200 games"``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def terminal_columns(file: Any) -> int | None:
    """The width of the terminal ``file`` writes to, or None when it is none (a file, a
    pipe, a StringIO)."""
    try:
        return os.get_terminal_size(file.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``" (did you mean evolve?)"`` for the choice closest to a mistyped ``word``, or
    ``""`` when none is close."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {match[0]}?)" if match else ""
