"""Reporters of an evolution run: progress bar, history CSV, JSON lines, plot, best genome.

Each is one small class with the hooks of :class:`evonet.evolve.Reporter`.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

from tqdm import tqdm

from evonet.archive import atomic_write
from evonet.checkpoint import save_network
from evonet.evolve import HISTORY_FIELDS, Reporter, Run
from evonet.rollout import RolloutResult


class ProgressReporter(Reporter):
    """A tqdm bar on stderr: best and mean apples, generations/s and agent-steps/s."""

    def __init__(self, file=None) -> None:
        self.file = file or sys.stderr
        self.bar: tqdm | None = None

    def on_start(self, run: Run) -> None:
        self.bar = tqdm(
            total=run.config.generations,
            initial=run.generation,
            desc=f"evolve {run.config.game}",
            unit="gen",
            file=self.file,
            dynamic_ncols=True,
        )

    def on_generation(self, run: Run, record: dict, result: RolloutResult) -> None:
        assert self.bar is not None
        self.bar.set_postfix(
            best=f"{record['best_apples']:.1f}",
            mean=f"{record['mean_apples']:.2f}",
            steps_s=f"{record['agent_steps_per_s'] / 1e3:.0f}k",
            refresh=False,
        )
        self.bar.update(1)

    def on_end(self, run: Run, reason: str) -> None:
        if self.bar is not None:
            self.bar.close()


def history_csv(history: list[dict]) -> str:
    """The history as CSV text with the columns of ``HISTORY_FIELDS``."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=HISTORY_FIELDS, lineterminator="\n")
    w.writeheader()
    w.writerows({k: r[k] for k in HISTORY_FIELDS} for r in history)
    return buf.getvalue()


class HistoryReporter(Reporter):
    """``history.csv``, rewritten atomically after every generation (it stays small)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, run: Run) -> None:
        text = history_csv(run.history).encode()
        atomic_write(self.path, lambda f: f.write(text))

    def on_start(self, run: Run) -> None:
        self.write(run)

    def on_generation(self, run: Run, record: dict, result: RolloutResult) -> None:
        self.write(run)


class JsonLinesReporter(Reporter):
    """One JSON object per generation on stdout, with the fields of history.csv."""

    def on_generation(self, run: Run, record: dict, result: RolloutResult) -> None:
        print(json.dumps({k: record[k] for k in HISTORY_FIELDS}), flush=True)


class PlotReporter(Reporter):
    """The fitness curves as a PNG when the run ends."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_end(self, run: Run, reason: str) -> None:
        if run.history:
            from evonet import plots

            plots.fitness_curves(self.path, run.history, title=_title(run))


class BestGenomeReporter(Reporter):
    """``best.npz``: the best genome so far with its topology, saved when it improves."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.saved = None

    def on_generation(self, run: Run, record: dict, result: RolloutResult) -> None:
        if run.ga.best_fitness != self.saved:
            info = {
                "generation": record["generation"],
                "fitness": run.ga.best_fitness,
                "board": list(run.config.board),
                "hunger": run.config.hunger,
                "config": run.config.to_dict(),
            }
            save_network(self.path, run.ga.best_genome, run.topology, info)
            self.saved = run.ga.best_fitness


def _title(run: Run) -> str:
    c = run.config
    return (
        f"{c.game} {c.board[0]}x{c.board[1]}, population {c.population}, "
        f"net {'-'.join(map(str, run.topology.sizes))}, seed {c.seed}"
    )


class CheckpointReporter(Reporter):
    """``latest.npz`` every ``checkpoint_every`` generations and when the run ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.written_at: int | None = None

    def write(self, run: Run) -> None:
        from evonet.checkpoint import save_run

        save_run(self.path, run)
        self.written_at = run.generation

    def on_generation(self, run: Run, record: dict, result: RolloutResult) -> None:
        if run.generation % run.config.checkpoint_every == 0:
            self.write(run)

    def on_end(self, run: Run, reason: str) -> None:
        if self.written_at != run.generation:
            self.write(run)
