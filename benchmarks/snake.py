"""Snake engine speed: compile time, game-steps/s by board size, and a population rollout.

    python benchmarks/snake.py [--games 1000] [--steps 300] [--repeats 5] [--against REV]

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

``--against REV`` times this checkout's engine against the engine of git revision REV (a
commit, tag or branch), both in this process and in turns: REV's ``games/`` folder is
extracted into a temporary folder and imported as the top-level package ``games``, beside
this checkout's ``evonet.games``. Each figure is then the ratio now / REV (above 1: this
checkout is faster; for the start-up, below 1 is faster) of the medians of the same runs.

Each figure is the median of several runs on one core (BLAS single-threaded).
"""

from __future__ import annotations

import os

# The targets are per core: keep BLAS single-threaded.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import importlib
import io
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import machine  # benchmarks/machine.py, beside this script
import numpy as np
from bred import PREVIOUS, champion_bred

from evonet.evolution.rollout import rollout
from evonet.games.base import episode_seeds
from evonet.games.snake import Snake, SnakeSpec, warm_up
from evonet.nn.mlp import Topology

BOARDS = (10, 20, 32, 64)
ROOT = Path(__file__).resolve().parents[1]
THIS = "evonet.games.snake.engine"  # this checkout's engine, as a new process imports it
START_UP = (
    "import importlib, sys, time; t = time.perf_counter(); "
    "s = importlib.import_module(sys.argv[1]); seconds, compiled = s.warm_up(); "
    "print(time.perf_counter() - t, seconds, compiled)"
)


@dataclass(frozen=True)
class EngineSpec(SnakeSpec):
    """The spec of a Snake game whose batches are made by ``engine`` (a Snake class)."""

    engine: type = Snake

    @property
    def compiled_play(self) -> bool:  # another revision's engine has no compiled rollout
        return self.engine is Snake

    def make(self, n_games: int) -> Snake:
        return self.engine(n_games, self.width, self.height, self.hunger or None, self.observation)


