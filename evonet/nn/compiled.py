"""The MLP's forward pass compiled, one network on a few inputs at a time, for compiled
game loops.

:func:`forward_rows` is what a compiled rollout (:mod:`evonet.evolution.compiled_play`)
calls on every step for the live games of each genome, and :func:`forward_one` (the same
pass on one input) what :class:`evonet.views.panel.Agent` calls when it watches such a
game, so both compute the same numbers bit for bit: one input's result never depends on
the inputs beside it, the batch, the worker or the caller. It reads the flat
genome in :mod:`evonet.nn.mlp`'s layout and agrees with :func:`evonet.nn.mlp.forward` to
rounding: it sums in float64 (so it sits nearer the exact value than numpy's float32
matmul) and takes tanh from the rational approximation below.

Each layer keeps its outputs' running sums in SIMD vectors (:mod:`evonet.nn.simd`) and
adds the inputs four at a time; the inputs of one call share the weights' loads. No
fast-math: every sum stays in its written order, so inlining into a caller cannot change a
result.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from evonet.nn.mlp import Topology
from evonet.nn.simd import dense_block

# The activations' codes, as the compiled code takes them.
ACTIVATIONS = {"linear": 0, "tanh": 1, "relu": 2, "sigmoid": 3, "softmax": 4}
LINEAR, TANH, RELU, SIGMOID, SOFTMAX = range(5)


class Net(NamedTuple):
    """A topology as the compiled forward pass takes it."""

    sizes: np.ndarray  # (L + 1,) int64: neurons per layer, input first
    hidden: int  # the hidden layers' activation code
    output: int  # the output layer's activation code


def net(topo: Topology) -> Net:
    """The :class:`Net` of ``topo``."""
    return Net(np.asarray(topo.sizes, np.int64), ACTIVATIONS[topo.hidden], ACTIVATIONS[topo.output])


# Inputs a forward pass takes at once (a rollout's games of one genome).
ROWS = 4


def scratch(topo: Topology) -> np.ndarray:
    """The array :func:`forward_rows` computes in: ``(L + 1, ROWS, widest layer)`` float64,
    ``[l, r]`` layer l's activations for input r (layer 0 the inputs)."""
    return np.zeros((len(topo.sizes), ROWS, max(topo.sizes)), np.float64)


# Eigen's rational tanh for float32 (a 13/6 odd/even polynomial pair): within float32's
# rounding of tanh (a few parts in 10^7), branch-free, so a loop over neurons runs it on
# SIMD lanes, where a call to the C library's tanh per neuron would cost more than the
# layer's multiply-adds.
_CLAMP = 7.90531110763549805  # beyond it tanh is 1 in float32
_TINY = 0.0004  # below it tanh(x) is x in float32
A13, A11, A9, A7 = (
    -2.76076847742355e-16,
    2.00018790482477e-13,
    -8.60467152213735e-11,
    5.12229709037114e-08,
)
A5, A3, A1 = 1.48572235717979e-05, 6.37261928875436e-04, 4.89352455891786e-03
B6, B4, B2, B0 = (
    1.19825839466702e-06,
    1.18534705686654e-04,
    2.26843463243900e-03,
    4.89352518554385e-03,
)


@njit(cache=True, inline="always")
def tanh32(z: float) -> float:
    """tanh to float32's precision (Eigen's rational approximation)."""
    x = min(max(z, -_CLAMP), _CLAMP)
    x2 = x * x
    p = ((((((A13 * x2 + A11) * x2 + A9) * x2 + A7) * x2 + A5) * x2 + A3) * x2 + A1) * x
    q = ((B6 * x2 + B4) * x2 + B2) * x2 + B0
    return z if abs(z) < _TINY else p / q


@njit(cache=True, inline="always")
def activate(code: int, z: np.ndarray, rows: int, n: int) -> None:
    """Activation ``code`` on ``z[:rows, :n]`` in place, row by row."""
    for r in range(rows):
        if code == TANH:
            for o in range(n):
                z[r, o] = tanh32(z[r, o])
        elif code == RELU:
            for o in range(n):
                z[r, o] = max(z[r, o], 0.0)
        elif code == SIGMOID:  # the tanh form, as mlp.activate's
            for o in range(n):
                z[r, o] = 0.5 * (tanh32(0.5 * z[r, o]) + 1.0)
        elif code == SOFTMAX:
            top = z[r, 0]
            for o in range(1, n):
                top = max(top, z[r, o])
            total = 0.0
            for o in range(n):
                z[r, o] = np.exp(z[r, o] - top)
                total += z[r, o]
            for o in range(n):
                z[r, o] = z[r, o] / total


@njit(cache=True, inline="always")
def forward_rows(theta: np.ndarray, acts: np.ndarray, rows: int, sizes: np.ndarray,
                 hidden: int, output: int) -> None:  # fmt: skip
    """One network ``theta`` ``(D,)`` (float32 or float64) on the inputs in
    ``acts[0, :rows, :n_in]`` (:func:`scratch`; ``1 <= rows <=`` :data:`ROWS`): every
    layer l's activations into ``acts[l, :rows]``, the outputs in ``acts[L, :rows,
    :n_out]``. Row r's numbers are the same whatever ``rows``."""
    # The SIMD blocks take the number of rows as a compile-time constant.
    # Three rows run as four (the fourth on a stale input): a third compiled variant
    # would cost more compiling than it saves.
    if rows >= 3:
        _forward(theta, acts, 4, sizes, hidden, output)
    elif rows == 2:
        _forward(theta, acts, 2, sizes, hidden, output)
    else:
        _forward(theta, acts, 1, sizes, hidden, output)


