"""evonet/Snake-v0: Gymnasium's API over the engine, the native vector env, rendering, and
the shipped champion scoring through Gymnasium exactly what `evonet evaluate` reports."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import evonet  # noqa: F401 - registers evonet/Snake-v0
from evonet.evolution.files import load_network
from evonet.evolution.rollout import rollout
from evonet.games.base import episode_seeds
from evonet.games.snake import FEATURE_BLOCKS, FEATURE_NAMES, N_OBS, Snake, SnakeSpec
from evonet.games.snake.gym_env import (
    CELL_PIXELS,
    ENV_ID,
    SnakeEnv,
    SnakeVectorEnv,
    observation_space,
    register_envs,
)
from evonet.games.snake.render.window import HUD_HEIGHT, FrameRenderer, board_layout
from evonet.nn.mlp import forward
from tests.helpers import evonet_here, last_json

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # drawing tests need no screen

# Any warning in these tests is a failure, unless a test says it expects one.
pytestmark = pytest.mark.filterwarnings("error")

CHAMPION = Path(__file__).parents[3] / "evonet" / "assets" / "snake-champion.npz"


def start_obs(seed, width=6, height=6):
    """The engine's starting observation ``(35,)`` for one per-game seed."""
    return Snake(1, width, height).reset(np.array([seed], dtype=np.uint64))[0][0]


def fast(env):
    """Let a "human"-mode env draw without waiting between frames."""
    env.unwrapped.metadata = {**env.unwrapped.metadata, "render_fps": 10_000}
    return env


# ------------------------------------------------------------------------ registration


def test_registration_is_idempotent_and_adds_no_time_limit():
    register_envs()
    register_envs()  # a warning ("Overriding environment") would fail this test
    spec = gym.spec(ENV_ID)
    assert spec.entry_point == "evonet.games.snake.gym_env:SnakeEnv"
    assert spec.vector_entry_point == "evonet.games.snake.gym_env:SnakeVectorEnv"
    assert spec.max_episode_steps is None
    env = gym.make(ENV_ID)
    wrappers = []
    while isinstance(env, gym.Wrapper):
        wrappers.append(type(env).__name__)
        env = env.env
    assert "TimeLimit" not in wrappers and isinstance(env, SnakeEnv)


def test_unwrapped_env_passes_gymnasiums_checker():
    env = gym.make(ENV_ID, width=6, height=6)
    check_env(env.unwrapped)  # also makes and renders one env per render mode


def test_wrapped_env_passes_gymnasiums_checker():
    env = gym.make(ENV_ID, width=6, height=6)
    # The one warning to expect: the checker advises checking the unwrapped env.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*different from the unwrapped")
        check_env(env)


def test_observations_stay_inside_the_space_and_use_its_negative_range():
    envs = gym.make_vec(ENV_ID, num_envs=16, width=6, height=7, hunger=20)
    obs, _ = envs.reset(seed=0)
    rng = np.random.default_rng(0)
    seen = [obs]
    for _ in range(300):
        obs, *_ = envs.step(rng.integers(0, 3, 16))
        seen.append(obs)
    seen = np.concatenate(seen)
    space = envs.single_observation_space
    assert all(space.contains(o) for o in seen)
    # The apple's offsets ahead and to the right are signed: their bounds must be too.
    assert (seen[:, 28] < 0).any() and (seen[:, 29] < 0).any()


def test_the_space_and_the_envs_name_the_engines_features():
    space = observation_space()
    signed = np.flatnonzero(space.low < 0)
    np.testing.assert_array_equal(signed, np.arange(N_OBS)[FEATURE_BLOCKS["apple offset"]])
    assert [FEATURE_NAMES[i] for i in signed] == ["apple ahead", "apple right"]
    env = gym.make(ENV_ID, width=6, height=6)
    assert env.unwrapped.feature_names == FEATURE_NAMES
    assert len(FEATURE_NAMES) == env.observation_space.shape[0]
    assert gym.make_vec(ENV_ID, num_envs=2).feature_names == FEATURE_NAMES


