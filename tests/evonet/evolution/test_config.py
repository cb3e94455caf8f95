"""Settings: bounds that keep every run finite, and strict settings read from files."""

import dataclasses

import numpy as np
import pytest

from evonet.cli.main import main
from evonet.evolution.config import (
    GAME_DEFAULTS,
    EvolveConfig,
    from_dict,
    game_from_meta,
    load_toml,
)
from evonet.evolution.rollout import rollout
from evonet.games.snake import N_OBS, Snake, SnakeSpec
from evonet.games.snake.rules import MAX_HUNGER_FACTOR
from evonet.nn import mlp


@pytest.mark.parametrize(
    "flags,needle",
    [
        (["--hunger", "1000000000000000"], "hunger must be from 0 (the board's cell count) to 4"),
        (["--hunger", "401"], "(400 on 10x10)"),
        (["--mutation-sigma", "inf"], "--mutation-sigma must be a finite number"),
        (["--mutation-sigma", "nan"], "--mutation-sigma must be a finite number"),
        (["--sigma-min", "nan"], "--sigma-min must be a finite number"),
        (["--mutation-sigma", "1e300"], "larger noise would overflow float32 genes"),
        (["--time-limit", "inf"], "--time-limit must be a finite number"),
        (["--seed", "-1"], "seed must be from 0"),
        (["--generations", "10000000"], "generations can be at most 200,000"),
        (["--champion-episodes", "100001"], "--champion-episodes must be from 0 to 100,000"),
        (["--observation", "4"], "observation layout must be one of 1, 2, 3, got 4"),
        (["--champion-heats", "-1"], "--champion-heats must be from 0 to 100,000 episodes"),
        (["--curriculum", "-1"], "curriculum must be from 0 to 200,000 generations"),
        (["--curriculum", "1e20"], "argument --curriculum: expected a whole number"),
        (["--late-episodes", "-1"], "--late-episodes must be 0 (off) or more, got -1"),
        (["--late-from", "-1"], "--late-from must be a generation from 0 to 200,000"),
        (["--late-share", "0"], "--late-share must be above 0 and at most 1, got 0.0"),
        (["--late-share", "1.5"], "--late-share must be above 0 and at most 1, got 1.5"),
        (["--late-share", "nan"], "--late-share must be"),
        (["--board-episodes", "8"], "--board-episodes are for Snake on a board of more than"),
        (["--board", "12x12", "--board-episodes", "-1"], "--board-episodes must be 0 (off)"),
        (["--board", "12x12", "--board-episodes", "1" + "0" * 13], "--board-episodes or"),
        (["--late-episodes", "10000000000000"], "lower --population, --episodes, --late-episodes"),
        (["--selection", "tournament", "--tournament-size", "1000000000"], "cannot exceed"),
        (["--config", "inf.toml"], "--mutation-sigma must be a finite number"),
        (["--shield", "--observation", "1"], "the shield reads the room features"),
    ],
)
def test_runaway_settings_are_one_line(tmp_path, monkeypatch, capsys, flags, needle):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "inf.toml").write_text("mutation_sigma = inf\n")
    assert main(["evolve", "snake", *flags]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], lines
    assert not (tmp_path / "checkpoints").exists()


@pytest.mark.slow
def test_the_largest_hunger_still_ends_every_game():
    """A network that always turns right circles forever; hunger ends its games."""
    topo = mlp.Topology((N_OBS, 3))
    theta = np.zeros(topo.n_params, dtype=np.float32)
    theta[-1] = 1.0  # bias of "turn right"
    game = SnakeSpec(board=(6, 6), hunger=MAX_HUNGER_FACTOR * 36)
    res = rollout(theta[None], topo, game, np.arange(3, dtype=np.uint64))
    assert np.all(res.episode_steps == game.hunger) and np.all(res.episode_score == 0)
    with pytest.raises(ValueError, match="to 4 x the board's cells"):
        Snake(1, 6, 6, game.hunger + 1)


def test_a_file_config_must_hold_every_setting_with_its_own_type():
    d = EvolveConfig().to_dict()
    assert from_dict(d) == EvolveConfig()
    with pytest.raises(ValueError, match="missing seed"):
        from_dict({k: v for k, v in d.items() if k != "seed"})
    with pytest.raises(ValueError, match="unknown colour"):
        from_dict({**d, "colour": "red"})
    for key, bad in [("population", 300.0), ("population", True), ("population", "300"),
                     ("hidden", "16,16"), ("board", [10, 10.0]), ("mutation_rate", None),
                     ("mutation_sigma", float("nan")), ("seed", 2**64)]:  # fmt: skip
        with pytest.raises(ValueError, match=key):
            from_dict({**d, key: bad})


