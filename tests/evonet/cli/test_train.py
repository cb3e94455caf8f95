import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evonet.evolution.files import load_network
from evonet.nn import mlp
from evonet.train.tasks.registry import TASKS
from tests.helpers import TINY_EVOLVE, evonet_here, last_json


def test_train_sine_json_plot_and_save(tmp_path):
    plot, save = tmp_path / "sine.png", tmp_path / "sine.npz"
    r = evonet_here(
        "train", "sine", "--epochs", "40", "--json", "--plot", str(plot), "--save", str(save)
    )
    assert r.returncode == 0, r.stderr
    out = last_json(r.stdout)
    assert out["task"] == "sine" and out["epochs"] == 40
    assert {"seconds", "train_loss", "test_mse"} <= out.keys()
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    theta, topo, _ = load_network(save)
    assert topo.sizes == (1, 10, 25, 1)
    x = np.linspace(-3, 3, 50)[:, None]
    # The saved network is the one the run measured: its held-out error is in the JSON.
    data = TASKS["sine"].make_data(np.random.default_rng(0))
    mse = float(np.mean((mlp.forward(theta, data.x_test, topo) - data.y_test) ** 2))
    assert mse == pytest.approx(out["test_mse"], rel=1e-9)
    assert mlp.forward(theta, x, topo).shape == (50, 1)


def test_train_xor_runs_reports_solved_runs():
    r = evonet_here("train", "xor", "--runs", "5", "--json")
    assert r.returncode == 0, r.stderr
    out = last_json(r.stdout)
    assert out["runs"] == 5 and out["solved_runs"] == 5 and out["solved"] is True
    assert out["accuracy"] == 1.0


def test_the_bar_counts_the_epochs_that_ran():
    """Runs that stop early leave the bar's total: it ends at the epochs actually run."""
    r = evonet_here("train", "xor", "--runs", "3")
    assert r.returncode == 0, r.stderr
    lines = re.findall(r"run \d/3 \(seed \d\): ([\d,]+) epochs", r.stdout + r.stderr)
    ran = [int(e.replace(",", "")) for e in lines]
    assert len(ran) == 3 and sum(ran) < 3 * TASKS["xor"].config.epochs  # they stopped early
    last = re.findall(r"train xor: +\d+%\|[^|]*\| (\d+)/(\d+)", r.stderr)[-1]
    assert last == (str(sum(ran)), str(sum(ran)))


def test_python_m_and_console_script_agree():
    script = Path(sys.executable).parent / "evonet"
    r = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and "evonet" in r.stdout


