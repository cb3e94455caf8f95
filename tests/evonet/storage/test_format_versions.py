"""Checkpoint format versions: version 2 keeps the history in an array and round-trips it
exactly; version 1 files (the history in the JSON) still load, play and resume."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from evonet.evolution.config import EvolveConfig
from evonet.evolution.files import load_agent, load_network, load_run, save_run
from evonet.evolution.run import Run, evolve
from evonet.storage.archive import save_arrays
from evonet.storage.checkpoint import CheckpointError, file_kind
from evonet.storage.history import history_csv
from tests import crafted
from tests.crafted import variant
from tests.helpers import evonet_here, strip_timing

ROOT = Path(__file__).resolve().parents[3]
# Written by evonet before version 2 (a Snake run of 2 generations, config below).
V1_FIXTURE = Path(__file__).with_name("data") / "v1-checkpoint.npz"
V1_CONFIG = EvolveConfig(
    generations=2, population=8, elite=2, parents=4, episodes=2, board=(6, 6), hidden=(4,),
    seed=5, champion_episodes=0, late_episodes=0, late_from=0, curriculum=325,  # as v1 played
    late_share=1.0, champion_heats=0,
)  # fmt: skip
TINY = dataclasses.replace(V1_CONFIG, generations=4, population=12)


def save_run_v1(path, run):
    """A checkpoint in version 1's layout, as evonet wrote it before version 2."""
    arrays, values = run.ga.state()
    meta = {
        "format": "evonet",
        "version": 1,
        "kind": "checkpoint",
        "config": run.config.to_dict(),
        "topology": run.topology.to_dict(),
        "history": run.history,
        **values,
    }
    return save_arrays(path, arrays, meta)


def test_a_checkpoint_is_written_as_version_2_with_its_history_as_an_array(tmp_path):
    run = Run.start(dataclasses.replace(TINY, generations=3))
    evolve(run)
    path = save_run(tmp_path / "c.npz", run)
    meta = crafted.meta_of(path)
    assert meta["version"] == 2 and "history" not in meta
    assert meta["history_fields"] == list(run.fields)
    with np.load(path, allow_pickle=False) as z:
        h = z["history"]
    assert h.dtype == np.float64 and h.shape == (3, len(run.fields))
    np.testing.assert_array_equal(h[:, 0], [0, 1, 2])
    assert h[1, run.fields.index("best_apples")] == run.history[1]["best_apples"]


def test_loading_and_saving_again_gives_the_same_members_and_history_csv(tmp_path):
    run = Run.start(dataclasses.replace(TINY, generations=2))
    evolve(run)
    first = save_run(tmp_path / "a.npz", run)
    back = load_run(first)
    # Ints stay ints (generation, workers), floats floats: the CSV is the same text.
    assert history_csv(back.history, back.fields) == history_csv(run.history, run.fields)
    assert [type(v) for v in back.history[0].values()] == [type(v) for v in run.history[0].values()]
    again = save_run(tmp_path / "b.npz", back)
    assert crafted.members(again) == crafted.members(first)  # byte for byte, zip dates aside


def test_the_committed_version_1_checkpoint_loads_plays_and_resumes(tmp_path):
    assert crafted.meta_of(V1_FIXTURE)["version"] == 1 and file_kind(V1_FIXTURE) == "checkpoint"
    run = load_run(V1_FIXTURE)
    assert run.config == V1_CONFIG and run.generation == 2
    assert [r["generation"] for r in run.history] == [0, 1]
    assert all(type(r["workers"]) is int and type(r["seconds"]) is float for r in run.history)
    theta, topo, game = load_agent(V1_FIXTURE)
    np.testing.assert_array_equal(theta, run.ga.best_genome)
    assert topo.sizes == (35, 4, 3) and game.describe() == "snake 6x6"
    before = crafted.meta_of(V1_FIXTURE)["history"]

    run.config = dataclasses.replace(run.config, generations=3)
    evolve(run)
    resumed = load_run(save_run(tmp_path / "latest.npz", run))
    assert resumed.generation == 3 and resumed.history[:2] == before
    assert history_csv(resumed.history[:2], run.fields) == history_csv(before, run.fields)


