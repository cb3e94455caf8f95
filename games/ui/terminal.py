"""A curses screen that reads keys without blocking, paces frames and draws coloured text:
what terminal views build on. curses is imported only when a screen is made.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .keys import KEY_NAMES

T = TypeVar("T")


class NoTerminalError(RuntimeError):
    """The terminal view cannot run here; the message says why (e.g. stdin is not a tty)."""


def check_terminal() -> None:
    """Raise :class:`NoTerminalError` unless stdin and stdout are a terminal that curses can
    draw on: both ttys, ``TERM`` set to a known type that can move the cursor.

    Without this, curses fails deep inside its start-up with an unhelpful ``_curses.error``.
    """
    for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout)):
        try:
            tty = stream is not None and stream.isatty()
        except (AttributeError, ValueError, OSError):  # closed or replaced stream
            tty = False
        if not tty:
            raise NoTerminalError(f"{name} is not a tty")
    term = os.environ.get("TERM", "")
    if not term:
        raise NoTerminalError("TERM is not set")
    import curses

    try:
        curses.setupterm(term, sys.stdout.fileno())
    except curses.error:
        raise NoTerminalError(f"unknown terminal type TERM={term}") from None
    if not curses.tigetstr("cup"):  # "dumb" terminals and the like cannot address cells
        raise NoTerminalError(f"TERM={term} cannot move the cursor")


def run_curses(main: Callable[[Any], T]) -> T:
    """``curses.wrapper(main)`` after :func:`check_terminal`.

    A ``curses.error`` while curses starts (before ``main`` runs) becomes
    :class:`NoTerminalError`; errors from ``main`` itself pass through.
    """
    check_terminal()
    import curses

    started = False

    def run(stdscr: Any) -> T:
        nonlocal started
        started = True
        return main(stdscr)

    try:
        return curses.wrapper(run)
    except curses.error as e:
        if started:
            raise
        raise NoTerminalError(f"curses could not start: {e}") from None


Segment = tuple[str, str | None]  # text and its colour key (None: the terminal's own)


class CursesScreen:
    """A curses screen that reads keys without blocking, paces frames, and draws lines of
    coloured segments where the terminal has colours (and plain text where it has none).

    ``palette`` maps colour keys to curses colour names, e.g. ``{"*": "RED"}``.
    """

    def __init__(self, stdscr: Any, palette: dict[str, str]) -> None:
        import curses

        self.curses, self.screen = curses, stdscr
        try:
            curses.curs_set(0)
        except curses.error:
            pass  # a terminal that cannot hide its cursor still works
        stdscr.nodelay(True)
        stdscr.keypad(True)
        self.special = {
            curses.KEY_UP: "up",
            curses.KEY_DOWN: "down",
            curses.KEY_LEFT: "left",
            curses.KEY_RIGHT: "right",
            27: "quit",  # Esc
        }
        self._last = time.monotonic()
        self.colours = self._start_colours(palette)

    def _start_colours(self, palette: dict[str, str]) -> dict[str, int]:
        """Curses attributes per colour key, or {} when the terminal has no colours."""
        curses = self.curses
        try:
            if not curses.has_colors():
                return {}
            curses.start_color()
            try:
                curses.use_default_colors()  # keep the terminal's own background
                background = -1
            except curses.error:
                background = curses.COLOR_BLACK
            for n, name in enumerate(palette.values(), start=1):
                curses.init_pair(n, getattr(curses, f"COLOR_{name}"), background)
        except curses.error:
            return {}
        return {key: curses.color_pair(n) | curses.A_BOLD
                for n, key in enumerate(palette, start=1)}  # fmt: skip

    def write(self, lines: Sequence[Sequence[Segment]]) -> None:
        """Draw lines of segments from the top left, each coloured by its key."""
        self.screen.erase()
        for i, line in enumerate(lines):
            x = 0
            for text, kind in line:
                try:
                    self.screen.addstr(i, x, text, self.colours.get(kind, 0) if kind else 0)
                except self.curses.error:
                    pass  # writing the very last cell of a screen raises; nothing is lost
                x += len(text)
        self.screen.refresh()

    def poll(self) -> list[str]:
        """Key presses since the last call, as names (see :mod:`evonet.games.ui.keys`)."""
        keys = []
        while True:
            ch = self.screen.getch()
            if ch == -1:
                return keys
            name = self.special.get(ch)
            if name is None and 0 <= ch < 256:
                name = KEY_NAMES.get(chr(ch).lower())
            if name:
                keys.append(name)

    def tick(self, fps: float) -> None:
        """Sleep the rest of this frame so frames come at ``fps`` per second."""
        delay = 1.0 / fps - (time.monotonic() - self._last)
        if delay > 0:
            time.sleep(delay)
        self._last = time.monotonic()
