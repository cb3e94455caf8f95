"""`evonet evaluate`: one champion's games in one batch, in small batches, or on workers.

    python benchmarks/evaluate.py                 # the 10x10 champion
    python benchmarks/evaluate.py --board 20x20 --champion checkpoints/snake-champion-20x20.npz

Plays the shipped 10x10 champion on the same 100 episodes (seed 12345, as `evonet evaluate`
does by default) in five ways and prints the median of several runs of each, and its ratio
to one batch in this process (timed in turns, so a busy moment hits every way alike):

- one batch here: what `evonet evaluate` does without --backend or --workers;
- batches of 5 and of 25 played one after another (evaluate before 2026-11-27 used 5);
- `play_with_progress` on two worker processes, their start-up included: what
  `evonet evaluate --workers 2` does. Each time in a new process (timed from making the
  pool, numpy and evonet imported), since in this one the pool's fork server would
  already be running after the first time.

Every way must give the very numbers of one batch.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import machine  # benchmarks/machine.py, beside this script
import numpy as np

from evonet.evolution.evaluators.backends import SerialEvaluator
from evonet.evolution.files import load_network
from evonet.games.base import episode_seeds
from evonet.games.snake import SnakeSpec

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--champion", default=str(ROOT / "checkpoints" / "snake-champion.npz"))
    ap.add_argument("--board", default="10x10")
    ap.add_argument("--episodes", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(machine.describe())  # the figures below belong with this line
    theta, topo, _ = load_network(args.champion)
    w, h = (int(v) for v in args.board.split("x"))
    game, seeds = SnakeSpec(board=(w, h)), episode_seeds(12345, args.episodes)
    here = SerialEvaluator()
    here(theta[None], topo, game, seeds[:2])  # the compiled engine, loaded

    def batches(size):
        parts = [
            here(theta[None], topo, game, seeds[i : i + size]) for i in range(0, len(seeds), size)
        ]
        return np.concatenate([p.episode_score[0] for p in parts])

    child = (
        "import contextlib, io, json, sys, time\n"
        "from evonet.evolution.files import load_network\n"
        "from evonet.cli.evaluate import play_with_progress\n"
        "from evonet.evolution.evaluators.processes import ProcessEvaluator\n"
        "from evonet.games.base import episode_seeds\n"
        "from evonet.games.snake import SnakeSpec\n"
        "path, w, h, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])\n"
        "theta, topo, _ = load_network(path)\n"
        "game, seeds = SnakeSpec(board=(w, h)), episode_seeds(12345, n)\n"
        "t = time.perf_counter()\n"
        "with ProcessEvaluator(2) as ev, contextlib.redirect_stderr(io.StringIO()):  # its bar\n"
        "    scores = play_with_progress(ev, theta, topo, game, seeds).episode_score[0]\n"
        "print(json.dumps([time.perf_counter() - t, scores.tolist()]))\n"
    )
    last: dict[str, float] = {}

    def workers():
        argv = [args.champion, str(w), str(h), str(args.episodes)]
        out = subprocess.run(
            [sys.executable, "-c", child, *argv], capture_output=True, text=True, check=True
        ).stdout
        last["seconds"], scores = json.loads(out.splitlines()[-1])
        return np.array(scores, dtype=expected.dtype)

    ways = {
        "one batch here (the default)": lambda: here(theta[None], topo, game, seeds).episode_score[
            0
        ],
        "batches of 5": lambda: batches(5),
        "batches of 25": lambda: batches(25),
        "2 worker processes (--workers 2)": workers,
    }
    expected = ways["one batch here (the default)"]()
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.repeats):
        for name, way in ways.items():
            t = time.perf_counter()
            scores = way()
            # A new process's own time, without its imports (as for the other ways).
            times[name].append(last.pop("seconds", time.perf_counter() - t))
            if not np.array_equal(scores, expected):
                print(f"{name}: scores differ from one batch", file=sys.stderr)
                return 1
    base = statistics.median(times["one batch here (the default)"])
    print(
        f"{Path(args.champion).name} on {args.episodes} episodes of {game.describe()}, "
        f"median of {args.repeats} (mean {expected.mean():.2f} apples in every way):"
    )
    for name, ts in times.items():
        med = statistics.median(ts)
        spread = f"{min(ts):.2f}-{max(ts):.2f} s"
        print(f"  {name:34s} {med:6.2f} s  ({med / base:4.1f}x one batch; {spread})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
