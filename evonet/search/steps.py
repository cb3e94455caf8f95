"""Optimiser steps and fitness shaping shared by the evolution strategies (and Adam by
gradient descent, :mod:`evonet.train.optimizers`): pure functions of arrays, so a
strategy's whole state stays arrays a checkpoint can hold.
"""

from __future__ import annotations

import numpy as np

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


def adam_step(
    theta: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, lr: float
) -> None:
    """One Adam step of descent on ``theta (D,)`` in place, with its moments ``m, v (D,)``
    updated in place; ``t`` counts steps from 1 (Kingma and Ba 2015, algorithm 1)."""
    beta1, beta2 = ADAM_BETAS
    m += (1 - beta1) * (grad - m)
    v += (1 - beta2) * (grad * grad - v)
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    theta -= lr * m_hat / (np.sqrt(v_hat) + ADAM_EPS)


def clipup_step(
    grad: np.ndarray, velocity: np.ndarray, step_size: float, max_speed: float, momentum: float
) -> np.ndarray:
    """ClipUp's new velocity ``(D,)`` for an ascent along ``grad (D,)`` (Toklu et al. 2020):
    the gradient normalised to length ``step_size``, momentum, then the velocity clipped to
    length ``max_speed``. The caller adds it to the centre."""
    norm = float(np.linalg.norm(grad))
    step = grad * (step_size / norm) if norm > 0 else np.zeros_like(grad)
    new = momentum * velocity + step
    speed = float(np.linalg.norm(new))
    return new * (max_speed / speed) if speed > max_speed else new


def ascending_ranks(fitness: np.ndarray) -> np.ndarray:
    """``(P,)`` ranks from 0 (worst) to P - 1 (best); NaN ranks below everything, and ties
    take index order, so shaping is deterministic."""
    key = np.where(np.isnan(fitness), -np.inf, fitness)
    ranks = np.empty(fitness.size, dtype=np.int64)
    ranks[np.argsort(key, kind="stable")] = np.arange(fitness.size)
    return ranks


def centred_ranks(fitness: np.ndarray) -> np.ndarray:
    """``(P,)`` utilities evenly spaced in [-0.5, 0.5] by rank, best highest (Salimans et al.
    2017): invariant to any monotone change of the fitness, and robust to outliers."""
    return ascending_ranks(fitness) / (fitness.size - 1) - 0.5


def nes_utilities(fitness: np.ndarray) -> np.ndarray:
    """``(P,)`` utilities of natural evolution strategies (Wierstra et al. 2014, eq. 21):
    ``max(0, log(P/2 + 1) - log(k))`` for the k-th best, normalised to sum 1, minus 1/P."""
    p = fitness.size
    k = p - ascending_ranks(fitness)  # 1 for the best
    raw = np.maximum(0.0, np.log(p / 2 + 1) - np.log(k))
    return raw / raw.sum() - 1.0 / p
