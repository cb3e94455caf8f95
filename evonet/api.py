"""``evonet.run``: an evolution run from Python, with the CLI's files, progress and Ctrl-C.

The command line and this function share the generation loop (:func:`evonet.evolution.run.evolve`)
and the reporters (:func:`evonet.evolution.reporters.standard`), so a run started from Python writes
the same ``latest.npz``, ``best.npz``, ``history.csv`` and ``fitness.png``, and resumes
from the same checkpoint, as ``evonet evolve``.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from evonet.evolution.config import CUSTOM, EvolveConfig
from evonet.evolution.evaluators.backends import make_evaluator
from evonet.evolution.reporters import standard
from evonet.evolution.run import FitnessFunction, Reporter, Run, evolve
from evonet.storage.checkpoint import load_run
from evonet.storage.folders import FolderError, claim, fresh_folder, release


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
) -> Run:
    """Evolve until ``config.generations`` (or its time limit, or Ctrl-C); returns the run.

    Fitness is always *higher is better*. Either the run plays ``config.game`` from the
    registry (``"snake"``, ``"gym:CartPole-v1"``), or it scores genomes with your
    ``fitness(genomes) -> values``: ``genomes`` is ``(P, D)`` float32, one flat network per
    row (evaluate them all at once with :func:`evonet.forward`), ``values`` is ``(P,)``.
    ``io = (inputs, outputs)`` gives that network's sizes; ``config.hidden`` and
    ``config.activation`` the rest.

    Args:
        config: the settings; default :meth:`EvolveConfig.for_game` of the game (or of
            ``"custom"`` with a fitness function).
        fitness: your fitness function, instead of a game.
        io: ``(inputs, outputs)`` of the network, with ``fitness`` only.
        out: the run folder (default ``config.out``, else ``checkpoints/GAME``); the
            files are those of ``evonet evolve``: latest.npz, best.npz, history.csv,
            fitness.png. A folder that holds a run, or that another run is writing, is
            never reused: the default moves on to ``NAME-2``..., a given one is refused.
        resume: a ``latest.npz`` to continue (pass the same ``fitness`` again); ``config``
            may then change only generations, time_limit, checkpoint_every and out.
        progress: show a progress bar on stderr.
        plot: draw ``fitness.png`` when the run ends (matplotlib takes most of a second;
            ``evonet plot RUN`` draws the curves any time from ``history.csv``).
        reporters: more observers of the run (:class:`evonet.Reporter`).
        backend: where a game's rollouts run: ``"serial"`` (default), ``"processes"`` or
            ``"ray"`` (:mod:`evonet.evolution.evaluators`), on ``workers`` shards (default: the
            cores available) and, for Ray, the cluster at ``ray_address``. Results do
            not depend on it. A fitness function always runs in this process.

    Ctrl-C (SIGINT) stops after the generation in progress and writes ``latest.npz``;
    ``run.stop_reason`` is then ``"interrupted"`` (else ``"finished"`` or ``"time
    limit"``). A second Ctrl-C raises KeyboardInterrupt at once.

    Raises:
        ValueError: an impossible setting, a checkpoint that cannot be resumed, or a run
            folder that cannot be used (:class:`evonet.storage.folders.FolderError`).
    """
    if resume is not None:
        the_run = load_run(resume, fitness=fitness)
        if the_run.game is None and fitness is None:
            raise ValueError(
                f"{resume}: was evolved on a Python fitness function: pass it again "
                "(fitness=...) to resume"
            )
        if config is not None:
            changed = the_run.config.differences(config)
            if changed:
                raise ValueError(f"resuming would change the results: {'; '.join(changed)}")
            the_run.config = dataclasses.replace(config, out=config.out or the_run.config.out)
        if out is None:  # a run continues in its own folder unless told otherwise
            out = config.out if config is not None and config.out else Path(resume).parent
    else:
        if config is None:
            config = EvolveConfig.for_game(CUSTOM if fitness is not None else "snake")
        elif fitness is not None and config.game != CUSTOM:
            raise ValueError(f'a fitness function runs with game="{CUSTOM}", not {config.game!r}')
        the_run = Run.start(config, fitness, io)
    if resume is not None:
        folder = Path(out if out is not None else the_run.config.run_folder())
        latest = folder / "latest.npz"
        if latest.exists() and not _same_file(latest, Path(resume)):
            raise FolderError(f"{folder}: already holds another run (latest.npz)")
        lock = claim(folder)
        if lock is None:
            raise FolderError(f"{folder}: another evonet run is writing there right now")
    else:
        explicit = out is not None or bool(the_run.config.out)
        folder, lock = fresh_folder(Path(out or the_run.config.run_folder()), explicit)
    try:
        the_run.config = dataclasses.replace(the_run.config, out=str(folder))
        observers = [*standard(folder, progress=progress, plot=plot), *reporters]
        with _stop_on_interrupt() as stop, make_evaluator(backend, workers, ray_address) as ev:
            the_run.stop_reason = evolve(the_run, observers, should_stop=stop.is_set, evaluator=ev)
    finally:
        release(lock)
    return the_run


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


@contextmanager
def _stop_on_interrupt() -> Iterator[threading.Event]:
    """An event set by the first Ctrl-C; the second raises KeyboardInterrupt as usual.

    Only the main thread can take signals; elsewhere the event is never set.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    old = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, old)
