"""``evonet train sine|xor``: fit the MLP by gradient descent."""

from __future__ import annotations

import argparse
import dataclasses
import statistics

import numpy as np
from tqdm import tqdm

from evonet import mlp
from evonet.budget import OverBudget, check_memory
from evonet.checkpoint import file_kind, save_network
from evonet.commands.common import (
    UsageError,
    check_writable,
    emit_json,
    examples,
    flag_doc,
    hidden_sizes,
    info,
    nonneg_float,
    nonneg_int,
    positive_float,
    positive_int,
)
from evonet.train import OPTIMIZERS, TASKS, TrainConfig, TrainResult, fit, fit_bytes
from evonet.words import count


def _per_task(get) -> str:
    """A default that depends on the task, as ``sine X, xor Y``."""
    return ", ".join(f"{name} {_shown(get(task))}" for name, task in sorted(TASKS.items()))


def _shown(value: object) -> str:
    return "none" if value is None else str(value)


# TrainConfig's settings that are flags, with how each is parsed; their help and the
# tasks' defaults come from TrainConfig and TASKS. (--schedule sets ``cosine``.)
TRAIN_FLAGS = {
    "optimizer": {"choices": OPTIMIZERS},
    "lr": {"type": positive_float},
    "epochs": {"type": positive_int},
    "batch_size": {"type": positive_int},
    "weight_decay": {"type": nonneg_float},
    "target_loss": {"type": positive_float},
}


