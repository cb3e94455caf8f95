"""``evonet train TASK``: fit the MLP by gradient descent; grids of settings; a live view."""

from __future__ import annotations

import argparse
import dataclasses
import statistics
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from evonet.cli.args import (
    check_writable,
    hidden_sizes,
    int_in,
    nonneg_float,
    nonneg_int,
    positive_float,
    positive_int,
)
from evonet.cli.errors import UsageError
from evonet.cli.help import examples, flag_doc
from evonet.cli.output import emit_json, info
from evonet.evolution.config import parse_hidden
from evonet.memory import OverBudget, check_memory
from evonet.nn import mlp
from evonet.storage.checkpoint import file_kind, save_network
from evonet.text import count
from evonet.train import sweep
from evonet.train.fit import (
    MAX_EPOCHS,
    OPTIMIZERS,
    Data,
    Task,
    TrainConfig,
    TrainResult,
    confusion,
    fit,
    fit_bytes,
    is_classifier,
    raw_input_network,
)
from evonet.train.tasks.registry import TASKS


def _per_task(get: Callable[[Task], object]) -> str:
    """A default that depends on the task, as ``digits X, sine Y, xor Z``."""
    return ", ".join(f"{name} {_shown(get(task))}" for name, task in sorted(TASKS.items()))


def _shown(value: object) -> str:
    return "none" if value is None else sweep.shown(value)


# TrainConfig's settings that are flags, with how each is parsed; their help and the
# tasks' defaults come from TrainConfig and TASKS. (--schedule sets ``cosine``.)
TRAIN_FLAGS = {
    "optimizer": {"choices": OPTIMIZERS},
    "lr": {"type": positive_float},
    "epochs": {"type": int_in(1, MAX_EPOCHS)},
    "batch_size": {"type": positive_int},
    "weight_decay": {"type": nonneg_float},
    "target_loss": {"type": positive_float},
}
SCHEDULES = ("constant", "cosine")
MAX_RUNS = 10_000  # seeds per setting; every run's result is kept for the summary


def _choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def convert(text: str) -> str:
        if text not in choices:
            raise ValueError(f"choose from {', '.join(choices)}")
        return text

    return convert


def _sweep_hidden(text: str) -> tuple[int, ...]:
    """A swept hidden value: ``10`` or ``10-25`` (commas separate a sweep's values)."""
    try:
        return parse_hidden(text.replace("-", ","))
    except ValueError:
        raise ValueError("expected layer sizes like 10 or 10-25 (positive whole numbers)") from None


def _value(parse: Callable[[str], object]) -> Callable[[str], object]:
    """A flag's argparse type as a plain parser, raising ValueError."""

    def convert(text: str) -> object:
        try:
            return parse(text)
        except argparse.ArgumentTypeError as e:
            raise ValueError(str(e)) from None

    return convert


