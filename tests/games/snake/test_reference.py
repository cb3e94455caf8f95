"""The batched engine against the pure-Python reference, move for move."""

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evonet.games.snake import Snake
from evonet.games.snake.rules import ROOM, UP
from tests.games.snake.reference import DIRS4, ReferenceSnake


def hamiltonian_next(width, height):
    """Next cell on a Hamiltonian cycle of a board with an even height."""
    order = [(x, 0) for x in range(width)]
    for y in range(1, height):
        xs = range(width - 1, 0, -1) if y % 2 == 1 else range(1, width)
        order += [(x, y) for x in xs]
    order += [(0, y) for y in range(height - 1, 0, -1)]
    assert len(order) == width * height
    return {order[i]: order[(i + 1) % len(order)] for i in range(len(order))}


def safe_actions(ref):
    hx, hy = ref.snake[0]
    safe = []
    for a in range(3):
        dx, dy = DIRS4[(ref.heading + a - 1) % 4]
        new = (hx + dx, hy + dy)
        body = ref.snake if new == ref.apple else ref.snake[:-1]
        if 0 <= new[0] < ref.w and 0 <= new[1] < ref.h and new not in body:
            safe.append(a)
    return safe


def policy(ref, cycle, rng, mode):
    """Random actions; a cycle-follower that fills the board (to reach wins); or a greedy
    apple-chaser that grows long and walls itself in (for the room features)."""
    if ref.done or mode == "random":
        return int(rng.integers(0, 3))
    safe = safe_actions(ref)
    hx, hy = ref.snake[0]
    if mode == "greedy":
        if not safe:
            return 1
        ax, ay = ref.apple

        def distance(a):
            dx, dy = DIRS4[(ref.heading + a - 1) % 4]
            return abs(hx + dx - ax) + abs(hy + dy - ay) + rng.random()

        return min(safe, key=distance)
    for a in safe:
        dx, dy = DIRS4[(ref.heading + a - 1) % 4]
        if (hx + dx, hy + dy) == cycle[(hx, hy)]:
            return a
    return int(rng.choice(safe)) if safe else 1


def assert_same(env, k, ref, reward, term, trunc, obs):
    # Compared as arrays first and spelled out only on a mismatch: this runs for every
    # game at every step, and numpy's assert helpers cost most of the test's time.
    cells = env.snake_cells(k)
    if not np.array_equal(cells, np.array(ref.snake)):
        assert [tuple(c) for c in cells] == ref.snake
    assert env.apple_xy(k) == ref.apple
    assert env.apples[k] == ref.apples and env.steps[k] == ref.steps
    assert bool(term[k]) == ref.terminated and bool(trunc[k]) == ref.truncated
    assert bool(env.won[k]) == ref.won
    assert env.heading[k] == ref.heading
    if not ref.done:
        expected = ref.observation()
        if not np.abs(obs[k] - expected).max() <= 1e-6:
            np.testing.assert_allclose(obs[k], expected, atol=1e-6)


def play_against_reference(width, height, mode, n_games, max_steps, observation=2):
    """Step ``n_games`` engine games and their references side by side and compare every
    move; returns the engine for checks on how the games ended."""
    env = Snake(n_games, width, height, observation=observation)
    obs, _ = env.reset(seed=width * 100 + height)
    refs = [ReferenceSnake(int(s), width, height, observation=observation) for s in env.seeds]
    rng = np.random.default_rng(0)
    cycle = hamiltonian_next(width, height) if mode == "cycle" else None
    for k, ref in enumerate(refs):
        assert_same(env, k, ref, 0.0, env.terminated, env.truncated, obs)
    for _ in range(max_steps):
        actions = np.array([policy(ref, cycle, rng, mode) for ref in refs])
        obs, reward, term, trunc, _ = env.step(actions)
        for k, ref in enumerate(refs):
            expected = ref.step(int(actions[k]))
            assert reward[k] == expected
            assert_same(env, k, ref, reward, term, trunc, obs)
        if not env.alive.any():
            break
    return env


