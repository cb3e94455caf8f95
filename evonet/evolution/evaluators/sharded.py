"""Splitting a generation into shards and putting the results back together.

:func:`evonet.evolution.rollout.rollout` is a pure function and a game's result does not
depend on its batch, so splitting the population into contiguous shards changes no number.
"""

from __future__ import annotations

import os
import sys
from typing import Any

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


def plan(
    p: int, seeds: np.ndarray, workers: int
) -> tuple[bool, list[tuple[tuple[int, int], np.ndarray]]]:
    """How to split ``p`` genomes on ``seeds (E,)`` over ``workers``: ``(by_episode,
    [(genome block [start, stop), its seeds), ...])``. Contiguous blocks of genomes; with
    fewer genomes than workers (evaluating one champion), blocks of episodes instead."""
    e = len(seeds)
    if p < workers and e > p:
        return True, [((0, p), seeds[a:b]) for a, b in shards(e, workers)]
    return False, [((a, b), seeds) for a, b in shards(p, workers)]


def merge(parts: list[RolloutResult], axis: int = 0) -> RolloutResult:
    """The results of consecutive shards as one result: shards of genomes (``axis`` 0) or
    of episodes (``axis`` 1). The means are taken again over the whole episode arrays, so
    they are bit for bit those of one unsplit rollout."""
    if len(parts) == 1:
        return parts[0]
    obs = None
    if parts[0].obs_stats is not None:
        obs = ObsStats(
            *(
                np.concatenate([getattr(r.obs_stats, name) for r in parts], axis=axis)
                for name in ("count", "total", "squares")
            )
        )
    return from_episodes(
        *(
            np.concatenate([getattr(r, name) for r in parts], axis=axis)
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
        self, genomes: np.ndarray, work: list, topo: Topology, game: GameSpec, observe: bool
    ) -> list[RolloutResult]:
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
        by_episode, work = plan(genomes.shape[0], seeds, self.workers)
        return merge(self._play(genomes, work, topo, game, observe), 1 if by_episode else 0)

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
