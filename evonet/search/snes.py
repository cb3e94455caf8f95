"""SNES, separable natural evolution strategies (Schaul et al. 2011; Wierstra et al. 2014,
algorithm 6): a Gaussian with one ``sigma`` per parameter, moved along the natural
gradient.

One generation samples ``z_k ~ N(0, I)``, plays ``mean + sigma * z_k``, and with the NES
utilities ``u_k`` of their ranks (:func:`~evonet.search.steps.nes_utilities`)::

    grad_mean  = sum_k u_k z_k
    grad_sigma = sum_k u_k (z_k**2 - 1)
    mean      <- mean + learning_rate * sigma * grad_mean
    sigma     <- sigma * exp(sigma_learning_rate / 2 * grad_sigma)

with ``sigma_learning_rate = (3 + ln D) / (5 sqrt D)`` unless set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from evonet.fields import setting
from evonet.search.distribution import Distribution, ESConfig, State
from evonet.search.steps import nes_utilities


@dataclass(frozen=True)
class SNESConfig(ESConfig):
    """Settings of SNES."""

    sigma: float = setting(0.1, "Initial standard deviation of every parameter.")
    learning_rate: float = setting(1.0, "Step size of the mean's natural gradient.")
    sigma_learning_rate: float = setting(
        0.0, "Step size of sigma's natural gradient; 0: (3 + ln D) / (5 sqrt D)."
    )

    def validate(self) -> None:
        super().validate()
        if not self.learning_rate > 0:
            raise ValueError(f"learning rate must be positive, got {self.learning_rate}")
        if not self.sigma_learning_rate >= 0:
            raise ValueError(f"sigma learning rate must be >= 0, got {self.sigma_learning_rate}")

    def sigma_rate(self, n_params: int) -> float:
        """The step size of sigma's update for ``D = n_params``."""
        if self.sigma_learning_rate:
            return self.sigma_learning_rate
        return (3 + math.log(n_params)) / (5 * math.sqrt(n_params))


class SNES(Distribution):
    """SNES: ask/tell over ``mean (D,)`` and a per-parameter ``sigma (D,)``."""

    name = "snes"
    config_class = SNESConfig
    cfg: SNESConfig

    def initial_state(self, mean: np.ndarray) -> State:
        return {"mean": mean.copy(), "sigma": np.full(mean.size, self.cfg.sigma)}

    @classmethod
    def state_shapes(cls, cfg: ESConfig, n_params: int) -> dict[str, tuple[int, ...]]:
        return {"mean": (n_params,), "sigma": (n_params,)}

    def update(self, z: np.ndarray, fitness: np.ndarray) -> State:
        s = self.state_arrays
        u = nes_utilities(fitness)
        mean = s["mean"] + self.cfg.learning_rate * s["sigma"] * (u @ z)
        sigma = s["sigma"] * np.exp(self.cfg.sigma_rate(self.n_params) / 2 * (u @ (z**2 - 1)))
        return {"mean": mean, "sigma": sigma}
