"""Argument types: whole numbers and numbers in a range, layer sizes, boards, output files.

Each raises ``argparse.ArgumentTypeError`` (or :class:`evonet.cli.errors.UsageError`) with
a message that names the problem in one line."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from evonet.cli.errors import UsageError
from evonet.evolution.config import parse_board, parse_hidden, parse_observe

T = TypeVar("T")


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
observation_entries = _argument_type(parse_observe)  # "0,2" -> (0, 2)


def _snake_board(text: str) -> tuple[int, int]:
    from evonet.games.snake import check_board  # --board is Snake's setting

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