def test_observe_keeps_those_entries_in_the_space_the_names_and_every_observation():
    keep = (28, 29, 0, 31)  # the apple's offsets, the wall ahead, hunger: in this order
    full, part = gym.make(ENV_ID, width=6, height=6), gym.make(ENV_ID, width=6, height=6,
                                                             observe=keep)  # fmt: skip
    space = part.observation_space
    assert space.shape == (4,)
    np.testing.assert_array_equal(space.low, observation_space().low[list(keep)])
    assert part.unwrapped.feature_names == tuple(FEATURE_NAMES[i] for i in keep)
    assert FEATURE_NAMES == SnakeEnv.feature_names  # the class's own stay the whole list
    check_env(part.unwrapped)
    a, _ = full.reset(options={"game_seed": 5})
    b, _ = part.reset(options={"game_seed": 5})
    np.testing.assert_array_equal(b, a[list(keep)])
    for action in (1, 0, 2, 1, 1, 2):
        a, *rest_a = full.step(action)
        b, *rest_b = part.step(action)
        np.testing.assert_array_equal(b, a[list(keep)])
        assert rest_a[:3] == rest_b[:3]
    envs = gym.make_vec(ENV_ID, num_envs=3, width=6, height=6, observe=keep)
    assert envs.single_observation_space.shape == (4,) and envs.observation_space.shape == (3, 4)
    assert envs.feature_names == part.unwrapped.feature_names
    whole = gym.make_vec(ENV_ID, num_envs=3, width=6, height=6)
    seeds = episode_seeds(4, 3)
    np.testing.assert_array_equal(envs.reset(seed=seeds)[0], whole.reset(seed=seeds)[0][:, keep])
    for _ in range(40):  # through autoresets
        actions = np.array([0, 1, 2])
        np.testing.assert_array_equal(envs.step(actions)[0], whole.step(actions)[0][:, keep])


@pytest.mark.parametrize(
    ("observe", "message"),
    [((), "at least one"), ((3, 35), "entries 0 to 34, got 35"), ((1, 1), "entry 1 is given twice"),
     ((1.5,), "whole numbers"), (tuple(range(36)), "36 entries"),
     (range(10**12), "1,000,000,000,000 entries"), (5, "a list of entries"),
     ("0,2", "a list of entries")],  # fmt: skip
)
def test_bad_observe_entries_are_refused_in_one_line(observe, message):
    for make in (lambda: gym.make(ENV_ID, observe=observe),
                 lambda: gym.make_vec(ENV_ID, num_envs=2, observe=observe)):  # fmt: skip
        with pytest.raises(ValueError, match=message):
            make()


def test_a_network_evolved_on_some_entries_plays_through_the_env_as_evaluate_scores_it():
    config = evonet.EvolveConfig.for_game("snake", board=(6, 6), observe=(0, 1, 2, 28, 29))
    game = config.game_spec()
    topo = config.topology(game)
    theta = np.random.default_rng(0).normal(0, 1, topo.n_params).astype(np.float32)
    seeds = episode_seeds(9, 6)
    scored = rollout(theta[None], topo, game, seeds).episode_score[0]
    envs = gym.make_vec(ENV_ID, num_envs=6, width=6, height=6, observe=(0, 1, 2, 28, 29))
    obs, _ = envs.reset(seed=seeds)
    apples, done = np.zeros(6), np.zeros(6, dtype=bool)
    while not done.all():
        obs, reward, terminated, truncated, _ = envs.step(forward(theta, obs, topo).argmax(-1))
        apples += (reward == 1) & ~done
        done |= terminated | truncated
    np.testing.assert_array_equal(apples, scored)


# ---------------------------------------------------------------------------- one game


def test_game_seed_option_plays_the_engine_game():
    env = gym.make(ENV_ID, width=6, height=6)
    engine = Snake(1, 6, 6)
    seed = 2**64 - 5  # the whole uint64 range is accepted
    obs, info = env.reset(options={"game_seed": seed})
    assert info["game_seed"] == seed
    np.testing.assert_array_equal(obs, engine.reset(np.array([seed], dtype=np.uint64))[0][0])
    rng = np.random.default_rng(1)
    done = False
    while not done:
        a = int(rng.integers(0, 3))
        obs, reward, terminated, truncated, info = env.step(a)
        e_obs, e_reward, e_term, e_trunc, _ = engine.step(np.array([a]))
        np.testing.assert_array_equal(obs, e_obs[0])
        assert (reward, terminated, truncated) == (e_reward[0], e_term[0], e_trunc[0])
        assert type(reward) is float and type(terminated) is bool
        assert info["apples"] == engine.apples[0] and info["steps"] == engine.steps[0]
        done = terminated or truncated


