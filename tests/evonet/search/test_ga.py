import numpy as np
import pytest

from evonet.search import ga
from evonet.search.ga import GA, GAConfig


def test_uniform_crossover_takes_each_gene_from_a_parent(rng):
    a = rng.normal(size=(200, 300))
    b = rng.normal(size=(200, 300))
    child = ga.uniform_crossover(a, b, rng)
    from_a, from_b = child == a, child == b
    assert np.all(from_a | from_b)
    share = from_a.mean()
    assert 0.49 < share < 0.51  # 60,000 fair coins: sd 0.002
    # Each child mixes genes of both parents, weights and biases alike.
    assert np.all(from_a.any(axis=1)) and np.all(from_b.any(axis=1))


def test_mutation_rate_and_sigma_hold_statistically(rng):
    x = np.zeros((400, 500))
    out = ga.gaussian_mutation(x, rate=0.1, sigma=0.3, rng=rng)
    changed = out != 0
    assert changed.mean() == pytest.approx(0.1, abs=0.005)
    assert out[changed].std() == pytest.approx(0.3, rel=0.02)
    assert abs(out[changed].mean()) < 0.01
    assert np.all(x == 0)  # the input is not modified


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_mutation_rate_edges(rng, rate):
    out = ga.gaussian_mutation(np.zeros((10, 10)), rate, 1.0, rng)
    assert (out != 0).mean() == rate


def test_elites_survive_bit_exactly(rng):
    pop = rng.normal(size=(30, 40)).astype(np.float32)
    fit = rng.normal(size=30)
    cfg = GAConfig(population=30, elite=4, parents=10, mutation_rate=1.0, mutation_sigma=1.0)
    new = ga.next_generation(pop, fit, cfg, 1.0, rng)
    top = np.argsort(-fit)[:4]
    np.testing.assert_array_equal(new[:4], pop[top])
    assert new.dtype == pop.dtype and new.shape == pop.shape
    # Every child differs from every elite: mutation at rate 1 touched all genes.
    assert not any(np.array_equal(c, e) for c in new[4:] for e in pop[top])


def test_nan_and_inf_fitness_rank_last():
    fit = np.array([1.0, np.nan, 3.0, np.inf, -2.0, -np.inf, 0.5])
    order = ga.rank(fit)
    assert list(order[:4]) == [2, 0, 6, 4]
    assert set(order[4:]) == {1, 3, 5}


def test_truncation_draws_parents_only_from_the_top(rng):
    fit = np.arange(100, dtype=float)
    a, b = ga.truncation_parents(ga.rank(fit), 5000, 10, rng)
    assert set(a) | set(b) == set(range(90, 100))


def test_tournament_prefers_the_fit(rng):
    fit = np.arange(100, dtype=float)
    fit[99] = np.nan  # never wins against a finite contestant
    a, b = ga.tournament_parents(fit, 20000, 3, rng)
    assert np.mean(np.concatenate([a, b])) > 60  # uniform would be ~49.5
    assert np.mean(np.concatenate([a, b]) == 99) < 0.001


def test_ask_tell_improves_a_simple_objective(rng):
    target = rng.normal(size=20)
    cfg = GAConfig(population=60, elite=3, parents=15, mutation_rate=0.2, mutation_sigma=0.3)
    g = GA(cfg, rng.normal(size=(60, 20)), rng)
    first = None
    for _ in range(60):
        fit = -np.sum((g.ask() - target) ** 2, axis=1)
        first = fit.max() if first is None else first
        g.tell(fit)
    assert g.best_fitness > first / 4  # distances shrink a lot
    assert g.generation == 60


def test_state_round_trip_continues_identically(rng):
    cfg = GAConfig(population=20, elite=2, parents=5)
    a = GA(cfg, rng.normal(size=(20, 8)), rng)
    a.tell(rng.normal(size=20))
    arrays, values = a.state()
    import json

    values = json.loads(json.dumps(values))  # must survive JSON
    b = GA.from_state({k: v.copy() for k, v in arrays.items()}, values)
    fit = np.linspace(0, 1, 20)
    a.tell(fit)
    b.tell(fit)
    np.testing.assert_array_equal(a.population, b.population)
    np.testing.assert_array_equal(a.best_genome, b.best_genome)
    assert a.generation == b.generation == 2


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        ({"elite": 20}, "elite"),
        ({"parents": 1}, "parents"),
        ({"parents": 21}, "parents"),
        ({"mutation_rate": 1.5}, "mutation rate"),
        ({"mutation_rate": -0.1}, "mutation rate"),
        ({"mutation_sigma": -1.0}, "sigma"),
        ({"mutation_sigma": float("inf")}, "sigma must be a finite number"),
        ({"mutation_sigma": float("nan")}, "sigma must be a finite number"),
        ({"mutation_sigma": 1e300}, "overflow float32"),
        ({"sigma_min": float("inf")}, "sigma min"),
        ({"sigma_decay": float("nan")}, "sigma decay"),
        ({"mutation_rate": float("nan")}, "mutation rate"),
        ({"selection": "roulette"}, "selection"),
        ({"selection": "tournament", "tournament_size": 10**9}, "cannot exceed the population"),
    ],
)
def test_impossible_settings_are_rejected(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        GAConfig(**{"population": 20, "parents": 10, "elite": 2, **kwargs}).validate()


def test_sigma_schedule_decays_to_a_floor():
    cfg = GAConfig(mutation_sigma=0.4, sigma_decay=0.5, sigma_min=0.05)
    assert [cfg.sigma(g) for g in range(5)] == [0.4, 0.2, 0.1, 0.05, 0.05]


def test_the_largest_sigma_keeps_float32_genes_finite_for_a_long_run(rng):
    cfg = GAConfig(
        population=20, parents=10, elite=2, mutation_rate=1.0, mutation_sigma=ga.MAX_SIGMA
    )
    g = GA(cfg, np.zeros((20, 50), dtype=np.float32), rng)
    for _ in range(200):
        g.tell(rng.normal(size=20))
    assert np.isfinite(g.population).all() and np.abs(g.population).max() > 1000


def test_tell_refuses_non_finite_genes_and_changes_nothing(rng):
    cfg = GAConfig(population=10, parents=4, elite=2)
    pop = rng.normal(size=(10, 6)).astype(np.float32)
    pop[3, 2] = np.inf  # the fittest genome carries an infinite gene into the elite
    g = GA(cfg, pop, rng)
    before = g.rng.bit_generator.state
    fitness = np.arange(10.0)
    fitness[3] = 100.0
    with pytest.raises(ga.NonFiniteGenes, match="generation 0"):
        g.tell(fitness)
    assert g.generation == 0 and g.best_fitness == -np.inf
    assert g.population is pop and g.rng.bit_generator.state == before
