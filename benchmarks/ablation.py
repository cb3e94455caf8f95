"""What each change of evonet's Snake defaults bought: the same command with and without
it, on seeds 0-4, each champion on the same 100 fresh 10x10 games.

    python benchmarks/ablation.py                 # every row: the longest benchmark
    python benchmarks/ablation.py --seeds 0,1 --skip-layout-1 --skip-late --skip-race

Per seed it runs `evonet evolve snake --seed S --generations 200 --champion-episodes 100
--champion-heats 0` (whose end picks a champion among the elites and the best so far),
then resumes that run to 350 generations (evonet 0.2.0's defaults: 350 generations of 4
episodes, a 100-episode pick), then to 500 with a 500-episode pick from the whole last
population: today's defaults, whose generations from 350 on play 32 episodes for the
best 34% on their first 4. A resumed run continues bit for bit, so these are the 200-, 350- and
500-generation runs of the plain command. From each it evaluates the picked champion
(best.npz) and the best genome so far (the champion before champions were picked, from
latest.npz). Then, unless skipped, the 0.2.0 command on observation layout 1 (no room
features), today's defaults without the late episodes (`--late-episodes 0`: 500
generations of 4 episodes), and without the race and the whole-population pick
(`--late-share 1 --champion-heats 0`).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import statistics
import tempfile
from pathlib import Path

import machine  # benchmarks/machine.py, beside this script
import numpy as np
from run_cli import evonet

from evonet.evolution.files import load_network, load_run
from evonet.evolution.rollout import rollout
from evonet.games.base import episode_seeds

EVAL_SEED = 2026


def scores(folder: Path) -> dict[str, tuple[float, int]]:
    """(mean apples, full boards) on the 100 evaluation games of the run's picked champion
    and of its best genome so far."""
    run = load_run(folder / "latest.npz")
    champion, _, _ = load_network(folder / "best.npz")
    out = {}
    for name, genome in (("picked", champion), ("best so far", run.ga.best_genome)):
        r = rollout(genome[None], run.topology, run.game, episode_seeds(EVAL_SEED, 100))
        out[name] = (float(r.score[0]), int(r.episode_won[0].sum()))
    return out


def resume(run: Path, out: Path, generations: int, *flags: str) -> Path:
    """`evonet evolve snake --resume RUN/latest.npz --generations N` (plus ``flags``) into
    ``out``; a resumed run continues bit for bit, so this is the longer plain command."""
    evonet("evolve", "snake", "--resume", str(run / "latest.npz"), "--generations",
           str(generations), *flags, "--out", str(out), progress=True)  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--skip-layout-1", action="store_true")
    ap.add_argument("--skip-late", action="store_true", help="no run without late episodes")
    ap.add_argument("--skip-race", action="store_true", help="no run without the race")
    a = ap.parse_args()
    print(machine.describe())  # the figures below belong with this line
    seeds = [int(s) for s in a.seeds.split(",")]
    rows: dict[str, list[tuple[float, int]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            run = Path(tmp) / f"seed{seed}"
            evonet(
                "evolve",
                "snake",
                "--seed",
                str(seed),
                "--generations",
                "200",
                "--champion-episodes",
                "100",
                "--champion-heats",  # 0.2.0's pick: the elites and the best so far
                "0",
                "--out",
                str(run),
                progress=True,
            )
            at_200 = scores(run)
            at_350 = scores(resume(run, Path(tmp) / f"seed{seed}-350", 350))
            today = resume(Path(tmp) / f"seed{seed}-350", Path(tmp) / f"seed{seed}-500", 500,
                           "--champion-episodes", "500", "--champion-heats", "10")  # fmt: skip
            at_500 = scores(today)
            found = {
                "layout 2, 200 generations, best so far": at_200["best so far"],
                "layout 2, 200 generations, picked": at_200["picked"],
                "layout 2, 350 generations, best so far": at_350["best so far"],
                "layout 2, 350 generations, picked (0.2.0's defaults)": at_350["picked"],
                "500 generations, 32 episodes from 350 for the best 34% on 4, whole-population "
                "500-episode pick (the defaults)": at_500["picked"],
            }
            if not a.skip_race:
                every = Path(tmp) / f"seed{seed}-no-race"
                evonet("evolve", "snake", "--seed", str(seed), "--late-share", "1",
                       "--champion-heats", "0", "--out", str(every), progress=True)  # fmt: skip
                found["the same, all 32 for every genome, elites' pick"] = scores(every)["picked"]
            if not a.skip_late:
                plain = Path(tmp) / f"seed{seed}-no-late"
                evonet("evolve", "snake", "--seed", str(seed), "--late-episodes", "0",
                       "--out", str(plain), progress=True)  # fmt: skip
                found["500 generations of 4 episodes, 500-episode pick"] = scores(plain)["picked"]
            if not a.skip_layout_1:
                old = Path(tmp) / f"seed{seed}-layout1"
                evonet(
                    "evolve",
                    "snake",
                    "--seed",
                    str(seed),
                    "--observation",
                    "1",
                    "--generations",
                    "350",
                    "--late-episodes",
                    "0",
                    "--champion-episodes",
                    "100",
                    "--out",
                    str(old),
                    progress=True,
                )
                found["layout 1, 350 generations, picked"] = scores(old)["picked"]
            for name, value in found.items():
                rows.setdefault(name, []).append(value)
                print(
                    f"seed {seed}: {name}: {value[0]:.2f} apples, {value[1]} full boards",
                    flush=True,
                )
    print(f"\nmedians over seeds {a.seeds} (worst), champion on 100 fresh 10x10 games:")
    for name, values in rows.items():
        means, fulls = np.array([v[0] for v in values]), [v[1] for v in values]
        print(
            f"  {name}: {statistics.median(means):.2f} apples (worst {means.min():.2f}), "
            f"{statistics.median(fulls):.0f} full boards (worst {min(fulls)})"
        )


if __name__ == "__main__":
    main()
