"""What ``evonet train`` prints about its runs: a line per run, the summary of several
seeds, and a grid's table (or the same as one JSON object)."""

from __future__ import annotations

import dataclasses
import statistics

import numpy as np

from evonet.cli.output import emit_json
from evonet.nn import mlp
from evonet.text import count
from evonet.train import sweep
from evonet.train.fit import TrainConfig, TrainResult
from evonet.train.task import Data


@dataclasses.dataclass
class Cell:
    """One setting of a grid (the defaults when there is no --sweep), and its runs."""

    settings: dict[str, object]
    topo: mlp.Topology
    cfg: TrainConfig
    results: list[tuple[TrainResult, dict]] = dataclasses.field(default_factory=list)

    @property
    def label(self) -> str:
        return sweep.label(self.settings)


def sizes(topo: mlp.Topology) -> str:
    """``1-8-1``, and the kind of a recurrent network: ``1-8-1 gru``."""
    shape = "-".join(map(str, topo.sizes))
    return f"{shape} {topo.network}" if topo.recurrent else shape


def run_line(name: str, r: int, runs: int, seed: int, res: TrainResult, m: dict, data: Data) -> str:
    if "test_mse" in m:
        score = f"test MSE {m['test_mse']:.2e}"
    else:
        score = f"test accuracy {m['accuracy']:.3f}"
        if res.val_acc and data.x_val is not None:  # a validation set apart from the test
            score += f" (validation {res.val_acc[-1]:.3f})"
    status = "solved" if m["solved"] else "NOT solved"
    # Stopped within the first epoch, a run has no epoch's loss yet.
    loss = f"{res.train_loss[-1]:.2e}" if res.train_loss else "not measured yet"
    stopped = " (stopped)" if res.stopped else ""
    return (
        f"{name} run {r + 1}/{runs} (seed {seed}): {count(res.epochs, 'epoch')}{stopped} in "
        f"{res.seconds:.2f}s, train loss {loss}, {score}, {status}"
    )


def _summary(name: str, results: list[tuple[TrainResult, dict]]) -> dict:
    """The --json object: single-run values, or medians over runs plus run counts."""
    med = statistics.median
    out: dict = {
        "task": name,
        "epochs": int(med(r.epochs for r, _ in results)),
        "seconds": round(sum(r.seconds for r, _ in results), 4),
        "train_loss": float(med(r.train_loss[-1] for r, _ in results)),
    }
    if "test_mse" in results[0][1]:
        out["test_mse"] = float(med(m["test_mse"] for _, m in results))
    else:
        out["accuracy"] = float(statistics.mean(m["accuracy"] for _, m in results))
        out["min_accuracy"] = float(min(m["accuracy"] for _, m in results))
        out["max_accuracy"] = float(max(m["accuracy"] for _, m in results))
    solved = sum(bool(m["solved"]) for _, m in results)
    out["solved"] = solved == len(results)
    if len(results) > 1:
        out["runs"] = len(results)
        out["solved_runs"] = solved
    return out


def _finite(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def _sweep_table(cells: list[Cell]) -> list[dict]:
    """Per cell: its settings, solved runs, and medians of the final losses and the test
    score, computed from the cell's runs."""
    med = statistics.median
    rows = []
    for c in cells:
        metrics = [m for _, m in c.results]
        row: dict = {k: sweep.shown(v) for k, v in c.settings.items()}
        row["solved_runs"] = sum(bool(m["solved"]) for m in metrics)
        row["runs"] = len(c.results)
        row["median_loss"] = _finite(med(r.train_loss[-1] for r, _ in c.results))
        if "test_mse" in metrics[0]:
            row["median_test_mse"] = _finite(med(m["test_mse"] for m in metrics))
        else:
            row["median_accuracy"] = float(med(m["accuracy"] for m in metrics))
        row["median_epochs"] = int(med(r.epochs for r, _ in c.results))
        rows.append(row)
    return rows


def _sweep_text(name: str, rows: list[dict], runs: int) -> str:
    keys = [k for k in rows[0] if k not in ("solved_runs", "runs") and not k.startswith("median")]
    score = "median_test_mse" if "median_test_mse" in rows[0] else "median_accuracy"
    headers = [
        *keys,
        "solved",
        "median loss",
        "median test MSE" if score == "median_test_mse" else "median test accuracy",
        "median epochs",
    ]

    def number(v: float | None, fmt: str) -> str:
        return "diverged" if v is None else format(v, fmt)

    table = [
        [*(r[k] for k in keys), f"{r['solved_runs']}/{r['runs']}", number(r["median_loss"], ".2e"),
         number(r[score], ".2e" if score == "median_test_mse" else ".3f"), str(r["median_epochs"])]
        for r in rows
    ]  # fmt: skip
    return f"{name}: {count(len(rows), 'cell')}, {count(runs, 'run')} each\n" + sweep.table(
        headers, table
    )


def print_runs(name: str, cell: Cell, runs: int, as_json: bool) -> None:
    """The summary of one setting's runs: a JSON object, or a line when there are several
    (each run already had its own line)."""
    summary = _summary(name, cell.results)
    if as_json:
        emit_json(summary)
    elif runs > 1:
        topo = cell.topo
        print(
            f"{name}: solved {summary['solved_runs']} of {count(runs, 'run')} "
            f"({sizes(topo)} {topo.hidden})"
        )


def print_sweep(name: str, cells: list[Cell], runs: int, as_json: bool) -> None:
    """A grid's table of results, or the same as one JSON object."""
    table = _sweep_table(cells)
    if as_json:
        emit_json({"task": name, "runs": runs, "cells": table})
    else:
        print(_sweep_text(name, table, runs))
