"""``sine``: regression of y = sin(x) on [-pi, pi]."""

from __future__ import annotations

import numpy as np

from evonet.nn import recurrent
from evonet.nn.mlp import Topology
from evonet.train.fit import TrainConfig
from evonet.train.task import Data, Task

TARGET_MSE = 1e-4


def make_data(rng: np.random.Generator, n_train: int = 256, n_test: int = 201) -> Data:
    """Random training points, an even grid of held-out points (``(N, 1)`` each)."""
    x = rng.uniform(-np.pi, np.pi, size=(n_train, 1))
    x_test = np.linspace(-np.pi, np.pi, n_test)[:, None]
    return Data(x, np.sin(x), x_test, np.sin(x_test))


def metrics(theta: np.ndarray, topo: Topology, data: Data) -> dict:
    mse = float(np.mean((recurrent.run(theta, data.x_test, topo) - data.y_test) ** 2))
    return {"test_mse": mse, "solved": bool(mse <= TARGET_MSE)}


TASK = Task(
    "sine",
    1,
    1,
    (10, 25),
    "tanh",
    "linear",
    TrainConfig(loss="mse", optimizer="adam", lr=0.01, epochs=500, batch_size=32),
    make_data,
    metrics,
    summary="fit y = sin(x) on [-pi, pi] (regression)",
)
