"""The compiled engine against the engine it replaced: evonet 0.1.0's numpy engine.

    python benchmarks/engine.py [--steps 300] [--repeats 5]

Game-steps/s of 1,000 and of 10,000 games on 10x10, observation layout 1 (the 32 features
both engines compute), random actions, finished games restarted with fresh seeds inside
the timed loop (the same loop as benchmarks/snake.py's). Both engines first play the same
games and must give the same observations move for move. Each figure is the median of
several runs on one core, the two engines timed in turns; the target is a ratio of at
least 1.5 at both sizes.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import sys

import machine  # benchmarks/machine.py, beside this script
import numpy as np
from engine_0_1_0 import Snake as Baseline
from snake import game_steps, in_turns

from evonet.games.base import episode_seeds
from evonet.games.snake import Snake, warm_up

SIZES = (1_000, 10_000)
TARGET = 1.5


def same_games(n: int = 200, steps: int = 400) -> None:
    """Exit unless both engines give the same observations for the same seeds and moves."""
    now, before = Snake(n, 10, 10, observation=1), Baseline(n, 10, 10)
    seeds = episode_seeds(3, n)
    a, _ = now.reset(seed=seeds)
    b, _ = before.reset(seed=seeds)
    rng = np.random.default_rng(3)
    for t in range(steps):
        if not np.array_equal(a, b):
            sys.exit(f"benchmarks/engine.py: the engines' observations differ at step {t}")
        actions = rng.integers(0, 3, n)
        a, *_ = now.step(actions)
        b, *_ = before.step(actions)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5, help="runs of each; the median is printed")
    a = ap.parse_args()
    print(machine.describe())  # the figures below belong with this line
    print(f"python {sys.version.split()[0]}, one core, median of {a.repeats} runs")
    warm_up()
    same_games()
    print("10x10, layout 1, random actions, finished games restarted in the loop:")
    print("  games      compiled engine   0.1.0 numpy engine   ratio")
    for n in SIZES:
        runs = {
            name: (lambda s, e=engine, n=n: game_steps(e, 10, n, a.steps, s, observation=1))
            for name, engine in (("now", Snake), ("0.1.0", Baseline))
        }
        rate = in_turns(runs, a.repeats)
        ratio = rate["now"] / rate["0.1.0"]
        print(
            f"  {n:>6,}  {rate['now']:>13,.0f}/s  {rate['0.1.0']:>15,.0f}/s   {ratio:5.2f}"
            f"  (target >= {TARGET})"
        )


if __name__ == "__main__":
    main()
