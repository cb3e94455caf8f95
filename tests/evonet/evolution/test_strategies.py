"""Every evolution strategy keeps evonet's promises in a run: a resumed run is the run
that went straight through, worker processes and Ray give serial's numbers, checkpoints
are checked as strictly as the GA's, and the history shows the strategy's figures."""

import dataclasses
import io
import zipfile

import numpy as np
import pytest

from evonet.evolution.config import EvolveConfig
from evonet.evolution.evaluators.processes import ProcessEvaluator
from evonet.evolution.evaluators.ray_tasks import RayEvaluator
from evonet.evolution.files import load_run, save_run
from evonet.evolution.run import Run, evolve
from evonet.search.strategies import EVOLUTION_STRATEGIES
from evonet.storage.checkpoint import CheckpointError
from evonet.storage.history import STRATEGY_FIELDS, TIMING_FIELDS
from tests.helpers import evonet_here, history_rows

NAMES = sorted(EVOLUTION_STRATEGIES)
TINY = EvolveConfig(
    generations=4, population=12, episodes=2, board=(6, 6), hidden=(4,), champion_episodes=4
)


def config(name, **changes):
    return dataclasses.replace(TINY, strategy=name, **changes)


def without_timing(history):
    return [{k: v for k, v in r.items() if k not in TIMING_FIELDS} for r in history]


def same_state(a, b):
    arrays_a, values_a = a.strategy.state()
    arrays_b, values_b = b.strategy.state()
    assert values_a == values_b and arrays_a.keys() == arrays_b.keys()
    for k in arrays_a:
        np.testing.assert_array_equal(arrays_a[k], arrays_b[k], err_msg=k)


@pytest.mark.parametrize("name", NAMES)
def test_a_resumed_run_is_the_run_that_went_straight_through(tmp_path, name):
    straight = Run.start(config(name))
    evolve(straight)
    half = Run.start(config(name, generations=2))
    evolve(half)
    save_run(tmp_path / "half.npz", half)
    resumed = load_run(tmp_path / "half.npz")
    resumed.config = config(name)
    evolve(resumed)
    same_state(straight, resumed)
    assert without_timing(straight.history) == without_timing(resumed.history)
    np.testing.assert_array_equal(straight.champion.genome, resumed.champion.genome)
    assert set(STRATEGY_FIELDS) <= straight.history[-1].keys()


@pytest.fixture(scope="module")
def two_processes():
    with ProcessEvaluator(2) as ev:
        yield ev


@pytest.mark.parametrize("name", NAMES)
def test_two_worker_processes_give_serial_numbers(two_processes, name):
    serial, parallel = Run.start(config(name)), Run.start(config(name))
    evolve(serial)
    evolve(parallel, evaluator=two_processes)
    same_state(serial, parallel)
    assert without_timing(serial.history) == without_timing(parallel.history)


@pytest.mark.slow
def test_ray_gives_serial_numbers_for_every_strategy():
    with RayEvaluator(2) as ray:
        for name in NAMES:
            # PGPE's run normalises its observations: the Ray tasks sum them too.
            cfg = config(name, generations=2, obs_norm=name == "pgpe")
            serial, remote = Run.start(cfg), Run.start(cfg)
            evolve(serial)
            evolve(remote, evaluator=ray)
            same_state(serial, remote)
            assert without_timing(serial.history) == without_timing(remote.history)


def tampered(tmp_path, name, member, change):
    """A valid checkpoint of strategy ``name`` with array ``member`` changed."""
    run = Run.start(config(name, generations=1))
    evolve(run)
    good = tmp_path / "good.npz"
    save_run(good, run)
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == member + ".npy":
                arr = np.load(src.open(item), allow_pickle=False)
                if change is None:
                    continue
                buf = io.BytesIO()
                np.save(buf, change(arr))
                data = buf.getvalue()
            dst.writestr(item, data)
    return bad


@pytest.mark.parametrize(
    "name,member,change,needle",
    [
        ("pgpe", "es_sigma", lambda a: -a, "invalid pgpe state: sigma must be positive"),
        ("snes", "es_mean", lambda a: a * np.nan, "'es_mean' holds NaN"),
        ("cma-es", "es_c", lambda a: a + np.triu(np.ones_like(a), 1), "must be symmetric"),
        ("cma-es", "es_d", lambda a: a * 0, "eigenvalues must be positive"),
        ("openai-es", "es_adam_m", lambda a: a[:-1], "has shape"),
        ("openai-es", "es_adam_v", lambda a: a.astype(np.float32), "has dtype"),
        ("snes", "es_sigma", None, "missing es_sigma"),
    ],
)
def test_a_tampered_strategy_state_is_one_line(tmp_path, name, member, change, needle):
    bad = tampered(tmp_path, name, member, change)
    with pytest.raises(CheckpointError, match=needle) as e:
        load_run(bad)
    assert "\n" not in str(e.value) and str(bad) in str(e.value)


def test_a_strategy_s_settings_must_match_the_config(tmp_path):
    run = Run.start(config("pgpe", generations=1))
    evolve(run)
    run.config = config("snes", generations=1)  # the file says snes, its arrays are pgpe's
    save_run(tmp_path / "x.npz", run)
    with pytest.raises(CheckpointError, match="ga_config does not match|es_velocity"):
        load_run(tmp_path / "x.npz")


def test_the_command_line_evolves_resumes_and_plots_with_a_strategy(tmp_path):
    flags = ["--board", "6x6", "--population", "10", "--episodes", "1", "--hidden", "4"]
    flags += ["--champion-episodes", "2", "--strategy", "cma-es", "--sigma", "0.3", "--quiet"]
    r = evonet_here("evolve", "snake", *flags, "--generations", "2", "--out", "a", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = evonet_here("evolve", "snake", *flags, "--generations", "4", "--out", "b", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = evonet_here(
        "evolve", "snake", "--resume", "a/latest.npz", "--generations", "4", "--quiet", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert history_rows(tmp_path / "a/history.csv") == history_rows(tmp_path / "b/history.csv")
    header = (tmp_path / "a/history.csv").read_text().splitlines()[0].split(",")
    assert header[6:8] == list(STRATEGY_FIELDS)
    r = evonet_here("plot", "a", "--out", "a.png", cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "a.png").stat().st_size > 0, r.stderr


@pytest.mark.parametrize(
    "flags,needle",
    [
        (["--strategy", "cma-es", "--learning-rate", "0.1"], "cma-es has no learning rate"),
        (["--strategy", "pgpe", "--population", "7"], "population must be even"),
        (["--strategy", "snes", "--sigma", "-1"], "sigma must be >= 0"),
        (["--strategy", "nes"], "invalid choice: 'nes'"),
    ],
)
def test_impossible_strategy_flags_are_one_line(tmp_path, flags, needle):
    r = evonet_here("evolve", "snake", *flags, cwd=tmp_path)
    assert r.returncode == 2 and needle in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "checkpoints").exists()
