"""Figures written to PNG with matplotlib's object API (no pyplot, no global state)."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from evonet.archive import atomic_write


def _save(fig: Figure, path: str | os.PathLike) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return atomic_write(path, lambda f: f.write(buf.getvalue()))


def loss_curves(
    path: str | os.PathLike,
    train_loss: Sequence[float],
    test_loss: Sequence[float] | None = None,
    title: str = "",
    fit: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> Path:
    """Loss per epoch on a log scale; with ``fit = (x, target, prediction)`` (each ``(N,)``)
    a second panel shows the target function and the network's prediction."""
    fig = Figure(figsize=(10 if fit is not None else 6, 4))
    axes = fig.subplots(1, 2 if fit is not None else 1, squeeze=False)[0]
    ax = axes[0]
    epochs = np.arange(1, len(train_loss) + 1)
    ax.plot(epochs, train_loss, label="train")
    if test_loss:
        ax.plot(epochs, test_loss, label="held-out")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title or "loss")
    ax.grid(True, alpha=0.3)
    ax.legend()
    if fit is not None:
        x, target, pred = fit
        axes[1].plot(x, target, label="target", lw=3, alpha=0.5)
        axes[1].plot(x, pred, "--", label="network")
        axes[1].set_xlabel("x")
        axes[1].set_title("held-out points")
        axes[1].grid(True, alpha=0.3)
        axes[1].legend()
    return _save(fig, path)


def fitness_curves(
    path: str | os.PathLike,
    history: Sequence[dict],
    score: str = "apples",
    title: str = "",
    switch: tuple[int, str] | None = None,
) -> Path:
    """The best and mean ``score`` per generation (apples, return) and the best, mean and
    median fitness, from history records (see ``evonet.evolve.history_fields``).

    ``switch = (generation, game)`` marks where a curriculum ended: from that generation
    on, the run played ``game`` (a dashed line; scores jump there).
    """
    gen = [r["generation"] for r in history]
    fig = Figure(figsize=(10, 4))
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(gen, [r[f"best_{score}"] for r in history], label="best genome")
    ax1.plot(gen, [r[f"mean_{score}"] for r in history], label="population mean")
    ax1.set_xlabel("generation")
    ax1.set_ylabel(f"{score} per episode")
    ax1.set_title(score)
    ax2.plot(gen, [r["best_fitness"] for r in history], label="best")
    ax2.plot(gen, [r["mean_fitness"] for r in history], label="mean")
    ax2.plot(gen, [r["median_fitness"] for r in history], label="median")
    ax2.set_xlabel("generation")
    ax2.set_ylabel("fitness")
    ax2.set_title("fitness")
    for ax in (ax1, ax2):
        if switch is not None and gen and gen[0] <= switch[0] <= gen[-1]:
            ax.axvline(switch[0] - 0.5, color="grey", ls="--", lw=1, label=f"{switch[1]} from here")
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return _save(fig, path)
