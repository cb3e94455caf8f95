"""Evaluators: the same numbers whatever the split, and faults that change nothing."""

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from evonet.evolution.evaluators.backends import SerialEvaluator
from evonet.evolution.evaluators.processes import ProcessEvaluator
from evonet.evolution.evaluators.ray_tasks import RayEvaluator
from evonet.evolution.evaluators.sharded import plan, shards
from evonet.evolution.files import load_network, load_run
from evonet.evolution.rollout import rollout
from evonet.games.base import episode_seeds
from evonet.games.snake import SnakeSpec
from evonet.views.replay import shipped_champion
from tests.helpers import (
    TINY_EVOLVE,
    evonet_here,
    history_rows,
    start_evolve,
    wait_for_rows,
)

FIELDS = ("fitness", "score", "steps", "episode_fitness", "episode_score", "episode_steps")


def same(a, b):
    return a.agent_steps == b.agent_steps and all(
        np.array_equal(getattr(a, k), getattr(b, k)) for k in (*FIELDS, "episode_won")
    )


def champion_population(n, sigma=0.05):
    """Genomes near the shipped champion: games that last, as in a late generation."""
    theta, topo, _ = load_network(shipped_champion())
    rng = np.random.default_rng(0)
    return (theta[None] + rng.normal(0, sigma, (n, theta.size))).astype(np.float32), topo


@pytest.mark.parametrize("p,workers", [(10, 3), (7, 7), (3, 5), (1, 2), (100, 1)])
def test_shards_are_contiguous_balanced_blocks(p, workers):
    blocks = shards(p, workers)
    assert blocks[0][0] == 0 and blocks[-1][1] == p
    assert all(b == c for (_, b), (c, _) in zip(blocks, blocks[1:], strict=False))
    sizes = [b - a for a, b in blocks]
    assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1 and len(blocks) <= workers


@pytest.mark.parametrize("p,workers", [(300, 2), (23, 3), (5, 2), (40, 1), (1000, 7)])
def test_a_plan_covers_every_genome_once_in_strided_shards(p, workers):
    split = plan(p, episode_seeds(0, 4), workers)
    rows = [np.arange(p)[shard.genomes] for shard in split.shards]
    assert sorted(np.concatenate(rows)) == list(range(p)) and not split.by_episode
    sizes = [r.size for r in rows]
    assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1 and len(rows) == min(workers, p)
    # Each a sample of the whole population: the first rows (the elites) spread over all.
    assert sorted(r[0] for r in rows) == list(range(len(rows)))


def test_strided_shards_merge_into_the_unsplit_rollout():
    pop, topo = champion_population(50)
    game, seeds = SnakeSpec(board=(6, 6)), episode_seeds(3, 2)
    split = plan(len(pop), seeds, 2)
    parts = [rollout(pop[shard.genomes], topo, game, shard.seeds) for shard in split.shards]
    assert len(parts) == 2 and same(split.merge(parts), rollout(pop, topo, game, seeds))


@pytest.mark.slow
def test_processes_give_serial_numbers_for_any_worker_count():
    # One worker, and three for 23 genomes (strided shards of 8, 8, 7) on two cores; two
    # workers are in the tests below. (How shards are cut for any count: the tests above.)
    pop, topo = champion_population(23)
    game, seeds = SnakeSpec(board=(8, 8)), episode_seeds(4, 3)
    serial = SerialEvaluator()(pop, topo, game, seeds)
    for workers in (1, 3):
        with ProcessEvaluator(workers) as ev:
            assert same(ev(pop, topo, game, seeds), serial), workers


@pytest.mark.slow
def test_one_genome_is_split_by_episodes_with_the_same_numbers():
    pop, topo = champion_population(1)
    game, seeds = SnakeSpec(), episode_seeds(2026, 9)
    with ProcessEvaluator(2) as ev:
        assert same(ev(pop, topo, game, seeds), SerialEvaluator()(pop, topo, game, seeds))


class PosingAsTwoWorkers(SerialEvaluator):
    """Serial play that says it has two workers, and records the episodes of each call."""

    workers = 2

    def __init__(self):
        super().__init__()
        self.calls = []

    def __call__(self, genomes, topo, game, seeds):
        self.calls.append(len(seeds))
        return super().__call__(genomes, topo, game, seeds)


def test_evaluate_plays_in_blocks_with_the_numbers_of_one_call(monkeypatch):
    from evonet.cli import evaluate

    pop, topo = champion_population(1)
    game, seeds = SnakeSpec(board=(6, 6)), episode_seeds(7, 37)
    whole = SerialEvaluator()(pop, topo, game, seeds)
    monkeypatch.setattr(evaluate, "MIN_SHARD", 5)  # blocks of 2 x 5: uneven, 10 and 9
    ev = PosingAsTwoWorkers()
    assert same(evaluate.play_with_progress(ev, pop[0], topo, game, seeds), whole)
    assert ev.calls == [10, 9, 9, 9]
    # Without workers: one batch in this process, progress from inside it.
    assert same(evaluate.play_with_progress(SerialEvaluator(), pop[0], topo, game, seeds), whole)


