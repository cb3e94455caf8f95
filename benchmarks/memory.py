"""Networks with memory: what a recurrent step costs, and what memory buys.

    python benchmarks/memory.py                  # cost, rollout and cartpole
    python benchmarks/memory.py --part cost      # the forward step: rnn and gru against mlp
    python benchmarks/memory.py --part rollout   # a whole agent-step, game included
    python benchmarks/memory.py --part cartpole  # CartPole without velocities, gru and mlp
    python benchmarks/memory.py --part snake     # 10x10 Snake, rnn and mlp, same budget

cost: one step of a rollout's forward pass (every genome's games, batched as
evonet.evolution.rollout steps them) for an MLP, an Elman RNN and a GRU with the same
layer sizes, in the same run, median of several timings each; prints each recurrent cell's
cost as a ratio to the MLP's.

rollout: what an agent-step of a whole generation's rollout costs (the game's step and
observation included, each network on the path evolution plays it on: Snake's MLP in the
compiled engine, a recurrent network in numpy), seconds per agent-step of the same
random genomes' games, as a ratio to the MLP's, medians of several rollouts.

cartpole: `evonet evolve gym:CartPole-v1 --observe 0,2 --network NET --seed S` (cart
position and pole angle only) with every other setting at its default, timed from the
outside, then `evonet evaluate` of its champion on 100 fresh episodes (seed 2026), for the
GRU and for the MLP with the same mask; target: the GRU at least 475 within 180 s on
every seed.

snake: `evonet evolve snake --network NET --seed S --time-limit T` for mlp and rnn, the
same wall-time budget each, champions on 100 fresh games.
"""

from __future__ import annotations

import os

# Per-core figures: keep BLAS (and the CLI runs) single-threaded.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import machine  # benchmarks/machine.py, beside this script
import numpy as np
from run_cli import evonet

from evonet.evolution.config import EvolveConfig
from evonet.evolution.rollout import rollout
from evonet.games.base import episode_seeds
from evonet.nn import mlp, recurrent
from evonet.nn.mlp import Topology

EVAL_SEED = 2026
CARTPOLE_TARGET, CARTPOLE_SECONDS = 475.0, 180.0
# (layer sizes, genomes, episodes): Snake's default network on a default generation, and
# CartPole's without velocities on its default population.
SHAPES = [((35, 16, 16, 3), 300, 4), ((35, 16, 16, 3), 1000, 4), ((2, 8, 2), 64, 16)]


def step_seconds(topo: Topology, p: int, e: int, repeats: int = 200, samples: int = 7) -> float:
    """Median seconds of one batched forward step of ``p`` genomes x ``e`` games."""
    rng = np.random.default_rng(0)
    layers = mlp.unflatten(mlp.init(topo, rng, n=p, dtype=np.float32), topo)
    x = rng.normal(size=(p, e, topo.n_in)).astype(np.float32)
    state = recurrent.initial_state(topo, (p, e))
    recurrent.step_layers(layers, x, state, topo, 1)
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(repeats):
            recurrent.step_layers(layers, x, state, topo, 1)
        times.append((time.perf_counter() - start) / repeats)
    return statistics.median(times)


def cost() -> None:
    for sizes, p, e in SHAPES:
        base = step_seconds(Topology(sizes), p, e)
        ratios = [
            f"{net} {step_seconds(Topology(sizes, network=net), p, e) / base:.2f}x"
            for net in ("rnn", "gru")
        ]
        shape = "-".join(map(str, sizes))
        print(f"  forward step {shape}, {p} genomes x {e} games: " + ", ".join(ratios) + " mlp's")


