"""A game from outside evonet, as a user's package would write one: say the sign.

Each step shows a number in [-1, 1]; the player says whether it is positive (action 1) or
not (action 0). Ten steps a game; fitness and score are the right answers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evonet.games.base import BatchedGame, Discrete, EpisodeStats, GameSpec

STEPS = 10


class SignSpec(GameSpec):
    n_obs = 1
    action_space = Discrete(2)
    score_name = "right"
    fitness_doc = "right answers in ten steps (higher is better)"

    def __init__(self, name: str) -> None:
        self.name = name

    def make(self, n_games: int) -> SignGame:
        return SignGame(n_games)

    def memory_bytes(self, n_games: int) -> int:
        return 64 * n_games


class SignGame(BatchedGame):
    n_obs, action_space, score_name = 1, Discrete(2), "right"

    def __init__(self, n: int) -> None:
        self.n = n
        self.alive = np.zeros(n, dtype=bool)

    def reset(self, seed: Any = None) -> None:
        # Each game's numbers come from its own seed only.
        rngs = [np.random.default_rng(int(s)) for s in np.asarray(seed, dtype=np.uint64)]
        self.numbers = np.stack([r.uniform(-1, 1, STEPS) for r in rngs]).astype(np.float32)
        self.t, self.right = 0, np.zeros(self.n)
        self.alive[:] = True

    @property
    def observations(self) -> np.ndarray:
        return self.numbers[:, min(self.t, STEPS - 1), None]  # (n, 1)

    def advance(self, actions: np.ndarray) -> None:
        self.right += actions == (self.numbers[:, self.t] > 0)
        self.t += 1
        self.alive[:] = self.t < STEPS

    def episode_stats(self) -> EpisodeStats:
        steps = np.full(self.n, self.t, dtype=np.int64)
        return EpisodeStats(self.right.copy(), self.right.copy(), steps, np.zeros(self.n, bool))
