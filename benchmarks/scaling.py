"""Parallel evaluation: agent-steps/s of one generation on each backend, in one run.

    python benchmarks/scaling.py            # every backend against serial

The population: 1,000 genomes bred from the shipped champion (its weights plus N(0, 0.05)
noise), so games last as long as late in a real run; 4 episodes each on 10x10. Each
backend plays the same generation (same episode seeds) and must return the very numbers
of the serial rollout. Prints the median of several generations per backend and its ratio
to serial, timed in turns with serial generations in this same run (so a busy moment of
the machine hits every backend alike), the per-generation overhead on a tiny population
(16 genomes x 1 episode on 6x6), and each backend's start-up time.

Start-up is timed in a new process each time (median of 3): from creating the evaluator to
its workers being ready to play, with numpy and evonet already imported, as in a command
that has parsed its flags. In this process the pool's fork server (or Ray) is already
running after the first backend, which would hide what a command pays.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import statistics
import subprocess
import sys
import time

import machine  # benchmarks/machine.py, beside this script
import numpy as np
from bred import champion_bred

from evonet.evolution.evaluators.backends import SerialEvaluator
from evonet.evolution.evaluators.processes import ProcessEvaluator
from evonet.evolution.evaluators.ray_tasks import RayEvaluator
from evonet.evolution.evaluators.sharded import available_cores
from evonet.games.base import episode_seeds
from evonet.games.snake import SnakeSpec

FIELDS = ("fitness", "episode_score", "episode_steps", "episode_won")


def once(evaluator, genomes, topo, game, seeds):
    """Seconds of one generation, and its result."""
    t = time.perf_counter()
    result = evaluator(genomes, topo, game, seeds)
    return time.perf_counter() - t, result


def started(make):
    """An evaluator with its workers started."""
    ev = make()
    if hasattr(ev, "start"):
        ev.start()
    return ev


def fresh_start_up(make: str, repeats: int = 3) -> float:
    """Median seconds to start ``make`` (Python making an evaluator, e.g.
    ``ProcessEvaluator(2)``) in a new process."""
    code = (
        "import time, numpy, evonet.evolution.evaluators.backends as e\n"
        f"t = time.perf_counter(); ev = e.{make}; ev.start(); print(time.perf_counter() - t)\n"
        "ev.close()\n"
    )
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        runs.append(float(out.split()[-1]))
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--population", type=int, default=1000)
    args = parser.parse_args()
    print(machine.describe())  # the figures below belong with this line
    genomes, topo, game = champion_bred(args.population)
    seeds = episode_seeds(7, 4)
    tiny, tiny_topo, _ = champion_bred(16)
    tiny_game, tiny_seeds = SnakeSpec(board=(6, 6)), episode_seeds(7, 1)
    print(f"python {sys.version.split()[0]}, {available_cores()} cores available")
    print(
        f"{args.population} genomes x 4 episodes on 10x10; median of {args.repeats} "
        "generations, taken in turns with serial's so the machine's drift hits all alike"
    )
    reference = SerialEvaluator()(genomes, topo, game, seeds)
    # Two groups: Ray's own processes stay busy in the background while it runs, so it is
    # timed against a serial baseline taken while it runs too.
    groups = [
        [
            ("serial", "SerialEvaluator()"),
            ("processes, 1 worker", "ProcessEvaluator(1)"),
            ("processes, 2 workers", "ProcessEvaluator(2)"),
        ],
        [("serial", "SerialEvaluator()"), ("ray, 2 workers", "RayEvaluator(2)")],
    ]
    makers = {
        "SerialEvaluator()": SerialEvaluator,
        "ProcessEvaluator(1)": lambda: ProcessEvaluator(1),
        "ProcessEvaluator(2)": lambda: ProcessEvaluator(2),
        "RayEvaluator(2)": lambda: RayEvaluator(2),
    }
    for group in groups:
        start_up = [0.0 if name == "serial" else fresh_start_up(make) for name, make in group]
        evs = [started(makers[make]) for _, make in group]
        times: list[list[float]] = [[] for _ in group]
        same = [True] * len(group)
        try:
            for _ in range(args.repeats):
                for i, ev in enumerate(evs):
                    seconds, result = once(ev, genomes, topo, game, seeds)
                    times[i].append(seconds)
                    same[i] &= all(
                        np.array_equal(getattr(result, k), getattr(reference, k)) for k in FIELDS
                    )
            tiny_times = [
                statistics.median(
                    once(ev, tiny, tiny_topo, tiny_game, tiny_seeds)[0] for _ in range(5)
                )
                for ev in evs
            ]
        finally:
            for ev in evs:
                ev.close()
        base = statistics.median(times[0])
        for i, (name, _) in enumerate(group):
            seconds = statistics.median(times[i])
            rate = reference.agent_steps / seconds
            print(
                f"  {name:22s} {rate:>12,.0f} agent-steps/s  {base / seconds:5.2f}x serial  "
                f"tiny generation {tiny_times[i] * 1e3:7.1f} ms  start-up {start_up[i]:5.2f} s  "
                f"{'identical' if same[i] else 'DIFFERENT RESULTS'}"
            )


if __name__ == "__main__":
    main()