def test_a_version_1_checkpoint_resumes_bit_for_bit(tmp_path):
    straight = Run.start(TINY)
    evolve(straight)
    half = Run.start(dataclasses.replace(TINY, generations=2))
    evolve(half)
    resumed = load_run(save_run_v1(tmp_path / "v1.npz", half))
    resumed.config = dataclasses.replace(resumed.config, generations=4)
    evolve(resumed)
    a = crafted.members(save_run(tmp_path / "straight.npz", straight))
    b = crafted.members(save_run(tmp_path / "resumed.npz", resumed))
    assert a.keys() == b.keys()
    for name in a.keys() - {"history.npy"}:
        assert a[name] == b[name], name
    assert strip_timing(resumed.history) == strip_timing(straight.history)


def test_the_cli_resumes_the_committed_version_1_checkpoint(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "latest.npz").write_bytes(V1_FIXTURE.read_bytes())
    r = evonet_here(
        "evolve", "snake", "--resume", "run/latest.npz", "--generations", "3", "--quiet",
        "--no-plot", "--backend", "serial", cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert crafted.meta_of(folder / "latest.npz")["version"] == 2
    rows = (folder / "history.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["0", "1", "2"]
    r = evonet_here("evaluate", str(V1_FIXTURE), "--episodes", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("path", sorted((ROOT / "checkpoints").glob("*.npz")), ids=lambda p: p.name)
def test_the_shipped_networks_load_and_play(path):
    # The champions of earlier versions stay in version 1's layout, so reading it stays
    # tested on real files; the current champions are version 2 files.
    expected = 2 if path.name in ("snake-champion.npz", "snake-champion-20x20.npz") else 1
    assert crafted.meta_of(path)["version"] == expected
    theta, topo, game = load_agent(path)
    assert theta.shape == (topo.n_params,) and game.name == "snake"


def _v1_history(change):
    return lambda m: {**m, "history": change(m["history"])}


# Version 1's history in the JSON is checked as strictly as it always was.
V1_CASES = {
    "without_fields": (_v1_history(lambda h: [{"generation": 0}] * 2), "history record 0"),
    "nan": (
        _v1_history(lambda h: [{**r, "seconds": float("nan")} for r in h]),
        "history record 0: seconds is nan",
    ),
    "not_a_list": (_v1_history(lambda h: {"0": h[0]}), "history is not a list"),
    "one_record_short": (_v1_history(lambda h: h[:1]), "does not match the 1 history records"),
    "generation_as_float": (
        _v1_history(lambda h: [{**r, "generation": float(r["generation"])} for r in h]),
        "history record 0: generation is 0.0, expected 0",
    ),
    "half_a_worker": (
        _v1_history(lambda h: [{**r, "workers": 1.5} for r in h]),
        "workers is 1.5, not a whole number",
    ),
    "history_array_added": (
        lambda m: {**m, "history_fields": ["generation"]},
        "unknown history_fields",
    ),
}


@pytest.mark.parametrize("name", V1_CASES)
def test_a_broken_version_1_history_is_refused(name, tmp_path):
    change, needle = V1_CASES[name]
    path = variant(V1_FIXTURE, tmp_path / f"{name}.npz", meta=change)
    for load in (load_run, load_network):
        with pytest.raises(CheckpointError) as err:
            load(path)
        assert str(path) in str(err.value) and needle in str(err.value)


def test_a_version_1_file_with_a_history_array_is_refused(tmp_path):
    path = variant(V1_FIXTURE, tmp_path / "x.npz", add={"history": crafted.npy(np.zeros((2, 9)))})
    with pytest.raises(CheckpointError, match="unexpected member history"):
        load_run(path)