def test_the_python_api_checks_types_too():
    with pytest.raises(ValueError, match="population must be a whole number"):
        EvolveConfig(population=3.5).validate()
    with pytest.raises(ValueError, match="board must be a tuple"):
        dataclasses.replace(EvolveConfig(), board=(10,)).validate()


@pytest.mark.parametrize(
    "settings,needle",
    [
        ({"board": [float("inf"), 10]}, "board must be two whole numbers"),
        ({"board": [10, 10], "hunger": 2**70}, "hunger must be from 0"),
        ({"hunger": float("inf")}, "hunger must be a whole number"),
        ({"hunger": True}, "hunger must be a whole number"),
        ([], "config must be a table"),
        ({"game": [1, 2]}, "game must be a name"),
        ({"game": "x" * 100_000}, "at most 200"),
        ({"game": "gym:NoSuchThing-v0"}, "no such Gymnasium environment"),
        ({"game": "custom"}, "evolved on a Python fitness function"),
        ({"game": "gym:CartPole-v1", "board": [8, 8]}, "has no setting 'board'"),
        ({"observation": 4}, "observation layout must be one of 1, 2, 3, got 4"),
        ({"observation": 1.0}, "observation must be a whole number"),
        ({"game": "gym:CartPole-v1", "observation": 1}, "has no setting 'observation'"),
        ({"game": "gym:CartPole-v1", "step_cost": "1"}, "step_cost must be a number"),
        ({"game": "gym:CartPole-v1", "step_cost": -2}, "step cost must be from 0"),
        ({"step_cost": 1.0}, "game snake has no setting 'step_cost'"),
        ({"shield": "yes"}, "shield must be bool"),
        ({"shield": True, "observation": 1}, "the shield reads the room features"),
        ({"game": "gym:CartPole-v1", "shield": True}, "has no setting 'shield'"),
    ],
)
def test_game_settings_from_a_network_file_are_checked(settings, needle):
    with pytest.raises(ValueError, match=needle.replace("(", r"\(")):
        game_from_meta(settings)


def test_a_saved_step_cost_plays_the_same_game_and_older_files_have_none():
    from evonet.games.gym import GymSpec

    assert game_from_meta({"game": "gym:CartPole-v1", "step_cost": 0.5}) == GymSpec(
        "gym:CartPole-v1", step_cost=0.5
    )
    assert game_from_meta({"game": "gym:CartPole-v1"}).step_cost == 0.0
    old = {k: v for k, v in EvolveConfig.for_game("gym:CartPole-v1").to_dict().items()}
    del old["step_cost"]
    assert from_dict(old).step_cost == 0.0


def test_game_settings_default_to_the_run_board():
    assert game_from_meta({"board": [6, 8], "hunger": 0, "observation": 2}) == SnakeSpec(
        board=(6, 8), hunger=0
    )


def test_files_from_before_observation_layouts_read_layout_1():
    """A Snake network saved before the room features (its config has no observation
    setting) keeps the 32 features it was evolved on; newer files say which layout."""
    assert game_from_meta(None) == SnakeSpec(board=(10, 10), hunger=0, observation=1)
    assert game_from_meta({"board": [6, 8]}).n_obs == 32
    old = {k: v for k, v in EvolveConfig().to_dict().items() if k != "observation"}
    assert from_dict(old).observation == 1
    assert from_dict(EvolveConfig().to_dict()).observation == 2
    # Every layout, the default's too, reaches the game: a run's spec leaves out only
    # settings at their default, so the config's default must be the game's own.
    assert EvolveConfig().observation == SnakeSpec().observation
    for layout in (1, 2, 3):
        assert EvolveConfig(observation=layout).game_spec().observation == layout
    gym = EvolveConfig.for_game("gym:CartPole-v1").to_dict()
    del gym["observation"]  # other games have no layout: an old gym file still loads
    assert from_dict(gym).game_spec().name == "gym:CartPole-v1"


@pytest.mark.filterwarnings("ignore:builtin type:DeprecationWarning")  # Box2D's SWIG import
@pytest.mark.parametrize("game", sorted(g for g in GAME_DEFAULTS if g != "gym:"))
def test_every_game_row_is_a_run_its_game_accepts(game):
    """A game's own row wins over its family's, and the whole is a valid run of that game
    (its environment made, the network and the strategy's settings checked)."""
    cfg = EvolveConfig.for_game(game)
    cfg.validate(io=(2, 1) if game == "custom" else None)  # a fitness function's sizes
    for name, value in GAME_DEFAULTS[game].items():
        assert getattr(cfg, name) == value, name
    assert EvolveConfig.for_game(game, strategy="ga").strategy == "ga"  # a flag still wins


