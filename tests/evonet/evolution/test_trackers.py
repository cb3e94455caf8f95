"""TensorBoard and MLflow logs, read back with their own readers."""

import csv
import json

import numpy as np
import pytest

import evonet
from evonet.evolution import trackers
from evonet.evolution.config import EvolveConfig
from tests.helpers import error_lines, evonet_here

pytest.importorskip("tensorboardX")  # the test extra installs both; a bare install may not
pytest.importorskip("mlflow")
# A log that stops on its own is a failure here, unless a test expects it (pytest.warns).
pytestmark = pytest.mark.filterwarnings("error::evonet.evolution.trackers.TrackerWarning")


def sphere(genomes):
    return -np.sum(genomes.astype(np.float64) ** 2, axis=1)


def evolve(out, generations, log, resume=None):
    """A short SNES run on a fitness function, logged to ``log``; or its resumption."""
    config = EvolveConfig.for_game(
        "custom", strategy="snes", generations=generations, population=8, hidden=(4,), seed=1
    )
    return evonet.run(
        config,
        fitness=sphere,
        io=(3, 2),
        out=None if resume else out,
        resume=resume,
        progress=False,
        plot=False,
        log=log,
    )


def history(folder):
    with open(folder / "history.csv") as f:
        return list(csv.DictReader(f))


def test_log_targets_are_parsed_and_bad_ones_named():
    assert trackers.parse_log(None) == []
    assert trackers.parse_log("tensorboard") == [trackers.LogTarget("tensorboard")]
    got = trackers.parse_log(["mlflow=file:/tmp/x", "TensorBoard=runs/tb"])
    assert got == [
        trackers.LogTarget("mlflow", "file:/tmp/x"),
        trackers.LogTarget("tensorboard", "runs/tb"),
    ]
    with pytest.raises(ValueError, match="did you mean tensorboard"):
        trackers.parse_log("tensorbord")
    with pytest.raises(ValueError, match="given twice"):
        trackers.parse_log(["mlflow", "mlflow=x"])
    with pytest.raises(ValueError, match="give a folder"):
        trackers.parse_log("tensorboard=")


