"""``evonet evolve snake``: evolve a population, with checkpoints, resume and reports."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import signal
from pathlib import Path

from evonet import config as config_mod
from evonet.checkpoint import CheckpointError, load_run
from evonet.commands.common import UsageError, board_size, hidden_sizes, info
from evonet.evolve import Run, evolve
from evonet.ga import SELECTIONS
from evonet.mlp import HIDDEN_ACTIVATIONS
from evonet.reporters import (
    BestGenomeReporter,
    CheckpointReporter,
    HistoryReporter,
    JsonLinesReporter,
    PlotReporter,
    ProgressReporter,
)

# Flag name -> config field. Flags default to None so that "not given" is visible.
FLAGS = {
    "generations": int,
    "population": int,
    "elite": int,
    "parents": int,
    "selection": str,
    "tournament_size": int,
    "mutation_rate": float,
    "mutation_sigma": float,
    "sigma_decay": float,
    "hidden": hidden_sizes,
    "activation": str,
    "episodes": int,
    "board": board_size,
    "hunger": int,
    "seed": int,
    "time_limit": float,
    "checkpoint_every": int,
    "out": str,
}
CHOICES = {"selection": SELECTIONS, "activation": HIDDEN_ACTIVATIONS}
FILES = ("latest.npz", "best.npz", "history.csv", "fitness.png")


def add_parser(sub: argparse._SubParsersAction) -> None:
    d = config_mod.EvolveConfig()
    p = sub.add_parser(
        "evolve",
        help="evolve networks to play a game",
        description="Evolve a population of MLPs with a genetic algorithm. Defaults learn "
        "Snake on 10x10 in a few minutes on one core. Ctrl-C stops after the current "
        "generation, saves a checkpoint and prints the command that resumes.",
    )
    p.add_argument("game", choices=config_mod.GAMES)
    for name, typ in FLAGS.items():
        default = getattr(d, name)
        if name == "board":
            default = f"{default[0]}x{default[1]}"
        elif name == "hidden":
            default = ",".join(map(str, default))
        doc = _field_doc(name)
        p.add_argument(
            "--" + name.replace("_", "-"),
            type=typ,
            choices=CHOICES.get(name),
            default=None,
            help=f"{doc} (default {default})",
        )
    p.add_argument("--config", metavar="FILE.toml", help="settings file; flags override it")
    p.add_argument("--resume", metavar="CHECKPOINT", help="continue a run from its latest.npz")
    p.add_argument("--json", action="store_true", help="one JSON object per generation on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def _field_doc(name: str) -> str:
    """The help text kept beside the config field."""
    return config_mod.EvolveConfig.__dataclass_fields__[name].metadata["help"].rstrip(".")


def run(args: argparse.Namespace) -> int:
    flags = {name: getattr(args, name) for name in FLAGS}
    flags["game"] = args.game
    try:
        file_settings = config_mod.load_toml(args.config) if args.config else {}
    except ValueError as e:
        raise UsageError(f"--config {e}") from None

    if args.resume:
        the_run, out = _resumed(args, file_settings, flags)
    else:
        try:
            cfg = config_mod.build(file_settings, flags)
        except (ValueError, TypeError) as e:
            raise UsageError(str(e)) from None
        out = _fresh_folder(
            Path(cfg.out), explicit=flags["out"] is not None or "out" in file_settings
        )
        cfg = dataclasses.replace(cfg, out=str(out))
        the_run = Run.start(cfg)

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--out {out}: cannot create the folder: {e.strerror or e}") from None
    info(f"evonet: run folder {out}/ ({', '.join(FILES)})")
    reporters = [] if args.quiet else [ProgressReporter()]
    reporters += [
        HistoryReporter(out / "history.csv"),
        BestGenomeReporter(out / "best.npz"),
        CheckpointReporter(out / "latest.npz"),
        PlotReporter(out / "fitness.png"),
    ]
    if args.json:
        reporters.append(JsonLinesReporter())

    stop = {"signal": None}

    def handler(signum: int, frame: object) -> None:
        if stop["signal"] is not None:
            raise KeyboardInterrupt  # a second signal: stop now; the last checkpoint stands
        stop["signal"] = signum
        info("\nevonet: stopping after this generation and saving a checkpoint ...")

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        reason = evolve(the_run, reporters, should_stop=lambda: stop["signal"] is not None)
    finally:
        for s, h in old.items():
            signal.signal(s, h)

    best = the_run.ga.best_fitness
    latest = out / "latest.npz"
    if reason == "interrupted":
        info(f"evonet: saved generation {the_run.generation} to {latest}")
        info(f"resume with: evonet evolve {args.game} --resume {shlex.quote(str(latest))}")
        return 128 + int(stop["signal"])
    last = the_run.history[-1] if the_run.history else None
    summary = f"evonet: {reason} at generation {the_run.generation}"
    if last:
        summary += (
            f"; last generation best {last['best_apples']:.1f} apples, best fitness ever {best:.2f}"
        )
    info(summary)
    info(
        f"champion: {out / 'best.npz'}   try: evonet evaluate {out / 'best.npz'}   "
        f"evonet watch {out / 'best.npz'}"
    )
    return 0


def _fresh_folder(out: Path, explicit: bool) -> Path:
    """The folder for a new run; never one that holds a run already."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file, not a folder")
    if not (out / "latest.npz").exists():
        return out
    if explicit:
        raise UsageError(
            f"--out {out}: already holds a run; continue it with --resume "
            f"{out / 'latest.npz'} or choose another --out"
        )
    n = 2
    while (out.parent / f"{out.name}-{n}" / "latest.npz").exists():
        n += 1
    return out.parent / f"{out.name}-{n}"


def _resumed(args, file_settings: dict, flags: dict) -> tuple[Run, Path]:
    try:
        the_run = load_run(args.resume)
    except CheckpointError as e:
        raise UsageError(str(e)) from None
    old = the_run.config
    given = {**file_settings, **{k: v for k, v in flags.items() if v is not None}}
    if "out" not in given:
        given["out"] = str(Path(args.resume).parent)
    try:
        new = dataclasses.replace(old, **given)
        new.validate()
    except (ValueError, TypeError) as e:
        raise UsageError(str(e)) from None
    diffs = old.differences(new)
    if diffs:
        raise UsageError(
            f"--resume {args.resume}: these settings would change the results: "
            + "; ".join(diffs)
            + " (only --generations, --time-limit, --checkpoint-every and --out may change)"
        )
    if new.generations <= the_run.generation:
        raise UsageError(
            f"--resume {args.resume}: the run is at generation {the_run.generation}; "
            f"ask for more with --generations N (N > {the_run.generation})"
        )
    out = Path(new.out)
    if out.resolve() != Path(args.resume).parent.resolve() and (out / "latest.npz").exists():
        raise UsageError(
            f"--out {out}: already holds another run; choose an empty folder to resume into"
        )
    the_run.config = new
    return the_run, out
