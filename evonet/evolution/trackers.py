"""Runs that log where people already look: TensorBoard event files and MLflow runs.

``evonet evolve ... --log tensorboard[=DIR]`` and ``--log mlflow[=URI]`` (Python:
``evonet.run(..., log=...)``) add a :class:`TensorBoardReporter` or an
:class:`MLflowReporter`. Each records every generation's figures (:func:`metrics`: best,
mean and median fitness and score, the strategy's own figures such as sigma, the
generation's seconds, agent-steps per second and workers), at the generation as the step,
and the run's settings. Each comes from an optional extra (``evonet[tensorboard]``,
``evonet[mlflow]``), imported only when asked for.

A resumed run continues the same log: TensorBoard's in the same folder, dropping what was
logged past the checkpoint (a run killed after it); MLflow's in the run tagged with the run
folder's path.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from evonet.evolution.run import Reporter
from evonet.text import did_you_mean

if TYPE_CHECKING:
    from evonet.evolution.rollout import RolloutResult
    from evonet.evolution.run import Run

KINDS = ("tensorboard", "mlflow")
EXTRAS = {  # kind: (module imported, the extra that installs it)
    "tensorboard": ("tensorboardX", "tensorboard"),
    "mlflow": ("mlflow", "mlflow"),
}
EXPERIMENT = "evonet"  # MLflow's experiment, unless MLFLOW_EXPERIMENT_NAME names another
FOLDER_TAG = "evonet.folder"  # an MLflow run's tag: the run folder's absolute path
TB_FOLDER = "tensorboard"  # default TensorBoard folder, inside the run folder


@dataclass(frozen=True)
class LogTarget:
    """Where a run logs: ``kind`` (``tensorboard`` or ``mlflow``) and ``where`` (the
    TensorBoard folder, the MLflow tracking URI; None for the default)."""

    kind: str
    where: str | None = None

    def __str__(self) -> str:
        if self.where is None:
            return self.kind
        where = self.where if len(self.where) <= 100 else self.where[:97] + "..."
        return f"{self.kind}={where}"


def parse_log(specs: str | Sequence[str] | None) -> list[LogTarget]:
    """``tensorboard``, ``tensorboard=DIR``, ``mlflow``, ``mlflow=URI`` (one, or a list),
    each kind at most once. ValueError names a bad one."""
    if specs is None:
        return []
    targets: list[LogTarget] = []
    for spec in [specs] if isinstance(specs, str) else list(specs):
        kind, eq, where = str(spec).partition("=")
        kind = kind.strip().lower()
        if kind not in KINDS:
            raise ValueError(
                f"log {spec!r}: unknown; use tensorboard[=DIR] or mlflow[=URI]"
                + did_you_mean(kind, KINDS)
            )
        if eq and not where.strip():
            raise ValueError(f"log {spec!r}: give a {'folder' if kind == KINDS[0] else 'URI'}")
        if any(t.kind == kind for t in targets):
            raise ValueError(f"log {kind}: given twice")
        targets.append(LogTarget(kind, where.strip() or None))
    return targets


def checked(specs: str | Sequence[str] | None) -> list[LogTarget]:
    """:func:`parse_log`, then :func:`check_installed`, then each given TensorBoard folder
    made and each MLflow store asked once (ValueError if one cannot be): the targets,
    ready to log to."""
    targets = parse_log(specs)
    check_installed(targets)
    for target in targets:
        if target.kind == "mlflow":
            _reach_mlflow(target)
        elif target.where is not None:
            try:
                if Path(target.where).is_file():
                    raise ValueError(f"log {target}: is a file, not a folder")
                Path(target.where).mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise ValueError(f"log {target}: cannot make that folder: {_said(e)}") from None
    return targets


def _said(error: BaseException) -> str:
    """An error's message in one short line: its first line, else its first sentence."""
    text = str(getattr(error, "strerror", None) or error).strip()
    first = text.splitlines()[0] if text else type(error).__name__
    return first if len(first) <= 200 else first.split(". ")[0][:200]


def _reach_mlflow(target: LogTarget) -> None:
    from mlflow import MlflowClient

    try:
        with _quiet("mlflow"), _patient(retries=0):
            MlflowClient(tracking_uri=target.where).search_experiments(max_results=1)
    except Exception as e:  # MLflow raises its own, requests', SQLAlchemy's ...
        raise ValueError(f"log {target}: cannot reach MLflow: {_said(e)}") from None