def kill_a_worker_mid_generation(ev, find_worker):
    """Play a generation of champion-like genomes on ``ev``, kill -9 the worker that
    ``find_worker()`` names while it plays, and check the numbers are still serial's."""
    pop, topo = champion_population(600)
    game, seeds = SnakeSpec(), episode_seeds(1, 2)
    expected = SerialEvaluator()(pop, topo, game, seeds)
    # Workers that have played once: the kill lands in a shard's games, not in start-up.
    ev(pop[:4], topo, SnakeSpec(board=(5, 5)), seeds)
    got = {}
    t = threading.Thread(target=lambda: got.update(r=ev(pop, topo, game, seeds)))
    t.start()
    victim = find_worker()
    time.sleep(0.3)  # mid-shard: a shard of 300 champion-like genomes takes over half a second
    os.kill(victim, signal.SIGKILL)
    t.join(120)
    assert same(got["r"], expected)


@pytest.mark.slow
def test_a_killed_worker_has_its_shard_run_again():
    with ProcessEvaluator(2) as ev:
        ev.start()
        kill_a_worker_mid_generation(ev, lambda: next(iter(ev._pool._processes)))
        assert ev.restarts == 1


@pytest.mark.slow
def test_a_run_on_two_workers_resumed_serially_matches_an_uninterrupted_one(tmp_path):
    flags = [*TINY_EVOLVE, "--population", "17", "--seed", "5", "--out", "r"]

    def run(folder, *args):
        (tmp_path / folder).mkdir(exist_ok=True)
        r = evonet_here("evolve", "snake", *args, cwd=tmp_path / folder)
        assert r.returncode == 0, r.stderr

    run("a", *flags, "--generations", "4", "--backend", "serial")
    run("b", *flags, "--generations", "2", "--backend", "processes", "--workers", "2")
    run("b", "--resume", "r/latest.npz", "--generations", "4", "--backend", "serial", "--quiet")
    assert history_rows(tmp_path / "a/r/history.csv") == history_rows(tmp_path / "b/r/history.csv")
    assert (tmp_path / "a/r/best.npz").read_bytes() == (tmp_path / "b/r/best.npz").read_bytes()
    header = (tmp_path / "b/r/history.csv").read_text().splitlines()
    assert header[0].endswith(",workers") and header[1].endswith(",2")


@pytest.mark.slow
def test_ctrl_c_stops_the_workers_without_a_trace(tmp_path):
    proc = start_evolve(
        tmp_path,
        *[*TINY_EVOLVE, "--backend", "processes", "--workers", "2", "--generations", "100000"],
        *["--checkpoint-every", "1"],
    )
    history = tmp_path / "checkpoints/snake/history.csv"
    wait_for_rows(history, 2)
    # The workers, the fork server they come from, multiprocessing's resource tracker.
    children = descendants(proc.pid)
    assert len(children) >= 4, children
    proc.send_signal(signal.SIGINT)
    for pid in children:  # Ctrl-C in a terminal reaches the whole process group
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            pass
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "resume with: evonet evolve snake --resume" in err, err
    assert_gone(children)


@pytest.mark.slow
def test_workers_leave_when_their_owner_is_killed(tmp_path):
    """kill -9 gives the owner no chance to shut its pool down."""
    code = (
        "import time\n"
        "from evonet.evolution.evaluators.processes import ProcessEvaluator\n"
        "ev = ProcessEvaluator(2)\n"
        "ev.start()\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    root = Path(__file__).resolve().parents[3]
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=root, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline() == "started\n"
        children = descendants(proc.pid)
        assert len(children) >= 3, children  # two workers and their fork server
    finally:
        proc.kill()
        proc.wait()
    assert_gone(children)


def descendants(pid):
    """The processes below ``pid`` (by /proc)."""
    pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    return [p for p in pids if p != pid and descends_from(p, pid)]


def assert_gone(pids, timeout=10):
    """Every process of ``pids`` ends within ``timeout`` s (workers look for their
    owner twice a second)."""
    deadline = time.time() + timeout
    while time.time() < deadline and any(running(pid) for pid in pids):
        time.sleep(0.2)
    left = [pid for pid in pids if running(pid)]
    assert left == [], f"processes outlived their owner: {left}"


def descends_from(pid, ancestor):
    """Whether process ``pid`` is ``ancestor`` or one of its descendants (by /proc)."""
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])  # the parent's pid
        except (OSError, ValueError):
            return False
    return False


