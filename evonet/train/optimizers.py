"""Optimisers that update the flat parameters ``(D,)`` in place from a gradient."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from evonet.search.steps import adam_step

OPTIMIZERS = ("sgd", "momentum", "adam")


class Optimizer:
    """Updates ``theta`` in place from a gradient. State arrays have shape ``(D,)``."""

    def __init__(self, name: str, lr: float, n_params: int, dtype: npt.DTypeLike) -> None:
        if name not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {name!r}; choose from {OPTIMIZERS}")
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        self.name, self.lr, self.t = name, lr, 0
        self.momentum = 0.9
        self.m = np.zeros(n_params, dtype=dtype)
        self.v = np.zeros(n_params, dtype=dtype)

    def step(self, theta: np.ndarray, grad: np.ndarray, lr: float | None = None) -> None:
        lr = self.lr if lr is None else lr
        self.t += 1
        if self.name == "sgd":
            theta -= lr * grad
        elif self.name == "momentum":
            self.m *= self.momentum
            self.m += grad
            theta -= lr * self.m
        else:
            adam_step(theta, grad, self.m, self.v, self.t, lr)


# -------------------------------------------------------------------------- the loop
