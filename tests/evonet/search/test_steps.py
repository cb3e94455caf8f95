"""The shared pieces of the evolution strategies: optimiser steps and fitness shaping."""

import numpy as np

from evonet.search.steps import adam_step, centred_ranks, clipup_step, nes_utilities


def test_adam_step_follows_kingma_and_ba(rng):
    theta, grad = rng.normal(size=5), rng.normal(size=5)
    m, v = rng.normal(size=5), rng.random(5)
    expect_m = 0.9 * m + 0.1 * grad
    expect_v = 0.999 * v + 0.001 * grad**2
    m_hat, v_hat = expect_m / (1 - 0.9**3), expect_v / (1 - 0.999**3)
    expect = theta - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8)
    adam_step(theta, grad, m, v, 3, 0.01)
    np.testing.assert_allclose(theta, expect, rtol=1e-12)
    np.testing.assert_allclose(m, expect_m, rtol=1e-12)
    np.testing.assert_allclose(v, expect_v, rtol=1e-12)


def test_clipup_pushes_by_the_step_size_and_never_exceeds_the_speed_limit(rng):
    grad = rng.normal(size=8) * 1000
    first = clipup_step(grad, np.zeros(8), 0.05, 0.1, 0.9)
    np.testing.assert_allclose(np.linalg.norm(first), 0.05)  # normalised, whatever |grad|
    np.testing.assert_allclose(first / np.linalg.norm(first), grad / np.linalg.norm(grad))
    v = first
    for _ in range(20):  # pushing the same way builds speed up to the limit
        v = clipup_step(grad, v, 0.05, 0.1, 0.9)
    np.testing.assert_allclose(np.linalg.norm(v), 0.1)
    slow = clipup_step(-grad, v, 0.05, 0.1, 0.9)  # momentum 0.9 * v, then a push back
    np.testing.assert_allclose(slow, 0.9 * v - 0.05 * grad / np.linalg.norm(grad))


def test_centred_ranks_span_minus_to_plus_a_half_and_put_nan_last():
    u = centred_ranks(np.array([3.0, np.nan, 10.0, -1.0, 3.0]))
    np.testing.assert_allclose(u, [-0.0, -0.5, 0.5, -0.25, 0.25])
    assert centred_ranks(np.array([5.0, 1e9])).tolist() == [-0.5, 0.5]


def test_nes_utilities_sum_to_zero_and_reward_only_the_better_half():
    f = np.array([0.0, 5.0, 2.0, 9.0, 1.0, 7.0])
    u = nes_utilities(f)
    np.testing.assert_allclose(u.sum(), 0.0, atol=1e-12)
    order = np.argsort(-f)
    assert (np.diff(u[order]) <= 0).all()  # better ranks, no smaller utility
    raw = np.maximum(0, np.log(4) - np.log(np.arange(1, 7)))
    np.testing.assert_allclose(u[order], raw / raw.sum() - 1 / 6)
