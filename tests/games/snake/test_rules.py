"""Each rule of the rule book in its own test, plus determinism and bad input."""

import numpy as np
import pytest

from evonet.games.base import episode_seeds
from evonet.games.snake import Snake, SnakeSpec
from evonet.games.snake.rules import LEFT, RIGHT, UP

TURN_LEFT, STRAIGHT, TURN_RIGHT = 0, 1, 2


def one_game(width=10, height=10, hunger=None, seed=0):
    env = Snake(1, width, height, hunger)
    env.reset(seed=seed)
    return env


def cells(env, k=0):
    return [tuple(int(v) for v in c) for c in env.snake_cells(k)]


def test_start_is_length_three_through_the_centre():
    env = Snake(200, 9, 7)
    env.reset(seed=1)
    for k in range(200):
        body = cells(env, k)
        assert len(body) == 3 and body[1] == (4, 3)
    assert set(env.heading.tolist()) == {0, 1, 2, 3}  # every heading occurs across seeds


def test_wall_kills():
    env = one_game()
    env.set_game(0, [(0, 5), (1, 5), (2, 5)], LEFT, apple=(9, 9))
    _, reward, term, trunc, _ = env.step([STRAIGHT])
    assert term[0] and not trunc[0] and reward[0] == -1.0 and not env.alive[0]
    assert cells(env) == [(0, 5), (1, 5), (2, 5)]  # the dead snake stays where it was


def test_self_collision_kills():
    env = one_game()
    # A hook: turning right twice runs the head into its own body.
    env.set_game(0, [(5, 5), (5, 6), (6, 6), (7, 6), (7, 5), (7, 4)], UP, apple=(0, 0))
    env.step([TURN_RIGHT])  # to (6, 5)
    _, reward, term, _, _ = env.step([TURN_RIGHT])  # to (6, 6): body
    assert term[0] and reward[0] == -1.0


def test_moving_into_the_cell_the_tail_leaves_is_legal():
    env = one_game()
    # A 2x2 square: the head at (0, 0) heading left, the tail at (0, 1) just below it.
    env.set_game(0, [(0, 0), (1, 0), (1, 1), (0, 1)], LEFT, apple=(9, 9))
    for _ in range(8):  # chase the tail round the square twice
        _, reward, term, _, _ = env.step([TURN_LEFT])
        assert not term[0] and reward[0] == 0.0
    assert sorted(cells(env)) == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_eating_grows_by_one_and_scores():
    env = one_game()
    env.set_game(0, [(5, 5), (4, 5), (3, 5)], RIGHT, apple=(6, 5))
    _, reward, _, _, info = env.step([STRAIGHT])
    assert reward[0] == 1.0 and info["apples"][0] == 1 and info["length"][0] == 4
    assert cells(env) == [(6, 5), (5, 5), (4, 5), (3, 5)]  # the tail stayed
    assert env.apple_xy(0) not in cells(env)


def test_apple_is_never_on_the_snake():
    env = Snake(500, 5, 5)
    env.reset(seed=3)
    rng = np.random.default_rng(3)
    for _ in range(100):
        env.step(rng.integers(0, 3, 500))
        live = np.flatnonzero(~env.won)
        assert not env.occupied[live, env.apple_cell[live]].any()


def test_apples_are_uniform_over_free_cells():
    env = Snake(40000, 4, 4)
    env.reset(seed=5)
    for heading in range(4):  # the starting body, so the free cells, depend on the heading
        same = env.heading == heading
        counts = np.bincount(env.apple_cell[same], minlength=16)
        free = counts[counts > 0]
        assert free.size == 13  # 16 cells minus the 3 of the snake
        expected = same.sum() / 13
        chi2 = float(((free - expected) ** 2 / expected).sum())
        assert chi2 < 40  # 12 degrees of freedom: p ~ 1e-4 at 36


