"""Recurrent networks in evolution: a run with memory keeps evonet's promises (resume bit
for bit, serial numbers on workers and Ray, a checked file), and what is watched is what
was scored."""

import dataclasses

import numpy as np
import pytest

from evonet.evolution.config import EvolveConfig
from evonet.evolution.evaluators.processes import ProcessEvaluator
from evonet.evolution.evaluators.ray_tasks import RayEvaluator
from evonet.evolution.files import load_network, load_run, save_run
from evonet.evolution.rollout import plays_compiled, rollout
from evonet.evolution.run import Run, evolve
from evonet.games import base
from evonet.games.base import episode_seeds
from evonet.nn import mlp
from evonet.storage.checkpoint import CheckpointError
from evonet.views import replay_gym, replay_snake
from evonet.views.panel import Agent
from tests.evonet.evolution.test_strategies import without_timing
from tests.helpers import evonet_here, history_rows

TINY = EvolveConfig(
    generations=4,
    population=12,
    elite=2,
    parents=4,
    episodes=2,
    board=(6, 6),
    hidden=(5,),
    champion_episodes=4,
)


def config(network="gru", **changes):
    return dataclasses.replace(TINY, network=network, **changes)


def same_runs(a, b):
    assert without_timing(a.history) == without_timing(b.history)
    np.testing.assert_array_equal(a.champion.genome, b.champion.genome)
    np.testing.assert_array_equal(a.ga.population, b.ga.population)


@pytest.mark.parametrize("network", ["rnn", "gru"])
def test_a_resumed_recurrent_run_is_the_run_that_went_straight_through(tmp_path, network):
    straight = Run.start(config(network))
    evolve(straight)
    half = Run.start(config(network, generations=2))
    evolve(half)
    save_run(tmp_path / "half.npz", half)
    resumed = load_run(tmp_path / "half.npz")
    assert resumed.topology.network == network
    resumed.config = config(network)
    evolve(resumed)
    same_runs(straight, resumed)


def test_two_worker_processes_and_ray_give_serial_numbers():
    cfg = config(generations=2)
    serial = Run.start(cfg)
    evolve(serial)
    with ProcessEvaluator(2) as two:
        parallel = Run.start(cfg)
        evolve(parallel, evaluator=two)
    same_runs(serial, parallel)


@pytest.mark.slow
def test_ray_gives_serial_numbers_for_a_recurrent_run():
    cfg = config(generations=2)
    serial, remote = Run.start(cfg), Run.start(cfg)
    evolve(serial)
    with RayEvaluator(2) as ray:
        evolve(remote, evaluator=ray)
    same_runs(serial, remote)


def test_a_recurrent_rollout_is_the_same_for_any_split_of_the_genomes(rng):
    game = base.make("snake", board=(6, 6))
    topo = mlp.Topology((game.n_obs, 6, 3), network="gru")
    pop = mlp.init(topo, rng, n=9, dtype=np.float32)
    seeds = episode_seeds(3, 4)
    assert not plays_compiled(game, topo)  # memory is stepped in numpy
    whole = rollout(pop, topo, game, seeds)
    parts = [rollout(pop[a:b], topo, game, seeds) for a, b in ((0, 4), (4, 5), (5, 9))]
    steps = np.concatenate([p.episode_steps for p in parts])
    fitness = np.concatenate([p.episode_fitness for p in parts])
    np.testing.assert_array_equal(steps, whole.episode_steps)
    np.testing.assert_array_equal(fitness, whole.episode_fitness)


def watched(replay, episodes):
    """(score, steps) of each episode played through the agent, one move at a time."""
    played = []
    for index in range(episodes):
        replay.start(index)
        while not replay.over:
            replay.step()
        played.append((replay.game.score, replay.game.steps))
    return played


def test_watching_a_recurrent_snake_plays_the_games_evolution_scored():
    run = Run.start(config(generations=3, board=(8, 8)))
    evolve(run)
    theta, topo, game = run.champion.genome, run.topology, run.game
    seeds = episode_seeds(5, 4)
    scored = rollout(theta[None], topo, game, seeds)
    agent = Agent(theta, topo)
    played = watched(replay_snake.snake_replay(agent, game, 4, 5), 4)
    assert played == list(zip(scored.episode_score[0], scored.episode_steps[0], strict=True))
    assert not agent.compiled and len(agent.memory) > 0
    assert agent.activations[1].shape == (5,)  # the hidden state, shown by the panel


def test_watching_a_recurrent_cartpole_plays_the_episodes_evolution_scored(rng):
    game = EvolveConfig.for_game("gym:CartPole-v1", observe=(0, 2)).game_spec()
    topo = mlp.Topology((2, 6, 2), network="gru")
    theta = (0.5 * rng.normal(size=topo.n_params)).astype(np.float32)
    seeds = episode_seeds(8, 3)
    scored = rollout(theta[None], topo, game, seeds)
    replay = replay_gym.gym_replay(Agent(theta, topo), game, 3, 8, pictures=False)
    played = watched(replay, 3)
    assert [s for _, s in played] == list(scored.episode_steps[0])


def test_a_recurrent_run_from_the_command_line_saves_its_kind_and_resumes(tmp_path):
    tiny = "--population 8 --parents 4 --elite 2 --episodes 2 --hidden 4 --quiet --no-plot"
    common = ("evolve", "gym:CartPole-v1", *tiny.split(), "--observe", "0,2", "--network", "gru")
    r = evonet_here(*common, "--generations", "3", "--out", "whole", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = evonet_here(*common, "--generations", "2", "--out", "part", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = evonet_here("evolve", "gym:CartPole-v1", "--resume", "part/latest.npz",
                    "--generations", "3", "--quiet", cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert history_rows(tmp_path / "whole/history.csv") == history_rows(
        tmp_path / "part/history.csv"
    )
    theta, topo, meta = load_network(tmp_path / "whole" / "best.npz")
    assert topo.network == "gru" and meta["info"]["config"]["network"] == "gru"
    r = evonet_here("evaluate", "whole/best.npz", "--episodes", "3", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = evonet_here("evolve", "gym:CartPole-v1", "--resume", "part/latest.npz",
                    "--network", "mlp", cwd=tmp_path)  # fmt: skip
    assert r.returncode == 2 and "network" in r.stderr and len(r.stderr.splitlines()) == 1


def test_an_unknown_network_kind_is_refused_with_one_line(tmp_path):
    r = evonet_here("evolve", "snake", "--network", "lstm", cwd=tmp_path)
    assert r.returncode == 2 and "invalid choice: 'lstm'" in r.stderr
    r = evonet_here("evolve", "snake", "--network", "gru", "--hidden", "", cwd=tmp_path)
    assert r.returncode == 2 and "needs a hidden layer" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "checkpoints").exists()


def test_a_network_file_without_a_kind_is_an_mlp(tmp_path):
    from evonet.storage.checkpoint import save_network

    topo = mlp.Topology((4, 3, 2))
    path = save_network(tmp_path / "n.npz", np.zeros(topo.n_params, np.float32), topo, {})
    _, loaded, _ = load_network(path)
    assert loaded == topo and loaded.network == "mlp"
    with pytest.raises(CheckpointError):  # the same genes read as a GRU's: wrong length
        from tests.crafted import meta_of, variant

        meta = meta_of(path)
        bad = tmp_path / "bad.npz"
        variant(path, bad, meta={"topology": {**meta["topology"], "network": "gru"}})
        load_network(bad)
