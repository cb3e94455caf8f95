"""Snake: the rule book and its compiled rules (:mod:`.rules`), the batched engine
(:mod:`.engine`), the registry's spec (:mod:`.spec`), views (:mod:`.render`) and Gymnasium
(:mod:`.gym_env`).

The public names below import from here (``from evonet.games.snake import Snake``), each
from its module on first use: the views import this package too, and must not load numba,
which the rules need, unless a game is played.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_PUBLIC = {
    ".engine": ("Snake", "warm_up"),
    ".spec": ("SnakeSpec",),
    ".rules": (
        "FEATURE_BLOCKS",
        "FEATURE_NAMES",
        "LAYOUTS",
        "N_OBS",
        "check_board",
        "check_settings",
    ),
}
_MODULE_OF = {name: module for module, names in _PUBLIC.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_MODULE_OF[name], __name__), name)
