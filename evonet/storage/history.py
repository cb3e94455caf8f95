"""A run's history: one record of numbers per generation, its columns, and ``history.csv``.

Every column but the timing ones is a pure function of the run's settings, so two runs of
the same settings have the same history apart from :data:`TIMING_FIELDS`.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Wall-clock columns and how the generation ran (its worker processes); every other column
# of the history is a pure function of the config.
TIMING_FIELDS = ("seconds", "agent_steps_per_s", "workers")


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
