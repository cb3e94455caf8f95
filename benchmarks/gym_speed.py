"""Gymnasium generations: environments made once and kept, against made every generation.

    python benchmarks/gym_speed.py [--env LunarLander-v3] [--repeats 5]

The first generation of `evonet evolve gym:ENV --seed 0` (the environment's default
settings), played serially on a new set of episode seeds each time: with the batch of
environments kept between generations (today: evonet.evolution.batches), and made and
closed for every generation (before), timed in turns, each checked against the other's
numbers. Then CartPole's native vector env: a generation split over 2 worker processes
must return serial's numbers (each game's start is drawn from its own seed). Target:
LunarLander generations at least 1.3x faster. Each figure is the median of several
generations on one core.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import sys
import time

import machine  # benchmarks/machine.py, beside this script
import numpy as np
from snake import in_turns

from evonet.evolution.batches import Batches
from evonet.evolution.config import EvolveConfig
from evonet.evolution.evaluators.backends import SerialEvaluator
from evonet.evolution.evaluators.processes import ProcessEvaluator
from evonet.evolution.rollout import rollout
from evonet.evolution.run import Run, generation_seeds

TARGET = 1.3
FIELDS = ("episode_fitness", "episode_steps")


def kept_against_made(env: str, repeats: int) -> None:
    run = Run.start(EvolveConfig.for_game(f"gym:{env}", seed=0))
    cfg, genomes = run.config, run.strategy.ask()
    games = genomes.shape[0] * cfg.episodes
    print(f"gym:{env}: {genomes.shape[0]} genomes x {cfg.episodes} episodes = {games} "
          "environments a generation, generation 0 of seed 0")  # fmt: skip
    batches, results = Batches(), {}

    def generation(kept: bool):
        def go(s: int) -> float:
            seeds = generation_seeds(cfg.seed, s, cfg.episodes)
            start = time.perf_counter()
            result = rollout(genomes, run.topology, run.game, seeds,
                             batches=batches if kept else None)  # fmt: skip
            results.setdefault(s, []).append(result)
            return time.perf_counter() - start

        return go

    try:
        rollout(genomes[:1], run.topology, run.game, generation_seeds(0, 0, 1))  # imports
        seconds = in_turns({"kept": generation(True), "made": generation(False)}, repeats)
    finally:
        batches.close()
    for a, b in results.values():
        if not all(np.array_equal(getattr(a, f), getattr(b, f)) for f in FIELDS):
            sys.exit("benchmarks/gym_speed.py: a kept batch changed a generation's numbers")
    kept, made = seconds["kept"], seconds["made"]
    print(f"  made every generation: {made:.2f} s; kept: {kept:.2f} s; "
          f"{made / kept:.2f}x faster (target >= {TARGET})")  # fmt: skip


def cartpole_split() -> None:
    run = Run.start(EvolveConfig.for_game("gym:CartPole-v1", seed=0))
    genomes, seeds = run.strategy.ask(), generation_seeds(0, 0, run.config.episodes)
    serial = SerialEvaluator()(genomes, run.topology, run.game, seeds)
    with ProcessEvaluator(2) as ev:
        split = ev(genomes, run.topology, run.game, seeds)
    same = all(np.array_equal(getattr(serial, f), getattr(split, f)) for f in FIELDS)
    print(f"\ngym:CartPole-v1 (native vector env) on 2 workers: serial's numbers: {same}")
    if not same:
        sys.exit(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--env", default="LunarLander-v3")
    ap.add_argument("--repeats", type=int, default=5, help="runs of each; the median is printed")
    a = ap.parse_args()
    print(machine.describe())  # the figures below belong with this line
    kept_against_made(a.env, a.repeats)
    cartpole_split()


if __name__ == "__main__":
    main()
