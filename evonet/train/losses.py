"""Losses, their gradients at the output, and what a classifier's outputs say.

Every loss works on batches: predictions and targets ``(B, n_out)``, or ``(B, T, n_out)``
for sequences (a target at every step).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from evonet.nn import mlp, recurrent
from evonet.nn.mlp import Topology

LOSSES = ("mse", "cross_entropy")


def loss_value(y_pred: np.ndarray, y: np.ndarray, loss: str) -> float:
    """Mean loss over a batch. ``y_pred`` and ``y`` are ``(B, n_out)``.

    ``cross_entropy`` is binary per output for sigmoid outputs with one column, and
    categorical for softmax outputs (``y`` one-hot).
    """
    if loss == "mse":
        return float(np.mean((y_pred - y) ** 2))
    if loss == "cross_entropy":
        eps = np.finfo(y_pred.dtype).tiny
        p = np.clip(y_pred, eps, 1.0)
        if y_pred.shape[-1] == 1:
            q = np.clip(1.0 - y_pred, eps, 1.0)
            return float(-np.mean(y * np.log(p) + (1 - y) * np.log(q)))
        return float(-np.mean(np.sum(y * np.log(p), axis=-1)))
    raise ValueError(f"unknown loss {loss!r}; choose from {LOSSES}")


def check_loss(loss: str, topo: Topology) -> None:
    """Raise ValueError for a loss the output layer cannot serve."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose from {LOSSES}")
    if loss == "cross_entropy":
        if topo.output == "sigmoid" and topo.n_out == 1:
            return
        if topo.output == "softmax" and topo.n_out > 1:
            return
        raise ValueError(
            "cross_entropy needs a single sigmoid output or a softmax over 2+ outputs, "
            f"got {topo.n_out} {topo.output} output(s)"
        )


def loss_and_grad(
    theta: np.ndarray,
    topo: Topology,
    x: np.ndarray,
    y: np.ndarray,
    loss: str,
    weight_decay: float = 0.0,
) -> tuple[float, np.ndarray]:
    """Loss and its gradient with respect to the flat parameters.

    Args:
        theta: ``(D,)``; x: ``(B, n_in)``; y: ``(B, n_out)``; or sequences ``x (B, T,
            n_in)`` and ``y (B, T, n_out)``, through time for a recurrent network.
        weight_decay: adds ``weight_decay / 2 * sum(W**2)`` over weights (not biases).

    Returns:
        ``(loss, grad)`` with ``grad`` of shape ``(D,)`` in the genome layout.
    """
    check_loss(loss, topo)
    if topo.recurrent:
        seq = x if x.ndim == 3 else x[:, None]
        steps = recurrent.run_trace(theta, seq, topo)
        out = np.stack([s.out for s in steps], axis=1).reshape(y.shape)
        z_out = np.stack([s.z_out for s in steps], axis=1).reshape(y.shape)
    else:
        zs, acts = mlp.forward_trace(theta, x, topo)
        out, z_out = acts[-1], zs[-1]
    n = y.size if loss == "mse" else y.size // y.shape[-1]
    if loss == "mse":
        dz = mlp.activation_vjp(topo.output, z_out, out, 2.0 * (out - y) / n)
    else:
        # Fused softmax/sigmoid + cross-entropy: the gradient at z is (p - y) / B exactly.
        dz = (out - y) / n
    value = loss_value(out, y, loss)
    if topo.recurrent:
        grad = recurrent.backward(theta, topo, steps, dz.reshape(*seq.shape[:2], -1))
    else:
        grad = mlp.backward(theta, topo, zs, acts, dz)
    if weight_decay:
        mask = weight_mask(topo, theta.dtype)
        value += 0.5 * weight_decay * float(np.sum((theta * mask) ** 2))
        grad += weight_decay * mask * theta
    return value, grad


def weight_mask(topo: Topology, dtype: npt.DTypeLike = np.float64) -> np.ndarray:
    """``(D,)`` array: 1 at weights, 0 at biases."""
    mask = np.zeros(topo.n_params, dtype=dtype)
    for w, _b in mlp.unflatten(mask, topo):
        w[...] = 1
    return mask


# ------------------------------------------------------------------------- optimisers


def is_classifier(loss: str) -> bool:
    """Whether outputs are class probabilities: with cross-entropy they are (on a sigmoid
    or a softmax; :func:`check_loss` refuses any other output layer)."""
    return loss == "cross_entropy"


def predict_classes(y_pred: np.ndarray) -> np.ndarray:
    """``(B,)`` class indices from outputs ``(B, n_out)`` (``(B, T)`` from ``(B, T,
    n_out)``): argmax, or ``> 0.5`` for one sigmoid output."""
    if y_pred.shape[-1] == 1:
        return (y_pred[..., 0] > 0.5).astype(np.int64)
    return np.argmax(y_pred, axis=-1)


def accuracy(y_pred: np.ndarray, y: np.ndarray) -> float:
    """Share of rows (of steps, for sequences) whose predicted class is the target's;
    both ``(B, n_out)`` or ``(B, T, n_out)``."""
    return float(np.mean(predict_classes(y_pred) == predict_classes(y)))


def confusion(y_pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``(K, K)`` counts, row = target class, column = predicted class."""
    k = max(2, y.shape[-1])
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (predict_classes(y), predict_classes(y_pred)), 1)
    return counts
