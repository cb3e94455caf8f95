"""``evonet plot RUN [RUN ...]``: several runs' curves in one PNG, to compare settings."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from evonet.cli.args import check_writable
from evonet.cli.errors import UsageError
from evonet.cli.help import examples
from evonet.cli.output import info
from evonet.text import count

# Enough for any comparison a figure can still show apart (ten colours, then they repeat).
MAX_RUNS = 50


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plot",
        help="compare runs: their curves overlaid in one PNG",
        description="Overlay the score and fitness curves of several runs in one PNG.",
        epilog=examples(
            ("evonet plot checkpoints/snake checkpoints/snake-2", "two runs side by side"),
            ("evonet plot runs/* --out compare.png", "every run in a folder"),
            ("evonet plot a/history.csv b/history.csv --labels small,big", "named curves"),
            notes="Each RUN is a run folder or its history.csv. The PNG has the best and "
            "mean score and fitness against generation and against generation time.",
        ),
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folders or history.csv files")
    p.add_argument(
        "--out", metavar="FILE.png", default="runs.png", help="the PNG to write (default: runs.png)"
    )
    p.add_argument(
        "--labels",
        metavar="A,B,...",
        help="one name per run, comma-separated (default: each run's folder name)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from evonet.storage.history import read_history_csv
    from evonet.views import plots

    if len(args.runs) > MAX_RUNS:
        raise UsageError(f"at most {MAX_RUNS} runs in one figure, got {len(args.runs)}")
    labels = args.labels.split(",") if args.labels is not None else None
    if labels is not None and len(labels) != len(args.runs):
        raise UsageError(
            f"--labels: {count(len(labels), 'name')} for {count(len(args.runs), 'run')}; "
            "give one per run, separated by commas"
        )
    out = check_writable(args.out, "--out")
    curves, scores = [], []
    for i, name in enumerate(args.runs):
        path = Path(name)
        csv = path / "history.csv" if path.is_dir() else path
        if not csv.is_file():
            raise UsageError(f"{name}: no such run (a run folder or its history.csv)")
        if csv.suffix == ".npz":  # best.npz, latest.npz: the run is the folder beside them
            beside = csv.parent / "history.csv"
            hint = f"evonet plot {shlex.quote(str(csv.parent))}" if beside.is_file() else (
                "a run folder or its history.csv"
            )
            raise UsageError(f"{name}: a network or checkpoint file, not a run ({hint})")
        try:
            score, history = read_history_csv(csv)
        except (ValueError, OSError) as e:
            raise UsageError(str(e)) from None
        curves.append((labels[i] if labels else _label(path), history))
        scores.append(score)
    if len(set(scores)) > 1:
        mixed = ", ".join(f"{c[0]} scores {s}" for c, s in zip(curves, scores, strict=True))
        raise UsageError(f"the runs play different games ({mixed}); compare runs of one game")
    plots.compare_runs(out, curves, scores[0])
    info(f"evonet: wrote {out} ({count(len(curves), 'run')})")
    return 0


def _label(path: Path) -> str:
    """A run's name in the legend: its folder's name (a file named otherwise: the file's)."""
    if path.is_dir():
        return path.resolve().name
    return path.resolve().parent.name if path.name == "history.csv" else path.stem
