"""Experiment grids for ``evonet train --sweep KEY=V1,V2``: parse, expand, tabulate.

A sweep is a setting and its values; several sweeps make a grid of every combination
(a cell), and each cell is trained from the same seeds, so cells differ only in settings.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable, Sequence

MAX_VALUES = 20  # per sweep
MAX_CELLS = 200  # per grid


def parse(text: str, parsers: dict[str, Callable[[str], object]]) -> tuple[str, tuple]:
    """``"lr=0.1,0.5"`` -> ``("lr", (0.1, 0.5))``; each value by ``parsers[key]``, which
    raises ValueError (or a subclass) naming the problem. Keys may use - or _."""
    key, sep, values = text.partition("=")
    key = key.strip().replace("-", "_")
    if not sep or not key or not values.strip():
        raise ValueError(f"expected KEY=V1,V2,... (say lr=0.1,0.5), got {text!r}")
    if key not in parsers:
        close = difflib.get_close_matches(key, parsers, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise ValueError(f"cannot sweep {key!r}; {hint}sweepable: {', '.join(sorted(parsers))}")
    items = [v.strip() for v in values.split(",")]
    if len(items) > MAX_VALUES:
        raise ValueError(f"{key}: {len(items)} values; at most {MAX_VALUES} per sweep")
    parsed = []
    for item in items:
        try:
            parsed.append(parsers[key](item))
        except ValueError as e:
            raise ValueError(f"{key}={item}: {e}") from None
    if len(set(map(repr, parsed))) != len(parsed):
        raise ValueError(f"{key}: a value is given twice")
    return key, tuple(parsed)


def grid(sweeps: Sequence[tuple[str, tuple]]) -> list[dict[str, object]]:
    """Every combination of the sweeps' values, the first sweep varying slowest; one empty
    cell when there are no sweeps."""
    keys = [k for k, _ in sweeps]
    twice = {k for k in keys if keys.count(k) > 1}
    if twice:
        raise ValueError(f"{sorted(twice)[0]} is swept twice; give its values in one --sweep")
    n = 1
    for _, values in sweeps:
        n *= len(values)
    if n > MAX_CELLS:
        raise ValueError(f"the grid has {n:,} cells; at most {MAX_CELLS}")
    return [
        dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(v for _, v in sweeps))
    ]


def shown(value: object) -> str:
    """A setting's value as a sweep writes it: hidden sizes as ``10-25``."""
    if isinstance(value, tuple):
        return "-".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def label(cell: dict[str, object]) -> str:
    """``hidden=2 lr=0.1``, or ``defaults`` for the empty cell."""
    return " ".join(f"{k}={shown(v)}" for k, v in cell.items()) or "defaults"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Rows of text aligned in columns under ``headers``: text left, numbers right."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def numeric(text: str) -> bool:
        return text[:1].isdigit() or text[:1] in "-." and text[1:2].isdigit()

    def line(row: Sequence[str]) -> str:
        cells = [str(c).rjust(w) if numeric(str(c)) else str(c).ljust(w)
                 for c, w in zip(row, widths, strict=True)]  # fmt: skip
        return "  ".join(cells).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])
