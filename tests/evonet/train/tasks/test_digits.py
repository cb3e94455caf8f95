import dataclasses
import gzip

import numpy as np
import pytest

from evonet.nn import mlp
from evonet.train import fit as train
from evonet.train import losses, task
from evonet.train.tasks import digits
from evonet.train.tasks.registry import TASKS
from tests.evonet.train.tasks.mnist_fixture import write_mnist


def fit_task(task, seed=0, **overrides):
    cfg = dataclasses.replace(task.config, **overrides)
    rng = np.random.default_rng(seed)
    data = task.make_data(rng)
    topo = task.topology()
    res = train.fit(mlp.init(topo, rng), topo, data.x, data.y, cfg, rng, *data.val)
    return res, data, topo


def test_the_split_is_fixed_disjoint_and_covers_every_image():
    a = digits.make_data(np.random.default_rng(0))
    b = digits.make_data(np.random.default_rng(1))
    assert len(a.x) + len(a.x_val) + len(a.x_test) == 1797
    np.testing.assert_array_equal(a.x_test, b.x_test)  # --seed never moves the test set
    # Train, validation and test together are the whole set, each image once.
    raw = np.concatenate([a.x, a.x_val, a.x_test]) * a.scale + a.shift
    x, _ = digits.load_bundled()
    np.testing.assert_allclose(np.unique(raw.round(9), axis=0), np.unique(x, axis=0), atol=1e-9)
    assert len(np.unique(raw.round(9), axis=0)) == len(np.unique(x, axis=0))
    # Standardised with the training set's statistics only.
    np.testing.assert_allclose(a.x.mean(axis=0), 0, atol=1e-12)


@pytest.mark.slow
def test_the_bundled_digits_are_scikit_learns_read_without_importing_it(monkeypatch, tmp_path):
    import importlib.util
    import subprocess
    import sys

    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    mine, labels = digits.load_bundled()
    np.testing.assert_array_equal(mine, x / 16.0)
    np.testing.assert_array_equal(labels, y)
    code = (
        "import sys; from evonet.train.tasks import digits; digits.load_bundled()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr
    # Where scikit-learn keeps the file elsewhere, it is asked for the digits instead.
    spec = importlib.util.find_spec("sklearn")
    moved = importlib.util.spec_from_file_location(
        "sklearn", spec.origin, submodule_search_locations=[str(tmp_path)]
    )
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: moved)
    again, _ = digits.load_bundled()
    np.testing.assert_array_equal(again, mine)
    # So is it where the file there is damaged, or not numbers.
    damaged = tmp_path / "datasets" / "data" / "digits.csv.gz"
    damaged.parent.mkdir(parents=True)
    for junk in (b"\x1f\x8b garbage", gzip.compress(b"a,b,c\n1,2,x\n")):
        damaged.write_bytes(junk)
        again, _ = digits.load_bundled()
        np.testing.assert_array_equal(again, mine)


def test_a_few_epochs_on_the_digits_beat_chance_by_far():
    res, data, topo = fit_task(TASKS["digits"], epochs=4)
    metrics = TASKS["digits"].metrics(res.theta, topo, data)
    assert metrics["accuracy"] > 0.85  # chance is 0.1
    # Per-epoch curves of both sets, loss falling and accuracy rising.
    assert len(res.val_acc) == len(res.train_acc) == len(res.val_loss) == 4
    assert res.train_loss[-1] < res.train_loss[0] and res.val_acc[-1] > 0.8


def test_a_saved_network_reads_raw_pixels():
    res, data, topo = fit_task(TASKS["digits"], epochs=1)
    raw = data.x_test * data.scale + data.shift  # pixels from 0 to 1
    folded = task.raw_input_network(res.theta, topo, data)
    np.testing.assert_allclose(
        mlp.forward(folded, raw, topo), mlp.forward(res.theta, data.x_test, topo), atol=1e-12
    )


def test_the_confusion_matrix_counts_targets_against_predictions():
    res, data, topo = fit_task(TASKS["digits"], epochs=2)
    out = mlp.forward(res.theta, data.x_test, topo)
    counts = losses.confusion(out, data.y_test)
    assert counts.shape == (10, 10) and counts.sum() == len(data.x_test)
    assert np.trace(counts) / counts.sum() == pytest.approx(losses.accuracy(out, data.y_test))
    np.testing.assert_array_equal(counts.sum(axis=1), data.y_test.sum(axis=0))


def test_mnist_from_idx_files_learns_the_fixture(tmp_path):
    test_labels = write_mnist(tmp_path, n_train=400, n_test=100, gz=True)
    task = digits.from_folder(tmp_path)
    assert (task.n_in, task.n_out) == (144, 10)
    res, data, topo = fit_task(task, epochs=5)
    assert len(data.x) + len(data.x_val) == 400 and len(data.x_test) == 100
    np.testing.assert_array_equal(data.y_test.argmax(axis=1), test_labels)
    assert task.metrics(res.theta, topo, data)["accuracy"] > 0.8
