"""Observation normalisation: statistics that add up as one pass over every observation
would, folded into the first layer exactly, the same for any split, resumed bit for bit,
and applied by every network a run saves."""

import dataclasses

import numpy as np
import pytest

from evonet.evolution.config import EvolveConfig
from evonet.evolution.evaluators.processes import ProcessEvaluator
from evonet.evolution.evaluators.sharded import plan
from evonet.evolution.files import load_network, load_run, save_run
from evonet.evolution.obs_norm import MIN_STD, ObsNorm, ObsStats
from evonet.evolution.rollout import rollout
from evonet.evolution.run import Run, champion_seeds, evolve
from evonet.nn import mlp
from evonet.nn.mlp import Topology
from evonet.storage.checkpoint import CheckpointError
from evonet.storage.history import TIMING_FIELDS
from tests.helpers import evonet_here

TINY = EvolveConfig(
    generations=4, population=12, episodes=2, board=(6, 6), hidden=(4,), champion_episodes=4,
    elite=2, parents=4, obs_norm=True,
)  # fmt: skip


def test_folding_is_normalising_the_inputs(rng):
    topo = Topology((5, 7, 3), "tanh", "linear")
    genomes = mlp.init(topo, rng, n=4, dtype=np.float64)
    norm = ObsNorm(100.0, rng.normal(size=5) * 3, rng.random(5) * 4 + 0.1)
    norm.var[2] = 0.0  # a feature that never varied: its std is the floor
    x = rng.normal(size=(4, 6, 5)) * 3
    expect = mlp.forward(genomes, (x - norm.mean) / norm.std(), topo)
    np.testing.assert_allclose(mlp.forward(norm.fold(genomes, topo), x, topo), expect, rtol=1e-9)
    assert norm.std()[2] == MIN_STD


def test_updates_add_up_to_the_mean_and_variance_of_everything_seen(rng):
    batches = [rng.normal(2.0, 3.0, size=(n, 4)) for n in (5, 40, 1)]
    norm = ObsNorm.empty(4)
    for b in batches:
        norm.update(ObsStats(np.array([[len(b)]]), b.sum(0)[None, None], (b**2).sum(0)[None, None]))
    every = np.concatenate(batches)
    assert norm.count == len(every)
    np.testing.assert_allclose(norm.mean, every.mean(0), rtol=1e-12)
    np.testing.assert_allclose(norm.var, every.var(0), rtol=1e-9)


def test_a_rollout_sums_exactly_the_live_games_observations(rng):
    run = Run.start(TINY)
    game, topo = run.game, run.topology
    genomes = run.strategy.ask()[:3]
    seeds = np.array([5, 6], dtype=np.uint64)
    result = rollout(genomes, topo, game, seeds, observe=True)
    stats = result.obs_stats
    np.testing.assert_array_equal(stats.count, result.episode_steps)  # one per step played
    for by_episode in (False, True):  # split by genomes, or a genome by episodes
        workers = 2 if not by_episode else 3
        split = plan(3 if not by_episode else 1, seeds, workers)
        g = genomes if not by_episode else genomes[:1]
        parts = [rollout(g[rows], topo, game, s, observe=True) for rows, s in split.shards]
        merged = split.merge(parts).obs_stats
        whole = rollout(g, topo, game, seeds, observe=True).obs_stats
        for name in ("count", "total", "squares"):
            np.testing.assert_array_equal(getattr(merged, name), getattr(whole, name))


def without_timing(history):
    return [{k: v for k, v in r.items() if k not in TIMING_FIELDS} for r in history]


@pytest.mark.parametrize("strategy", ["ga", "pgpe"])
def test_two_processes_and_a_resume_give_the_straight_run(tmp_path, strategy):
    cfg = dataclasses.replace(TINY, strategy=strategy)
    straight = Run.start(cfg)
    evolve(straight)
    half = Run.start(dataclasses.replace(cfg, generations=2))
    with ProcessEvaluator(2) as ev:
        evolve(half, evaluator=ev)
    save_run(tmp_path / "half.npz", half)
    resumed = load_run(tmp_path / "half.npz")
    resumed.config = cfg
    evolve(resumed)
    assert without_timing(straight.history) == without_timing(resumed.history)
    for a, b in ((straight.obs_norm, resumed.obs_norm),):
        assert a.count == b.count > 0
        np.testing.assert_array_equal(a.mean, b.mean)
        np.testing.assert_array_equal(a.var, b.var)
    np.testing.assert_array_equal(straight.champion.genome, resumed.champion.genome)


def test_the_saved_champion_plays_the_games_that_picked_it(tmp_path):
    run = Run.start(TINY)
    evolve(run)
    save_run(tmp_path / "latest.npz", run)
    # best.npz holds the champion as it plays: the statistics folded in.
    again = rollout(run.champion.genome[None], run.topology, run.game,
                    champion_seeds(TINY.seed, TINY.champion_episodes))  # fmt: skip
    assert again.fitness[0] == run.champion.record["fitness"]
    theta, _, _ = load_network(tmp_path / "latest.npz")  # a checkpoint's best genome
    np.testing.assert_array_equal(theta, run.playable(run.strategy.best_genome))
    assert not np.array_equal(theta, run.strategy.best_genome)


@pytest.mark.parametrize(
    "change,needle",
    [
        (lambda a: {**a, "obs_var": -a["obs_var"] - 1}, "obs_var must be >= 0"),
        (lambda a: {**a, "obs_count": np.array(2.5)}, "whole number"),
        (lambda a: {k: v for k, v in a.items() if k != "obs_mean"}, "missing obs_mean"),
        (lambda a: {**a, "obs_mean": a["obs_mean"][:-1]}, "has shape"),
    ],
)
def test_bad_statistics_are_one_line(tmp_path, change, needle):
    run = Run.start(dataclasses.replace(TINY, generations=1))
    evolve(run)
    save_run(tmp_path / "good.npz", run)
    with np.load(tmp_path / "good.npz", allow_pickle=False) as z:
        arrays = change({k: z[k] for k in z.files})
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(CheckpointError, match=needle) as e:
        load_run(tmp_path / "bad.npz")
    assert "\n" not in str(e.value)


def test_the_flag_and_the_settings_file(tmp_path):
    (tmp_path / "s.toml").write_text("obs_norm = true\n")
    flags = ["--board", "6x6", "--population", "8", "--elite", "2", "--parents", "4"]
    flags += ["--episodes", "1", "--hidden", "3"]
    flags += ["--generations", "1", "--champion-episodes", "0", "--quiet", "--no-plot"]
    r = evonet_here("evolve", "snake", *flags, "--config", "s.toml", "--out", "a", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert load_run(tmp_path / "a/latest.npz").obs_norm.count > 0
    r = evonet_here("evolve", "snake", *flags, "--config", "s.toml", "--no-obs-norm", "--out",
                    "b", cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0 and load_run(tmp_path / "b/latest.npz").obs_norm is None
    (tmp_path / "bad.toml").write_text('obs_norm = "yes"\n')
    r = evonet_here("evolve", "snake", "--config", "bad.toml", cwd=tmp_path)
    assert r.returncode == 2 and "obs_norm must be true or false" in r.stderr, r.stderr


def test_a_fitness_function_has_no_observations():
    cfg = EvolveConfig.for_game("custom", obs_norm=True)
    with pytest.raises(ValueError, match="no setting 'obs_norm'"):
        cfg.validate(io=(2, 1))
