"""Resume and interruption through the real command line."""

import shutil
import signal
import time

import numpy as np
import pytest

from evonet.evolution.files import load_run
from tests.helpers import (
    TINY_EVOLVE,
    evonet_here,
    start_evolve,
    strip_timing,
    wait_for_rows,
)

TINY = [*TINY_EVOLVE, "--seed", "4"]


def start_run(cwd, out, generations):
    """A fresh tiny run of ``generations`` generations in folder ``out``; must succeed."""
    r = evonet_here(
        "evolve", "snake", *TINY, "--generations", str(generations), "--out", out, cwd=cwd
    )
    assert r.returncode == 0, r.stderr


def resume(cwd, checkpoint, *flags):
    """``evonet evolve snake --resume CHECKPOINT FLAGS...`` in ``cwd``, serially (the
    backend is not part of a run; worker processes would cost more to start than it) and
    without fitness.png, as :data:`TINY_EVOLVE`."""
    return evonet_here(
        "evolve",
        "snake",
        "--resume",
        checkpoint,
        "--backend",
        "serial",
        "--no-plot",
        *flags,
        cwd=cwd,
    )


def same_run(a, b):
    np.testing.assert_array_equal(a.ga.population, b.ga.population)
    np.testing.assert_array_equal(a.ga.fitness, b.ga.fitness)
    assert strip_timing(a.history) == strip_timing(b.history)


def test_resume_from_the_command_line_is_bit_identical(tmp_path):
    start_run(tmp_path, "straight", 4)
    start_run(tmp_path, "split", 2)
    r = resume(tmp_path, "split/latest.npz", "--generations", "4", "--quiet")
    assert r.returncode == 0, r.stderr
    same_run(load_run(tmp_path / "straight/latest.npz"), load_run(tmp_path / "split/latest.npz"))
    straight = (tmp_path / "straight/history.csv").read_text().splitlines()
    split = (tmp_path / "split/history.csv").read_text().splitlines()
    assert len(split) == len(straight) == 5


def test_resume_rejects_settings_that_change_results(tmp_path):
    start_run(tmp_path, "run", 2)
    before = (tmp_path / "run/latest.npz").read_bytes()
    flags = ["--generations", "4", "--mutation-rate", "0.3", "--population", "20"]
    r = resume(tmp_path, "run/latest.npz", *flags)
    assert r.returncode == 2
    assert "mutation_rate: 0.1 -> 0.3" in r.stderr and "population: 16 -> 20" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert (tmp_path / "run/latest.npz").read_bytes() == before
    # Settings that cannot change results may differ.
    flags = ["--generations", "3", "--checkpoint-every", "7", "--out", "elsewhere", "--json"]
    r = resume(tmp_path, "run/latest.npz", *flags)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "elsewhere/latest.npz").exists()