@contextmanager
def _patient(retries: int = 2, timeout: int = 10) -> Iterator[None]:
    """MLflow's HTTP requests meanwhile try ``retries`` more times and wait ``timeout``
    seconds each (MLflow's own defaults retry for minutes), unless the environment sets
    them; the environment is restored after."""
    wanted = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(retries),
              "MLFLOW_HTTP_REQUEST_TIMEOUT": str(timeout)}  # fmt: skip
    added = [k for k in wanted if k not in os.environ]
    os.environ.update({k: wanted[k] for k in added})
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)


def check_installed(targets: Sequence[LogTarget]) -> None:
    """ImportError, saying which extra to install, unless every target's library imports."""
    import importlib

    for target in targets:
        module, extra = EXTRAS[target.kind]
        try:
            importlib.import_module(module)
        except ImportError:
            raise ImportError(
                f"log {target.kind} needs {module}: pip install 'evonet[{extra}]'"
            ) from None


def reporters(targets: Sequence[LogTarget], folder: Path) -> list[Reporter]:
    """A reporter per target, for the run in ``folder``."""
    out: list[Reporter] = []
    for target in targets:
        if target.kind == "tensorboard":
            out.append(TensorBoardReporter(tensorboard_folder(target, folder)))
        else:
            out.append(MLflowReporter(folder, target.where))
    return out


def tensorboard_folder(target: LogTarget, folder: Path) -> Path:
    """Where a TensorBoard ``target`` writes the run in ``folder``: its ``tensorboard/``,
    or ``DIR/<folder name>`` (one subfolder per run, as ``tensorboard --logdir DIR``
    shows them)."""
    return Path(target.where) / folder.name if target.where else folder / TB_FOLDER


def metrics(run: Run, record: dict, result: RolloutResult) -> dict[str, float]:
    """A generation's figures by tag: ``fitness/best``, ``apples/median``,
    ``strategy/sigma``, ``speed/seconds`` ..."""
    score = run.score_name
    out = {
        "fitness/best": record["best_fitness"],
        "fitness/mean": record["mean_fitness"],
        "fitness/median": record["median_fitness"],
        f"{score}/best": record[f"best_{score}"],
        f"{score}/mean": record[f"mean_{score}"],
        f"{score}/median": float(np.nanmedian(result.score)),
    }
    out.update({f"strategy/{name}": record[name] for name in run.strategy.figure_names})
    for name in ("seconds", "agent_steps_per_s", "workers"):
        out[f"speed/{name}"] = record[name]
    return {tag: float(value) for tag, value in out.items()}


def settings(run: Run) -> dict[str, str]:
    """The run's settings as text by name (lists as JSON), as both logs record them."""
    return {
        name: value if isinstance(value, str) else json.dumps(value)
        for name, value in dataclasses.asdict(run.config).items()
    }


class TrackerWarning(UserWarning):
    """A log stopped: its store failed during the run, which goes on without it."""


class _Tracker(Reporter):
    """A reporter whose failures (a server gone, a full disk) end its log, not the run:
    :meth:`_guard` wraps every hook; the first error is kept in :attr:`error` and told
    once as a :class:`TrackerWarning`."""

    label = "log"
    error: BaseException | None = None

    @contextmanager
    def _guard(self, generation: int) -> Iterator[bool]:
        """Yields whether to log (about ``generation``); keeps the first error, warns,
        and logs no more."""
        if self.error is not None:
            yield False
            return
        try:
            with _quiet("mlflow"), _patient():
                yield True
        except Exception as e:
            self.error = e
            warnings.warn(
                f"{self.label}: stopped logging at generation {generation}: {_said(e)}",
                TrackerWarning,
                stacklevel=3,
            )


@contextmanager
def _quiet(logger: str) -> Iterator[None]:
    """Only warnings and errors from ``logger`` meanwhile; its level is restored after."""
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        log.setLevel(level)


