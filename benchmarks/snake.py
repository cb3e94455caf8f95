"""Snake engine speed: compile time, game-steps/s by board size, and a population rollout.

    python benchmarks/snake.py [--games 1000] [--steps 300] [--repeats 5]

1. Compiling: a fresh process with an empty numba cache compiles the engine; later
   processes load it from the cache. Prints import + first step for both.
2. Game-steps/s of one engine of 1,000 games with random actions, observations included,
   on 10x10, 20x20, 32x32 and 64x64 boards. Finished games are restarted with fresh seeds
   inside the timed loop, so the batch stays full; only live game-steps count. Measured
   with observation layout 2 (the default: with the room features' flood fill) and
   layout 1 (without), the same games.
3. Rollout: agent-steps/s of one generation of 1,000 genomes bred from a champion x 4
   episodes on 10x10 (observations, forward pass and game steps together): the shipped
   champion (layout 2), and the champion of evonet 0.1.0 (layout 1, no flood fill), timed
   in turns. Their ratio is what the room features cost a real rollout.

Each figure is the median of several runs on one core (BLAS single-threaded).
"""

from __future__ import annotations

import os

# The targets are per core: keep BLAS single-threaded.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bred import PREVIOUS, champion_bred

from evonet.evolution.rollout import rollout
from evonet.games.base import GameSpec
from evonet.games.snake.rules import LAYOUT, Snake, episode_seeds, warm_up

BOARDS = (10, 20, 32, 64)
ROOT = Path(__file__).resolve().parents[1]
START_UP = (
    "import time; t = time.perf_counter(); import evonet.games.snake.rules as s; "
    "seconds, compiled = s.warm_up(); "
    "print(time.perf_counter() - t, seconds, compiled)"
)


def start_up(cache: str) -> tuple[float, float, bool]:
    """(import + first step seconds, the first step's share, compiled?) in a new process."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", START_UP], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1]), out[2] == "True"


def game_steps(side: int, n: int, steps: int, seed: int, observation: int = LAYOUT) -> float:
    """Game-steps per second for one engine of ``n`` games on a ``side x side`` board."""
    env = Snake(n, side, side, observation=observation)
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, 3, size=(steps, n))
    env.reset(seed=episode_seeds(seed, n))
    fresh = episode_seeds(seed + 1, n * steps)
    used = live = 0
    start = time.perf_counter()
    for t in range(steps):
        live += n
        env.advance(actions[t])
        done = np.flatnonzero(~env.alive)
        if done.size:
            env.reset_games(done, fresh[used : used + done.size])
            used += done.size
    return live / (time.perf_counter() - start)


def rollout_rate(genomes: np.ndarray, topo, game: GameSpec, seed: int) -> float:
    """Agent-steps per second of one generation's rollout on 10x10."""
    start = time.perf_counter()
    result = rollout(genomes, topo, game, episode_seeds(seed, 4))
    return result.agent_steps / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--games", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5, help="runs of each; the median is printed")
    a = ap.parse_args()
    print(f"python {sys.version.split()[0]}, one core, median of {a.repeats} runs")

    with tempfile.TemporaryDirectory() as cache:
        first = start_up(cache)
        later = [start_up(cache) for _ in range(a.repeats)]
    assert first[2] and not any(c for _, _, c in later), "the cache was not used"
    cached = statistics.median(t for t, _, _ in later)
    print("compiling the engine (a new process: import the rules, then warm_up()):")
    print(f"  empty cache:  import + first step {first[0]:.2f} s (compiling {first[1]:.2f} s)")
    print(f"  cached:       import + first step {cached:.2f} s (target < 1.5)")

    warm_up()
    rates = {}
    print(f"\n{a.games} games, random actions, finished games restarted in the loop:")
    print("          layout 2 (default)            layout 1 (no flood fill)")
    for side in BOARDS:
        rates[side], before = (
            statistics.median(
                game_steps(side, a.games, a.steps, s, observation) for s in range(a.repeats)
            )
            for observation in (LAYOUT, 1)
        )
        ratio = rates[side] / rates[BOARDS[0]]
        target = {10: "target >= 3,000,000", 32: "target >= 0.50", 64: "target >= 0.33"}
        note = f"  ({target[side]})" if side in target else ""
        print(
            f"  {side}x{side}: {rates[side]:>11,.0f} game-steps/s {ratio:.2f} x 10x10   "
            f"{before:>11,.0f}  (x {rates[side] / before:.2f}){note}"
        )

    now = champion_bred(1000)
    previous = champion_bred(1000, path=PREVIOUS)
    after, before = [], []
    for s in range(a.repeats):  # in turns, so a busy moment of the machine hits both
        after.append(rollout_rate(*now, 7 + s))
        before.append(rollout_rate(*previous, 7 + s))
    after_rate, before_rate = statistics.median(after), statistics.median(before)
    print("\nrollout: 1,000 champion-bred genomes x 4 episodes on 10x10")
    print(f"  shipped champion, layout 2:           {after_rate:>11,.0f} agent-steps/s")
    print(f"  evonet 0.1.0's champion, layout 1:    {before_rate:>11,.0f} agent-steps/s")
    print(
        f"  the room features keep {after_rate / before_rate:.2f} of the rollout speed "
        "(target >= 0.78: the compiled engine made rollouts 1.28x faster)"
    )


if __name__ == "__main__":
    main()
