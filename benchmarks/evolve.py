"""Learning and throughput targets of `evonet evolve snake`.

    python benchmarks/evolve.py                 # both parts, about 6 minutes
    python benchmarks/evolve.py --skip-learning # throughput only, under a minute

Learning: runs the real command `evonet evolve snake --seed 0 --time-limit 300` (all other
settings at their defaults), then `evonet evaluate` on 100 fresh 10x10 games, and a random
policy on the same 100 games.

Throughput: a population of 1,000 genomes on 10x10, bred from the learning run's final
population so that games last as long as in a real run. Reports agent-steps/s of `rollout`
(observations, forward pass and game step together; median of several generations) and
the share of a generation spent in the GA operators (`GA.tell`).
"""

from __future__ import annotations

import os

# The targets are per core: keep BLAS (and its children, the CLI runs) single-threaded.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from evonet.checkpoint import load_run
from evonet.evolve import generation_seeds
from evonet.ga import GA, GAConfig, gaussian_mutation
from evonet.rollout import rollout
from games.snake import Snake, episode_seeds

EVAL_SEED = 2026


def evonet(*args: str) -> str:
    r = subprocess.run([sys.executable, "-m", "evonet", *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"evonet {' '.join(args)} failed: {r.stderr.strip()[-500:]}")
    return r.stdout


def random_policy(n: int, seed: int) -> float:
    env = Snake(n)
    env.reset(seed=episode_seeds(seed, n))
    rng = np.random.default_rng(0)
    while env.alive.any():
        env.step(rng.integers(0, 3, n))
    return float(env.apples.mean())


def learning(folder: Path, seconds: float) -> Path:
    start = time.perf_counter()
    evonet(
        "evolve",
        "snake",
        "--seed",
        "0",
        "--time-limit",
        str(seconds),
        "--quiet",
        "--out",
        str(folder),
    )
    wall = time.perf_counter() - start
    out = json.loads(
        evonet(
            "evaluate",
            str(folder / "best.npz"),
            "--episodes",
            "100",
            "--seed",
            str(EVAL_SEED),
            "--json",
        )
        .strip()
        .splitlines()[-1]
    )
    gens = len((folder / "history.csv").read_text().splitlines()) - 1
    print(
        f"learning: evonet evolve snake --seed 0 --time-limit {seconds:.0f}  "
        f"({gens} generations, {wall:.0f} s wall)"
    )
    print(
        f"  champion on 100 fresh 10x10 games: mean {out['mean_apples']:.2f} apples, "
        f"median {out['median_apples']:.1f}, max {out['max_apples']}, wins {out['wins']}  "
        f"(target >= 30; published simple GA ~22)"
    )
    print(f"  random policy on the same games:   mean {random_policy(100, EVAL_SEED):.2f} apples")
    return folder / "latest.npz"


def throughput(checkpoint: Path | None, generations: int) -> None:
    rng = np.random.default_rng(1)
    if checkpoint is not None and checkpoint.exists():
        run = load_run(checkpoint)
        topo, game = run.topology, run.game
        base = run.ga.population
        source = f"bred from {checkpoint}"
    else:
        from evonet.config import EvolveConfig
        from evonet.evolve import Run

        run = Run.start(EvolveConfig())
        topo, game, base = run.topology, run.game, run.ga.population
        source = "untrained (run the learning part for long games)"
    pop = gaussian_mutation(base[rng.integers(0, base.shape[0], 1000)], 0.1, 0.2, rng)
    cfg = GAConfig(population=1000, elite=20, parents=100)
    ga = GA(cfg, pop, rng)
    rates, shares = [], []
    for g in range(generations):
        t0 = time.perf_counter()
        res = rollout(ga.ask(), topo, game, generation_seeds(7, g, 4))
        t1 = time.perf_counter()
        ga.tell(res.fitness)
        t2 = time.perf_counter()
        rates.append(res.agent_steps / (t1 - t0))
        shares.append((t2 - t1) / (t2 - t0))
    print(f"throughput: population 1000 x 4 episodes on 10x10, {source}")
    print(
        f"  rollout: {statistics.median(rates):,.0f} agent-steps/s (median of "
        f"{generations} generations; target >= 1,000,000)"
    )
    print(f"  GA operators: {100 * statistics.median(shares):.2f}% of a generation (target < 5%)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=300.0, help="learning time budget")
    ap.add_argument("--skip-learning", action="store_true")
    ap.add_argument("--checkpoint", type=Path, help="population to breed the 1,000 from")
    ap.add_argument("--generations", type=int, default=5, help="throughput generations")
    a = ap.parse_args()
    checkpoint = a.checkpoint
    with tempfile.TemporaryDirectory() as tmp:
        if not a.skip_learning:
            checkpoint = learning(Path(tmp) / "run", a.seconds)
        throughput(checkpoint, a.generations)


if __name__ == "__main__":
    main()
