"""Figures written to PNG with matplotlib's object API (no pyplot, no global state)."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from evonet.storage.archive import atomic_write
from evonet.text import count

if TYPE_CHECKING:
    from evonet.train.fit import TrainResult


def _save(fig: Figure, path: str | os.PathLike) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return atomic_write(path, lambda f: f.write(buf.getvalue()))


def training_curves(
    path: str | os.PathLike,
    res: TrainResult,
    title: str = "",
    fit: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    val_label: str = "validation",
) -> Path:
    """Training and validation (``val_label``) loss per epoch on a log scale; beside it
    the accuracies of a classifier, or with ``fit = (x, target, prediction)`` (each
    ``(N,)``) the target function and the network's prediction on the held-out points."""
    panels = 1 + bool(res.train_acc) + (fit is not None)
    fig = Figure(figsize=(5 * panels + 1, 4))
    axes = fig.subplots(1, panels, squeeze=False)[0]
    fig.suptitle(title)
    epochs = np.arange(1, len(res.train_loss) + 1)
    ax = axes[0]
    ax.plot(epochs, res.train_loss, label="training")
    if res.val_loss:
        ax.plot(epochs, res.val_loss, label=val_label)
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="loss", title="loss")
    ax.grid(True, alpha=0.3)
    ax.legend()
    if res.train_acc:
        ax = axes[1]
        ax.plot(epochs, res.train_acc, label="training")
        if res.val_acc:
            ax.plot(epochs, res.val_acc, label=val_label)
            ax.annotate(f"{res.val_acc[-1]:.3f}", (epochs[-1], res.val_acc[-1]),
                        textcoords="offset points", xytext=(-30, -14))  # fmt: skip
        ax.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
        ax.set_ylim(min(0.5, min(res.train_acc + res.val_acc)), 1.005)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower right")
    if fit is not None:
        x, target, pred = fit
        ax = axes[-1]
        ax.plot(x, target, label="target", lw=3, alpha=0.5)
        ax.plot(x, pred, "--", label="network")
        ax.set(xlabel="x", title="held-out points")
        ax.grid(True, alpha=0.3)
        ax.legend()
    return _save(fig, path)


def sweep_curves(
    path: str | os.PathLike, cells: Sequence[tuple[str, Sequence[Sequence[float]]]], title: str
) -> Path:
    """Training loss per epoch of every run, one colour per cell ``(label, runs)``: thin
    lines for the runs, so a cell whose seeds disagree shows as a spread."""
    fig = Figure(figsize=(8, 5))
    ax = fig.subplots()
    colours = _cell_colours(len(cells))
    for (label, runs), colour in zip(cells, colours, strict=True):
        for k, loss in enumerate(runs):
            ax.plot(np.arange(1, len(loss) + 1), loss, color=colour, lw=1.2, alpha=0.75,
                    label=label if k == 0 else None)  # fmt: skip
    # Log epochs when runs are long: early stops and plateaus of thousands of epochs both
    # stay readable (a short run reads better on a plain axis).
    if max((len(loss) for _, runs in cells for loss in runs), default=0) > 100:
        ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="training loss", title=title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", ncol=1 + len(cells) // 12)
    return _save(fig, path)


def _cell_colours(n: int) -> list:
    from matplotlib import colormaps

    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    return [colormaps["turbo"](i / max(1, n - 1)) for i in range(n)]


def confusion_matrix(
    path: str | os.PathLike, counts: np.ndarray, classes: Sequence[str], title: str = ""
) -> Path:
    """Counts ``(K, K)`` (row: target, column: prediction) as a shaded grid with each
    cell's count, and each target class's accuracy on the right."""
    k = counts.shape[0]
    names = list(classes) if len(classes) == k else [str(i) for i in range(k)]
    totals = counts.sum(axis=1)
    per_class = np.divide(np.diag(counts), totals, out=np.zeros(k), where=totals > 0)
    size = max(4.5, 0.55 * k + 2.5)
    fig = Figure(figsize=(size + 1.2, size))
    ax = fig.subplots()
    # Shade by the share of the target's row, so rare classes' errors still show.
    share = counts / np.maximum(totals, 1)[:, None]
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            if counts[i, j]:
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=9,
                        color="white" if share[i, j] > 0.5 else "black")  # fmt: skip
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), [f"{n}  {a:.0%}" for n, a in zip(names, per_class, strict=True)])
    ax.set_xlabel("predicted")
    ax.set_ylabel("target (with its accuracy)")
    overall = np.trace(counts) / max(1, counts.sum())
    ax.set_title(f"{title}\naccuracy {overall:.1%} of {counts.sum():,}" if title else
                 f"accuracy {overall:.1%} of {counts.sum():,}")  # fmt: skip
    return _save(fig, path)


def fitness_curves(
    path: str | os.PathLike,
    history: Sequence[dict],
    score: str = "apples",
    title: str = "",
    switches: Sequence[tuple[int, str]] = (),
) -> Path:
    """The best and mean ``score`` per generation (apples, return) and the best, mean and
    median fitness, from history records (see ``evonet.evolution.run.history_fields``).

    Each of ``switches``, ``(generation, what)``, marks where the run changed what it
    played (a dashed line labelled "``what`` from here"): the end of a curriculum (scores
    jump there), the first generation of more episodes a genome.
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
        for i, (at, what) in enumerate(switches):
            if gen and gen[0] <= at <= gen[-1]:
                style = ("--", ":", "-.")[i % 3]
                ax.axvline(at - 0.5, color="grey", ls=style, lw=1, label=f"{what} from here")
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
    fig.suptitle(f"{count(len(runs), 'run')}: best (solid) and population mean (dashed)")
    return _save(fig, path)
