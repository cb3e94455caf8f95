"""The compiled forward pass against numpy's, and the same numbers wherever it runs."""

import numpy as np
import pytest

from evonet.evolution.files import load_network
from evonet.games.snake import Snake
from evonet.nn import compiled, mlp
from evonet.nn.mlp import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, Topology
from evonet.views.replay import shipped_champion


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    """The largest difference, relative to the value (or to 1 for values below 1)."""
    return float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1.0)))


@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("output", OUTPUT_ACTIVATIONS)
def test_the_compiled_forward_agrees_with_numpy_on_random_networks(rng, hidden, output):
    topo = Topology((35, 16, 16, 3), hidden, output)
    thetas = mlp.init(topo, rng, 300).astype(np.float32)
    x = rng.random((300, 35)).astype(np.float32)
    x[x < 0.5] = 0  # mostly zeros, as Snake's observations
    got, want = compiled.forward(thetas, x, topo), mlp.forward(thetas, x, topo)
    assert got.shape == want.shape and relative_error(got, want) <= 1e-5


def test_the_compiled_forward_agrees_with_numpy_on_a_trained_network(rng):
    theta, topo, _ = load_network(shipped_champion())
    env = Snake(500, 10, 10)
    obs, _ = env.reset(seed=4)
    inputs = []
    for _ in range(40):  # observations of real games, as the champion sees them
        inputs.append(obs.copy())
        obs, *_ = env.step(rng.integers(0, 3, 500))
    x = np.concatenate(inputs)
    got = compiled.forward(theta.astype(np.float32), x, topo)
    want = mlp.forward(theta.astype(np.float32), x, topo)
    assert relative_error(got, want) <= 1e-5
    assert np.array_equal(got.argmax(axis=1), want.argmax(axis=1))


def test_an_input_gives_the_same_numbers_alone_or_in_any_batch(rng):
    topo = Topology((35, 16, 16, 3))
    thetas = mlp.init(topo, rng, 64).astype(np.float32)
    x = rng.random((64, 35)).astype(np.float32)
    together = compiled.forward(thetas, x, topo)
    for k in (0, 17, 63):
        alone = compiled.forward(thetas[k], x[k : k + 1], topo)
        np.testing.assert_array_equal(alone[0], together[k])
        layers = compiled.trace(thetas[k], x[k], topo)
        assert [a.shape for a in layers] == [(35,), (16,), (16,), (3,)]
        np.testing.assert_array_equal(layers[-1].astype(np.float32), together[k])


def test_tanh_is_within_float32_rounding_everywhere():
    z = np.linspace(-12, 12, 100_001)
    topo = Topology((1, 1), output="tanh")
    got = compiled.forward(np.array([1, 0], np.float32), z[:, None], topo)[:, 0]
    want = np.tanh(z.astype(np.float32).astype(np.float64))
    assert np.max(np.abs(got - want)) <= 4e-7 and np.all(np.abs(got) <= 1)


def test_the_forward_refuses_mismatched_shapes():
    topo = Topology((3, 2))
    with pytest.raises(ValueError, match="need networks"):
        compiled.forward(np.zeros(5, np.float32), np.zeros((2, 4), np.float32), topo)


def ordered_layer(w: np.ndarray, bias: np.ndarray, x: np.ndarray) -> np.ndarray:
    """A linear layer summed in float64 in the compiled pass's written order: from the
    bias, inputs four at a time as (x0 w0 + x1 w1) + (x2 w2 + x3 w3), then one at a time."""
    w, x, z = w.astype(np.float64), x.astype(np.float64), bias.astype(np.float64)
    a = x.size - x.size % 4
    for i in range(0, a, 4):
        z = z + ((x[i] * w[i] + x[i + 1] * w[i + 1]) + (x[i + 2] * w[i + 2] + x[i + 3] * w[i + 3]))
    for i in range(a, x.size):
        z = z + x[i] * w[i]
    return z


@pytest.mark.parametrize("width", [1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 33])
def test_every_layer_width_sums_exactly_in_the_written_order(rng, width):
    # relu and linear layers round nothing, so every layer's float64 sums show the order:
    # the SIMD blocks (16, 8 and the last 1-7 outputs) must match it bit for bit.
    topo = Topology((6, width, 5), "relu", "linear")
    theta = rng.normal(0, 1, topo.n_params).astype(np.float32)
    x = rng.normal(0, 1, (20, 6)).astype(np.float32)
    x[::3, :4] = 0  # a skipped group of four zeros
    (w1, b1), (w2, b2) = mlp.unflatten(theta, topo)
    for row in x:
        hidden = np.maximum(ordered_layer(w1, b1, row), 0)
        _, got_hidden, got_out = compiled.trace(theta, row, topo)
        assert np.array_equal(got_hidden, hidden)
        assert np.array_equal(got_out, ordered_layer(w2, b2, hidden))
