"""Learning targets on Gymnasium environments: the plain `evonet evolve gym:ENV`.

    python benchmarks/gym.py                          # CartPole and Acrobot, 3 seeds each
    python benchmarks/gym.py --env LunarLander-v3     # LunarLander, 3 seeds
    python benchmarks/gym.py --env HalfCheetah-v5     # needs the mujoco extra

For each environment and seed: `evonet evolve gym:ENV --seed S` with every other setting at
the environment's defaults (evonet.evolution.config.GAME_DEFAULTS), timed from the outside; then
`evonet evaluate` of its best.npz on 100 fresh episodes (seed 2026, never seen in
evolution). Prints each run, then the median and range over seeds against Gymnasium's
"solved" thresholds and the time allowed.
"""

from __future__ import annotations

import os

# Per-core figures: keep BLAS (and the CLI runs) single-threaded.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import machine  # benchmarks/machine.py, beside this script
from run_cli import evonet

EVAL_SEED = 2026
# environment: (solved when the mean return over 100 episodes is at least, within seconds);
# Gymnasium's "solved" thresholds, and the project's own targets for HalfCheetah and Hopper
TARGETS = {
    "CartPole-v1": (475.0, 60.0),
    "Acrobot-v1": (-100.0, 300.0),
    "LunarLander-v3": (200.0, 120.0),
    "HalfCheetah-v5": (4000.0, 1200.0),
    "Hopper-v5": (3000.0, 1800.0),
    "BipedalWalker-v3": (300.0, 5400.0),
}


def one_run(env: str, seed: int, limit: float, folder: Path) -> tuple[float, float, int]:
    """Evolve with the defaults (stopped at ``limit`` seconds); returns (mean return of
    the champion over 100 fresh episodes, wall seconds, generations run)."""
    start = time.perf_counter()
    evonet(
        "evolve",
        f"gym:{env}",
        "--seed",
        str(seed),
        "--out",
        "run",
        "--time-limit",
        str(limit),
        cwd=folder,
        progress=True,
    )
    seconds = time.perf_counter() - start
    generations = len((folder / "run" / "history.csv").read_text().splitlines()) - 1
    out = evonet(
        "evaluate",
        "run/best.npz",
        "--episodes",
        "100",
        "--seed",
        str(EVAL_SEED),
        "--json",
        cwd=folder,
    )
    return json.loads(out.strip().splitlines()[-1])["mean_return"], seconds, generations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", action="append", choices=sorted(TARGETS), help="repeatable")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated (0,1,2)")
    args = parser.parse_args()
    print(machine.describe())  # the figures below belong with this line
    envs = args.env or ["CartPole-v1", "Acrobot-v1"]
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, BLAS threads 1")
    for env in envs:
        target, limit = TARGETS[env]
        results = []
        for seed in seeds:
            with tempfile.TemporaryDirectory() as tmp:
                ret, seconds, gens = one_run(env, seed, limit, Path(tmp))
            results.append((ret, seconds))
            print(
                f"  {env} seed {seed}: champion mean return {ret:.1f} over 100 fresh "
                f"episodes, {gens} generations in {seconds:.0f} s"
            )
        returns, times = [r for r, _ in results], [t for _, t in results]
        solved = sum(r >= target for r in returns)
        print(
            f"{env}: median {statistics.median(returns):.1f} (range {min(returns):.1f} to "
            f"{max(returns):.1f}), median {statistics.median(times):.0f} s (range "
            f"{min(times):.0f} to {max(times):.0f}); target >= {target:g} within "
            f"{limit:.0f} s: {solved} of {len(seeds)} seeds"
        )


if __name__ == "__main__":
    main()
