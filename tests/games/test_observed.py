"""Partial observation: any game with only some observation entries reaching the network."""

import numpy as np
import pytest

from evonet.evolution.config import EvolveConfig, from_dict, game_from_meta
from evonet.evolution.rollout import rollout
from evonet.games import base
from evonet.games.base import episode_seeds
from evonet.games.observed import Observed, entries
from evonet.games.snake import Snake
from evonet.nn import mlp

SNAKE_SEEN = (0, 1, 2, 8, 9, 10, 24, 25, 26, 27, 28, 29)  # walls and apple ahead, heading


def test_an_observed_game_shows_only_its_entries_and_keeps_the_rest():
    game = Observed(base.make("snake", board=(20, 20)), SNAKE_SEEN)
    full = base.make("snake", board=(20, 20))
    assert game.n_obs == len(SNAKE_SEEN) and game.n_outputs == full.n_outputs
    assert game.input_labels == tuple(full.input_labels[i] for i in SNAKE_SEEN)
    kept = (game.name, game.board, game.can_win, game.score_name)
    assert kept == ("snake", (20, 20), True, "apples")
    assert game.describe() == "snake 20x20 observing 0-2,8-10,24-29"
    assert game.info()["observe"] == list(SNAKE_SEEN)
    easier = game.easier()  # the curriculum's board takes the same network
    assert easier.board == (10, 10) and easier.observed == SNAKE_SEEN
    obs = np.arange(2 * full.n_obs, dtype=np.float32).reshape(2, -1)
    np.testing.assert_array_equal(game.seen(obs), obs[:, list(SNAKE_SEEN)])
    np.testing.assert_array_equal(full.seen(obs), obs)


@pytest.mark.parametrize(
    ("observe", "message"),
    [
        ((0, 35), "observation entries 0 to 34, got 35"),
        ((3, 1, 3), "entry 3 is given twice"),
        (tuple(range(36)), "36 entries, but snake has 35"),
        ((0, True), "whole numbers"),
    ],
)
def test_impossible_entries_are_refused_naming_the_problem(observe, message):
    with pytest.raises(ValueError, match=message):
        Observed(base.make("snake"), observe)


def test_entries_read_as_ranges():
    assert entries((0, 1, 2, 3, 7)) == "0-3,7"
    assert entries((2, 0)) == "2,0"  # the order given is the network's input order


def hand_played(theta, topo, make_env, seeds, seen):
    """Every episode played alone by the plainest loop: the network on obs[seen]."""
    out = []
    for seed in seeds:
        env = make_env()
        env.reset(seed=np.array([seed], np.uint64))
        while env.alive[0]:
            x = env.observations[:, list(seen)]
            env.advance(np.argmax(mlp.forward(theta, x, topo), axis=-1))
        out.append(env.episode_stats().steps[0])
    return out


def test_a_compiled_snake_rollout_feeds_the_network_only_the_observed_entries(rng):
    game = Observed(base.make("snake", board=(6, 6)), SNAKE_SEEN)
    topo = mlp.Topology((game.n_obs, 8, 3))
    pop = mlp.init(topo, rng, n=4, dtype=np.float32)
    seeds = episode_seeds(2, 3)
    res = rollout(pop, topo, game, seeds)
    for p in range(4):
        want = hand_played(pop[p], topo, lambda: Snake(1, 6, 6), seeds, SNAKE_SEEN)
        np.testing.assert_array_equal(res.episode_steps[p], want)


def test_a_gymnasium_rollout_feeds_the_network_only_the_observed_entries(rng):
    pytest.importorskip("gymnasium")
    game = Observed(base.make("gym:CartPole-v1"), (2, 0))
    assert game.input_labels == ("obs 2", "obs 0")  # the panel names the entries it sees
    topo = mlp.Topology((2, 4, 2))
    pop = mlp.init(topo, rng, n=3, dtype=np.float32)
    seeds = episode_seeds(5, 2)
    res = rollout(pop, topo, game, seeds)
    full = base.make("gym:CartPole-v1")
    for p in range(3):
        want = hand_played(pop[p], topo, lambda: full.make(1), seeds, (2, 0))
        np.testing.assert_array_equal(res.episode_steps[p], want)


def test_the_setting_round_trips_through_a_saved_config_and_older_files_see_everything():
    cfg = EvolveConfig.for_game("snake", observe=SNAKE_SEEN)
    cfg.validate()
    saved = cfg.to_dict()
    assert saved["observe"] == list(SNAKE_SEEN)
    assert from_dict(saved).observe == SNAKE_SEEN
    assert game_from_meta(saved).observed == SNAKE_SEEN
    older = {k: v for k, v in saved.items() if k != "observe"}
    assert from_dict(older).observe == () and game_from_meta(older).n_obs == 35
    assert cfg.topology().sizes[0] == len(SNAKE_SEEN)


@pytest.mark.parametrize("observe", [[0, "1"], "0,2", [0] * 200_000, [99]])
def test_a_saved_config_with_bad_entries_is_refused_in_one_line(observe):
    saved = EvolveConfig().to_dict() | {"observe": observe}
    with pytest.raises(ValueError, match="observ") as e:
        game_from_meta(saved)
    assert len(str(e.value)) < 250 and "\n" not in str(e.value)