# What --sweep can vary, and how each value is read: the flags' own parsers (a hidden
# value is written 10-25, since commas separate the values).
SWEEPABLE: dict[str, Callable[[str], object]] = {
    "hidden": _sweep_hidden,
    "activation": _choice(mlp.HIDDEN_ACTIVATIONS),
    "schedule": _choice(SCHEDULES),
    **{k: _value(f["type"]) if "type" in f else _choice(f["choices"])
       for k, f in TRAIN_FLAGS.items()},
}  # fmt: skip


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train the MLP by gradient descent on sine, xor or handwritten digits",
        description="Train the same MLP by gradient descent: sine, xor or handwritten digits.",
        epilog=examples(
            (
                "evonet train digits --plot digits.png --confusion confusion.png",
                "8x8 digits: loss and accuracy curves, and the confusion matrix",
            ),
            (
                "evonet train xor --sweep hidden=2,4,8 --sweep lr=0.1,0.5 --runs 5",
                "a grid of settings, 5 seeds per cell, as a table (--plot overlays the curves)",
            ),
            ("evonet train xor --live", "watch the network learn, in a window (q quits)"),
            notes="Defaults depend on the task: sine 1-10-25-1 tanh/linear with Adam; xor "
            "2-4-1 tanh/sigmoid with momentum; digits 64-128-10 relu/softmax with Adam and "
            "weight decay, on scikit-learn's 8x8 digits (pip install 'evonet[digits]') or "
            "MNIST's IDX files with --data.",
        ),  # fmt: skip
    )
    p.add_argument(
        "task",
        choices=sorted(TASKS),
        help="; ".join(f"{n}: {t.summary}" for n, t in sorted(TASKS.items())),
    )
    p.add_argument(
        "--data",
        metavar="FOLDER",
        help="digits only: read MNIST's IDX files (train-images-idx3-ubyte and the other "
        "three, gzipped or not) from FOLDER (default: scikit-learn's 8x8 digits)",
    )
    p.add_argument(
        "--hidden",
        type=hidden_sizes,
        help="hidden layer sizes, e.g. 10,25; '' for none "
        f"(default: {_per_task(lambda t: ','.join(map(str, t.hidden)))})",
    )
    p.add_argument(
        "--activation",
        choices=mlp.HIDDEN_ACTIVATIONS,
        help=f"hidden activation (default: {_per_task(lambda t: t.activation)})",
    )
    for name, kwargs in TRAIN_FLAGS.items():
        p.add_argument(
            f"--{name.replace('_', '-')}",
            **kwargs,
            help=f"{flag_doc(TrainConfig, name)} "
            f"(default: {_per_task(lambda t, n=name: getattr(t.config, n))})",
        )
    p.add_argument(
        "--schedule",
        choices=SCHEDULES,
        help="learning-rate schedule "
        f"(default: {_per_task(lambda t: 'cosine' if t.config.cosine else 'constant')})",
    )
    p.add_argument("--seed", type=nonneg_int, default=0, help="first seed (default: 0)")
    p.add_argument(
        "--runs",
        type=int_in(1, MAX_RUNS),
        default=1,
        help="train from N seeds in a row, from --seed on (default: 1)",
    )
    p.add_argument(
        "--sweep",
        action="append",
        metavar="KEY=V1,V2",
        help="train every combination of these values, --runs seeds each, and print a "
        f"table; repeat for a grid. KEY: {', '.join(SWEEPABLE)}; hidden values are "
        "written 10-25 (default: none)",
    )
    p.add_argument(
        "--plot",
        metavar="FILE.png",
        help="write the loss curves (and accuracy for digits and xor, the fit for sine; "
        "with --sweep, every cell's loss curves overlaid) (default: none)",
    )
    p.add_argument(
        "--confusion",
        metavar="FILE.png",
        help="digits and xor: write the test set's confusion matrix (default: none)",
    )
    p.add_argument(
        "--live",
        nargs="?",
        const="window",
        choices=("window", "terminal"),
        help="watch one run learn: the network, the sample fed, the loss; space pauses, "
        "+/- change speed, q stops and keeps what was learned (default: off; "
        "bare --live: window)",
    )
    p.add_argument(
        "--save", metavar="FILE.npz", help="write the first run's network (default: none)"
    )
    p.add_argument("--json", action="store_true", help="last stdout line is one JSON object")
    p.set_defaults(run=run)


@dataclasses.dataclass
class Cell:
    """One setting of a grid (the defaults when there is no --sweep), and its runs."""

    settings: dict[str, object]
    topo: mlp.Topology
    cfg: TrainConfig
    results: list[tuple[TrainResult, dict]] = dataclasses.field(default_factory=list)

    @property
    def label(self) -> str:
        return sweep.label(self.settings)


def _cell(task: Task, args: argparse.Namespace, settings: dict[str, object]) -> Cell:
    """The network and settings of a cell: flags, then the cell's swept values on top."""
    overrides = {name: getattr(args, name) for name in TRAIN_FLAGS}
    overrides["cosine"] = None if args.schedule is None else args.schedule == "cosine"
    hidden, activation = args.hidden, args.activation
    for key, value in settings.items():
        if key == "hidden":
            hidden = value
        elif key == "activation":
            activation = value
        elif key == "schedule":
            overrides["cosine"] = value == "cosine"
        else:
            overrides[key] = value
    cfg = dataclasses.replace(task.config, **{k: v for k, v in overrides.items() if v is not None})
    try:
        cfg.validate()
        topo = task.topology(hidden, activation)
    except ValueError as e:
        raise UsageError(str(e)) from None
    return Cell(settings, topo, cfg)