def _hidden(task) -> str:
    return ",".join(map(str, task.hidden))


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train the MLP by gradient descent on sine or xor",
        description="Train the same MLP by gradient descent, on sine or xor.",
        epilog=examples(
            ("evonet train sine --plot sine.png", "fit sin(x), with the loss curves and fit"),
            ("evonet train xor --runs 20", "XOR from 20 seeds, with how many solve it"),
            ("evonet train sine --hidden 32,32 --save sine.npz", "another network, saved"),
            notes="Defaults depend on the task: sine uses 1-10-25-1 tanh/linear with Adam; "
            "xor uses 2-4-1 tanh/sigmoid with momentum.",
        ),
    )
    p.add_argument("task", choices=sorted(TASKS), help="what to learn: sine or xor")
    p.add_argument(
        "--hidden",
        type=hidden_sizes,
        help=f"hidden layer sizes, e.g. 10,25 (default: {_per_task(_hidden)})",
    )
    p.add_argument(
        "--activation",
        choices=mlp.HIDDEN_ACTIVATIONS,
        help=f"hidden activation (default: {_per_task(lambda t: t.activation)})",
    )
    for name, kind in TRAIN_FLAGS.items():
        default = _per_task(lambda t, name=name: getattr(t.config, name))
        p.add_argument(
            "--" + name.replace("_", "-"),
            **kind,
            help=f"{flag_doc(TrainConfig, name)} (default: {default})",
        )
    p.add_argument(
        "--schedule",
        choices=("constant", "cosine"),
        help="learning-rate schedule "
        f"(default: {_per_task(lambda t: 'cosine' if t.config.cosine else 'constant')})",
    )
    p.add_argument("--seed", type=nonneg_int, default=0, help="first seed (default: 0)")
    p.add_argument(
        "--runs",
        type=positive_int,
        default=1,
        help="train from N seeds in a row, from --seed on (default: 1)",
    )
    p.add_argument(
        "--plot",
        metavar="FILE.png",
        help="write the loss curves, and the fit for sine (default: none)",
    )
    p.add_argument(
        "--save", metavar="FILE.npz", help="write the first run's network (default: none)"
    )
    p.add_argument("--json", action="store_true", help="last stdout line is one JSON object")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    task = TASKS[args.task]
    overrides = {name: getattr(args, name) for name in TRAIN_FLAGS}
    overrides["cosine"] = None if args.schedule is None else args.schedule == "cosine"
    cfg = dataclasses.replace(task.config, **{k: v for k, v in overrides.items() if v is not None})
    try:
        cfg.validate()
        topo = task.topology(args.hidden, args.activation)
    except ValueError as e:
        raise UsageError(str(e)) from None
    plot_path = check_writable(args.plot, "--plot")
    save_path = check_writable(args.save, "--save")
    if save_path is not None and save_path.exists():
        # Replacing a network file is what --save does; anything else was saved by
        # something else (a run's checkpoint, someone's data) and is never replaced.
        kind = file_kind(save_path)
        if kind != "network":
            what = "an evolution checkpoint" if kind else "a file that is not an evonet network"
            raise UsageError(f"--save {save_path}: holds {what}; choose another name")

    # Every run's data has the first run's size: check the network fits before any bar.
    sample = task.make_data(np.random.default_rng(args.seed))
    rows = max(len(sample.x), len(sample.x_test))
    try:
        check_memory(
            fit_bytes(topo, rows), f"training a {_sizes(topo)} network", "use smaller --hidden"
        )
    except OverBudget as e:
        raise UsageError(str(e)) from None

    results: list[tuple[TrainResult, dict]] = []
    total = cfg.epochs * args.runs
    with tqdm(total=total, desc=f"train {task.name}", unit="epoch", leave=False) as bar:
        for r in range(args.runs):
            seed = args.seed + r
            rng = np.random.default_rng(seed)
            data = task.make_data(rng)
            theta = mlp.init(topo, rng)

            def tick(epoch: int, train: float, test: float | None, run: int = r + 1) -> None:
                bar.update(1)
                bar.set_postfix(run=f"{run}/{args.runs}", loss=f"{train:.2e}", refresh=False)

            # Divergence is reported once, at the end, not as numpy's overflow warnings.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                res = fit(theta, topo, data.x, data.y, cfg, rng, data.x_test, data.y_test, tick)
            bar.update(cfg.epochs - res.epochs)  # early stop: skip the unused epochs
            metrics = task.metrics(res.theta, topo, data)
            results.append((res, metrics))
            if not args.json:
                bar.write(_run_line(task.name, r, args.runs, seed, res, metrics))

    first, first_metrics = results[0]
    if plot_path is not None:
        fit_panel = None
        if task.name == "sine":
            data = task.make_data(np.random.default_rng(args.seed))
            pred = mlp.forward(first.theta, data.x_test, topo)
            fit_panel = (data.x_test[:, 0], data.y_test[:, 0], pred[:, 0])
        _write(lambda: _plot(plot_path, first, task.name, topo, fit_panel), "--plot", plot_path)
        info(f"wrote {plot_path}")
    diverged = not np.isfinite(first.theta).all()
    if save_path is not None and not diverged:
        meta = {"task": task.name, "seed": args.seed, **first_metrics}
        _write(lambda: save_network(save_path, first.theta, topo, meta), "--save", save_path)
        info(f"wrote {save_path}")

    summary = _summary(task.name, results)
    if args.json:
        emit_json(summary)
    elif args.runs > 1:
        print(
            f"{task.name}: solved {summary['solved_runs']} of {count(args.runs, 'run')} "
            f"({topo.sizes} {topo.hidden})"
        )
    if diverged:
        # A network of NaN weights is never written: it could not be loaded or used.
        unsaved = f"; {save_path} was not written" if save_path is not None else ""
        info(
            f"evonet: training diverged to NaN or infinite weights{unsaved}; "
            "try a smaller --lr (or --weight-decay)"
        )
        return 1
    return 0


def _sizes(topo: mlp.Topology) -> str:
    return "-".join(map(str, topo.sizes))


def _plot(path, res: TrainResult, name: str, topo: mlp.Topology, fit_panel) -> None:
    from evonet import plots  # matplotlib loads only when a plot is asked for

    title = f"{name}: {'-'.join(map(str, topo.sizes))} {topo.hidden}"
    plots.loss_curves(path, res.train_loss, res.test_loss, title, fit_panel)


def _write(action, flag: str, path) -> None:
    try:
        action()
    except OSError as e:
        raise UsageError(f"{flag} {path}: cannot write: {e.strerror or e}") from None


def _run_line(name: str, r: int, runs: int, seed: int, res: TrainResult, m: dict) -> str:
    score = f"test MSE {m['test_mse']:.2e}" if "test_mse" in m else f"accuracy {m['accuracy']:.2f}"
    status = "solved" if m["solved"] else "NOT solved"
    return (
        f"{name} run {r + 1}/{runs} (seed {seed}): {res.epochs} epochs in "
        f"{res.seconds:.2f}s, train loss {res.train_loss[-1]:.2e}, {score}, {status}"
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
    solved = sum(bool(m["solved"]) for _, m in results)
    out["solved"] = solved == len(results)
    if len(results) > 1:
        out["runs"] = len(results)
        out["solved_runs"] = solved
    return out