def test_evolution_strategy_rows_play_with_their_own_settings():
    lander = EvolveConfig.for_game("gym:LunarLander-v3")
    assert (lander.strategy, lander.population, lander.episodes) == ("snes", 64, 3)
    cheetah = EvolveConfig.for_game("gym:HalfCheetah-v5")
    assert cheetah.obs_norm and cheetah.topology().sizes == (17, 6)  # linear, ARS-style
    assert not EvolveConfig.for_game("gym:Acrobot-v1").obs_norm
    walker = EvolveConfig.for_game("gym:BipedalWalker-v3")
    assert (walker.strategy, walker.episodes, walker.obs_norm) == ("snes", 1, True)
    assert walker.topology().sizes == (24, 32, 32, 4)


def test_toml_keeps_its_friendly_conversions(tmp_path):
    (tmp_path / "s.toml").write_text('board = "12x12"\nhidden = "8,8"\nmutation_sigma = 0.5\n')
    assert load_toml(tmp_path / "s.toml") == {
        "board": (12, 12), "hidden": (8, 8), "mutation_sigma": 0.5
    }  # fmt: skip


@pytest.mark.parametrize(
    "content,needle",
    [
        ("population = 16\n" + "#" * (1 << 20), "at most 1048576 bytes"),
        ("a = " + "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (b'population = "\xff"\n', "invalid TOML"),
    ],
)
def test_hostile_settings_files_are_one_line(tmp_path, monkeypatch, capsys, content, needle):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "s.toml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert main(["evolve", "snake", "--config", "s.toml"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], lines


def test_a_pipe_is_not_read_as_a_file(tmp_path, monkeypatch, capsys):
    import os

    monkeypatch.chdir(tmp_path)
    os.mkfifo("pipe")
    assert main(["evolve", "snake", "--config", "pipe"]) == 2
    assert main(["evaluate", "pipe"]) == 2
    assert capsys.readouterr().err.count("is not a regular file") == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["evaluate", "N" * 300 + ".npz"],
        ["evolve", "snake", "--out", "N" * 300],
        ["evolve", "snake", "--config", "N" * 300 + ".toml"],
        ["watch", "--record", "N" * 300 + ".gif"],
        ["watch", "--record", "folder.gif/"],
    ],
)
def test_impossible_paths_are_one_line(tmp_path, monkeypatch, capsys, argv):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and ("File name too long" in lines[0] or "names a folder" in lines[0])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_run_at_the_most_generations_is_not_sent_looking_for_more(tmp_path, monkeypatch, capsys):
    from evonet.evolution import config

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(config, "MAX_GENERATIONS", 3)
    tiny = "--population 16 --elite 2 --parents 5 --episodes 2 --board 6x6 --hidden 6 "
    tiny += "--backend serial"
    assert main(["evolve", "snake", *tiny.split(), "--generations", "3", "--quiet"]) == 0
    capsys.readouterr()
    assert (
        main(["evolve", "snake", "--resume", "checkpoints/snake/latest.npz", "--backend", "serial"])
        == 2
    )
    err = capsys.readouterr().err
    assert "the most one run can have; its champion is checkpoints/snake/best.npz" in err


def test_big_snake_boards_evolve_on_10x10_first_and_pick_on_fewer_episodes():
    small, big = EvolveConfig.for_game("snake"), EvolveConfig.for_game("snake", board=(20, 20))
    assert (small.generations, small.late_episodes) == (500, 64) and small.late_from == 350
    assert small.champion_episodes == 500
    # 10x10 for 500 generations, then 20 on 20x20 with fewer late episodes.
    assert (big.curriculum, big.generations) == (small.generations, 520)
    assert big.late_episodes == small.late_episodes and big.champion_episodes == 200
    assert [big.episodes_at(g) for g in (349, 350, 499, 500, 519)] == [4, 64, 64, 16, 16]
    assert big.raced(500) == big.raced(350) == 60
    # A generation on 32x32 costs too much: 10x10 throughout, its episodes unchanged.
    huge = EvolveConfig.for_game("snake", board=(32, 32))
    assert huge.curriculum >= huge.generations == 500 and huge.board_episodes == 0
    assert huge.episodes_at(499) == 64 and huge.champion_episodes == 200
    assert small.board_episodes == 0 and small.episodes_at(499) == 64
    given = EvolveConfig.for_game("snake", board=(20, 20), champion_episodes=30)
    assert given.champion_episodes == 30
    assert EvolveConfig.for_game("gym:CartPole-v1", board=(20, 20)).champion_episodes == 100
    # Snake's champion comes from the whole last population; Gymnasium's from the elites.
    assert small.champion_heats == 10 and big.champion_heats == 30
    assert EvolveConfig.for_game("gym:CartPole-v1").champion_heats == 0


