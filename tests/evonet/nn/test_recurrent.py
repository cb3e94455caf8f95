"""Recurrent cells in the flat genome: layout, batched steps, memory, and backpropagation
through time against finite differences."""

import numpy as np
import pytest

from evonet.nn import mlp, recurrent
from evonet.nn.mlp import Topology
from evonet.train import losses
from tests.evonet.nn.test_backprop import max_relative_error, numeric_grad


def test_the_layout_puts_input_then_recurrent_rows_then_the_bias():
    rnn = Topology((3, 4, 2), network="rnn")
    gru = Topology((3, 4, 2), network="gru")
    assert rnn.n_params == (3 + 4) * 4 + 4 + 4 * 2 + 2
    assert gru.n_params == (3 + 4) * 12 + 12 + 4 * 2 + 2
    assert gru.state_size == rnn.state_size == 4 and Topology((3, 4, 2)).state_size == 0
    theta = np.arange(gru.n_params, dtype=np.float64)
    (w, b), (w_out, b_out) = mlp.unflatten(theta, gru)
    assert w.shape == (7, 12) and w[0, 0] == 0 and w[3, 0] == 3 * 12  # row 3: recurrent
    assert b[0] == 7 * 12 and w_out[0, 0] == 7 * 12 + 12
    assert np.shares_memory(w, theta)


def test_a_topology_refuses_an_unknown_kind_and_a_recurrent_net_without_hidden_layer():
    with pytest.raises(ValueError, match="unknown network 'lstm'"):
        Topology((3, 4, 2), network="lstm")
    with pytest.raises(ValueError, match="needs a hidden layer"):
        Topology((3, 2), network="gru")


def test_files_without_a_network_kind_hold_an_mlp_and_the_kind_round_trips():
    old = {"sizes": [3, 4, 2], "hidden": "tanh", "output": "linear"}
    assert Topology.from_dict(old) == Topology((3, 4, 2))
    gru = Topology((3, 4, 2), network="gru")
    assert Topology.from_dict(gru.to_dict()) == gru
    with pytest.raises(ValueError, match="names"):
        Topology.from_dict({**old, "network": 3})


def test_the_feed_forward_pass_refuses_a_recurrent_network(rng):
    topo = Topology((3, 4, 2), network="rnn")
    with pytest.raises(ValueError, match="carries a state"):
        mlp.forward(mlp.init(topo, rng), np.zeros((1, 3)), topo)


@pytest.mark.parametrize("network", ["rnn", "gru"])
def test_a_batched_step_over_genomes_and_games_equals_each_network_alone(rng, network):
    topo = Topology((3, 5, 4, 2), network=network)
    thetas = mlp.init(topo, rng, n=4)
    x = rng.normal(size=(4, 3, 3))
    state = rng.normal(size=(4, 3, topo.state_size))
    out, new = recurrent.step(thetas, x, state, topo)
    for g in range(4):
        trace = recurrent.step_trace(thetas[g], x[g], state[g], topo)
        np.testing.assert_allclose(out[g], trace.out, rtol=1e-12)
        np.testing.assert_allclose(new[g], recurrent.new_state(trace), rtol=1e-12)


@pytest.mark.parametrize("network,hidden", [(n, h) for n in ("rnn", "gru")
                                            for h in mlp.HIDDEN_ACTIVATIONS])  # fmt: skip
def test_a_rollouts_step_computes_the_traced_cell_bit_for_bit(rng, network, hidden):
    """The rollout's step (no intermediates kept) and the cell backprop traces give the
    same numbers exactly, so watch and training see the networks evolution scored."""
    topo = Topology((7, 6, 5, 3), hidden=hidden, network=network)
    layers = mlp.unflatten(mlp.init(topo, rng, n=4, dtype=np.float32), topo)
    x = rng.normal(size=(4, 3, 7)).astype(np.float32)
    state = rng.normal(size=(4, 3, topo.state_size)).astype(np.float32)
    traced, a = state.copy(), x
    for layer, part in enumerate(recurrent.state_slices(topo)):
        w, b = layers[layer]
        a = recurrent.cell(topo, layer, a, traced[..., part], w, b, 1).out
        traced[..., part] = a
    expected = mlp.activate(topo.output, mlp.affine(a, *layers[-1], 1))
    np.testing.assert_array_equal(recurrent.step_layers(layers, x, state, topo, 1), expected)
    np.testing.assert_array_equal(state, traced)