def agent_step_seconds(game: str, network: str, p: int, e: int, samples: int = 5) -> float:
    """Median seconds per agent-step of a rollout of ``p`` random genomes x ``e`` episodes
    of ``game`` (its default network and hidden sizes, as ``network``)."""
    config = EvolveConfig.for_game(game, network=network,
                                   observe=(0, 2) if game.startswith("gym:") else ())  # fmt: skip
    spec = config.game_spec()
    topo = config.topology(spec)
    genomes = mlp.init(topo, np.random.default_rng(0), n=p, dtype=np.float32)
    seeds = episode_seeds(1, e)
    rollout(genomes[:2], topo, spec, seeds[:1])  # compiles, and imports the environment
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        steps = rollout(genomes, topo, spec, seeds).episode_steps.sum()
        times.append((time.perf_counter() - start) / steps)
    return statistics.median(times)


def rollout_cost() -> None:
    for game, p, e in (("gym:CartPole-v1", 64, 16), ("snake", 300, 4)):
        base = agent_step_seconds(game, "mlp", p, e)
        ratios = [f"{net} {agent_step_seconds(game, net, p, e) / base:.2f}x"
                  for net in ("rnn", "gru")]  # fmt: skip
        print(f"  rollout agent-step {game}{' observing 0,2' if game != 'snake' else ''}, "
              f"{p} genomes x {e} games: " + ", ".join(ratios) + " mlp's")  # fmt: skip


def evolve_and_score(args: list[str], folder: Path) -> tuple[float, float]:
    """(champion's mean score on 100 fresh episodes, wall seconds of the run)."""
    start = time.perf_counter()
    evonet("evolve", *args, "--out", "run", "--quiet", "--no-plot", cwd=folder)
    seconds = time.perf_counter() - start
    out = evonet("evaluate", "run/best.npz", "--episodes", "100", "--seed", str(EVAL_SEED),
                 "--json", cwd=folder)  # fmt: skip
    scores = json.loads(out.strip().splitlines()[-1])
    mean = next(v for k, v in scores.items() if k.startswith("mean_") and k != "mean_steps")
    return mean, seconds


def cartpole(seeds: list[int]) -> None:
    for net in ("gru", "mlp"):
        results = []
        for seed in seeds:
            args = ["gym:CartPole-v1", "--observe", "0,2", "--network", net, "--seed", str(seed)]
            with tempfile.TemporaryDirectory() as tmp:
                results.append(evolve_and_score(args, Path(tmp)))
            print(f"  CartPole observing 0,2, {net} seed {seed}: {results[-1][0]:.1f} over "
                  f"100 fresh episodes, run {results[-1][1]:.0f} s")  # fmt: skip
        scores = [r for r, _ in results]
        met = sum(r >= CARTPOLE_TARGET and t <= CARTPOLE_SECONDS for r, t in results)
        print(f"CartPole observing 0,2, {net}: median {statistics.median(scores):.1f} (worst "
              f"{min(scores):.1f}); >= {CARTPOLE_TARGET:g} within {CARTPOLE_SECONDS:.0f} s: "
              f"{met} of {len(seeds)} seeds")  # fmt: skip


def snake(seeds: list[int], seconds: float) -> None:
    for net in ("mlp", "rnn"):
        for seed in seeds:
            args = ["snake", "--network", net, "--seed", str(seed), "--time-limit", str(seconds)]
            with tempfile.TemporaryDirectory() as tmp:
                apples, wall = evolve_and_score(args, Path(tmp))
                generations = len((Path(tmp) / "run/history.csv").read_text().splitlines()) - 1
            print(f"  snake 10x10, {net} seed {seed}: {apples:.2f} apples over 100 fresh games "
                  f"after {generations} generations in {wall:.0f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("cost", "rollout", "cartpole", "snake"), action="append")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated (0,1,2)")
    parser.add_argument("--snake-seconds", type=float, default=300.0,
                        help="Snake's budget per run (300)")  # fmt: skip
    args = parser.parse_args()
    print(machine.describe())  # the figures below belong with this line
    seeds = [int(s) for s in args.seeds.split(",")]
    parts = args.part or ["cost", "rollout", "cartpole"]
    if "cost" in parts:
        cost()
    if "rollout" in parts:
        rollout_cost()
    if "cartpole" in parts:
        cartpole(seeds)
    if "snake" in parts:
        snake(seeds, args.snake_seconds)


if __name__ == "__main__":
    main()
