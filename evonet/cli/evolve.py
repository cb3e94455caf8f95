"""``evonet evolve GAME``: evolve a population, with checkpoints, resume and reports."""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import signal
from pathlib import Path
from typing import Any

from evonet.cli.args import board_size, hidden_sizes, whole_number
from evonet.cli.errors import UsageError
from evonet.cli.flags import add_backend_flags, evaluator_from
from evonet.cli.help import examples, flag_doc
from evonet.cli.output import get_ready, info, silence_stdout
from evonet.evolution import config as config_mod
from evonet.evolution.reporters import CheckpointReporter, ProgressReporter, files, standard
from evonet.evolution.run import Run, evolve
from evonet.nn.mlp import HIDDEN_ACTIVATIONS
from evonet.search.ga import SELECTIONS, NonFiniteGenes
from evonet.storage.checkpoint import CheckpointError, load_run
from evonet.storage.folders import FolderError, claim, fresh_folder, release
from evonet.text import count


def _flag_type(f: dataclasses.Field) -> Any:
    """What parses a setting's flag: by its name (board, hidden) or its default's type."""
    special = {"board": board_size, "hidden": hidden_sizes}
    if f.name in special:
        return special[f.name]
    return {int: whole_number, float: float, str: str}[type(f.default)]


# Flag name -> parser: every setting of a run but the game (the positional argument), in
# the order of EvolveConfig. Flags default to None so that "not given" is visible.
FLAGS = {
    f.name: _flag_type(f) for f in dataclasses.fields(config_mod.EvolveConfig) if f.name != "game"
}
CHOICES = {"selection": SELECTIONS, "activation": HIDDEN_ACTIVATIONS}
METAVARS = {"out": "DIR", "time_limit": "SECONDS"}  # the rest follow their type
# Ctrl-C, kill, and a closed terminal (no SIGHUP on Windows) all stop after a generation.
STOP_SIGNALS = [signal.SIGINT, signal.SIGTERM] + (
    [signal.SIGHUP] if hasattr(signal, "SIGHUP") else []
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    d = config_mod.EvolveConfig()
    p = sub.add_parser(
        "evolve",
        help="evolve networks to play a game",
        description="Evolve a population of networks with a genetic algorithm to play a game.",
        epilog=examples(
            ("evonet evolve snake", "10x10: about 90 of 97 apples, 5-7 min on 2 cores"),
            (
                "evonet evolve snake --board 20x20",
                "325 generations on 10x10, then 25 on 20x20: 359-379 of 397 apples in 13-18 min",
            ),
            ("evonet evolve gym:CartPole-v1", "any Gymnasium environment, its own defaults"),
            ("evonet evolve snake --resume checkpoints/snake/latest.npz", "go on from there"),
            notes="The defaults shown are Snake's; each gym:ENV_ID game has its own (see the "
            "README). Ctrl-C stops after the current generation, saves a checkpoint and "
            "prints the command that resumes.",
        ),
    )
    p.add_argument(
        "game",
        help="snake, or gym:ENV_ID for an installed Gymnasium environment with Box "
        "observations and Discrete or Box actions (e.g. gym:CartPole-v1)",
    )
    for name, typ in FLAGS.items():
        default = getattr(d, name)
        if name == "board":
            default = f"{default[0]}x{default[1]}"
        elif name == "hidden":
            default = ",".join(map(str, default))
        elif name == "out":
            default = "checkpoints/GAME"
        doc = flag_doc(config_mod.EvolveConfig, name)
        p.add_argument(
            "--" + name.replace("_", "-"),
            type=typ,
            choices=CHOICES.get(name),
            default=None,
            **({"metavar": METAVARS[name]} if name in METAVARS else {}),
            help=f"{doc} (default: {default})",
        )
    p.add_argument(
        "--config", metavar="FILE.toml", help="settings file; flags override it (default: none)"
    )
    p.add_argument(
        "--resume",
        metavar="CHECKPOINT",
        help="continue a run from its latest.npz (default: none, a new run)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per generation on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--no-plot",
        dest="plot",
        action="store_false",
        help="no fitness.png when the run ends, which saves most of a second; "
        "evonet plot RUN draws the curves any time",
    )
    add_backend_flags(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    flags = {name: getattr(args, name) for name in FLAGS}
    flags["game"] = args.game
    try:
        file_settings = config_mod.load_toml(args.config) if args.config else {}
    except ValueError as e:
        raise UsageError(f"--config {e}") from None

    evaluator = evaluator_from(args)  # a cluster that cannot be reached: before any file
    try:
        return _run(args, file_settings, flags, evaluator)
    finally:
        evaluator.close()


def _run(args: argparse.Namespace, file_settings: dict, flags: dict, evaluator: Any) -> int:
    if args.resume:
        the_run, out = _resumed(args, file_settings, flags)
        lock = _folder(claim, out)
        if lock is None:
            raise UsageError(f"--out {out}: another evonet run is writing there right now")
    else:
        try:
            cfg = config_mod.build(file_settings, flags)
        except (ValueError, TypeError) as e:
            raise UsageError(str(e)) from None
        explicit = flags["out"] is not None or "out" in file_settings
        out, lock = _folder(fresh_folder, Path(cfg.run_folder()), explicit)
        the_run = Run.start(dataclasses.replace(cfg, out=str(out)))
    try:
        if args.resume and (out / "latest.npz").exists():
            if not _same_file(args.resume, out / "latest.npz"):
                # Even the same run, further on: resuming an older copy here replaces it.
                raise UsageError(
                    f"--out {out}: already holds a run (latest.npz) that resuming "
                    f"{args.resume} would replace; choose another --out to resume into"
                )
        return _evolve(args, the_run, out, evaluator)
    finally:
        release(lock)  # the folder is free for the next run


def _evolve(args: argparse.Namespace, the_run: Run, out: Path, evaluator: Any) -> int:
    """Run generations into the claimed folder ``out``; reports, signals and faults."""
    info(f"evonet: run folder {out}/ ({', '.join(files(args.plot))})")
    if the_run.game is not None:
        get_ready(the_run.game)
        _say_curriculum(the_run)
    latest = out / "latest.npz"
    reporters = standard(out, progress=not args.quiet, json_lines=args.json, plot=args.plot)
    progress = next((r for r in reporters if isinstance(r, ProgressReporter)), None)
    checkpoints = next(r for r in reporters if isinstance(r, CheckpointReporter))
    # The generation a checkpoint at `latest` holds before this process writes one.
    already = the_run.generation if args.resume and _same_file(args.resume, latest) else None

    def saved() -> str:
        """What the user can resume from now, in one sentence."""
        gen = checkpoints.written_at if checkpoints.written_at is not None else already
        if gen is not None and not latest.is_file():
            return f"nothing is left to resume: {latest} is gone"
        if gen is not None:
            return (
                f"{latest} holds generation {gen}; resume with: evonet evolve {args.game} "
                f"--resume {shlex.quote(str(latest))}"
            )
        if args.resume:
            return f"nothing new was saved; {args.resume} still holds the run"
        best = out / "best.npz"
        kept = f"; the best genome so far is in {best}" if best.exists() else ""
        return (
            f"nothing was saved yet, so there is nothing to resume (a checkpoint is written "
            f"every {the_run.config.checkpoint_every} generations and at the end){kept}"
        )

    stop = {"signal": None}

    def handler(signum: int, frame: object) -> None:
        if stop["signal"] is not None:
            # A second signal: stop now, from right here. Exiting without unwinding is what
            # makes this safe at any moment (mid-import, mid-write, inside numpy): every
            # file was written atomically, and a half-written temporary is removed by the
            # next save in this folder. os.write, not print: no Python buffer is re-entered.
            os.write(2, f"\nevonet: stopped at once; {saved()}\n".encode())
            os._exit(128 + stop["signal"])
        stop["signal"] = signum
        os.write(
            2,
            b"\nevonet: stopping after this generation and saving a checkpoint "
            b"(press Ctrl-C again to stop at once) ...\n",
        )

    old = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        reason = evolve(
            the_run,
            reporters,
            should_stop=lambda: stop["signal"] is not None,
            evaluator=evaluator,
        )
    except BrokenPipeError:  # `evonet evolve snake --json | head`: the reader is gone
        _close(progress)
        silence_stdout()
        info(f"evonet: stdout was closed, so the run stops; {saved()}")
        return 128 + signal.SIGPIPE
    except OSError as e:
        _close(progress)
        info(f"evonet: cannot write {e.filename or out}: {e.strerror or e}; {saved()}")
        return 1
    except NonFiniteGenes as e:
        _close(progress)
        info(f"evonet: {e}; the run stops and that state is not saved; {saved()}")
        return 1
    finally:
        for s, h in old.items():
            signal.signal(s, h)

    best = the_run.ga.best_fitness
    if stop["signal"] is not None:
        # A signal in the last generation still ends the process as a signal does.
        if reason == "interrupted":
            info(f"evonet: saved generation {the_run.generation} to {latest}")
            info(f"resume with: evonet evolve {args.game} --resume {shlex.quote(str(latest))}")
        else:
            info(f"evonet: {reason} at generation {the_run.generation}; saved it to {latest}")
        return 128 + int(stop["signal"])
    last = the_run.history[-1] if the_run.history else None
    summary = f"evonet: {reason} at generation {the_run.generation}"
    if last:
        name = the_run.score_name
        summary += (
            f"; last generation best {last[f'best_{name}']:.1f} {name}, "
            f"best fitness ever {best:.2f}"
        )
    info(summary)
    champion = the_run.champion
    if champion is not None:
        c, name = champion.record, the_run.score_name
        game = the_run.game
        wins = f", {count(c['wins'], game.win_name)}" if game and game.can_win else ""
        info(
            f"evonet: champion: {c['picked']}, {c[f'mean_{name}']:.2f} {name} on "
            f"{c['episodes']} fresh episodes{wins}"
        )
    info(
        f"champion: {out / 'best.npz'}   try: evonet evaluate {out / 'best.npz'}   "
        f"evonet watch {out / 'best.npz'}"
    )
    return 0


def _say_curriculum(run: Run) -> None:
    """One line saying which generations play the easier game, if any are left to play."""
    end, cfg = run.curriculum_end, run.config
    if run.generation >= end:
        return
    assert run.game is not None
    easy, game = run.game_at(run.generation).describe(), run.game.describe()  # type: ignore[union-attr]
    if end < cfg.generations:
        info(
            f"evonet: curriculum: generations {run.generation}-{end - 1} play {easy}, the "
            f"rest {game} (--curriculum {end}; 0 plays {game} from the start)"
        )
    else:
        info(
            f"evonet: curriculum: every generation plays {easy} (--curriculum {end} >= "
            f"--generations {cfg.generations}); {game} only picks the champion"
        )


def _folder(pick, *args):
    """``pick(*args)`` of :mod:`evonet.storage.folders`, its refusals as usage errors."""
    try:
        return pick(*args)
    except FolderError as e:
        raise UsageError(f"--out {e}") from None


def _same_file(a: str | os.PathLike, b: Path) -> bool:
    try:
        return Path(a).resolve() == b.resolve()
    except OSError:
        return False


def _close(progress: ProgressReporter | None) -> None:
    """End the progress bar's line so an error message starts on a line of its own."""
    if progress is not None and progress.bar is not None:
        progress.bar.close()


def _resumed(args, file_settings: dict, flags: dict) -> tuple[Run, Path]:
    try:
        the_run = load_run(args.resume)
    except CheckpointError as e:
        raise UsageError(str(e)) from None
    if the_run.game is None:
        raise UsageError(
            f"--resume {args.resume}: was evolved on a Python fitness function; resume it "
            "from Python: evonet.run(fitness=..., resume=...)"
        )
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
    if the_run.generation >= config_mod.MAX_GENERATIONS:
        raise UsageError(
            f"--resume {args.resume}: the run has reached generation {the_run.generation:,}, "
            f"the most one run can have; its champion is {Path(args.resume).parent / 'best.npz'}"
        )
    if new.generations <= the_run.generation:
        raise UsageError(
            f"--resume {args.resume}: the run is at generation {the_run.generation}; "
            f"ask for more with --generations N (N > {the_run.generation})"
        )
    out = Path(new.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file, not a folder")
    the_run.config = new
    return the_run, out
