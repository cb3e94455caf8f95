"""``evonet evolve GAME``: evolve a population, with checkpoints, resume and reports."""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import signal
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evonet import signals
from evonet.api import NeedsFitness, Session
from evonet.cli.args import board_size, hidden_sizes, observation_entries, whole_number
from evonet.cli.errors import UsageError
from evonet.cli.flags import add_backend_flags, evaluator_from
from evonet.cli.help import examples, flag_doc
from evonet.cli.output import info, silence_stdout
from evonet.evolution import config as config_mod
from evonet.evolution import trackers
from evonet.evolution.run import Run
from evonet.nn.mlp import HIDDEN_ACTIVATIONS, NETWORKS
from evonet.search.ga import SELECTIONS, NonFiniteGenes
from evonet.search.strategies import STRATEGY_NAMES
from evonet.storage.checkpoint import CheckpointError
from evonet.storage.folders import FolderError
from evonet.text import count


def _flag_type(f: dataclasses.Field) -> Any:
    """What parses a setting's flag: by its name (board, hidden) or its default's type."""
    special = {"board": board_size, "hidden": hidden_sizes, "observe": observation_entries}
    if f.name in special:
        return special[f.name]
    if isinstance(f.default, bool):
        return bool  # a switch: --NAME and --no-NAME
    return {int: whole_number, float: float, str: str}[type(f.default)]


# Flag name -> parser: every setting of a run but the game (the positional argument), in
# the order of EvolveConfig. Flags default to None so that "not given" is visible.
FLAGS = {
    f.name: _flag_type(f) for f in dataclasses.fields(config_mod.EvolveConfig) if f.name != "game"
}
CHOICES = {
    "selection": SELECTIONS,
    "activation": HIDDEN_ACTIVATIONS,
    "strategy": STRATEGY_NAMES,
    "network": NETWORKS,
}
DESCRIPTION = (
    "Evolve networks to play a game, with a genetic algorithm (the default) or an evolution "
    "strategy (--strategy)."
)
# The rest follow their type.
METAVARS = {"out": "DIR", "time_limit": "SECONDS", "observe": "I,J,..."}


def add_parser(sub: argparse._SubParsersAction) -> None:
    d = config_mod.EvolveConfig()
    p = sub.add_parser(
        "evolve",
        help="evolve networks to play a game",
        description=DESCRIPTION,
        epilog=examples(
            ("evonet evolve snake", "10x10 with the default settings"),
            (
                "evonet evolve snake --board 20x20",
                "evolves on 10x10, picks its champion on 20x20 (see the docs' benchmarks)",
            ),
            ("evonet evolve gym:CartPole-v1", "any Gymnasium environment, its own defaults"),
            (
                "evonet evolve gym:CartPole-v1 --observe 0,2 --network gru",
                "no velocities: a network with memory infers them (docs/memory.md)",
            ),
            ("evonet evolve snake --resume checkpoints/snake/latest.npz", "go on from there"),
            notes="The defaults shown are Snake's; a board bigger than 10x10 picks its champion "
            "on 100 episodes, each gym:ENV_ID game has its own defaults "
            "(see docs/gymnasium.md), and a recurrent --network may get more generations "
            "(docs/memory.md). --elite and --parents, when not given, keep their share of "
            "a --population that is. Ctrl-C stops after the current generation, saves a "
            "checkpoint and prints the command that resumes.",
        ),
    )
    p.add_argument(
        "game",
        help="snake, or gym:ENV_ID for an installed Gymnasium environment with Box "
        "observations and Discrete or Box actions (e.g. gym:CartPole-v1)",
    )
    for name, typ in FLAGS.items():
        _add_setting(p, name, typ, getattr(d, name))
    p.add_argument(
        "--config", metavar="FILE.toml", help="settings file; flags override it (default: none)"
    )
    p.add_argument(
        "--resume",
        metavar="CHECKPOINT",
        help="continue a run from its latest.npz (default: none, a new run)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per generation on stdout")
    p.add_argument(
        "--log",
        action="append",
        metavar="TARGET",
        help="also log every generation's figures and the settings to tensorboard (event "
        "files in the run folder's tensorboard/), tensorboard=DIR (in DIR/RUN), mlflow "
        "(MLflow's tracking URI) or mlflow=URI; repeat for both (default: none)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--no-plot",
        dest="plot",
        action="store_false",
        help="no fitness.png when the run ends (it imports matplotlib); evonet plot RUN "
        "draws the curves any time",
    )
    add_backend_flags(p)
    p.set_defaults(run=run)


