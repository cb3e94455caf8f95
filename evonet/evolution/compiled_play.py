"""A population's rollout on a game with compiled rules, in one compiled call per stretch
of steps: observe, forward pass and move fused, game by game.

:func:`evonet.evolution.rollout.rollout` comes here for a game whose spec says
``compiled_play`` (Snake): instead of a numpy forward pass over the live games and a call
into the game's rules per step, one compiled loop takes each genome in turn, forwards it on
its live games' observations (up to :data:`~evonet.nn.compiled.ROWS` in one
:func:`~evonet.nn.compiled.forward_rows`), picks each game's largest output and steps the
game (which writes its next observation). Game ``k`` is genome ``k // E``, as in the
rollout. A game's numbers never depend on the games beside it, so its result never
depends on the batch, the worker or the backend; :class:`evonet.views.panel.Agent` forwards
one input the same way when it watches such a game, so watching plays the games evolution
scored.
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
from evonet.nn.compiled import ROWS, argmax, forward_rows, net, scratch
from evonet.nn.mlp import Topology

# Steps per compiled call: Python is crossed (and progress reported) once per stretch,
# which keeps the long tail of a few live games from paying a crossing per step.
STRETCH = 32


@njit(cache=True, _nrt=False, error_model="numpy")  # see games.snake.rules DRIVER, nn.compiled
def play(genomes: np.ndarray, episodes: int, inputs: np.ndarray, sizes: np.ndarray,
         hidden: int, output: int, acts: np.ndarray, which: np.ndarray, shield_at: int,
         board: tuple, games: tuple, most: int, fewer: int) -> int:  # fmt: skip
    """At most ``most`` steps of every live game, game k played by ``genomes[k //
    episodes]`` ``(P, D)`` on its observation's entries ``inputs`` ``(n_in,)``, stopping
    early once fewer than ``fewer`` games are live; returns how many games are still live.
    ``acts`` is :func:`scratch`'s, ``which`` ``(ROWS,)`` int64 scratch for the games of one
    forward pass; ``shield_at`` the game spec's (:attr:`GameSpec.shield_at`)."""
    b, g = Board(*board), Games(*games)
    live = 0
    for _ in range(most):
        live = 0
        for p in range(genomes.shape[0]):
            rows = 0
            for k in range(p * episodes, (p + 1) * episodes):
                if g.alive[k]:
                    for i in range(sizes[0]):
                        acts[0, rows, i] = g.obs[k, inputs[i]]
                    which[rows] = k
                    rows += 1
                if rows == ROWS or (rows and k == (p + 1) * episodes - 1):
                    live += _move(genomes[p], acts, rows, which, sizes, hidden, output,
                                  shield_at, b, g)  # fmt: skip
                    rows = 0
        if live == 0 or live < fewer:
            break
    return live


@njit(cache=True, inline="always")
def _move(theta: np.ndarray, acts: np.ndarray, rows: int, which: np.ndarray,
          sizes: np.ndarray, hidden: int, output: int, shield_at: int, b: Board,
          g: Games) -> int:  # fmt: skip
    """One step of the games ``which[:rows]``, all played by ``theta``, whose observations
    are in ``acts[0, :rows]``; how many of them are still live."""
    forward_rows(theta, acts, rows, sizes, hidden, output)
    top = sizes.size - 1
    live = 0
    for r in range(rows):
        k = which[r]
        if shield_at < 0:
            move = argmax(acts[top, r], sizes[top])
        else:
            move = shielded(acts[top, r], sizes[top], g.obs[k], shield_at)
        step_game(k, move, b, g)
        live += g.alive[k]
    return live


@njit(cache=True)
def shielded(v: np.ndarray, n: int, obs: np.ndarray, at: int) -> int:
    """:meth:`GameSpec.actions` with a shield, for one game: the first index of the
    largest of ``v[:n]`` among the actions whose entry ``obs[at + i]`` is above 0, or of
    all of them when none is."""
    best = -1
    for i in range(n):
        if obs[at + i] > 0 and (best < 0 or v[i] > v[best]):
            best = i
    return argmax(v, n) if best < 0 else best


def play_out(
    env: BatchedGame,
    inputs: np.ndarray,
    genomes: np.ndarray,
    topo: Topology,
    episodes: int,
    on_progress: Callable[[int], None] | None = None,
    shield_at: int = -1,
) -> None:
    """Play every game of ``env`` (reset, ``P * episodes`` games; its ``compiled_rules``)
    to its end, game k by genome ``k // episodes`` of ``genomes`` ``(P, D)`` on the entries
    ``inputs`` ``(n_in,)`` int64 of its observation (:meth:`GameSpec.inputs`), through the
    shield its spec's :attr:`GameSpec.shield_at` names (-1: none).
    ``on_progress(over)`` as :func:`evonet.evolution.rollout.rollout` calls it."""
    thetas = np.ascontiguousarray(genomes, np.float32)
    which = np.zeros(ROWS, np.int64)
    inputs = np.ascontiguousarray(inputs, np.int64)
    if inputs.shape != (topo.n_in,) or not np.all((inputs >= 0) & (inputs < env.n_obs)):
        raise ValueError(f"inputs must be {topo.n_in} entries of the game's {env.n_obs}")
    if not -1 <= shield_at <= env.n_obs - topo.n_out:
        raise ValueError(f"shield_at must be -1 or one of the game's {env.n_obs} entries")
    args = (thetas, episodes, inputs, *net(topo), scratch(topo), which, shield_at,
            *env.compiled_rules)  # fmt: skip
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
    play_out(env, np.arange(topo.n_in), np.zeros((1, topo.n_params), np.float32), topo, 1)
    compiled.forward(np.zeros(topo.n_params, np.float32), env.observations, topo)
