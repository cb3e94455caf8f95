"""The keys every interactive view shares, and the one loop that runs a view's frames.

``evonet watch``, ``evonet play`` and ``evonet train --live`` read the same keys (named by
:mod:`evonet.games.ui.keys`): space pauses, + and - double or halve the speed, h or ?
shows the keys, Esc or q quits. :class:`Controls` holds that state and applies the keys;
what else a key means (a step, a restart, a turn) is the view's own, reported by
:meth:`Controls.press`. :func:`frame` is one frame of any view: read the keys, apply
them, draw (and move on), wait out the frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

SPEED_STEP = 2.0  # + doubles the speed, - halves it, in every view
MIN_FPS, MAX_FPS = 1.0, 240.0  # moves per second while watching or playing
# Short lines: the terminal views show them in 40 columns too.
SHARED_HELP = (
    "space: pause, or go on",
    "+ and -: faster, slower",
    "h or ?: show or hide this help",
)
QUIT_HELP = "Esc or q: quit"


def keys_help(*extra: str, quit: str = QUIT_HELP) -> list[str]:
    """The keys-help text: a title, the shared keys, a view's ``extra`` keys, then how to
    quit (``quit`` where quitting means more, as in training)."""
    return ["keys", SHARED_HELP[0], *extra, *SHARED_HELP[1:], quit]


class View(Protocol):
    """What the loop needs of a window or terminal view."""

    def poll(self) -> list[str]: ...
    def tick(self, fps: float) -> None: ...


@dataclass(frozen=True)
class Press:
    """What one frame's keys asked of the view beyond the shared keys."""

    step: bool = False  # one move, asked for while paused
    restart: bool = False
    others: tuple[str, ...] = ()  # every other key name, in order (directions, ...)


@dataclass
class Controls:
    """The state the shared keys change: paused, speed, help shown, quit.

    ``speed`` is the view's own unit (moves per second; updates per frame in training),
    kept within ``slowest..fastest``; + and - multiply or divide it by :data:`SPEED_STEP`.
    ``pace(speed)`` is the frames per second the loop waits for (the speed itself unless
    given). ``step_keys`` are the keys that make one move while paused.
    """

    speed: float
    slowest: float = MIN_FPS
    fastest: float = MAX_FPS
    step_keys: tuple[str, ...] = ("step",)
    pace: Callable[[float], float] | None = None
    paused: bool = False
    help: bool = False
    quit: bool = False

    @property
    def fps(self) -> float:
        """Frames per second to wait for at the current speed."""
        return self.speed if self.pace is None else self.pace(self.speed)

    def press(self, keys: Sequence[str]) -> Press:
        """Apply ``keys`` (names, oldest first); report the step, restart and other keys."""
        step = restart = False
        others = []
        for key in keys:
            if key == "quit":
                self.quit = True
            elif key == "pause":
                self.paused = not self.paused
            elif key == "faster":
                self.speed = min(self.fastest, self.speed * SPEED_STEP)
            elif key == "slower":
                self.speed = max(self.slowest, self.speed / SPEED_STEP)
            elif key == "help":
                self.help = not self.help
            elif key == "restart":
                restart = True
            else:
                step = step or key in self.step_keys
                others.append(key)
        return Press(step and self.paused, restart, tuple(others))


def frame(view: View, controls: Controls, show: Callable[[Press], object]) -> bool:
    """One frame of an interactive view: read the keys, apply them, ``show(press)`` (draw
    the frame and move on as the keys ask), then wait for the next frame at
    ``controls.fps``. Returns False, having drawn nothing, once a key asked to quit."""
    press = controls.press(view.poll())
    if controls.quit:
        return False
    show(press)
    view.tick(controls.fps)
    return True


def loop(
    view: View, controls: Controls, show: Callable[[Press], object], max_frames: int = -1
) -> None:
    """:func:`frame` after frame until a key quits (or ``max_frames``, for tests)."""
    frames = 0
    while frames != max_frames and frame(view, controls, show):
        frames += 1
