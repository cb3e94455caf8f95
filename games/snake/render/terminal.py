"""One game of a :class:`~evonet.games.snake.rules.Snake` batch as text, drawn with curses.

A frame is built as a list of text lines first (:func:`frame_lines`), then drawn, so frames
can be checked without a terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...ui.terminal import CursesScreen

if TYPE_CHECKING:  # numba loads only for views that show a game
    from ..engine import Snake

HEAD_CHARS = "^>v<"  # by heading: up, right, down, left
BODY_CHAR = "o"
APPLE_CHAR = "*"  # not "@": in terminal games that is the player
EMPTY_CHAR = "."


def frame_lines(
    env: Snake,
    k: int,
    extra: Sequence[str] = (),
    message: Sequence[str] = (),
    fit: tuple[int, int] | None = None,
) -> list[str]:
    """Game ``k`` as text: the HUD, the bordered board, then any message lines.

    The head shows the heading (``^ > v <``), the body ``o``, the apple ``*``. Cells are two
    columns wide so they look square. Given ``fit = (columns, rows)`` of a terminal, the
    ``extra`` HUD items go on a second line if one is too narrow for them, and a board too
    big for it is drawn one column per cell, and if that is still too big, one character
    per block of cells (the block's head, else apple, else body), so any board fits a
    usual terminal; the bottom border says the scale.
    """
    cols, rows = fit if fit is not None else (10**9, 10**9)
    cols = cols - 1  # the last column: writing there can scroll some terminals
    hud = [f"apples {int(env.apples[k])}  length {int(env.length[k])}  steps {int(env.steps[k])}"]
    if extra:
        more = "  ".join(extra)
        if len(hud[0]) + 2 + len(more) <= cols:
            hud[0] += "  " + more
        else:
            hud.append(more)
    w, h = env.width, env.height
    rows = rows - len(hud) - 2 - len(message)  # the HUD, the borders, the message
    bx = by = 1
    spaced = 2 * w + 3 <= cols and h <= rows
    if not spaced and not (w + 2 <= cols and h <= rows):
        bx, by = -(-w // max(cols - 2, 1)), -(-h // max(rows, 1))  # ceiling division
    grid = board_chars(env, k, bx, by)
    inner = [(" ".join(row) if spaced else "".join(row)) for row in grid]
    pad = " " if spaced else ""
    border = "+" + "-" * (len(inner[0]) + 2 * len(pad)) + "+"
    bottom = border
    if bx * by > 1:  # say the scale in the bottom border, or else in the HUD
        scale = f" 1 char = {bx}x{by} cells "
        if len(scale) + 2 <= len(border) - 2:
            bottom = border[:2] + scale + border[2 + len(scale) :]
        else:
            hud[-1] += f"  ({scale.strip()})"
    board = [f"|{pad}{row}{pad}|" for row in inner]
    if fit is not None:
        hud = [line[: max(cols, 0)] for line in hud]
    return [*hud, border, *board, bottom, *message]


# Colours of the board's characters, where the terminal has colours.
SNAKE, APPLE = "snake", "apple"
CHAR_KIND = {**dict.fromkeys(HEAD_CHARS + BODY_CHAR, SNAKE), APPLE_CHAR: APPLE}


def colour_runs(line: str) -> list[tuple[str, str | None]]:
    """A frame line cut into ``(text, kind)`` runs: kind :data:`SNAKE`, :data:`APPLE`, or
    None for the rest. Only board rows (``|...|``) have coloured runs."""
    if not line.startswith("|"):
        return [(line, None)]
    runs: list[tuple[str, str | None]] = []
    for ch in line:
        kind = CHAR_KIND.get(ch)
        if runs and runs[-1][1] == kind:
            runs[-1] = (runs[-1][0] + ch, kind)
        else:
            runs.append((ch, kind))
    return runs


def board_chars(env: Snake, k: int, bx: int = 1, by: int = 1) -> list[list[str]]:
    """Game ``k``'s board as rows of characters, one per block of ``bx x by`` cells: the
    head if the block holds it, else the apple, else body, else empty."""
    rank = {EMPTY_CHAR: 0, BODY_CHAR: 1, APPLE_CHAR: 2}
    grid = [[EMPTY_CHAR] * -(-env.width // bx) for _ in range(-(-env.height // by))]

    def put(x: int, y: int, char: str) -> None:
        row = grid[y // by]
        if rank.get(row[x // bx], 3) < rank.get(char, 3):
            row[x // bx] = char

    cells = env.snake_cells(k)
    for x, y in cells[1:]:
        put(int(x), int(y), BODY_CHAR)
    apple = env.apple_xy(k)
    if apple is not None:
        put(apple[0], apple[1], APPLE_CHAR)
    hx, hy = cells[0]
    put(int(hx), int(hy), HEAD_CHARS[int(env.heading[k])])
    return grid


class TerminalView(CursesScreen):
    """Draws frames of a game in a curses screen and reads keys without blocking.

    Use inside :func:`run_curses`: ``run_curses(lambda stdscr: ...TerminalView(stdscr, env))``.
    """

    def __init__(self, stdscr: Any, env: Snake) -> None:
        # The snake green and the apple red, when the terminal has colours (without them,
        # the characters alone tell them apart).
        super().__init__(stdscr, {SNAKE: "GREEN", APPLE: "RED"})
        self.env = env

    def draw_lines(self, lines: Sequence[str]) -> bool:
        """Draw text lines; if they do not fit, say so instead. Returns whether they fit."""
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
        self.write([colour_runs(line) if self.colours else [(line, None)] for line in lines])
        return fits

    def draw(self, k: int, extra: Sequence[str] = (), message: Sequence[str] = ()) -> bool:
        """Draw game ``k`` with its HUD and an optional message below the board."""
        rows, cols = self.screen.getmaxyx()
        return self.draw_lines(frame_lines(self.env, k, extra, message, fit=(cols, rows)))

    def close(self) -> None:
        """Nothing to do: ``curses.wrapper`` restores the terminal."""