def test_reset_seed_draws_the_game_seed_from_np_random():
    a, b = gym.make(ENV_ID), gym.make(ENV_ID)
    first = a.reset(seed=7)[1]["game_seed"]
    assert b.reset(seed=7)[1]["game_seed"] == first
    assert a.reset()[1]["game_seed"] != first  # the next game of the same stream
    expected = int(np.random.default_rng(7).integers(0, 2**64, dtype=np.uint64))
    assert first == expected  # Gymnasium seeds np_random with SeedSequence(7) / PCG64


@pytest.mark.parametrize(
    "options", [{"game_seed": -1}, {"game_seed": 2**64}, {"game_seed": 1.5}, {"seeds": 3}]
)
def test_bad_reset_options_are_refused(options):
    with pytest.raises(ValueError):
        SnakeEnv().reset(options=options)


def test_bad_actions_are_refused():
    env = SnakeEnv()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(1)
    env.reset(seed=0)
    for bad in (3, -1, 1.0, "1"):
        with pytest.raises(ValueError):
            env.step(bad)


# ------------------------------------------------------------------------- vector env


def test_make_vec_gives_the_native_vector_env():
    envs = gym.make_vec(ENV_ID, num_envs=5, width=6, height=6)
    assert type(envs) is SnakeVectorEnv and isinstance(envs, gym.vector.VectorEnv)
    assert envs.metadata["autoreset_mode"] is gym.vector.AutoresetMode.NEXT_STEP
    assert envs.num_envs == 5
    assert envs.observation_space.shape == (5, N_OBS)
    assert envs.observation_space.dtype == np.float32
    assert envs.single_observation_space == SnakeEnv(6, 6).observation_space == observation_space()
    assert envs.action_space == gym.spaces.MultiDiscrete([3] * 5)


def test_a_finished_game_restarts_on_the_next_step():
    """NEXT_STEP autoreset, for both ways a game ends: dying and starving."""
    # Straight ahead hits a wall of the 6x6 board within 3 moves. Always turning left
    # circles a 2x2 square, following the tail, until hunger (3 moves) truncates the game.
    ends = {"terminated": 0, "truncated": 0}
    for action in (1, 0):
        envs = SnakeVectorEnv(8, 6, 6, hunger=3)
        envs.reset(seed=np.arange(1, 9))
        ended = np.zeros(8, dtype=bool)
        for _ in range(12):
            obs, reward, terminated, truncated, info = envs.step(np.full(8, action))
            # Games that ended last step restart now: fresh start, reward 0, no flags.
            assert (info["_game_seed"] == ended).all()
            for k in ended.nonzero()[0]:
                assert reward[k] == 0 and not terminated[k] and not truncated[k]
                np.testing.assert_array_equal(obs[k], start_obs(info["game_seed"][k]))
                assert info["steps"][k] == 0 and info["apples"][k] == 0
            # The flags mark the step a game ends in: dying costs 1 in that step, starving
            # nothing.
            assert (reward[terminated] == -1).all() and (reward[truncated] == 0).all()
            ends["terminated"] += terminated.sum()
            ends["truncated"] += truncated.sum()
            ended = terminated | truncated
    assert ends["terminated"] >= 8 and ends["truncated"] >= 8, ends


