"""A population's rollout on a game with compiled rules, in one compiled call per stretch
of steps: observe, forward pass and move fused, game by game.

:func:`evonet.evolution.rollout.rollout` comes here for a game whose spec says
``compiled_play`` (Snake): instead of a numpy forward pass over the live games and a call
into the game's rules per step, one compiled loop takes each live game in turn, forwards
its genome on its observation (:func:`evonet.nn.compiled.forward_one`), picks the largest
output and steps the game (which writes its next observation). Game ``k`` is genome
``k // E``, as in the rollout. Every game is computed alone, so a game's result never
depends on the batch, the worker or the backend; :class:`evonet.views.panel.Agent` forwards
the same way when it watches such a game, so watching plays the games evolution scored.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit

from evonet.games.base import BatchedGame, GameSpec
from evonet.games.compiled import load_or_compile
from evonet.games.snake.rules import COMPILED as RULES
from evonet.games.snake.rules import Board, Games, step_game
from evonet.nn import compiled
from evonet.nn.compiled import argmax, forward_one, net, scratch
from evonet.nn.mlp import Topology

# Steps per compiled call: Python is crossed (and progress reported) once per stretch,
# which keeps the long tail of a few live games from paying a crossing per step.
STRETCH = 32


@njit(cache=True, _nrt=False, error_model="numpy")  # see games.snake.rules DRIVER, nn.compiled
def play(genomes: np.ndarray, episodes: int, sizes: np.ndarray, hidden: int, output: int,
         acts: np.ndarray, board: tuple, games: tuple, most: int, fewer: int) -> int:  # fmt: skip
    """At most ``most`` steps of every live game, game k played by ``genomes[k //
    episodes]`` ``(P, D)`` float32, stopping early once fewer than ``fewer`` games are live;
    returns how many games are still live."""
    b, g = Board(*board), Games(*games)
    alive, obs = g.alive, g.obs
    top = sizes.size - 1
    n_out = sizes[top]
    live = 0
    for _ in range(most):
        live = 0
        for k in range(alive.size):
            if alive[k]:
                forward_one(genomes[k // episodes], obs[k], sizes, hidden, output, acts)
                step_game(k, argmax(acts[top], n_out), b, g)
                live += alive[k]
        if live == 0 or live < fewer:
            break
    return live


def play_out(
    env: BatchedGame,
    genomes: np.ndarray,
    topo: Topology,
    episodes: int,
    on_progress: Callable[[int], None] | None = None,
) -> None:
    """Play every game of ``env`` (reset, ``P * episodes`` games; its ``compiled_rules``)
    to its end, game k by genome ``k // episodes`` of ``genomes`` ``(P, D)``.
    ``on_progress(over)`` as :func:`evonet.evolution.rollout.rollout` calls it."""
    thetas = np.ascontiguousarray(genomes, np.float32)
    args = (thetas, episodes, *net(topo), scratch(topo), *env.compiled_rules)
    reported, live = 0, env.n
    while True:
        # With progress to report, a call also ends when a game does.
        live = play(*args, STRETCH, live if on_progress is not None else 0)
        over = env.n - live
        if on_progress is not None and over != reported:
            on_progress(over)
            reported = over
        if live == 0:
            return


def warm_up(game: GameSpec) -> str | None:
    """Get ``game``'s compiled rollout ready (compile it, or load it from numba's cache),
    if it has one; a note when it had to be compiled (once after an install)."""
    if not game.compiled_play:
        return None
    cached = (play, compiled.forward_each, *RULES)
    seconds, fresh = load_or_compile(_first_play, cached, (play, compiled.forward_each))
    if fresh:
        return f"compiled the rollout in {seconds:.1f} s (once after an install)"
    return None


def _first_play() -> None:
    from evonet.games.snake import Snake

    topo = Topology((Snake().n_obs, 2, 3))
    env = Snake(1, 4, 4)
    env.reset(seed=0)
    play_out(env, np.zeros((1, topo.n_params), np.float32), topo, 1)
    compiled.forward(np.zeros(topo.n_params, np.float32), env.observations, topo)