def tensorboard_scalars(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder))
    acc.Reload()
    scalars = {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
    texts = [t.tensor_proto.string_val[0].decode() for t in acc.Tensors("settings/text_summary")]
    return scalars, texts


def test_tensorboard_logs_every_generation_and_a_resumed_run_continues_it(tmp_path):
    out = tmp_path / "run"
    evolve(out, 3, "tensorboard")
    scalars, texts = tensorboard_scalars(out / "tensorboard")
    rows = history(out)
    assert [s for s, _ in scalars["fitness/best"]] == [0, 1, 2]
    assert [v for _, v in scalars["fitness/best"]] == pytest.approx(
        [float(r["best_fitness"]) for r in rows], rel=1e-6
    )
    assert [v for _, v in scalars["strategy/sigma"]] == pytest.approx(
        [float(r["sigma"]) for r in rows], rel=1e-6
    )
    for tag in ("fitness/median", "score/median", "speed/seconds", "speed/workers"):
        assert len(scalars[tag]) == 3, tag
    assert "| population | `8` |" in texts[0] and "| strategy | `snes` |" in texts[0]

    evolve(out, 5, "tensorboard", resume=out / "latest.npz")
    scalars, _ = tensorboard_scalars(out / "tensorboard")
    rows = history(out)
    assert [s for s, _ in scalars["fitness/best"]] == [0, 1, 2, 3, 4]  # each step once
    assert [v for _, v in scalars["fitness/mean"]] == pytest.approx(
        [float(r["mean_fitness"]) for r in rows], rel=1e-6
    )


def test_tensorboard_drops_what_was_logged_past_the_checkpoint(tmp_path):
    """A run killed after its checkpoint logged generations it will play again: the
    resumed run's figures replace them."""
    from tensorboardX import SummaryWriter

    out = tmp_path / "run"
    evolve(out, 3, "tensorboard=" + str(tmp_path / "tb"))
    with SummaryWriter(str(tmp_path / "tb" / "run")) as stray:
        for step in (3, 4):
            stray.add_scalar("fitness/best", 1e9, step)
    evolve(out, 5, "tensorboard=" + str(tmp_path / "tb"), resume=out / "latest.npz")
    scalars, _ = tensorboard_scalars(tmp_path / "tb" / "run")
    best = dict(scalars["fitness/best"])
    assert sorted(best) == [0, 1, 2, 3, 4] and max(best.values()) < 1e9


def mlflow_run(uri, folder):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("evonet")
    runs = client.search_runs([experiment.experiment_id])
    assert [r.data.tags["evonet.folder"] for r in runs] == [str(folder.resolve())]
    return client, runs[0]


def test_mlflow_logs_every_generation_and_a_resumed_run_continues_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # a file store, read back below
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    uri = (tmp_path / "mlruns").as_uri()
    out = tmp_path / "run"
    evolve(out, 3, f"mlflow={uri}")
    client, run = mlflow_run(uri, out)
    assert run.info.status == "FINISHED" and run.info.run_name == "run"
    assert run.data.params["population"] == "8" and json.loads(run.data.params["hidden"]) == [4]
    best = client.get_metric_history(run.info.run_id, "fitness/best")
    rows = history(out)
    assert [m.step for m in best] == [0, 1, 2]
    assert [m.value for m in best] == pytest.approx([float(r["best_fitness"]) for r in rows])
    sigma = client.get_metric_history(run.info.run_id, "strategy/sigma")
    assert [m.value for m in sigma] == pytest.approx([float(r["sigma"]) for r in rows])

    evolve(out, 5, f"mlflow={uri}", resume=out / "latest.npz")
    client, again = mlflow_run(uri, out)  # the same MLflow run, not a second one
    assert again.info.run_id == run.info.run_id and again.info.status == "FINISHED"
    steps = [m.step for m in client.get_metric_history(run.info.run_id, "score/median")]
    assert sorted(steps) == [0, 1, 2, 3, 4]


def test_mlflow_default_store_is_mlflows_own(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MLflow's default: mlflow.db in the working folder
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    evolve(tmp_path / "run", 2, "mlflow")
    import mlflow

    client, run = mlflow_run(mlflow.get_tracking_uri(), tmp_path / "run")
    assert len(client.get_metric_history(run.info.run_id, "fitness/mean")) == 2


def test_cli_names_a_bad_log_target_and_where_it_logs(tmp_path):
    proc = evonet_here("evolve", "snake", "--log", "tensorbord", cwd=tmp_path)
    assert proc.returncode == 2
    assert error_lines(proc.stderr) == [
        "evonet evolve: error: --log 'tensorbord': unknown; use tensorboard[=DIR] or "
        "mlflow[=URI] (did you mean tensorboard?)"
    ]
    assert not (tmp_path / "checkpoints").exists()  # refused before a folder was made
    proc = evonet_here(
        "evolve", "snake", "--board", "6x6", "--generations", "2", "--population", "10",
        "--quiet", "--no-plot", "--backend", "serial", "--log", "tensorboard", "--out",
        "runs/a", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "logging to TensorBoard in runs/a/tensorboard/" in proc.stderr
    scalars, _ = tensorboard_scalars(tmp_path / "runs" / "a" / "tensorboard")
    assert [s for s, _ in scalars["apples/best"]] == [0, 1]


def test_a_missing_extra_is_named(monkeypatch):
    monkeypatch.setitem(trackers.EXTRAS, "mlflow", ("evonet_no_such_module", "mlflow"))
    with pytest.raises(ImportError, match=r"pip install 'evonet\[mlflow\]'"):
        trackers.check_installed(trackers.parse_log("mlflow"))


def test_an_unreachable_mlflow_server_is_refused_before_any_folder(tmp_path):
    proc = evonet_here(
        "evolve", "snake", "--log", "mlflow=http://127.0.0.1:9", "--out", "run", cwd=tmp_path
    )
    assert proc.returncode == 2
    (line,) = error_lines(proc.stderr)
    assert line.startswith(
        "evonet evolve: error: --log mlflow=http://127.0.0.1:9: cannot reach MLflow: "
    )
    assert not (tmp_path / "run").exists()


def test_a_tensorboard_folder_that_cannot_be_made_is_refused_before_any_run(tmp_path):
    (tmp_path / "a-file").write_text("x")
    for where, why in [("a-file", "is a file, not a folder"), ("x" * 5000, "File name too long")]:
        proc = evonet_here(
            "evolve", "snake", "--log", f"tensorboard={where}", "--out", "run", cwd=tmp_path
        )
        assert proc.returncode == 2
        (line,) = error_lines(proc.stderr)
        assert line.startswith("evonet evolve: error: --log tensorboard=") and why in line
        assert len(line) < 300  # a huge folder name is shortened in the message
        assert not (tmp_path / "run").exists()


def test_a_store_that_fails_mid_run_stops_its_log_not_the_run(tmp_path, monkeypatch):
    """The server goes away after two generations: one warning, and the run (and its
    TensorBoard log) goes on to the end."""
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    calls = []
    log_batch = MlflowClient.log_batch

    def failing(self, run_id, metrics=(), params=(), tags=()):
        calls.append(len(metrics))
        if len(calls) > 3:  # the params, then two generations' metrics
            raise ConnectionError("the server went away")
        return log_batch(self, run_id, metrics=metrics, params=params, tags=tags)

    monkeypatch.setattr(MlflowClient, "log_batch", failing)
    out = tmp_path / "run"
    uri = (tmp_path / "mlruns").as_uri()
    with pytest.warns(trackers.TrackerWarning) as caught:
        run = evolve(out, 5, [f"mlflow={uri}", "tensorboard"])
    assert run.generation == 5 and len(history(out)) == 5
    assert [str(w.message) for w in caught] == [
        "MLflow: stopped logging at generation 2: the server went away"
    ]
    assert len(calls) == 4  # nothing more was tried after the failure
    scalars, _ = tensorboard_scalars(out / "tensorboard")
    assert [s for s, _ in scalars["fitness/best"]] == [0, 1, 2, 3, 4]


def test_the_cli_says_in_one_line_that_a_log_stopped(tmp_path, monkeypatch):
    import warnings

    from mlflow import MlflowClient

    warnings.simplefilter("default", trackers.TrackerWarning)  # as a user's Python has it

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")

    def failing(self, run_id, metrics=(), params=(), tags=()):
        if metrics:
            raise ConnectionError("the server went away")

    monkeypatch.setattr(MlflowClient, "log_batch", failing)
    uri = (tmp_path / "mlruns").as_uri()
    proc = evonet_here(
        "evolve", "snake", "--board", "6x6", "--generations", "3", "--population", "10",
        "--no-plot", "--backend", "serial", "--log", f"mlflow={uri}", "--out", "run",
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    stopped = [x for x in proc.stderr.splitlines() if "stopped logging" in x]
    assert stopped == ["evonet: MLflow: stopped logging at generation 0: the server went away"]
    assert len(history(tmp_path / "run")) == 3
