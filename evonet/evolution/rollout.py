"""Play a whole population on a batched game and score it.

``P`` genomes x ``E`` episodes run together as ``P * E`` games in one batch of the game
(:mod:`evonet.games.base`). Each step is one batched forward pass over every genome that still has
a live game, then one ``advance`` of all games; a game with compiled rules (Snake) is played
by one compiled loop instead (:mod:`evonet.evolution.compiled_play`). Game ``p * E + e`` is
genome ``p`` playing episode seed ``e``, so every genome faces the same ``E`` seeds.

A genome's fitness is the mean of its ``E`` episodes' fitness, which each game defines
(higher is better; Snake: apples with a survival tie-break, Gymnasium: the return).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from evonet.evolution import compiled_play
from evonet.evolution.batches import Batches
from evonet.evolution.obs_norm import ObsStats
from evonet.games.base import BatchedGame, GameSpec, actions_from_outputs
from evonet.nn import mlp, recurrent
from evonet.nn.mlp import Topology
from evonet.search.ga import rank


def rollout_bytes(
    n_genomes: int, n_episodes: int, topo: Topology, game: GameSpec, observe: bool = False
) -> int:
    """An upper estimate of the memory :func:`rollout` needs for ``n_genomes x n_episodes``
    games: the game, and for the numpy forward pass its activations and a copy of the live
    genomes' weights; a compiled rollout (a ``compiled_play`` game, unless ``observe``)
    forwards one game at a time in a small scratch array, on the genomes as they are
    (float32, as every strategy asks for them)."""
    games = n_genomes * n_episodes
    results = games * (4 * topo.n_in + 64)  # the observations reset returns, the results
    if plays_compiled(game, topo, observe):
        return game.memory_bytes(games) + results + 8 * len(topo.sizes) * max(topo.sizes)
    # A GRU's temporaries: its gates and two matmuls' results of three blocks each.
    cells = 4 * (topo.state_size + 9 * max(topo.sizes)) if topo.recurrent else 0
    forward = 4 * (topo.n_in + 2 * max(topo.sizes)) + 64 + cells
    return game.memory_bytes(games) + games * forward + 4 * n_genomes * topo.n_params


@dataclass
class RolloutResult:
    """Scores of P genomes over E episodes. Per-episode arrays are ``(P, E)``.

    ``score`` is what the game reports to people (its ``score_name``: apples, return).
    """

    fitness: np.ndarray  # (P,) mean episode fitness, higher is better
    score: np.ndarray  # (P,) mean episode score
    steps: np.ndarray  # (P,) mean steps
    episode_fitness: np.ndarray  # (P, E)
    episode_score: np.ndarray  # (P, E)
    episode_steps: np.ndarray  # (P, E)
    episode_won: np.ndarray  # (P, E) bool
    agent_steps: int  # game-steps played in total
    obs_stats: ObsStats | None = None  # the observations' sums, when asked for
    finished: np.ndarray | None = None
    """``(P,)`` bool in a race (:func:`race`): the genomes that played every episode; None
    when every genome did."""

    @property
    def selection_fitness(self) -> np.ndarray:
        """``(P,)`` the fitness a strategy learns from: :attr:`fitness`, and NaN for a
        genome knocked out of a race, so that it ranks below every genome that played
        every episode (:func:`evonet.search.ga.rank`)."""
        if self.finished is None:
            return self.fitness
        return np.where(self.finished, self.fitness, np.nan)


def plays_compiled(game: GameSpec, topo: Topology, observe: bool = False) -> bool:
    """Whether :func:`rollout` plays ``game`` in one compiled loop
    (:mod:`evonet.evolution.compiled_play`): for a game with compiled rules and an MLP,
    unless the observations are summed (``observe``); else step by step in numpy."""
    return game.compiled_play and not observe and not topo.recurrent


def check_topology(topo: Topology, game: GameSpec) -> None:
    """ValueError unless ``topo`` has the game's observation and action sizes."""
    if topo.n_in != game.n_obs or topo.n_out != game.n_outputs:
        raise ValueError(
            f"{game.describe()} needs a network with {game.n_obs} inputs and "
            f"{game.n_outputs} outputs, got {list(topo.sizes)}"
        )


