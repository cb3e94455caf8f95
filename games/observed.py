"""Partial observation: a game whose networks see only some entries of its observation.

``evonet evolve gym:CartPole-v1 --observe 0,2`` keeps the cart's position and the pole's
angle and hides both velocities, which a network must then infer from what it saw before:
research on memory without a new environment. A run's ``observe`` setting wraps its game in
:class:`Observed` (:meth:`evonet.evolution.config.EvolveConfig.game_spec`).

The wrapped game's batches are the game's own, unchanged (its rules, its drawing, its
compiled rules); what plays a network picks the entries it sees with :meth:`GameSpec.seen`
(or, compiled, :meth:`GameSpec.inputs`), so a rollout, ``evaluate`` and ``watch`` feed a
network the same entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import BatchedGame, GameSpec


def check_observe(indices: Sequence[int], n_obs: int, game: str) -> tuple[int, ...]:
    """``indices`` as a tuple of distinct entries of a ``(n_obs,)`` observation;
    ValueError naming the problem."""
    if isinstance(indices, str) or not hasattr(indices, "__len__"):
        raise ValueError(f"observe takes a list of entries such as (0, 2), got {indices!r}")
    if len(indices) > n_obs:  # before copying: a huge list allocates nothing more
        raise ValueError(f"observe: {len(indices):,} entries, but {game} has {n_obs}")
    indices = tuple(indices)
    if not indices:
        raise ValueError("observe needs at least one observation entry")
    bad = [i for i in indices if not isinstance(i, int) or isinstance(i, bool)]
    if bad:
        raise ValueError(f"observe takes whole numbers, got {bad[0]!r}")
    outside = [i for i in indices if not 0 <= i < n_obs]
    if outside:
        raise ValueError(
            f"observe: {game} has observation entries 0 to {n_obs - 1}, got {outside[0]}"
        )
    if len(set(indices)) < len(indices):
        twice = next(i for k, i in enumerate(indices) if i in indices[:k])
        raise ValueError(f"observe: entry {twice} is given twice")
    return indices


def entries(indices: Sequence[int]) -> str:
    """``(0, 1, 2, 3, 7)`` -> ``"0-3,7"``: runs of consecutive entries as ranges."""
    parts: list[str] = []
    start = prev = indices[0]
    for i in [*indices[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    return ",".join(parts)


class Observed(GameSpec):
    """``game`` with its networks seeing only the observation entries ``observe`` (in that
    order): ``n_obs`` and ``input_labels`` are those entries'; everything else is the
    game's."""

    def __init__(self, game: GameSpec, observe: Sequence[int]) -> None:
        self.game = game
        self.observed = check_observe(observe, game.n_obs, game.name)
        # GameSpec's class defaults would hide the game's own: copied, not delegated.
        for name in ("name", "action_space", "score_name", "fitness_doc", "can_win",
                     "win_name", "action_names"):  # fmt: skip
            setattr(self, name, getattr(game, name))
        self._inputs = np.asarray(self.observed, np.int64)
        self.n_obs = len(self.observed)
        labels = game.input_labels
        self.input_labels = tuple(labels[i] for i in self.observed) if labels else ()

    def __getattr__(self, name: str) -> Any:
        # The game's own settings (Snake's board, a Gymnasium id) for views that draw it.
        if name == "game":  # not set yet (copying, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.game, name)

    def seen(self, obs: np.ndarray) -> np.ndarray:
        return obs[..., self._inputs]

    def inputs(self) -> np.ndarray:
        return self._inputs

    @property
    def shardable(self) -> bool:
        return self.game.shardable

    @property
    def compiled_play(self) -> bool:
        return self.game.compiled_play

    @property
    def shield_at(self) -> int:  # the game's own observations keep every entry
        return self.game.shield_at

    def make(self, n_games: int) -> BatchedGame:
        return self.game.make(n_games)

    def memory_bytes(self, n_games: int) -> int:
        # The game's batches, and one copy of the entries a step's forward pass reads.
        return self.game.memory_bytes(n_games) + 4 * n_games * self.n_obs

    def describe(self) -> str:
        return f"{self.game.describe()} observing {entries(self.observed)}"

    def info(self) -> dict[str, Any]:
        return {**self.game.info(), "observe": list(self.observed)}

    def easier(self) -> GameSpec | None:
        easier = self.game.easier()
        return None if easier is None else Observed(easier, self.observed)

    def warm_up(self) -> str | None:
        return self.game.warm_up()
