"""Gymnasium environments as batched games (games/gym.py): real environments from PyPI."""

import numpy as np
import pytest

from evonet.games import base
from evonet.games.base import Box, Discrete, actions_from_outputs, episode_seeds
from evonet.games.gym import GymGame, GymSpec


def play(spec, n, seeds, policy):
    """Run a batch to the end with ``policy(obs (n, n_obs)) -> outputs``; its stats."""
    game = spec.make(n)
    game.reset(seeds)
    while game.alive.any():
        game.advance(actions_from_outputs(policy(game.observations), spec.action_space))
    stats = game.episode_stats()
    game.close()
    return stats


def test_the_registry_makes_gym_games_with_their_spaces():
    cart = base.make("gym:CartPole-v1")
    assert (cart.n_obs, cart.action_space, cart.score_name) == (4, Discrete(2), "return")
    assert cart.vectorized  # CartPole has a native vector entry point
    pendulum = base.make("gym:Pendulum-v1")
    assert pendulum.action_space == Box((-2.0,), (2.0,)) and not pendulum.vectorized


@pytest.mark.parametrize(
    "name,needle",
    [
        ("gym:NoSuchThing-v0", "no such Gymnasium environment"),
        ("gym:Blackjack-v1", "observations are Tuple"),
        ("gym:FrozenLake-v1", "observations are Discrete"),
        ("gym:", "expected gym:ENV_ID"),
        ("chess", "supported: snake, gym:ENV_ID"),
    ],
)
def test_missing_or_unsupported_environments_say_what_is_supported(name, needle):
    with pytest.raises(ValueError, match=needle) as e:
        base.make(name)
    assert "\n" not in str(e.value)


def test_a_sync_batch_seeds_each_environment_so_a_game_ignores_its_batch():
    spec = GymSpec("gym:Acrobot-v1")
    seeds = episode_seeds(3, 4)
    rng = np.random.default_rng(0)
    w = rng.normal(size=(spec.n_obs, 3)).astype(np.float32)
    together = play(spec, 4, seeds, lambda obs: obs @ w)
    for k in (0, 3):
        alone = play(spec, 1, seeds[k : k + 1], lambda obs: obs @ w)
        assert alone.fitness[0] == together.fitness[k]
        assert alone.steps[0] == together.steps[k]


def test_only_the_first_episode_counts_despite_autoreset():
    # CartPole pushed one way falls within a few dozen steps; its vector env resets it on
    # the next step, and those later steps must not count.
    spec = GymSpec("gym:CartPole-v1")
    game = spec.make(3)
    game.reset(episode_seeds(0, 3))
    always_left = np.zeros(3, dtype=np.int64)
    for _ in range(200):
        game.advance(always_left)
    stats = game.episode_stats()
    assert not game.alive.any()
    assert (stats.steps < 60).all()
    np.testing.assert_array_equal(stats.score, stats.steps)  # +1 per step survived
    before = stats.steps.copy()
    game.advance(always_left)  # finished games ignore further moves
    np.testing.assert_array_equal(game.episode_stats().steps, before)


def test_a_native_cartpole_batch_draws_each_start_from_its_game_seed():
    # CartPole's vector env keeps its games' states as columns: each game's start comes
    # from its own seed, so a game ignores its batch there too and a generation may be
    # split over workers.
    spec = GymSpec("gym:CartPole-v1")
    assert spec.vectorized and spec.column_state and spec.shardable
    seeds = episode_seeds(5, 6)
    flip = lambda obs: np.stack([obs[:, 2], -obs[:, 2]], axis=1)  # noqa: E731
    together = play(spec, 6, seeds, flip)
    for k in (0, 4):
        alone = play(spec, 2, seeds[[k, k]], flip)
        assert alone.fitness[0] == alone.fitness[1] == together.fitness[k]
    game = spec.make(3)
    game.reset(seeds[:3])
    assert np.all(np.abs(game.observations) <= 0.05)  # within CartPole's reset bounds
    assert len({tuple(o) for o in game.observations}) == 3
    game.close()


def test_the_native_batch_is_deterministic_for_its_seeds():
    spec = GymSpec("gym:CartPole-v1")
    seeds = episode_seeds(5, 6)
    flip = lambda obs: np.stack([obs[:, 2], -obs[:, 2]], axis=1)  # noqa: E731
    a, b = play(spec, 6, seeds, flip), play(spec, 6, seeds, flip)
    np.testing.assert_array_equal(a.fitness, b.fitness)
    c = play(spec, 6, episode_seeds(6, 6), flip)
    assert not np.array_equal(a.fitness, c.fitness)


def test_box_actions_are_squashed_into_the_bounds():
    space = Box((-2.0, 0.0), (2.0, 1.0))
    out = np.array([[-1e6, 1e6], [0.0, 0.0], [1e6, -1e6]], dtype=np.float32)
    a = actions_from_outputs(out, space)
    np.testing.assert_allclose(a, [[-2.0, 1.0], [0.0, 0.5], [2.0, 0.0]])
    assert a.dtype == np.float32
    stats = play(GymSpec("gym:Pendulum-v1"), 2, episode_seeds(1, 2), lambda obs: obs[:, :1] * 50)
    assert (stats.steps == 200).all() and np.isfinite(stats.fitness).all()


def test_a_batch_refuses_the_wrong_number_of_seeds():
    game = GymGame(GymSpec("gym:CartPole-v1"), 2)
    with pytest.raises(ValueError, match="expected 2 per-game seeds"):
        game.reset(np.arange(3, dtype=np.uint64))
    game.close()


def test_a_step_cost_comes_off_the_fitness_not_the_score():
    seeds = episode_seeds(5, 3)
    rng = np.random.default_rng(1)
    w = rng.normal(size=(6, 3)).astype(np.float32)
    plain = play(GymSpec("gym:Acrobot-v1"), 3, seeds, lambda obs: obs @ w)
    costly = play(base.make("gym:Acrobot-v1", step_cost=0.25), 3, seeds, lambda obs: obs @ w)
    np.testing.assert_array_equal(costly.score, plain.score)  # the same games
    np.testing.assert_array_equal(costly.steps, plain.steps)
    np.testing.assert_allclose(costly.fitness, plain.score - 0.25 * plain.steps)
    for bad in (-1.0, float("nan"), 1e7):
        with pytest.raises(ValueError, match="step cost must be from 0 to 1,000,000"):
            GymSpec("gym:Acrobot-v1", step_cost=bad)
    with pytest.raises(ValueError, match="game snake has no setting 'step_cost'"):
        base.make("snake", step_cost=1.0)
