"""A resizable pygame window that reports keys by name: what game views build on.

pygame is imported when a window is made, never on import of this module, so headless use
does not need it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
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
