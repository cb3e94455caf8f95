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