def _add_setting(p: argparse.ArgumentParser, name: str, typ: Any, default: Any) -> None:
    """The flag of setting ``name``, defaulting to None ("not given")."""
    if name == "board":
        default = f"{default[0]}x{default[1]}"
    elif name == "hidden":
        default = ",".join(map(str, default))
    elif name == "observe":
        default = "all"
    elif name == "out":
        default = "checkpoints/GAME"
    doc = f"{flag_doc(config_mod.EvolveConfig, name)} (default: {default})"
    flag = "--" + name.replace("_", "-")
    if typ is bool:
        p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=doc)
        return
    p.add_argument(
        flag,
        type=typ,
        choices=CHOICES.get(name),
        default=None,
        **({"metavar": METAVARS[name]} if name in METAVARS else {}),
        help=doc,
    )


def run(args: argparse.Namespace) -> int:
    flags = {name: getattr(args, name) for name in FLAGS}
    try:
        file_settings = config_mod.load_toml(args.config) if args.config else {}
    except ValueError as e:
        raise UsageError(f"--config {e}") from None
    given = {**file_settings, **{k: v for k, v in flags.items() if v is not None}}
    try:
        args.log = trackers.checked(args.log)
    except (ValueError, ImportError) as e:
        raise UsageError(f"--{e}") from None
    with evaluator_from(args) as evaluator:  # an unreachable cluster: before any file
        with _session(args, given) as session:
            return _evolve(args, session, evaluator)


def _session(args: argparse.Namespace, given: dict[str, Any]) -> Session:
    """The run: a fresh one of the settings given, or the one ``--resume`` names with
    them applied; its folder claimed. Every refusal is a usage error."""
    try:
        if args.resume:
            changes = {**given, "game": args.game}  # another game would be refused
            return Session.open(resume=args.resume, changes=changes, name=flag_name)
        return Session.open(config_mod.build(given, {"game": args.game}))
    except NeedsFitness:
        raise UsageError(
            f"--resume {args.resume}: was evolved on a Python fitness function; resume it "
            "from Python: evonet.run(fitness=..., resume=...)"
        ) from None
    except FolderError as e:
        raise UsageError(f"--out {e}") from None
    except CheckpointError as e:
        raise UsageError(str(e)) from None
    except (ValueError, TypeError) as e:
        said = as_flags(str(e))  # a flag given with --resume is named as the flag
        raise UsageError(f"--resume {e}" if args.resume and said == str(e) else said) from None


def as_flags(message: str) -> str:
    """A settings error as the command line says it: the setting it starts with becomes
    its flag (``elite must be ...`` -> ``--elite must be ...``)."""
    names = sorted(FLAGS, key=len, reverse=True)  # tournament_size before size-less names
    for name in names:
        for spelt in (name, name.replace("_", " ")):
            if message.startswith(spelt + " "):
                return flag_name(name) + message[len(spelt) :]
    return message


def flag_name(setting: str) -> str:
    """A setting's flag: ``time_limit`` -> ``--time-limit``."""
    return "--" + setting.replace("_", "-")


