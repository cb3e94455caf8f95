"""Parallel evaluation: agent-steps/s of one generation on each backend, in one run.

    python benchmarks/scaling.py            # about three minutes on 2 cores

The population: 1,000 genomes bred from the shipped champion (its weights plus N(0, 0.05)
noise), so games last as long as late in a real run; 4 episodes each on 10x10. Each
backend plays the same generation (same episode seeds) and must return the very numbers
of the serial rollout. Prints the median of several generations per backend and its ratio
to serial measured in this same run, the per-generation overhead on a tiny population
(16 genomes x 1 episode on 6x6), and each backend's start-up time.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import statistics
import sys
import time

import numpy as np
from bred import champion_bred

from evonet.evaluators import ProcessEvaluator, RayEvaluator, SerialEvaluator, available_cores
from games.base import episode_seeds
from games.snake import SnakeSpec

FIELDS = ("fitness", "episode_score", "episode_steps", "episode_won")


def timed(evaluator, genomes, topo, game, seeds, repeats):
    """Median seconds of ``repeats`` generations, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = evaluator(genomes, topo, game, seeds)
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--population", type=int, default=1000)
    args = parser.parse_args()
    genomes, topo = champion_bred(args.population)
    game, seeds = SnakeSpec(), episode_seeds(7, 4)
    tiny, tiny_topo = champion_bred(16)
    tiny_game, tiny_seeds = SnakeSpec(board=(6, 6)), episode_seeds(7, 1)
    print(f"python {sys.version.split()[0]}, {available_cores()} cores available")
    print(f"{args.population} genomes x 4 episodes on 10x10; median of {args.repeats}")

    backends = [
        ("serial", SerialEvaluator),
        ("processes, 1 worker", lambda: ProcessEvaluator(1)),
        ("processes, 2 workers", lambda: ProcessEvaluator(2)),
        ("ray, 2 workers", lambda: RayEvaluator(2)),
    ]
    base = reference = None
    for name, make in backends:
        t = time.perf_counter()
        ev = make()
        if hasattr(ev, "start"):
            ev.start()
        start = time.perf_counter() - t
        try:
            seconds, result = timed(ev, genomes, topo, game, seeds, args.repeats)
            overhead, _ = timed(ev, tiny, tiny_topo, tiny_game, tiny_seeds, 5)
        finally:
            ev.close()
        if reference is None:
            reference, base = result, seconds
        same = all(np.array_equal(getattr(result, k), getattr(reference, k)) for k in FIELDS)
        rate = result.agent_steps / seconds
        print(
            f"  {name:22s} {rate:>12,.0f} agent-steps/s  {base / seconds:5.2f}x serial  "
            f"tiny generation {overhead * 1e3:7.1f} ms  start-up {start:5.2f} s  "
            f"{'identical' if same else 'DIFFERENT RESULTS'}"
        )


if __name__ == "__main__":
    main()
