"""Reporters of an evolution run: progress bar, history CSV, JSON lines, plot, best genome.

Each is one small class with the hooks of :class:`evonet.evolution.run.Reporter`.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from evonet.evolution.files import save_run
from evonet.evolution.rollout import RolloutResult
from evonet.evolution.run import Champion, Reporter, Run
from evonet.storage.archive import atomic_write
from evonet.storage.checkpoint import save_network
from evonet.storage.history import history_csv
from evonet.text import count, terminal_columns


class ProgressReporter(Reporter):
    """A tqdm bar on stderr: the best and mean score (apples, return), generations per
    minute and agent-steps/s.

    Generations grow longer as players improve (many times longer on a big board), so a
    rate-based ETA would be false: without a time limit the bar
    counts generations and shows the time elapsed, with no ETA; with a time limit it runs
    over that time, which does say when the run will end.
    """

    def __init__(self, file=None, columns: int | None = None) -> None:
        self.file = file or sys.stderr
        self.columns = columns  # None: the terminal's width, if the file is one
        self.bar: tqdm | None = None
        self.started = 0.0
        self.first = 0  # the generation this process started from
        self.narrow = False  # the short layout, for terminals under NARROW columns

    def on_start(self, run: Run) -> None:
        self.started, self.first = time.perf_counter(), run.generation
        self.generation_seconds = 0.0  # the generations' own time: gen/min's measure
        width = self._width()
        self.narrow = width is not None and width < NARROW
        limit = run.config.time_limit
        # set_description() adds ": " itself; the first description is given with it.
        common = {"desc": self._desc(run) + ": ", "file": self.file, "dynamic_ncols": True}
        if limit:
            of = "/" if self.narrow else " of the "
            self.bar = tqdm(
                total=limit,
                bar_format="{desc}{percentage:3.0f}%|{bar}| {elapsed}" + of
                + tqdm.format_interval(limit) + ("" if self.narrow else " time limit")
                + "{postfix}",
                **common,
            )  # fmt: skip
        else:
            self.bar = tqdm(
                total=run.config.generations,
                initial=run.generation,
                bar_format="{desc}{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                + ("gen" if self.narrow else "generations") + " [{elapsed}{postfix}]",
                **common,
            )

    def _desc(self, run: Run) -> str:
        return _playing(run) if self.narrow else f"evolve {_playing(run)}"

    def _fitting(self, shown: dict, keep: int) -> dict:
        """``shown`` without its last (least important) fields until the line fits the
        terminal with a bar of 10 characters; the first ``keep`` (generation, best and mean
        score) always stay. Everything when the file is no terminal."""
        width = self._width()
        if width is None or self.bar is None:
            return shown
        fixed = len(self.bar.format_meter(**{**self.bar.format_dict, "ncols": None, "postfix": ""}))
        kept = dict(shown)
        while len(kept) > keep and fixed + len(_postfix(kept)) > width:
            kept.popitem()
        return kept

    def _width(self) -> int | None:
        return self.columns if self.columns is not None else terminal_columns(self.file)

    def _busy(self) -> float:
        return max(self.generation_seconds, 1e-9)

    def on_generation(self, run: Run, record: dict, result: RolloutResult) -> None:
        assert self.bar is not None
        name = run.score_name
        self.generation_seconds += record["seconds"]
        shown = {}
        if run.config.time_limit:
            shown["gen" if self.narrow else "generation"] = (
                f"{run.generation}/{run.config.generations}"
            )
        best, mean = ("best", "mean") if self.narrow else (f"best_{name}", f"mean_{name}")
        shown |= {
            best: f"{record[f'best_{name}']:.1f}",
            mean: f"{record[f'mean_{name}']:.2f}",
            **{k: f"{record[k]:.3g}" for k in run.strategy.figure_names},
            "gen/min": _rate(60 * (run.generation - self.first) / self._busy()),
        }
        if run.game is not None:
            # The throughput of all workers together, and how many there are.
            shown["steps_s"] = f"{record['agent_steps_per_s'] / 1e3:.0f}k"
            shown["workers"] = record["workers"]
        fitting = self._fitting(shown, keep=3 if run.config.time_limit else 2)
        self.bar.set_postfix(fitting, refresh=False)
        if run.config.time_limit:  # the limit counts wall time, as the run does
            elapsed = time.perf_counter() - self.started
            self.bar.update(min(elapsed, self.bar.total) - self.bar.n)
        else:
            self.bar.update(1)
        if run.generation == run.curriculum_end and run.generation < run.config.generations:
            assert run.game is not None
            there = f": {run.config.late_text(run.generation)}" if run.config.board_episodes else ""
            self.bar.write(
                f"evonet: the curriculum is done; from generation {run.generation} on, "
                f"every generation plays {run.game.describe()}{there}",
                file=self.file,
            )
            self.bar.set_description(self._desc(run), refresh=False)
        late, eps = run.config.late_episodes, run.config.episodes
        if late and late != eps and run.generation == run.config.late_from < run.config.generations:
            self.bar.write(
                f"evonet: from generation {run.generation} on, {run.config.late_text()}",
                file=self.file,
            )

    def on_picking(self, run: Run) -> None:
        self.close()
        cfg, n = run.config, len(run.champion_pool()[1])
        children = run.champion_children(n).size
        plan = f"{count(n, 'candidate')} x {count(cfg.champion_episodes, 'fresh episode')}"
        if cfg.champion_heats and children > cfg.parents:
            plan = (
                f"{children:,} children x "
                f"{count(cfg.champion_heats, 'fresh episode')}, then the best {cfg.parents} of "
                f"them, {count(n - children - 1, 'elite')} and the best so far x "
                f"{cfg.champion_episodes}"
            )
        print(f"evonet: picking the champion: {plan}", file=self.file, flush=True)

    def on_end(self, run: Run, reason: str) -> None:
        self.close()

    def on_abort(self, run: Run, error: BaseException) -> None:
        self.close()  # so that what is said about the error starts on a line of its own

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


NARROW = 100  # columns: below this, the bar's short layout


def _postfix(fields: dict) -> str:
    """What tqdm appends for ``fields``: ``, k=v, k=v``."""
    return "".join(f", {k}={v}" for k, v in fields.items())


def _rate(x: float) -> str:
    """``0.4367`` -> ``0.44``, ``12.34`` -> ``12.3``, ``2834.1`` -> ``2,834``."""
    return f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:,.0f}"


def _playing(run: Run) -> str:
    """What the run's next generation plays, in a few words (``snake 10x10``)."""
    game = run.game_at(run.generation)
    return game.describe() if game is not None else run.config.game


