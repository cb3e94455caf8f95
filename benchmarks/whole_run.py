"""The whole default run, against the code of another revision, in the same session.

    python benchmarks/whole_run.py --against 8c231d2 [--seed 0] [--repeats 2]

Runs the plain `evonet evolve snake --seed S` (every setting at its default, all cores) with
this checkout, on the schedule of REV's defaults (`--then`; by default the 350 generations
with no late episodes and the 100-episode pick of the defaults before late episodes: the
same run, so that the times compare the code), and with git revision REV (its tree
extracted into a temporary folder and run by the same Python with only its own code and
the installed packages on the path),
in turns, each with its compiled code already cached (a first run after an install
compiles once, not counted). Then plays each champion on the same 100 fresh games
(`evonet evaluate best.npz --episodes 100 --seed 2026`, this checkout's). Prints each
run's wall time, the ratio of the medians, and the champions. Target: this checkout at
most half REV's time, its champion at least 88 mean apples and 60 full boards.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import io
import json
import statistics
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
from pathlib import Path

import machine  # benchmarks/machine.py, beside this script
from run_cli import evonet

ROOT = Path(__file__).resolve().parents[1]


def extract(rev: str, folder: Path) -> None:
    """REV's whole tree into ``folder``."""
    archive = subprocess.run(["git", "archive", "--format=tar", rev], cwd=ROOT, capture_output=True)
    if archive.returncode:
        sys.exit(f"benchmarks/whole_run.py: git archive {rev}: {archive.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")


# The settings of the defaults before late episodes, as flags of this checkout.
BEFORE_LATE_EPISODES = "--generations 350 --late-episodes 0 --champion-episodes 100"


def run(code: Path, out: Path, seed: int, flags: tuple[str, ...] = ()) -> float:
    """Seconds of `evonet evolve snake --seed SEED` with the code in ``code``: python -S,
    so that only that code and the installed packages (not an editable install of this
    checkout) are on the path."""
    path = os.pathsep.join([str(code), sysconfig.get_paths()["purelib"]])
    env = dict(os.environ, PYTHONPATH=path)
    command = [sys.executable, "-S", "-m", "evonet", "evolve", "snake", "--seed", str(seed), *flags]
    start = time.perf_counter()
    r = subprocess.run([*command, "--out", str(out), "--quiet", "--no-plot"], env=env,
                       cwd=out.parent, capture_output=True, text=True)  # fmt: skip
    if r.returncode:
        sys.exit(f"benchmarks/whole_run.py: {code}: {r.stderr.strip()[-300:]}")
    return time.perf_counter() - start


def champion(out: Path) -> dict:
    line = evonet(
        "evaluate", str(out / "best.npz"), "--episodes", "100", "--seed", "2026", "--json"
    )
    return json.loads(line.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", required=True, metavar="REV")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=2, help="runs of each; the median is printed")
    ap.add_argument("--then", default=BEFORE_LATE_EPISODES,
                    help=f"this checkout's flags for REV's defaults: {BEFORE_LATE_EPISODES}")
    a = ap.parse_args()
    flags = {"now": tuple(a.then.split()), a.against: ()}
    print(machine.describe())  # the figures below belong with this line
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / a.against
        extract(a.against, old)
        codes = {"now": ROOT, a.against: old}
        for name, code in codes.items():  # compile (or load) each once, uncounted
            run(code, Path(tmp) / f"warm-{name}", a.seed, flags[name])
        seconds: dict[str, list[float]] = {name: [] for name in codes}
        for r in range(a.repeats):
            for name in list(codes)[r % 2 :] + list(codes)[: r % 2]:
                out = Path(tmp) / f"{name}-{r}"
                seconds[name].append(run(codes[name], out, a.seed, flags[name]))
        results = {name: champion(Path(tmp) / f"{name}-0") for name in codes}
    print(f"evonet evolve snake --seed {a.seed} (now with {a.then}), all cores, "
          f"{a.repeats} runs each, in turns:")  # fmt: skip
    for name, values in seconds.items():
        shown = ", ".join(f"{v / 60:.2f}" for v in values)
        c = results[name]
        print(f"  {name}: {shown} min; champion {c['mean_apples']} apples, "
              f"{c['full_boards']} full boards on 100 fresh games")  # fmt: skip
    now, before = (statistics.median(seconds[n]) for n in codes)
    print(f"  now / {a.against}: {now / before:.2f} of the time (target <= 0.50)")


if __name__ == "__main__":
    main()
