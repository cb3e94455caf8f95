"""A run's history: one record of numbers per generation, its columns, ``history.csv``,
and the ``(G, F)`` float64 matrix a checkpoint stores it as.

Every column but the timing ones is a pure function of the run's settings, so two runs of
the same settings have the same history apart from :data:`TIMING_FIELDS`. In a record,
the columns of :data:`INT_FIELDS` are ints and every other one a float; the matrix holds
them all as float64 (exact for whole numbers below ``2**53``) and gives them back so.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

# Wall-clock columns and how the generation ran (its worker processes); every other column
# of the history is a pure function of the config.
TIMING_FIELDS = ("seconds", "agent_steps_per_s", "workers")
# Columns of whole numbers (ints in a record); the others are floats.
INT_FIELDS = ("generation", "workers")
# Whole numbers a float64 column holds exactly: a generation, a count of workers.
MAX_WHOLE = 2**53


# The columns an evolution strategy adds: its distribution's typical standard deviation,
# and how far the last generation moved its mean.
STRATEGY_FIELDS = ("sigma", "step")


def history_fields(score_name: str, figures: Sequence[str] = ()) -> tuple[str, ...]:
    """The columns of ``history.csv`` for a game whose score is ``score_name``, with the
    strategy's own ``figures`` (:data:`STRATEGY_FIELDS` or none)."""
    return (
        "generation",
        "best_fitness",
        "mean_fitness",
        "median_fitness",
        f"best_{score_name}",
        f"mean_{score_name}",
        *figures,
        *TIMING_FIELDS,
    )


def history_csv(history: list[dict], fields: Sequence[str]) -> str:
    """The history as CSV text with the columns ``fields`` (see ``Run.fields``)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    w.writerows({k: r[k] for k in fields} for r in history)
    return buf.getvalue()


# history.csv is a row of a few numbers per generation (at most 200,000 generations): far
# below this, which keeps a huge or foreign file from filling memory.
MAX_HISTORY_BYTES = 64 << 20


def read_history_csv(path: str | os.PathLike) -> tuple[str, list[dict]]:
    """``(score_name, records)`` from a run's ``history.csv``: its columns as written by
    :func:`history_csv` (any game's score name, any strategy), every value a number.

    Raises ValueError naming the problem (not a history, a missing column, a bad value).
    """
    path = Path(path)
    with open(path, "rb") as f:
        data = f.read(MAX_HISTORY_BYTES + 1)
    if len(data) > MAX_HISTORY_BYTES:
        raise ValueError(f"{path}: more than {MAX_HISTORY_BYTES >> 20} MB, not a run history")
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"{path}: not a CSV run history ({e})") from None
    header = rows[0] if rows else []
    score = next(
        (c[len("best_") :] for c in header if c.startswith("best_") and c != "best_fitness"), ""
    )
    known = (history_fields(score), history_fields(score, STRATEGY_FIELDS))
    if not score or tuple(header) not in known:
        raise ValueError(f"{path}: not a run history (its columns are not evonet's)")
    records = []
    for i, row in enumerate(rows[1:], start=2):
        try:
            record = {k: float(v) for k, v in zip(header, row, strict=True)}
        except ValueError:
            raise ValueError(f"{path}, line {i}: expected {len(header)} numbers") from None
        if any(math.isinf(v) for v in record.values()):  # NaN: a genome that was not scored
            raise ValueError(f"{path}, line {i}: an infinite value, not a run history")
        records.append(record)
    if not records:
        raise ValueError(f"{path}: no generations yet")
    return score, records


def record_problem(i: int, record: Any, fields: tuple[str, ...]) -> str:
    """What is wrong with history record ``i`` read from a file (empty if nothing): it must
    hold exactly ``fields``, its generation ``i`` and finite numbers. A record written before
    runs had workers gets ``workers = 1``: it ran in one process."""
    if isinstance(record, dict) and record.keys() == set(fields) - {"workers"}:
        record["workers"] = 1
    if not isinstance(record, dict) or record.keys() != set(fields):
        return f"expected the fields {', '.join(fields)}"
    if record["generation"] != i or not _whole(record["generation"]):
        return f"generation is {record['generation']!r}, expected {i}"
    for k in fields[1:]:
        v = record[k]
        if not (_number(v) and math.isfinite(v)):
            return f"{k} is {v!r}, not a finite number"
    return ""


def _whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def history_array(history: Sequence[dict], fields: Sequence[str]) -> np.ndarray:
    """The records as a ``(G, F)`` float64 matrix, column ``j`` being ``fields[j]``, as a
    checkpoint stores them. Raises ValueError for what :func:`array_problem` would refuse
    on loading: such a file could never be read again."""
    out = history_matrix(history, fields)
    problem = array_problem(out, fields)
    if problem:
        raise ValueError(f"history {problem}; refusing to write a file that could not be read")
    return out


def history_matrix(history: Sequence[dict], fields: Sequence[str]) -> np.ndarray:
    """The records, each holding numbers under every name of ``fields``, as a ``(G, F)``
    float64 matrix, unchecked."""
    fields = tuple(fields)
    rows = list(map(itemgetter(*fields), history))
    return np.array(rows, dtype=np.float64).reshape(len(history), len(fields))


def array_problem(h: np.ndarray, fields: Sequence[str]) -> str:
    """What is wrong with a ``(G, F)`` history matrix of the columns ``fields`` (empty if
    nothing): every value finite, the ``generation`` column ``0 .. G-1``, and the columns
    of :data:`INT_FIELDS` whole numbers from 0 below :data:`MAX_WHOLE`."""
    fields = tuple(fields)
    bad = np.argwhere(~np.isfinite(h))
    if bad.size:
        i, j = bad[0]
        return f"record {i}: {fields[j]} is {float(h[i, j])!r}, not a finite number"
    if "generation" in fields:
        column = h[:, fields.index("generation")]
        wrong = np.flatnonzero(column != np.arange(len(column)))
        if wrong.size:
            i = wrong[0]
            return f"record {i}: generation is {float(column[i])!r}, expected {i}"
    for name in INT_FIELDS:
        if name in fields:
            column = h[:, fields.index(name)]
            whole = (column == np.floor(column)) & (column >= 0) & (column < MAX_WHOLE)
            wrong = np.flatnonzero(~whole)
            if wrong.size:
                i = wrong[0]
                return f"record {i}: {name} is {float(column[i])!r}, not a whole number from 0"
    return ""


def array_records(h: np.ndarray, fields: Sequence[str]) -> list[dict]:
    """The records of a ``(G, F)`` history matrix checked by :func:`array_problem`: one
    dict per row, ints in the columns of :data:`INT_FIELDS`, floats in the others."""
    columns = [
        h[:, j].astype(np.int64).tolist() if name in INT_FIELDS else h[:, j].tolist()
        for j, name in enumerate(fields)
    ]
    return [dict(zip(fields, row, strict=True)) for row in zip(*columns, strict=True)]
