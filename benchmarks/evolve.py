"""Learning and throughput targets of `evonet evolve snake`.

    python benchmarks/evolve.py --keep runs/  # learning on seeds 0-4, then throughput
    python benchmarks/evolve.py --board 20x20 --seeds 0  # evolves on 10x10, picks on 20x20
    python benchmarks/evolve.py --board 20x20 --seeds 0 --skip-now --skip-previous \\
        --compare "--curriculum 0"   # what the curriculum buys
    python benchmarks/evolve.py --skip-learning  # throughput only

Learning: runs the real command `evonet evolve snake --seed S` (every other setting at its
default, all cores) for each seed, times it, then plays its champion (best.npz) on 100
fresh games with `evonet evaluate`: apples, full boards, and the steps a won game takes.
Beside it, in the same run: the previous defaults (evonet 0.1.0: observation layout 1, 200
generations, no champion pick, no curriculum; stopped at the board's wall-time target if
it runs longer) on the same seeds, and a random policy on the same 100 games. Prints each
seed, then the median and the worst. Targets on 10x10: a median of at least 99 full boards
of 100 over seeds 0-4, the worst at least 95, each run <= 10 minutes; on 20x20: at least
95 on each seed in <= 30 minutes.

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
import sys
import tempfile
import time
from pathlib import Path

import machine  # benchmarks/machine.py, beside this script
import numpy as np
from run_cli import evonet

from evonet.evolution.files import load_run
from evonet.evolution.rollout import rollout
from evonet.evolution.run import generation_seeds
from evonet.games.base import episode_seeds
from evonet.games.snake import Snake
from evonet.search.ga import GA, GAConfig, gaussian_mutation

EVAL_SEED = 2026
# evonet 0.1.0's defaults, as flags over today's.
PREVIOUS = (
    "--observation", "1", "--generations", "200", "--champion-episodes", "0", "--curriculum", "0",
    "--late-episodes", "0",
)  # fmt: skip
# The wall-time target of each board; a run of the previous defaults is stopped there.
WALL_TARGET = {"10x10": 600, "20x20": 1800}


def random_policy(n: int, seed: int, board: tuple[int, int]) -> tuple[float, int]:
    """Mean apples and full boards of uniformly random moves on the evaluation games."""
    env = Snake(n, *board)
    env.reset(seed=episode_seeds(seed, n))
    rng = np.random.default_rng(0)
    while env.alive.any():
        env.step(rng.integers(0, 3, n))
    return float(env.apples.mean()), int(env.won.sum())


def one_run(folder: Path, seed: int, board: str, extra: tuple[str, ...]) -> dict:
    """Run `evonet evolve snake --seed S` (plus ``extra``), then evaluate its champion."""
    start = time.perf_counter()
    evonet(
        "evolve",
        "snake",
        "--seed",
        str(seed),
        "--board",
        board,
        "--out",
        str(folder),
        *extra,
        progress=True,
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
    return {
        "seed": seed,
        "wall": wall,
        "generations": gens,
        "mean": out["mean_apples"],
        "full": out["full_boards"],
        "max": out["max_apples"],
        "win_steps": out.get("mean_steps_per_win", float("nan")),
        "win_p95": out.get("p95_steps_per_win", float("nan")),
    }


def learning(root: Path, seeds: list[int], board: str, kinds: list[tuple[str, tuple]]) -> Path:
    """Each ``(label, extra flags)`` of ``kinds`` on each seed; prints every run, then the
    median and worst of each kind. Returns the first run's latest.npz."""
    width, height = (int(v) for v in board.split("x"))
    print(
        f"learning: evonet evolve snake --board {board} --seed S, champion on 100 fresh "
        f"games (evaluate --seed {EVAL_SEED}), {os.cpu_count()} cores"
    )
    results: dict[str, list[dict]] = {k: [] for k, _ in kinds}
    folders = {k: "-".join(k.replace("-", " ").split()) for k, _ in kinds}
    for seed in seeds:
        for kind, extra in kinds:
            r = one_run(root / f"{folders[kind]}-seed{seed}", seed, board, extra)
            results[kind].append(r)
            print(
                f"  {kind}, seed {seed}: mean {r['mean']:6.2f} apples, full boards "
                f"{r['full']:3d}/100, max {r['max']:3d}, steps per won game "
                f"{r['win_steps']:,.0f} (95th percentile {r['win_p95']:,.0f}), "
                f"{r['generations']} generations in {r['wall'] / 60:.1f} min",
                flush=True,
            )
    for kind, _ in kinds:
        rs = results[kind]
        means, fulls, walls = ([r[k] for r in rs] for k in ("mean", "full", "wall"))
        print(
            f"  {kind}: median {statistics.median(means):.2f} apples (worst "
            f"{min(means):.2f}), median {statistics.median(fulls):.0f} full boards "
            f"(worst {min(fulls)}), wall {min(walls) / 60:.1f}-{max(walls) / 60:.1f} min"
        )
    apples, full = random_policy(100, EVAL_SEED, (width, height))
    print(f"  random policy on the same games: mean {apples:.2f} apples, {full} full boards")
    if board == "10x10":
        print("  targets: median >= 99 full boards, worst >= 95, each run <= 10 min")
    elif board == "20x20":
        print("  targets: >= 95 full boards on each seed, each run <= 30 min")
    return root / f"{folders[kinds[0][0]]}-seed{seeds[0]}" / "latest.npz"


