"""The fit loop: gradient descent on the same flat parameter vector ``(D,)`` that the
genetic algorithm evolves, with the gradient from :func:`evonet.nn.mlp.backward`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from evonet.fields import setting
from evonet.nn import recurrent
from evonet.nn.mlp import Topology
from evonet.train.losses import (
    LOSSES,
    accuracy,
    check_loss,
    is_classifier,
    loss_and_grad,
    loss_value,
)
from evonet.train.optimizers import OPTIMIZERS, Optimizer

MAX_EPOCHS = 1_000_000  # a run's per-epoch history stays a few megabytes


@dataclass
class TrainConfig:
    """Settings of one gradient-descent run."""

    loss: str = setting("mse", "mse or cross_entropy.")
    optimizer: str = setting("adam", "Update rule: sgd, momentum or adam.")
    lr: float = setting(0.01, "Initial learning rate.")
    epochs: int = setting(1000, "Passes over the training set.")
    batch_size: int = setting(
        32, "Samples per gradient step; the last batch of an epoch may be smaller."
    )
    weight_decay: float = setting(0.0, "L2 penalty on weights, not biases.")
    target_loss: float | None = setting(
        None, "Stop once the epoch's training loss is at or below this."
    )
    cosine: bool = setting(
        True, "Anneal the learning rate to zero over the epochs along a half cosine."
    )

    def validate(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose from {LOSSES}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose from {OPTIMIZERS}")
        if not (self.lr > 0 and np.isfinite(self.lr)):
            raise ValueError(f"--lr must be a positive finite number, got {self.lr}")
        if not 1 <= self.epochs <= MAX_EPOCHS:
            raise ValueError(f"--epochs must be from 1 to {MAX_EPOCHS:,}, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"--batch-size must be positive, got {self.batch_size}")
        if not (self.weight_decay >= 0 and np.isfinite(self.weight_decay)):
            raise ValueError(
                f"--weight-decay must be a finite number >= 0, got {self.weight_decay}"
            )
        if self.target_loss is not None and not np.isfinite(self.target_loss):
            raise ValueError(f"--target-loss must be a finite number, got {self.target_loss}")


def fit_bytes(topo: Topology, n_rows: int, itemsize: int = 8) -> int:
    """An upper estimate of the memory :func:`fit` needs for ``n_rows`` samples: about ten
    parameter-sized arrays (the copy, gradient, optimiser moments, weight-decay mask and
    temporaries) plus each layer's pre-activations and activations for every row."""
    return itemsize * (10 * topo.n_params + 3 * n_rows * sum(topo.sizes))


@dataclass
class TrainResult:
    """What :func:`fit` returns: the trained parameters and per-epoch history.

    Losses are full-set losses after each epoch, without weight decay; the accuracies are
    recorded for classifiers only (cross-entropy) and are empty otherwise.
    """

    theta: np.ndarray
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    epochs: int = 0
    steps: int = 0
    seconds: float = 0.0
    reached_target: bool = False
    stopped: bool = False  # on_step asked to stop (the live view's q)


def fit(
    theta: np.ndarray,
    topo: Topology,
    x: np.ndarray,
    y: np.ndarray,
    cfg: TrainConfig,
    rng: np.random.Generator,
    x_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    on_epoch: Callable[[TrainResult], None] | None = None,
    on_step: Callable[[np.ndarray, np.ndarray, TrainResult], bool] | None = None,
) -> TrainResult:
    """Train a copy of ``theta`` ``(D,)`` on ``x (N, n_in)``, ``y (N, n_out)``.

    Mini-batches come from a fresh permutation per epoch drawn from ``rng``; ``x_val``,
    ``y_val`` are scored after every epoch. ``on_epoch(result)`` is called after each epoch
    with the result so far (e.g. to drive a progress bar). ``on_step(theta, batch, result)``
    is called after every update with the parameters ``(D,)`` and the batch's row indices
    ``(b,)``; returning True stops training there, keeping what was learned.
    """
    cfg.validate()
    check_loss(cfg.loss, topo)
    theta = theta.copy()
    opt = Optimizer(cfg.optimizer, cfg.lr, theta.size, theta.dtype)
    res = TrainResult(theta)
    start = time.perf_counter()
    for epoch in range(cfg.epochs):
        _epoch(theta, topo, x, y, cfg, rng, opt, epoch, res, on_step)
        _score(theta, topo, (x, y), (x_val, y_val), cfg.loss, res)
        res.epochs = epoch + 1
        res.seconds = time.perf_counter() - start  # so far: a run stopped midway has it too
        if on_epoch is not None:
            on_epoch(res)
        train = res.train_loss[-1]
        if res.stopped or not np.isfinite(train):
            break
        if cfg.target_loss is not None and train <= cfg.target_loss:
            res.reached_target = True
            break
    res.seconds = time.perf_counter() - start
    return res


def _epoch(
    theta: np.ndarray,
    topo: Topology,
    x: np.ndarray,
    y: np.ndarray,
    cfg: TrainConfig,
    rng: np.random.Generator,
    opt: Optimizer,
    epoch: int,
    res: TrainResult,
    on_step: Callable[[np.ndarray, np.ndarray, TrainResult], bool] | None,
) -> None:
    """One pass over ``x (N, n_in)``, ``y (N, n_out)`` in the minibatches of a fresh
    permutation from ``rng``, updating ``theta (D,)`` in place; ``on_step`` may stop it."""
    lr = cfg.lr
    if cfg.cosine:
        lr = 0.5 * cfg.lr * (1 + np.cos(np.pi * epoch / cfg.epochs))
    order = rng.permutation(x.shape[0])
    for lo in range(0, x.shape[0], cfg.batch_size):
        idx = order[lo : lo + cfg.batch_size]
        _, grad = loss_and_grad(theta, topo, x[idx], y[idx], cfg.loss, cfg.weight_decay)
        opt.step(theta, grad, lr)
        res.steps += 1
        if on_step is not None and on_step(theta, idx, res):
            res.stopped = True
            return


def _score(
    theta: np.ndarray,
    topo: Topology,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray | None, np.ndarray | None],
    loss: str,
    res: TrainResult,
) -> None:
    """Append the epoch's full-set losses (and accuracies, for a classifier) to ``res``."""
    out = recurrent.run(theta, train[0], topo)
    res.train_loss.append(loss_value(out, train[1], loss))
    if is_classifier(loss):
        res.train_acc.append(accuracy(out, train[1]))
    x_val, y_val = val
    if x_val is not None and y_val is not None:
        out_val = recurrent.run(theta, x_val, topo)
        res.val_loss.append(loss_value(out_val, y_val, loss))
        if is_classifier(loss):
            res.val_acc.append(accuracy(out_val, y_val))
