"""Views: the window draws the right colours in the right cells; terminal frames as text."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from evonet.games.snake import Snake
from evonet.games.snake.render import keys
from evonet.games.snake.render.terminal import frame_lines
from evonet.games.snake.rules import LEFT, RIGHT, UP
from tests.helpers import ScriptedView, evonet_here, run_in_terminal

CHAMPION = Path(__file__).parents[3] / "evonet" / "assets" / "snake-champion.npz"


def game(width=6, height=5):
    env = Snake(1, width, height)
    env.reset(seed=0)
    env.set_game(0, [(3, 2), (2, 2), (1, 2)], RIGHT, apple=(5, 4))
    return env


@pytest.mark.slow
def test_headless_use_imports_neither_pygame_nor_curses():
    code = (
        "import sys, evonet.games.snake.engine, evonet.games.snake.render.window, "
        "evonet.games.snake.render.terminal, evonet.cli.main; "
        "print('pygame' in sys.modules, 'curses' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_window_draws_expected_colours_at_expected_cells():
    from evonet.games.snake.render import window

    env = game()
    with window.WindowView(env, cell=20) as view:
        view.draw(0)
        hud, board, _ = view.areas()
        cell, left, top = window.board_layout(env.width, env.height, board)

        def colour(x, y):
            px = (left + x * cell + cell // 2, top + y * cell + cell // 2)
            return tuple(view.screen.get_at(px))[:3]

        assert colour(3, 2) == window.HEAD
        assert colour(2, 2) == window.BODY and colour(1, 2) == window.BODY
        assert colour(5, 4) == window.APPLE
        assert colour(0, 0) == window.BOARD
        assert tuple(view.screen.get_at((5, 5)))[:3] == window.BACKGROUND  # the HUD strip


def test_body_is_one_band_with_parallel_runs_kept_apart():
    """Consecutive segments are joined; two runs of the body side by side show the board
    between them, so a folded snake does not read as one block."""
    from evonet.games.snake.render import window

    env = Snake(1, 6, 5)
    env.reset(seed=0)
    folded = [(1, 1), (2, 1), (3, 1), (4, 1), (4, 2), (3, 2), (2, 2), (1, 2)]  # head (1, 1)
    env.set_game(0, folded, LEFT, apple=(5, 4))
    frames = window.FrameRenderer(env)
    surface = frames.pygame.Surface((400, 400))
    frames.render(surface, 0)
    cell, left, top = window.board_layout(6, 5, frames.areas((400, 400))[1])

    def at(x, y):
        return tuple(surface.get_at((int(left + x * cell), int(top + y * cell))))[:3]

    assert at(3.0, 1.5) == window.BODY  # between (2, 1) and (3, 1): joined
    assert at(4.5, 2.0) == window.BODY  # between (4, 1) and (4, 2): the fold, joined
    assert at(2.5, 2.0) != window.BODY  # between (2, 1) and (2, 2): two runs, apart
    assert at(3.5, 2.0) != window.BODY


def test_window_scales_with_its_size():
    from evonet.games.snake.render import window

    env = game()
    with window.WindowView(env, cell=50, screen=(1280, 800)) as view:
        assert window.board_layout(env.width, env.height, view.areas()[1])[0] == 50
    # Resized, the frame draws the board as large as the window allows.
    frames = window.FrameRenderer(env)
    sizes = [(360, 240), (900, 700)]
    cells = [window.board_layout(6, 5, frames.areas(size)[1])[0] for size in sizes]
    assert cells[0] < cells[1] and cells[1] >= 100


def test_window_closes_cleanly_and_can_reopen():
    from evonet.games.snake.render import window

    env = game()
    view = window.WindowView(env, cell=20)
    pygame = view.pygame
    assert pygame.display.get_init() and pygame.display.get_surface() is not None
    view.close()
    assert view.closed and not pygame.display.get_init()  # the display is shut down
    view.close()  # a second close is harmless: nothing reopens, nothing raises
    assert not pygame.display.get_init()
    with window.WindowView(env, cell=20) as again:
        assert pygame.display.get_init() and not again.closed
        again.draw(0, message=["hello"])
        # The reopened window shows the frame the renderer draws for this game.
        expected = pygame.Surface(again.screen.get_size())
        window.FrameRenderer(env).render(expected, 0, message=["hello"])
        shown = pygame.surfarray.array3d(pygame.display.get_surface())
        assert (shown == pygame.surfarray.array3d(expected)).all()
        hud, board, _ = again.areas()
        cell, left, top = window.board_layout(env.width, env.height, board)
        head = (left + 3 * cell + cell // 2, top + 2 * cell + cell // 2)
        assert tuple(pygame.display.get_surface().get_at(head))[:3] != window.BOARD
    assert again.closed and not pygame.display.get_init()


def test_terminal_frame_as_text():
    env = game()
    lines = frame_lines(env, 0, message=["bye"])
    assert lines[0] == "apples 0  length 3  steps 0"
    assert lines[1] == "+" + "-" * 13 + "+"
    assert lines[2 + 2] == "| . o o > . . |"  # row 2: body, body, head facing right
    assert lines[2 + 4] == "| . . . . . * |"  # row 4: the apple
    assert lines[-1] == "bye" and len(lines) == 1 + 2 + 5 + 1


def test_a_watch_hud_fits_40_columns_on_two_lines():
    env = game()
    extra = ["episode 1/5", "10 fps", "paused"]
    lines = frame_lines(env, 0, extra=extra, fit=(40, 24))
    assert lines[0] == "apples 0  length 3  steps 0"
    assert lines[1] == "episode 1/5  10 fps  paused" and lines[2].startswith("+--")
    assert max(map(len, lines)) < 40
    wide = frame_lines(env, 0, extra=extra, fit=(80, 24))
    assert wide[0] == "apples 0  length 3  steps 0  episode 1/5  10 fps  paused"


def test_the_snake_and_the_apple_are_coloured_runs_of_board_rows():
    from evonet.games.snake.render.terminal import APPLE, SNAKE, colour_runs

    assert colour_runs("| . o o > . * |") == [
        ("| . ", None),
        ("o", SNAKE),
        (" ", None),
        ("o", SNAKE),
        (" ", None),
        (">", SNAKE),
        (" . ", None),
        ("*", APPLE),
        (" |", None),
    ]
    assert colour_runs("apples 3  length o") == [("apples 3  length o", None)]


def test_terminal_frame_head_shows_heading():
    env = game()
    env.set_game(0, [(3, 1), (3, 2), (3, 3)], UP, apple=(0, 0))
    assert frame_lines(env, 0)[2 + 1] == "| . . . ^ . . |"


@pytest.mark.parametrize("size,scaled", [((80, 24), True), ((40, 12), True), ((140, 70), False)])
def test_a_64x64_board_fits_the_terminal_with_its_head_apple_and_body(size, scaled):
    env = Snake(1, 64, 64)
    env.reset(seed=0)
    env.set_game(0, [(10, 40), (11, 40), (12, 40)], LEFT, apple=(60, 3))
    lines = frame_lines(env, 0, extra=["gen 3"], message=["bye"], fit=size)
    cols, rows = size
    assert len(lines) <= rows and max(map(len, lines)) < cols
    board = "".join(lines[2:-2])
    assert board.count("<") == 1 and board.count("*") == 1 and "o" in board
    assert ("1 char = " in lines[-2]) == scaled  # the bottom border says the scale


def test_a_small_board_keeps_two_columns_a_cell_when_it_fits():
    env = game()
    assert frame_lines(env, 0, fit=(80, 24)) == frame_lines(env, 0)


def test_the_window_opens_no_bigger_than_the_screen_for_a_64x64_board():
    from evonet.games.snake.render import window

    env = Snake(1, 64, 64)
    env.reset(seed=0)
    with window.WindowView(env) as view:
        screen_w, screen_h = view.pygame.display.get_desktop_sizes()[0]
        w, h = view.screen.get_size()
        assert w <= screen_w and h <= screen_h
        view.draw(0)


@pytest.mark.parametrize(
    "heading,key,action",
    [
        (UP, "up", 1),
        (UP, "left", 0),
        (UP, "right", 2),
        (UP, "down", 1),
        (RIGHT, "down", 2),
        (RIGHT, "up", 0),
        (RIGHT, None, 1),
        (RIGHT, "pause", 1),
    ],
)
def test_direction_keys_become_relative_actions(heading, key, action):
    assert keys.relative_action(heading, key) == action


def test_play_loop_waits_plays_shows_game_over_and_restarts():
    from evonet.cli.play import play_loop

    env = Snake(1, 6, 6)
    # Wait one frame, then go up until the wall, then restart and quit.
    view = ScriptedView([[], ["up"]] + [[]] * 6 + [["restart"], [], ["quit"]])
    games = play_loop(view, env, fps=100, seed=3)
    messages = [m for _, m in view.frames]
    assert messages[0][0] == "press an arrow key to start"
    assert any(m and m[0].startswith("game over") for m in messages)
    assert games == 2


def test_play_starts_only_with_a_key_that_moves_the_snake():
    from evonet.cli.play import play_loop
    from evonet.games.base import episode_seeds

    env = Snake(1, 6, 6)
    env.reset(seed=episode_seeds(3, 1_000_000)[:1])  # the game play_loop starts
    heading = int(env.heading[0])
    by_heading = {h: name for name, h in keys.DIRECTION_HEADING.items()}
    back, turn = by_heading[(heading + 2) % 4], by_heading[(heading + 1) % 4]
    view = ScriptedView([[back], [], [turn], ["quit"]])
    play_loop(view, env, fps=100, seed=3)
    messages = [m[0] if m else None for _, m in view.frames]
    assert messages[:2] == ["press an arrow key to start"] * 2  # the reverse key is dropped
    assert messages[2] is None and int(env.heading[0]) == (heading + 1) % 4


def test_play_rejects_bad_flags(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    for args in (
        ["--board", "0x5"],
        ["--board", "3x9"],
        ["--board", "ten"],
        ["--fps", "-2"],
        ["--fps", "1e-300"],
        ["--fps", "241"],
        ["--render", "tv"],
    ):
        r = evonet_here("play", "snake", *args)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, args


@pytest.mark.slow
def test_missing_pygame_names_the_package_to_install():
    code = (
        "import sys; sys.modules['pygame'] = None\n"
        "from evonet.cli.main import main\n"
        "sys.exit(main(['play', 'snake']))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 2
    assert "pip install pygame" in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_no_display_is_exactly_one_line_not_an_invisible_window():
    # Without a display SDL prints its own complaint about XDG_RUNTIME_DIR; only
    # evonet's line may reach stderr.
    hidden = ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    for cmd in (["play", "snake"], ["watch"]):  # watch with no file plays the shipped champion
        r = subprocess.run(
            [sys.executable, "-m", "evonet", *cmd],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert r.returncode == 2, r.stderr
        lines = r.stderr.splitlines()
        assert len(lines) == 1, r.stderr
        assert "no screen" in lines[0] and "--render terminal" in lines[0]


TERMINAL_COMMANDS = [["play", "snake"], ["watch", str(CHAMPION), "--episodes", "1"]]


@pytest.mark.slow
@pytest.mark.parametrize("cmd", [*TERMINAL_COMMANDS, ["watch"]], ids=["play", "watch", "default"])
def test_terminal_view_without_a_terminal_is_one_line(cmd):
    args = [*cmd, "--render", "terminal"]
    r = subprocess.run(
        [sys.executable, "-m", "evonet", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert "needs an interactive terminal (stdin is not a tty)" in r.stderr
    assert "--render window" in r.stderr


@pytest.mark.slow
@pytest.mark.parametrize("term,reason", [("dumb", "cannot move the cursor"), (None, "not set")])
def test_a_terminal_that_cannot_draw_is_one_line(term, reason):
    # play and watch share this check (both reach it: the test above); one command shows it.
    code, err = run_in_terminal(["play", "snake", "--render", "terminal"], term)
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"TERM{'=dumb' if term else ' is'} {reason}" in err and "--render window" in err


@pytest.mark.slow
@pytest.mark.parametrize("cmd", TERMINAL_COMMANDS, ids=["play", "watch"])
def test_terminal_view_runs_in_a_real_terminal_and_quits_on_q(cmd):
    code, err = run_in_terminal([*cmd, "--render", "terminal"], "xterm", keys=b"q")
    assert code == 0, err
