"""What a supervised task is: its arrays (:class:`Data`) and its default network and
settings (:class:`Task`); each task is one module of :mod:`evonet.train.tasks`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from evonet.nn import mlp
from evonet.nn.mlp import Topology
from evonet.train.fit import TrainConfig


@dataclass(frozen=True)
class Data:
    """Arrays of a task. ``x (N, n_in)``, ``y (N, n_out)`` train; ``x_val``, ``y_val`` are
    scored every epoch; ``x_test``, ``y_test`` once at the end. (Sine has no validation
    set: its test points are scored every epoch. XOR's test set is its four cases.)

    ``shift`` and ``scale`` ``(n_in,)``, when set, are how the raw inputs were
    standardised: ``x = (raw - shift) / scale``. :func:`raw_input_network` folds them into
    the first layer, so that a saved network reads raw inputs.
    """

    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    shift: np.ndarray | None = None
    scale: np.ndarray | None = None
    classes: tuple[str, ...] = ()  # class names, for a classifier's confusion matrix
    image: tuple[int, int] | None = None  # (rows, cols): inputs are a picture

    @property
    def val(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """What is scored every epoch: the validation set; else the test set; or
        ``(None, None)`` when the test set is the training set itself (XOR's four cases),
        where a second curve would only repeat the first."""
        if self.x_val is not None and self.y_val is not None:
            return self.x_val, self.y_val
        if self.x_test is self.x:
            return None, None
        return self.x_test, self.y_test


def raw_input_network(theta: np.ndarray, topo: Topology, data: Data) -> np.ndarray:
    """Parameters ``(D,)`` for raw inputs: ``forward(result, raw) == forward(theta, x)``.

    With ``x = (raw - shift) / scale``, the first layer ``x @ W + b`` equals
    ``raw @ (W / scale[:, None]) + (b - (shift / scale) @ W)``.
    """
    if data.shift is None or data.scale is None:
        return theta
    out = theta.copy()
    w, b = mlp.unflatten(out, topo)[0]
    w = w[: topo.n_in]  # a recurrent layer's last rows read its state, not the inputs
    b -= (data.shift / data.scale) @ w
    w /= data.scale[:, None]
    return out


@dataclass(frozen=True)
class Task:
    """A supervised task with its default network and training settings.

    ``make_data(rng)`` builds the arrays; with ``fixed_data`` it ignores ``rng`` (a split
    fixed once for all runs), so one :class:`Data` serves every run. ``metrics(theta,
    topo, data)`` scores a trained network on the test set and says whether it ``solved``
    the task.
    """

    name: str
    n_in: int
    n_out: int
    hidden: tuple[int, ...]
    activation: str
    output: str
    config: TrainConfig
    make_data: Callable[[np.random.Generator], Data]
    metrics: Callable[[np.ndarray, Topology, Data], dict]
    summary: str = ""  # one line for --help
    fixed_data: bool = False
    network: str = "mlp"  # the default kind (a sequence task's is recurrent)

    def topology(
        self,
        hidden: tuple[int, ...] | None = None,
        activation: str | None = None,
        network: str | None = None,
    ) -> Topology:
        return Topology(
            (self.n_in, *(self.hidden if hidden is None else hidden), self.n_out),
            activation or self.activation,
            self.output,
            network or self.network,
        )