def _task(args: argparse.Namespace) -> Task:
    task = TASKS[args.task]
    if args.data is None:
        return task
    if args.task != "digits":
        raise UsageError(f"--data reads MNIST for the digits task; {args.task} makes its own data")
    from evonet.train.tasks import digits, idx

    if not Path(args.data).is_dir():
        raise UsageError(f"--data {args.data}: is not a folder")
    try:
        task = digits.from_folder(args.data)
    except (idx.IdxError, OverBudget) as e:
        raise UsageError(f"--data {e}") from None
    data = task.make_data(np.random.default_rng(0))  # the arrays read above, shared
    side = data.image[0] if data.image else "?"
    info(
        f"evonet: {len(data.x):,} training, {len(data.x_val):,} validation and "
        f"{len(data.x_test):,} test images, {side}x{side} pixels"
    )
    return task


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SUFFIXES = {"plot": ".png", "confusion": ".png", "save": ".npz"}


def _check_outputs(args: argparse.Namespace, classifier: bool) -> dict[str, Path | None]:
    """The output files, checked before any training: writable, named for what they
    hold, each a different file, and never replacing a file of another kind."""
    paths = {flag: check_writable(getattr(args, flag), f"--{flag}") for flag in SUFFIXES}
    given = {flag: p for flag, p in paths.items() if p is not None}
    for flag, path in given.items():
        if path.suffix.lower() != SUFFIXES[flag]:
            raise UsageError(f"--{flag} {path}: use a name ending in {SUFFIXES[flag]}")
    seen: dict[Path, str] = {}
    for flag, path in given.items():
        other = seen.setdefault(path.resolve(), flag)
        if other != flag:
            raise UsageError(f"--{other} and --{flag} name the same file {path}; give two names")
    for flag in ("plot", "confusion"):
        path = paths[flag]
        if path is not None and path.is_file() and not _is_png(path):
            raise UsageError(
                f"--{flag} {path}: holds a file that is not a PNG; choose another name"
            )
    if paths["confusion"] is not None and not classifier:
        raise UsageError(f"--confusion: {args.task} is not a classification task")
    if args.sweep and (paths["confusion"] or paths["save"]):
        flag = "--confusion" if paths["confusion"] else "--save"
        raise UsageError(f"{flag} keeps one network, a sweep trains many; drop --sweep for it")
    save_path = paths["save"]
    if save_path is not None and save_path.exists():
        # Replacing a network file is what --save does; anything else was saved by
        # something else (a run's checkpoint, someone's data) and is never replaced.
        kind = file_kind(save_path)
        if kind != "network":
            what = "an evolution checkpoint" if kind else "a file that is not an evonet network"
            raise UsageError(f"--save {save_path}: holds {what}; choose another name")
    return paths


