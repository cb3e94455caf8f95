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
HUD_HEIGHT = 36  # pixels: the HUD strip of one row
BOARD_MARGIN = 6  # pixels around a board, keeping it clear of the panel beside it
MIN_CELL = 4  # pixels: the smallest board cell a window opens with
MIN_SIZE = (360, 240)  # pixels: the smallest window opened, room for the HUD and messages
SCREEN_USE = (0.95, 0.9)  # of the screen's width and height a window opens within
MESSAGE_GAP = "   "  # between the phrases of a message line

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


HUD_GAP = "    "  # between HUD items on a row
HUD_PAD = 10  # pixels: the HUD's left margin, and above and below its rows


def fit_text(font: Any, text: str, width: int) -> str:
    """``text``, or its longest start that fits ``width`` pixels followed by "…"."""
    if font.size(text)[0] <= width:
        return text
    while text and font.size(text + "…")[0] > width:
        text = text[:-1]
    return text.rstrip() + "…"


def hud_rows(items: Sequence[str], font: Any, width: int) -> list[str]:
    """``items`` laid out in rows that fit ``width`` pixels, in order, each item whole on
    one row (shortened with "…" only when it alone is wider than the row)."""
    room = max(1, width - 2 * HUD_PAD)
    rows: list[str] = []
    for item in items:
        joined = rows[-1] + HUD_GAP + item if rows else item
        if rows and font.size(joined)[0] <= room:
            rows[-1] = joined
        else:
            rows.append(fit_text(font, item, room))
    return rows or [""]


def hud_height(rows: int, font: Any) -> int:
    """Pixel height of a HUD strip of ``rows`` rows."""
    return max(HUD_HEIGHT, rows * font.get_linesize() + 2 * HUD_PAD)


def draw_hud(surface: Any, area: Area, items: Sequence[str], font: Any) -> list[Any]:
    """The HUD ``items`` in ``area``, wrapped into as many rows as its width needs, rows
    centred vertically; returns the rectangle of every row drawn (``pygame.Rect``)."""
    x, y, w, h = area
    import_pygame().draw.rect(surface, BACKGROUND, area)
    rows = hud_rows(items, font, w)
    line = font.get_linesize()
    top = y + (h - len(rows) * line) // 2
    drawn = []
    for k, text in enumerate(rows):
        img = font.render(text, True, TEXT)
        drawn.append(surface.blit(img, (x + HUD_PAD, top + k * line)))
    return drawn


