"""A pygame window that shows one game of a :class:`~evonet.games.snake.rules.Snake` batch.

The view only reads game state. Frames can also be drawn offscreen (GIF recording,
Gymnasium's ``rgb_array``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...ui.window import (
    BACKGROUND,
    DIM,
    HUD_HEIGHT,
    TEXT,
    Area,
    Draw,
    FrameLayout,
    PygameWindow,
    draw_hud,
    import_pygame,
    screen_fraction,
)

if TYPE_CHECKING:  # numba loads only for views that show a game
    from ..engine import Snake

BOARD = (36, 40, 50)
GRID = (46, 51, 63)
BODY = (76, 175, 80)
HEAD = (205, 240, 120)
APPLE = (229, 57, 53)
MIN_CELL = 4  # pixels: the smallest cell a window opens with


def board_layout(width: int, height: int, area: tuple[int, int, int, int]) -> tuple[int, int, int]:
    """Square cells that fit ``width x height`` cells into ``area = (x, y, w, h)``, centred.

    Returns ``(cell, left, top)`` in pixels.
    """
    ax, ay, aw, ah = area
    cell = max(1, min(aw // width, ah // height))
    left = ax + (aw - cell * width) // 2
    top = ay + (ah - cell * height) // 2
    return cell, left, top


def draw_board(surface: Any, area: tuple[int, int, int, int], env: Snake, k: int) -> int:
    """Draw game ``k`` into ``area`` of ``surface``; returns the cell size in pixels."""
    pygame = import_pygame()
    cell, left, top = board_layout(env.width, env.height, area)
    pygame.draw.rect(surface, BOARD, (left, top, cell * env.width, cell * env.height))
    if cell >= 8:
        for x in range(env.width + 1):
            pygame.draw.line(
                surface, GRID, (left + x * cell, top), (left + x * cell, top + cell * env.height)
            )
        for y in range(env.height + 1):
            pygame.draw.line(
                surface, GRID, (left, top + y * cell), (left + cell * env.width, top + y * cell)
            )
    pad = max(1, cell // 10)

    def fill(x: int, y: int, colour: tuple[int, int, int], inset: int) -> None:
        rect = (left + x * cell + inset, top + y * cell + inset, cell - 2 * inset, cell - 2 * inset)
        pygame.draw.rect(surface, colour, rect, border_radius=max(0, cell // 5))

    apple = env.apple_xy(k)
    if apple is not None:
        fill(apple[0], apple[1], APPLE, 2 * pad)
    segments = env.snake_cells(k)
    for x, y in segments[1:]:
        fill(int(x), int(y), BODY, pad)
    hx, hy = segments[0]
    fill(int(hx), int(hy), HEAD, 0)
    return cell


def hud_items(env: Snake, k: int, extra: Sequence[str] = ()) -> list[str]:
    """The standard HUD: apples, length and steps of game ``k``, plus ``extra``."""
    return [
        f"apples {int(env.apples[k])}",
        f"length {int(env.length[k])}",
        f"steps {int(env.steps[k])}",
        *extra,
    ]


# Re-exported: the colours and HUD of every game view are the generic window's.
__all__ = ["BACKGROUND", "DIM", "HUD_HEIGHT", "TEXT", "draw_hud"]


class FrameRenderer(FrameLayout):
    """Draws whole frames of one game of ``env`` (HUD strip, board, optional side panel,
    message) on any surface; see :class:`~evonet.games.ui.window.FrameLayout`.

    Args:
        env: the game batch to show (read only).
        panel_width: width in pixels of a side panel drawn by ``panel`` (0 for none).
        panel: ``panel(surface, area)`` draws the side panel into ``area``.
    """

    def __init__(self, env: Snake, panel_width: int = 0, panel: Draw | None = None) -> None:
        super().__init__(panel_width, panel)
        self.env = env

    def size(self, cell: int) -> tuple[int, int]:
        """Pixel size of a frame with ``cell``-pixel cells."""
        return self.frame_size((self.env.width * cell, self.env.height * cell))

    def render(
        self, surface: Any, k: int, extra: Sequence[str] = (), message: Sequence[str] = ()
    ) -> None:
        """Draw game ``k`` with its HUD, the side panel and an optional centred message."""

        def board(surface: Any, area: Area) -> None:
            draw_board(surface, area, self.env, k)

        self.render_frame(surface, board, hud_items(self.env, k, extra), message)


class WindowView(PygameWindow):
    """A resizable window showing one game: HUD on top, board, optional side panel.

    Same arguments as :class:`FrameRenderer`, plus the initial ``cell`` size in pixels, the
    window ``title``, and ``require_screen`` (see :class:`PygameWindow`).
    """

    def __init__(
        self,
        env: Snake,
        cell: int = 40,
        title: str = "evonet snake",
        panel_width: int = 0,
        panel: Draw | None = None,
        require_screen: bool = False,
    ) -> None:
        self.frames = FrameRenderer(env, panel_width, panel)
        self.pygame = self.frames.pygame  # fitting_cell reads the screen through it
        super().__init__(lambda: self.frames.size(self.fitting_cell(cell)), title, require_screen)

    def fitting_cell(self, cell: int) -> int:
        """``cell``, or smaller so the whole window fits on the screen (a 64x64 board at 40
        pixels a cell would be 2,560 pixels tall); the window stays resizable."""
        # Leave room for the window's title bar and the desktop's panels.
        room = screen_fraction(self.pygame, 0.9, 0.85)
        if room is None:
            return cell
        env = self.frames.env
        fit_w = (room[0] - self.frames.panel_width) // env.width
        fit_h = (room[1] - HUD_HEIGHT) // env.height
        return max(MIN_CELL, min(cell, fit_w, fit_h))

    def areas(self) -> tuple[Area, Area, Area]:
        """``(hud, board, panel)`` rectangles for the current window size."""
        return self.frames.areas(self.screen.get_size())

    def draw(self, k: int, extra: Sequence[str] = (), message: Sequence[str] = ()) -> None:
        """Draw game ``k`` with its HUD, the side panel and an optional centred message."""
        self.screen = self.pygame.display.get_surface()  # resizing replaces the surface
        self.frames.render(self.screen, k, extra, message)
        self.pygame.display.flip()
