"""Balanced parallel work: a generation's time on 2 worker processes against serial.

    evonet evolve snake --seed 0 --out runs/seed0      # a real run, to its end
    python benchmarks/shards.py runs/seed0/latest.npz [--repeats 5]

Two generations of that run, each timed on: serial; 2 worker processes with today's plan
(strided shards, several per worker, handed out as workers free up); and 2 worker processes
cut the old way (one contiguous block per worker), for the baseline in the same run:

* late: the checkpoint's next generation (its population asks the GA), on its episode seeds;
  games differ tenfold in length, which is what an uneven split pays for;
* early: generation 0 of the same settings (short games), which must not get slower.

Every evaluator must return serial's very numbers. Each figure is the median of several
generations, the evaluators timed in turns. Target: late, today's plan at least 1.8x serial;
early, today's plan at least as fast as the contiguous blocks.
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

from evonet.evolution.evaluators.backends import SerialEvaluator
from evonet.evolution.evaluators.processes import ProcessEvaluator
from evonet.evolution.evaluators.sharded import Plan, Shard, shards
from evonet.evolution.files import load_run
from evonet.evolution.rollout import RolloutResult
from evonet.evolution.run import Run, generation_seeds

FIELDS = ("episode_fitness", "episode_score", "episode_steps", "episode_won")
TARGET_LATE = 1.8


class ContiguousBlocks(ProcessEvaluator):
    """The processes backend as it cut generations before: one contiguous block of genomes
    per worker."""

    def __call__(self, genomes, topo, game, seeds, observe=False) -> RolloutResult:  # noqa: ANN001
        self.start()
        split = Plan(
            False, [Shard(slice(a, b), seeds) for a, b in shards(len(genomes), self.workers)]
        )
        return split.merge(self._play(genomes, split.shards, topo, game, observe))


def generation(run: Run, late: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(genomes (P, D), seeds (E,))`` of the run's next generation, or of its first."""
    cfg = run.config
    if not late:
        run = Run.start(cfg)
    return run.strategy.ask(), generation_seeds(cfg.seed, run.generation, cfg.episodes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", help="a run's latest.npz, late in the run")
    ap.add_argument("--repeats", type=int, default=5, help="runs of each; the median is printed")
    a = ap.parse_args()
    run = load_run(a.checkpoint)
    print(machine.describe())  # the figures below belong with this line
    cfg = run.config
    print(f"{a.checkpoint}: generation {run.generation}, {cfg.population} genomes x ", end="")
    print(f"{cfg.episodes} episodes, {run.game.describe()}; median of {a.repeats}")
    evaluators = {
        "serial": SerialEvaluator(),
        "2 workers, strided shards": ProcessEvaluator(2),
        "2 workers, contiguous blocks": ContiguousBlocks(2),
    }
    for ev in evaluators.values():
        getattr(ev, "start", lambda: None)()
    try:
        for late in (True, False):
            genomes, seeds = generation(run, late)
            seconds = timed(evaluators, genomes, run, seeds, a.repeats)
            report("late" if late else "early (generation 0)", seconds, late)
    finally:
        for ev in evaluators.values():
            ev.close()


def timed(evaluators: dict, genomes: np.ndarray, run: Run, seeds: np.ndarray, repeats: int):
    """Median seconds of one generation on each evaluator, each checked against serial."""
    results: dict[str, RolloutResult] = {}

    def one(name: str):
        def go(_: int) -> float:
            start = time.perf_counter()
            results[name] = evaluators[name](genomes, run.topology, run.game, seeds)
            return time.perf_counter() - start

        return go

    seconds = in_turns({name: one(name) for name in evaluators}, repeats)
    for name, result in results.items():
        same = all(
            np.array_equal(getattr(result, f), getattr(results["serial"], f)) for f in FIELDS
        )
        if not same:
            sys.exit(f"benchmarks/shards.py: {name} changed the generation's numbers")
    return seconds


def report(which: str, seconds: dict[str, float], late: bool) -> None:
    serial = seconds["serial"]
    print(f"\n{which}: serial {serial:.2f} s a generation")
    for name, s in seconds.items():
        if name != "serial":
            print(f"  {name}: {s:.2f} s, {serial / s:.2f}x serial")
    strided, blocks = seconds["2 workers, strided shards"], seconds["2 workers, contiguous blocks"]
    goal = f"target >= {TARGET_LATE}x serial" if late else "target >= 1 (not slower)"
    shown = serial / strided if late else blocks / strided
    print(f"  strided / contiguous: {blocks / strided:.2f}x faster; {goal}: {shown:.2f}")


if __name__ == "__main__":
    main()
