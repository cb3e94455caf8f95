import numpy as np
import pytest

from evonet.nn import mlp
from evonet.nn.mlp import Topology


def test_flat_layout_is_documented_order():
    topo = Topology((2, 3, 1))
    theta = np.arange(topo.n_params, dtype=np.float64)
    (w0, b0), (w1, b1) = mlp.unflatten(theta, topo)
    assert topo.n_params == 2 * 3 + 3 + 3 * 1 + 1
    np.testing.assert_array_equal(w0, np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(b0, [6, 7, 8])
    np.testing.assert_array_equal(w1[:, 0], [9, 10, 11])
    np.testing.assert_array_equal(b1, [12])


def test_unflatten_returns_views_for_single_and_population(rng):
    topo = Topology((4, 5, 3))
    for theta in (mlp.init(topo, rng), mlp.init(topo, rng, n=7)):
        for w, b in mlp.unflatten(theta, topo):
            assert np.shares_memory(w, theta) and np.shares_memory(b, theta)
            w[...] = 0.5
        assert np.count_nonzero(theta == 0.5) == 7 * 4 * 5 + 7 * 5 * 3 or theta.ndim == 1


def test_unflatten_rejects_wrong_length():
    with pytest.raises(ValueError, match="needs"):
        mlp.unflatten(np.zeros(5), Topology((2, 3, 1)))


@pytest.mark.parametrize("hidden", mlp.HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("output", mlp.OUTPUT_ACTIVATIONS)
def test_population_forward_equals_loop_of_single_forwards(rng, hidden, output):
    topo = Topology((6, 8, 5, 3), hidden, output)
    pop = mlp.init(topo, rng, n=11)
    x = rng.normal(size=(11, 6))
    batched = mlp.forward(pop, x, topo)
    looped = np.stack([mlp.forward(pop[i], x[i][None], topo)[0] for i in range(11)])
    assert batched.shape == (11, 3)
    np.testing.assert_allclose(batched, looped, rtol=1e-12, atol=1e-12)


def test_one_network_on_a_batch_equals_loop(rng):
    topo = Topology((3, 7, 2), "relu", "tanh")
    theta = mlp.init(topo, rng)
    x = rng.normal(size=(13, 3))
    batched = mlp.forward(theta, x, topo)
    looped = np.stack([mlp.forward(theta, x[i], topo) for i in range(13)])
    np.testing.assert_allclose(batched, looped, rtol=1e-12, atol=1e-12)


def test_population_with_several_inputs_per_genome(rng):
    topo = Topology((4, 6, 3), "tanh", "softmax")
    pop = mlp.init(topo, rng, n=5)
    x = rng.normal(size=(5, 9, 4))
    out = mlp.forward(pop, x, topo)
    assert out.shape == (5, 9, 3)
    for p in range(5):
        np.testing.assert_allclose(out[p], mlp.forward(pop[p], x[p], topo), rtol=1e-12)
    np.testing.assert_allclose(out.sum(-1), 1.0)


def test_forward_rejects_mismatched_batch(rng):
    topo = Topology((4, 3))
    with pytest.raises(ValueError, match="genome batch shape"):
        mlp.forward(mlp.init(topo, rng, n=5), np.zeros((6, 4)), topo)
    with pytest.raises(ValueError, match="features"):
        mlp.forward(mlp.init(topo, rng), np.zeros((6, 5)), topo)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(rng, dtype):
    topo = Topology((3, 4, 2), "sigmoid", "sigmoid")
    pop = mlp.init(topo, rng, n=3, dtype=dtype)
    assert pop.dtype == dtype
    out = mlp.forward(pop, rng.normal(size=(3, 3)).astype(dtype), topo)
    assert out.dtype == dtype


def test_init_is_seeded_and_scaled():
    topo = Topology((50, 100, 10), "relu", "linear")
    a = mlp.init(topo, np.random.default_rng(3), n=20)
    b = mlp.init(topo, np.random.default_rng(3), n=20)
    np.testing.assert_array_equal(a, b)
    (w0, b0), (w1, _) = mlp.unflatten(a, topo)
    assert np.all(b0 == 0)
    assert w0.std() == pytest.approx(np.sqrt(2 / 50), rel=0.05)  # He for relu
    assert w1.std() == pytest.approx(np.sqrt(6 / 110) / np.sqrt(3), rel=0.05)  # Glorot uniform


def test_topology_rejects_bad_settings():
    with pytest.raises(ValueError, match="hidden activation"):
        Topology((2, 2), "swish")
    with pytest.raises(ValueError, match="output activation"):
        Topology((2, 2), "tanh", "relu6")
    with pytest.raises(ValueError, match="at least 1 neuron"):
        Topology((2, 0, 1))
    assert Topology.from_dict(Topology((2, 3, 1)).to_dict()) == Topology((2, 3, 1))
