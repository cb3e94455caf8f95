"""Gymnasium environments through the command line: evolve, resume, evaluate, watch."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evonet.evolution.evaluators.backends import default_backend
from evonet.evolution.files import load_network
from tests.helpers import evonet_here, history_rows, last_json

CART = "gym:CartPole-v1"
# Without fitness.png (matplotlib takes most of such a run), but where the figure is tested.
TINY = "--population 8 --parents 4 --elite 2 --episodes 1 --hidden 4 --quiet --no-plot".split()


@pytest.mark.slow
def test_evolve_a_gym_game_then_evaluate_its_champion(tmp_path):
    plotted = [a for a in TINY if a != "--no-plot"]
    r = evonet_here("evolve", CART, *plotted, "--generations", "3", "--out", "cp", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "return" in r.stderr.splitlines()[-2]  # the summary uses the game's score name
    assert (tmp_path / "cp" / "fitness.png").stat().st_size > 0  # its curves of the return
    history = (tmp_path / "cp" / "history.csv").read_text().splitlines()
    assert history[0].split(",")[4:6] == ["best_return", "mean_return"]
    # CartPole's native vector env draws each game's start from the game's own seed, so
    # its generations are split over the default workers like any game's, and say so.
    workers = str(default_backend()[1])
    assert [row.split(",")[-1] for row in history[1:]] == [workers] * 3
    assert len(history) == 4
    theta, topo, meta = load_network(tmp_path / "cp" / "best.npz")
    assert topo.sizes == (4, 4, 2) and meta["info"]["env"] == "CartPole-v1"

    r = evonet_here("evaluate", "cp/best.npz", "--episodes", "5", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = last_json(r.stdout)
    assert set(out) == {"episodes", "mean_return", "median_return", "max_return", "mean_steps"}
    assert 8 <= out["mean_return"] <= 500 and out["mean_return"] == out["mean_steps"]


@pytest.mark.slow
def test_a_gym_run_resumes_bit_for_bit(tmp_path):
    r = evonet_here("evolve", CART, *TINY, "--generations", "4", "--out", "whole", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = evonet_here("evolve", CART, *TINY, "--generations", "2", "--out", "part", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = evonet_here(
        "evolve", CART, "--resume", "part/latest.npz", "--generations", "4", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert history_rows(tmp_path / "whole" / "history.csv") == history_rows(
        tmp_path / "part" / "history.csv"
    )
    a, _, _ = load_network(tmp_path / "whole" / "best.npz")
    b, _, _ = load_network(tmp_path / "part" / "best.npz")
    np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_watch_records_a_gym_agent_with_rgb_frames(tmp_path):
    from PIL import Image

    r = evonet_here("evolve", CART, *TINY, "--generations", "1", "--out", "cp", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = evonet_here(
        "watch",
        "cp/best.npz",
        "--record",
        "cart.gif",
        "--episodes",
        "1",
        "--max-steps",
        "12",
        "--scale",
        "0.25",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    from evonet.games.ui.window import FrameLayout
    from evonet.views.panel import PANEL_WIDTH

    # CartPole renders 600x400; the frame has the HUD above it and the panel beside it.
    w, h = FrameLayout(PANEL_WIDTH).frame_size((600, 400))
    with Image.open(tmp_path / "cart.gif") as gif:
        assert gif.size == (round(w / 4), round(h / 4)) and w > 600 + PANEL_WIDTH
        assert 2 <= gif.n_frames <= 13


def test_watch_a_gym_agent_in_the_terminal_is_refused_in_one_line(tmp_path):
    r = evonet_here("evolve", CART, *TINY, "--generations", "1", "--out", "cp", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = evonet_here("watch", "cp/best.npz", "--render", "terminal", cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "error: cp/best.npz: a gym:CartPole-v1 agent" in r.stderr and "window" in r.stderr
    # A bare `evonet watch` picked the newest run: the file is named, and so is a Snake
    # network the terminal can show (no Snake run here: the shipped champion).
    r = evonet_here("evolve", CART, *TINY, "--generations", "1", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = evonet_here("watch", "--render", "terminal", cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert f"{Path('checkpoints/gym-CartPole-v1/best.npz')}: a gym:CartPole-v1 agent" in r.stderr
    assert "for a Snake run in the terminal: evonet watch " in r.stderr
    assert "snake-champion.npz --render terminal" in r.stderr
    r = evonet_here(
        "watch", "--record", "c.gif", "--episodes", "1", "--max-steps", "3", "--scale", "0.25",
        cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    picked = f"evonet: watching {Path('checkpoints/gym-CartPole-v1/best.npz')} (gym:CartPole-v1)"
    assert picked in r.stderr


@pytest.mark.slow
def test_a_partly_observed_run_is_evaluated_and_watched_on_what_it_saw(tmp_path):
    args = ("evolve", CART, *TINY, "--generations", "2", "--observe", "0,2", "--out", "cp")
    r = evonet_here(*args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    _, topo, meta = load_network(tmp_path / "cp" / "best.npz")
    assert topo.sizes[0] == 2 and meta["info"]["observe"] == [0, 2]
    r = evonet_here("evaluate", "cp/best.npz", "--episodes", "3", cwd=tmp_path)
    assert r.returncode == 0 and "gym:CartPole-v1 observing 0,2" in r.stdout + r.stderr, r.stderr
    r = evonet_here("watch", "cp/best.npz", "--record", "cp.gif", "--episodes", "1", cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "cp.gif").stat().st_size > 0, r.stderr
    resumed = ("evolve", CART, "--resume", "cp/latest.npz", "--observe", "0,1", "--out", "cp")
    r = evonet_here(*resumed, cwd=tmp_path)
    assert r.returncode == 2 and "observe" in r.stderr, r.stderr


def test_bad_gym_names_are_one_line_exit_2(tmp_path):
    for args, needle in (
        (["evolve", "gym:NoSuchThing-v0"], "supported"),
        (["evolve", "gym:Blackjack-v1"], "supported: Box observations"),
        (["evolve", CART, "--board", "8x8"], "no setting 'board'"),
        (["evolve", CART, "--observe", "0,4"], "observation entries 0 to 3, got 4"),
        (["evolve", CART, "--observe", "0,-1"], "count from 0"),
        (["evolve", CART, "--observe", "two"], "like 0,2"),
    ):
        r = evonet_here(*args, cwd=tmp_path)
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], r.stderr


@pytest.mark.slow
def test_without_gymnasium_a_gym_name_names_the_extra(tmp_path):
    code = (
        "import sys; sys.modules['gymnasium'] = None\n"  # as if it were not installed
        "from evonet.cli.main import main\n"
        "sys.exit(main(['evolve', 'gym:CartPole-v1', '--quiet']))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip() == (
        "evonet evolve: error: gym: games need Gymnasium: pip install 'evonet[gym]'"
    ), r.stderr
