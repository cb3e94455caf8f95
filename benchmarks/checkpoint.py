"""Checkpoints of a long run: the size of a 200,000-generation checkpoint, and the time and
memory it takes to write and to load, in format version 2 and in version 1.

    python benchmarks/checkpoint.py                      # 200,000 generations
    python benchmarks/checkpoint.py --generations 20000 --repeats 5

Builds one Snake run (population 16, a 35-6-3 network) whose history holds G generations
of records with numbers of a real run's precision, and writes it in both versions: version
2 (the history as a (G, 9) float64 array) with ``save_run``, and version 1 (the history as
JSON records in the metadata) as evonet wrote it before version 2. Then it loads each file
with ``load_run``, ``--repeats`` times, every time in a new process, and prints the medians
and ranges of:

- the size on disk, and the time to write it (``save_run``: a run writes it every
  ``checkpoint_every`` generations);
- the time of the ``load_run`` call (imports excluded);
- the process's peak resident memory (``getrusage`` maxrss, which counts the imports too),
  and how much the load added to what the imports alone took.

On Linux a process's maxrss starts at its parent's resident size when it was started, so
this script's own process imports nothing of evonet and holds no run: the files are built
and written in a process of their own (``--write FOLDER``).

Then the ratios of version 1 to version 2. The targets for version 2 at 200,000
generations: loading in under 5 s and under 300 MB.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import machine  # benchmarks/machine.py, beside this script

# Loads one checkpoint in a fresh process; prints [seconds, maxrss after the imports (KiB),
# maxrss after the load (KiB), generations]. The game is made first: the modules a game
# imports on first use count with the imports, not with the load.
CHILD = (
    "import json, resource, sys, time\n"
    "from evonet.evolution.config import EvolveConfig\n"
    "from evonet.evolution.files import load_run\n"
    "EvolveConfig().game_spec()\n"
    "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "t = time.perf_counter()\n"
    "run = load_run(sys.argv[1])\n"
    "seconds = time.perf_counter() - t\n"
    "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "print(json.dumps([seconds, before, after, run.generation]))\n"
)


def long_run(generations: int, seed: int = 0):
    """A fresh run whose history and generation say it ran ``generations`` generations."""
    import numpy as np

    from evonet.evolution.config import EvolveConfig
    from evonet.evolution.run import Run

    cfg = EvolveConfig(
        generations=generations, population=16, elite=2, parents=5, episodes=2, hidden=(6,)
    )
    run = Run.start(cfg)
    rng = np.random.default_rng(seed)
    best = np.maximum.accumulate(rng.normal(size=generations).cumsum() * 0.01 + 10)
    for g in range(generations):
        run.history.append(
            {
                "generation": g,
                "best_fitness": float(best[g]),
                "mean_fitness": float(best[g] * 0.6),
                "median_fitness": float(best[g] * 0.55),
                "best_apples": float(round(best[g])),
                "mean_apples": float(best[g] * 0.5),
                "seconds": round(float(rng.uniform(0.01, 0.2)), 4),
                "agent_steps_per_s": round(float(rng.uniform(1e5, 1e6)), 1),
                "workers": 2,
            }
        )
    run.ga.generation = generations
    return run


def save_run_v1(path: Path, run) -> Path:
    """The checkpoint in version 1's layout: the history as JSON records in the metadata."""
    from evonet.storage.archive import save_arrays

    arrays, values = run.ga.state()
    meta = {
        "format": "evonet",
        "version": 1,
        "kind": "checkpoint",
        "config": run.config.to_dict(),
        "topology": run.topology.to_dict(),
        "history": run.history,
        **values,
    }
    return save_arrays(path, arrays, meta)


def load_in_a_new_process(path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True
    )
    seconds, before, after, _ = json.loads(out.stdout.splitlines()[-1])
    return {"load s": seconds, "peak MB": after / 1024, "load MB": (after - before) / 1024}


def spread(values: list[float], unit: str, digits: int) -> str:
    """``median unit (min-max)``."""
    med = statistics.median(values)
    return f"{med:.{digits}f} {unit} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def write_files(folder: Path, generations: int, repeats: int) -> None:
    """Build the run, write it ``repeats`` times in each version into ``folder``, check that
    version 2 gives it back; prints the write times as JSON."""
    from evonet.evolution.files import load_run, save_run

    run = long_run(generations)
    writers = {"version 2": (save_run, "v2.npz"), "version 1": (save_run_v1, "v1.npz")}
    times: dict[str, list[float]] = {}
    for label, (write, name) in writers.items():
        times[label] = []
        for _ in range(repeats):
            t = time.perf_counter()
            write(folder / name, run)
            times[label].append(time.perf_counter() - t)
    back = load_run(folder / "v2.npz")  # the same run comes back
    assert back.history == run.history and back.generation == run.generation == generations
    print(json.dumps(times))


def measure(label: str, path: Path, writes: list[float], repeats: int) -> dict[str, float]:
    """Load ``path`` ``repeats`` times, each in a new process; prints one line and returns
    the medians."""
    loads = [load_in_a_new_process(path) for _ in range(repeats)]
    size = path.stat().st_size / 1e6
    column = {k: [x[k] for x in loads] for k in loads[0]}
    print(
        f"{label}: {size:.1f} MB on disk; write {spread(writes, 's', 2)}; "
        f"load {spread(column['load s'], 's', 2)}; peak {spread(column['peak MB'], 'MB', 0)}, "
        f"of which the load {spread(column['load MB'], 'MB', 0)}"
    )
    return {
        "MB on disk": size,
        "write s": statistics.median(writes),
        **{k: statistics.median(v) for k, v in column.items()},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generations", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--write", metavar="FOLDER", help=argparse.SUPPRESS)  # the writer process
    args = ap.parse_args()
    if args.write:
        write_files(Path(args.write), args.generations, args.repeats)
        return 0
    print(machine.describe())  # the figures below belong with this line
    print(f"a Snake run of {args.generations:,} generations, population 16, network 35-6-3;")
    print(f"medians (and ranges) of {args.repeats} writes and {args.repeats} loads, each load")
    print("in a new process")
    with tempfile.TemporaryDirectory() as folder:
        argv = [sys.executable, __file__, "--write", folder]
        argv += ["--generations", str(args.generations), "--repeats", str(args.repeats)]
        out = subprocess.run(argv, capture_output=True, text=True, check=True)
        writes = json.loads(out.stdout.splitlines()[-1])
        v2 = measure("version 2", Path(folder) / "v2.npz", writes["version 2"], args.repeats)
        v1 = measure("version 1", Path(folder) / "v1.npz", writes["version 1"], args.repeats)
    ratios = ", ".join(f"{k} {v1[k] / v2[k]:.1f}x" for k in v2 if v2[k] > 0)
    print(f"version 1 / version 2: {ratios}")
    ok = v2["load s"] < 5 and v2["peak MB"] < 300
    print(f"version 2 within the targets (load under 5 s and 300 MB): {'yes' if ok else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