def test_a_step_names_a_missing_state_and_keeps_the_outputs_dtype(rng):
    topo = Topology((2, 3, 1), network="gru")
    theta = mlp.init(topo, rng)  # float64
    with pytest.raises(TypeError, match=r"state must be an array \(3,\) \(from initial_state\)"):
        recurrent.step(theta, np.zeros(2), None, topo)
    out, state = recurrent.step(theta, np.ones(2), recurrent.initial_state(topo), topo)
    assert out.dtype == state.dtype == np.float64 and np.any(state != 0)


@pytest.mark.parametrize("network", ["rnn", "gru"])
def test_the_state_carries_what_an_earlier_input_was(rng, network):
    topo = Topology((1, 6, 1), network=network)
    theta = mlp.init(topo, rng)
    xs = np.array([[[1.0], [0.0], [0.0]], [[-1.0], [0.0], [0.0]]])  # differ at step 0 only
    out = recurrent.run(theta, xs, topo)
    assert out.shape == (2, 3, 1)
    assert abs(out[0, 2, 0] - out[1, 2, 0]) > 1e-6  # step 2 still sees step 0's bit
    # Each sequence starts from zero: a sequence's outputs do not depend on the others
    # (to rounding: a float64 matmul of one row takes another path than of two).
    np.testing.assert_allclose(recurrent.run(theta, xs[:1], topo), out[:1], rtol=1e-12)


def test_an_mlp_steps_as_its_forward_pass_with_an_empty_state(rng):
    topo = Topology((3, 4, 2))
    theta = mlp.init(topo, rng)
    x = rng.normal(size=(5, 3))
    out, state = recurrent.step(theta, x, recurrent.initial_state(topo, (5,)), topo)
    assert state.shape == (5, 0)
    np.testing.assert_array_equal(out, mlp.forward(theta, x, topo))


CASES = [(n, h) for n in ("rnn", "gru") for h in mlp.HIDDEN_ACTIVATIONS]


@pytest.mark.parametrize("network,hidden", CASES)
def test_backprop_through_time_matches_finite_differences(rng, network, hidden):
    topo = Topology((3, 5, 4, 2), hidden, "linear", network)
    theta = mlp.init(topo, rng) + 0.1 * rng.normal(size=topo.n_params)
    xs, y = rng.normal(size=(6, 5, 3)), rng.normal(size=(6, 5, 2))
    value, grad = losses.loss_and_grad(theta, topo, xs, y, "mse")
    # relu's kink: a smaller step keeps the differences off it; its round-off, about
    # 1e-11 on the gradients a dead unit makes exactly zero, needs a looser bound there.
    eps, tol = (1e-5, 1e-4) if hidden == "relu" else (1e-4, 1e-6)
    numeric = numeric_grad(
        lambda t: losses.loss_and_grad(t, topo, xs, y, "mse")[0], theta.copy(), eps
    )
    assert value == pytest.approx(np.mean((recurrent.run(theta, xs, topo) - y) ** 2))
    assert np.abs(grad).max() > 1e-4
    assert max_relative_error(grad, numeric) <= tol


def test_backprop_through_time_with_a_sigmoid_cross_entropy_output(rng):
    topo = Topology((1, 4, 1), "tanh", "sigmoid", "gru")
    theta = mlp.init(topo, rng) + 0.1 * rng.normal(size=topo.n_params)
    xs = rng.choice([-1.0, 1.0], size=(8, 6, 1))
    y = rng.integers(0, 2, (8, 6, 1)).astype(float)
    _, grad = losses.loss_and_grad(theta, topo, xs, y, "cross_entropy", 0.1)
    numeric = numeric_grad(
        lambda t: losses.loss_and_grad(t, topo, xs, y, "cross_entropy", 0.1)[0], theta.copy()
    )
    assert max_relative_error(grad, numeric) <= 1e-6
