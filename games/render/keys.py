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

# Absolute headings of the direction keys (0 up, 1 right, 2 down, 3 left).
DIRECTION_HEADING = {"up": 0, "right": 1, "down": 2, "left": 3}


def relative_action(heading: int, key: str | None) -> int:
    """The relative action (0 left, 1 straight, 2 right) that turns ``heading`` towards the
    direction key ``key``. No key, a non-direction key or a reversal keeps going straight."""
    want = DIRECTION_HEADING.get(key or "")
    if want is None:
        return 1
    turn = (want - heading) % 4
    return {0: 1, 1: 2, 3: 0}.get(turn, 1)