def test_sync_vector_env_of_single_envs_works_too():
    """make_vec's "sync" mode gathers the single envs' infos; seeds above 2**63 must fit."""
    native = gym.make_vec(ENV_ID, num_envs=3, width=6, height=6)
    sync = gym.make_vec(ENV_ID, num_envs=3, width=6, height=6, vectorization_mode="sync")
    assert isinstance(sync, gym.vector.SyncVectorEnv)
    seeds = [2**64 - 1, 2**63, 5]
    native_obs, native_info = native.reset(seed=seeds)
    sync_obs, sync_info = sync.reset(options={"game_seed": seeds[0]})  # one option for all
    assert sync_info.keys() == native_info.keys()
    assert sync_info["game_seed"].dtype == np.uint64
    assert (sync_info["game_seed"] == seeds[0]).all()
    np.testing.assert_array_equal(sync_obs[0], native_obs[0])


def test_vector_env_plays_the_same_games_as_single_envs():
    n, rng = 5, np.random.default_rng(3)
    envs = gym.make_vec(ENV_ID, num_envs=n, width=6, height=6, hunger=12)
    singles = [gym.make(ENV_ID, width=6, height=6, hunger=12) for _ in range(n)]
    seeds = episode_seeds(11, n)
    obs, info = envs.reset(seed=seeds)
    np.testing.assert_array_equal(info["game_seed"], seeds)
    for k, env in enumerate(singles):
        np.testing.assert_array_equal(env.reset(options={"game_seed": seeds[k]})[0], obs[k])
    restarts = 0
    for _ in range(150):
        actions = rng.integers(0, 3, n)
        obs, reward, terminated, truncated, info = envs.step(actions)
        for k, env in enumerate(singles):
            if info["_game_seed"][k]:  # the vector env restarted game k: so does its twin
                s_obs, _ = env.reset(options={"game_seed": info["game_seed"][k]})
                step = (s_obs, 0.0, False, False)
                restarts += 1
            else:
                step = env.step(int(actions[k]))[:4]
            np.testing.assert_array_equal(obs[k], step[0])
            assert (reward[k], terminated[k], truncated[k]) == step[1:]
    assert restarts >= n  # the comparison went through several autoresets


def test_vector_seeding():
    a = SnakeVectorEnv(4, 6, 6)
    b = SnakeVectorEnv(4, 6, 6)
    seeds = [0, 1, 2**63, 2**64 - 1]  # np.asarray would turn this list into floats
    np.testing.assert_array_equal(a.reset(seed=seeds)[1]["game_seed"], seeds)
    # The same seeds as an option, beside an int seed for the autoresets.
    obs_b, info_b = b.reset(seed=5, options={"game_seeds": np.array(seeds, dtype=np.uint64)})
    np.testing.assert_array_equal(a.reset(seed=seeds)[0], obs_b)
    # An int seed replays the whole run, autoresets included.
    runs = []
    for _ in range(2):
        a.reset(seed=9)
        runs.append([a.step(np.zeros(4, dtype=int))[0] for _ in range(20)])
    np.testing.assert_array_equal(runs[0], runs[1])
    with pytest.raises(ValueError):
        a.reset(seed=[1, 2, 3])  # not one per game
    with pytest.raises(ValueError):
        a.reset(seed=[1, 2, 3, -4])
    with pytest.raises(ValueError):
        a.reset(seed=seeds, options={"game_seeds": seeds})
    with pytest.raises(ValueError):
        a.reset(options={"game_seed": seeds})  # the single env's option name


def test_vector_env_refuses_bad_actions():
    envs = SnakeVectorEnv(3, 6, 6)
    with pytest.raises(RuntimeError, match="reset"):
        envs.step(np.ones(3, dtype=int))
    envs.reset(seed=0)
    for bad in (np.ones(2, dtype=int), np.array([0, 1, 3]), np.array([0, -1, 1]), np.ones(3)):
        with pytest.raises(ValueError):
            envs.step(bad)


# -------------------------------------------------------------------------- rendering


def test_rgb_array_frames():
    env = gym.make(ENV_ID, width=6, height=6, render_mode="rgb_array")
    env.reset(options={"game_seed": 4})
    first = env.render()
    assert first.ndim == 3 and first.shape[2] == 3 and first.dtype == np.uint8
    env.step(1)
    second = env.render()
    assert second.shape == first.shape and (second != first).any()

    envs = gym.make_vec(ENV_ID, num_envs=3, width=6, height=6, render_mode="rgb_array")
    envs.reset(seed=[4, 5, 6])
    envs.step(np.array([1, 1, 1]))
    frames = envs.render()
    assert isinstance(frames, tuple) and len(frames) == 3
    np.testing.assert_array_equal(frames[0], second)  # the same game draws the same frame
    assert (frames[1] != frames[0]).any()
    env.close()
    envs.close()


