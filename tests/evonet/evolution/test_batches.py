"""Batches kept between generations play exactly the games new ones would."""

import numpy as np
import pytest

from evonet.evolution.batches import Batches
from evonet.evolution.rollout import rollout
from evonet.games.base import episode_seeds
from evonet.games.gym import GymSpec
from evonet.games.snake import SnakeSpec
from evonet.nn import mlp
from evonet.nn.mlp import Topology


@pytest.mark.parametrize(
    "game", [SnakeSpec(board=(6, 6)), GymSpec("gym:LunarLander-v3"), GymSpec("gym:CartPole-v1")]
)
def test_a_kept_batch_plays_the_games_a_new_one_would(game, rng):
    topo = Topology((game.n_obs, 6, game.n_outputs))
    batches = Batches()
    try:
        for generation in range(3):
            genomes = mlp.init(topo, rng, 5).astype(np.float32)
            seeds = episode_seeds(generation, 2)
            kept = rollout(genomes, topo, game, seeds, batches=batches)
            new = rollout(genomes, topo, game, seeds)
            np.testing.assert_array_equal(kept.episode_fitness, new.episode_fitness)
            np.testing.assert_array_equal(kept.episode_steps, new.episode_steps)
        assert len(batches._made) == 1  # the one batch, made once
    finally:
        batches.close()


def test_batches_keep_the_most_recently_used_and_close_the_rest():
    closed = []

    class Game:
        def __init__(self, n):
            self.n = n

        def close(self):
            closed.append(self.n)

    class Spec(SnakeSpec):
        def make(self, n_games):
            return Game(n_games)

    batches, spec = Batches(keep=2), Spec()
    first = batches.get(spec, 4)
    assert batches.get(spec, 4) is first
    batches.get(spec, 5)
    batches.get(spec, 4)  # used again: 5 is now the oldest
    batches.get(spec, 6)
    assert closed == [5]
    batches.close()
    assert sorted(closed) == [4, 5, 6]