def test_board_episodes_are_for_a_snake_board_with_a_curriculum():
    with pytest.raises(ValueError, match="board episodes are for Snake on a board of more"):
        EvolveConfig.for_game("snake", board_episodes=8).validate()
    with pytest.raises(ValueError, match="board episodes must be 0 .off. or more, got -1"):
        EvolveConfig.for_game("snake", board=(12, 12), board_episodes=-1).validate()
    # The config knows which boards have a curriculum as the game does.
    for board in [(10, 10), (5, 20), (11, 10), (20, 20), (64, 64)]:
        cfg = EvolveConfig.for_game("snake", board=board)
        assert cfg.has_curriculum == (cfg.game_spec().easier() is not None), board
    assert not EvolveConfig.for_game("gym:CartPole-v1").has_curriculum
    # Counted in what memory must hold.
    assert EvolveConfig.for_game("snake", board=(12, 12), board_episodes=99).most_episodes == 99
    # Files from before board episodes played --late-episodes on the big board too.
    old = EvolveConfig.for_game("snake", board=(20, 20)).to_dict()
    del old["board_episodes"]
    assert from_dict(old).board_episodes == 0 and from_dict(old).episodes_at(510) == 64


def test_runs_from_before_late_episodes_played_the_same_episodes_throughout():
    old = {k: v for k, v in EvolveConfig().to_dict().items() if not k.startswith("late_")}
    assert from_dict(old).late_episodes == 0 and from_dict(old).late_share == 1
    assert from_dict(old).episodes_at(10**5) == old["episodes"]
    assert from_dict(EvolveConfig().to_dict()).late_episodes == EvolveConfig().late_episodes > 0


def test_runs_from_before_curricula_played_their_board_from_the_start():
    old = {k: v for k, v in EvolveConfig().to_dict().items() if k != "curriculum"}
    assert from_dict({**old, "board": [20, 20]}).curriculum == 0
    assert from_dict(EvolveConfig().to_dict()).curriculum == EvolveConfig().curriculum > 0


@pytest.mark.parametrize("game", ["snake", "gym:Acrobot-v1"])
def test_elite_and_parents_follow_a_population_given_alone(game):
    plain = EvolveConfig.for_game(game)
    same = EvolveConfig.for_game(game, population=plain.population)
    assert (same.elite, same.parents) == (plain.elite, plain.parents)  # runs unchanged
    for population in (2, 3, 10, 64, 1000):
        cfg = EvolveConfig.for_game(game, population=population)
        cfg.validate()
        share = plain.parents / plain.population
        assert cfg.parents == min(population, max(2, round(population * share)))
        assert 1 <= cfg.elite < population
    big = EvolveConfig.for_game(game, population=plain.population * 10)
    assert (big.elite, big.parents) == (plain.elite * 10, plain.parents * 10)
    mine = EvolveConfig.for_game(game, population=10, elite=0, parents=7)
    assert (mine.elite, mine.parents) == (0, 7)  # given settings are never scaled


def test_a_small_population_alone_runs_and_a_bad_one_names_its_flag(tmp_path, capsys):
    tiny = ["--board", "6x6", "--generations", "1", "--episodes", "1", "--quiet", "--no-plot"]
    tiny += ["--champion-episodes", "1", "--out", str(tmp_path / "run")]
    assert main(["evolve", "snake", "--population", "10", *tiny]) == 0
    capsys.readouterr()
    assert main(["evolve", "snake", "--population", "10", "--parents", "30", *tiny]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["evonet evolve: error: --parents (30) cannot exceed the population (10)"]
    assert main(["evolve", "snake", "--population", "2", "--elite", "6", *tiny]) == 2
    assert "error: --elite must be from 0 to population - 1 (1), got 6" in capsys.readouterr().err


def test_a_shielded_network_plays_shielded_and_older_files_are_not():
    shielded = EvolveConfig(shield=True)
    assert shielded.game_spec() == SnakeSpec(shield=True)
    assert from_dict(shielded.to_dict()).shield
    assert game_from_meta(shielded.to_dict()) == SnakeSpec(shield=True)
    old = {k: v for k, v in EvolveConfig().to_dict().items() if k != "shield"}
    assert not from_dict(old).shield
    assert game_from_meta(old) == SnakeSpec()
    assert "shielded" in SnakeSpec(shield=True).describe()
    with pytest.raises(ValueError, match="has no setting 'shield'"):
        EvolveConfig.for_game("gym:CartPole-v1", shield=True).validate()
