"""A pygame window that shows one game of a :class:`games.snake.Snake` batch.

The view only reads game state. pygame is imported when a window is made, never on import
of this module, so headless use does not need it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from games.render.keys import KEY_NAMES

if TYPE_CHECKING:  # numba loads only for views that show a game
    from games.snake import Snake

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


def import_pygame() -> Any:
    """pygame, or an ImportError that says which package to install."""
    try:
        import os

        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the window view needs pygame: install it with 'pip install pygame' "
            "(or use --render terminal)"
        ) from e
    return pygame


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


class NoScreenError(RuntimeError):
    """There is no display to show a window on."""


HEADLESS_DRIVERS = ("offscreen", "dummy")


@contextmanager
def sdl_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at the null device for the duration, restoring it after.

    While its video starts, SDL writes its own complaints straight to fd 2 (without a
    display: "error: XDG_RUNTIME_DIR is invalid or not set in the environment."), which
    would stand above the one-line error the caller reports. Failures still surface as
    exceptions (pygame.error, :class:`NoScreenError`).
    """
    sys.stderr.flush()  # what Python already wrote goes to the real stderr first
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to keep clean
        yield
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 2)
        finally:
            os.close(null)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def check_screen(pygame: Any | None = None) -> None:
    """Raise :class:`NoScreenError` when SDL could only open an invisible window (there is
    no display), unless ``SDL_VIDEODRIVER`` asked for one. Leaves the display initialised
    otherwise."""
    pygame = pygame or import_pygame()
    with sdl_stderr_silenced():
        pygame.display.init()
        driver = pygame.display.get_driver()
    if driver in HEADLESS_DRIVERS and "SDL_VIDEODRIVER" not in os.environ:
        # Without a display SDL quietly falls back to an invisible window; a person would
        # stare at nothing, so say so instead.
        pygame.display.quit()
        raise NoScreenError(f"no screen to open a window on (SDL chose {driver!r})")


def poll_keys(pygame: Any) -> list[str]:
    """Key presses waiting in pygame's event queue, as names (see
    :mod:`games.render.keys`); closing the window is ``quit``."""
    keys = []
    for event in pygame.event.get():
        if event.type == pygame.QUIT:
            keys.append("quit")
        elif event.type == pygame.KEYDOWN:
            name = KEY_NAMES.get(pygame.key.name(event.key)) or KEY_NAMES.get(event.unicode)
            if name:
                keys.append(name)
    return keys


class PygameWindow:
    """A resizable pygame window that reports keys by name and paces frames.

    ``size()`` gives the initial size once the display is up (so it can measure the
    screen). With ``require_screen``, raise :class:`NoScreenError` when SDL could only open
    an invisible window (no display), unless ``SDL_VIDEODRIVER`` asked for one.
    """

    def __init__(
        self, size: Callable[[], tuple[int, int]], title: str, require_screen: bool = False
    ) -> None:
        pygame = self.pygame = import_pygame()
        with sdl_stderr_silenced():
            if require_screen:
                check_screen(pygame)
            pygame.display.init()
            self.screen = pygame.display.set_mode(size(), pygame.RESIZABLE)
        pygame.display.set_caption(title)
        self.clock = pygame.time.Clock()
        self.closed = False

    def poll(self) -> list[str]:
        """Key presses since the last call, as names (see :mod:`games.render.keys`)."""
        return poll_keys(self.pygame)

    def tick(self, fps: float) -> None:
        """Wait so that frames come at ``fps`` per second."""
        self.clock.tick(fps)

    def close(self) -> None:
        if not self.closed:
            self.pygame.display.quit()
            self.closed = True

    def __enter__(self) -> PygameWindow:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