def rollout(
    genomes: np.ndarray,
    topo: Topology,
    game: GameSpec,
    seeds: np.ndarray,
    on_progress: Callable[[int], None] | None = None,
    observe: bool = False,
    batches: Batches | None = None,
) -> RolloutResult:
    """Play genomes ``(P, D)`` on episode seeds ``(E,)`` until every game is over.

    Every genome plays the same ``E`` episodes (seeds from :func:`evonet.games.base.episode_seeds`).
    Returns a :class:`RolloutResult`: per genome the mean fitness (higher is better), the
    mean score (apples, return) and mean steps, each ``(P,)``, and per episode the score,
    steps and wins, each ``(P, E)``. A pure function of its arguments: the same inputs give
    the same result, in any process.

    ``on_progress(over)``, if given, is called with the number of the ``P * E`` games that
    are over each time it grows: progress from inside one batch, which plays far faster
    than the same games cut into small batches (every step costs a forward pass).
    With ``observe``, the result also sums each episode's observations
    (:attr:`RolloutResult.obs_stats`, for :mod:`evonet.evolution.obs_norm`). With
    ``batches``, the game's batch is taken from there and kept for the next call
    (:mod:`evonet.evolution.batches`), else made and closed here.
    """
    check_topology(topo, game)
    genomes = np.asarray(genomes)
    if genomes.ndim != 2 or genomes.shape[1] != topo.n_params:
        raise ValueError(
            f"genomes must be (P, {topo.n_params}) for {list(topo.sizes)}, got shape "
            f"{genomes.shape} (one genome: theta[None])"
        )
    seeds = np.asarray(seeds, dtype=np.uint64)
    p, e = genomes.shape[0], seeds.size
    env = batches.get(game, p * e) if batches is not None else game.make(p * e)
    try:
        env.reset(seed=np.tile(seeds, p))
        if plays_compiled(game, topo, observe):
            compiled_play.play_out(
                env, game.inputs(), genomes, topo, e, on_progress, game.shield_at
            )
            return _results(env, p, e)
        return _play(env, genomes, topo, game, p, e, on_progress, observe)
    finally:
        if batches is None:
            env.close()


def from_episodes(
    fit: np.ndarray,
    score: np.ndarray,
    steps: np.ndarray,
    won: np.ndarray,
    obs_stats: ObsStats | None = None,
) -> RolloutResult:
    """The result of per-episode arrays, each ``(P, E)``: means over episodes per genome."""
    return RolloutResult(
        fitness=fit.mean(axis=1),
        score=score.mean(axis=1),
        steps=steps.mean(axis=1),
        episode_fitness=fit,
        episode_score=score,
        episode_steps=steps,
        episode_won=won,
        agent_steps=int(steps.sum()),  # every live game-step advanced one game's counter
        obs_stats=obs_stats,
    )


def race(
    play: Callable[..., RolloutResult],
    genomes: np.ndarray,
    topo: Topology,
    game: GameSpec,
    seeds: np.ndarray,
    first: int,
    top: int,
    **options: Any,
) -> RolloutResult:
    """Racing: every genome ``(P, D)`` plays the first ``first`` of the episode ``seeds
    (E,)``, and only the best ``top`` there (by mean fitness, ties in index order) play the
    rest. ``play`` is :func:`rollout` or an evaluator, called as it is.

    Selection only needs the best ranked exactly, and a genome that loses early games
    rarely turns out to be among them (docs/evolving.md measures how rarely), so the rest
    of the episodes go where they tell genomes apart. The result's per-episode arrays are
    ``(P, E)``: an episode not played has NaN fitness and score, no steps and no win. The
    means ``(P,)`` are over the episodes each genome played; :attr:`RolloutResult.finished`
    marks the genomes that played all ``E``, and selection ranks them above the others
    (:attr:`RolloutResult.selection_fitness`). A pure function of its arguments, as
    :func:`rollout` is, whatever the evaluator's split.
    """
    heats = play(genomes, topo, game, seeds[:first], **options)
    best = np.sort(rank(heats.fitness)[:top])  # in population order, as every batch is
    final = play(genomes[best], topo, game, seeds[first:], **options)
    p, e = genomes.shape[0], seeds.size

    def joined(a: np.ndarray, b: np.ndarray, fill: Any) -> np.ndarray:
        out = np.full((p, e, *a.shape[2:]), fill, dtype=a.dtype)
        out[:, :first], out[best, first:] = a, b
        return out

    fit = joined(heats.episode_fitness, final.episode_fitness, np.nan)
    score = joined(heats.episode_score, final.episode_score, np.nan)
    steps = joined(heats.episode_steps, final.episode_steps, 0)
    finished = np.zeros(p, dtype=bool)
    finished[best] = True
    played = np.where(finished, e, first)
    stats = None
    if heats.obs_stats is not None and final.obs_stats is not None:
        a, b = heats.obs_stats, final.obs_stats
        stats = ObsStats(*(joined(x, y, 0.0) for x, y in zip(_sums(a), _sums(b), strict=True)))
    return RolloutResult(
        fitness=np.nansum(fit, axis=1) / played,
        score=np.nansum(score, axis=1) / played,
        steps=steps.sum(axis=1) / played,
        episode_fitness=fit,
        episode_score=score,
        episode_steps=steps,
        episode_won=joined(heats.episode_won, final.episode_won, False),
        agent_steps=heats.agent_steps + final.agent_steps,
        obs_stats=stats,
        finished=finished,
    )


