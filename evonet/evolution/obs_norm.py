"""Observation normalisation: the running mean and variance of every observation the
evaluated episodes saw, folded into the networks' first layer.

A network that sees ``(x - mean) / std`` computes ``W^T (x - mean) / std + b``, which is
the plain network with ``W' = W / std`` (row by row) and ``b' = b - (mean / std) W``. So
the strategy searches in normalised coordinates while every genome that plays, and every
network that is saved, is an ordinary MLP: ``evaluate``, ``watch`` and the Gymnasium
wrapper play it unchanged. The statistics are frozen for a generation and updated between
generations from per-episode sums, reduced in one fixed order, so a generation stays a
pure function of its inputs, identical for any split over workers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evonet.nn import mlp
from evonet.nn.mlp import Topology

# Below this, a feature barely varies (or never has): dividing by its standard deviation
# would blow its weights up, and the folded bias would cancel catastrophically in float32.
MIN_STD = 1e-2


@dataclass
class ObsStats:
    """Observation sums of ``P x E`` episodes: ``count (P, E)`` live steps observed, and
    ``total``, ``squares (P, E, n_obs)`` the sums of the observations and of their squares."""

    count: np.ndarray
    total: np.ndarray
    squares: np.ndarray


@dataclass
class ObsNorm:
    """The running statistics: ``count`` observations so far, their ``mean (n_obs,)`` and
    population ``var (n_obs,)``, all float64."""

    count: float
    mean: np.ndarray
    var: np.ndarray

    @classmethod
    def empty(cls, n_obs: int) -> ObsNorm:
        """No observation yet: the identity (mean 0, variance 1)."""
        return cls(0.0, np.zeros(n_obs), np.ones(n_obs))

    def std(self) -> np.ndarray:
        """``(n_obs,)`` standard deviations, at least :data:`MIN_STD`."""
        return np.maximum(np.sqrt(self.var), MIN_STD)

    def update(self, stats: ObsStats) -> None:
        """Add a generation's observations (Chan et al.'s pairwise combination of means
        and variances). Sums run over the episodes in ``(P, E)`` order, whatever the split."""
        n = float(stats.count.sum())
        if n == 0:
            return
        n_obs = self.mean.size
        total = stats.total.reshape(-1, n_obs).sum(axis=0)
        squares = stats.squares.reshape(-1, n_obs).sum(axis=0)
        mean = total / n
        var = np.maximum(squares / n - mean**2, 0.0)
        both = self.count + n
        delta = mean - self.mean
        m2 = self.var * self.count + var * n + delta**2 * self.count * n / both
        self.mean = self.mean + delta * n / both
        self.var = m2 / both
        self.count = both

    def fold(self, genomes: np.ndarray, topo: Topology) -> np.ndarray:
        """Genomes ``(P, D)`` (or ``(D,)``) that play on raw observations as ``genomes``
        play on normalised ones: the normaliser folded into the first layer. A copy."""
        out = np.array(genomes, dtype=genomes.dtype, copy=True)
        w, b = mlp.unflatten(out, topo)[0]
        w = w[..., : topo.n_in, :]  # a recurrent layer's last rows read its state
        std = self.std()
        shift = ((self.mean / std) @ w.astype(np.float64)).astype(out.dtype)  # (..., h)
        w /= std[:, None].astype(out.dtype)
        b -= shift
        return out

    def state(self) -> dict[str, np.ndarray]:
        """Arrays a checkpoint stores: ``obs_count ()``, ``obs_mean``, ``obs_var (n_obs,)``."""
        return {"obs_count": np.array(self.count), "obs_mean": self.mean, "obs_var": self.var}

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray]) -> ObsNorm:
        return cls(float(arrays["obs_count"]), arrays["obs_mean"].copy(), arrays["obs_var"].copy())

    @staticmethod
    def state_problem(arrays: dict[str, np.ndarray]) -> str:
        """What is wrong with statistics read from a file (empty if nothing)."""
        count = float(arrays["obs_count"])
        if not (count >= 0 and count.is_integer()):
            return "obs_count must be a whole number >= 0"
        if not (arrays["obs_var"] >= 0).all():
            return "obs_var must be >= 0"
        return ""
