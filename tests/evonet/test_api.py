"""The Python API: import evonet, evolve a game or your own fitness function."""

import dataclasses
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import evonet
from tests.helpers import strip_timing

ROOT = Path(__file__).resolve().parents[2]
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
Y = np.array([0, 1, 1, 0], dtype=np.float32)


def xor_setup(generations, **settings):
    cfg = evonet.EvolveConfig.for_game(
        "custom", generations=generations, hidden=(4,), population=40, parents=10, **settings
    )
    topo = cfg.topology(io=(2, 1))

    def fitness(genomes):
        out = evonet.forward(genomes, np.broadcast_to(X, (len(genomes), 4, 2)), topo)
        return -((out[..., 0] - Y) ** 2).mean(axis=1)

    return cfg, fitness


def test_the_public_pieces_are_exported_with_docstrings():
    for name in evonet.__all__:
        obj = getattr(evonet, name)
        assert obj.__doc__, name
    assert "higher is better" in evonet.run.__doc__
    assert "(P, D)" in evonet.run.__doc__


def test_import_evonet_loads_neither_numpy_nor_gymnasium():
    code = "import sys, evonet; print('numpy' in sys.modules, 'gymnasium' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "False"], out.stderr


@pytest.mark.slow
def test_a_fitness_function_evolves_with_the_cli_files(tmp_path):
    cfg, fitness = xor_setup(40)
    run = evonet.run(
        cfg, fitness=fitness, io=(2, 1), out=tmp_path, progress=False, backend="processes"
    )
    assert {r["workers"] for r in run.history} == {1}  # a fitness function runs here
    assert run.stop_reason == "finished" and run.generation == 40
    assert {p.name for p in tmp_path.iterdir()} >= {
        "latest.npz",
        "best.npz",
        "history.csv",
        "fitness.png",
    }
    first, last = run.history[0], run.history[-1]
    assert last["best_fitness"] > first["best_fitness"]  # it learns
    assert "best_score" in last
    theta, topo, _ = evonet.load_network(tmp_path / "best.npz")
    assert topo.sizes == (2, 4, 1)
    np.testing.assert_array_equal(theta, run.ga.best_genome)


def test_a_fitness_run_resumes_bit_for_bit(tmp_path):
    cfg, fitness = xor_setup(12)
    whole = evonet.run(
        cfg, fitness=fitness, io=(2, 1), out=tmp_path / "a", progress=False, plot=False
    )
    half_cfg, _ = xor_setup(6)
    evonet.run(half_cfg, fitness=fitness, io=(2, 1), out=tmp_path / "b", progress=False, plot=False)
    # Without out=, a run continues in the folder of the checkpoint it resumes.
    resumed = evonet.run(
        cfg, fitness=fitness, resume=tmp_path / "b" / "latest.npz", progress=False, plot=False
    )
    assert not (tmp_path / "b" / "fitness.png").exists()  # plot=False: no figure
    assert resumed.config.out == str(tmp_path / "b")
    assert strip_timing(resumed.history) == strip_timing(whole.history)
    np.testing.assert_array_equal(resumed.ga.population, whole.ga.population)


def test_resuming_a_fitness_run_needs_the_function_and_a_game_run_refuses_one(tmp_path):
    cfg, fitness = xor_setup(2)
    evonet.run(cfg, fitness=fitness, io=(2, 1), out=tmp_path / "f", progress=False, plot=False)
    readable = evonet.load_run(tmp_path / "f" / "latest.npz")  # its history, without f
    assert readable.generation == 2 and readable.game is None
    with pytest.raises(ValueError, match="load_run\\(path, fitness=...\\)"):
        readable.evaluate(readable.ga.population, 2)
    more = dataclasses.replace(cfg, generations=4)
    with pytest.raises(ValueError, match="pass it again"):
        evonet.run(more, resume=tmp_path / "f" / "latest.npz", progress=False, plot=False)
    snake = evonet.EvolveConfig.for_game(
        "snake", generations=1, population=8, elite=1, parents=4, board=(5, 5), hidden=(4,)
    )
    evonet.run(snake, out=tmp_path / "s", progress=False, plot=False)
    with pytest.raises(ValueError, match="takes no fitness function"):
        evonet.load_run(tmp_path / "s" / "latest.npz", fitness=fitness)


def test_a_wrong_fitness_shape_or_infinite_fitness_is_named(tmp_path):
    cfg, _ = xor_setup(2)
    with pytest.raises(ValueError, match=r"returned shape \(3,\), not \(40,\)"):
        evonet.run(cfg, fitness=lambda g: np.zeros(3), io=(2, 1), out=tmp_path / "a")  # noqa

    def infinite(genomes):
        values = np.zeros(len(genomes))
        values[7] = np.inf
        return values

    with pytest.raises(ValueError, match=r"non-finite values \(genomes \[7\]"):
        evonet.run(cfg, fitness=infinite, io=(2, 1), out=tmp_path / "b", progress=False, plot=False)


def test_python_runs_never_reuse_a_folder_that_holds_a_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg, fitness = xor_setup(1)
    first = evonet.run(
        cfg, fitness=fitness, io=(2, 1), out=tmp_path / "x", progress=False, plot=False
    )
    before = {f.name: f.read_bytes() for f in (tmp_path / "x").iterdir()}
    with pytest.raises(evonet.FolderError, match=r"x: already holds a run; resume it from"):
        evonet.run(cfg, fitness=fitness, io=(2, 1), out=tmp_path / "x", progress=False, plot=False)
    assert {f.name: f.read_bytes() for f in (tmp_path / "x").iterdir()} == before
    assert issubclass(evonet.FolderError, ValueError)
    # The default folder moves on instead, as the command line does.
    default = dataclasses.replace(cfg, out="")
    a = evonet.run(default, fitness=fitness, io=(2, 1), progress=False, plot=False)
    b = evonet.run(default, fitness=fitness, io=(2, 1), progress=False, plot=False)
    assert a.config.out == "checkpoints/custom" and b.config.out == "checkpoints/custom-2"
    assert first.config.out == str(tmp_path / "x")


