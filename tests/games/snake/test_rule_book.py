"""The rule book and what is named after it: one list of feature names, the feature blocks,
and one check of the settings for the engine and the spec."""

import re

import numpy as np
import pytest

from evonet.games.snake import (
    FEATURE_BLOCKS,
    FEATURE_NAMES,
    LAYOUTS,
    N_OBS,
    Snake,
    SnakeSpec,
    check_settings,
    rules,
)

# The rule book's placeholders in its table's names, and what each stands for in order.
PLACEHOLDERS = {
    "<ray>": ("fwd", "fwd-R", "R", "back-R", "back", "back-L", "L", "fwd-L"),
    "<dir>": ("up", "right", "down", "left"),
    "<move>": ("L", "fwd", "R"),
}


def table_rows(doc):
    """``(first index, last index, name)`` of each row of the rule book's feature table."""
    lines = doc.splitlines()
    top = lines.index(next(line for line in lines if line.startswith("index   name")))
    rows = []
    for line in lines[top + 2 :]:
        if line.startswith("="):
            break
        m = re.match(r"(\d+)(?:-(\d+))?\s+(\S+(?: \S+)?)\s{2,}", line)
        if m:
            first = int(m[1])
            rows.append((first, int(m[2] or first), m[3]))
    return rows


def test_the_rule_books_table_names_every_feature_as_the_one_list_does():
    names, blocks = [], []
    for first, last, name in table_rows(rules.__doc__):
        assert first == len(names), name  # the rows cover the features in order
        placeholder = next((p for p in PLACEHOLDERS if p in name), None)
        values = PLACEHOLDERS[placeholder] if placeholder else [None]
        names += [name.replace(placeholder, v) if placeholder else name for v in values]
        blocks.append(slice(first, last + 1))
        assert len(names) == last + 1, name
    assert tuple(names) == FEATURE_NAMES
    # Every block of the table is one of FEATURE_BLOCKS, or lies inside one.
    for block in blocks:
        assert any(b.start <= block.start and block.stop <= b.stop for b in FEATURE_BLOCKS.values())
    # And the rays' names are the rule book's.
    assert rules.RAY_NAMES == PLACEHOLDERS["<ray>"]


def test_the_feature_blocks_tile_the_observation_in_the_tables_order():
    stops = 0
    for block, where in FEATURE_BLOCKS.items():
        assert where.start == stops, block
        stops = where.stop
    assert stops == len(FEATURE_NAMES) == N_OBS == LAYOUTS[2]
    assert LAYOUTS[1] == FEATURE_BLOCKS["room"].start == 32
    assert FEATURE_NAMES[FEATURE_BLOCKS["apple offset"]] == ("apple ahead", "apple right")
    assert all(n.startswith("body ") for n in FEATURE_NAMES[FEATURE_BLOCKS["body"]])


@pytest.mark.parametrize("observation", sorted(LAYOUTS))
def test_one_list_of_names_serves_the_panel_and_the_engine(observation):
    spec = SnakeSpec(observation=observation)
    game = spec.make(2)
    assert spec.input_labels == tuple(game.observation_names()) == FEATURE_NAMES[: spec.n_obs]
    assert len(spec.input_labels) == game.n_obs == LAYOUTS[observation]


def test_feature_names_are_distinct_and_short_enough_for_the_panel():
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    assert max(map(len, FEATURE_NAMES)) <= 12  # "apple back-R": beside a 460-pixel panel


def test_the_blocks_name_what_the_engine_writes_there():
    env = Snake(1, 10, 10)
    env.reset(seed=0)
    env.set_game(0, [(2, 5), (2, 6), (2, 7)], rules.UP, apple=(2, 1))
    obs = env.observations[0]
    np.testing.assert_array_equal(obs[FEATURE_BLOCKS["heading"]], [1, 0, 0, 0])
    np.testing.assert_allclose(obs[FEATURE_BLOCKS["apple offset"]], [0.4, 0.0])
    np.testing.assert_allclose(obs[FEATURE_BLOCKS["length"]], [0.03])
    assert obs[FEATURE_BLOCKS["body"]][4] == 1.0  # the neck, right behind the head


@pytest.mark.parametrize(
    "board,hunger,observation",
    [((3, 9), 0, 2), ((65, 10), 0, 2), ((10, 2), 0, 2), ((8, 8), -1, 2), ((8, 8), 257, 2),
     ((8, 8), 0, 4), ((8, 8), 1.5, 2)],
)  # fmt: skip
def test_the_engine_and_the_spec_refuse_settings_with_one_check(board, hunger, observation):
    with pytest.raises(ValueError) as by_check:
        check_settings(*board, hunger or None, observation)
    with pytest.raises(ValueError) as by_spec:
        SnakeSpec(board=board, hunger=hunger, observation=observation)
    with pytest.raises(ValueError) as by_engine:
        Snake(1, *board, hunger or None, observation)
    assert str(by_spec.value) == str(by_engine.value) == str(by_check.value)


def test_the_check_gives_the_settings_the_rules_play():
    assert check_settings(8, 6) == (8, 6, 48, 2)
    assert check_settings(np.int64(8), 6, 100, 1) == (8, 6, 100, 1)
    game = Snake(1, 8, 6, 100, 1)
    assert (game.width, game.height, game.hunger, game.observation) == (8, 6, 100, 1)


def test_the_docs_feature_table_uses_the_one_list_of_names():
    from pathlib import Path

    page = (Path(__file__).resolve().parents[3] / "docs" / "snake.md").read_text()
    names = []
    for line in page.splitlines():
        m = re.match(r"\| (\d+)(?:-(\d+))? \| `([^`]+)` \|", line)
        if m:
            placeholder = next((p for p in PLACEHOLDERS if p in m[3]), None)
            values = PLACEHOLDERS[placeholder] if placeholder else [None]
            names += [m[3].replace(placeholder, v) if placeholder else m[3] for v in values]
            assert len(names) == int(m[2] or m[1]) + 1, m[3]
    assert tuple(names) == FEATURE_NAMES
