"""Where rollouts run: the backends, and the evaluator a run gets when it names none.

An evaluator takes a generation's genomes ``(P, D)`` and episode seeds ``(E,)`` and
returns the :class:`evonet.evolution.rollout.RolloutResult` of all ``P`` genomes, in genome order.
:func:`evonet.evolution.rollout.rollout` is a pure function and a game's result does not depend on
its batch, so splitting the population into shards changes no number: every backend gives
bit-identical results for any worker count. Serial rollouts and process workers keep their
game batches between generations (:mod:`evonet.evolution.batches`).

* ``serial``: the rollout in this process.
* ``processes``: one pool of long-lived worker processes per run, started once, each a
  fork of a server that has loaded what they need
  (:mod:`evonet.evolution.evaluators.preload`). The genome matrix reaches them through a
  shared-memory file (tmpfs), not by pickling; a generation is cut into strided shards,
  more than there are workers, each taken by the next worker free (single-threaded BLAS)
  and reassembled in order (a population smaller than the pool, like one champion, is
  split by episodes instead). A worker that dies (``kill -9``) is replaced and its shard
  run again. Workers ignore Ctrl-C (the run stops between generations) and exit when the
  process that owns the pool does.
* ``ray``: stateless Ray tasks, one per shard (the same shards), on a local Ray instance
  or an existing cluster (``address="auto"`` or ``"HOST:PORT"``). The genome matrix is
  ``ray.put`` once per generation; a task whose worker fails is retried by Ray.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evonet.evolution.batches import Batches
from evonet.evolution.evaluators.processes import ProcessEvaluator
from evonet.evolution.evaluators.ray_tasks import RayEvaluator
from evonet.evolution.evaluators.sharded import available_cores
from evonet.evolution.rollout import RolloutResult, rollout
from evonet.games.base import GameSpec
from evonet.nn.mlp import Topology

BACKENDS = ("serial", "processes", "ray")


def default_backend() -> tuple[str, int]:
    """``(backend, workers)`` when none is asked for: processes on every available core
    when there is more than one, else serial."""
    cores = available_cores()
    return ("processes", cores) if cores > 1 else ("serial", 1)


class SerialEvaluator:
    """Rollouts in this process, each game's batch made once and kept for the next
    generations (:mod:`evonet.evolution.batches`) until :meth:`close`."""

    name = "serial"
    workers = 1

    def __init__(self) -> None:
        self._batches = Batches()

    def __call__(
        self,
        genomes: np.ndarray,
        topo: Topology,
        game: GameSpec,
        seeds: np.ndarray,
        observe: bool = False,
    ) -> RolloutResult:
        return rollout(genomes, topo, game, seeds, observe=observe, batches=self._batches)

    def close(self) -> None:
        self._batches.close()

    def __enter__(self) -> SerialEvaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_evaluator(
    backend: str | None = None, workers: int | None = None, ray_address: str | None = None
) -> Any:
    """An evaluator for ``backend`` (``serial``, ``processes`` or ``ray``) with ``workers``
    shards; None picks :func:`default_backend`'s."""
    if backend is None:
        backend, cores = default_backend()
        workers = workers or cores
    if backend == "serial":
        return SerialEvaluator()
    if backend == "processes":
        return ProcessEvaluator(workers or available_cores())
    if backend == "ray":
        return RayEvaluator(workers or available_cores(), ray_address)
    raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
