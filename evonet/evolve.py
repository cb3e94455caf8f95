"""The generation loop: ask, rollout, tell; reporters do all the output.

Reporters follow neat-python's pattern: a base class with no-op hooks, so the loop stays
free of printing, files and plots, and each output is one small class in
:mod:`evonet.reporters`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from evonet import mlp
from evonet.config import EvolveConfig
from evonet.ga import GA
from evonet.mlp import Topology
from evonet.rollout import GameSettings, RolloutResult, rollout

HISTORY_FIELDS = (
    "generation",
    "best_fitness",
    "mean_fitness",
    "median_fitness",
    "best_apples",
    "mean_apples",
    "seconds",
    "agent_steps_per_s",
)
# Wall-clock columns; every other column is a pure function of the config.
TIMING_FIELDS = ("seconds", "agent_steps_per_s")


@dataclass
class Run:
    """The state of an evolution run: what reporters read and checkpoints store."""

    config: EvolveConfig
    topology: Topology
    game: GameSettings
    ga: GA
    history: list[dict] = field(default_factory=list)

    @classmethod
    def start(cls, cfg: EvolveConfig) -> Run:
        """A fresh run: the initial population drawn from ``cfg.seed``."""
        cfg.validate()
        topo = cfg.topology()
        rng = np.random.default_rng(cfg.seed)
        population = mlp.init(topo, rng, n=cfg.population, dtype=np.float32)
        return cls(cfg, topo, cfg.game_settings(), GA(cfg.ga(), population, rng))

    @property
    def generation(self) -> int:
        """Generations finished so far."""
        return self.ga.generation


def generation_seeds(seed: int, generation: int, episodes: int) -> np.ndarray:
    """``(E,)`` episode seeds of one generation: new every generation, and a pure function
    of ``(seed, generation)`` so that a resumed run plays the very same episodes."""
    return np.random.SeedSequence([seed, generation]).generate_state(episodes, dtype=np.uint64)


class Reporter:
    """Base class of run observers; every hook is a no-op."""

    def on_start(self, run: Run) -> None:
        """Before the first generation of this process (fresh or resumed)."""

    def on_generation(self, run: Run, record: dict, result: RolloutResult) -> None:
        """After each generation has been evaluated and told to the GA."""

    def on_end(self, run: Run, reason: str) -> None:
        """After the loop: ``reason`` is ``finished``, ``time limit`` or ``interrupted``."""


def evolve(
    run: Run,
    reporters: Sequence[Reporter] = (),
    should_stop: Callable[[], bool] = lambda: False,
) -> str:
    """Run generations until ``run.config.generations`` or the time limit.

    ``should_stop`` is checked between generations (a signal handler sets it); a generation
    in progress always finishes, so the run state is never half-updated.

    Returns:
        why the loop ended: ``finished``, ``time limit`` or ``interrupted``.
    """
    cfg = run.config
    start = time.perf_counter()
    for r in reporters:
        r.on_start(run)
    reason = "finished"
    while run.generation < cfg.generations:
        if should_stop():
            reason = "interrupted"
            break
        if cfg.time_limit and time.perf_counter() - start >= cfg.time_limit:
            reason = "time limit"
            break
        t0 = time.perf_counter()
        gen = run.generation
        result = rollout(
            run.ga.ask(), run.topology, run.game, generation_seeds(cfg.seed, gen, cfg.episodes)
        )
        run.ga.tell(result.fitness)
        seconds = time.perf_counter() - t0
        record = {
            "generation": gen,
            "best_fitness": float(np.nanmax(result.fitness)),
            "mean_fitness": float(np.nanmean(result.fitness)),
            "median_fitness": float(np.nanmedian(result.fitness)),
            "best_apples": float(result.apples.max()),
            "mean_apples": float(result.apples.mean()),
            "seconds": round(seconds, 4),
            "agent_steps_per_s": round(result.agent_steps / seconds, 1),
        }
        run.history.append(record)
        for r in reporters:
            r.on_generation(run, record, result)
    for r in reporters:
        r.on_end(run, reason)
    return reason
