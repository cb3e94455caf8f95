"""PGPE, policy gradients with parameter-based exploration (Sehnke et al. 2010), with the
ClipUp optimiser (Toklu et al. 2020), as EvoTorch runs it.

Each parameter has its own ``sigma``. One generation samples ``n = P/2`` directions
``eps_i = sigma * z_i`` and plays ``mean + eps_i`` and ``mean - eps_i``; with centred
ranks ``u+_i, u-_i`` of their fitness and ``b`` the mean utility::

    grad_mean  = sum_i (u+_i - u-_i) / 2 * eps_i / n
    grad_sigma = sum_i ((u+_i + u-_i) / 2 - b) * (eps_i**2 - sigma**2) / sigma / n
    velocity   = clip(momentum * velocity + step_size * grad_mean / |grad_mean|, max_speed)
    mean      <- mean + velocity
    sigma     <- clip(sigma + sigma_learning_rate * grad_sigma, (1 -+ max_change) * sigma)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from evonet.fields import setting
from evonet.search.distribution import Distribution, ESConfig, State
from evonet.search.openai_es import mirrored
from evonet.search.steps import centred_ranks, clipup_step


@dataclass(frozen=True)
class PGPEConfig(ESConfig):
    """Settings of PGPE with ClipUp."""

    sigma: float = setting(0.1, "Initial standard deviation of every parameter.")
    learning_rate: float = setting(0.075, "ClipUp's step size: the length of each push.")
    max_speed: float = setting(0.15, "ClipUp's speed limit: the longest move of the mean.")
    momentum: float = setting(0.9, "ClipUp's momentum.")
    sigma_learning_rate: float = setting(0.1, "Step size of sigma's update.")
    sigma_max_change: float = setting(
        0.2, "The largest relative change of a parameter's sigma in one generation."
    )

    even: ClassVar[bool] = True

    def validate(self) -> None:
        super().validate()
        for name in ("learning_rate", "max_speed", "sigma_learning_rate"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name.replace('_', ' ')} must be positive")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        if not 0 < self.sigma_max_change < 1:
            raise ValueError(f"sigma max change must be in (0, 1), got {self.sigma_max_change}")


class PGPE(Distribution):
    """PGPE: ask/tell over ``mean (D,)`` and a per-parameter ``sigma (D,)``."""

    name = "pgpe"
    config_class = PGPEConfig
    cfg: PGPEConfig

    def initial_state(self, mean: np.ndarray) -> State:
        d = mean.size
        return {"mean": mean.copy(), "sigma": np.full(d, self.cfg.sigma), "velocity": np.zeros(d)}

    @classmethod
    def state_shapes(cls, cfg: ESConfig, n_params: int) -> dict[str, tuple[int, ...]]:
        return {"mean": (n_params,), "sigma": (n_params,), "velocity": (n_params,)}

    def directions(self) -> np.ndarray:
        return mirrored(self.rng, self.cfg.population, self.n_params)

    def update(self, z: np.ndarray, fitness: np.ndarray) -> State:
        cfg, s = self.cfg, self.state_arrays
        n = cfg.population // 2
        sigma = s["sigma"]
        u = centred_ranks(fitness)
        plus, minus = u[:n], u[n:]
        eps = sigma * z[:n]
        grad_mean = (plus - minus) / 2 @ eps / n
        grad_sigma = ((plus + minus) / 2 - u.mean()) @ ((eps**2 - sigma**2) / sigma) / n
        velocity = clipup_step(
            grad_mean, s["velocity"], cfg.learning_rate, cfg.max_speed, cfg.momentum
        )
        change = cfg.sigma_max_change * sigma
        new_sigma = np.clip(
            sigma + cfg.sigma_learning_rate * grad_sigma, sigma - change, sigma + change
        )
        return {"mean": s["mean"] + velocity, "sigma": new_sigma, "velocity": velocity}
