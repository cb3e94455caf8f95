"""Play a whole population on vectorized Snake and score it.

``P`` genomes x ``E`` episodes run together as ``P * E`` games in one
:class:`games.snake.Snake`. Each step is one batched forward pass over every genome that
still has a live game, then one ``step`` of all games. Game ``p * E + e`` is genome ``p``
playing episode seed ``e``, so every genome faces the same ``E`` seeds.

Fitness of one episode (documented, and the only place it is defined)::

    f = apples + s / (s + C)

where ``C = width * height`` and ``s`` is the number of *useful* steps survived: all steps
of an episode that ended by dying or by winning, but for a starved (truncated) episode only
the steps up to its last apple. Apples always dominate (the tie-break is below 1), longer
survival breaks ties, and circling until starved earns nothing. A genome's fitness is the
mean of ``f`` over its ``E`` episodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evonet import mlp
from evonet.mlp import Topology
from games.snake import N_OBS, Snake


@dataclass(frozen=True)
class GameSettings:
    """The Snake board an evaluation plays on."""

    width: int = 10
    height: int = 10
    hunger: int | None = None
    """Steps without an apple before a game is truncated; None: width * height."""

    def make(self, n_games: int) -> Snake:
        return Snake(n_games, self.width, self.height, self.hunger)


def rollout_bytes(n_genomes: int, n_episodes: int, topo: Topology, game: GameSettings) -> int:
    """An upper estimate of the memory :func:`rollout` needs for ``n_genomes x n_episodes``
    games (the engine, the forward pass's activations, a copy of the live genomes' weights
    and the per-episode results)."""
    games = n_genomes * n_episodes
    forward = 4 * (topo.n_in + 2 * max(topo.sizes)) + 64
    return (
        Snake.memory_bytes(games, game.width, game.height)
        + games * forward
        + 4 * n_genomes * topo.n_params
    )


@dataclass
class RolloutResult:
    """Scores of P genomes over E episodes. Per-episode arrays are ``(P, E)``."""

    fitness: np.ndarray  # (P,) mean episode fitness
    apples: np.ndarray  # (P,) mean apples
    steps: np.ndarray  # (P,) mean steps
    episode_apples: np.ndarray  # (P, E)
    episode_steps: np.ndarray  # (P, E)
    episode_won: np.ndarray  # (P, E) bool
    agent_steps: int  # game-steps played in total


def episode_fitness(
    apples: np.ndarray, steps: np.ndarray, truncated: np.ndarray, hunger: int, cells: int
) -> np.ndarray:
    """Per-episode fitness (see the module docstring); all arrays share one shape."""
    useful = steps - np.where(truncated, hunger, 0)
    return apples + useful / (useful + cells)


def rollout(
    genomes: np.ndarray, topo: Topology, game: GameSettings, seeds: np.ndarray
) -> RolloutResult:
    """Play genomes ``(P, D)`` on episode seeds ``(E,)`` until every game is over.

    A pure function of its arguments: the same inputs give the same result, in any process.
    """
    if topo.n_in != N_OBS or topo.n_out != 3:
        raise ValueError(f"a Snake network needs {N_OBS} inputs and 3 outputs, got {topo.sizes}")
    genomes = np.asarray(genomes)
    seeds = np.asarray(seeds, dtype=np.uint64)
    p, e = genomes.shape[0], seeds.size
    env = game.make(p * e)
    env.reset(seed=np.tile(seeds, p))
    obs = env.observations  # a live view: advance() updates it in place
    # Forward only genomes that still have a live game; recompute that set (which copies
    # their weights) only when it has shrunk by half, so copies stay rare.
    active = np.arange(p)
    layers = mlp.unflatten(genomes, topo)
    actions = np.ones((p, e), dtype=np.int64)
    # Live episodes per genome as a row sum by matmul over a uint8 view of alive: several
    # times cheaper per step than alive.reshape(p, e).any(axis=1) on these short rows.
    alive, ones = env.alive.view(np.uint8).reshape(p, e), np.ones(e, dtype=np.int64)
    while True:
        live_genomes = (alive @ ones).nonzero()[0]
        if live_genomes.size == 0:
            break
        if live_genomes.size <= active.size // 2:
            active = live_genomes
            layers = mlp.unflatten(genomes[active], topo)
        x = obs.reshape(p, e, N_OBS)
        if active.size < p:
            x = x.take(active, axis=0)
        actions[active] = mlp.forward_layers(layers, x, topo, 1).argmax(axis=-1)
        env.advance(actions.reshape(-1))  # actions come from argmax: always valid

    apples = env.apples.reshape(p, e)
    steps = env.steps.reshape(p, e)
    fit = episode_fitness(apples, steps, env.truncated.reshape(p, e), env.hunger, env.cells)
    return RolloutResult(
        fitness=fit.mean(axis=1),
        apples=apples.mean(axis=1),
        steps=steps.mean(axis=1),
        episode_apples=apples,
        episode_steps=steps,
        episode_won=env.won.reshape(p, e).copy(),
        agent_steps=int(steps.sum()),  # every live game-step advanced one game's counter
    )
