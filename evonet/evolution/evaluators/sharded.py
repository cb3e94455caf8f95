"""Splitting a generation into shards and putting the results back together.

:func:`evonet.evolution.rollout.rollout` is a pure function and a game's result does not
depend on its batch, so splitting the population into shards changes no number.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NamedTuple

import numpy as np

from evonet.evolution.obs_norm import ObsStats
from evonet.evolution.rollout import RolloutResult, from_episodes, rollout
from evonet.games.base import GameSpec
from evonet.nn.mlp import Topology

# Thread-count variables of the BLAS libraries numpy may use; one thread per worker, since
# the workers already use every core.
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def shards(p: int, workers: int) -> list[tuple[int, int]]:
    """Contiguous ``[start, stop)`` blocks covering ``range(p)``, at most ``workers`` of
    them, sizes differing by at most one, none empty."""
    n = max(1, min(workers, p))
    bounds = [p * k // n for k in range(n + 1)]
    return [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


class Shard(NamedTuple):
    """One piece of a generation: which genomes, on which episode seeds."""

    genomes: slice  # of the population's rows, e.g. slice(1, 300, 6): rows 1, 7, 13, ...
    seeds: np.ndarray  # (E,) uint64


class Plan(NamedTuple):
    """A generation's shards, and how their results go back together (:meth:`merge`)."""

    by_episode: bool  # shards of one genome's episodes, else of genomes
    shards: list[Shard]

    def merge(self, parts: list[RolloutResult]) -> RolloutResult:
        """The shards' results (in the plan's order) as the result of the whole generation,
        bit for bit that of one unsplit rollout."""
        if self.by_episode:
            return merge(parts, axis=1)
        rows = np.concatenate(
            [np.arange(shard.genomes.stop)[shard.genomes] for shard in self.shards]
        )
        return merge(parts, order=np.argsort(rows, kind="stable"))


def plan(p: int, seeds: np.ndarray, workers: int) -> Plan:
    """How to split ``p`` genomes on ``seeds (E,)`` over ``workers``.

    One shard of genomes per worker, strided (shard j of n: genomes j, j + n, j + 2n, ...),
    so each is a sample of the whole population: the elites at its start, whose games are
    the longest, are spread over all of them, and the workers finish together. (More,
    smaller shards, handed out as workers free up, measured slower: early generations pay
    for every shard, and strided halves are already even.) With fewer genomes than workers
    (evaluating one champion), blocks of episodes instead.
    """
    e = len(seeds)
    if p < workers and e > p:
        return Plan(True, [Shard(slice(0, p), seeds[a:b]) for a, b in shards(e, workers)])
    n = max(1, min(workers, p))
    return Plan(False, [Shard(slice(j, p, n), seeds) for j in range(n)])


def merge(
    parts: list[RolloutResult], axis: int = 0, order: np.ndarray | None = None
) -> RolloutResult:
    """The results of shards as one result: shards of genomes (``axis`` 0, put in ``order``
    of the population's rows when given) or of episodes (``axis`` 1). The means are taken
    again over the whole episode arrays, so they are bit for bit those of one unsplit
    rollout."""
    if len(parts) == 1:
        return parts[0]

    def joined(arrays: list[np.ndarray]) -> np.ndarray:
        whole = np.concatenate(arrays, axis=axis)
        return whole if order is None else whole[order]

    obs = None
    if parts[0].obs_stats is not None:
        obs = ObsStats(
            *(
                joined([getattr(r.obs_stats, name) for r in parts])
                for name in ("count", "total", "squares")
            )
        )
    return from_episodes(
        *(
            joined([getattr(r, name) for r in parts])
            for name in ("episode_fitness", "episode_score", "episode_steps", "episode_won")
        ),
        obs,
    )


class Sharded:
    """An evaluator that splits each generation into :func:`plan`'s shards, plays them
    elsewhere (``_play``: one result per shard, in order) and merges the results."""

    workers: int

    def start(self) -> None:
        raise NotImplementedError

    def _play(
        self, genomes: np.ndarray, work: list[Shard], topo: Topology, game: GameSpec,
        observe: bool,
    ) -> list[RolloutResult]:  # fmt: skip
        """Every shard's result, in order."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def workers_used(self, game: GameSpec) -> int:
        """How many workers play ``game``'s generations (1: it is not split)."""
        return self.workers if game.shardable else 1

    def __call__(
        self,
        genomes: np.ndarray,
        topo: Topology,
        game: GameSpec,
        seeds: np.ndarray,
        observe: bool = False,
    ) -> RolloutResult:
        genomes = np.ascontiguousarray(genomes)
        if not game.shardable:
            # Its batch shares one random generator: split, its games would change.
            return rollout(genomes, topo, game, seeds, observe=observe)
        self.start()
        split = plan(genomes.shape[0], seeds, self.workers)
        return split.merge(self._play(genomes, split.shards, topo, game, observe))

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def quietly(start: Any) -> None:
    """Call ``start()`` with file descriptor 2 on the null device: a process it spawns
    keeps that as its stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        start()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