def _sums(stats: ObsStats) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return stats.count, stats.total, stats.squares


def _play(
    env: BatchedGame,
    genomes: np.ndarray,
    topo: Topology,
    game: GameSpec,
    p: int,
    e: int,
    on_progress: Callable[[int], None] | None = None,
    observe: bool = False,
) -> RolloutResult:
    space, shielded = game.action_space, game.shield_at >= 0
    sums = _ObsSums(p, e, game.n_obs) if observe else None
    # Forward only genomes that still have a live game; recompute that set (which copies
    # their weights) only when it has shrunk by half, so copies stay rare.
    active = np.arange(p)
    layers = mlp.unflatten(genomes, topo)
    # A recurrent network's memory, per live genome's game: zero as every episode starts.
    state = recurrent.initial_state(topo, (p, e), genomes.dtype)
    sample = actions_from_outputs(np.zeros((1, 1, topo.n_out), np.float32), space)
    actions = np.zeros((p, e, *sample.shape[2:]), dtype=sample.dtype)
    ones = np.ones(e, dtype=np.int64)
    reported = 0
    while True:
        # Live episodes per genome as a row sum by matmul over a uint8 view of alive:
        # several times cheaper per step than alive.reshape(p, e).any(axis=1).
        alive = env.alive.view(np.uint8).reshape(p, e)
        live = alive @ ones
        live_genomes = live.nonzero()[0]
        if on_progress is not None and (over := p * e - int(live.sum())) != reported:
            on_progress(over)
            reported = over
        if live_genomes.size == 0:
            break
        if live_genomes.size <= active.size // 2:
            state = state[np.searchsorted(active, live_genomes)]  # live ones were active
            active = live_genomes
            layers = mlp.unflatten(genomes[active], topo)
        full = env.observations.reshape(p, e, env.n_obs)
        x = game.seen(full)
        if sums is not None:
            sums.add(x, alive)
        if active.size < p:
            x = x.take(active, axis=0)
            full = full.take(active, axis=0) if shielded else full  # only a shield reads it
        out = recurrent.step_layers(layers, x, state, topo, 1)
        actions[active] = game.actions(out, full)
        env.advance(actions.reshape(p * e, *actions.shape[2:]))
    return _results(env, p, e, sums.stats() if sums is not None else None)


def _results(env: BatchedGame, p: int, e: int, obs_stats: ObsStats | None = None) -> RolloutResult:
    """The result of ``env``'s ``P * E`` games, all over."""
    stats = env.episode_stats()
    shape = (p, e)
    return from_episodes(
        stats.fitness.reshape(shape),
        stats.score.reshape(shape),
        stats.steps.reshape(shape),
        stats.won.reshape(shape),
        obs_stats,
    )


class _ObsSums:
    """Per-episode sums of the observations live games see, step by step (float64)."""

    def __init__(self, p: int, e: int, n_obs: int) -> None:
        self.count = np.zeros((p, e))
        self.total = np.zeros((p, e, n_obs))
        self.squares = np.zeros((p, e, n_obs))

    def add(self, x: np.ndarray, alive: np.ndarray) -> None:
        """Observations ``x (P, E, n_obs)`` of the games ``alive (P, E)`` marks."""
        live = alive.astype(bool)
        seen = np.where(live[..., None], x, 0).astype(np.float64)
        self.count += live
        self.total += seen
        self.squares += seen * seen

    def stats(self) -> ObsStats:
        return ObsStats(self.count, self.total, self.squares)