def _evolve(args: argparse.Namespace, session: Session, evaluator: Any) -> int:
    """Run the session's generations, saying what happens; signals and faults."""
    info(f"evonet: run folder {session.folder}/ ({', '.join(session.files(args.plot))})")
    note = session.warm_up()
    if note:
        info(f"evonet: {note}")
    _say_curriculum(session.run)
    _say_late_episodes(session.run)
    _say_strategy(args, session.run.config)
    for target in args.log:
        info(f"evonet: logging to {_log_place(target, session.folder)}")

    def stop_at_once(signum: int) -> None:
        # Exiting without unwinding is what makes this safe at any moment (mid-import,
        # mid-write, inside numpy): every file was written atomically, and a half-written
        # temporary is removed by the next save in this folder. os.write, not print: no
        # Python buffer is re-entered.
        os.write(2, f"\nevonet: stopped at once; {_saved(args, session)}\n".encode())
        os._exit(signals.exit_code(signum))

    try:
        with warnings.catch_warnings():
            warnings.showwarning = _tracker_lines(warnings.showwarning)
            reason = session.evolve(
                evaluator,
                progress=not args.quiet,
                plot=args.plot,
                json_lines=args.json,
                log=args.log,
                on_stop=lambda signum: os.write(2, STOPPING),
                on_stop_at_once=stop_at_once,
            )
    except BrokenPipeError:  # `evonet evolve snake --json | head`: the reader is gone
        silence_stdout()
        info(f"evonet: stdout was closed, so the run stops; {_saved(args, session)}")
        return signals.exit_code(signal.SIGPIPE)
    except OSError as e:
        info(f"evonet: cannot write {e.filename or session.folder}: {e.strerror or e}; "
             f"{_saved(args, session)}")  # fmt: skip
        return 1
    except NonFiniteGenes as e:
        info(f"evonet: {e}; the run stops and that state is not saved; {_saved(args, session)}")
        return 1
    return _summary(args, session, reason)


STOPPING = (
    b"\nevonet: stopping after this generation and saving a checkpoint "
    b"(press Ctrl-C again to stop at once) ...\n"
)


def _saved(args: argparse.Namespace, session: Session) -> str:
    """What the user can resume from now, in one sentence."""
    gen, latest = session.saved_generation(), session.latest
    if gen is not None and not latest.is_file():
        return f"nothing is left to resume: {latest} is gone"
    if gen is not None:
        return f"{latest} holds generation {gen}; resume with: {_resume_command(args, latest)}"
    if args.resume:
        return f"nothing new was saved; {args.resume} still holds the run"
    best = session.folder / "best.npz"
    kept = f"; the best genome so far is in {best}" if best.exists() else ""
    return (
        f"nothing was saved yet, so there is nothing to resume (a checkpoint is written "
        f"every {session.run.config.checkpoint_every} generations and at the end){kept}"
    )


def _resume_command(args: argparse.Namespace, latest: Path) -> str:
    return f"evonet evolve {args.game} --resume {shlex.quote(str(latest))}"


def _summary(args: argparse.Namespace, session: Session, reason: str) -> int:
    """The lines that end a run, and its exit code (a stop signal's, if one came)."""
    the_run, latest = session.run, session.latest
    if session.signal is not None:
        # A signal in the last generation still ends the process as a signal does.
        if reason == "interrupted":
            info(f"evonet: saved generation {the_run.generation} to {latest}")
            info(f"resume with: {_resume_command(args, latest)}")
        else:
            info(f"evonet: {reason} at generation {the_run.generation}; saved it to {latest}")
        return signals.exit_code(session.signal)
    last = the_run.history[-1] if the_run.history else None
    summary = f"evonet: {reason} at generation {the_run.generation}"
    if last:
        name = the_run.score_name
        summary += (
            f"; the last generation's best: {last[f'best_{name}']:.1f} {name}; the run's "
            f"best fitness (what evolution ranks by): {the_run.ga.best_fitness:.2f}"
        )
    info(summary)
    champion, game = the_run.champion, the_run.game
    if champion is not None:
        c, name = champion.record, the_run.score_name
        wins = f", {count(c['wins'], game.win_name)}" if game and game.can_win else ""
        info(
            f"evonet: champion: {c['picked']}, {c[f'mean_{name}']:.2f} {name} on "
            f"{c['episodes']} fresh episodes{wins}"
        )
    best = session.folder / "best.npz"
    info(f"champion: {best}   try: evonet evaluate {best}   evonet watch {best}")
    return 0


