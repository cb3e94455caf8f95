"""The arrow keys as Snake moves: a person presses a direction, the snake turns towards it."""

from __future__ import annotations

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