def test_resume_needs_more_generations(tmp_path):
    start_run(tmp_path, "run", 2)
    r = resume(tmp_path, "run/latest.npz")
    assert r.returncode == 2 and "--generations" in r.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]
)
def test_signal_saves_a_checkpoint_and_prints_the_resume_command(tmp_path, sig, code):
    proc = start_evolve(
        tmp_path, *TINY, "--generations", "100000", "--checkpoint-every", "1000", "--out", "run"
    )
    history = tmp_path / "run/history.csv"
    wait_for_rows(history, 3, timeout=60)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    line = [x for x in err.splitlines() if x.startswith("resume with: ")][-1]
    command = line.removeprefix("resume with: ").split()
    assert command[:4] == ["evonet", "evolve", "snake", "--resume"]
    saved = load_run(tmp_path / command[4])
    assert saved.generation >= 3
    # The printed command resumes the run (asking for two more generations).
    r = evonet_here(
        *command[1:], "--generations", str(saved.generation + 2), "--quiet", "--backend",
        "serial", cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert load_run(tmp_path / command[4]).generation == saved.generation + 2


def test_resume_never_overwrites_another_run(tmp_path):
    for out in ("a", "b"):
        start_run(tmp_path, out, 2)
    before = (tmp_path / "b/latest.npz").read_bytes()
    r = resume(tmp_path, "a/latest.npz", "--generations", "3", "--out", "b")
    assert r.returncode == 2 and "already holds a run (latest.npz)" in r.stderr
    assert (tmp_path / "b/latest.npz").read_bytes() == before


def test_resuming_an_older_copy_never_replaces_the_newer_run_beside_it(tmp_path):
    start_run(tmp_path, "run", 2)
    shutil.copy(tmp_path / "run/latest.npz", tmp_path / "run/backup.npz")
    assert resume(tmp_path, "run/latest.npz", "--generations", "4", "--quiet").returncode == 0
    newer = (tmp_path / "run/latest.npz").read_bytes()
    r = resume(tmp_path, "run/backup.npz", "--generations", "3", "--quiet")
    assert r.returncode == 2 and "would replace; choose another --out" in r.stderr
    assert (tmp_path / "run/latest.npz").read_bytes() == newer
    r = resume(tmp_path, "run/backup.npz", "--generations", "3", "--quiet", "--out", "branch")
    assert r.returncode == 0 and load_run(tmp_path / "branch/latest.npz").generation == 3


@pytest.mark.slow
def test_two_runs_never_write_one_folder(tmp_path):
    # The first run (20 genomes, to tell its checkpoint from the others') runs until stopped.
    first = start_evolve(
        tmp_path,
        *TINY,
        "--population",
        "20",
        "--generations",
        "100000",
        "--checkpoint-every",
        "100000",
    )  # no checkpoint before it is stopped
    lock = tmp_path / "checkpoints/snake/.evonet.lock"
    deadline = time.time() + 60
    while not lock.exists() and time.time() < deadline:
        time.sleep(0.01)
    # The default folder is taken while the first run works: a second run moves on ...
    r = evonet_here("evolve", "snake", *TINY, "--generations", "2", cwd=tmp_path)
    assert r.returncode == 0 and "checkpoints/snake-2/" in r.stderr
    # ... and an explicit --out that another run is writing is refused.
    r = evonet_here("evolve", "snake", *TINY, "--out", "checkpoints/snake", cwd=tmp_path)
    assert r.returncode == 2 and "another evonet run is writing there" in r.stderr
    assert first.poll() is None, "the first run ended before the others were tried"
    wait_for_rows(tmp_path / "checkpoints/snake/history.csv", 1)  # a generation to save
    first.send_signal(signal.SIGINT)
    assert first.wait(timeout=120) == 130, first.stderr.read()
    assert load_run(tmp_path / "checkpoints/snake/latest.npz").config.population == 20


def test_an_out_folder_that_cannot_be_made_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    r = evonet_here(
        "evolve", "snake", *TINY, "--generations", "1", "--out", "file/run", cwd=tmp_path
    )
    assert r.returncode == 2 and "--out" in r.stderr and "Traceback" not in r.stderr


def test_a_checkpoint_from_before_observation_layouts_resumes_on_layout_1(tmp_path):
    """evonet 0.1.0 wrote no observation layout and picked no champion: its checkpoints
    resume as they ran, and give what a straight layout-1 run gives."""
    from tests.crafted import variant

    old = ["--observation", "1", "--champion-episodes", "0"]
    for name, gens in (("straight", 4), ("split", 2)):
        r = evonet_here("evolve", "snake", *TINY, *old, "--generations", str(gens), "--out", name,
                   cwd=tmp_path)  # fmt: skip
        assert r.returncode == 0, r.stderr

    def as_written_by_0_1_0(meta):
        for key in ("observation", "champion_episodes"):
            del meta["config"][key]
        return meta

    variant(tmp_path / "split/latest.npz", tmp_path / "old.npz", meta=as_written_by_0_1_0)
    r = resume(tmp_path, "old.npz", "--generations", "4", "--out", "resumed", "--quiet")
    assert r.returncode == 0, r.stderr
    resumed = load_run(tmp_path / "resumed/latest.npz")
    assert resumed.config.observation == 1 and resumed.topology.n_in == 32
    same_run(load_run(tmp_path / "straight/latest.npz"), resumed)
