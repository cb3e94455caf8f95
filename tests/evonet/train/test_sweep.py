import numpy as np
import pytest

from evonet.cli.train import SWEEPABLE
from evonet.nn import mlp
from evonet.train import fit as train
from evonet.train import sweep
from evonet.train.tasks.registry import TASKS
from tests.helpers import evonet_here, last_json


def test_a_grid_is_every_combination_first_sweep_slowest():
    sweeps = [sweep.parse("hidden=2,10-25", SWEEPABLE), sweep.parse("lr=0.1,0.5", SWEEPABLE)]
    cells = sweep.grid(sweeps)
    assert cells == [
        {"hidden": (2,), "lr": 0.1},
        {"hidden": (2,), "lr": 0.5},
        {"hidden": (10, 25), "lr": 0.1},
        {"hidden": (10, 25), "lr": 0.5},
    ]
    assert sweep.label(cells[2]) == "hidden=10-25 lr=0.1"
    assert sweep.grid([]) == [{}]


@pytest.mark.parametrize(
    "text,needle",
    [
        ("lr", "expected KEY=V1,V2"),
        ("lr=", "expected KEY=V1,V2"),
        ("lrr=0.1", "did you mean lr?"),
        ("seed=1,2", "cannot sweep 'seed'"),
        ("lr=0.1,abc", "lr=abc: expected a number"),
        ("lr=0,0.1", "lr=0: must be a finite number above 0"),
        ("hidden=2,0", "hidden=0"),
        ("optimizer=adam,rmsprop", "optimizer=rmsprop: choose from sgd, momentum, adam"),
        ("lr=0.1,0.1", "a value is given twice"),
        ("lr=" + ",".join(str(k + 1) for k in range(21)), "at most 20"),
    ],
)
def test_bad_sweeps_name_the_problem(text, needle):
    with pytest.raises(ValueError, match=needle):
        sweep.parse(text, SWEEPABLE)


def test_the_grid_size_is_capped_and_a_key_is_swept_once():
    many = [sweep.parse(f"{k}=" + ",".join(map(str, range(1, 9))), SWEEPABLE)
            for k in ("epochs", "batch_size", "hidden")]  # fmt: skip
    with pytest.raises(ValueError, match="512 cells; at most 200"):
        sweep.grid(many)
    with pytest.raises(ValueError, match="lr is swept twice"):
        sweep.grid([sweep.parse("lr=0.1", SWEEPABLE), sweep.parse("lr=0.2", SWEEPABLE)])


@pytest.mark.slow
def test_the_sweep_table_is_computed_from_real_runs():
    r = evonet_here("train", "xor", "--sweep", "hidden=2,4", "--runs", "4", "--json")
    assert r.returncode == 0, r.stderr
    out = last_json(r.stdout)
    assert [c["hidden"] for c in out["cells"]] == ["2", "4"] and out["runs"] == 4
    task = TASKS["xor"]
    for cell, hidden in zip(out["cells"], [(2,), (4,)], strict=True):
        # The same seeds trained here give the same solved count and median loss.
        topo = task.topology(hidden)
        solved, losses = 0, []
        for seed in range(4):
            rng = np.random.default_rng(seed)
            data = task.make_data(rng)
            res = train.fit(mlp.init(topo, rng), topo, data.x, data.y, task.config, rng,
                            *data.val)  # fmt: skip
            solved += task.metrics(res.theta, topo, data)["solved"]
            losses.append(res.train_loss[-1])
        assert cell["solved_runs"] == solved and cell["runs"] == 4
        assert cell["median_loss"] == pytest.approx(float(np.median(losses)), rel=1e-12)


@pytest.mark.slow
def test_a_sweep_prints_a_table_and_overlays_its_curves(tmp_path):
    plot = tmp_path / "grid.png"
    r = evonet_here("train", "sine", "--sweep", "lr=0.01,0.03", "--sweep", "batch-size=16,64",
               "--epochs", "20", "--runs", "2", "--plot", str(plot))  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0] == "sine: 4 cells, 2 runs each"
    assert lines[1].split() == ["lr", "batch_size", "solved", "median", "loss", "median",
                                "test", "MSE", "median", "epochs"]  # fmt: skip
    assert [line.split()[:3] for line in lines[3:]] == [
        ["0.01", "16", "0/2"], ["0.01", "64", "0/2"], ["0.03", "16", "0/2"], ["0.03", "64", "0/2"]
    ]  # fmt: skip
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