@njit(cache=True, inline="always")
def _forward(theta: np.ndarray, acts: np.ndarray, rows: int, sizes: np.ndarray, hidden: int,
             output: int) -> None:  # fmt: skip
    """:func:`forward_rows` for a literal ``rows``."""
    n_layers = sizes.size - 1
    pos = 0
    for layer in range(n_layers):
        a, b = sizes[layer], sizes[layer + 1]
        dense(theta, pos, a, b, acts[layer], acts[layer + 1], rows)
        activate(output if layer == n_layers - 1 else hidden, acts[layer + 1], rows, b)
        pos += a * b + b


@njit(cache=True, inline="always")
def forward_one(
    theta: np.ndarray, x: np.ndarray, sizes: np.ndarray, hidden: int, output: int, acts: np.ndarray
) -> None:
    """:func:`forward_rows` on one input ``x`` ``(n_in,)`` (copied into ``acts[0, 0]``,
    float32 widened exactly): the output in ``acts[L, 0, :n_out]``."""
    for i in range(sizes[0]):
        acts[0, 0, i] = x[i]
    forward_rows(theta, acts, 1, sizes, hidden, output)


@njit(cache=True, inline="always")
def dense(theta: np.ndarray, pos: int, a: int, b: int, inputs: np.ndarray, z: np.ndarray,
          rows: int) -> None:  # fmt: skip
    """``z[r, :b]`` = the layer's bias + its weights (at ``theta[pos:]``) times ``inputs[r,
    :a]`` for each ``r < rows`` (a literal int), in blocks of 16, 8 and the last ``b % 8``
    outputs, each a few SIMD vectors (:func:`evonet.nn.simd.dense_block`, whose widths are
    fixed when compiled)."""
    o0 = 0
    while o0 + 16 <= b:
        dense_block(theta, pos, a, b, o0, inputs, z, 16, rows)
        o0 += 16
    if o0 + 8 <= b:
        dense_block(theta, pos, a, b, o0, inputs, z, 8, rows)
        o0 += 8
    if o0 < b:
        dense_block(theta, pos, a, b, o0, inputs, z, 0, rows)


@njit(cache=True, inline="always")
def argmax(v: np.ndarray, n: int) -> int:
    """The first index of the largest of ``v[:n]``, as np.argmax picks it."""
    best = 0
    for i in range(1, n):
        if v[i] > v[best]:
            best = i
    return best


@njit(cache=True, _nrt=False, error_model="numpy")  # allocates nothing; see forward_one
def forward_each(thetas: np.ndarray, xs: np.ndarray, sizes: np.ndarray, hidden: int,
                 output: int, acts: np.ndarray, out: np.ndarray) -> None:  # fmt: skip
    """Network ``thetas[j]`` on input ``xs[j]`` for every j: outputs ``(B, n_out)`` into
    ``out``; ``thetas`` ``(B, D)``, ``xs`` ``(B, n_in)``, both float32."""
    n_out = sizes[sizes.size - 1]
    for j in range(xs.shape[0]):
        forward_one(thetas[j], xs[j], sizes, hidden, output, acts)
        for o in range(n_out):
            out[j, o] = acts[sizes.size - 1, 0, o]


def forward(theta: np.ndarray, x: np.ndarray, topo: Topology) -> np.ndarray:
    """The compiled forward pass of one network ``theta`` ``(D,)`` on inputs ``x``
    ``(B, n_in)``, or of networks ``(B, D)`` on one input each: ``(B, n_out)`` float32,
    each row computed alone (as in a compiled rollout)."""
    x = np.ascontiguousarray(np.atleast_2d(x), np.float32)
    thetas = np.ascontiguousarray(theta, np.float32)
    if thetas.ndim == 1:
        thetas = np.ascontiguousarray(np.broadcast_to(thetas, (x.shape[0], thetas.size)))
    if thetas.shape != (x.shape[0], topo.n_params) or x.shape[1] != topo.n_in:
        raise ValueError(
            f"need networks (B, {topo.n_params}) or ({topo.n_params},) and inputs "
            f"(B, {topo.n_in}), got {theta.shape} and {x.shape}"
        )
    out = np.empty((x.shape[0], topo.n_out), np.float32)
    forward_each(thetas, x, *net(topo), scratch(topo), out)
    return out


def trace(theta: np.ndarray, x: np.ndarray, topo: Topology) -> list[np.ndarray]:
    """Every layer's activations ``(n_l,)`` float64 for one network ``theta`` ``(D,)`` on
    one input ``x`` ``(n_in,)``, input first, as :func:`forward_one` computes them (for
    views of a game whose rollouts run compiled)."""
    acts = scratch(topo)
    one = np.ascontiguousarray(theta, np.float32)
    forward_each(one[None], np.asarray(x, np.float32).reshape(1, -1), *net(topo), acts,
                 np.empty((1, topo.n_out), np.float32))  # fmt: skip
    return [acts[layer, 0, :n].copy() for layer, n in enumerate(topo.sizes)]