class TensorBoardReporter(_Tracker):
    """Scalars for every generation and the settings as text, in TensorBoard event files
    under ``folder`` (read them with ``tensorboard --logdir``)."""

    label = "TensorBoard"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.writer: Any = None

    def on_start(self, run: Run) -> None:
        from tensorboardX import SummaryWriter

        with self._guard(run.generation) as ok:
            if not ok:
                return
            # A resumed run drops what an earlier process logged past its checkpoint.
            purge = run.generation if run.generation > 0 else None
            # Event files are named by the second and the host: the suffix keeps a run
            # resumed within the same second from overwriting its predecessor's file.
            suffix = f".g{run.generation}.{os.getpid()}"
            self.writer = SummaryWriter(
                str(self.folder), purge_step=purge, flush_secs=30, filename_suffix=suffix
            )
            rows = "\n".join(f"| {k} | `{v}` |" for k, v in settings(run).items())
            table = "| setting | value |\n|---|---|\n" + rows
            self.writer.add_text("settings", table, run.generation)

    def on_generation(self, run: Run, record: dict, result: RolloutResult) -> None:
        with self._guard(record["generation"]) as ok:
            if ok:
                for tag, value in metrics(run, record, result).items():
                    self.writer.add_scalar(tag, value, record["generation"])
                self.writer.flush()  # a killed run keeps every generation it finished

    def on_end(self, run: Run, reason: str) -> None:
        self._close(run)

    def on_abort(self, run: Run, error: BaseException) -> None:
        self._close(run)

    def _close(self, run: Run) -> None:
        writer, self.writer = self.writer, None
        if writer is not None:
            with self._guard(run.generation):
                writer.close()


class MLflowReporter(_Tracker):
    """Metrics for every generation and the settings as parameters, in an MLflow run
    named after the run folder, in the ``evonet`` experiment (or MLFLOW_EXPERIMENT_NAME's)
    of the tracking server at ``uri`` (default: MLflow's own, MLFLOW_TRACKING_URI)."""

    label = "MLflow"

    def __init__(self, folder: Path, uri: str | None = None) -> None:
        self.folder, self.uri = folder.resolve(), uri
        self.client: Any = None
        self.run_id = ""

    def on_start(self, run: Run) -> None:
        with self._guard(run.generation) as ok:
            if ok:
                self._start(run)

    def _start(self, run: Run) -> None:
        from mlflow import MlflowClient
        from mlflow.entities import Param

        self.client = MlflowClient(tracking_uri=self.uri)
        experiment = self._experiment()
        quote = '"' if "'" in str(self.folder) else "'"
        where = f"tags.`{FOLDER_TAG}` = {quote}{self.folder}{quote}"
        found = self.client.search_runs([experiment], filter_string=where, max_results=1)
        if found and run.generation > 0:  # a resumed run goes on in its own MLflow run
            self.run_id = found[0].info.run_id
            self.client.update_run(self.run_id, status="RUNNING")
            self.client.set_tag(self.run_id, "evonet.resumed_at", str(run.generation))
            return
        tags = {FOLDER_TAG: str(self.folder), "evonet.game": run.config.game}
        made = self.client.create_run(experiment, run_name=self.folder.name, tags=tags)
        self.run_id = made.info.run_id
        params = [Param(k, v[:6000]) for k, v in settings(run).items()]
        self.client.log_batch(self.run_id, params=params)

    def _experiment(self) -> str:
        name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or EXPERIMENT
        found = self.client.get_experiment_by_name(name)
        return found.experiment_id if found is not None else self.client.create_experiment(name)

    def on_generation(self, run: Run, record: dict, result: RolloutResult) -> None:
        from mlflow.entities import Metric

        with self._guard(record["generation"]) as ok:
            if ok:
                now, step = int(time.time() * 1000), record["generation"]
                figures = metrics(run, record, result).items()
                self.client.log_batch(self.run_id, [Metric(k, v, now, step) for k, v in figures])

    def on_end(self, run: Run, reason: str) -> None:
        # An interrupted run can be resumed: KILLED, not FINISHED.
        self._finish(run, "KILLED" if reason == "interrupted" else "FINISHED")

    def on_abort(self, run: Run, error: BaseException) -> None:
        self._finish(run, "FAILED")

    def _finish(self, run: Run, status: str) -> None:
        with self._guard(run.generation) as ok:
            if ok and self.run_id:
                self.client.set_terminated(self.run_id, status)
