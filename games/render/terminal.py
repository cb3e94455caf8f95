"""One game of a :class:`games.snake.Snake` batch as text, drawn with curses.

A frame is built as a list of text lines first (:func:`frame_lines`), then drawn, so frames
can be checked without a terminal. curses is imported only when a view is made.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from games.render.keys import KEY_NAMES
from games.snake import Snake

T = TypeVar("T")

HEAD_CHARS = "^>v<"  # by heading: up, right, down, left
BODY_CHAR = "o"
APPLE_CHAR = "@"
EMPTY_CHAR = "."


def frame_lines(
    env: Snake, k: int, extra: Sequence[str] = (), message: Sequence[str] = ()
) -> list[str]:
    """Game ``k`` as text: a HUD line, the bordered board (two columns per cell so cells
    look square), then any message lines.

    The head shows the heading (``^ > v <``), the body ``o``, the apple ``@``.
    """
    grid = [[EMPTY_CHAR] * env.width for _ in range(env.height)]
    apple = env.apple_xy(k)
    if apple is not None:
        grid[apple[1]][apple[0]] = APPLE_CHAR
    cells = env.snake_cells(k)
    for x, y in cells[1:]:
        grid[y][x] = BODY_CHAR
    hx, hy = cells[0]
    grid[hy][hx] = HEAD_CHARS[int(env.heading[k])]
    hud = f"apples {int(env.apples[k])}  length {int(env.length[k])}  steps {int(env.steps[k])}"
    if extra:
        hud += "  " + "  ".join(extra)
    border = "+" + "-" * (2 * env.width + 1) + "+"
    rows = ["| " + " ".join(row) + " |" for row in grid]
    return [hud, border, *rows, border, *message]


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


class TerminalView:
    """Draws frames in a curses screen and reads keys without blocking.

    Use inside :func:`run_curses`: ``run_curses(lambda stdscr: ...TerminalView(stdscr, env))``.
    """

    def __init__(self, stdscr: Any, env: Snake) -> None:
        import curses

        self.curses, self.screen, self.env = curses, stdscr, env
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

    def draw_lines(self, lines: Sequence[str]) -> bool:
        """Draw text lines; if they do not fit, say so instead. Returns whether they fit."""
        self.screen.erase()
        rows, cols = self.screen.getmaxyx()
        need_rows, need_cols = len(lines), max(len(s) for s in lines)
        fits = need_rows <= rows and need_cols < cols
        if not fits:
            msg = [
                "terminal too small",
                f"need {need_cols + 1}x{need_rows}, have {cols}x{rows}",
                "enlarge it or press q",
            ]
            lines = [m[: max(cols - 1, 0)] for m in msg[: max(rows, 0)]]
        for i, line in enumerate(lines):
            try:
                self.screen.addstr(i, 0, line)
            except self.curses.error:
                pass  # writing the very last cell of a screen raises; nothing is lost
        self.screen.refresh()
        return fits

    def draw(self, k: int, extra: Sequence[str] = (), message: Sequence[str] = ()) -> bool:
        """Draw game ``k`` with its HUD and an optional message below the board."""
        return self.draw_lines(frame_lines(self.env, k, extra, message))

    def close(self) -> None:
        """Nothing to do: ``curses.wrapper`` restores the terminal."""

    def poll(self) -> list[str]:
        """Key presses since the last call, as names (see :mod:`games.render.keys`)."""
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
