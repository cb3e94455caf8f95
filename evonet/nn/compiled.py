"""The MLP's forward pass compiled, one input at a time, for compiled game loops.

:func:`forward_one` is what a compiled rollout (:mod:`evonet.evolution.compiled_play`)
calls for every live game on every step, and what :class:`evonet.views.panel.Agent` calls
when it watches such a game, so both compute the same numbers bit for bit: one input's
result never depends on the batch around it, the worker or the caller. It reads the flat
genome in :mod:`evonet.nn.mlp`'s layout and agrees with :func:`evonet.nn.mlp.forward` to
rounding: it sums in float64 (so it sits nearer the exact value than numpy's float32
matmul) and takes tanh from the rational approximation below.

Each layer keeps its outputs' running sums in SIMD vectors (:mod:`evonet.nn.simd`), adds
the inputs four at a time and skips four zeros at once: Snake's observations are mostly
zeros (one-hot heading, rays that see nothing). No fast-math: every sum stays in its
written order, so inlining into a caller cannot change a result.
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


def scratch(topo: Topology) -> np.ndarray:
    """The array :func:`forward_one` computes in: ``(L + 1, widest layer)`` float64, row l
    the activations of layer l (row 0 left for the input, which only :func:`trace` fills)."""
    return np.zeros((len(topo.sizes), max(topo.sizes)), np.float64)


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
def activate(code: int, z: np.ndarray, n: int) -> None:
    """Activation ``code`` on ``z[:n]`` in place."""
    if code == TANH:
        for o in range(n):
            z[o] = tanh32(z[o])
    elif code == RELU:
        for o in range(n):
            z[o] = max(z[o], 0.0)
    elif code == SIGMOID:  # the tanh form, as mlp.activate's
        for o in range(n):
            z[o] = 0.5 * (tanh32(0.5 * z[o]) + 1.0)
    elif code == SOFTMAX:
        top = z[0]
        for o in range(1, n):
            top = max(top, z[o])
        total = 0.0
        for o in range(n):
            z[o] = np.exp(z[o] - top)
            total += z[o]
        for o in range(n):
            z[o] = z[o] / total


@njit(cache=True, inline="always")
def forward_one(
    theta: np.ndarray, x: np.ndarray, sizes: np.ndarray, hidden: int, output: int, acts: np.ndarray
) -> None:
    """One network ``theta`` ``(D,)`` float32 on one input ``x`` ``(n_in,)`` float32: every
    layer's activations but the input's into ``acts`` (:func:`scratch`), the output in
    ``acts[L, :n_out]``."""
    n_layers = sizes.size - 1
    # The input layer reads x itself (float32, widened exactly as it is read).
    dense(theta, 0, sizes[0], sizes[1], x, acts[1])
    activate(output if n_layers == 1 else hidden, acts[1], sizes[1])
    pos = sizes[0] * sizes[1] + sizes[1]
    for layer in range(1, n_layers):
        a, b = sizes[layer], sizes[layer + 1]
        dense(theta, pos, a, b, acts[layer], acts[layer + 1])
        activate(output if layer == n_layers - 1 else hidden, acts[layer + 1], b)
        pos += a * b + b


@njit(cache=True, inline="always")
def dense(theta: np.ndarray, pos: int, a: int, b: int, inputs: np.ndarray, z: np.ndarray) -> None:
    """``z[:b]`` = the layer's bias + its weights (at ``theta[pos:]``) times ``inputs[:a]``,
    in blocks of 16, 8 and the last ``b % 8`` outputs, each a few SIMD vectors
    (:func:`evonet.nn.simd.dense_block`, whose widths are fixed when compiled)."""
    o0 = 0
    while o0 + 16 <= b:
        dense_block(theta, pos, a, b, o0, inputs, z, 16)
        o0 += 16
    if o0 + 8 <= b:
        dense_block(theta, pos, a, b, o0, inputs, z, 8)
        o0 += 8
    if o0 < b:
        dense_block(theta, pos, a, b, o0, inputs, z, 0)


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
            out[j, o] = acts[sizes.size - 1, o]


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
    acts[0, : topo.n_in] = np.asarray(x, np.float32).ravel()  # forward_one reads x itself
    return [acts[layer, :n].copy() for layer, n in enumerate(topo.sizes)]
