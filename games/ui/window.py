"""A resizable pygame window that reports keys by name, and the frames game views draw in
it (a HUD strip, the board, an optional side panel, a message over the board).

pygame is imported when a window is made, never on import of this module, so headless use
does not need it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .keys import KEY_NAMES


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


BACKGROUND = (24, 26, 33)
TEXT = (230, 230, 230)
DIM = (150, 150, 160)
HUD_HEIGHT = 36

Area = tuple[int, int, int, int]  # x, y, width, height in pixels
Draw = Callable[[Any, Area], None]  # draws into ``area`` of a surface


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
    :mod:`evonet.games.ui.keys`); closing the window is ``quit``."""
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
        """Key presses since the last call, as names (see :mod:`evonet.games.ui.keys`)."""
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


def draw_hud(surface: Any, area: Area, items: Sequence[str], font: Any) -> None:
    """One line of HUD text, items spaced evenly, in ``area``."""
    x, y, w, h = area
    import_pygame().draw.rect(surface, BACKGROUND, area)
    text = "    ".join(items)
    img = font.render(text, True, TEXT)
    surface.blit(img, (x + 10, y + (h - img.get_height()) // 2))


class FrameLayout:
    """Draws whole frames on any surface: a HUD strip on top, the board below it, an
    optional side panel right of the board, and an optional message over the board.

    Works without a display, so frames can be rendered offscreen (GIF recording) as well as
    into a window. ``panel(surface, area)`` draws the side panel, ``panel_width`` pixels
    wide (0 for none).
    """

    def __init__(self, panel_width: int = 0, panel: Draw | None = None) -> None:
        pygame = import_pygame()
        pygame.font.init()
        self.pygame, self.panel, self.panel_width = pygame, panel, panel_width
        self.font = pygame.font.Font(None, 26)
        self.big_font = pygame.font.Font(None, 48)

    def frame_size(self, board: tuple[int, int]) -> tuple[int, int]:
        """Pixel size of a frame whose board is ``board`` pixels ``(width, height)``."""
        return board[0] + self.panel_width, board[1] + HUD_HEIGHT

    def areas(self, size: tuple[int, int]) -> tuple[Area, Area, Area]:
        """``(hud, board, panel)`` rectangles of a frame of ``size`` pixels."""
        w, h = size
        panel_w = min(self.panel_width, w // 2) if self.panel_width else 0
        hud = (0, 0, w, HUD_HEIGHT)
        board = (0, HUD_HEIGHT, w - panel_w, max(1, h - HUD_HEIGHT))
        panel = (w - panel_w, HUD_HEIGHT, panel_w, max(1, h - HUD_HEIGHT))
        return hud, board, panel

    def render_frame(
        self, surface: Any, board: Draw, hud: Sequence[str], message: Sequence[str] = ()
    ) -> None:
        """Draw a frame: ``board(surface, area)``, the ``hud`` items, the side panel and an
        optional centred ``message`` (its first line large)."""
        surface.fill(BACKGROUND)
        hud_area, board_area, panel_area = self.areas(surface.get_size())
        board(surface, board_area)
        draw_hud(surface, hud_area, hud, self.font)
        if self.panel is not None and panel_area[2] > 0:
            self.panel(surface, panel_area)
        if message:
            self._message(surface, board_area, message)

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
        # A dark box behind the text: legible over any picture, a white one included.
        bw = max(i.get_width() for i in imgs) + 32
        box = (x + (w - bw) // 2, cy - 12, bw, total + 16)
        self.pygame.draw.rect(surface, (15, 16, 22), box, border_radius=8)
        for img in imgs:
            surface.blit(img, (x + (w - img.get_width()) // 2, cy))
            cy += img.get_height() + 8


def screen_fraction(pygame: Any, width: float, height: float) -> tuple[int, int] | None:
    """``width`` and ``height`` fractions of the first screen in pixels, or None when the
    screen's size is unknown."""
    try:
        screen_w, screen_h = pygame.display.get_desktop_sizes()[0]
    except (AttributeError, IndexError, pygame.error):
        return None
    if screen_w <= 0 or screen_h <= 0:
        return None
    return int(screen_w * width), int(screen_h * height)
