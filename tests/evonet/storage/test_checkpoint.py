"""Checkpoints: round trip, bit-identical resume, atomic writes, corrupt files."""

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

from evonet.evolution.config import EvolveConfig
from evonet.evolution.files import load_network, load_run, save_run
from evonet.evolution.run import Run, evolve
from evonet.storage import checkpoint
from evonet.storage.checkpoint import CheckpointError
from tests.helpers import evonet_here, strip_timing

TINY = EvolveConfig(
    generations=10, population=16, elite=2, parents=5, episodes=2, board=(6, 6), hidden=(6,), seed=3
)


def test_save_load_round_trip(tmp_path):
    run = Run.start(dataclasses.replace(TINY, generations=3))
    evolve(run)
    save_run(tmp_path / "c.npz", run)
    back = load_run(tmp_path / "c.npz")
    assert back.config == run.config and back.topology == run.topology
    assert back.generation == 3 and back.history == run.history
    np.testing.assert_array_equal(back.ga.population, run.ga.population)
    np.testing.assert_array_equal(back.ga.fitness, run.ga.fitness)
    np.testing.assert_array_equal(back.ga.best_genome, run.ga.best_genome)
    assert back.ga.best_fitness == run.ga.best_fitness
    assert back.ga.rng.bit_generator.state == run.ga.rng.bit_generator.state
    assert back.ga.population.dtype == np.float32


def test_ten_straight_equals_five_then_resume_five(tmp_path):
    straight = Run.start(TINY)
    evolve(straight)
    half = Run.start(dataclasses.replace(TINY, generations=5))
    evolve(half)
    save_run(tmp_path / "latest.npz", half)
    resumed = load_run(tmp_path / "latest.npz")
    resumed.config = dataclasses.replace(resumed.config, generations=10)
    evolve(resumed)
    assert resumed.generation == straight.generation == 10
    np.testing.assert_array_equal(resumed.ga.population, straight.ga.population)
    np.testing.assert_array_equal(resumed.ga.fitness, straight.ga.fitness)
    np.testing.assert_array_equal(resumed.ga.best_genome, straight.ga.best_genome)
    assert strip_timing(resumed.history) == strip_timing(straight.history)


def test_a_failed_write_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "x.npz"
    checkpoint.save_npz(path, {"a": np.zeros(3)}, {"kind": "test"})
    before = path.read_bytes()

    def boom(f, **arrays):
        f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError):
        checkpoint.save_npz(path, {"a": np.ones(3)}, {"kind": "test"})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["x.npz"]  # no temporary left behind


@pytest.mark.slow
def test_a_writer_killed_midway_leaves_a_loadable_checkpoint(tmp_path):
    path = tmp_path / "latest.npz"
    writer = textwrap.dedent(f"""
        import numpy as np
        from evonet.storage.checkpoint import save_network
        from evonet.nn.mlp import Topology
        topo, i = Topology((1000, 2000, 1)), 0
        while True:
            theta = np.full(topo.n_params, float(i))
            save_network({str(path)!r}, theta, topo, {{"i": i}})
            i += 1
    """)
    for attempt in range(4):
        proc = subprocess.Popen([sys.executable, "-c", writer])
        deadline = time.time() + 30
        while not path.exists() and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(0.05 + 0.13 * attempt)  # kill at different points of a write
        proc.kill()
        proc.wait()
        theta, _, meta = load_network(path)
        assert np.all(theta == meta["info"]["i"])


# ----------------------------------------------------------------- corrupt files


@pytest.fixture
def good(tmp_path):
    run = Run.start(dataclasses.replace(TINY, generations=2))
    evolve(run)
    return save_run(tmp_path / "good.npz", run)


def rewrite(src, dst, arrays=None, meta=None):
    """Copy a checkpoint with some arrays or metadata replaced (bypassing validation)."""
    with np.load(src) as z:
        data = {k: z[k] for k in z.files}
    m = json.loads(data.pop("meta").tobytes())
    m.update(meta or {})
    data.update(arrays or {})
    data["meta"] = np.frombuffer(json.dumps(m).encode(), dtype=np.uint8)
    np.savez(dst, **data)
    return dst


class Boom:
    def __reduce__(self):
        return (os.mkdir, ("PWNED",))


def make_case(name, good, tmp_path):
    p = tmp_path / f"{name}.npz"
    if name == "missing":
        return p
    if name == "empty":
        p.write_bytes(b"")
    elif name == "truncated":
        p.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif name == "random_bytes":
        p.write_bytes(np.random.default_rng(0).bytes(5000))
    elif name == "pickled_object":
        with zipfile.ZipFile(p, "w") as z:
            buf = __import__("io").BytesIO()
            np.save(buf, np.array([Boom()], dtype=object), allow_pickle=True)
            z.writestr("meta.npy", buf.getvalue())
    elif name == "wrong_version":
        rewrite(good, p, meta={"version": 99})
    elif name == "topology_mismatch":
        rewrite(
            good, p, meta={"topology": {"sizes": [32, 7, 3], "hidden": "tanh", "output": "linear"}}
        )
    elif name == "nan_weights":
        with np.load(good) as z:
            pop, best = z["population"].copy(), z["best_genome"].copy()
        pop[1, 3] = best[5] = np.nan
        rewrite(good, p, arrays={"population": pop, "best_genome": best})
    elif name == "foreign_npz":
        np.savez(p, weights=np.zeros(3))
    return p


CASES = {
    "missing": "no such file",
    "empty": "empty",
    "truncated": "not a valid .npz",
    "random_bytes": "not a valid .npz",
    "pickled_object": "pickled object array",
    "wrong_version": "version 99",
    "topology_mismatch": "does not match",
    "nan_weights": "NaN",
    "foreign_npz": "not an evonet file",
}


@pytest.mark.parametrize("name", CASES)
def test_corrupt_checkpoint_is_refused_by_the_library(name, good, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = make_case(name, good, tmp_path)
    with pytest.raises(CheckpointError) as err:
        load_run(path)
    assert str(path) in str(err.value) and CASES[name] in str(err.value)
    assert not (tmp_path / "PWNED").exists()  # nothing in the file was executed


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("command", ["resume", "evaluate"])
def test_corrupt_file_gives_one_line_and_exit_2(name, command, good, tmp_path):
    path = make_case(name, good, tmp_path)
    args = (
        ["evolve", "snake", "--resume", str(path)]
        if command == "resume"
        else ["evaluate", str(path)]
    )
    r = evonet_here(*args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in r.stderr
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("board", [[100, 100], [10], "big", [3, 3]])
def test_impossible_game_settings_in_a_network_file_are_one_line(tmp_path, board):
    from evonet.nn import mlp

    topo = mlp.Topology((32, 4, 3))
    checkpoint.save_network(
        tmp_path / "n.npz", np.zeros(topo.n_params), topo, {"config": {"board": board, "hunger": 0}}
    )
    r = evonet_here("evaluate", "n.npz", cwd=tmp_path)
    assert r.returncode == 2 and "invalid game settings" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
