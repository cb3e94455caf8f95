"""Gradient-descent training of the flat-vector MLP: losses, optimisers, tasks.

The trainer works on the same flat parameter vector ``(D,)`` that the genetic algorithm
evolves, using :func:`evonet.nn.mlp.backward` for the gradient.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from evonet.fields import setting
from evonet.nn import mlp
from evonet.nn.mlp import Topology

LOSSES = ("mse", "cross_entropy")
MAX_EPOCHS = 1_000_000  # a run's per-epoch history stays a few megabytes
OPTIMIZERS = ("sgd", "momentum", "adam")


# ----------------------------------------------------------------------------- losses


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
        theta: ``(D,)``; x: ``(B, n_in)``; y: ``(B, n_out)``.
        weight_decay: adds ``weight_decay / 2 * sum(W**2)`` over weights (not biases).

    Returns:
        ``(loss, grad)`` with ``grad`` of shape ``(D,)`` in the genome layout.
    """
    check_loss(loss, topo)
    zs, acts = mlp.forward_trace(theta, x, topo)
    out, z_out = acts[-1], zs[-1]
    n = y.shape[0] * (y.shape[1] if loss == "mse" else 1)
    if loss == "mse":
        dz = mlp.activation_vjp(topo.output, z_out, out, 2.0 * (out - y) / n)
    else:
        # Fused softmax/sigmoid + cross-entropy: the gradient at z is (p - y) / B exactly.
        dz = (out - y) / n
    value = loss_value(out, y, loss)
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


class Optimizer:
    """Updates ``theta`` in place from a gradient. State arrays have shape ``(D,)``."""

    def __init__(self, name: str, lr: float, n_params: int, dtype: npt.DTypeLike) -> None:
        if name not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {name!r}; choose from {OPTIMIZERS}")
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        self.name, self.lr, self.t = name, lr, 0
        self.beta1, self.beta2, self.eps, self.momentum = 0.9, 0.999, 1e-8, 0.9
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
            self.m += (1 - self.beta1) * (grad - self.m)
            self.v += (1 - self.beta2) * (grad * grad - self.v)
            m_hat = self.m / (1 - self.beta1**self.t)
            v_hat = self.v / (1 - self.beta2**self.t)
            theta -= lr * m_hat / (np.sqrt(v_hat) + self.eps)


# -------------------------------------------------------------------------- the loop


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


def is_classifier(loss: str) -> bool:
    """Whether outputs are class probabilities: with cross-entropy they are (on a sigmoid
    or a softmax; :func:`check_loss` refuses any other output layer)."""
    return loss == "cross_entropy"


def predict_classes(y_pred: np.ndarray) -> np.ndarray:
    """``(B,)`` class indices from outputs ``(B, n_out)``: argmax, or ``> 0.5`` for one
    sigmoid output."""
    if y_pred.shape[-1] == 1:
        return (y_pred[:, 0] > 0.5).astype(np.int64)
    return np.argmax(y_pred, axis=-1)


def accuracy(y_pred: np.ndarray, y: np.ndarray) -> float:
    """Share of rows whose predicted class is the target's; both ``(B, n_out)``."""
    return float(np.mean(predict_classes(y_pred) == predict_classes(y)))


def confusion(y_pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``(K, K)`` counts, row = target class, column = predicted class."""
    k = max(2, y.shape[-1])
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (predict_classes(y), predict_classes(y_pred)), 1)
    return counts


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
    classify = is_classifier(cfg.loss)
    has_val = x_val is not None and y_val is not None
    n = x.shape[0]
    start = time.perf_counter()
    for epoch in range(cfg.epochs):
        lr = cfg.lr
        if cfg.cosine:
            lr = 0.5 * cfg.lr * (1 + np.cos(np.pi * epoch / cfg.epochs))
        order = rng.permutation(n)
        for lo in range(0, n, cfg.batch_size):
            idx = order[lo : lo + cfg.batch_size]
            _, grad = loss_and_grad(theta, topo, x[idx], y[idx], cfg.loss, cfg.weight_decay)
            opt.step(theta, grad, lr)
            res.steps += 1
            if on_step is not None and on_step(theta, idx, res):
                res.stopped = True
                break
        out = mlp.forward(theta, x, topo)
        res.train_loss.append(loss_value(out, y, cfg.loss))
        if classify:
            res.train_acc.append(accuracy(out, y))
        if has_val:
            out_val = mlp.forward(theta, x_val, topo)
            res.val_loss.append(loss_value(out_val, y_val, cfg.loss))
            if classify:
                res.val_acc.append(accuracy(out_val, y_val))
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


# ------------------------------------------------------------------------------ tasks


@dataclass(frozen=True)
class Data:
    """Arrays of a task. ``x (N, n_in)``, ``y (N, n_out)`` train; ``x_val``, ``y_val`` are
    scored every epoch; ``x_test``, ``y_test`` once at the end. (Sine has no validation
    set: its test points are scored every epoch. XOR's test set is its four cases.)

    ``shift`` and ``scale`` ``(n_in,)``, when set, are how the raw inputs were
    standardised: ``x = (raw - shift) / scale``. :func:`raw_input_network` folds them into
    the first layer, so that a saved network reads raw inputs.
    """

    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    shift: np.ndarray | None = None
    scale: np.ndarray | None = None
    classes: tuple[str, ...] = ()  # class names, for a classifier's confusion matrix
    image: tuple[int, int] | None = None  # (rows, cols): inputs are a picture

    @property
    def val(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """What is scored every epoch: the validation set; else the test set; or
        ``(None, None)`` when the test set is the training set itself (XOR's four cases),
        where a second curve would only repeat the first."""
        if self.x_val is not None and self.y_val is not None:
            return self.x_val, self.y_val
        if self.x_test is self.x:
            return None, None
        return self.x_test, self.y_test


def raw_input_network(theta: np.ndarray, topo: Topology, data: Data) -> np.ndarray:
    """Parameters ``(D,)`` for raw inputs: ``forward(result, raw) == forward(theta, x)``.

    With ``x = (raw - shift) / scale``, the first layer ``x @ W + b`` equals
    ``raw @ (W / scale[:, None]) + (b - (shift / scale) @ W)``.
    """
    if data.shift is None or data.scale is None:
        return theta
    out = theta.copy()
    w, b = mlp.unflatten(out, topo)[0]
    b -= (data.shift / data.scale) @ w
    w /= data.scale[:, None]
    return out


@dataclass(frozen=True)
class Task:
    """A supervised task with its default network and training settings.

    ``make_data(rng)`` builds the arrays; with ``fixed_data`` it ignores ``rng`` (a split
    fixed once for all runs), so one :class:`Data` serves every run. ``metrics(theta,
    topo, data)`` scores a trained network on the test set and says whether it ``solved``
    the task.
    """

    name: str
    n_in: int
    n_out: int
    hidden: tuple[int, ...]
    activation: str
    output: str
    config: TrainConfig
    make_data: Callable[[np.random.Generator], Data]
    metrics: Callable[[np.ndarray, Topology, Data], dict]
    summary: str = ""  # one line for --help
    fixed_data: bool = False

    def topology(
        self, hidden: tuple[int, ...] | None = None, activation: str | None = None
    ) -> Topology:
        return Topology(
            (self.n_in, *(self.hidden if hidden is None else hidden), self.n_out),
            activation or self.activation,
            self.output,
        )
