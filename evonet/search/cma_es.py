"""CMA-ES, the covariance matrix adaptation evolution strategy (Hansen 2016, "The CMA
Evolution Strategy: A Tutorial", with its default constants), and its separable form
(Ros and Hansen 2008) for genomes too large for a full covariance.

One generation samples ``z_k ~ N(0, I)``, ``y_k = B diag(d) z_k`` (``C = B diag(d**2) B^T``)
and plays ``mean + sigma * y_k``. With the best ``mu = P/2`` sorted and weights ``w``::

    y_w    = sum_(i <= mu) w_i y_i;  mean <- mean + sigma * y_w
    p_s   <- (1 - c_s) p_s + sqrt(c_s (2 - c_s) mu_eff) C^(-1/2) y_w
    p_c   <- (1 - c_c) p_c + h_s sqrt(c_c (2 - c_c) mu_eff) y_w
    C     <- (1 - c_1 - c_mu sum w) C + c_1 (p_c p_c^T + (1 - h_s) c_c (2 - c_c) C)
             + c_mu sum_i w°_i y_i y_i^T     (all P, the worse half with negative weights)
    sigma <- sigma exp(c_s / d_s (|p_s| / E|N(0, I)| - 1))

The separable form keeps only C's diagonal and learns it (D + 2) / 3 times faster. B and d
are recomputed from C every few generations, as the tutorial does, so a large genome does
not pay an eigendecomposition every generation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from evonet.fields import setting
from evonet.search.distribution import Distribution, ESConfig, State
from evonet.search.ga import rank


@dataclass(frozen=True)
class CMAESConfig(ESConfig):
    """Settings of CMA-ES."""

    sigma: float = setting(0.1, "Initial step size (the distribution's overall scale).")
    full_up_to: int = setting(
        1000, "A full covariance up to this many parameters, a diagonal one above."
    )

    def validate(self) -> None:
        super().validate()
        if self.population < 4:
            raise ValueError(f"CMA-ES needs a population of at least 4, got {self.population}")
        if self.full_up_to < 0:
            raise ValueError(f"full up to must be >= 0, got {self.full_up_to}")

    def memory_bytes(self, n_params: int) -> int:
        full = 8 * 4 * n_params * n_params if n_params <= self.full_up_to else 0
        return super().memory_bytes(n_params) + full


class Constants(NamedTuple):
    """The tutorial's default constants for population ``P`` and dimension ``D``."""

    weights: np.ndarray  # (P,): the best mu positive, summing to 1; the rest negative
    mu_eff: float
    c_c: float
    c_s: float
    c_1: float
    c_mu: float
    damps: float
    chi_n: float


def constants(population: int, n_params: int, separable: bool) -> Constants:
    """CMA-ES's default weights and learning rates (Hansen 2016, table 1, with the negative
    weights of active CMA); for the separable form's diagonal, the rates scaled by
    (D + 2) / 3 and no negative weights (Ros and Hansen 2008)."""
    n, mu = n_params, population // 2
    raw = math.log((population + 1) / 2) - np.log(np.arange(1, population + 1))
    w, worse = raw[:mu] / raw[:mu].sum(), raw[mu:]
    mu_eff = 1.0 / float(np.sum(w**2))
    c_c = (4 + mu_eff / n) / (n + 4 + 2 * mu_eff / n)
    c_s = (mu_eff + 2) / (n + mu_eff + 5)
    c_1 = 2 / ((n + 1.3) ** 2 + mu_eff)
    c_mu = min(1 - c_1, 2 * (mu_eff - 2 + 1 / mu_eff) / ((n + 2) ** 2 + mu_eff))
    # The worse half's weights: as large as keeps C positive definite (alpha_posdef).
    mu_eff_worse = float(worse.sum() ** 2 / np.sum(worse**2)) if worse.size else 0.0
    alpha = min(
        1 + c_1 / c_mu, 1 + 2 * mu_eff_worse / (mu_eff + 2), (1 - c_1 - c_mu) / (n * c_mu)
    )
    negative = alpha * worse / max(float(np.abs(worse).sum()), 1e-300)
    if separable:
        # A diagonal learns (n + 2) / 3 times faster, and without negative weights (which,
        # measured against pycma's separable CMA-ES on Rosenbrock, slow it down).
        c_1, c_mu = c_1 * (n + 2) / 3, c_mu * (n + 2) / 3
        c_1 = min(c_1, 1.0)  # the diagonal's rates can exceed 1 in very few dimensions
        c_mu = min(1 - c_1, c_mu)
        negative = np.zeros_like(worse)
    damps = 1 + 2 * max(0.0, math.sqrt((mu_eff - 1) / (n + 1)) - 1) + c_s
    chi_n = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n))
    return Constants(np.concatenate([w, negative]), mu_eff, c_c, c_s, c_1, c_mu, damps, chi_n)


