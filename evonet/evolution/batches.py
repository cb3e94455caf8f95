"""The game batches a process keeps between generations.

A rollout plays ``P * E`` games in one batch (:mod:`evonet.games.base`). Making it can cost
more than playing it: a Gymnasium batch is hundreds of environments, each a Python object
(Box2D builds a world), made in a good part of a second. Every batch is reset with its
episode seeds before it plays, and a game depends only on its seed and its moves, so a
batch made once and kept plays exactly the games a new one would.
"""

from __future__ import annotations

from collections import OrderedDict

from evonet.games.base import BatchedGame, GameSpec

# Batches kept at most; the least recently used is closed first. A run needs one or two
# (strided shards differ by one genome).
KEEP = 4


class Batches:
    """Made batches, by game and size, each reused until it is pushed out or closed."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._made: OrderedDict[tuple[GameSpec, int], BatchedGame] = OrderedDict()

    def get(self, game: GameSpec, n_games: int) -> BatchedGame:
        """A batch of ``n_games`` of ``game``: the one kept, or a new one (reset it)."""
        key = (game, n_games)
        batch = self._made.pop(key, None)
        if batch is None:
            batch = game.make(n_games)
        self._made[key] = batch
        while len(self._made) > self.keep:
            _, old = self._made.popitem(last=False)
            old.close()
        return batch

    def close(self) -> None:
        """Close every batch kept."""
        while self._made:
            _, batch = self._made.popitem()
            batch.close()
