"""Measure the gradient-descent targets of `evonet train`, through the real CLI.

    python benchmarks/train.py [--runs 20]

Prints, for sine, xor and the 8x8 digits with default settings, the median held-out
result, solved runs, and seconds per run on this machine; and xor with 2 hidden units for
contrast. The digits target is at least 97% test accuracy in every one of 5 seeds.
"""

from __future__ import annotations

import os

# The targets are per core: keep BLAS (and its children, the CLI runs) single-threaded.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json

import machine  # benchmarks/machine.py, beside this script
from run_cli import evonet


def evonet_json(*args: str) -> dict:
    """The CLI's --json object; its progress bar shows while it trains."""
    return json.loads(evonet(*args, "--json", progress=True).strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20, help="seeds per setting (default 20)")
    n = ap.parse_args().runs
    print(machine.describe())  # the figures below belong with this line
    rows = [
        ("sine (1-10-25-1 tanh, adam)", ["train", "sine"], n),
        ("xor (2-4-1 tanh, momentum)", ["train", "xor"], n),
        ("xor with 2 hidden units", ["train", "xor", "--hidden", "2"], n),
        ("digits (64-128-10 relu, adam)", ["train", "digits"], 5),
    ]
    print(f"{'setting':30} {'solved':>9} {'result':>30} {'s/run':>7} {'target'}")
    for label, args, runs in rows:
        out = evonet_json(*args, "--runs", str(runs))
        if "test_mse" in out:
            result = f"median test MSE {out['test_mse']:.2e}"
            target = "MSE <= 1e-4, a few seconds"
        elif args[1] == "digits":
            result = f"test accuracy {out['min_accuracy']:.3f} to {out['max_accuracy']:.3f}"
            target = f">= 0.97 in {runs} of {runs} seeds, in seconds"
        else:
            result = f"mean accuracy {out['accuracy']:.3f}"
            target = f"{n}/{n} solved" if "2 hidden" not in label else "(contrast)"
        per_run = out["seconds"] / out["runs"]
        print(
            f"{label:30} {out['solved_runs']:>4}/{out['runs']:<4} {result:>30} "
            f"{per_run:>7.2f} {target}"
        )


if __name__ == "__main__":
    main()
