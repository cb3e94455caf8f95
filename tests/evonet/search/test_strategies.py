"""Each evolution strategy's update against its published equations, written out here
independently of the module, on a small problem; and what every strategy shares."""

import math

import numpy as np
import pytest

from evonet.search.cma_es import CMAES, CMAESConfig
from evonet.search.ga import NonFiniteGenes
from evonet.search.openai_es import OpenAIES, OpenAIESConfig
from evonet.search.pgpe import PGPE, PGPEConfig
from evonet.search.snes import SNES, SNESConfig
from evonet.search.strategies import EVOLUTION_STRATEGIES

D = 6


def sphere(x):
    return -np.sum(np.asarray(x, dtype=np.float64) ** 2, axis=1)


def rosenbrock(x):
    x = np.asarray(x, dtype=np.float64)
    return -np.sum(100 * (x[:, 1:] - x[:, :-1] ** 2) ** 2 + (1 - x[:, :-1]) ** 2, axis=1)


def first_generation(cls, cfg, f=sphere):
    """A strategy after one ask, with the directions it drew, and their fitness."""
    s = cls(cfg, np.linspace(-1, 1, D), np.random.default_rng(7))
    x = s.ask()
    z = s._asked[0].copy()
    before = {k: v.copy() for k, v in s.state_arrays.items()}
    fitness = f(x)
    s.tell(fitness)
    return s, before, z, fitness


def centred(f):
    ranks = np.argsort(np.argsort(f))
    return ranks / (len(f) - 1) - 0.5


def test_openai_es_mirrors_and_steps_adam_on_the_rank_weighted_noise():
    cfg = OpenAIESConfig(population=8, sigma=0.2, learning_rate=0.05, weight_decay=0.01)
    s, before, z, f = first_generation(OpenAIES, cfg)
    np.testing.assert_array_equal(z[:4], -z[4:])
    g = centred(f) @ z / (8 * 0.2)
    grad = -g + 0.01 * before["mean"]
    m, v = 0.1 * grad, 0.001 * grad**2
    step = 0.05 * (m / 0.1) / (np.sqrt(v / 0.001) + 1e-8)
    np.testing.assert_allclose(s.mean, before["mean"] - step, rtol=1e-10)
    assert float(s.state_arrays["sigma"]) == 0.2


def test_pgpe_follows_clipup_and_its_sigma_gradient_within_the_change_limit():
    cfg = PGPEConfig(population=10, sigma=0.3, learning_rate=0.1, max_speed=0.2)
    s, before, z, f = first_generation(PGPE, cfg)
    n, sigma = 5, before["sigma"]
    np.testing.assert_array_equal(z[:n], -z[n:])
    u = centred(f)
    eps = sigma * z[:n]
    grad_mu = ((u[:n] - u[n:]) / 2) @ eps / n
    grad_sigma = ((u[:n] + u[n:]) / 2 - u.mean()) @ ((eps**2 - sigma**2) / sigma) / n
    velocity = 0.1 * grad_mu / np.linalg.norm(grad_mu)  # no momentum yet; within 0.2
    np.testing.assert_allclose(s.mean, before["mean"] + velocity, rtol=1e-10)
    expect = np.clip(sigma + 0.1 * grad_sigma, 0.8 * sigma, 1.2 * sigma)
    np.testing.assert_allclose(s.state_arrays["sigma"], expect, rtol=1e-10)


def test_pgpe_never_changes_a_sigma_by_more_than_its_limit():
    cfg = PGPEConfig(population=10, sigma=0.3, sigma_learning_rate=1000.0)
    s, before, _, _ = first_generation(PGPE, cfg)
    ratio = s.state_arrays["sigma"] / before["sigma"]
    assert (ratio >= 0.8 - 1e-12).all() and (ratio <= 1.2 + 1e-12).all()
    assert np.isclose(ratio, 0.8).any() or np.isclose(ratio, 1.2).any()


