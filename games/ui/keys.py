"""Key names shared by the views, so game loops never see a toolkit's key codes.

Names: ``up``, ``down``, ``left``, ``right`` (arrows or WASD), ``quit`` (Esc or q),
``pause`` (space), ``step`` (n), ``restart`` (r), ``faster`` (+ or =), ``slower`` (-),
``help`` (h or ?).
"""

from __future__ import annotations

# Keyed by pygame.key.name() / the printable character.
KEY_NAMES: dict[str, str] = {
    "up": "up", "w": "up",
    "down": "down", "s": "down",
    "left": "left", "a": "left",
    "right": "right", "d": "right",
    "escape": "quit", "q": "quit",
    "space": "pause", " ": "pause",
    "n": "step",
    "r": "restart",
    "h": "help", "?": "help",
    "+": "faster", "=": "faster", "[+]": "faster",
    "-": "slower", "[-]": "slower",
}  # fmt: skip
