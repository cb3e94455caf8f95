"""A fixed-topology network whose parameters live in one flat vector: a multilayer
perceptron, or a recurrent network (:mod:`evonet.nn.recurrent`) in the same layout.

The flat vector is the genome for the genetic algorithm and the parameter vector for
gradient descent, so both sides share one layout:

    for each layer l = 0 .. L-1 with n_in = sizes[l], n_out = sizes[l + 1]:
        W_l  rows * cols values, row-major, so W_l[i, o] connects input i to output o
        b_l  cols values

An MLP's layer has ``rows = n_in`` and ``cols = n_out``, so ``D = sum(n_in * n_out +
n_out)``. A recurrent network's hidden layers (``Topology.network`` ``rnn`` or ``gru``)
also read their own previous output: ``rows = n_in + n_out``, the rows after the first
``n_in`` holding the recurrent weights, and a GRU's columns are its three blocks (reset
gate, update gate, candidate), ``cols = 3 * n_out``. Its output layer stays dense.

Stacks of genomes have shape ``(*G, D)``; ``unflatten``
returns views into them, so a GA operator or an optimiser step on the flat array is seen by
the layer views and vice versa.

Broadcasting rule of :func:`forward`: for parameters ``theta`` of shape ``(*G, D)`` the input
has shape ``(*G, *B, n_in)``. The leading ``G`` axes pick a network, the ``B`` axes are a
batch each network sees. Examples:

    theta (D,)      x (B, n_in)     -> (B, n_out)       one network, a batch of inputs
    theta (P, D)    x (P, n_in)     -> (P, n_out)       a population, one input per genome
    theta (P, D)    x (P, E, n_in)  -> (P, E, n_out)    a population, E inputs per genome

Each layer is one (batched) matmul; there is no Python loop over genomes or samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from evonet.memory import check_memory

HIDDEN_ACTIVATIONS = ("tanh", "relu", "sigmoid")
NETWORKS = ("mlp", "rnn", "gru")  # feed-forward, Elman, gated recurrent unit
OUTPUT_ACTIVATIONS = ("linear", "tanh", "sigmoid", "softmax")


@dataclass(frozen=True)
class Topology:
    """Layer sizes, activations and kind of a fixed-topology network.

    Attributes:
        sizes: neurons per layer, input first, output last, e.g. ``(1, 10, 25, 1)``.
        hidden: activation of every hidden layer: ``tanh``, ``relu`` or ``sigmoid`` (a
            GRU's candidate; its gates are sigmoids).
        output: activation of the output layer: ``linear``, ``tanh``, ``sigmoid``, ``softmax``.
        network: ``mlp`` (feed-forward), ``rnn`` (Elman: each hidden layer also reads its
            own previous output) or ``gru`` (gated recurrent units); see
            :mod:`evonet.nn.recurrent`.
    """

    sizes: tuple[int, ...]
    hidden: str = "tanh"
    output: str = "linear"
    network: str = "mlp"

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", tuple(int(s) for s in self.sizes))
        if len(self.sizes) < 2:
            raise ValueError(f"a topology needs at least 2 layers, got sizes {self.sizes}")
        if any(s < 1 for s in self.sizes):
            raise ValueError(f"every layer needs at least 1 neuron, got sizes {self.sizes}")
        if self.hidden not in HIDDEN_ACTIVATIONS:
            raise ValueError(
                f"unknown hidden activation {self.hidden!r}; choose from {HIDDEN_ACTIVATIONS}"
            )
        if self.output not in OUTPUT_ACTIVATIONS:
            raise ValueError(
                f"unknown output activation {self.output!r}; choose from {OUTPUT_ACTIVATIONS}"
            )
        if self.network not in NETWORKS:
            raise ValueError(f"unknown network {self.network!r}; choose from {NETWORKS}")
        if self.recurrent and len(self.sizes) < 3:
            raise ValueError(
                f"a recurrent network ({self.network}) needs a hidden layer, got sizes "
                f"{self.sizes}"
            )

    @property
    def n_in(self) -> int:
        return self.sizes[0]

    @property
    def n_out(self) -> int:
        return self.sizes[-1]

    @property
    def n_layers(self) -> int:
        """Number of weight layers (one fewer than ``len(sizes)``)."""
        return len(self.sizes) - 1

    @property
    def recurrent(self) -> bool:
        """Whether the hidden layers carry a state from step to step."""
        return self.network != "mlp"

    @property
    def state_size(self) -> int:
        """S, the length of the state a recurrent network carries (its hidden layers'
        outputs, first layer first); 0 for an MLP."""
        return sum(self.sizes[1:-1]) if self.recurrent else 0

    def layer_shape(self, layer: int) -> tuple[int, int]:
        """``(rows, cols)`` of weight layer ``layer``'s matrix ``W`` (see the module
        docstring); its bias has ``cols`` values."""
        n_in, n_out = self.sizes[layer], self.sizes[layer + 1]
        if not self.recurrent or layer == self.n_layers - 1:
            return n_in, n_out
        return n_in + n_out, (3 if self.network == "gru" else 1) * n_out

    @property
    def n_params(self) -> int:
        """D, the length of the flat parameter vector."""
        return sum(r * c + c for r, c in map(self.layer_shape, range(self.n_layers)))

    def offsets(self) -> list[tuple[int, int, int]]:
        """Per layer ``(w_start, b_start, b_end)`` into the flat vector."""
        out, pos = [], 0
        for r, c in map(self.layer_shape, range(self.n_layers)):
            out.append((pos, pos + r * c, pos + r * c + c))
            pos += r * c + c
        return out

    def activation(self, layer: int) -> str:
        """Activation name applied after weight layer ``layer``."""
        return self.output if layer == self.n_layers - 1 else self.hidden

    def to_dict(self) -> dict:
        return {
            "sizes": list(self.sizes),
            "hidden": self.hidden,
            "output": self.output,
            "network": self.network,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Topology:
        """The topology ``to_dict`` wrote; files written before networks had a kind (no
        ``network`` key) hold an MLP."""
        keys = {"sizes", "hidden", "output"}
        if not isinstance(d, dict) or not keys <= set(d) or not set(d) <= keys | {"network"}:
            raise ValueError(
                f"a topology needs the keys sizes, hidden, output (and network); got {d!r}"
            )
        if not isinstance(d["sizes"], list) or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in d["sizes"]
        ):
            raise ValueError(f"topology sizes must be a list of integers, got {d['sizes']!r}")
        texts = [d[k] for k in ("hidden", "output", "network") if k in d]
        if not all(isinstance(t, str) for t in texts):
            raise ValueError(f"topology activations and network must be names, got {d!r}")
        return cls(tuple(d["sizes"]), d["hidden"], d["output"], d.get("network", "mlp"))


def unflatten(theta: np.ndarray, topo: Topology) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split flat parameters ``(*G, D)`` into per-layer views.

    Returns a list of ``(W, b)`` with ``W`` of shape ``(*G, rows, cols)`` and ``b`` of
    shape ``(*G, cols)`` (an MLP's: ``(*G, n_in, n_out)`` and ``(*G, n_out)``).
    They are views: writing to them writes to ``theta``.
    """
    if theta.shape[-1] != topo.n_params:
        raise ValueError(
            f"parameter vector has length {theta.shape[-1]}, topology {topo.sizes} needs "
            f"{topo.n_params}"
        )
    lead = theta.shape[:-1]
    layers = []
    for layer, (w0, b0, b1) in enumerate(topo.offsets()):
        w = theta[..., w0:b0]
        # A reshape of a last-axis slice keeps the leading strides, so numpy can return a
        # view; copy=False makes it raise instead of silently copying if that ever fails.
        w = np.reshape(w, (*lead, *topo.layer_shape(layer)), copy=False)
        layers.append((w, theta[..., b0:b1]))
    return layers


