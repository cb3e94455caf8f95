"""Snake for evonet's registry: :class:`SnakeSpec`, the settings of a run's Snake games and
the maker of their batches."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from ..base import Discrete, GameSpec
from .engine import Snake, warm_up
from .rules import ACTION_NAMES, FEATURE_NAMES, LAYOUT, LAYOUTS, ROOM, check_settings, whole

# A run on a board with more cells first learns on this one (SnakeSpec.easier): its games
# are short, and the observations are scale-free, so what it learns carries over.
CURRICULUM_BOARD = (10, 10)


@dataclass(frozen=True)
class SnakeSpec(GameSpec):
    """Snake on a ``board = (width, height)`` with a ``hunger`` limit (0: width * height)
    and an ``observation`` layout; the rule book is :mod:`games.snake.rules`. With
    ``shield``, networks never take a move into death while another move lives
    (:meth:`GameSpec.actions`; the room features, 0.0 exactly for such a move, say which):
    a setting of the player, not of the rules.

    The registry's maker for ``snake``: ``games.base.make("snake", board=(8, 8))``.
    """

    name: str = "snake"
    board: tuple[int, int] = (10, 10)
    hunger: int = 0
    observation: int = LAYOUT
    shield: bool = False

    action_space: ClassVar[Discrete] = Discrete(3)
    score_name: ClassVar[str] = "apples"
    can_win: ClassVar[bool] = True
    win_name: ClassVar[str] = "full board"
    action_names: ClassVar[tuple[str, ...]] = ACTION_NAMES
    fitness_doc: ClassVar[str] = (
        "apples + s / (s + cells) per episode, s the useful steps survived (higher is better)"
    )

    def __post_init__(self) -> None:
        board = self.board
        if not (isinstance(board, (tuple, list)) and len(board) == 2 and all(map(whole, board))):
            raise ValueError(f"board must be two whole numbers (width, height), got {board!r}")
        object.__setattr__(self, "board", (int(board[0]), int(board[1])))
        # The settings' hunger 0 is the default, which the check takes as None.
        default = whole(self.hunger) and self.hunger == 0
        check_settings(*self.board, None if default else self.hunger, self.observation)
        if not isinstance(self.shield, bool):
            raise ValueError(f"shield must be true or false, got {self.shield!r}")
        if self.shield and LAYOUTS[self.observation] <= ROOM:
            raise ValueError(
                "the shield reads the room features: it needs observation layout 2 or 3, "
                f"not {self.observation}"
            )

    @property
    def n_obs(self) -> int:  # type: ignore[override]
        return LAYOUTS[self.observation]

    @property
    def input_labels(self) -> tuple[str, ...]:  # type: ignore[override]
        return FEATURE_NAMES[: self.n_obs]

    @property
    def width(self) -> int:
        return self.board[0]

    @property
    def height(self) -> int:
        return self.board[1]

    @property
    def compiled_play(self) -> bool:
        return True

    @property
    def shield_at(self) -> int:
        return ROOM if self.shield else -1

    def make(self, n_games: int) -> Snake:
        return Snake(n_games, self.width, self.height, self.hunger or None, self.observation)

    def memory_bytes(self, n_games: int) -> int:
        return Snake.memory_bytes(n_games, self.width, self.height)

    def describe(self) -> str:
        layout = "" if self.observation == LAYOUT else f" (observation layout {self.observation})"
        shield = ", shielded" if self.shield else ""
        return f"snake {self.width}x{self.height}{layout}{shield}"

    def info(self) -> dict:
        shield = {"shield": True} if self.shield else {}
        board = list(self.board)
        return {"board": board, "hunger": self.hunger, "observation": self.observation, **shield}

    def easier(self) -> SnakeSpec | None:
        """Snake on :data:`CURRICULUM_BOARD` (10x10) when this board has more cells, else
        None; a hunger limit that was set keeps its share of the board's cells."""
        w, h = CURRICULUM_BOARD
        cells = self.width * self.height
        if cells <= w * h:
            return None
        hunger = max(1, self.hunger * w * h // cells) if self.hunger else 0
        return replace(self, board=CURRICULUM_BOARD, hunger=hunger)

    def warm_up(self) -> str:
        seconds, compiled = warm_up()
        if compiled:
            return (
                f"compiled the Snake engine in {seconds:.1f} s (once after an install; "
                "later runs load it from the cache)"
            )
        return f"loaded the compiled Snake engine in {seconds:.1f} s"
