"""``evonet train TASK``: fit a network by gradient descent; grids of settings; a live view."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from evonet.cli import results as report
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
from evonet.cli.output import info
from evonet.evolution.config import parse_hidden
from evonet.memory import OverBudget, check_memory
from evonet.nn import mlp, recurrent
from evonet.storage.checkpoint import file_kind, save_network
from evonet.text import count
from evonet.train import sweep
from evonet.train.fit import MAX_EPOCHS, TrainConfig, TrainResult, fit, fit_bytes
from evonet.train.losses import confusion, is_classifier
from evonet.train.optimizers import OPTIMIZERS
from evonet.train.task import Data, Task, raw_input_network
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
    "network": _choice(mlp.NETWORKS),
    "schedule": _choice(SCHEDULES),
    **{k: _value(f["type"]) if "type" in f else _choice(f["choices"])
       for k, f in TRAIN_FLAGS.items()},
}  # fmt: skip


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a network by gradient descent: sine, xor, digits or parity",
        description="Train the same networks by gradient descent: sine, xor, handwritten "
        "digits, or parity (a sequence, for a network with memory).",
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
            (
                "evonet train parity --live",
                "a GRU learns the running XOR of a bit stream; its memory as a strip",
            ),
            notes="Defaults depend on the task: sine 1-10-25-1 tanh/linear with Adam; xor "
            "2-4-1 tanh/sigmoid with momentum; digits 64-128-10 relu/softmax with Adam and "
            "weight decay, on scikit-learn's 8x8 digits (pip install 'evonet[digits]') or "
            "MNIST's IDX files with --data; parity a 1-8-1 GRU, tanh/sigmoid, with Adam.",
        ),  # fmt: skip
    )
    _add_task_flags(p)
    _add_run_flags(p)
    _add_output_flags(p)
    p.add_argument("--json", action="store_true", help="last stdout line is one JSON object")
    p.set_defaults(run=run)


def _add_task_flags(p: argparse.ArgumentParser) -> None:
    """The task, its data, the network and the training settings."""
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
    p.add_argument(
        "--network",
        choices=mlp.NETWORKS,
        help="mlp (feed-forward), rnn (Elman) or gru: a recurrent network carries a state "
        "through each sequence, trained by backpropagation through time "
        f"(default: {_per_task(lambda t: t.network)})",
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


def _add_run_flags(p: argparse.ArgumentParser) -> None:
    """Seeds, grids of settings and the live view: which runs are trained, and how."""
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
        "--live",
        nargs="?",
        const="window",
        choices=("window", "terminal"),
        help="watch one run learn: the network, the sample fed, the loss; space pauses, "
        "+/- change speed, q stops and keeps what was learned (default: off; "
        "bare --live: window)",
    )


def _add_output_flags(p: argparse.ArgumentParser) -> None:
    """The files a training writes."""
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
        "--save", metavar="FILE.npz", help="write the first run's network (default: none)"
    )


def _cell(task: Task, args: argparse.Namespace, settings: dict[str, object]) -> report.Cell:
    """The network and settings of a cell: flags, then the cell's swept values on top."""
    overrides = {name: getattr(args, name) for name in TRAIN_FLAGS}
    overrides["cosine"] = None if args.schedule is None else args.schedule == "cosine"
    hidden, activation, network = args.hidden, args.activation, args.network
    for key, value in settings.items():
        if key == "hidden":
            hidden = value
        elif key == "activation":
            activation = value
        elif key == "network":
            network = value
        elif key == "schedule":
            overrides["cosine"] = value == "cosine"
        else:
            overrides[key] = value
    cfg = dataclasses.replace(task.config, **{k: v for k, v in overrides.items() if v is not None})
    try:
        cfg.validate()
        topo = task.topology(hidden, activation, network)
    except ValueError as e:
        raise UsageError(str(e)) from None
    return report.Cell(settings, topo, cfg)


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
    sweeps = _sweeps(args)
    task = _task(args)
    cells = [_cell(task, args, s) for s in sweep_grid(sweeps)]
    paths = _check_outputs(args, is_classifier(task.config.loss))
    sample = _sample(task, args, cells)
    if args.live:
        return _live(args, task, cells[0], paths["save"])
    _train_cells(task, cells, args, sample if task.fixed_data else None)
    first, first_metrics = cells[0].results[0]
    _write_figures(paths, task, cells, sample, bool(sweeps))
    diverged = not np.isfinite(first.theta).all()
    if paths["save"] is not None and not diverged:
        _save(paths["save"], task, first, first_metrics, cells[0].topo, args.seed, sample)
    if sweeps:
        report.print_sweep(task.name, cells, args.runs, args.json)
        return 0
    report.print_runs(task.name, cells[0], args.runs, args.json)
    if diverged:
        # A network of NaN weights is never written: it could not be loaded or used.
        unsaved = f"; {paths['save']} was not written" if paths["save"] is not None else ""
        info(
            f"evonet: training diverged to NaN or infinite weights{unsaved}; "
            "try a smaller --lr (or --weight-decay)"
        )
        return 1
    return 0


