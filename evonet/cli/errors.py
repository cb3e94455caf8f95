"""Bad input as one line: the error every command raises for it, and the views' start-up
failures (no terminal, no screen) turned into it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


@contextmanager
def terminal_errors(hint: str) -> Iterator[None]:
    """Turn "cannot run the terminal view here" (no tty, unusable TERM) into one line."""
    from evonet.games.ui.terminal import NoTerminalError

    try:
        yield
    except NoTerminalError as e:
        raise UsageError(f"the terminal view needs an interactive terminal ({e}); {hint}") from None


@contextmanager
def window_errors(hint: str) -> Iterator[None]:
    """Turn "cannot open a window" failures (no pygame, no display) into one-line errors."""
    from evonet.games.ui.window import NoScreenError

    try:
        yield
    except ImportError as e:
        raise UsageError(str(e)) from None
    except NoScreenError as e:
        raise UsageError(f"{e}; {hint}") from None
    except Exception as e:
        pygame = sys.modules.get("pygame")
        if pygame is not None and isinstance(e, pygame.error):
            raise UsageError(f"cannot open a window ({e}); {hint}") from None
        raise


# evonet.evolution.evaluators.backends.BACKENDS, without importing it