def test_filling_the_board_wins():
    env = one_game(4, 4)
    # A serpentine body over 15 cells; the apple on the last free cell (0, 3).
    path = [
        (1, 3),
        (2, 3),
        (3, 3),
        (3, 2),
        (2, 2),
        (1, 2),
        (0, 2),
        (0, 1),
        (1, 1),
        (2, 1),
        (3, 1),
        (3, 0),
        (2, 0),
        (1, 0),
        (0, 0),
    ]
    env.set_game(0, path, LEFT, apple=(0, 3))
    _, reward, term, trunc, info = env.step([STRAIGHT])
    assert reward[0] == 1.0 and term[0] and not trunc[0]
    assert env.won[0] and info["won"][0] and info["length"][0] == 16
    assert env.apple_xy(0) is None


def test_hunger_truncates():
    env = one_game(hunger=3)
    env.set_game(0, [(5, 6), (5, 7), (5, 8)], UP, apple=(9, 9))  # the apple is off the path
    for _ in range(2):
        _, _, term, trunc, _ = env.step([STRAIGHT])
        assert not trunc[0]
    _, reward, term, trunc, _ = env.step([STRAIGHT])
    assert trunc[0] and not term[0] and reward[0] == 0.0 and not env.alive[0]


def test_default_hunger_scales_with_the_board():
    assert Snake(1, 10, 10).hunger == 100 and Snake(1, 20, 6).hunger == 120


def test_finished_games_stay_finished_until_reset():
    env = one_game()
    env.set_game(0, [(0, 5), (1, 5), (2, 5)], LEFT, apple=(9, 9))
    env.step([STRAIGHT])
    before = (cells(env), int(env.steps[0]), env.apple_xy(0))
    obs1, *_ = env.step([TURN_RIGHT])
    obs2, reward, term, _, _ = env.step([TURN_LEFT])
    assert reward[0] == 0.0 and term[0]
    assert (cells(env), int(env.steps[0]), env.apple_xy(0)) == before
    np.testing.assert_array_equal(obs1, obs2)
    env.reset(seed=1)
    assert env.alive[0] and env.steps[0] == 0


def run(env, seeds, actions):
    obs, _ = env.reset(seed=seeds)
    trace = [obs]
    for a in actions:
        obs, *_ = env.step(a)
        trace.append(obs)
    return np.stack(trace), env.apples.copy(), env.steps.copy(), env.apple_cell.copy()


@pytest.mark.slow
def test_a_game_is_the_same_alone_in_a_big_batch_or_in_any_shard():
    n, steps = 10_000, 40
    seeds = episode_seeds(11, n)
    actions = np.random.default_rng(11).integers(0, 3, (steps, n))
    obs, apples, nsteps, apple_cell = run(Snake(n, 8, 8), seeds, actions)
    # Alone.
    for k in (0, 1, 4321, n - 1):
        o, a, s, c = run(Snake(1, 8, 8), seeds[k : k + 1], actions[:, k : k + 1])
        np.testing.assert_array_equal(o[:, 0], obs[:, k])
        assert (a[0], s[0], c[0]) == (apples[k], nsteps[k], apple_cell[k])
    # Shuffled into uneven shards.
    perm = np.random.default_rng(0).permutation(n)
    for shard in np.split(perm, [7, 1000, 6000]):
        o, a, s, c = run(Snake(shard.size, 8, 8), seeds[shard], actions[:, shard])
        np.testing.assert_array_equal(o, obs[:, shard])
        np.testing.assert_array_equal(a, apples[shard])
        np.testing.assert_array_equal(c, apple_cell[shard])


def test_same_seed_and_actions_give_the_same_result():
    actions = np.random.default_rng(2).integers(0, 3, (60, 300))
    a = run(Snake(300, 6, 6), 42, actions)
    b = run(Snake(300, 6, 6), 42, actions)
    c = run(Snake(300, 6, 6), 43, actions)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])


