import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from evonet.cli.main import main
from evonet.storage.history import history_fields
from tests.helpers import TINY_EVOLVE, TINY_PLOTTED, evonet_here

TINY = ["--generations", "3", *TINY_EVOLVE]


@pytest.mark.slow
def test_evolve_json_writes_the_run_folder(tmp_path):
    r = evonet_here("evolve", "snake", "--generations", "3", *TINY_PLOTTED, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.strip().splitlines()]
    assert [row["generation"] for row in rows] == [0, 1, 2]
    assert all(tuple(row) == history_fields("apples") for row in rows)
    run = tmp_path / "checkpoints" / "snake"
    files = ("latest.npz", "best.npz", "history.csv", "fitness.png")
    for name in files:
        assert (run / name).stat().st_size > 0, name
    assert (run / "fitness.png").read_bytes().startswith(b"\x89PNG")
    # It says where, and what it writes there.
    assert f"run folder checkpoints/snake/ ({', '.join(files)})" in r.stderr


@pytest.mark.slow
def test_no_plot_writes_the_run_but_no_figure_and_plot_draws_it_later(tmp_path):
    r = evonet_here("evolve", "snake", *TINY, "--out", "run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    files = ("latest.npz", "best.npz", "history.csv")
    assert sorted(p.name for p in (tmp_path / "run").glob("[!.]*")) == sorted(files)
    assert f"run folder run/ ({', '.join(files)})" in r.stderr
    r = evonet_here("plot", "run", "--out", "curves.png", cwd=tmp_path)  # what --help offers
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG")


def test_a_second_default_run_gets_its_own_folder(tmp_path):
    assert evonet_here("evolve", "snake", *TINY, cwd=tmp_path).returncode == 0
    first = (tmp_path / "checkpoints/snake/latest.npz").read_bytes()
    r = evonet_here("evolve", "snake", *TINY, "--seed", "5", cwd=tmp_path)
    assert r.returncode == 0 and "snake-2" in r.stderr
    assert (tmp_path / "checkpoints/snake/latest.npz").read_bytes() == first


def test_explicit_out_with_a_run_is_refused(tmp_path):
    assert evonet_here("evolve", "snake", *TINY, "--out", "run", cwd=tmp_path).returncode == 0
    before = (tmp_path / "run/latest.npz").read_bytes()
    r = evonet_here("evolve", "snake", *TINY, "--out", "run", cwd=tmp_path)
    assert r.returncode == 2 and "already holds a run" in r.stderr
    assert (tmp_path / "run/latest.npz").read_bytes() == before


def test_evaluate_reports_json(tmp_path):
    assert evonet_here("evolve", "snake", *TINY, "--out", "run", cwd=tmp_path).returncode == 0
    r = evonet_here(
        "evaluate", "run/best.npz", "--episodes", "30", "--seed", "4", "--json", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert set(out) == {
        "episodes",
        "mean_apples",
        "median_apples",
        "max_apples",
        "full_boards",  # the text's words: "1 full board"
        "mean_steps",
    }
    assert out["episodes"] == 30 and out["max_apples"] >= out["median_apples"]
    again = evonet_here(
        "evaluate", "run/best.npz", "--episodes", "30", "--seed", "4", "--json", cwd=tmp_path
    )
    assert again.stdout == r.stdout  # same seed, same games


def test_evaluate_says_how_fast_the_wins_come(capsys):
    from evonet.evolution.files import load_agent
    from evonet.evolution.rollout import rollout
    from evonet.games.base import episode_seeds
    from evonet.views.replay import shipped_champion

    path = str(shipped_champion((10, 10)))
    assert main(["evaluate", path, "--board", "6x6", "--episodes", "12", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    theta, topo, game = load_agent(path, (6, 6))
    res = rollout(theta[None], topo, game, episode_seeds(12345, 12))
    won, steps = res.episode_won[0], res.episode_steps[0]
    assert out["full_boards"] == won.sum() > 0
    assert out["mean_steps_per_win"] == steps[won].mean() < steps.max()
    assert out["p95_steps_per_win"] == np.percentile(steps[won], 95)
    assert main(["evaluate", path, "--board", "6x6", "--episodes", "12"]) == 0
    text = capsys.readouterr().out
    assert f"a full board takes {steps[won].mean():.0f} steps on average (95th percentile" in text


def test_evaluate_plays_here_unless_workers_are_asked_for(tmp_path, monkeypatch):
    from evonet.evolution.evaluators import backends, processes
    from evonet.views.replay import shipped_champion

    calls = []  # episodes handed to worker processes (played here instead, to count them)

    def to_workers(self, genomes, topo, game, seeds):
        calls.append(len(seeds))
        return backends.SerialEvaluator()(genomes, topo, game, seeds)

    monkeypatch.setattr(processes.ProcessEvaluator, "__call__", to_workers)
    args = ("evaluate", str(shipped_champion()), "--episodes", "10", "--board", "6x6", "--json")
    here = evonet_here(*args, cwd=tmp_path)
    assert here.returncode == 0 and calls == [], here.stderr
    workers = evonet_here(*args, "--workers", "2", cwd=tmp_path)
    assert workers.returncode == 0 and calls == [10], workers.stderr
    assert here.stdout == workers.stdout  # the same games either way
    # More workers than cores: allowed, the same games, and said once.
    from evonet.evolution.evaluators import sharded

    for cores, says in ((2, 0), (1, 1)):
        monkeypatch.setattr(sharded, "available_cores", lambda cores=cores: cores)
        crowded = evonet_here(*args, "--workers", "2", cwd=tmp_path)
        assert crowded.returncode == 0 and crowded.stdout == here.stdout, crowded.stderr
        warning = "evonet: --workers 2 is more than the 1 core here; the extra workers take"
        assert crowded.stderr.count(warning) == says


def test_the_champion_of_evonet_0_1_0_still_plays_on_its_layout(tmp_path):
    """A file from before observation layouts plays on the 32 features it was evolved
    with, on its own board or another, and says so."""
    old = Path(__file__).parents[3] / "checkpoints" / "snake-champion-0.1.0.npz"
    r = evonet_here("evaluate", str(old), "--episodes", "3", "--seed", "2026", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "snake 10x10 (observation layout 1)" in r.stdout and "apples" in r.stdout
    r = evonet_here("evaluate", str(old), "--episodes", "2", "--board", "8x6", cwd=tmp_path)
    assert r.returncode == 0 and "snake 8x6 (observation layout 1)" in r.stdout, r.stderr


def test_a_finished_run_says_which_champion_it_picked(tmp_path):
    r = evonet_here(
        "evolve", "snake", *TINY, "--champion-episodes", "7", "--out", "run", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    line = next(x for x in r.stderr.splitlines() if x.startswith("evonet: champion:"))
    assert "apples on 7 fresh episodes" in line and re.search(r"\d+ full boards?\b", line)
    assert any(w in line for w in ("elite", "child", "best genome so far"))


@pytest.mark.slow
def test_config_file_sets_values_and_flags_override(tmp_path):
    (tmp_path / "c.toml").write_text(
        'population = 20\nelite = 2\nparents = 5\nepisodes = 2\nboard = "6x6"\n'
        "hidden = [6]\ngenerations = 2\nmutation_rate = 0.3\n"
    )
    r = evonet_here(
        "evolve",
        "snake",
        "--config",
        "c.toml",
        "--generations",
        "3",
        "--quiet",
        "--json",
        "--out",
        "run",
        "--backend",
        "serial",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.strip().splitlines()) == 3  # the flag beat the file's 2


@pytest.mark.parametrize(
    "args,needle",
    [
        (["evolve", "tetris"], "unknown game"),
        (["evolve", "snake", "--elite", "30", "--population", "20"], "elite"),
        (["evolve", "snake", "--parents", "1"], "parents"),
        (["evolve", "snake", "--mutation-rate", "1.5"], "--mutation-rate must be"),
        (["evolve", "snake", "--mutation-rate", "-0.2"], "--mutation-rate must be"),
        (["evolve", "snake", "--mutation-sigma", "-1"], "sigma"),
        (["evolve", "snake", "--board", "2x9"], "--board"),
        (["evolve", "snake", "--population", "abc"], "--population"),
        (["evolve", "snake", "--population", "9" * 5000], "... (5000 characters)"),
        (["evolve", "snake", "--config", "missing.toml"], "missing.toml"),
        (["evolve", "snake", "--config", "bad.toml"], "invalid TOML"),
        (["evolve", "snake", "--config", "unknown.toml"], "unknown setting 'mutation_rat'"),
        (["evolve", "snake", "--config", "wrongtype.toml"], "population"),
        (["evaluate", "nothing.npz"], "no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, needle):
    (tmp_path / "bad.toml").write_text("population = [1,\n")
    (tmp_path / "unknown.toml").write_text("mutation_rat = 0.1\n")
    (tmp_path / "wrongtype.toml").write_text('population = "many"\n')
    r = evonet_here(*args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "checkpoints").exists()  # nothing was started


@pytest.mark.slow
def test_a_run_says_from_which_generation_genomes_play_more_episodes(tmp_path):
    flags = [a for a in TINY if a != "--quiet"] + ["--late-episodes", "3", "--late-from", "1"]
    r = evonet_here("evolve", "snake", *flags, "--out", "run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    # A race by default: the best 5 of 16 (a share of 0.2 is 4, but at least the 5 parents).
    assert (
        "each genome plays 2 episodes in generation 0; then the best 5 of 16 genomes on their "
        "first 2 episodes play 3 (--late-episodes 3 --late-from 1 --late-share 0.2" in r.stderr
    )
    assert "from generation 1 on, the best 5 of 16 genomes" in r.stderr
    # Resumed past the switch: said as it is.
    r = evonet_here(
        "evolve", "snake", "--resume", "run/latest.npz", "--generations", "5", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert "evonet: the best 5 of 16 genomes on their first 2 episodes play 3 (" in r.stderr
    assert "from generation" not in r.stderr
    # Every genome on every episode: said so.
    flags += ["--late-share", "1"]
    r = evonet_here("evolve", "snake", *flags, "--out", "all", cwd=tmp_path)
    assert "each genome plays 2 episodes in generation 0; then each genome plays 3" in r.stderr
    # A switch the run never reaches: said so, not left silent.
    r = evonet_here("evolve", "snake", *flags[:-4], "--late-from", "9", "--out", "never",
                    cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert (
        "evonet: each genome plays 2 episodes in every generation (the --late-episodes 3 start "
        "at --late-from 9, past the run's 3 generations)" in r.stderr
    )
    # A bad value given with --resume is named as its flag.
    r = evonet_here("evolve", "snake", "--resume", "run/latest.npz", "--late-episodes", "-1",
                    cwd=tmp_path)  # fmt: skip
    assert r.returncode == 2
    assert r.stderr.strip().endswith("error: --late-episodes must be 0 (off) or more, got -1")


@pytest.mark.slow
def test_a_big_board_says_which_generations_play_the_curriculum(tmp_path):
    flags = [a for a in TINY if a not in ("--quiet", "--no-plot")]
    flags += ["--board", "11x11", "--curriculum", "1"]
    r = evonet_here("evolve", "snake", *flags, "--out", "run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "run/fitness.png").stat().st_size > 0  # with the curriculum's line
    assert "curriculum: generations 0-0 play snake 10x10, the rest snake 11x11" in r.stderr
    assert "from generation 1 on, every generation plays snake 11x11" in r.stderr
    # A curriculum as long as the run: said plainly, and the champion still plays 11x11.
    flags.append("--no-plot")
    r = evonet_here("evolve", "snake", *flags, "--curriculum", "5", "--out", "all", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "every generation plays snake 10x10 (--curriculum 5 >= --generations 3)" in r.stderr
    assert "from generation" not in r.stderr


@pytest.mark.filterwarnings("ignore:builtin type:DeprecationWarning")  # Box2D's SWIG import
def test_a_game_whose_default_is_an_evolution_strategy_says_so(tmp_path):
    tiny = ["--generations", "1", "--population", "4", "--episodes", "1", "--no-plot"]
    tiny += ["--champion-episodes", "1", "--quiet", "--hidden", "2"]
    r = evonet_here("evolve", "gym:LunarLander-v3", *tiny, "--out", "es", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    line = "gym:LunarLander-v3 evolves with snes, its default for this game (--strategy ga"
    assert line in r.stderr
    assert len((tmp_path / "es/history.csv").read_text().splitlines()) == 2  # header, gen 0
    r = evonet_here(
        "evolve", "gym:LunarLander-v3", *tiny, "--strategy", "ga", "--elite", "1",
        "--parents", "2", "--out", "ga", cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "evolves with" not in r.stderr


def test_hopper_evolves_less_its_alive_bonus_and_says_so(tmp_path):
    """Hopper's default fitness is its return less 1 a step; the history's score is still
    the return, and --step-cost 0 gives the plain return back, without the note."""
    tiny = ["--generations", "1", "--population", "4", "--no-plot", "--quiet"]
    tiny += ["--champion-episodes", "1", "--backend", "serial"]
    r = evonet_here("evolve", "gym:Hopper-v5", *tiny, "--out", "hop", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "gym:Hopper-v5's fitness is its return less 1 a step, its default" in r.stderr
    rows = list(csv.DictReader((tmp_path / "hop/history.csv").open()))
    assert float(rows[0]["best_fitness"]) < float(rows[0]["best_return"])
    r = evonet_here(
        "evolve", "gym:Hopper-v5", *tiny, "--step-cost", "0", "--out", "plain", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert "fitness is its return" not in r.stderr
    rows = list(csv.DictReader((tmp_path / "plain/history.csv").open()))
    assert rows[0]["best_fitness"] == rows[0]["best_return"]


def test_the_last_line_says_what_each_figure_is(tmp_path):
    r = evonet_here("evolve", "snake", *TINY, "--out", "run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = [line.split(",") for line in (tmp_path / "run/history.csv").read_text().splitlines()]
    header, last = rows[0], rows[-1]
    best_apples = float(last[header.index("best_apples")])
    best_fitness = max(float(row[header.index("best_fitness")]) for row in rows[1:])
    line = next(x for x in r.stderr.splitlines() if x.startswith("evonet: finished"))
    assert line == (
        f"evonet: finished at generation 3; the last generation's best: {best_apples:.1f} "
        f"apples; the run's best fitness (what evolution ranks by): {best_fitness:.2f}"
    )


def test_the_docs_memory_refusal_is_what_the_command_says(capsys):
    """docs/evolving.md quotes the refusal of a huge population: its estimate is the code's
    (what follows "more than" is the memory available, which differs from host to host)."""
    docs = (Path(__file__).parents[3] / "docs" / "evolving.md").read_text()
    quoted = next(x for x in docs.splitlines() if "--population 1000000000 x" in x)
    assert main(["evolve", "snake", "--population", "1000000000"]) == 2
    said = capsys.readouterr().err.strip()
    assert said.split(", more than")[0] == quoted.split(", more than")[0]
    assert said.endswith("; lower --population, --episodes, --late-episodes or --hidden")
    assert "TiB" in said