@pytest.mark.parametrize(
    "args,needle",
    [
        (["train", "cosine"], "invalid choice"),
        (["train", "sine", "--hidden", "10,x"], "--hidden"),
        (["train", "sine", "--hidden", "10,-2"], "--hidden"),
        (["train", "sine", "--lr", "0"], "--lr"),
        (["train", "sine", "--lr", "-0.1"], "--lr"),
        (["train", "sine", "--epochs", "0"], "--epochs"),
        (["train", "sine", "--epochs", "1" + "0" * 22], "--epochs: must be from 1 to 1000000"),
        (["train", "xor", "--runs", "1" + "0" * 19], "--runs: must be from 1 to 10000"),
        (["train", "xor", "--sweep", "epochs=5,1" + "0" * 12], "epochs=1000000000000: must be"),
        (["train", "sine", "--batch-size", "-3"], "--batch-size"),
        (["train", "sine", "--weight-decay", "nan"], "--weight-decay"),
        (["train", "sine", "--weight-decay", "inf"], "--weight-decay"),
        (["train", "sine", "--lr", "nan"], "--lr"),
        (["train", "sine", "--lr", "1e400"], "--lr"),
        (["train", "sine", "--plot", "/no/such/folder/x.png"], "--plot"),
        (["train", "sine", "--save", "/no/such/folder/x.npz"], "--save"),
        (["train", "sine", "--confusion", "c.png"], "--confusion: sine is not a classification"),
        (["train", "xor", "--data", "."], "--data reads MNIST for the digits task"),
        (["train", "digits", "--data", "/no/such/folder"], "--data /no/such/folder: is not a"),
        (["train", "digits", "--data", "."], "has no train-images-idx3-ubyte"),
        (["train", "xor", "--sweep", "lr=0.1,x"], "--sweep lr=x: expected a number"),
        (["train", "xor", "--sweep", "hiden=2,4"], "did you mean hidden?"),
        (["train", "xor", "--sweep", "hidden=10-x"], "hidden=10-x: expected layer sizes like 10"),
        (["train", "xor", "--plot", "p.npz"], "--plot p.npz: use a name ending in .png"),
        (["train", "xor", "--save", "x.txt"], "--save x.txt: use a name ending in .npz"),
        (["train", "xor", "--plot", "a.png", "--confusion", "a.png"], "name the same file"),
        (["train", "xor", "--sweep", "lr=0.1,0.2", "--save", "x.npz"], "drop --sweep"),
        (["train", "digits", "--sweep", "lr=0.1,0.2", "--confusion", "c.png"], "drop --sweep"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, needle):
    r = evonet_here(*args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]
    assert "Traceback" not in r.stderr


def test_save_below_a_file_is_rejected(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    r = evonet_here("train", "xor", "--save", str(tmp_path / "notes.txt" / "x.npz"))
    assert r.returncode == 2 and "is not a folder" in r.stderr
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_save_onto_a_folder_is_rejected(tmp_path):
    r = evonet_here("train", "xor", "--save", str(tmp_path))
    assert r.returncode == 2 and "is a folder" in r.stderr


def test_a_diverged_network_is_never_saved(tmp_path):
    save = str(tmp_path / "n.npz")
    r = evonet_here("train", "sine", "--lr", "1e200", "--epochs", "5", "--json", "--save", save)
    assert r.returncode == 1 and "diverged" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "n.npz").exists()
    assert last_json(r.stdout)["train_loss"] is None  # strict JSON: no NaN on stdout


def test_save_never_replaces_a_checkpoint_or_a_foreign_file(tmp_path):
    r = evonet_here(
        "evolve", "snake", *TINY_EVOLVE, "--generations", "1", "--out", "run", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    (tmp_path / "data.npz").write_bytes(b"someone's data")
    before = (tmp_path / "run/latest.npz").read_bytes()
    for name, what in (
        ("run/latest.npz", "an evolution checkpoint"),
        ("data.npz", "not an evonet"),
    ):
        r = evonet_here("train", "xor", "--save", name, cwd=tmp_path)
        assert r.returncode == 2 and what in r.stderr, r.stderr
    assert (tmp_path / "run/latest.npz").read_bytes() == before
    assert (tmp_path / "data.npz").read_bytes() == b"someone's data"
    # A network file is replaced: that is what --save is for.
    assert evonet_here("train", "xor", "--save", "run/best.npz", cwd=tmp_path).returncode == 0


@pytest.mark.slow
def test_train_digits_curves_confusion_and_a_network_for_raw_pixels(tmp_path, monkeypatch):
    from evonet.train.tasks import digits

    reads = []
    load = digits.load_bundled
    monkeypatch.setattr(digits, "load_bundled", lambda: reads.append(1) or load())
    plot, conf, save = tmp_path / "d.png", tmp_path / "c.png", tmp_path / "d.npz"
    r = evonet_here("train", "digits", "--epochs", "3", "--runs", "2", "--plot", str(plot),
                    "--confusion", str(conf), "--save", str(save), "--json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert len(reads) == 1  # two runs, a plot, a confusion matrix, a save: one read
    out = last_json(r.stdout)
    assert out["task"] == "digits" and out["epochs"] == 3 and out["accuracy"] > 0.85
    for png in (plot, conf):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    theta, topo, meta = load_network(save)
    assert topo.sizes == (64, 128, 10) and meta["info"]["inputs"].startswith("8x8 pixels")
    # The saved network reads pixels from 0 to 1 and scores what the run reported.
    data = TASKS["digits"].make_data(np.random.default_rng(0))
    raw = data.x_test * data.scale + data.shift
    pred = mlp.forward(theta, raw, topo).argmax(axis=1)
    first = np.mean(pred == data.y_test.argmax(axis=1))  # the first of the two runs
    assert first in (pytest.approx(out["min_accuracy"]), pytest.approx(out["max_accuracy"]))
    assert raw.min() >= -1e-9 and raw.max() <= 1 + 1e-9 and digits.TARGET_ACCURACY == 0.97
    # It is no game agent, and watch and evaluate say so in one line.
    for command in ("watch", "evaluate"):
        r = evonet_here(command, str(save))
        assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
        assert "64-128-10 was trained by 'evonet train digits', not evolved" in r.stderr


def test_train_digits_reads_mnist_idx_files_and_refuses_a_malformed_one(tmp_path):
    from tests.evonet.train.tasks.mnist_fixture import write_mnist

    write_mnist(tmp_path, n_train=300, n_test=100)
    r = evonet_here("train", "digits", "--data", str(tmp_path), "--epochs", "5", "--json")
    assert r.returncode == 0, r.stderr
    assert last_json(r.stdout)["accuracy"] > 0.8  # chance is 0.1
    labels = tmp_path / "t10k-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:-3])
    r = evonet_here("train", "digits", "--data", str(tmp_path))
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert f"{labels}: is shorter than its header says" in r.stderr


@pytest.mark.slow
def test_digits_without_scikit_learn_says_what_to_install(tmp_path):
    # A scikit-learn that cannot be imported stands in for one that is not installed.
    (tmp_path / "sklearn").mkdir()
    (tmp_path / "sklearn" / "__init__.py").write_text("raise ImportError('not installed')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    r = subprocess.run([sys.executable, "-m", "evonet", "train", "digits"], capture_output=True,
                       text=True, env=env, cwd=tmp_path, timeout=120)  # fmt: skip
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert "pip install 'evonet[digits]'" in r.stderr


@pytest.mark.slow
def test_plot_never_replaces_a_file_that_is_not_a_png(tmp_path):
    (tmp_path / "notes.png").write_text("not a picture")
    r = evonet_here("train", "xor", "--epochs", "2", "--plot", "notes.png", cwd=tmp_path)
    assert r.returncode == 2 and "holds a file that is not a PNG" in r.stderr
    assert (tmp_path / "notes.png").read_text() == "not a picture"
    r = evonet_here("train", "xor", "--epochs", "2", "--plot", "xor.png", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    # A PNG is replaced: that is what --plot is for.
    r = evonet_here("train", "xor", "--epochs", "3", "--plot", "xor.png", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
