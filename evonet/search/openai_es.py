"""OpenAI's evolution strategy (Salimans et al. 2017): mirrored sampling around the mean,
centred-rank fitness shaping, and Adam with weight decay on the estimated gradient.

One generation, with ``P = 2n`` genomes ``mean + sigma * (+-eps_i)`` and centred ranks
``u`` of their fitness (:func:`~evonet.search.steps.centred_ranks`)::

    g = sum_i u_i z_i / (P * sigma)          # the search gradient of expected fitness
    mean <- Adam(mean, -g + weight_decay * mean)

sigma stays fixed, as in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from evonet.fields import setting
from evonet.search.distribution import Distribution, ESConfig, State
from evonet.search.steps import adam_step, centred_ranks


@dataclass(frozen=True)
class OpenAIESConfig(ESConfig):
    """Settings of OpenAI-ES."""

    sigma: float = setting(0.05, "Standard deviation of the mirrored noise (fixed).")
    learning_rate: float = setting(0.03, "Adam's step size for the mean.")
    weight_decay: float = setting(0.005, "L2 coefficient pulling the mean towards zero.")

    even: ClassVar[bool] = True

    def validate(self) -> None:
        super().validate()
        if not self.learning_rate > 0:
            raise ValueError(f"learning rate must be positive, got {self.learning_rate}")
        if not self.weight_decay >= 0:
            raise ValueError(f"weight decay must be >= 0, got {self.weight_decay}")


def mirrored(rng: np.random.Generator, population: int, n_params: int) -> np.ndarray:
    """``(P, D)`` directions: ``P/2`` standard-normal draws, then the same negated."""
    half = rng.standard_normal((population // 2, n_params))
    return np.concatenate([half, -half])


class OpenAIES(Distribution):
    """OpenAI-ES: ask/tell over ``mean (D,)`` with a fixed ``sigma``."""

    name = "openai-es"
    config_class = OpenAIESConfig
    cfg: OpenAIESConfig

    def initial_state(self, mean: np.ndarray) -> State:
        d = mean.size
        return {
            "mean": mean.copy(),
            "sigma": np.array(self.cfg.sigma),
            "adam_m": np.zeros(d),
            "adam_v": np.zeros(d),
        }

    @classmethod
    def state_shapes(cls, cfg: ESConfig, n_params: int) -> dict[str, tuple[int, ...]]:
        return {"mean": (n_params,), "sigma": (), "adam_m": (n_params,), "adam_v": (n_params,)}

    def directions(self) -> np.ndarray:
        return mirrored(self.rng, self.cfg.population, self.n_params)

    def update(self, z: np.ndarray, fitness: np.ndarray) -> State:
        s = {k: v.copy() for k, v in self.state_arrays.items()}
        sigma = float(s["sigma"])
        g = centred_ranks(fitness) @ z / (self.cfg.population * sigma)
        grad = -g + self.cfg.weight_decay * s["mean"]
        adam_step(s["mean"], grad, s["adam_m"], s["adam_v"], self.generation + 1,
                  self.cfg.learning_rate)
        return s