def _tracker_lines(show: Callable[..., None]) -> Callable[..., None]:
    """``warnings.showwarning`` that writes a log's stop (a :class:`TrackerWarning`) as one
    line above the progress bar, and leaves every other warning to ``show``."""

    def showwarning(message: Warning | str, category: type[Warning], *rest: Any) -> None:
        if issubclass(category, trackers.TrackerWarning):
            from tqdm import tqdm

            tqdm.write(f"evonet: {message}", file=sys.stderr)
        else:
            show(message, category, *rest)

    return showwarning


def _log_place(target: trackers.LogTarget, folder: Path) -> str:
    """Where ``target`` logs the run in ``folder``, and how to look."""
    if target.kind == "mlflow":
        uri = target.where or os.environ.get("MLFLOW_TRACKING_URI")
        look = f"mlflow ui --backend-store-uri {uri}" if uri else "mlflow ui"
        if uri and uri.startswith(("http://", "https://")):
            look = f"open {uri}"
        return f"MLflow{f' at {uri}' if uri else ''}, run {folder.name} (see it with: {look})"
    where = trackers.tensorboard_folder(target, folder)
    logdir = where.parent if target.where else where
    return f"TensorBoard in {where}/ (see it with: tensorboard --logdir {logdir})"


def _say_strategy(args: argparse.Namespace, cfg: config_mod.EvolveConfig) -> None:
    """A line for each of the game's own defaults a fresh run takes that ``--help`` does not
    show: its strategy other than the GA, its step cost."""
    if args.resume:
        return
    own = config_mod.game_defaults(cfg.game, cfg.network, cfg.board)
    if args.strategy is None and cfg.strategy != "ga" and own.get("strategy") == cfg.strategy:
        info(
            f"evonet: {cfg.game} evolves with {cfg.strategy}, its default for this game "
            "(--strategy ga for the genetic algorithm)"
        )
    if args.step_cost is None and cfg.step_cost and own.get("step_cost") == cfg.step_cost:
        info(
            f"evonet: {cfg.game}'s fitness is its return less {cfg.step_cost:g} a step, "
            "its default (--step-cost 0 for the plain return); its score is the return"
        )


def _say_late_episodes(run: Run) -> None:
    """One line saying from which generation each genome plays more episodes, if that
    is still to come in a game's run."""
    cfg, now = run.config, run.generation
    late, start = cfg.late_episodes, cfg.late_from
    if run.game is None or not late or late == cfg.episodes or now >= cfg.generations:
        return
    if start >= cfg.generations:
        info(
            f"evonet: each genome plays {count(cfg.episodes, 'episode')} in every generation "
            f"(the --late-episodes {late} start at --late-from {start}, past the run's "
            f"{count(cfg.generations, 'generation')})"
        )
        return
    flags = f"--late-episodes {late} --late-from {start}"
    if cfg.raced(start):
        flags += f" --late-share {cfg.late_share:g}"
    if now < start:
        gens = f"generation {now}" if start - 1 == now else f"generations {now}-{start - 1}"
        info(
            f"evonet: each genome plays {count(cfg.episodes, 'episode')} in {gens}; then "
            f"{cfg.late_text()} ({flags}; --late-episodes 0 keeps {cfg.episodes})"
        )
    else:
        info(f"evonet: {cfg.late_text()} ({flags})")


def _say_curriculum(run: Run) -> None:
    """One line saying which generations play the easier game, if any are left to play."""
    end, cfg = run.curriculum_end, run.config
    if run.generation >= end:
        return
    assert run.game is not None
    easy, game = run.game_at(run.generation).describe(), run.game.describe()  # type: ignore[union-attr]
    if end < cfg.generations:
        there, flags = "", f"--curriculum {end}"
        if cfg.board_episodes:
            there = f", where {cfg.late_text(end)}"
            flags = f"--board-episodes {cfg.board_episodes}, {flags}"
        info(
            f"evonet: curriculum: generations {run.generation}-{end - 1} play {easy}, the "
            f"rest {game}{there} ({flags}; 0 plays {game} from the start)"
        )
    else:
        info(
            f"evonet: curriculum: every generation plays {easy} (--curriculum {end} >= "
            f"--generations {cfg.generations}); {game} only picks the champion"
        )