@pytest.mark.slow
def test_the_docs_fitness_example_runs_twice_in_a_row(tmp_path, monkeypatch, capsys):
    """docs/python.md's own-fitness example, as a reader pastes it, twice in one folder."""
    text = (Path(__file__).parents[2] / "docs" / "python.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    code = next(b for b in blocks if "def fitness(genomes)" in b)
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        exec(compile(code, "docs/python.md", "exec"), {})
    said = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in said] == ["checkpoints/custom"] * 2 + [
        "checkpoints/custom-2"
    ] * 2
    assert said[1].endswith("after 400 generations") and said[3].endswith("after 400 generations")


def test_a_one_genome_population_must_be_a_matrix():
    game = evonet.make_game("snake", board=(5, 5))
    cfg = evonet.EvolveConfig.for_game("snake", hidden=(4,))
    topo = cfg.topology(game)
    theta = evonet.init(topo, np.random.default_rng(0), n=1)[0]  # (D,)
    with pytest.raises(ValueError, match=r"theta\[None\]"):
        evonet.evaluate(theta, topo, game, evonet.episode_seeds(0, 2))
    assert evonet.evaluate(theta[None], topo, game, evonet.episode_seeds(0, 2)).fitness.shape == (
        1,
    )


@pytest.mark.slow
def test_a_game_run_from_python_matches_the_cli(tmp_path):
    from tests.helpers import evonet_here as cli

    flags = dict(generations=2, population=12, elite=2, parents=4, episodes=2, hidden=(6,))
    cfg = evonet.EvolveConfig.for_game("snake", board=(6, 6), seed=3, **flags)
    evonet.run(cfg, out=tmp_path / "py", progress=False, plot=False, backend="processes", workers=2)
    r = cli(
        "evolve",
        "snake",
        "--board",
        "6x6",
        "--seed",
        "3",
        "--generations",
        "2",
        "--population",
        "12",
        "--elite",
        "2",
        "--parents",
        "4",
        "--episodes",
        "2",
        "--hidden",
        "6",
        "--quiet",
        "--no-plot",
        "--out",
        str(tmp_path / "cli"),
    )
    assert r.returncode == 0, r.stderr
    a, _, _ = evonet.load_network(tmp_path / "py" / "best.npz")
    b, _, _ = evonet.load_network(tmp_path / "cli" / "best.npz")
    np.testing.assert_array_equal(a, b)


def run_example(name, *args, cwd):
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.mark.slow
def test_the_custom_fitness_example_learns_xor(tmp_path):
    r = run_example("custom_fitness.py", "--generations", "60", "--out", "xor", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    outputs = [float(v) for v in r.stdout.split("->")[1].split()]
    assert [round(v) for v in outputs] == [0, 1, 1, 0], r.stdout
    assert (tmp_path / "xor" / "latest.npz").exists()


@pytest.mark.slow
def test_the_cartpole_example_runs(tmp_path):
    r = run_example("cartpole.py", "--generations", "2", "--out", "cp", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "mean return" in r.stdout and (tmp_path / "cp" / "best.npz").exists()


@pytest.mark.slow
def test_the_memory_example_evolves_both_networks_and_steps_the_gru(tmp_path):
    r = run_example("memory.py", "--generations", "2", "--out", "mem", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "mlp 2-8-2:" in r.stdout and "gru 2-8-2:" in r.stdout, r.stdout
    assert r.stdout.count("state [") == 3
    assert (tmp_path / "mem" / "gru" / "best.npz").exists()


@pytest.mark.slow
def test_the_snake_example_runs(tmp_path):
    r = run_example(
        "snake.py",
        "--generations",
        "2",
        "--board",
        "6x6",
        "--population",
        "40",
        "--out",
        "s",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert "apples" in r.stdout and (tmp_path / "s" / "best.npz").exists()


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stop_signal_stops_a_python_run_after_a_generation_and_it_resumes(tmp_path, sig):
    # The command line's stop signals, the same for Python: a slow fitness function, so
    # the signal lands mid-run.
    script = (
        "import time, numpy as np, evonet\n"
        "def f(g):\n    time.sleep(0.05)\n    return -np.abs(g).sum(axis=1)\n"
        "cfg = evonet.EvolveConfig.for_game('custom', generations=1000, hidden=(3,),"
        " population=10, parents=4, elite=2, checkpoint_every=1000)\n"
        "run = evonet.run(cfg, fitness=f, io=(2, 1), out='r', progress=False, plot=False)\n"
        "print(run.stop_reason, run.generation)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 60
    while not (tmp_path / "r" / "best.npz").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    reason, generation = out.split()
    assert reason == "interrupted" and "Traceback" not in err
    run = evonet.load_run(tmp_path / "r" / "latest.npz", fitness=lambda g: -np.abs(g).sum(axis=1))
    assert run.generation == int(generation) > 0


@pytest.mark.slow
def test_the_digits_example_trains_past_chance(tmp_path):
    r = run_example("digits.py", "--epochs", "3", "--hidden", "32", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    accuracy = float(
        next(x for x in r.stdout.splitlines() if x.startswith("test accuracy")).split()[-1]
    )
    assert accuracy > 0.85  # chance is 0.1