@pytest.mark.parametrize(
    "width,height,mode,n_games,max_steps",
    [
        (10, 10, "random", 150, 150),
        (7, 5, "random", 150, 150),
        (4, 4, "random", 200, 60),
        (32, 5, "random", 200, 150),
        (5, 32, "random", 200, 150),
        # The largest board: random walks reach its walls.
        pytest.param(64, 64, "random", 10, 1500, marks=pytest.mark.slow),
        (64, 4, "random", 50, 200),  # wide and thin
        (4, 64, "random", 50, 200),  # tall and thin
        (33, 47, "random", 20, 200),  # odd sides past the old 32-cell limit
        (4, 4, "cycle", 100, 400),
        pytest.param(6, 4, "cycle", 60, 1000, marks=pytest.mark.slow),
        (5, 6, "cycle", 20, 2000),
        # Long snakes that wall themselves in.
        pytest.param(10, 10, "greedy", 60, 600, marks=pytest.mark.slow),
        (9, 6, "greedy", 40, 400),
    ],
)
def test_engine_matches_reference_move_for_move(width, height, mode, n_games, max_steps):
    env = play_against_reference(width, height, mode, n_games, max_steps)
    if mode == "cycle":
        # The comparison must cover won games, not just deaths.
        assert env.won.sum() >= 10
    else:
        assert env.terminated.sum() >= n_games // 4
    if mode == "greedy":  # the room features must have been tested on long snakes
        assert env.length.max() >= width * height // 3


@pytest.mark.parametrize("mode", ["random", "cycle"])
def test_layout_1_is_the_first_32_features(mode):
    """Networks evolved before the room features read layout 1: the same game, 32
    features."""
    env = play_against_reference(6, 4, mode, 50, 300, observation=1)
    assert env.observations.shape == (50, 32)


@pytest.mark.parametrize("width,height", [(9, 6), (12, 12)])  # room on bits, and by queue
def test_layout_3_is_the_room_on_a_log_scale(width, height):
    """Layout 3: the same features, the room's as ``log(1 + min(R, length)) / log(1 +
    length)``; on long snakes, where the two layouts' rooms differ."""
    env = play_against_reference(width, height, "greedy", 40, 400, observation=3)
    assert env.observations.shape == (40, 35)
    assert env.length.max() >= width * height // 4


def test_layout_3_tells_a_room_of_one_cell_from_none_on_a_long_snake():
    """The case layout 3 is for: a long snake in a corner whose only way on is its
    tail's cell, a region of one cell."""
    body = [(0, 0), (0, 1), (0, 2), (0, 3)] + [(x, 3) for x in range(1, 6)]
    body += [(x, 2) for x in range(5, 0, -1)] + [(1, 1), (2, 1), (2, 0), (1, 0)]
    rooms = {}
    for layout in (2, 3):
        env = Snake(1, 6, 4, observation=layout)
        env.reset(seed=0)
        env.set_game(0, body, UP, apple=(5, 0))
        rooms[layout] = env.observations[0, ROOM : ROOM + 3]
    length = len(body)
    np.testing.assert_allclose(rooms[2], [0, 0, 1 / length], rtol=1e-6)
    # Exactly the C library's log1p, as the reference's, on any CPU (numpy's own may differ).
    np.testing.assert_array_equal(rooms[3], np.float32([0, 0, math.log1p(1) / math.log1p(length)]))
    assert rooms[3][2] > 4 * rooms[2][2]


@pytest.mark.slow
def test_the_rules_run_as_plain_python_too(tmp_path):
    """With numba's JIT off, the same rule functions run as Python and still match the
    reference: the readable path is the compiled one."""
    code = (
        "import numba.core.registry, evonet.games.snake.rules as s\n"
        "from evonet.games.snake.engine import warm_up\n"
        "from tests.games.snake.test_reference import play_against_reference\n"
        "assert not isinstance(s.step_game, numba.core.registry.CPUDispatcher)\n"
        "assert warm_up()[1] is False  # nothing to compile, and no error\n"
        "env = play_against_reference(6, 4, 'cycle', 4, 400)\n"
        "assert env.won.sum() >= 1\n"
        "play_against_reference(7, 5, 'random', 20, 60)\n"
        "print('plain python ok')\n"
    )
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", PYTHONWARNINGS="error")
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "plain python ok" in done.stdout
