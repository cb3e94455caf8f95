"""Windows for every board and screen: as large as fits, with every text inside them.

The dummy video driver opens real pygame windows without a screen; the screen's size is
given, as the display would report it.
"""

import pytest

from evonet.cli import play
from evonet.games.snake import Snake, SnakeSpec
from evonet.games.snake.render import window
from evonet.games.ui.window import BOARD_MARGIN, MIN_SIZE, hud_height, hud_rows, screen_room
from evonet.storage.checkpoint import read_network
from evonet.views import panel, replay, replay_snake

BOARDS = [(4, 4), (5, 64), (64, 5), (64, 64)]
SCREENS = [(800, 600), (1280, 800), (1920, 1080)]
SCREEN_CASES = [(b, s) for b in BOARDS for s in SCREENS]


def contains(outer, rect):
    x, y, w, h = outer
    return x <= rect.left and y <= rect.top and rect.right <= x + w and rect.bottom <= y + h


def check_fits(view, board, screen, max_cell):
    """The window fits the screen, is at least MIN_SIZE, and its cells could grow by no
    pixel without it overflowing (or are as large as allowed)."""
    width, height = view.screen.get_size()
    room = screen_room(view.pygame, screen)
    assert MIN_SIZE[0] <= width <= room[0] and MIN_SIZE[1] <= height <= room[1]
    hud, area, side = view.areas()
    cell = window.board_layout(*board, area)[0]
    edge = 2 * BOARD_MARGIN
    grown = ((cell + 1) * board[0] + edge + side[2], (cell + 1) * board[1] + edge + hud[3])
    assert cell == max_cell or grown[0] > room[0] or grown[1] > room[1]
    return cell


def check_text(view, drawn, hud_items):
    """Every line drawn is inside the window: the HUD's in its strip, messages over the
    board; the HUD's rows are as many as its items need."""
    hud, area, _ = view.areas()
    rows = hud_rows(hud_items, view.frames.font, hud[2])
    assert len(drawn) >= len(rows)
    for rect in drawn[: len(rows)]:
        assert contains(hud, rect), (rect, hud)
    body = area if area[2] >= MIN_SIZE[0] else (0, area[1], hud[2], area[3])
    for rect in drawn[len(rows) :]:
        assert contains(body, rect), (rect, body)


@pytest.mark.parametrize(("board", "screen"), SCREEN_CASES)
def test_play_window_fits_every_board_and_screen(board, screen):
    env = Snake(1, *board)
    env.reset(seed=[3])
    with window.WindowView(env, hud_extra=play.HUD_EXTRA, screen=screen) as view:
        check_fits(view, board, screen, window.MAX_CELL)
        # The longest HUD the game can show, with each message the game shows.
        extra = list(play.HUD_EXTRA)
        longest = [*view.frames.hud_sample]
        for message in (
            ["press an arrow key to start", "q: quit   h: keys"],
            ["game over: 4,093 apples, board full: you win!", "r: play again   q: quit"],
            play.KEYS_HELP,
        ):
            drawn = view.draw(0, extra, message)
            check_text(view, drawn, window.hud_items(env, 0, extra))
        # The strip is as tall as the longest HUD needs, so the board never moves.
        rows = len(hud_rows(longest, view.frames.font, view.screen.get_width()))
        assert view.areas()[0][3] == hud_height(rows, view.frames.font)


def test_play_prompt_leaves_the_head_in_sight():
    for board in BOARDS + [(10, 10), (20, 20)]:
        env = Snake(1, *board)
        env.reset(seed=[5])
        with window.WindowView(env, hud_extra=play.HUD_EXTRA, screen=(1280, 800)) as view:
            drawn = view.draw(0, message=["press an arrow key to start", "q: quit   h: keys"])
            _, area, _ = view.areas()
            cell, left, top = window.board_layout(env.width, env.height, area)
            hx, hy = env.snake_cells(0)[0]
            head = view.pygame.Rect(left + hx * cell, top + hy * cell, cell, cell)
            assert not any(rect.colliderect(head) for rect in drawn), board


@pytest.fixture(scope="module")
def champion():
    theta, topo, _ = read_network(replay.shipped_champion())
    return theta, topo


@pytest.mark.parametrize(("board", "screen"), SCREEN_CASES)
def test_watch_window_fits_every_board_and_screen(champion, board, screen):
    agent = replay.Agent(*champion)
    view, rep = replay_snake.open_window(agent, SnakeSpec(board=board), 3, 0, screen=screen)
    with view:
        check_fits(view, board, screen, window.MAX_CELL)
        hud, area, side = view.areas()
        assert side[2] == panel.PANEL_WIDTH  # the panel is never squeezed into a strip
        # Tall enough that the panel labels its inputs.
        pos = panel.neuron_positions(agent.topo.sizes, side)
        assert view.frames.panel._label_font(pos[0][1, 1] - pos[0][0, 1]) is not None
        status = [*rep.hud(), *replay_snake.hud_extra(3)[1:]]
        items = window.hud_items(view.frames.env, 0, status)
        check_text(view, view.draw(0, status), items)
        check_text(view, view.draw(0, status, replay.KEYS_HELP), items)


def test_watch_opens_as_tall_as_the_panel_needs_on_a_small_screen(champion):
    """A 10x10 board on an 800x600 screen: the window is as tall as the screen allows,
    not as tall as the board at the width left beside the panel."""
    agent = replay.Agent(*champion)
    view, _ = replay_snake.open_window(agent, SnakeSpec(board=(10, 10)), 1, 0, screen=(800, 600))
    with view:
        room = screen_room(view.pygame, (800, 600))
        width, height = view.screen.get_size()
        assert height == room[1] and room[0] - 10 < width <= room[0]  # 10 cells across