def throughput(checkpoint: Path | None, generations: int) -> None:
    rng = np.random.default_rng(1)
    if checkpoint is not None and checkpoint.exists():
        run = load_run(checkpoint)
        topo, game = run.topology, run.game
        base = run.ga.population
        source = f"bred from {checkpoint}"
    else:
        from evonet.evolution.config import EvolveConfig
        from evonet.evolution.run import Run

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
    ap.add_argument("--seeds", default="0,1,2,3,4", help="seeds of the learning runs")
    ap.add_argument("--board", default="10x10")
    ap.add_argument("--skip-previous", action="store_true", help="no runs of 0.1.0's defaults")
    ap.add_argument("--skip-now", action="store_true", help="no runs of today's defaults")
    ap.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="FLAGS",
        help='also today\'s defaults with these flags, e.g. "--curriculum 0" (stopped at the '
        "board's wall-time target); repeatable",
    )
    ap.add_argument("--keep", type=Path, help="keep the run folders here")
    ap.add_argument("--skip-learning", action="store_true")
    ap.add_argument("--checkpoint", type=Path, help="population to breed the 1,000 from")
    ap.add_argument("--generations", type=int, default=5, help="throughput generations")
    a = ap.parse_args()
    print(machine.describe())  # the figures below belong with this line
    checkpoint = a.checkpoint
    with tempfile.TemporaryDirectory() as tmp:
        root = a.keep or Path(tmp)
        if not a.skip_learning:
            seeds = [int(s) for s in a.seeds.split(",")]
            cap = ("--time-limit", str(WALL_TARGET[a.board])) if a.board in WALL_TARGET else ()
            stop = f" (stopped at {WALL_TARGET[a.board] // 60} min)" if cap else ""
            kinds = [] if a.skip_now else [("defaults now", ())]
            if not a.skip_previous:
                kinds.append((f"evonet 0.1.0's defaults{stop}", PREVIOUS + cap))
            kinds += [
                (f"defaults with {flags}{stop}", (*flags.split(), *cap)) for flags in a.compare
            ]
            if not kinds:
                sys.exit("nothing to run: every kind is skipped")
            checkpoint = learning(root, seeds, a.board, kinds)
            if a.board != "10x10":
                print("throughput: measured on 10x10 only (--skip-learning for it alone)")
                return
        throughput(checkpoint, a.generations)


if __name__ == "__main__":
    main()