def _is_png(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(8) == PNG_MAGIC
    except OSError:
        return False


def run(args: argparse.Namespace) -> int:
    sweeps = []
    for text in args.sweep or []:
        try:
            sweeps.append(sweep.parse(text, SWEEPABLE))
        except ValueError as e:
            raise UsageError(f"--sweep {e}") from None
    try:
        settings = sweep.grid(sweeps)
    except ValueError as e:
        raise UsageError(f"--sweep: {e}") from None
    if args.live and (sweeps or args.runs > 1):
        raise UsageError("--live watches one run; drop --sweep and --runs")
    task = _task(args)
    cells = [_cell(task, args, s) for s in settings]
    paths = _check_outputs(args, is_classifier(task.config.loss))

    # Every run's data has the first run's size: check the networks fit before any bar.
    try:
        sample = task.make_data(np.random.default_rng(args.seed))
    except ValueError as e:  # the digits' scikit-learn is missing
        raise UsageError(str(e)) from None
    rows = max(
        len(sample.x), len(sample.x_test), len(sample.x_val if sample.x_val is not None else ())
    )
    try:
        for cell in cells:
            check_memory(
                fit_bytes(cell.topo, rows),
                f"training a {_sizes(cell.topo)} network",
                "use smaller --hidden",
            )
    except OverBudget as e:
        raise UsageError(str(e)) from None

    if args.live:
        return _live(args, task, cells[0], paths["save"])
    _train_cells(task, cells, args, sample if task.fixed_data else None)

    first_cell = cells[0]
    first, first_metrics = first_cell.results[0]
    topo = first_cell.topo
    if paths["plot"] is not None:
        plot_path = paths["plot"]
        if sweeps:
            _write(lambda: _plot_sweep(plot_path, task.name, cells), "--plot", plot_path)
        else:
            fit_panel = _fit_panel(task, topo, first, sample)
            # Sine scores its test points each epoch: it has no validation set (Data).
            val = "held-out" if sample.x_val is None else "validation"
            _write(
                lambda: _plot(plot_path, first, task.name, topo, fit_panel, val),
                "--plot",
                plot_path,
            )
        info(f"wrote {plot_path}")
    if paths["confusion"] is not None:
        conf_path = paths["confusion"]
        _write(lambda: _plot_confusion(conf_path, task, first, topo, sample), "--confusion",
               conf_path)  # fmt: skip
        info(f"wrote {conf_path}")
    diverged = not np.isfinite(first.theta).all()
    if paths["save"] is not None and not diverged:
        _save(paths["save"], task, first, first_metrics, topo, args.seed, sample)

    if sweeps:
        table = _sweep_table(cells)
        if args.json:
            emit_json({"task": task.name, "runs": args.runs, "cells": table})
        else:
            print(_sweep_text(task.name, table, args.runs))
        return 0
    summary = _summary(task.name, first_cell.results)
    if args.json:
        emit_json(summary)
    elif args.runs > 1:
        print(
            f"{task.name}: solved {summary['solved_runs']} of {count(args.runs, 'run')} "
            f"({_sizes(topo)} {topo.hidden})"
        )
    if diverged:
        # A network of NaN weights is never written: it could not be loaded or used.
        unsaved = f"; {paths['save']} was not written" if paths["save"] is not None else ""
        info(
            f"evonet: training diverged to NaN or infinite weights{unsaved}; "
            "try a smaller --lr (or --weight-decay)"
        )
        return 1
    return 0


def _train_cells(
    task: Task, cells: list[Cell], args: argparse.Namespace, shared: Data | None
) -> None:
    """Train every cell from seeds ``--seed`` on, with one progress bar over all epochs;
    ``shared``: the data of a task whose data is the same for every seed."""
    total = sum(c.cfg.epochs for c in cells) * args.runs
    quiet = args.json or len(cells) > 1
    with tqdm(total=total, desc=f"train {task.name}", unit="epoch", leave=False) as bar:
        for k, cell in enumerate(cells):
            for r in range(args.runs):
                seed = args.seed + r
                where = {"run": f"{r + 1}/{args.runs}"}
                if len(cells) > 1:
                    where = {"cell": f"{k + 1}/{len(cells)}", **where}

                def tick(res: TrainResult, where: dict = where) -> None:
                    bar.update(1)
                    bar.set_postfix(**where, loss=f"{res.train_loss[-1]:.2e}", refresh=False)

                res, data = _one_run(task, cell, seed, shared, tick)
                bar.update(cell.cfg.epochs - res.epochs)  # early stop: skip the unused epochs
                metrics = task.metrics(res.theta, cell.topo, data)
                cell.results.append((res, metrics))
                if not quiet:
                    bar.write(_run_line(task.name, r, args.runs, seed, res, metrics, data))


def _one_run(
    task: Task,
    cell: Cell,
    seed: int,
    shared: Data | None = None,
    on_epoch: Callable[[TrainResult], None] | None = None,
) -> tuple[TrainResult, Data]:
    """One seeded run: the data (or ``shared``, which draws nothing from the seed), an
    initial network and the training, all from ``seed``."""
    rng = np.random.default_rng(seed)
    data = shared if shared is not None else task.make_data(rng)
    theta = mlp.init(cell.topo, rng)
    x_val, y_val = data.val
    # Divergence is reported once, at the end, not as numpy's overflow warnings.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        res = fit(theta, cell.topo, data.x, data.y, cell.cfg, rng, x_val, y_val, on_epoch)
    return res, data


def _live(args: argparse.Namespace, task: Task, cell: Cell, save_path: Path | None) -> int:
    """Train one run in the live view; q stops it and keeps (and saves) what was learned."""
    from evonet.cli.errors import terminal_errors, window_errors
    from evonet.views import live

    rng = np.random.default_rng(args.seed)
    data = task.make_data(rng)
    theta = mlp.init(cell.topo, rng)
    if args.live == "terminal":
        errors = terminal_errors("run it in a terminal, or use --live window")
    else:
        errors = window_errors("use --live terminal, or train without --live")
    # Divergence is reported once, at the end, not as numpy's warnings over the view.
    quiet_numpy = np.errstate(over="ignore", invalid="ignore", divide="ignore")
    with errors, quiet_numpy:
        state = live.run(args.live, task.name, theta, cell.topo, data, cell.cfg, rng)
    res = state.result
    with np.errstate(over="ignore", invalid="ignore"):
        metrics = task.metrics(res.theta, cell.topo, data)
    info(_run_line(task.name, 0, 1, args.seed, res, metrics, data))
    if not np.isfinite(res.theta).all():
        unsaved = f"; {save_path} was not written" if save_path is not None else ""
        info(f"evonet: training diverged to NaN or infinite weights{unsaved}; try a smaller --lr")
        return 1
    if save_path is not None:
        _save(save_path, task, res, metrics, cell.topo, args.seed, data)
    if state.interrupted:
        info("evonet: interrupted; kept what was learned")
        return 130
    return 0


def _save(path: Path, task: Task, res: TrainResult, metrics: dict, topo, seed: int,
          data: Data) -> None:  # fmt: skip
    """Write the network trained on ``data``; inputs that were standardised in training
    are folded into the first layer, so that the saved network reads raw inputs."""
    theta = raw_input_network(res.theta, topo, data)
    meta = {"task": task.name, "seed": seed, "epochs": res.epochs, **metrics}
    if data.image is not None:
        meta["inputs"] = f"{data.image[0]}x{data.image[1]} pixels from 0 to 1, row by row"
    _write(lambda: save_network(path, theta, topo, meta), "--save", path)
    info(f"wrote {path}")


def _sizes(topo: mlp.Topology) -> str:
    return "-".join(map(str, topo.sizes))


def _fit_panel(task: Task, topo: mlp.Topology, res: TrainResult, data: Data):
    """For a function of one input (sine): ``data``'s held-out points, their targets and
    the network's predictions, for the plot's second panel; else None."""
    if topo.n_in != 1 or topo.n_out != 1 or is_classifier(task.config.loss):
        return None
    pred = mlp.forward(res.theta, data.x_test, topo)
    return (data.x_test[:, 0], data.y_test[:, 0], pred[:, 0])


def _plot(path, res: TrainResult, name: str, topo: mlp.Topology, fit_panel, val: str) -> None:
    from evonet.views import plots  # matplotlib loads only when a plot is asked for

    plots.training_curves(path, res, f"{name}: {_sizes(topo)} {topo.hidden}", fit_panel, val)


def _plot_sweep(path, name: str, cells: list[Cell]) -> None:
    from evonet.views import plots

    curves = [(c.label, [r.train_loss for r, _ in c.results]) for c in cells]
    runs = len(cells[0].results)
    plots.sweep_curves(path, curves, f"{name}: training loss, {count(runs, 'run')} per cell")


def _plot_confusion(path, task: Task, res: TrainResult, topo, data: Data) -> None:
    from evonet.views import plots

    counts = confusion(mlp.forward(res.theta, data.x_test, topo), data.y_test)
    plots.confusion_matrix(path, counts, data.classes, f"{task.name}: test set, {_sizes(topo)}")


def _write(action, flag: str, path) -> None:
    try:
        action()
    except OSError as e:
        raise UsageError(f"{flag} {path}: cannot write: {e.strerror or e}") from None


def _run_line(
    name: str, r: int, runs: int, seed: int, res: TrainResult, m: dict, data: Data
) -> str:
    if "test_mse" in m:
        score = f"test MSE {m['test_mse']:.2e}"
    else:
        score = f"test accuracy {m['accuracy']:.3f}"
        if res.val_acc and data.x_val is not None:  # a validation set apart from the test
            score += f" (validation {res.val_acc[-1]:.3f})"
    status = "solved" if m["solved"] else "NOT solved"
    # Stopped within the first epoch, a run has no epoch's loss yet.
    loss = f"{res.train_loss[-1]:.2e}" if res.train_loss else "not measured yet"
    stopped = " (stopped)" if res.stopped else ""
    return (
        f"{name} run {r + 1}/{runs} (seed {seed}): {count(res.epochs, 'epoch')}{stopped} in "
        f"{res.seconds:.2f}s, train loss {loss}, {score}, {status}"
    )


def _summary(name: str, results: list[tuple[TrainResult, dict]]) -> dict:
    """The --json object: single-run values, or medians over runs plus run counts."""
    med = statistics.median
    out: dict = {
        "task": name,
        "epochs": int(med(r.epochs for r, _ in results)),
        "seconds": round(sum(r.seconds for r, _ in results), 4),
        "train_loss": float(med(r.train_loss[-1] for r, _ in results)),
    }
    if "test_mse" in results[0][1]:
        out["test_mse"] = float(med(m["test_mse"] for _, m in results))
    else:
        out["accuracy"] = float(statistics.mean(m["accuracy"] for _, m in results))
        out["min_accuracy"] = float(min(m["accuracy"] for _, m in results))
        out["max_accuracy"] = float(max(m["accuracy"] for _, m in results))
    solved = sum(bool(m["solved"]) for _, m in results)
    out["solved"] = solved == len(results)
    if len(results) > 1:
        out["runs"] = len(results)
        out["solved_runs"] = solved
    return out


def _finite(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def _sweep_table(cells: list[Cell]) -> list[dict]:
    """Per cell: its settings, solved runs, and medians of the final losses and the test
    score, computed from the cell's runs."""
    med = statistics.median
    rows = []
    for c in cells:
        metrics = [m for _, m in c.results]
        row: dict = {k: sweep.shown(v) for k, v in c.settings.items()}
        row["solved_runs"] = sum(bool(m["solved"]) for m in metrics)
        row["runs"] = len(c.results)
        row["median_loss"] = _finite(med(r.train_loss[-1] for r, _ in c.results))
        if "test_mse" in metrics[0]:
            row["median_test_mse"] = _finite(med(m["test_mse"] for m in metrics))
        else:
            row["median_accuracy"] = float(med(m["accuracy"] for m in metrics))
        row["median_epochs"] = int(med(r.epochs for r, _ in c.results))
        rows.append(row)
    return rows


def _sweep_text(name: str, rows: list[dict], runs: int) -> str:
    keys = [k for k in rows[0] if k not in ("solved_runs", "runs") and not k.startswith("median")]
    score = "median_test_mse" if "median_test_mse" in rows[0] else "median_accuracy"
    headers = [
        *keys,
        "solved",
        "median loss",
        "median test MSE" if score == "median_test_mse" else "median test accuracy",
        "median epochs",
    ]

    def number(v: float | None, fmt: str) -> str:
        return "diverged" if v is None else format(v, fmt)

    table = [
        [*(r[k] for k in keys), f"{r['solved_runs']}/{r['runs']}", number(r["median_loss"], ".2e"),
         number(r[score], ".2e" if score == "median_test_mse" else ".3f"), str(r["median_epochs"])]
        for r in rows
    ]  # fmt: skip
    return f"{name}: {count(len(rows), 'cell')}, {count(runs, 'run')} each\n" + sweep.table(
        headers, table
    )
