"""Gymnasium's MuJoCo environments (the ``mujoco`` extra, part of ``test``) as games."""

import numpy as np

import evonet
from evonet.evolution.config import EvolveConfig
from evonet.evolution.files import load_agent
from evonet.games import base
from evonet.games.base import Box


def test_the_mujoco_extra_makes_halfcheetah_and_hopper():
    cheetah, hopper = base.make("gym:HalfCheetah-v5"), base.make("gym:Hopper-v5")
    assert (cheetah.n_obs, cheetah.action_space) == (17, Box((-1.0,) * 6, (1.0,) * 6))
    assert (hopper.n_obs, hopper.action_space) == (11, Box((-1.0,) * 3, (1.0,) * 3))
    assert not hopper.vectorized  # no native vector env: synchronous, one seed per game


def test_a_tiny_run_on_hopper_evolves_and_its_champion_plays(tmp_path):
    # A Hopper that falls ends its episode: an untrained network's last a few dozen steps,
    # so a run takes a second (HalfCheetah never falls: its episodes are 1,000 steps).
    cfg = EvolveConfig.for_game(
        "gym:Hopper-v5", population=4, elite=1, parents=2, episodes=1, hidden=(4,),
        generations=1, champion_episodes=2, seed=1,
    )  # fmt: skip
    run = evonet.run(cfg, out=tmp_path / "hop", progress=False, plot=False)
    assert run.generation == 1 and run.champion is not None
    record = run.history[0]
    assert np.isfinite(record["best_return"]) and record["best_return"] >= record["mean_return"]
    theta, topo, game = load_agent(tmp_path / "hop" / "best.npz")
    assert topo.sizes == (11, 4, 3) and game.name == "gym:Hopper-v5"
    np.testing.assert_array_equal(theta, run.champion.genome)
