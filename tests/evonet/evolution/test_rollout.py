import numpy as np
import pytest

from evonet.evolution.files import load_network
from evonet.evolution.rollout import rollout
from evonet.games.base import episode_seeds
from evonet.games.snake import N_OBS, Snake, SnakeSpec
from evonet.games.snake.rules import episode_fitness
from evonet.nn import mlp
from evonet.views.replay import shipped_champion

TOPO = mlp.Topology((N_OBS, 8, 3), "tanh", "linear")


@pytest.mark.parametrize("episodes", [1, 4, 5])
def test_population_rollout_equals_one_genome_at_a_time(rng, episodes):
    pop = mlp.init(TOPO, rng, n=12, dtype=np.float32)
    seeds = episode_seeds(3, episodes)
    game = SnakeSpec(board=(7, 6))
    together = rollout(pop, TOPO, game, seeds)
    for p in range(12):
        alone = rollout(pop[p : p + 1], TOPO, game, seeds)
        assert alone.fitness[0] == together.fitness[p]
        np.testing.assert_array_equal(alone.episode_score[0], together.episode_score[p])
        np.testing.assert_array_equal(alone.episode_steps[0], together.episode_steps[p])


def test_a_genomes_games_play_as_each_would_alone(rng):
    # A compiled rollout forwards a genome's live games together (4 at a time, then 3, 2
    # or 1 as they end): every game must be the one it is when played alone.
    theta, topo, _ = load_network(shipped_champion())
    pop = theta + rng.normal(0, 0.05, (5, theta.size)).astype(np.float32)
    game, seeds = SnakeSpec(board=(6, 6)), episode_seeds(5, 7)
    together = rollout(pop, topo, game, seeds)
    assert len(set(together.episode_steps.ravel())) > 10  # games of many lengths
    for e in range(7):
        alone = rollout(pop, topo, game, seeds[e : e + 1])
        np.testing.assert_array_equal(alone.episode_score[:, 0], together.episode_score[:, e])
        np.testing.assert_array_equal(alone.episode_steps[:, 0], together.episode_steps[:, e])


def test_rollout_is_pure(rng):
    pop = mlp.init(TOPO, rng, n=6, dtype=np.float32)
    seeds = episode_seeds(1, 3)
    a = rollout(pop, TOPO, SnakeSpec(), seeds)
    b = rollout(pop.copy(), TOPO, SnakeSpec(), seeds.copy())
    np.testing.assert_array_equal(a.fitness, b.fitness)
    assert a.agent_steps == b.agent_steps == int(a.episode_steps.sum())


def test_progress_counts_the_games_over_from_inside_the_batch(rng):
    pop = mlp.init(TOPO, rng, n=5, dtype=np.float32)
    seeds = episode_seeds(8, 7)
    seen = []
    res = rollout(pop, TOPO, SnakeSpec(board=(6, 5)), seeds, seen.append)
    assert seen == sorted(set(seen)) and seen[-1] == 5 * 7  # growing, to every game
    assert len(seen) > 2  # games end at different steps: more than one report
    np.testing.assert_array_equal(
        res.fitness, rollout(pop, TOPO, SnakeSpec(board=(6, 5)), seeds).fitness
    )


def test_rollout_matches_a_hand_written_loop(rng):
    """The batched rollout against the plainest possible loop over one game at a time."""
    pop = mlp.init(TOPO, rng, n=3, dtype=np.float32)
    seeds = episode_seeds(8, 2)
    res = rollout(pop, TOPO, SnakeSpec(board=(6, 6)), seeds)
    for p in range(3):
        for e in range(2):
            env = Snake(1, 6, 6)
            obs, _ = env.reset(seed=seeds[e : e + 1])
            while env.alive[0]:
                out = mlp.forward(pop[p], obs, TOPO)
                obs, *_ = env.step(np.argmax(out, axis=-1))
            assert res.episode_score[p, e] == env.apples[0]
            assert res.episode_steps[p, e] == env.steps[0]


def test_fitness_puts_apples_first_and_ignores_circling():
    # apples dominate: 1 apple and a quick death beats 0 apples and a long life
    f = episode_fitness(np.array([1, 0]), np.array([5, 90]), np.array([False, False]), 100, 100)
    assert f[0] > f[1]
    # survival breaks ties among equal apples
    f = episode_fitness(np.array([2, 2]), np.array([30, 60]), np.array([False, False]), 100, 100)
    assert f[1] > f[0]
    # circling until starved earns nothing beyond the last apple
    f = episode_fitness(np.array([0, 0]), np.array([100, 20]), np.array([True, False]), 100, 100)
    assert f[0] == 0.0 and f[1] > 0


def test_rollout_rejects_a_network_of_the_wrong_shape(rng):
    topo = mlp.Topology((5, 3))
    with pytest.raises(ValueError, match="inputs"):
        rollout(mlp.init(topo, rng, n=2), topo, SnakeSpec(), episode_seeds(0, 1))


def _straight_ahead(layout: int = 2) -> tuple[np.ndarray, mlp.Topology]:
    """A network that always prefers to go straight: zero weights, a bias on that move."""
    topo = mlp.Topology((35 if layout >= 2 else 32, 4, 3))
    theta = np.zeros(topo.n_params, np.float32)
    theta[-2] = 1.0  # the last layer's biases come last: turn left, straight, turn right
    return theta, topo


@pytest.mark.parametrize("observe", [False, True])  # the compiled loop, and numpy's steps
def test_the_shield_keeps_a_snake_off_every_move_into_death(observe):
    theta, topo = _straight_ahead()
    seeds = episode_seeds(3, 20)
    free = rollout(theta[None], topo, SnakeSpec(), seeds, observe=observe)
    assert free.episode_steps.max() <= 6  # straight into the wall from the centre
    shielded = rollout(theta[None], topo, SnakeSpec(shield=True), seeds, observe=observe)
    # It turns at each wall instead: round the board until it starves or wins an apple,
    # never dying with a way on (a short snake on an open board always has one).
    assert shielded.episode_steps.min() >= 100
    assert not shielded.episode_won.any()


def test_the_shield_plays_the_same_games_compiled_and_in_numpy(rng):
    # A shielded population: the compiled loop and numpy's steps choose the same moves.
    game, topo = SnakeSpec(board=(6, 6), shield=True), mlp.Topology((35, 8, 3))
    genomes = mlp.init(topo, rng, n=12, dtype=np.float32)
    seeds = episode_seeds(5, 4)
    compiled = rollout(genomes, topo, game, seeds)
    numpy_steps = rollout(genomes, topo, game, seeds, observe=True)
    np.testing.assert_array_equal(compiled.episode_steps, numpy_steps.episode_steps)
    np.testing.assert_array_equal(compiled.episode_score, numpy_steps.episode_score)
    free = rollout(genomes, topo, SnakeSpec(board=(6, 6)), seeds)
    assert compiled.steps.mean() > free.steps.mean()  # random networks often die at once
