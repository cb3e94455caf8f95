"""A pygame window that shows one game of a :class:`~evonet.games.snake.rules.Snake` batch.

The view only reads game state. Frames can also be drawn offscreen (GIF recording,
Gymnasium's ``rgb_array``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ...ui.window import PygameWindow, import_pygame

if TYPE_CHECKING:  # numba loads only for views that show a game
    from ..engine import Snake

BACKGROUND = (24, 26, 33)
BOARD = (36, 40, 50)
GRID = (46, 51, 63)
BODY = (76, 175, 80)
HEAD = (205, 240, 120)
APPLE = (229, 57, 53)
TEXT = (230, 230, 230)
DIM = (150, 150, 160)
HUD_HEIGHT = 36
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


def draw_hud(
    surface: Any, area: tuple[int, int, int, int], items: Sequence[str], font: Any
) -> None:
    """One line of HUD text, items spaced evenly, in ``area``."""
    x, y, w, h = area
    import_pygame().draw.rect(surface, BACKGROUND, area)
    text = "    ".join(items)
    img = font.render(text, True, TEXT)
    surface.blit(img, (x + 10, y + (h - img.get_height()) // 2))


def hud_items(env: Snake, k: int, extra: Sequence[str] = ()) -> list[str]:
    """The standard HUD: apples, length and steps of game ``k``, plus ``extra``."""
    return [
        f"apples {int(env.apples[k])}",
        f"length {int(env.length[k])}",
        f"steps {int(env.steps[k])}",
        *extra,
    ]


Area = tuple[int, int, int, int]
Panel = Callable[[Any, Area], None]


class FrameRenderer:
    """Draws whole frames (HUD strip, board, optional side panel, message) on any surface.

    Works without a display, so frames can be rendered offscreen (GIF recording) as well as
    into a window.

    Args:
        env: the game batch to show (read only).
        panel_width: width in pixels of a side panel drawn by ``panel`` (0 for none).
        panel: ``panel(surface, area)`` draws the side panel into ``area``.
    """

    def __init__(self, env: Snake, panel_width: int = 0, panel: Panel | None = None) -> None:
        pygame = import_pygame()
        pygame.font.init()
        self.pygame, self.env, self.panel, self.panel_width = pygame, env, panel, panel_width
        self.font = pygame.font.Font(None, 26)
        self.big_font = pygame.font.Font(None, 48)

    def size(self, cell: int) -> tuple[int, int]:
        """Pixel size of a frame with ``cell``-pixel cells."""
        return (self.env.width * cell + self.panel_width, self.env.height * cell + HUD_HEIGHT)

    def areas(self, size: tuple[int, int]) -> tuple[Area, Area, Area]:
        """``(hud, board, panel)`` rectangles of a frame of ``size`` pixels."""
        w, h = size
        panel_w = min(self.panel_width, w // 2) if self.panel_width else 0
        hud = (0, 0, w, HUD_HEIGHT)
        board = (0, HUD_HEIGHT, w - panel_w, max(1, h - HUD_HEIGHT))
        panel = (w - panel_w, HUD_HEIGHT, panel_w, max(1, h - HUD_HEIGHT))
        return hud, board, panel

    def render(
        self, surface: Any, k: int, extra: Sequence[str] = (), message: Sequence[str] = ()
    ) -> None:
        """Draw game ``k`` with its HUD, the side panel and an optional centred message."""
        surface.fill(BACKGROUND)
        hud, board, panel = self.areas(surface.get_size())
        draw_board(surface, board, self.env, k)
        draw_hud(surface, hud, hud_items(self.env, k, extra), self.font)
        if self.panel is not None and panel[2] > 0:
            self.panel(surface, panel)
        if message:
            self._message(surface, board, message)

    def _message(self, surface: Any, area: Area, lines: Sequence[str]) -> None:
        x, y, w, h = area
        shade = self.pygame.Surface((w, h), self.pygame.SRCALPHA)
        shade.fill((0, 0, 0, 150))
        surface.blit(shade, (x, y))
        imgs = [self.big_font.render(lines[0], True, TEXT)]
        imgs += [self.font.render(t, True, DIM) for t in lines[1:]]
        # Shrink any line wider than the board so small windows still show it whole.
        imgs = [
            self.pygame.transform.smoothscale_by(i, (w - 20) / i.get_width())
            if i.get_width() > w - 20
            else i
            for i in imgs
        ]
        total = sum(i.get_height() + 8 for i in imgs)
        cy = y + (h - total) // 2
        for img in imgs:
            surface.blit(img, (x + (w - img.get_width()) // 2, cy))
            cy += img.get_height() + 8


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
        panel: Panel | None = None,
        require_screen: bool = False,
    ) -> None:
        self.frames = FrameRenderer(env, panel_width, panel)
        self.pygame = self.frames.pygame  # fitting_cell reads the screen through it
        super().__init__(lambda: self.frames.size(self.fitting_cell(cell)), title, require_screen)

    def fitting_cell(self, cell: int) -> int:
        """``cell``, or smaller so the whole window fits on the screen (a 64x64 board at 40
        pixels a cell would be 2,560 pixels tall); the window stays resizable."""
        try:
            screen_w, screen_h = self.pygame.display.get_desktop_sizes()[0]
        except (AttributeError, IndexError, self.pygame.error):
            return cell
        if screen_w <= 0 or screen_h <= 0:
            return cell
        env = self.frames.env
        # Leave room for the window's title bar and the desktop's panels.
        fit_w = (int(screen_w * 0.9) - self.frames.panel_width) // env.width
        fit_h = (int(screen_h * 0.85) - HUD_HEIGHT) // env.height
        return max(MIN_CELL, min(cell, fit_w, fit_h))

    def areas(self) -> tuple[Area, Area, Area]:
        """``(hud, board, panel)`` rectangles for the current window size."""
        return self.frames.areas(self.screen.get_size())

    def draw(self, k: int, extra: Sequence[str] = (), message: Sequence[str] = ()) -> None:
        """Draw game ``k`` with its HUD, the side panel and an optional centred message."""
        self.screen = self.pygame.display.get_surface()  # resizing replaces the surface
        self.frames.render(self.screen, k, extra, message)
        self.pygame.display.flip()