class HistoryReporter(Reporter):
    """``history.csv``, rewritten atomically after every generation (it stays small)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, run: Run) -> None:
        text = history_csv(run.history, run.fields).encode()
        atomic_write(self.path, lambda f: f.write(text))

    def on_start(self, run: Run) -> None:
        self.write(run)

    def on_generation(self, run: Run, record: dict, result: RolloutResult) -> None:
        self.write(run)


class JsonLinesReporter(Reporter):
    """One JSON object per generation on stdout, with the fields of history.csv."""

    def on_generation(self, run: Run, record: dict, result: RolloutResult) -> None:
        print(json.dumps({k: record[k] for k in run.fields}), flush=True)


def _switches(run: Run) -> list[tuple[int, str]]:
    """Where the run changed what it played, for :func:`evonet.views.plots.fitness_curves`:
    the curriculum's end, the first generation of late episodes."""
    out = []
    if run.curriculum_end and run.game is not None:
        out.append((run.curriculum_end, run.game.describe()))
    cfg = run.config
    late = cfg.late_episodes and cfg.late_episodes != cfg.episodes and cfg.late_from > 0
    if run.game is not None and late:  # from generation 0 on, nothing changes to mark
        top = cfg.raced(cfg.late_from)
        whom = f"for the best {top}" if top else "a genome"
        out.append((cfg.late_from, f"{count(cfg.late_episodes, 'episode')} {whom}"))
    return out


class PlotReporter(Reporter):
    """The fitness curves as a PNG when the run ends."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_end(self, run: Run, reason: str) -> None:
        if run.history:
            from evonet.views import plots

            plots.fitness_curves(
                self.path, run.history, run.score_name, title=_title(run), switches=_switches(run)
            )


class BestGenomeReporter(Reporter):
    """``best.npz``: the best genome so far with its topology, saved when it improves, and
    when the run ends its champion (:meth:`evonet.evolution.run.Run.pick_champion`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.saved = None

    def on_generation(self, run: Run, record: dict, result: RolloutResult) -> None:
        if run.ga.best_fitness != self.saved:
            best = run.playable(run.strategy.best_genome)
            self.save(run, best, {"fitness": run.strategy.best_fitness})
            self.saved = run.ga.best_fitness

    def on_end(self, run: Run, reason: str) -> None:
        if run.champion is not None:  # picked on fresh episodes: it replaces the best so far
            champion = run.champion
            self.save(run, champion.genome, {"fitness": champion.record["fitness"]}, champion)
            self.saved = None

    def save(
        self, run: Run, genome: np.ndarray, extra: dict, champion: Champion | None = None
    ) -> None:
        info = {
            "generation": run.generation - 1,  # the last generation the genome was scored in
            **extra,
            **({"champion": champion.record} if champion is not None else {}),
            **(run.game.info() if run.game is not None else {}),
            "config": run.config.to_dict(),
        }
        save_network(self.path, genome, run.topology, info)


def _title(run: Run) -> str:
    c = run.config
    game = run.game.describe() if run.game is not None else "fitness function"
    return (
        f"{game}, population {c.population}, "
        f"net {'-'.join(map(str, run.topology.sizes))}, seed {c.seed}"
    )


class CheckpointReporter(Reporter):
    """``latest.npz`` every ``checkpoint_every`` generations and when the run ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.written_at: int | None = None

    def write(self, run: Run) -> None:
        save_run(self.path, run)
        self.written_at = run.generation

    def on_generation(self, run: Run, record: dict, result: RolloutResult) -> None:
        if run.generation % run.config.checkpoint_every == 0:
            self.write(run)

    def on_end(self, run: Run, reason: str) -> None:
        if self.written_at != run.generation:
            self.write(run)


FILES = ("latest.npz", "best.npz", "history.csv", "fitness.png")


def files(plot: bool = True) -> tuple[str, ...]:
    """The files :func:`standard` writes in a run folder."""
    return FILES if plot else tuple(f for f in FILES if f != "fitness.png")


def standard(
    out: Path,
    progress: bool = True,
    json_lines: bool = False,
    plot: bool = True,
    checkpoints: CheckpointReporter | None = None,
) -> list[Reporter]:
    """The reporters of ``evonet evolve`` for run folder ``out``: the progress bar (if
    ``progress``), history.csv, best.npz, latest.npz (``checkpoints``, or a new
    :class:`CheckpointReporter`), fitness.png (if ``plot``) and (if ``json_lines``) JSON
    lines on stdout."""
    reporters: list[Reporter] = [ProgressReporter()] if progress else []
    reporters += [
        HistoryReporter(out / "history.csv"),
        BestGenomeReporter(out / "best.npz"),
        checkpoints or CheckpointReporter(out / "latest.npz"),
    ]
    if plot:
        reporters.append(PlotReporter(out / "fitness.png"))
    if json_lines:
        reporters.append(JsonLinesReporter())
    return reporters