def init(
    topo: Topology,
    rng: np.random.Generator,
    n: int | None = None,
    dtype: npt.DTypeLike = np.float64,
) -> np.ndarray:
    """Draw initial parameters: shape ``(D,)`` if ``n`` is None, else ``(n, D)``.

    Weights are Glorot/Xavier-uniform for tanh, sigmoid and linear layers and He-normal for
    relu layers (He keeps the variance of relu activations from halving per layer); biases
    start at zero. Raises :class:`evonet.memory.OverBudget` (a ValueError) before
    allocating if the array would not fit in memory.
    """
    lead = () if n is None else (int(n),)
    count = topo.n_params * (1 if n is None else int(n))
    check_memory(count * np.dtype(dtype).itemsize, f"{count} parameters")
    theta = np.zeros((*lead, topo.n_params), dtype=dtype)
    for layer, (w, _b) in enumerate(unflatten(theta, topo)):
        # A GRU's three blocks are three layers side by side: each has n_out outputs.
        fan_in, fan_out = w.shape[-2], topo.sizes[layer + 1]
        if topo.activation(layer) == "relu":
            w[...] = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=w.shape)
        else:
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            w[...] = rng.uniform(-limit, limit, size=w.shape)
    return theta


def activate(name: str, z: np.ndarray, inplace: bool = False) -> np.ndarray:
    """Apply activation ``name`` to pre-activations ``z`` of shape ``(..., n)``.

    ``inplace`` lets tanh and relu overwrite ``z`` (when the caller no longer needs it).
    """
    if name == "linear":
        return z
    if name == "tanh":
        return np.tanh(z, out=z if inplace else None)
    if name == "relu":
        return np.maximum(z, 0, out=z if inplace else None)
    if name == "sigmoid":
        # The tanh form never overflows, unlike 1 / (1 + exp(-z)) for large negative z.
        return 0.5 * (np.tanh(0.5 * z) + 1)
    if name == "softmax":
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError(f"unknown activation {name!r}")


