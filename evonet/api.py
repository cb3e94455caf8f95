"""``evonet.run``: an evolution run from Python, and :class:`Session`, the one
implementation of a run that the command line (``evonet evolve``) uses too.

A session is a run bound to its folder: fresh (a new folder, or ``NAME-2``... next to a
taken default) or resumed (its checkpoint's settings, with only the settings that cannot
change results allowed to differ), the folder locked while the run lives, the standard
files written there (``latest.npz``, ``best.npz``, ``history.csv``, ``fitness.png``), stop
signals turned into a stop after the generation in progress, and the champion picked when
the run ends. The command line adds only argument parsing and printing.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from evonet import signals
from evonet.evolution import compiled_play, trackers
from evonet.evolution import config as config_mod
from evonet.evolution.config import CUSTOM, EvolveConfig
from evonet.evolution.evaluators.backends import make_evaluator
from evonet.evolution.files import load_run
from evonet.evolution.reporters import CheckpointReporter, files, standard
from evonet.evolution.run import Evaluator, FitnessFunction, Reporter, Run, check_fits, evolve
from evonet.storage.folders import FolderError, claim, fresh_folder, release

Naming = Callable[[str], str]
"""How messages name a setting: ``generations`` from Python, ``--generations`` on the
command line."""


def keyword(name: str) -> str:
    """A setting as Python names it (the default :data:`Naming`)."""
    return name


class NeedsFitness(ValueError):
    """A checkpoint of a run on a Python fitness function, resumed without it."""


def run(
    config: EvolveConfig | None = None,
    *,
    fitness: FitnessFunction | None = None,
    io: tuple[int, int] | None = None,
    out: str | os.PathLike | None = None,
    resume: str | os.PathLike | None = None,
    progress: bool = True,
    plot: bool = True,
    reporters: Sequence[Reporter] = (),
    backend: str = "serial",
    workers: int | None = None,
    ray_address: str | None = None,
    log: str | Sequence[str] | None = None,
) -> Run:
    """Evolve until ``config.generations`` (or its time limit, or Ctrl-C); returns the run.

    Fitness is always *higher is better*. Either the run plays ``config.game`` from the
    registry (``"snake"``, ``"gym:CartPole-v1"``), or it scores genomes with your
    ``fitness(genomes) -> values``: ``genomes`` is ``(P, D)`` float32, one flat network per
    row (evaluate them all at once with :func:`evonet.forward`), ``values`` is ``(P,)``.

    Args:
        config: the settings; default :meth:`EvolveConfig.for_game` of the game (or of
            ``"custom"`` with a fitness function).
        fitness: your fitness function, instead of a game.
        io: ``(inputs, outputs)`` of the network, with ``fitness`` only (``config.hidden``
            and ``config.activation`` give the rest).
        out: the run folder (default ``config.out``, else ``checkpoints/GAME``), with
            the files of ``evonet evolve``. A folder that holds a run, or that another run
            is writing, is never reused: the default moves on to ``NAME-2``..., a given
            one is refused.
        resume: a ``latest.npz`` to continue (with the same ``fitness``); ``config`` may
            change only generations, time_limit, checkpoint_every, out, champion_episodes.
        progress, plot: a progress bar on stderr; ``fitness.png`` when the run ends.
        reporters: more observers of the run (:class:`evonet.Reporter`).
        backend: where a game's rollouts run: ``"serial"`` (default), ``"processes"`` or
            ``"ray"`` (:mod:`evonet.evolution.evaluators`), on ``workers`` shards (default:
            the cores available) and, for Ray, the cluster at ``ray_address``. Results do
            not depend on it. A fitness function always runs in this process.
        log: also log every generation's figures and the settings to ``"tensorboard"``,
            ``"tensorboard=DIR"``, ``"mlflow"`` or ``"mlflow=URI"``, or a list of them
            (:mod:`evonet.evolution.trackers`; extras ``tensorboard``, ``mlflow``).

    Ctrl-C (or SIGTERM, or a closed terminal) stops after the generation in progress and
    writes ``latest.npz`` (``run.stop_reason``: ``"interrupted"``, else ``"finished"`` or
    ``"time limit"``). A second one raises KeyboardInterrupt at once.

    Raises:
        ValueError: an impossible setting, a checkpoint that cannot be resumed, or a run
            folder that cannot be used (:class:`evonet.storage.folders.FolderError`).
        ImportError: ``log`` names a target whose extra is not installed.
    """
    targets = trackers.checked(log)  # before a folder is claimed
    with Session.open(config, fitness=fitness, io=io, out=out, resume=resume) as session:
        session.warm_up()
        with make_evaluator(backend, workers, ray_address) as evaluator:
            session.evolve(evaluator, progress=progress, plot=plot, reporters=reporters,
                           log=targets)  # fmt: skip
    return session.run


@dataclasses.dataclass
class Session:
    """A run bound to its locked folder (see the module docstring); open one with
    :meth:`open`, use it as a context manager (leaving it releases the folder)."""

    run: Run
    folder: Path
    lock: int | None
    resumed_from: Path | None = None
    already: int | None = None
    """The generation ``latest.npz`` held before this session wrote one (a run resumed
    from its own folder), else None."""
    checkpoints: CheckpointReporter | None = None
    signal: int | None = None
    """The stop signal that ended :meth:`evolve` early, if one did."""

    @classmethod
    def open(
        cls,
        config: EvolveConfig | None = None,
        *,
        fitness: FitnessFunction | None = None,
        io: tuple[int, int] | None = None,
        out: str | os.PathLike | None = None,
        resume: str | os.PathLike | None = None,
        changes: Mapping[str, Any] | None = None,
        name: Naming = keyword,
    ) -> Session:
        """A fresh run of ``config`` (see :func:`run`), or the run of checkpoint
        ``resume`` with ``config`` or only ``changes`` (settings by name) applied, in its
        claimed folder ``out``. Messages name settings with ``name``.

        Raises ValueError naming the problem (the file, the settings, the folder).
        """
        if resume is None:
            the_run = _fresh(config, fitness, io)
            explicit = out is not None or bool(the_run.config.out)
            folder, lock = fresh_folder(Path(out or the_run.config.run_folder()), explicit)
            session = cls(the_run, folder, lock)
        else:
            wanted = dict(changes or {})
            if config is not None:
                wanted = {**dataclasses.asdict(config), **wanted}
                wanted["out"] = wanted["out"] or None
            if out is not None:
                wanted["out"] = str(out)
            session = _resumed(Path(resume), wanted, fitness, name)
        session.run.config = dataclasses.replace(session.run.config, out=str(session.folder))
        return session

    @property
    def latest(self) -> Path:
        return self.folder / "latest.npz"

    def files(self, plot: bool = True) -> tuple[str, ...]:
        """The files this session writes in its folder."""
        return files(plot)

    def warm_up(self) -> str | None:
        """Get the game ready to play (compile or load its engine); a note of what it took,
        or None. Ctrl-C is held meanwhile (see :func:`evonet.signals.held`)."""
        if self.run.game is None:
            return None
        with signals.held():
            notes = [self.run.game.warm_up(), compiled_play.warm_up(self.run.game)]
        return "; ".join(n for n in notes if n) or None

    def evolve(
        self,
        evaluator: Evaluator | None = None,
        *,
        progress: bool = True,
        plot: bool = True,
        json_lines: bool = False,
        reporters: Sequence[Reporter] = (),
        log: Sequence[trackers.LogTarget] = (),
        on_stop: Callable[[int], object] | None = None,
        on_stop_at_once: Callable[[int], object] | None = None,
    ) -> str:
        """Run the generations and pick the champion, writing the folder's files; returns
        why it ended (``finished``, ``time limit``, ``interrupted``). ``log`` adds the
        TensorBoard and MLflow logs of :mod:`evonet.evolution.trackers`.

        The first stop signal (:data:`evonet.signals.STOP_SIGNALS`) stops after the
        generation in progress (``on_stop(signum)`` is told at once); a second calls
        ``on_stop_at_once(signum)``, or raises KeyboardInterrupt. Both run inside a signal
        handler: they may only ``os.write`` or end the process.
        """
        self.checkpoints = CheckpointReporter(self.latest)
        observers = [
            *standard(self.folder, progress, json_lines, plot, self.checkpoints),
            *trackers.reporters(log, self.folder),
            *reporters,
        ]
        with signals.stop_requests(on_stop, on_stop_at_once) as stop:
            reason = evolve(self.run, observers, should_stop=stop, evaluator=evaluator)
        self.signal = stop.signal
        self.run.stop_reason = reason
        return reason

    def saved_generation(self) -> int | None:
        """The generation ``latest.npz`` holds for this run now, if it holds one."""
        written = self.checkpoints.written_at if self.checkpoints is not None else None
        return written if written is not None else self.already

    def close(self) -> None:
        """Let the folder go (the next run may use it)."""
        release(self.lock)
        self.lock = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fresh(
    config: EvolveConfig | None, fitness: FitnessFunction | None, io: tuple[int, int] | None
) -> Run:
    if config is None:
        config = EvolveConfig.for_game(CUSTOM if fitness is not None else "snake")
    elif fitness is not None and config.game != CUSTOM:
        raise ValueError(f'a fitness function runs with game="{CUSTOM}", not {config.game!r}')
    return Run.start(config, fitness, io)


def _resumed(
    path: Path, wanted: dict[str, Any], fitness: FitnessFunction | None, name: Naming
) -> Session:
    """The session of checkpoint ``path`` with the settings ``wanted``, in its folder."""
    the_run = load_run(path, fitness=fitness)
    if the_run.game is None and fitness is None:
        raise NeedsFitness(
            f"{path}: was evolved on a Python fitness function: pass it again "
            "(fitness=...) to resume"
        )
    wanted.setdefault("out", None)
    wanted["out"] = wanted["out"] or str(path.parent)  # a run continues in its own folder
    the_run.config = _resumable(path, the_run, wanted, name)
    folder = Path(the_run.config.out)
    if folder.exists() and not folder.is_dir():
        raise FolderError(f"{folder}: is a file, not a folder")
    with _claimed(folder) as lock:
        latest = folder / "latest.npz"
        same = _same_file(latest, path)
        if latest.exists() and not same:
            # Even the same run, further on: resuming an older copy here replaces it.
            raise FolderError(
                f"{folder}: already holds a run (latest.npz) that resuming {path} would "
                f"replace; choose another {name('out')} to resume into"
            )
        return Session(the_run, folder, lock, path, the_run.generation if same else None)


def _resumable(path: Path, the_run: Run, wanted: dict[str, Any], name: Naming) -> EvolveConfig:
    """The run's settings with ``wanted`` applied, if that changes no result and leaves
    generations to play (and their arrays fit in memory)."""
    old, io = the_run.config, None if the_run.game is not None else _io(the_run)
    new = dataclasses.replace(old, **wanted)
    new.validate(io=io)
    changed = old.differences(new)
    if changed:
        free = ", ".join(name(s) for s in sorted(EvolveConfig.RESUMABLE))
        raise ValueError(
            f"{path}: these settings would change the results: {'; '.join(changed)} "
            f"(only {free} may change)"
        )
    if the_run.generation >= config_mod.MAX_GENERATIONS:
        raise ValueError(
            f"{path}: the run has reached generation {the_run.generation:,}, the most one "
            f"run can have; its champion is {path.parent / 'best.npz'}"
        )
    if new.generations <= the_run.generation:
        raise ValueError(
            f"{path}: the run is at generation {the_run.generation}; ask for more with "
            f"{name('generations')} N (N > {the_run.generation})"
        )
    check_fits(new, the_run.game, io)
    return new


def _io(the_run: Run) -> tuple[int, int]:
    return the_run.topology.n_in, the_run.topology.n_out


@contextmanager
def _claimed(folder: Path) -> Iterator[int | None]:
    """The folder's lock, released again if the block fails."""
    lock = claim(folder)
    if lock is None:
        raise FolderError(f"{folder}: another evonet run is writing there right now")
    try:
        yield lock
    except BaseException:
        release(lock)
        raise


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