def running(pid):
    """Whether process ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_a_run_on_ray_keeps_serial_numbers_through_a_killed_worker_and_ctrl_c_leaves_no_trace(
    tmp_path,
):
    """One local Ray instance for all of it: the one ``evonet evolve --backend ray``
    starts (each takes seconds and several processes to start and stop)."""
    # Snakes that circle until they starve (400 steps): shards long enough to be caught
    # playing.
    flags = [*TINY_EVOLVE, "--board", "10x10", "--population", "300", "--hunger", "400"]
    flags += ["--episodes", "2", "--seed", "3", "--checkpoint-every", "1"]
    proc = start_evolve(
        tmp_path,
        *flags,
        *["--backend", "ray", "--workers", "2", "--generations", "100000", "--out", "ray"],
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    history = tmp_path / "ray/history.csv"
    wait_for_rows(history, 1)
    group = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True)
    assert len(group.stdout.split()) >= 3  # evonet, and the Ray processes it started
    # kill -9 a Ray worker while it plays a shard: Ray runs the task again.
    deadline = time.time() + 60
    while time.time() < deadline:
        busy = subprocess.run(
            ["pgrep", "-s", str(proc.pid), "-f", "^ray::_play_shared"],
            capture_output=True,
            text=True,
        ).stdout.split()
        if busy:
            os.kill(int(busy[0]), signal.SIGKILL)
            break
        time.sleep(0.02)
    else:
        raise AssertionError("no Ray worker was seen playing a shard")
    rows = len(history.read_text().splitlines()) - 1
    wait_for_rows(history, rows + 2)  # the run goes on
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "resume with: evonet evolve snake --resume" in err, err
    deadline = time.time() + 20
    while time.time() < deadline and subprocess.run(["pgrep", "-s", str(proc.pid)]).returncode == 0:
        time.sleep(0.2)
    left = subprocess.run(["pgrep", "-a", "-s", str(proc.pid)], capture_output=True, text=True)
    assert left.stdout == "", f"processes outlived the run: {left.stdout[:500]}"
    # Every generation it played, the killed worker's among them, has serial's numbers.
    generations = load_run(tmp_path / "ray/latest.npz").generation
    r = evonet_here(
        "evolve", "snake", *flags, "--generations", str(generations), "--out", "serial",
        cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert history_rows(history) == history_rows(tmp_path / "serial/history.csv")
    ray, serial = load_run(tmp_path / "ray/latest.npz"), load_run(tmp_path / "serial/latest.npz")
    np.testing.assert_array_equal(ray.ga.population, serial.ga.population)


@dataclass(frozen=True)
class DiesOnce(SnakeSpec):
    """Snake whose first batch kills the process making it: a worker that dies mid-task
    (out of memory, killed), once. ``marker`` is the file that tells the attempts apart."""

    marker: str = ""

    def make(self, n_games):
        attempts = Path(self.marker)
        tried = attempts.read_text() if attempts.exists() else ""
        attempts.write_text(tried + f"{os.getpid()}\n")
        if not tried:
            os._exit(1)
        return super().make(n_games)


@pytest.mark.slow
def test_a_ray_task_whose_worker_dies_is_retried_with_the_same_numbers(tmp_path):
    ray = pytest.importorskip("ray")
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # Ray's workers lack tests/
    pop, topo = champion_population(8)
    marker = tmp_path / "attempts"
    game, seeds = DiesOnce(board=(6, 6), marker=str(marker)), episode_seeds(1, 2)
    try:
        with RayEvaluator(1) as ev:
            result = ev(pop, topo, game, seeds)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    attempts = marker.read_text().split()
    assert len(attempts) == 2 and attempts[0] != attempts[1]  # a second worker ran it
    assert same(result, SerialEvaluator()(pop, topo, SnakeSpec(board=(6, 6)), seeds))
    assert not ray.is_initialized()  # the evaluator shut down the instance it started


@pytest.mark.parametrize(
    "flags,needle",
    [
        pytest.param(
            ["--backend", "ray", "--ray-address", "127.0.0.1:1"],
            "cannot reach the Ray cluster",
            marks=pytest.mark.slow,  # imports Ray
        ),
        (["--ray-address", "auto"], "needs --backend ray"),
        (["--backend", "ray", "--ray-address", "127.0.0.1:99999999"], "port from 1 to 65535"),
        (["--backend", "ray", "--ray-address", "h" * 3000 + ":1"], "at most 253"),
        (["--backend", "serial", "--workers", "3"], "the serial backend has one"),
        (["--workers", "0"], "--workers"),
    ],
)
def test_bad_backend_flags_are_one_line_before_any_file(tmp_path, flags, needle):
    r = evonet_here("evolve", "snake", *TINY_EVOLVE, *flags, "--out", "r", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], r.stderr
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_shared_files_of_killed_runs_are_removed_by_the_next_one():
    folder = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    stale = folder / "evonet-genomes-999999999-abc"  # no such process
    stale.write_bytes(b"x")
    pop, topo = champion_population(3)
    with ProcessEvaluator(1) as ev:
        ev(pop, topo, SnakeSpec(board=(5, 5)), episode_seeds(0, 1))
        assert not stale.exists()
    assert not list(folder.glob(f"evonet-genomes-{os.getpid()}-*"))  # its own, closed