def test_snes_moves_along_the_natural_gradient_with_nes_utilities():
    s, before, z, f = first_generation(SNES, SNESConfig(population=10, sigma=0.5))
    order = np.argsort(-f)
    u = np.empty(10)
    raw = np.maximum(0, math.log(6) - np.log(np.arange(1, 11)))
    u[order] = raw / raw.sum() - 0.1
    eta_sigma = (3 + math.log(D)) / (5 * math.sqrt(D))
    np.testing.assert_allclose(s.mean, before["mean"] + before["sigma"] * (u @ z), rtol=1e-10)
    expect = before["sigma"] * np.exp(eta_sigma / 2 * (u @ (z**2 - 1)))
    np.testing.assert_allclose(s.state_arrays["sigma"], expect, rtol=1e-10)


def cma_reference(m, sigma, c, z, f, separable):
    """One generation of Hansen's tutorial (2016, with active CMA's negative weights; none
    for the separable form, Ros and Hansen 2008), from generation 0 (B = I, d = 1)."""
    lam, n = len(f), len(m)
    mu = lam // 2
    wp = np.log((lam + 1) / 2) - np.log(np.arange(1, lam + 1))
    mueff = wp[:mu].sum() ** 2 / np.sum(wp[:mu] ** 2)
    mueff_neg = wp[mu:].sum() ** 2 / np.sum(wp[mu:] ** 2)
    cc, cs = (4 + mueff / n) / (n + 4 + 2 * mueff / n), (mueff + 2) / (n + mueff + 5)
    c1 = 2 / ((n + 1.3) ** 2 + mueff)
    cmu = min(1 - c1, 2 * (mueff - 2 + 1 / mueff) / ((n + 2) ** 2 + mueff))
    alpha = min(1 + c1 / cmu, 1 + 2 * mueff_neg / (mueff + 2), (1 - c1 - cmu) / (n * cmu))
    w = np.where(wp >= 0, wp / wp[:mu].sum(), alpha * wp / np.abs(wp[mu:]).sum())
    if separable:
        c1, cmu = min(1, c1 * (n + 2) / 3), min(1 - min(1, c1 * (n + 2) / 3), cmu * (n + 2) / 3)
        w[mu:] = 0
    damps = 1 + 2 * max(0, math.sqrt((mueff - 1) / (n + 1)) - 1) + cs
    chin = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n**2))
    y = z[np.argsort(-f, kind="stable")]  # C = I: y = z, best first
    yw = w[:mu] @ y[:mu]
    m2 = m + sigma * yw
    ps = math.sqrt(cs * (2 - cs) * mueff) * yw
    hs = np.linalg.norm(ps) / math.sqrt(1 - (1 - cs) ** 2) / chin < 1.4 + 2 / (n + 1)
    pc = hs * math.sqrt(cc * (2 - cc) * mueff) * yw
    wo = w * np.where(w >= 0, 1, n / np.sum(y**2, axis=1))
    c2 = (1 - c1 - cmu * w.sum()) * c + c1 * (np.outer(pc, pc) + (1 - hs) * cc * (2 - cc) * c)
    c2 += cmu * sum(wi * np.outer(yi, yi) for wi, yi in zip(wo, y, strict=True))
    sigma2 = sigma * math.exp(cs / damps * (np.linalg.norm(ps) / chin - 1))
    return m2, sigma2, ps, pc, c2


@pytest.mark.parametrize("separable", [False, True])
def test_cma_es_one_generation_is_the_tutorials(separable):
    cfg = CMAESConfig(population=12, sigma=0.4, full_up_to=0 if separable else 100)
    s, before, z, f = first_generation(CMAES, cfg, rosenbrock)
    m, sigma, ps, pc, c = cma_reference(before["mean"], 0.4, np.eye(D), z, f, separable)
    st = s.state_arrays
    np.testing.assert_allclose(s.mean, m, rtol=1e-10)
    np.testing.assert_allclose(float(st["sigma"]), sigma, rtol=1e-10)
    np.testing.assert_allclose(st["p_s"], ps, rtol=1e-10)
    np.testing.assert_allclose(st["p_c"], pc, rtol=1e-10)
    got = np.diag(st["c_diag"]) if separable else st["c"]
    np.testing.assert_allclose(got, np.diag(np.diag(c)) if separable else c, rtol=1e-10)