def old_engine(rev: str, folder: str) -> ModuleType:
    """The module of the Snake class of git revision ``rev``: its ``games/`` extracted into
    ``folder`` and imported as the top-level package ``games``."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "games"], cwd=ROOT, capture_output=True
    )
    if archive.returncode:
        sys.exit(f"benchmarks/snake.py: git archive {rev}: {archive.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    if "games" in sys.modules:
        sys.exit("benchmarks/snake.py: a package named games is imported already")
    sys.path.insert(0, folder)
    # Where Snake lived: games/snake/engine.py since this layout, games/snake/rules.py
    # before it, games/snake.py before the games had folders of their own.
    for name in ("games.snake.engine", "games.snake.rules", "games.snake"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        if hasattr(module, "Snake") and module.__file__.startswith(folder):
            return module
    sys.exit(f"benchmarks/snake.py: no Snake engine in {rev}'s games/")


def start_up(cache: str, module: str, path: str = "") -> tuple[float, float, bool]:
    """(import + first step seconds, the first step's share, compiled?) in a new process
    that imports ``module`` (with ``path`` first on its import path) and warms it up."""
    python_path = os.pathsep.join(p for p in (path, str(ROOT)) if p)
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=python_path)
    out = subprocess.run(
        [sys.executable, "-c", START_UP, module],
        cwd=cache,  # not this checkout, whose games/ would shadow REV's as `games`
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), float(out[1]), out[2] == "True"


def game_steps(
    engine: type, side: int, n: int, steps: int, seed: int, observation: int = 2
) -> float:
    """Game-steps per second for one ``engine`` of ``n`` games on a ``side x side`` board."""
    env = engine(n, side, side, observation=observation)
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


def rollout_rate(genomes: np.ndarray, topo: Topology, game: SnakeSpec, seed: int) -> float:
    """Agent-steps per second of one generation's rollout on 10x10."""
    start = time.perf_counter()
    result = rollout(genomes, topo, game, episode_seeds(seed, 4))
    return result.agent_steps / (time.perf_counter() - start)


def in_turns(runs: dict[str, Callable[[int], float]], repeats: int) -> dict[str, float]:
    """The median of ``repeats`` runs of each, run in turns (run ``s`` of each, then
    ``s + 1``, the first of each turn changing), so a busy moment of the machine hits
    them all alike."""
    seen: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for s in range(repeats):
        for name in names[s % len(names) :] + names[: s % len(names)]:
            seen[name].append(runs[name](s))
    return {name: statistics.median(values) for name, values in seen.items()}


def compiling(repeats: int, old: tuple[str, str, str] | None) -> None:
    """Section 1; ``old``: (REV, its engine's module name, the folder it imports from)."""

    def cached(module: str, path: str) -> Callable[[int], float]:
        def run(_: int) -> float:
            seconds, _, compiled = start_up(cache, module, path)
            assert not compiled, f"{module} did not load from the cache"
            return seconds

        return run

    with tempfile.TemporaryDirectory() as cache:
        first = {"now": start_up(cache, THIS)}
        engines = {"now": cached(THIS, "")}
        if old:
            first[old[0]] = start_up(cache, old[1], old[2])
            engines[old[0]] = cached(old[1], old[2])
        later = in_turns(engines, repeats)
    assert all(compiled for _, _, compiled in first.values()), "an empty cache was not used"
    print("compiling the engine (a new process: import the rules, then warm_up()):")
    seconds, compiling = first["now"][:2]
    print(f"  empty cache:  import + first step {seconds:.2f} s (compiling {compiling:.2f} s)")
    print(f"  cached:       import + first step {later['now']:.2f} s (target < 1.5)")
    if old:  # one compile each, so a rough figure; start-up times: now / REV, below 1 is faster
        rev = old[0]
        print(
            f"  now / {rev}: empty cache {seconds / first[rev][0]:.2f}, "
            f"cached {later['now'] / later[rev]:.2f} (below 1: now is faster)"
        )


def stepping(a: argparse.Namespace, engines: dict[str, type]) -> None:
    """Section 2: every engine of ``engines`` (``now`` first) on every board, in turns."""
    print(f"\n{a.games} games, random actions, finished games restarted in the loop:")
    print("          layout 2 (default)            layout 1 (no flood fill)")
    rates, ratios = {}, []
    for side in BOARDS:
        runs = {
            (name, observation): _steps_run(engine, side, a, observation)
            for name, engine in engines.items()
            for observation in (2, 1)
        }
        rate = in_turns(runs, a.repeats)
        now, before = rate["now", 2], rate["now", 1]
        rates[side] = now
        target = {10: "target >= 3,000,000", 32: "target >= 0.50", 64: "target >= 0.33"}
        note = f"  ({target[side]})" if side in target else ""
        print(
            f"  {side}x{side}: {now:>11,.0f} game-steps/s {now / rates[BOARDS[0]]:.2f} x 10x10   "
            f"{before:>11,.0f}  (x {now / before:.2f}){note}"
        )
        ratios += [(side, rev, rate["now", 2] / rate[rev, 2], rate["now", 1] / rate[rev, 1])
                   for rev in engines if rev != "now"]  # fmt: skip
    for side, rev, layout2, layout1 in ratios:
        if side == BOARDS[0]:
            print(f"\nnow / {rev}, game-steps/s (above 1: now is faster):")
        print(f"  {side}x{side}:  layout 2 {layout2:.3f}   layout 1 {layout1:.3f}")


def _steps_run(
    engine: type, side: int, a: argparse.Namespace, observation: int
) -> Callable[[int], float]:
    return lambda s: game_steps(engine, side, a.games, a.steps, s, observation)


def rolling_out(repeats: int, engines: dict[str, type]) -> None:
    """Section 3: both champions' rollouts on every engine of ``engines``, in turns."""
    bred = {2: champion_bred(1000), 1: champion_bred(1000, path=PREVIOUS)}
    runs = {}
    for name, engine in engines.items():
        for layout, (genomes, topo, game) in bred.items():
            spec = EngineSpec(
                board=game.board, hunger=game.hunger, observation=game.observation, engine=engine
            )
            runs[name, layout] = _rollout_run(genomes, topo, spec)
    rate = in_turns(runs, repeats)
    after, before = rate["now", 2], rate["now", 1]
    print("\nrollout: 1,000 champion-bred genomes x 4 episodes on 10x10")
    print(f"  shipped champion, layout 2:           {after:>11,.0f} agent-steps/s")
    print(f"  evonet 0.1.0's champion, layout 1:    {before:>11,.0f} agent-steps/s")
    print(
        f"  the room features keep {after / before:.2f} of the rollout speed "
        "(target >= 0.78: the compiled engine made rollouts 1.28x faster)"
    )
    for rev in engines:
        if rev != "now":
            print(
                f"  now / {rev}: shipped champion {after / rate[rev, 2]:.3f}, "
                f"0.1.0's champion {before / rate[rev, 1]:.3f}"
            )


def _rollout_run(genomes: np.ndarray, topo: Topology, spec: SnakeSpec) -> Callable[[int], float]:
    return lambda s: rollout_rate(genomes, topo, spec, 7 + s)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--games", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5, help="runs of each; the median is printed")
    ap.add_argument(
        "--against", metavar="REV", help="time against the engine of git revision REV too"
    )
    a = ap.parse_args()
    print(machine.describe())  # the figures below belong with this line
    print(f"python {sys.version.split()[0]}, one core, median of {a.repeats} runs")
    with tempfile.TemporaryDirectory() as folder:
        engines: dict[str, type] = {"now": Snake}
        old = None
        if a.against:
            module = old_engine(a.against, folder)
            module.warm_up()  # compiled here, into the temporary folder
            engines[a.against] = module.Snake
            old = (a.against, module.__name__, folder)
            print(f"against {a.against}: its engine is {module.__name__} of its games/")
        compiling(a.repeats, old)
        warm_up()
        stepping(a, engines)
        rolling_out(a.repeats, engines)


if __name__ == "__main__":
    main()