class FrameLayout:
    """Draws whole frames on any surface: a HUD strip on top, the board below it, an
    optional side panel right of the board, and an optional message over the board.

    Works without a display, so frames can be rendered offscreen (GIF recording) as well as
    into a window. ``panel(surface, area)`` draws the side panel, ``panel_width`` pixels
    wide (0 for none); a frame too narrow for both shares its width, the board keeping
    ``board_min_width`` pixels. The HUD strip has as many rows as its items need at the
    frame's width, and at least as many as ``hud_sample`` (the longest HUD expected), so
    the board does not jump as the numbers in the HUD grow.
    """

    def __init__(
        self, panel_width: int = 0, panel: Draw | None = None, board_min_width: int = 0
    ) -> None:
        pygame = import_pygame()
        pygame.font.init()
        self.pygame, self.panel, self.panel_width = pygame, panel, panel_width
        self.board_min_width = board_min_width
        self.font = pygame.font.Font(None, 26)
        self.big_font = pygame.font.Font(None, 48)
        self.hud_sample: Sequence[str] = ()
        self._rows = (0, 1)  # (frame width, HUD rows) of the last frame drawn

    def rows_for(self, items: Sequence[str], width: int) -> int:
        """Rows of the HUD strip for ``items`` (and :attr:`hud_sample`) ``width`` wide."""
        rows = len(hud_rows(items, self.font, width))
        return max(rows, len(hud_rows(self.hud_sample, self.font, width)))

    def frame_size(self, board: tuple[int, int]) -> tuple[int, int]:
        """Pixel size of a frame whose board is ``board`` pixels ``(width, height)``."""
        width = max(board[0] + 2 * BOARD_MARGIN + self.panel_width, self.board_min_width)
        top = hud_height(self.rows_for((), width), self.font)
        return width, top + board[1] + 2 * BOARD_MARGIN

    def areas(self, size: tuple[int, int], rows: int | None = None) -> tuple[Area, Area, Area]:
        """``(hud, board, panel)`` rectangles of a frame of ``size`` pixels whose HUD has
        ``rows`` rows (default: as many as the last frame of this width had)."""
        w, h = size
        if rows is None:
            rows = self._rows[1] if self._rows[0] == w else self.rows_for((), w)
        top = hud_height(rows, self.font)
        panel_w = 0
        if self.panel_width:
            panel_w = min(self.panel_width, max(w - self.board_min_width, w // 2))
        body = max(1, h - top)
        return (0, 0, w, top), (0, top, w - panel_w, body), (w - panel_w, top, panel_w, body)

    def render_frame(
        self, surface: Any, board: Draw, hud: Sequence[str], message: Sequence[str] = ()
    ) -> list[Any]:
        """Draw a frame: ``board(surface, area)``, the ``hud`` items, the side panel and an
        optional centred ``message`` (its first line large), kept off the rectangle that
        ``board`` returns (the snake's head), if any. Returns the rectangle of every line of
        text drawn (``pygame.Rect``), HUD rows first."""
        surface.fill(BACKGROUND)
        w = surface.get_width()
        rows = self.rows_for(hud, w)
        if self._rows[0] == w:  # the strip never shrinks at one width
            rows = max(rows, self._rows[1])
        self._rows = (w, rows)
        hud_area, board_area, panel_area = self.areas(surface.get_size(), rows)
        avoid = board(surface, board_area)
        drawn = draw_hud(surface, hud_area, hud, self.font)
        if self.panel is not None and panel_area[2] > 0:
            self.panel(surface, panel_area)
        if message:  # over the board, or the whole frame below the HUD when the board is a strip
            _, top, board_w, body = board_area
            where = board_area if board_w >= MIN_SIZE[0] else (0, top, w, body)
            drawn += self._message(surface, where, message, avoid)
        return drawn

    def fit(
        self, cells: tuple[int, int], room: tuple[int, int], max_cell: int, panel_height: int = 0
    ) -> tuple[int, tuple[int, int]]:
        """The largest square cell, from :data:`MIN_CELL` to ``max_cell`` pixels, at which
        a board of ``cells = (columns, rows)`` with the HUD above it and the panel beside
        it fits ``room`` pixels; returns ``(cell, window size)``. The window is at least
        :data:`MIN_SIZE`, and as tall as ``panel_height`` (the panel's own need) allows."""
        cols, n_rows = cells
        top, edge = hud_height(self.rows_for((), room[0]), self.font), 2 * BOARD_MARGIN
        for _ in range(3):  # a narrower window may need more HUD rows, so a smaller cell
            fit_w = (room[0] - self.panel_width - edge) // cols
            fit_h = (room[1] - top - edge) // n_rows
            cell = max(MIN_CELL, min(max_cell, fit_w, fit_h))
            width = max(MIN_SIZE[0], cols * cell + edge + self.panel_width, self.board_min_width)
            rows = self.rows_for((), width)
            if hud_height(rows, self.font) == top:
                break
            top = hud_height(rows, self.font)
        self._rows = (width, rows)
        body = max(n_rows * cell + edge, min(panel_height, room[1] - top), MIN_SIZE[1] - top)
        return cell, (width, top + body)

    def _message(
        self, surface: Any, area: Area, lines: Sequence[str], avoid: Area | None
    ) -> list[Any]:
        x, y, w, h = area
        shade = self.pygame.Surface((w, h), self.pygame.SRCALPHA)
        shade.fill((0, 0, 0, 150))
        surface.blit(shade, (x, y))
        imgs = self._message_lines(lines, w - 40)
        total = sum(i.get_height() + 8 for i in imgs)
        bw = max(i.get_width() for i in imgs) + 32
        # A dark box behind the text: legible over any picture, a white one included. It
        # sits in the middle, else at the top or bottom: wherever it hides least of ``avoid``.
        boxes = [(x + (w - bw) // 2, top, bw, total + 16)
                 for top in (y + (h - total) // 2 - 12, y + 8, y + h - total - 24)]  # fmt: skip
        box = min(boxes, key=lambda b: _overlap(b, avoid))  # the first of the least
        self.pygame.draw.rect(surface, (15, 16, 22), box, border_radius=8)
        drawn, cy = [], box[1] + 12
        for img in imgs:
            drawn.append(surface.blit(img, (x + (w - img.get_width()) // 2, cy)))
            cy += img.get_height() + 8
        return drawn

    def _message_lines(self, lines: Sequence[str], width: int) -> list[Any]:
        """The message's lines rendered (the first one large), each wrapped to ``width``
        pixels; a single word wider than that is shrunk to fit."""
        imgs = []
        for k, line in enumerate(lines):
            font, colour = (self.big_font, TEXT) if k == 0 else (self.font, DIM)
            for text in wrap_text(font, line, width):
                img = font.render(text, True, colour)
                if img.get_width() > width:
                    img = self.pygame.transform.smoothscale_by(img, width / img.get_width())
                imgs.append(img)
        return imgs


def wrap_text(font: Any, text: str, width: int) -> list[str]:
    """``text`` broken into lines of at most ``width`` pixels: between the phrases it
    separates by three spaces ("r: replay   q: quit") first, else between words."""
    lines: list[str] = []
    for phrase in text.split(MESSAGE_GAP):
        words = phrase.split(" ") if font.size(phrase)[0] > width else [phrase]
        for n, word in enumerate(words):
            gap = " " if n else MESSAGE_GAP
            if lines and font.size(lines[-1] + gap + word)[0] <= width:
                lines[-1] += gap + word
            else:
                lines.append(word)
    return lines


def _overlap(a: Area, b: Area | None) -> int:
    """Pixels that rectangles ``a`` and ``b`` share (none with None)."""
    if b is None:
        return 0
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0, w) * max(0, h)


def screen_room(pygame: Any, screen: tuple[int, int] | None = None) -> tuple[int, int]:
    """The pixels a window opens within: :data:`SCREEN_USE` of ``screen`` (default: the
    first screen's size; 1280x800 when that is unknown), leaving room for the window's
    title bar and the desktop's panels."""
    if screen is None:
        try:
            width, height = pygame.display.get_desktop_sizes()[0]
        except (AttributeError, IndexError, pygame.error):
            width, height = 0, 0
        screen = (width, height) if min(width, height) > 0 else (1280, 800)
    return int(screen[0] * SCREEN_USE[0]), int(screen[1] * SCREEN_USE[1])
