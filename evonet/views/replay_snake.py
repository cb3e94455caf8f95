"""Snake for :class:`evonet.views.replay.Replay`: the engine with a batch of one, drawn
natively (board, HUD and the network panel) in a window, offscreen for a GIF, or as text in
the terminal.

The network panel draws every neuron coloured by its activation at the current step
(orange positive, blue negative, brighter for larger magnitude) and the connections by
weight, and rings the output neuron of the chosen action.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from evonet.text import count
from evonet.views.controls import MIN_FPS
from evonet.views.panel import (
    PANEL_WIDTH,
    Agent,
    label_font,
    network_panel,
    panel_height,
)
from evonet.views.panel import recording_colours as panel_recording_colours
from evonet.views.replay import Replay, watch_loop
from evonet.views.replay import record_gif as replay_gif

if TYPE_CHECKING:  # numba loads when a game is played, not to build the CLI
    from evonet.games.snake import Snake, SnakeSpec

MIN_BOARD_PIXELS = 630  # tall enough for 35 labelled input neurons (18 px each)

SNAKE_COLOURS = 96  # a recording's palette: see record_gif


def cell_size(game: SnakeSpec, cell: int = 40, scale: float = 1.0) -> int:
    """Cell pixels: ``cell``, enlarged on small boards so the network panel stays legible,
    times ``scale``."""
    return max(1, round(scale * max(cell, -(-MIN_BOARD_PIXELS // game.height))))


class SingleSnake:
    """One Snake game, move by move (a :class:`evonet.views.replay.SingleGame`): the
    engine with a batch of one, ``env``, which the views draw from."""

    def __init__(self, spec: SnakeSpec) -> None:
        self.spec = spec
        self.env: Snake = spec.make(1)

    def reset(self, seed: int) -> np.ndarray:
        obs, _ = self.env.reset(seed=np.array([seed], dtype=np.uint64))
        return obs[0]

    def step(self, action: Any) -> np.ndarray:
        obs, *_ = self.env.step(np.array([action]))
        return obs[0]

    @property
    def over(self) -> bool:
        return bool(self.env.done[0])

    @property
    def steps(self) -> int:
        return int(self.env.steps[0])

    @property
    def score(self) -> int:
        return int(self.env.apples[0])

    def result(self) -> str:
        return count(self.score, "apple") + (" - board full!" if self.env.won[0] else "")

    def summary(self, scores: Sequence[float]) -> str:
        mean = np.mean(scores) if scores else 0.0
        return f"{count(len(scores), 'game')}, mean {mean:.1f} apples"


def snake_replay(
    agent: Agent, game: SnakeSpec, episodes: int, seed: int, max_steps: int | None = None
) -> Replay:
    """The games of ``game`` that ``agent`` plays (see :class:`Replay`)."""
    return Replay(agent, SingleSnake(game), episodes, seed, max_steps)


class SnakePictures:
    """The watched game with its HUD and network panel, drawn offscreen: a GIF's frames."""

    def __init__(self, replay: Replay, cell: int = 32) -> None:
        from evonet.games.snake.render.window import FrameRenderer

        self.replay = replay
        self.renderer = FrameRenderer(replay.game.env, PANEL_WIDTH, None)
        pygame = self.pygame = self.renderer.pygame
        self.renderer.panel = network_panel(replay.agent, pygame, label_font(pygame))
        self.surface = pygame.Surface(self.renderer.size(cell_size(replay.game.spec, cell)))

    def __call__(self) -> np.ndarray:
        """The current state as packed pixels ``(H, W)`` uint32, RGBX bytes (a
        :data:`evonet.views.gif.Frame`'s picture)."""
        self.renderer.render(self.surface, 0, self.replay.hud())
        w, h = self.surface.get_size()
        data = self.pygame.image.tobytes(self.surface, "RGBX")
        return np.frombuffer(data, dtype="<u4").reshape(h, w)


def record_gif(
    agent: Agent,
    game: SnakeSpec,
    episodes: int,
    seed: int,
    path: str | os.PathLike,
    fps: float = 12.0,
    cell: int = 32,
    max_steps: int = 5000,
    scale: float = 1.0,
    on_frame: Callable[[int, int], object] | None = None,
) -> int:
    """Record ``episodes`` games into an animated GIF of the board, HUD and network panel;
    returns the frame count: ``s + 1`` for a game of ``s`` moves, at most
    ``max_steps + 1`` (:func:`evonet.views.replay.record_gif`). Needs no screen."""
    if max_steps < 0:
        raise ValueError(f"bad recording settings: {max_steps=}")
    replay = snake_replay(agent, game, episodes, seed, max_steps)
    pictures = SnakePictures(replay, cell)
    # Board, HUD and panel are flat colours, each kept exactly (the panel's shades among
    # them, thanks to the ramp); the rest of the palette goes to the text's edges.
    return replay_gif(
        replay, pictures, path, fps, scale, recording_colours(), on_frame, SNAKE_COLOURS
    )


def recording_colours() -> np.ndarray:
    """The colours a recording's palette keeps exactly ``(k, 3)`` uint8: every activation
    colour, and the flat colours of the board, snake, apple, HUD and panel."""
    from evonet.games.snake.render import window

    flat = (window.BOARD, window.GRID, window.BODY, window.HEAD, window.APPLE)
    return panel_recording_colours(*flat)


def frame_counts(
    agent: Agent, game: SnakeSpec, episodes: int, seed: int, max_steps: int = 5000
) -> np.ndarray:
    """Frames per game ``(episodes,)`` that :func:`record_gif` writes with these settings."""
    return snake_replay(agent, game, episodes, seed, max_steps).frame_counts()


def open_window(
    agent: Agent,
    game: SnakeSpec,
    episodes: int,
    seed: int,
    scale: float = 1.0,
    screen: tuple[int, int] | None = None,
) -> tuple[Any, Replay]:
    """A pygame window with the network panel, and the games to show in it. It opens as
    large as fits ``screen`` (default: the display's), tall enough for the panel's labels;
    ``scale`` sizes the board's cells (the panel keeps its width, for its labels). The
    window can be resized.

    Raises :class:`evonet.games.ui.window.NoScreenError` when there is no display.
    """
    from evonet.games.snake.render.window import MAX_CELL, WindowView

    replay = snake_replay(agent, game, episodes, seed)
    view = WindowView(
        replay.game.env,
        cell=max(1, round(MAX_CELL * scale)),
        title="evonet watch",
        panel_width=PANEL_WIDTH,
        require_screen=True,
        hud_extra=hud_extra(episodes),
        panel_height=panel_height(agent.topo),
        screen=screen,
    )
    view.frames.panel = network_panel(agent, view.pygame, label_font(view.pygame))
    return view, replay


def hud_extra(episodes: int) -> tuple[str, ...]:
    """The longest items a watched game's HUD adds to the game's own (see
    :func:`evonet.views.replay.watch_loop`)."""
    return f"episode {episodes}/{episodes}", f"{MIN_FPS:.3g} fps", "paused", "h: keys"


def run_terminal(
    agent: Agent, game: SnakeSpec, episodes: int, seed: int, fps: float
) -> list[float]:
    """Watch in the terminal (curses), without the network panel.

    Raises :class:`evonet.games.ui.terminal.NoTerminalError` when there is no usable terminal.
    """
    from evonet.games.snake.render.terminal import TerminalView
    from evonet.games.ui.terminal import run_curses

    def main(stdscr: Any) -> list[float]:
        replay = snake_replay(agent, game, episodes, seed)
        return watch_loop(TerminalView(stdscr, replay.game.env), replay, fps)

    return run_curses(main)
