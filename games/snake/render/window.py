"""A pygame window that shows one game of a :class:`~evonet.games.snake.rules.Snake` batch.

The view only reads game state. Frames can also be drawn offscreen (GIF recording,
Gymnasium's ``rgb_array``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...ui.window import (
    BACKGROUND,
    BOARD_MARGIN,
    DIM,
    HUD_HEIGHT,
    MIN_CELL,
    TEXT,
    Area,
    Draw,
    FrameLayout,
    PygameWindow,
    draw_hud,
    import_pygame,
    screen_room,
)

if TYPE_CHECKING:  # numba loads only for views that show a game
    from ..engine import Snake

BOARD = (36, 40, 50)
GRID = (46, 51, 63)
BODY = (76, 175, 80)
HEAD = (205, 240, 120)
APPLE = (229, 57, 53)
MAX_CELL = 64  # pixels: the largest cell a window opens with


def board_layout(width: int, height: int, area: tuple[int, int, int, int]) -> tuple[int, int, int]:
    """Square cells that fit ``width x height`` cells into ``area = (x, y, w, h)`` with
    :data:`BOARD_MARGIN` around them, centred.

    Returns ``(cell, left, top)`` in pixels.
    """
    ax, ay, aw, ah = area
    edge = 2 * BOARD_MARGIN
    cell = max(1, min((aw - edge) // width, (ah - edge) // height))
    left = ax + (aw - cell * width) // 2
    top = ay + (ah - cell * height) // 2
    return cell, left, top


def draw_board(surface: Any, area: tuple[int, int, int, int], env: Snake, k: int) -> Area:
    """Draw game ``k`` into ``area`` of ``surface``; returns the head's rectangle
    ``(x, y, w, h)`` in pixels (for messages to keep clear of)."""
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
    apple = env.apple_xy(k)
    if apple is not None:
        pad = max(1, cell // 5)
        rect = (left + apple[0] * cell + pad, top + apple[1] * cell + pad, cell - 2 * pad)
        pygame.draw.rect(surface, APPLE, (*rect, rect[2]), border_radius=max(0, cell // 5))
    _draw_snake(surface, env.snake_cells(k), cell, left, top)
    hx, hy = env.snake_cells(k)[0]
    return left + int(hx) * cell, top + int(hy) * cell, cell, cell


def _draw_snake(surface: Any, segments: Any, cell: int, left: int, top: int) -> None:
    """The body as one connected band, head first ``(length, 2)``: each segment is joined
    to the next by a bridge over the gap between their cells, so two runs of the body side
    by side stay apart by that gap, and the head full-size on top."""
    pygame = import_pygame()
    pad = max(1, cell // 8)
    radius = max(0, cell // 4)
    xs, ys = left + segments[:, 0] * cell, top + segments[:, 1] * cell
    for n in range(1, len(segments)):
        x, y = int(xs[n]), int(ys[n])
        pygame.draw.rect(surface, BODY, (x + pad, y + pad, cell - 2 * pad, cell - 2 * pad),
                         border_radius=radius)  # fmt: skip
        # The bridge toward the segment nearer the head: from this cell's centre to that one's.
        px, py = int(xs[n - 1]), int(ys[n - 1])
        if abs(px - x) + abs(py - y) != cell:  # segments still stacked at the start
            continue
        bx, by = min(x, px) + cell // 2, min(y, py) + cell // 2
        if px != x:
            pygame.draw.rect(surface, BODY, (bx, y + pad, cell, cell - 2 * pad))
        else:
            pygame.draw.rect(surface, BODY, (x + pad, by, cell - 2 * pad, cell))
    pygame.draw.rect(surface, HEAD, (int(xs[0]), int(ys[0]), cell, cell), border_radius=radius)


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
        hud_extra: the longest HUD items the view adds to the game's own (speed, keys):
            with them the HUD strip is sized once, for the longest game.
    """

    def __init__(
        self,
        env: Snake,
        panel_width: int = 0,
        panel: Draw | None = None,
        hud_extra: Sequence[str] = (),
    ) -> None:
        super().__init__(panel_width, panel, board_min_width=env.width * MIN_CELL)
        self.env = env
        cells = env.width * env.height
        self.hud_sample = [f"apples {cells}", f"length {cells}", "steps 1000000", *hud_extra]

    def size(self, cell: int) -> tuple[int, int]:
        """Pixel size of a frame with ``cell``-pixel cells."""
        return self.frame_size((self.env.width * cell, self.env.height * cell))

    def render(
        self, surface: Any, k: int, extra: Sequence[str] = (), message: Sequence[str] = ()
    ) -> list[Any]:
        """Draw game ``k`` with its HUD, the side panel and an optional centred message
        (kept off the snake's head); returns the rectangles of the text drawn."""

        def board(surface: Any, area: Area) -> Area:
            return draw_board(surface, area, self.env, k)

        return self.render_frame(surface, board, hud_items(self.env, k, extra), message)


class WindowView(PygameWindow):
    """A resizable window showing one game: HUD on top, board, optional side panel.

    Same arguments as :class:`FrameRenderer`, plus ``cell``, the largest cell in pixels it
    opens with (None: :data:`MAX_CELL`), ``panel_height``, the height the panel needs, the
    window ``title``, ``screen``, the screen's size in pixels (None: ask the display), and
    ``require_screen`` (see :class:`PygameWindow`). The window opens as large as fits the
    screen, up to that cell, and can be resized.
    """

    def __init__(
        self,
        env: Snake,
        cell: int | None = None,
        title: str = "evonet snake",
        panel_width: int = 0,
        panel: Draw | None = None,
        require_screen: bool = False,
        *,
        hud_extra: Sequence[str] = (),
        panel_height: int = 0,
        screen: tuple[int, int] | None = None,
    ) -> None:
        self.frames = FrameRenderer(env, panel_width, panel, hud_extra)
        self.pygame = self.frames.pygame

        def size() -> tuple[int, int]:
            cells = (env.width, env.height)
            room = screen_room(self.pygame, screen)
            return self.frames.fit(cells, room, cell or MAX_CELL, panel_height)[1]

        super().__init__(size, title, require_screen)

    def areas(self) -> tuple[Area, Area, Area]:
        """``(hud, board, panel)`` rectangles for the current window size."""
        return self.frames.areas(self.screen.get_size())

    def draw(
        self, k: int, extra: Sequence[str] = (), message: Sequence[str] = ()
    ) -> list[Any]:
        """Draw game ``k`` with its HUD, the side panel and an optional centred message;
        returns the rectangles of the text drawn."""
        self.screen = self.pygame.display.get_surface()  # resizing replaces the surface
        drawn = self.frames.render(self.screen, k, extra, message)
        self.pygame.display.flip()
        return drawn
