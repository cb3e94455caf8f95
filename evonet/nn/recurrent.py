"""Networks with memory: an Elman RNN and a GRU in the MLP's flat genome layout.

A recurrent :class:`~evonet.nn.mlp.Topology` (``network="rnn"`` or ``"gru"``) makes every
hidden layer a recurrent cell that also reads its own output of the previous step; the
output layer stays dense. The genome is still one flat vector (:mod:`evonet.nn.mlp`'s
module docstring gives the layout): a hidden layer's matrix ``W`` ``(n_in + n, k * n)``
holds the weights from its input in its first ``n_in`` rows and the recurrent weights in
the last ``n``. With ``x`` the layer's input, ``h`` its previous output and ``f`` the
hidden activation:

    rnn (k = 1):  h' = f(x W_x + h W_h + b)
    gru (k = 3):  r = sigmoid(x W_xr + h W_hr + b_r)          reset gate
                  u = sigmoid(x W_xu + h W_hu + b_u)          update gate
                  c = f(x W_xc + r * (h W_hc) + b_c)          candidate
                  h' = (1 - u) * c + u * h

(the GRU of Cho et al. 2014 with the reset gate applied after the recurrent matmul, as
cuDNN and PyTorch do, without PyTorch's second candidate bias).

The state a network carries is its hidden layers' outputs side by side: ``(*G, *B, S)``
with ``S = topo.state_size``; it is zero at the start of every episode or sequence
(:func:`initial_state`). Forward passes are batched like :func:`evonet.nn.mlp.forward`'s:
parameters ``(*G, D)``, inputs ``(*G, *B, n_in)``, one (batched) matmul per weight block,
no Python loop over genomes or games. :func:`run` and :func:`backward` cover a sequence
``(B, T, n_in)`` for gradient descent: backpropagation through time.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from evonet.nn import mlp
from evonet.nn.mlp import Topology


class Cell(NamedTuple):
    """What one hidden layer computed on one step, kept for backprop and display
    (``(B, n)`` each; the GRU's gates are ``None`` for an Elman RNN)."""

    x: np.ndarray  # the layer's input (B, n_in)
    h: np.ndarray  # its previous output, the state it read
    out: np.ndarray  # its new output h'
    z: np.ndarray  # pre-activation of f: the RNN's whole sum, the GRU's candidate's
    reset: np.ndarray | None = None
    update: np.ndarray | None = None
    recurrent_c: np.ndarray | None = None  # h W_hc, which the reset gate scales
    candidate: np.ndarray | None = None  # c = f(z)


def initial_state(
    topo: Topology, lead: tuple[int, ...] = (), dtype: npt.DTypeLike = np.float32
) -> np.ndarray:
    """Zeros ``(*lead, S)``: the state every episode starts from (``S = 0`` for an MLP)."""
    return np.zeros((*lead, topo.state_size), dtype=dtype)


def state_slices(topo: Topology) -> list[slice]:
    """Per hidden layer, its slice of the state's last axis."""
    bounds = np.cumsum([0, *topo.sizes[1:-1]]) if topo.recurrent else [0]
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def input_weights(w: np.ndarray, topo: Topology, layer: int) -> np.ndarray:
    """The weights from layer ``layer``'s input to its outputs, ``(*G, n_in, n_out)``, of
    its matrix ``w`` (a view): all of an MLP layer's; a recurrent layer's rows from its
    input, and a GRU's candidate block (what a drawing of the network shows)."""
    n_in, n_out = topo.sizes[layer], topo.sizes[layer + 1]
    return w[..., :n_in, w.shape[-1] - n_out :]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return mlp.activate("sigmoid", z)


def cell(
    topo: Topology, layer: int, x: np.ndarray, h: np.ndarray, w: np.ndarray, b: np.ndarray, n_g: int
) -> Cell:
    """Hidden layer ``layer`` on inputs ``x (*G, *B, n_in)`` and state ``h (*G, *B, n)``
    with its weights ``w (*G, n_in + n, k n)`` and bias ``b (*G, k n)``."""
    n_in, n = topo.sizes[layer], topo.sizes[layer + 1]
    wx, wh = w[..., :n_in, :], w[..., n_in:, :]
    z = mlp.affine(x, wx, b, n_g)
    hw = mlp.affine(h, wh, None, n_g)
    if topo.network == "rnn":
        z += hw
        return Cell(x, h, mlp.activate(topo.hidden, z), z)
    gates = _sigmoid(z[..., : 2 * n] + hw[..., : 2 * n])
    reset, update = gates[..., :n], gates[..., n:]
    recurrent_c = hw[..., 2 * n :]
    zc = z[..., 2 * n :] + reset * recurrent_c
    c = mlp.activate(topo.hidden, zc)
    return Cell(x, h, c + update * (h - c), zc, reset, update, recurrent_c, c)


def _cell_out(
    topo: Topology, layer: int, x: np.ndarray, h: np.ndarray, w: np.ndarray, b: np.ndarray, n_g: int
) -> np.ndarray:
    """:func:`cell`'s output alone, bit for bit, in place where :func:`cell` keeps its
    intermediates: a rollout's step allocates five arrays a layer instead of a dozen."""
    n_in, n = topo.sizes[layer], topo.sizes[layer + 1]
    z = mlp.affine(x, w[..., :n_in, :], b, n_g)
    hw = mlp.affine(h, w[..., n_in:, :], None, n_g)
    if topo.network == "rnn":
        z += hw
        return mlp.activate(topo.hidden, z, inplace=True)
    # Fresh arrays where the blocks meet: numpy's loops over contiguous arrays are several
    # times faster than over the blocks' strided views, in place or not.
    gates = z[..., : 2 * n] + hw[..., : 2 * n]
    # sigmoid as mlp.activate computes it, 0.5 * (tanh(0.5 z) + 1), step by step in place
    gates *= 0.5
    np.tanh(gates, out=gates)
    gates += 1
    gates *= 0.5
    zc = hw[..., 2 * n :] * gates[..., :n]  # the reset gate on the recurrent candidate
    zc += z[..., 2 * n :]
    c = mlp.activate(topo.hidden, zc, inplace=True)
    out = h - c
    out *= gates[..., n:]  # update
    out += c
    return out


def step_layers(
    layers: list[tuple[np.ndarray, np.ndarray]],
    x: np.ndarray,
    state: np.ndarray,
    topo: Topology,
    n_g: int,
) -> np.ndarray:
    """One step on parameters split by :func:`~evonet.nn.mlp.unflatten`, unchecked:
    outputs ``(*G, *B, n_out)``. Writes the new state into ``state`` ``(*G, *B, S)``.

    For loops that step the same networks many times (a rollout); an MLP's pass is
    :func:`evonet.nn.mlp.forward_layers`, with an empty state."""
    if not topo.recurrent:
        return mlp.forward_layers(layers, x, topo, n_g)
    a = x
    for layer, part in enumerate(state_slices(topo)):
        w, b = layers[layer]
        a = _cell_out(topo, layer, a, state[..., part], w, b, n_g)
        state[..., part] = a
    w, b = layers[-1]
    return mlp.activate(topo.output, mlp.affine(a, w, b, n_g), inplace=True)


def step(
    theta: np.ndarray, x: np.ndarray, state: np.ndarray, topo: Topology
) -> tuple[np.ndarray, np.ndarray]:
    """One step of networks ``(*G, D)`` on inputs ``(*G, *B, n_in)`` with states
    ``(*G, *B, S)``: returns ``(outputs (*G, *B, n_out), new states)``; ``state`` is
    left as it was. The new states have the outputs' dtype."""
    _check(theta, x, topo)
    lead = x.shape[:-1]
    if not isinstance(state, np.ndarray):
        raise TypeError(
            f"state must be an array {(*lead, topo.state_size)} (from initial_state), "
            f"got {type(state).__name__}"
        )
    if state.shape != (*lead, topo.state_size):
        raise ValueError(
            f"state has shape {state.shape}, inputs {x.shape} need {(*lead, topo.state_size)}"
        )
    new = state.astype(np.result_type(theta, x, state))  # a copy
    out = step_layers(mlp.unflatten(theta, topo), x, new, topo, theta.ndim - 1)
    return out, new


def _check(theta: np.ndarray, x: np.ndarray, topo: Topology) -> None:
    if x.shape[-1] != topo.n_in:
        raise ValueError(f"input has {x.shape[-1]} features, the network expects {topo.n_in}")
    g = theta.shape[:-1]
    if x.shape[: len(g)] != g:
        raise ValueError(
            f"input shape {x.shape} does not start with the genome batch shape {g} "
            f"(parameters {theta.shape})"
        )


class Step(NamedTuple):
    """One step of one network on a batch, kept whole (for backprop and display)."""

    cells: list[Cell]  # per hidden layer
    z_out: np.ndarray  # (B, n_out) the output layer's pre-activation
    out: np.ndarray  # (B, n_out)

    def activations(self) -> list[np.ndarray]:
        """Per layer, inputs first: ``[x, h_1, ..., out]``, each ``(B, n_l)``."""
        return [self.cells[0].x, *(c.out for c in self.cells), self.out]


def step_trace(theta: np.ndarray, x: np.ndarray, state: np.ndarray, topo: Topology) -> Step:
    """One step of one recurrent network ``(D,)`` on ``x (B, n_in)`` from ``state (B, S)``,
    every layer kept; the new state is the cells' outputs side by side."""
    layers = mlp.unflatten(theta, topo)
    cells, a = [], x
    for layer, part in enumerate(state_slices(topo)):
        cells.append(cell(topo, layer, a, state[..., part], *layers[layer], 0))
        a = cells[-1].out
    z_out = mlp.affine(a, *layers[-1], 0)
    return Step(cells, z_out, mlp.activate(topo.output, z_out))


def new_state(trace: Step) -> np.ndarray:
    """The state after ``trace``'s step, ``(B, S)``."""
    return np.concatenate([c.out for c in trace.cells], axis=-1)


def run_trace(theta: np.ndarray, xs: np.ndarray, topo: Topology) -> list[Step]:
    """One recurrent network ``(D,)`` over sequences ``xs (B, T, n_in)`` from a zero
    state: the :class:`Step` of each of the T steps."""
    if theta.ndim != 1 or xs.ndim != 3:
        raise ValueError(
            f"a sequence pass takes one network (D,) and sequences (B, T, n_in), got "
            f"parameters {theta.shape} and inputs {xs.shape}"
        )
    _check(theta, xs, topo)
    state = initial_state(topo, (xs.shape[0],), np.result_type(theta, xs))
    steps = []
    for t in range(xs.shape[1]):
        steps.append(step_trace(theta, xs[:, t], state, topo))
        state = new_state(steps[-1])
    return steps


def run(theta: np.ndarray, xs: np.ndarray, topo: Topology) -> np.ndarray:
    """Outputs ``(B, T, n_out)`` of one network ``(D,)`` on sequences ``(B, T, n_in)``,
    its state zero at each sequence's start; an MLP sees each step alone. Inputs
    ``(B, n_in)`` are sequences of one step: outputs ``(B, n_out)``."""
    if not topo.recurrent:
        return mlp.forward(theta, xs, topo)
    if xs.ndim == 2:
        return run(theta, xs[:, None], topo)[:, 0]
    return np.stack([s.out for s in run_trace(theta, xs, topo)], axis=1)


def backward(
    theta: np.ndarray, topo: Topology, steps: list[Step], grad_z_out: np.ndarray
) -> np.ndarray:
    """Backpropagation through time: ``dL/dtheta (D,)`` from the trace of
    :func:`run_trace` and ``dL/dz`` of the output layer's pre-activation ``(B, T, n_out)``."""
    grad = np.zeros_like(theta)
    layers, grads = mlp.unflatten(theta, topo), mlp.unflatten(grad, topo)
    carry = [None] * (topo.n_layers - 1)  # dL/dh flowing back from the next step
    for t in range(len(steps) - 1, -1, -1):
        s, dz = steps[t], grad_z_out[:, t]
        gw, gb = grads[-1]
        gw += s.cells[-1].out.T @ dz
        gb += dz.sum(axis=0)
        da = dz @ layers[-1][0].T
        for layer in range(topo.n_layers - 2, -1, -1):
            dh = da if carry[layer] is None else da + carry[layer]
            da, carry[layer] = _cell_backward(topo, layer, s.cells[layer], dh, layers, grads)
    return grad


def _cell_backward(
    topo: Topology,
    layer: int,
    c: Cell,
    dh: np.ndarray,
    layers: list[tuple[np.ndarray, np.ndarray]],
    grads: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """Accumulate one cell's weight gradients from ``dh = dL/dh'`` ``(B, n)``; return
    ``(dL/dx, dL/dh)`` for the layer below and the previous step."""
    n_in = topo.sizes[layer]
    w = layers[layer][0]
    gw, gb = grads[layer]
    if topo.network == "rnn":
        dzx = dzh = mlp.activation_vjp(topo.hidden, c.z, c.out, dh)
        direct = 0.0
    else:
        cand = c.candidate
        dzc = mlp.activation_vjp(topo.hidden, c.z, cand, dh * (1 - c.update))
        dzr = dzc * c.recurrent_c * c.reset * (1 - c.reset)
        dzu = dh * (c.h - cand) * c.update * (1 - c.update)
        dzx = np.concatenate([dzr, dzu, dzc], axis=-1)
        dzh = np.concatenate([dzr, dzu, dzc * c.reset], axis=-1)
        direct = dh * c.update
    gw[:n_in] += c.x.T @ dzx
    gw[n_in:] += c.h.T @ dzh
    gb += dzx.sum(axis=0)
    return dzx @ w[:n_in].T, direct + dzh @ w[n_in:].T
