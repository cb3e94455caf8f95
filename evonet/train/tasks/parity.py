"""``parity``: the running XOR of a bit stream, XOR's sequence form, a test of memory.

At every step the network reads one bit and answers whether the bits so far hold an odd
number of ones: it must remember the answer it gave one step before. A feed-forward
network sees one bit at a time and cannot beat chance; a recurrent one
(``--network rnn`` or ``gru``, :mod:`evonet.nn.recurrent`) learns it by backpropagation
through time.
"""

from __future__ import annotations

import numpy as np

from evonet.nn import recurrent
from evonet.nn.mlp import Topology
from evonet.train.fit import TrainConfig
from evonet.train.losses import accuracy, predict_classes
from evonet.train.task import Data, Task

LENGTH = 8  # bits a sequence
TARGET_ACCURACY = 0.99


def sequences(length: int) -> np.ndarray:
    """Every bit sequence of ``length`` bits, ``(2**length, length)`` of 0 and 1."""
    codes = np.arange(2**length)[:, None]
    return (codes >> np.arange(length)) & 1


def as_data(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``(N, T, 1)`` (bits as -1 and +1, so that tanh units start centred) and
    targets ``(N, T, 1)``: the running parity."""
    x = (2.0 * bits - 1.0)[..., None]
    y = (np.cumsum(bits, axis=1) % 2).astype(np.float64)[..., None]
    return x, y


def make_data(rng: np.random.Generator) -> Data:
    """The 256 sequences of 8 bits, shuffled: 160 train, 32 validate, 64 held out."""
    bits = sequences(LENGTH)[rng.permutation(2**LENGTH)]
    (x, y), (xv, yv), (xt, yt) = (as_data(b) for b in np.split(bits, [160, 192]))
    return Data(x, y, xt, yt, xv, yv, classes=("even", "odd"))


def metrics(theta: np.ndarray, topo: Topology, data: Data) -> dict:
    """Accuracy over every step of the held-out sequences, and the share of those
    sequences answered right at every step."""
    out = recurrent.run(theta, data.x_test, topo)
    whole = np.all(predict_classes(out) == predict_classes(data.y_test), axis=1)
    acc = accuracy(out, data.y_test)
    return {
        "accuracy": acc,
        "sequences": float(np.mean(whole)),
        "solved": bool(acc >= TARGET_ACCURACY),
    }


TASK = Task(
    "parity",
    1,
    1,
    (8,),
    "tanh",
    "sigmoid",
    TrainConfig(loss="cross_entropy", optimizer="adam", lr=0.02, epochs=300, batch_size=16),
    make_data,
    metrics,
    summary="the running XOR of a bit stream, bit by bit (needs memory: a GRU by default)",
    network="gru",
)
