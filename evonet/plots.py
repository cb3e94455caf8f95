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


def compare_runs(
    path: str | os.PathLike, runs: Sequence[tuple[str, Sequence[dict]]], score: str = "apples"
) -> Path:
    """Several runs' histories overlaid: the best and mean ``score`` (top) and the best and
    mean fitness (bottom), against generation (left) and against generation time (right,
    the sum of each generation's seconds, so start-up and pauses do not count).

    ``runs`` is ``(label, records)`` per run, records as in history.csv. One colour per
    run; best solid, mean dashed.
    """
    fig = Figure(figsize=(12, 8))
    axes = fig.subplots(2, 2)
    for i, (label, history) in enumerate(runs):
        colour = f"C{i % 10}"
        gen = [r["generation"] for r in history]
        minutes = np.cumsum([r["seconds"] for r in history]) / 60
        for row, (best, mean) in enumerate(
            [(f"best_{score}", f"mean_{score}"), ("best_fitness", "mean_fitness")]
        ):
            for col, x in enumerate((gen, minutes)):
                ax = axes[row][col]
                ax.plot(x, [r[best] for r in history], color=colour, label=label)
                ax.plot(x, [r[mean] for r in history], color=colour, ls="--")
    for row, name in enumerate((f"{score} per episode", "fitness")):
        for col, xlabel in enumerate(("generation", "generation time (minutes)")):
            ax = axes[row][col]
            ax.set_xlabel(xlabel)
            ax.set_ylabel(name)
            ax.grid(True, alpha=0.3)
    axes[0][0].legend(fontsize="small")
    fig.suptitle(f"{len(runs)} runs: best (solid) and population mean (dashed)")
    return _save(fig, path)
