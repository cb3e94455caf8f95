"""Snake engine throughput: game-steps per second, observations included.

    python benchmarks/snake.py [--games 1000] [--steps 200] [--repeats 9]

Compares one batched engine of N games with the same N games stepped one at a time
(N engines of one game each, the same code path). Finished games are restarted with fresh
seeds (``reset_games``, inside the timed loop) so the batch stays full, as it is when a
population plays many episodes; the figure counts live game-steps only.
"""

from __future__ import annotations

import os

# The targets are per core: keep BLAS (and its children, the CLI runs) single-threaded.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import statistics
import time

import numpy as np

from games.snake import Snake, episode_seeds


def batched(n: int, steps: int, seed: int) -> float:
    """Game-steps per second for one engine of ``n`` games."""
    env = Snake(n)
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, 3, size=(steps, n))
    env.reset(seed=episode_seeds(seed, n))
    fresh = episode_seeds(seed + 1, n * steps)
    used = 0
    live = 0
    start = time.perf_counter()
    for t in range(steps):
        live += n
        env.step(actions[t])
        done = np.flatnonzero(~env.alive)
        if done.size:
            env.reset_games(done, fresh[used : used + done.size])
            used += done.size
    return live / (time.perf_counter() - start)


def one_at_a_time(n: int, steps: int, seed: int) -> float:
    """Game-steps per second for the same ``n`` games, one engine call per game-step."""
    envs = [Snake(1) for _ in range(n)]
    seeds = episode_seeds(seed, n)
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, 3, size=(steps, n))
    for k, env in enumerate(envs):
        env.reset(seed=seeds[k : k + 1])
    live = 0
    start = time.perf_counter()
    fresh = episode_seeds(seed + 1, n * steps)
    used = 0
    for t in range(steps):
        for k, env in enumerate(envs):
            live += 1
            env.step(actions[t, k : k + 1])
            if not env.alive[0]:
                env.reset_games([0], fresh[used : used + 1])
                used += 1
    return live / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--games", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=9, help="runs of each; the median is printed")
    a = ap.parse_args()
    fast = [batched(a.games, a.steps, s) for s in range(a.repeats)]
    slow = [one_at_a_time(a.games, max(a.steps // 10, 5), s) for s in range(a.repeats)]
    f, s = statistics.median(fast), statistics.median(slow)
    print(f"board 10x10, {a.games} games, random actions, median of {a.repeats} runs")
    print(f"batched:        {f:>12,.0f} game-steps/s   (target >= 2,000,000)")
    print(f"one at a time:  {s:>12,.0f} game-steps/s")
    print(f"ratio:          {f / s:>12.0f}x")


if __name__ == "__main__":
    main()