class CMAES(Distribution):
    """CMA-ES: ask/tell over ``mean (D,)``, a step size and a covariance matrix."""

    name = "cma-es"
    config_class = CMAESConfig
    cfg: CMAESConfig

    @property
    def separable(self) -> bool:
        return self.n_params > self.cfg.full_up_to

    def initial_state(self, mean: np.ndarray) -> State:
        d = mean.size
        s = {"mean": mean.copy(), "sigma": np.array(self.cfg.sigma)}
        s |= {"p_s": np.zeros(d), "p_c": np.zeros(d)}
        if d > self.cfg.full_up_to:
            return s | {"c_diag": np.ones(d)}
        return s | {"c": np.eye(d), "b": np.eye(d), "d": np.ones(d), "eigen_at": np.array(0.0)}

    @classmethod
    def state_shapes(cls, cfg: ESConfig, n_params: int) -> dict[str, tuple[int, ...]]:
        d = n_params
        shapes = {"mean": (d,), "sigma": (), "p_s": (d,), "p_c": (d,)}
        if d > cfg.full_up_to:  # type: ignore[attr-defined]
            return shapes | {"c_diag": (d,)}
        return shapes | {"c": (d, d), "b": (d, d), "d": (d,), "eigen_at": ()}

    def _shape(self, z: np.ndarray, s: State) -> np.ndarray:
        """``y = B diag(d) z`` for each row of ``z (n, D)``: N(0, C) draws."""
        if "c_diag" in s:
            return z * np.sqrt(s["c_diag"])
        return (z * s["d"]) @ s["b"].T

    def genomes(self, z: np.ndarray) -> np.ndarray:
        return self.mean + float(self.state_arrays["sigma"]) * self._shape(z, self.state_arrays)

    def update(self, z: np.ndarray, fitness: np.ndarray) -> State:
        s = {k: v.copy() for k, v in self.state_arrays.items()}
        k = constants(self.cfg.population, self.n_params, self.separable)
        mu = self.cfg.population // 2
        zs = z[rank(fitness)]  # best first; NaN ranks last
        y = self._shape(zs, s)
        z_w, y_w = k.weights[:mu] @ zs[:mu], k.weights[:mu] @ y[:mu]
        s["mean"] = s["mean"] + float(s["sigma"]) * y_w
        inv_sqrt_y = z_w if "c_diag" in s else s["b"] @ z_w  # C^(-1/2) y_w
        s["p_s"] = (1 - k.c_s) * s["p_s"] + math.sqrt(k.c_s * (2 - k.c_s) * k.mu_eff) * inv_sqrt_y
        norm = float(np.linalg.norm(s["p_s"]))
        decay = math.sqrt(1 - (1 - k.c_s) ** (2 * (self.generation + 1)))
        h_s = float(norm / decay / k.chi_n < 1.4 + 2 / (self.n_params + 1))
        s["p_c"] = (1 - k.c_c) * s["p_c"] + h_s * math.sqrt(k.c_c * (2 - k.c_c) * k.mu_eff) * y_w
        keep = 1 - k.c_1 - k.c_mu * k.weights.sum() + k.c_1 * (1 - h_s) * k.c_c * (2 - k.c_c)
        # A negative weight scales with n / |C^(-1/2) y_i|^2 = n / |z_i|^2, so that a long
        # step cannot shrink C too far (Hansen 2016, eq. 46).
        w = k.weights.copy()
        w[mu:] *= self.n_params / np.sum(zs[mu:] ** 2, axis=1)
        if "c_diag" in s:
            s["c_diag"] = keep * s["c_diag"] + k.c_1 * s["p_c"] ** 2 + k.c_mu * (w @ y**2)
        else:
            rank_mu = (y.T * w) @ y
            c = keep * s["c"] + k.c_1 * np.outer(s["p_c"], s["p_c"]) + k.c_mu * rank_mu
            s["c"] = np.triu(c) + np.triu(c, 1).T  # exactly symmetric, as a file must hold
            self._decompose(s, k)
        s["sigma"] = s["sigma"] * math.exp(k.c_s / k.damps * (norm / k.chi_n - 1))
        return s

    def _decompose(self, s: State, k: Constants) -> None:
        """Refresh ``b`` and ``d`` from ``c`` in place when it is due: the tutorial's
        ``1 / (c_1 + c_mu) / D / 10`` generations since the last time."""
        due = 1 / (k.c_1 + k.c_mu) / self.n_params / 10
        if self.generation + 1 - float(s["eigen_at"]) < due:
            return
        eigenvalues, s["b"] = np.linalg.eigh(s["c"])
        s["d"] = np.sqrt(np.maximum(eigenvalues, 1e-300))
        s["eigen_at"] = np.array(float(self.generation + 1))

    def spread(self) -> float:
        s = self.state_arrays
        scale = np.sqrt(s["c_diag"]) if "c_diag" in s else s["d"]
        return float(s["sigma"] * np.mean(scale))

    @classmethod
    def state_problem(cls, arrays: State) -> str:
        if not float(arrays["sigma"]) > 0:
            return "sigma must be positive"
        if "c_diag" in arrays and not (arrays["c_diag"] > 0).all():
            return "the covariance's diagonal must be positive"
        if "d" in arrays and not (arrays["d"] > 0).all():
            return "the covariance's eigenvalues must be positive"
        if "c" in arrays and not np.array_equal(arrays["c"], arrays["c"].T):
            return "the covariance must be symmetric"
        return ""
