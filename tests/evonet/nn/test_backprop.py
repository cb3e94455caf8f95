"""Backprop against central finite differences, in float64, for every activation and loss."""

import numpy as np
import pytest

from evonet.nn import mlp
from evonet.nn.mlp import Topology
from evonet.train import losses


def numeric_grad(f, theta, eps=1e-4):
    """Fourth-order central differences: truncation error ~eps**4 and round-off ~1e-16/eps,
    both far below the 1e-6 tolerance even for small gradient entries."""
    g = np.zeros_like(theta)
    for i in range(theta.size):
        old = theta[i]
        vals = []
        for step in (2, 1, -1, -2):
            theta[i] = old + step * eps
            vals.append(f(theta))
        theta[i] = old
        f2, f1, m1, m2 = vals
        g[i] = (-f2 + 8 * f1 - 8 * m1 + m2) / (12 * eps)
    return g


def max_relative_error(a, b):
    # The floor only matters for entries that are exactly zero (dead relu units), where the
    # finite difference returns round-off of ~1e-13; it still demands |a - b| <= 1e-12 there.
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-6)))


CASES = [(h, o, "mse") for h in mlp.HIDDEN_ACTIVATIONS for o in mlp.OUTPUT_ACTIVATIONS]
CASES += [(h, "sigmoid", "cross_entropy") for h in mlp.HIDDEN_ACTIVATIONS]
CASES += [(h, "softmax", "cross_entropy") for h in mlp.HIDDEN_ACTIVATIONS]


@pytest.mark.parametrize("hidden,output,loss", CASES)
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_gradient_matches_finite_differences(rng, hidden, output, loss, weight_decay):
    n_out = 1 if (loss == "cross_entropy" and output == "sigmoid") else 3
    topo = Topology((4, 6, 5, n_out), hidden, output)
    theta = mlp.init(topo, rng) + 0.1 * rng.normal(size=topo.n_params)
    x = rng.normal(size=(9, 4))
    if loss == "cross_entropy" and output == "softmax":
        y = np.eye(n_out)[rng.integers(0, n_out, 9)]
    elif loss == "cross_entropy":
        y = rng.integers(0, 2, (9, 1)).astype(float)
    else:
        y = rng.normal(size=(9, n_out))

    value, grad = losses.loss_and_grad(theta, topo, x, y, loss, weight_decay)
    numeric = numeric_grad(
        lambda t: losses.loss_and_grad(t, topo, x, y, loss, weight_decay)[0], theta.copy()
    )
    assert grad.shape == theta.shape
    assert np.abs(grad).max() > 1e-4  # a real gradient, not a trivially zero one
    assert max_relative_error(grad, numeric) <= 1e-6


def test_cross_entropy_rejects_an_unsuitable_output():
    with pytest.raises(ValueError, match="cross_entropy needs"):
        losses.check_loss("cross_entropy", Topology((2, 3), "tanh", "linear"))