def _sweeps(args: argparse.Namespace) -> list[tuple[str, tuple]]:
    """The ``--sweep`` flags, parsed; refused with ``--live``, which watches one run."""
    sweeps = []
    for text in args.sweep or []:
        try:
            sweeps.append(sweep.parse(text, SWEEPABLE))
        except ValueError as e:
            raise UsageError(f"--sweep {e}") from None
    if args.live and (sweeps or args.runs > 1):
        raise UsageError("--live watches one run; drop --sweep and --runs")
    return sweeps


def sweep_grid(sweeps: list[tuple[str, tuple]]) -> list[dict[str, object]]:
    """The cells of the grid, each a dict of swept settings (one empty cell without)."""
    try:
        return sweep.grid(sweeps)
    except ValueError as e:
        raise UsageError(f"--sweep: {e}") from None


def _sample(task: Task, args: argparse.Namespace, cells: list[report.Cell]) -> Data:
    """The first run's data; every network must fit in memory on data of its size (every
    run's data has that size), checked before any progress bar."""
    try:
        sample = task.make_data(np.random.default_rng(args.seed))
    except ValueError as e:  # the digits' scikit-learn is missing
        raise UsageError(str(e)) from None
    sets = (sample.x, sample.x_test, sample.x_val if sample.x_val is not None else ())
    rows = max(len(s) for s in sets)
    try:
        for cell in cells:
            check_memory(
                fit_bytes(cell.topo, rows),
                f"training a {report.sizes(cell.topo)} network",
                "use smaller --hidden",
            )
    except OverBudget as e:
        raise UsageError(str(e)) from None
    return sample


def _write_figures(
    paths: dict[str, Path | None], task: Task, cells: list[report.Cell], sample: Data, swept: bool
) -> None:
    """``--plot`` and ``--confusion``, of the first run (a sweep plots every run)."""
    first, topo = cells[0].results[0][0], cells[0].topo
    plot_path, conf_path = paths["plot"], paths["confusion"]
    if plot_path is not None:
        if swept:
            _write(lambda: _plot_sweep(plot_path, task.name, cells), "--plot", plot_path)
        else:
            fit_panel = _fit_panel(task, topo, first, sample)
            # Sine scores its test points each epoch: it has no validation set (Data).
            val = "held-out" if sample.x_val is None else "validation"
            draw = lambda: _plot(plot_path, first, task.name, topo, fit_panel, val)  # noqa: E731
            _write(draw, "--plot", plot_path)
        info(f"wrote {plot_path}")
    if conf_path is not None:
        draw = lambda: _plot_confusion(conf_path, task, first, topo, sample)  # noqa: E731
        _write(draw, "--confusion", conf_path)
        info(f"wrote {conf_path}")


def _train_cells(
    task: Task, cells: list[report.Cell], args: argparse.Namespace, shared: Data | None
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
                # An early stop leaves epochs unplayed: they leave the total, so the bar
                # counts (and its rate measures) only the epochs that ran.
                bar.total -= cell.cfg.epochs - res.epochs
                bar.refresh()
                metrics = task.metrics(res.theta, cell.topo, data)
                cell.results.append((res, metrics))
                if not quiet:
                    bar.write(report.run_line(task.name, r, args.runs, seed, res, metrics, data))


def _one_run(
    task: Task,
    cell: report.Cell,
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


def _live(args: argparse.Namespace, task: Task, cell: report.Cell, save_path: Path | None) -> int:
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
    info(report.run_line(task.name, 0, 1, args.seed, res, metrics, data))
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


def _fit_panel(task: Task, topo: mlp.Topology, res: TrainResult, data: Data):
    """For a function of one input (sine): ``data``'s held-out points, their targets and
    the network's predictions, for the plot's second panel; else None."""
    if topo.n_in != 1 or topo.n_out != 1 or is_classifier(task.config.loss):
        return None
    pred = recurrent.run(res.theta, data.x_test, topo)
    return (data.x_test[:, 0], data.y_test[:, 0], pred[:, 0])


def _plot(path, res: TrainResult, name: str, topo: mlp.Topology, fit_panel, val: str) -> None:
    from evonet.views import plots  # matplotlib loads only when a plot is asked for

    plots.training_curves(path, res, f"{name}: {report.sizes(topo)} {topo.hidden}", fit_panel, val)


def _plot_sweep(path, name: str, cells: list[report.Cell]) -> None:
    from evonet.views import plots

    curves = [(c.label, [r.train_loss for r, _ in c.results]) for c in cells]
    runs = len(cells[0].results)
    plots.sweep_curves(path, curves, f"{name}: training loss, {count(runs, 'run')} per cell")


def _plot_confusion(path, task: Task, res: TrainResult, topo, data: Data) -> None:
    from evonet.views import plots

    counts = confusion(recurrent.run(res.theta, data.x_test, topo), data.y_test)
    plots.confusion_matrix(
        path, counts, data.classes, f"{task.name}: test set, {report.sizes(topo)}"
    )


def _write(action, flag: str, path) -> None:
    try:
        action()
    except OSError as e:
        raise UsageError(f"{flag} {path}: cannot write: {e.strerror or e}") from None