@pytest.mark.parametrize(
    "cls,cfg,f,evaluations",
    [
        (CMAES, CMAESConfig(population=12, sigma=0.5), rosenbrock, 6_000),
        (CMAES, CMAESConfig(population=12, sigma=0.5, full_up_to=0), sphere, 2_000),
        (SNES, SNESConfig(population=12, sigma=0.5), sphere, 3_000),
    ],
)
def test_adaptive_strategies_reach_the_optimum(cls, cfg, f, evaluations):
    """Step-size adaptation takes them to 1e-8; a fixed sigma (OpenAI-ES) or speed limit
    (PGPE) would not."""
    s = cls(cfg, np.zeros(D) if f is rosenbrock else np.full(D, 2.0), np.random.default_rng(1))
    while s.generation * cfg.population < evaluations and s.best_fitness < -1e-8:
        s.tell(f(s.ask()))
    assert s.best_fitness >= -1e-8, (s.generation, s.best_fitness)


@pytest.mark.parametrize("name", sorted(EVOLUTION_STRATEGIES))
def test_every_strategy_improves_a_sphere_a_hundredfold(name):
    cls = EVOLUTION_STRATEGIES[name]
    s = cls(cls.config_class(population=20, sigma=0.3), np.full(D, 2.0), np.random.default_rng(3))
    start = sphere(s.mean[None])[0]
    for _ in range(300):
        s.tell(sphere(s.ask()))
    assert sphere(s.mean[None])[0] > start / 100


@pytest.mark.parametrize("name", sorted(EVOLUTION_STRATEGIES))
def test_ask_repeats_until_tell_and_the_state_round_trips_exactly(name):
    cls = EVOLUTION_STRATEGIES[name]
    cfg = cls.config_class(population=8)
    s = cls(cfg, np.zeros(D), np.random.default_rng(5))
    for _ in range(3):
        s.tell(rosenbrock(s.ask()))
    x = s.ask()
    assert x.dtype == np.float32 and x.shape == (8, D) and s.ask() is x
    arrays, values = s.state()
    s._asked = None  # a checkpoint is written after tell, before the next ask
    copy = cls.from_state(cfg, arrays, values)
    for _ in range(3):
        a, b = s.ask(), copy.ask()
        np.testing.assert_array_equal(a, b)
        s.tell(rosenbrock(a))
        copy.tell(rosenbrock(b))
    for k, v in s.state_arrays.items():
        np.testing.assert_array_equal(v, copy.state_arrays[k])


@pytest.mark.parametrize("name", sorted(EVOLUTION_STRATEGIES))
def test_a_non_finite_update_is_refused_and_nothing_changes(name):
    cls = EVOLUTION_STRATEGIES[name]
    s = cls(cls.config_class(population=8), np.zeros(D), np.random.default_rng(5))
    x = s.ask().copy()
    before = {k: v.copy() for k, v in s.state_arrays.items()}
    s.state_arrays["mean"][0] = np.inf  # as a diverged distribution would be
    with pytest.raises(NonFiniteGenes, match=name):
        s.tell(sphere(x))
    s.state_arrays["mean"][0] = before["mean"][0]
    assert s.generation == 0 and np.array_equal(s.ask(), x)
    for k, v in before.items():
        np.testing.assert_array_equal(v, s.state_arrays[k])


def test_nan_fitness_ranks_last_and_is_never_the_best():
    s = SNES(SNESConfig(population=6), np.zeros(D), np.random.default_rng(0))
    f = sphere(s.ask())
    f[2] = np.nan
    s.tell(f)
    assert np.isnan(s.fitness[2]) and s.best_fitness == np.nanmax(f)


@pytest.mark.parametrize(
    "cfg,needle",
    [
        (OpenAIESConfig(population=7), "even"),
        (PGPEConfig(sigma=-1.0), "sigma"),
        (PGPEConfig(momentum=1.0), "momentum"),
        (CMAESConfig(population=3), "at least 4"),
        (SNESConfig(learning_rate=0.0), "learning rate"),
        (OpenAIESConfig(sigma=float("nan")), "finite"),
    ],
)
def test_impossible_settings_name_the_setting(cfg, needle):
    with pytest.raises(ValueError, match=needle):
        cfg.validate()