def activation_vjp(name: str, z: np.ndarray, a: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Backpropagate ``g = dL/da`` through ``a = activate(name, z)``; returns ``dL/dz``."""
    if name == "linear":
        return g
    if name == "tanh":
        return g * (1 - a * a)
    if name == "relu":
        return g * (z > 0)
    if name == "sigmoid":
        return g * a * (1 - a)
    if name == "softmax":
        # The softmax Jacobian is diag(a) - a a^T, applied without forming it.
        return a * (g - (g * a).sum(axis=-1, keepdims=True))
    raise ValueError(f"unknown activation {name!r}")


def check_feed_forward(topo: Topology) -> None:
    """ValueError for a recurrent topology, whose pass carries a state (its functions are
    in :mod:`evonet.nn.recurrent`)."""
    if topo.recurrent:
        raise ValueError(
            f"a {topo.network} network carries a state from step to step: run it with "
            "evonet.nn.recurrent (step, or run over a sequence)"
        )


def _check_input(theta: np.ndarray, x: np.ndarray, topo: Topology) -> tuple[int, ...]:
    check_feed_forward(topo)
    g = theta.shape[:-1]
    if x.shape[-1] != topo.n_in:
        raise ValueError(f"input has {x.shape[-1]} features, the network expects {topo.n_in}")
    if x.shape[: len(g)] != g:
        raise ValueError(
            f"input shape {x.shape} does not start with the genome batch shape {g} "
            f"(parameters {theta.shape})"
        )
    return x.shape[len(g) : -1]


def affine(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, n_g: int) -> np.ndarray:
    """``x @ w + b`` (``b`` None: no bias) where x is ``(*G, *B, n_in)`` and w is
    ``(*G, n_in, n_out)``, with ``n_g`` genome axes ``G``."""
    if n_g == 0:
        z = x @ w
        if b is not None:
            z += b  # in place: the matmul result is a fresh array
        return z
    g, bshape = x.shape[:n_g], x.shape[n_g:-1]
    # Fold the per-network batch axes into matmul rows: one batched matmul over G.
    rows = x.reshape(*g, -1, x.shape[-1])
    z = rows @ w
    if b is not None:
        z += b[..., None, :]
    return z.reshape(*g, *bshape, w.shape[-1])


def forward(theta: np.ndarray, x: np.ndarray, topo: Topology) -> np.ndarray:
    """Network outputs for parameters ``(*G, D)`` and inputs ``(*G, *B, n_in)``.

    Returns ``(*G, *B, n_out)``; see the module docstring for the broadcasting rule.
    """
    _check_input(theta, x, topo)
    return forward_layers(unflatten(theta, topo), x, topo, theta.ndim - 1)


def forward_layers(
    layers: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray, topo: Topology, n_g: int
) -> np.ndarray:
    """:func:`forward` on parameters already split by :func:`unflatten`, unchecked.

    For loops that run the same networks many times (a rollout): they split once. ``n_g``
    is the number of genome batch axes ``G``; ``x`` is ``(*G, *B, n_in)``.
    """
    a = x
    for layer, (w, b) in enumerate(layers):
        # The pre-activation is a temporary here, so the activation may overwrite it.
        a = activate(topo.activation(layer), affine(a, w, b, n_g), inplace=True)
    return a


def forward_trace(
    theta: np.ndarray, x: np.ndarray, topo: Topology
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Forward pass that keeps every layer for backprop or display.

    Returns ``(zs, activations)``: ``activations[0]`` is ``x`` and ``activations[l + 1]`` is
    the output of weight layer ``l``; ``zs[l]`` is its pre-activation. Shapes follow
    :func:`forward`.
    """
    _check_input(theta, x, topo)
    n_g = theta.ndim - 1
    zs, acts = [], [x]
    for layer, (w, b) in enumerate(unflatten(theta, topo)):
        z = affine(acts[-1], w, b, n_g)
        zs.append(z)
        acts.append(activate(topo.activation(layer), z))
    return zs, acts


def backward(
    theta: np.ndarray,
    topo: Topology,
    zs: list[np.ndarray],
    acts: list[np.ndarray],
    grad_z_out: np.ndarray,
) -> np.ndarray:
    """Gradient of a loss with respect to the flat parameters of one network.

    Args:
        theta: parameters ``(D,)``.
        zs, acts: the trace of :func:`forward_trace` on inputs ``(B, n_in)``.
        grad_z_out: ``dL/dz`` of the output layer's pre-activation, ``(B, n_out)``. The
            loss owns this step so that fused forms (softmax + cross-entropy) stay exact.

    Returns:
        ``dL/dtheta`` of shape ``(D,)`` in the genome layout.
    """
    check_feed_forward(topo)
    if theta.ndim != 1:
        raise ValueError(f"backward takes one network (D,), got parameters {theta.shape}")
    grad = np.zeros_like(theta)
    layers = unflatten(theta, topo)
    grad_layers = unflatten(grad, topo)
    dz = grad_z_out
    for layer in range(topo.n_layers - 1, -1, -1):
        a_in = acts[layer].reshape(-1, acts[layer].shape[-1])
        dz2 = dz.reshape(-1, dz.shape[-1])
        gw, gb = grad_layers[layer]
        gw[...] = a_in.T @ dz2
        gb[...] = dz2.sum(axis=0)
        if layer > 0:
            da = dz @ layers[layer][0].T
            dz = activation_vjp(topo.activation(layer - 1), zs[layer - 1], acts[layer], da)
    return grad
