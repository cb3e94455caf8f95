"""The game interface and the registry (games/base.py)."""

import ast
from pathlib import Path

import numpy as np
import pytest

from evonet.games import base
from evonet.games.snake import N_OBS, Snake, SnakeSpec

ROOT = Path(__file__).resolve().parents[2]


def test_the_registry_makes_snake_with_its_settings():
    spec = base.make("snake", board=(8, 6), hunger=20)
    assert spec == SnakeSpec(board=(8, 6), hunger=20)
    assert (spec.n_obs, spec.n_outputs, spec.score_name) == (N_OBS, 3, "apples")
    game = spec.make(5)
    assert isinstance(game, Snake) and isinstance(game, base.BatchedGame)
    assert (game.width, game.height, game.hunger) == (8, 6, 20)


@pytest.mark.parametrize(
    "options,needle",
    [
        ({"bored": (5, 5)}, "no setting 'bored'"),
        ({"board": (3, 9)}, "at least 4x4"),
        ({"board": (10,)}, "two whole numbers"),
        ({"hunger": -1}, "hunger must be from 0"),
        ({"hunger": 1.5}, "whole number"),
    ],
)
def test_bad_settings_are_refused_naming_the_problem(options, needle):
    with pytest.raises(ValueError, match=needle):
        base.make("snake", **options)


def test_unknown_names_list_what_is_supported():
    with pytest.raises(base.UnknownGame, match="supported: snake, gym:ENV_ID"):
        base.make("tetris")
    with pytest.raises(base.UnknownGame):
        base.make(3)  # type: ignore[arg-type]
    with pytest.raises(base.UnknownGame, match="5004 characters, at most 200") as e:
        base.make("gym:" + "A" * 5000)
    assert len(str(e.value)) < 120


def test_snake_episode_stats_give_fitness_score_steps_and_wins(rng):
    game = SnakeSpec(board=(6, 6)).make(4)
    game.reset(seed=base.episode_seeds(1, 4))
    while game.alive.any():
        game.advance(rng.integers(0, 3, 4))
    stats = game.episode_stats()
    np.testing.assert_array_equal(stats.score, game.apples)
    np.testing.assert_array_equal(stats.steps, game.steps)
    assert (stats.fitness >= stats.score).all() and (stats.fitness < stats.score + 1).all()


def test_games_import_nothing_from_evonet():
    for path in (ROOT / "games").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n == "evonet" or n.startswith("evonet.") for n in names), path


def test_no_snake_constant_or_module_outside_snakes_own_modules():
    # The learning side knows games only through the registry and the interface.
    snake_only = {"N_OBS", "MAX_SIDE", "MIN_SIDE", "MAX_HUNGER_FACTOR", "ACTION_NAMES"}
    snake_only |= {"RAY_NAMES", "FEATURE_NAMES", "FEATURE_BLOCKS"}
    # The engine's modules, and the package that re-exports their names.
    engine = ("rules", "engine", "spec")
    snake_engine = [f"evonet.games.snake.{m}" for m in engine] + ["evonet.games.snake import"]
    for path in (ROOT / "evonet").rglob("*.py"):
        if "games" in path.relative_to(ROOT / "evonet").parts:  # the games themselves
            continue
        text = path.read_text()
        assert not any(c in text for c in snake_only), path
        if path.name not in (
            "replay_snake.py",
            "watch.py",
            "play.py",
            "args.py",
            "compiled_play.py",
        ):  # Snake's views, --board, and the compiled rollout fused with Snake's rules
            assert not any(name in text for name in snake_engine), path


def test_a_game_from_another_package_registers_with_one_call_and_evolves(tmp_path, monkeypatch):
    import evonet
    from evonet.games import base as registry

    monkeypatch.setattr(registry, "REGISTRY", dict(registry.REGISTRY))  # leave no trace
    evonet.register_game("sign", "tests.games.toy:SignSpec")
    assert "sign" in evonet.supported_games()
    config = evonet.EvolveConfig.for_game(
        "sign", generations=15, population=30, elite=2, parents=8, hidden=(), episodes=2
    )
    run = evonet.run(config, out=tmp_path / "sign", progress=False, plot=False)
    first, last = run.history[0], run.history[-1]
    assert last["best_right"] == 10 > first["mean_right"]  # it learned to say the sign
    assert run.champion is not None and run.champion.record["mean_right"] > 9
    theta, topo, game = evonet.load_agent(tmp_path / "sign" / "best.npz")
    assert game.name == "sign" and topo.sizes == (1, 2)