def test_human_mode_draws_in_a_window():
    env = fast(gym.make(ENV_ID, width=6, height=6, render_mode="human"))
    env.reset(seed=0)
    for _ in range(3):
        env.step(1)
    assert env.render() is None
    pygame = sys.modules["pygame"]  # imported by the first frame
    window = pygame.display.get_surface()
    frames = FrameRenderer(Snake(1, 6, 6))  # the window's board has its cells at CELL_PIXELS
    assert board_layout(6, 6, frames.areas(window.get_size())[1])[0] == CELL_PIXELS
    assert window.get_size()[1] - 6 * CELL_PIXELS <= 2 * HUD_HEIGHT  # the HUD above it
    env.close()
    env.close()  # closing twice is fine
    assert not pygame.display.get_init()  # the window is gone

    envs = fast(gym.make_vec(ENV_ID, num_envs=2, width=6, height=6, render_mode="human"))
    envs.reset(seed=0)
    envs.step(np.array([1, 1]))
    assert envs.render() is None
    envs.close()


def test_render_without_a_mode_warns():
    env = SnakeEnv()
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render mode"):
        assert env.render() is None


@pytest.mark.slow
def test_playing_without_rendering_never_imports_pygame():
    code = (
        "import sys, gymnasium as gym, numpy as np, evonet; "
        "e = gym.make('evonet/Snake-v0'); e.reset(seed=0); e.step(1); "
        "v = gym.make_vec('evonet/Snake-v0', num_envs=2); v.reset(seed=0); "
        "v.step(np.ones(2, dtype=int)); print('pygame' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["False"], out.stderr


# ---------------------------------------------------------------- the shipped champion


@pytest.fixture(scope="module")
def champion():
    """The champion's ``(theta, topology)``, the 10 games of seed 2026, and the apples and
    steps of each game as the engine's rollout (what `evonet evaluate` runs) plays them."""
    theta, topo, _ = load_network(CHAMPION)
    seeds = episode_seeds(2026, 10)
    res = rollout(theta[None], topo, SnakeSpec(), seeds)
    return theta, topo, seeds, res.episode_score[0], res.episode_steps[0]


def test_champion_scores_through_gymnasium_what_evaluate_reports(champion):
    theta, topo, seeds, engine_apples, _ = champion
    out = evonet_here("evaluate", str(CHAMPION), "--episodes", "10", "--seed", "2026", "--json")
    assert out.returncode == 0, out.stderr
    report = last_json(out.stdout)

    envs = gym.make_vec(ENV_ID, num_envs=10)
    obs, _ = envs.reset(seed=seeds)
    apples = np.zeros(10, dtype=np.int64)
    done = np.zeros(10, dtype=bool)
    while not done.all():
        actions = forward(theta, obs, topo).argmax(axis=-1)
        obs, reward, terminated, truncated, _ = envs.step(actions)
        apples += (reward == 1) & ~done  # only each env's first episode counts
        done |= terminated | truncated
    assert apples.mean() == report["mean_apples"]
    assert apples.max() == report["max_apples"]
    np.testing.assert_array_equal(apples, engine_apples)  # game by game, too


def test_champion_scores_the_same_through_the_single_env(champion):
    theta, topo, seeds, engine_apples, engine_steps = champion
    env = gym.make(ENV_ID)
    for k in np.argsort(engine_steps)[:3]:  # the three shortest games keep this quick
        obs, _ = env.reset(options={"game_seed": seeds[k]})
        apples, done = 0, False
        while not done:
            obs, reward, terminated, truncated, info = env.step(
                int(forward(theta, obs, topo).argmax())
            )
            apples += reward == 1
            done = terminated or truncated
        assert apples == info["apples"] == engine_apples[k]
        assert info["steps"] == engine_steps[k]