def test_reset_games_restarts_only_the_listed_games():
    env = Snake(5)
    env.reset(seed=9)
    for _ in range(3):
        env.step(np.ones(5, dtype=int))
    fresh = episode_seeds(77, 2)
    obs = env.reset_games([3, 1], fresh)  # not ascending: seeds follow their games
    assert env.steps.tolist() == [3, 0, 3, 0, 3]
    alone = Snake(1)
    alone_obs, _ = alone.reset(seed=fresh[:1])
    assert cells(alone) == cells(env, 3) and alone.apple_xy(0) == env.apple_xy(3)
    np.testing.assert_array_equal(obs, env.observations[[3, 1]])
    np.testing.assert_array_equal(obs[0], alone_obs[0])


@pytest.mark.parametrize(
    "games,needle",
    [([1, 1], "distinct"), ([2, 5], r"\[0, 5\)"), ([-1, 2], r"\[0, 5\)"), ([[1], [2]], "1-D")],
)
def test_reset_games_rejects_bad_indices(games, needle):
    env = Snake(5)
    env.reset(seed=0)
    before = env.observations.copy()
    with pytest.raises(ValueError, match=needle):
        env.reset_games(games, np.arange(np.size(games)))
    np.testing.assert_array_equal(env.observations, before)


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        ({"width": 3}, "width"),
        ({"height": 2}, "height"),
        ({"width": 0}, "width"),
        ({"width": 65}, "width"),
        ({"hunger": 0}, "hunger"),
        ({"hunger": -5}, "hunger"),
        ({"n_games": 0}, "n_games"),
    ],
)
def test_impossible_settings_raise_value_error(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        Snake(**kwargs)


@pytest.mark.parametrize(
    "actions,needle",
    [
        (np.ones(3, dtype=int), "shape"),
        (np.ones((4, 1), dtype=int), "shape"),
        (np.array([0, 1, 3, 1]), "0 \\(turn left\\)"),
        (np.array([0, -1, 1, 1]), "0 \\(turn left\\)"),
        (np.array([0.0, 1.0, 1.0, 2.0]), "integers"),
    ],
)
def test_bad_actions_raise_value_error(actions, needle):
    env = Snake(4)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=needle):
        env.step(actions)


def test_observation_scaling_in_a_known_position():
    env = one_game()
    env.set_game(0, [(2, 5), (2, 6), (2, 7)], UP, apple=(2, 1))
    obs = env._obs[0]
    names = env.observation_names()
    o = dict(zip(names, obs, strict=True))
    assert len(o) == len(names)  # every feature has a name of its own
    assert o["wall fwd"] == pytest.approx(1 / 6)  # y=5 -> leaves the board after 6 moves
    assert o["wall L"] == pytest.approx(1 / 3)  # x=2 -> 3 moves to the left
    assert o["apple ahead"] == pytest.approx(0.4) and o["apple right"] == 0.0
    assert obs[8] == 1.0 and obs[9:16].sum() == 0  # apple on the "ahead" ray only
    assert o["body back"] == 1.0 and obs[16:20].sum() == 0
    assert o["head up"] == 1.0 and o["length"] == pytest.approx(0.03)


def test_a_board_with_more_cells_than_10x10_learns_first_on_10x10():
    assert SnakeSpec(board=(20, 20)).easier() == SnakeSpec(board=(10, 10))
    # A hunger limit keeps its share of the cells; the layout stays.
    assert SnakeSpec(board=(20, 20), hunger=800, observation=1).easier() == SnakeSpec(
        board=(10, 10), hunger=200, observation=1
    )
    assert SnakeSpec(board=(64, 64), hunger=1).easier().hunger == 1
    assert SnakeSpec(board=(64, 4)).easier().board == (10, 10)
    assert SnakeSpec(board=(10, 10)).easier() is None
    assert SnakeSpec(board=(8, 12)).easier() is None  # 96 cells
