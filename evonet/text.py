"""How output words things: counts with their plural, the same everywhere."""

from __future__ import annotations


def count(n: int, noun: str) -> str:
    """``count(1, "game")`` -> ``"1 game"``, ``count(1200, "game")`` -> ``"1,200 games"``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
