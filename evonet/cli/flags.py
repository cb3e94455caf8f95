"""Flags several commands share: ``--render`` of the views, and ``--backend``, ``--workers``
and ``--ray-address``, which say where games are played."""

from __future__ import annotations

import argparse

from evonet.cli.args import int_in
from evonet.cli.errors import UsageError


def add_render_flag(p: argparse.ArgumentParser, window: str) -> None:
    """``--render window|terminal`` of the views; ``window`` says what the window shows."""
    p.add_argument(
        "--render",
        choices=["window", "terminal"],
        default="window",
        help=f"{window}, or curses in this terminal (default: window)",
    )


BACKENDS = ("serial", "processes", "ray")
MAX_WORKERS = 1024


def add_backend_flags(
    p: argparse.ArgumentParser,
    default: str = "processes when there is more than one core, else serial",
) -> None:
    """``--backend`` and ``--workers``: where rollouts run. Never part of a run's results.
    ``default`` says which backend the command uses without either flag."""
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        help="where games are played: serial (this process), processes (worker "
        "processes) or ray (Ray tasks; pip install 'evonet[ray]'); the results are "
        f"identical (default: {default})",
    )
    p.add_argument(
        "--ray-address",
        metavar="auto|HOST:PORT",
        help="with --backend ray: join this running Ray cluster (default: start a local one)",
    )
    p.add_argument(
        "--workers",
        type=int_in(1, MAX_WORKERS),
        help="worker processes (processes) or tasks per generation (ray) (default: the "
        "cores available)",
    )


def evaluator_from(args: argparse.Namespace, default: str | None = None) -> object:
    """The evaluator ``--backend`` and ``--workers`` ask for (close it when done); with
    neither flag, ``default`` (None: the default of
    :func:`evonet.evolution.evaluators.backends.default_backend`)."""
    from evonet.evolution.evaluators.backends import make_evaluator

    if args.backend == "serial" and args.workers not in (None, 1):
        raise UsageError(
            f"--workers {args.workers}: the serial backend has one; use --backend processes"
        )
    backend = "processes" if args.backend is None and args.workers else args.backend
    if args.backend is None and args.workers is None:
        backend = default
    if args.ray_address is not None and backend != "ray":
        raise UsageError(f"--ray-address {args.ray_address}: needs --backend ray")
    _warn_of_idle_workers(backend, args.workers)
    evaluator = make_evaluator(backend, args.workers, args.ray_address)
    if backend == "ray":  # connect now: an unreachable cluster is a usage error
        try:
            evaluator.start()
        except ValueError as e:
            raise UsageError(str(e)) from None
    return evaluator


def _warn_of_idle_workers(backend: str | None, workers: int | None) -> None:
    """One line when more local worker processes are asked for than there are cores
    available: allowed (results are the same), but they only take turns."""
    from evonet.cli.output import info
    from evonet.evolution.evaluators.sharded import available_cores
    from evonet.text import count

    cores = available_cores()
    if backend == "processes" and workers is not None and workers > cores:
        info(
            f"evonet: --workers {workers} is more than the {count(cores, 'core')} here; the extra "
            "workers take turns on them (results are the same)"
        )
