"""Gymnasium environments for :class:`evonet.views.replay.Replay`: one environment made
with ``render_mode="rgb_array"``, its pictures shown in evonet's window beside the network
panel, or written into a GIF.

Episode ``i`` is reset with seed ``i`` of ``episode_seeds(seed, episodes)`` on the one
environment, and its actions come from the network's outputs as in evolution
(:func:`evonet.games.base.actions_from_outputs`): an episode's return depends only on its
seed and the network, in the window and in a recording alike.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from evonet.games.gym import GymSpec, import_gymnasium
from evonet.games.ui.window import (
    HUD_HEIGHT,
    Area,
    FrameLayout,
    PygameWindow,
    screen_room,
    sdl_stderr_silenced,
)
from evonet.text import count
from evonet.views.panel import (
    PANEL_WIDTH,
    Agent,
    label_font,
    network_panel,
    panel_height,
    recording_colours,
)
from evonet.views.replay import Replay
from evonet.views.replay import record_gif as replay_gif


class SingleGym:
    """One Gymnasium environment, move by move (a :class:`evonet.views.replay.SingleGame`).

    With ``pictures``, :meth:`picture` gives the environment's ``rgb_array`` frames;
    without, nothing is drawn (predicting a recording's length).
    """

    def __init__(self, spec: GymSpec, pictures: bool = True) -> None:
        self.spec = spec
        mode = "rgb_array" if pictures else None
        self.env = import_gymnasium().make(spec.env_id, render_mode=mode)
        self.total, self._steps, self._over = 0.0, 0, False
        self._drawn = False

    def reset(self, seed: int) -> np.ndarray:
        obs, _ = self.env.reset(seed=int(seed))
        self.total, self._steps, self._over = 0.0, 0, False
        return np.asarray(obs, dtype=np.float32)

    def step(self, action: Any) -> np.ndarray:
        obs, reward, term, trunc, _ = self.env.step(self.spec.to_env_action(action))
        self.total += float(reward)
        self._steps += 1
        self._over = bool(term or trunc)
        return np.asarray(obs, dtype=np.float32)

    def picture(self) -> np.ndarray:
        """The environment's current frame ``(H, W, 3)`` uint8."""
        if self._drawn:
            return np.asarray(self.env.render())[..., :3]
        # The first render starts pygame, whose video start-up writes its own complaints
        # to stderr where there is no display; a recording needs none.
        with sdl_stderr_silenced():
            picture = np.asarray(self.env.render())[..., :3]
        self._drawn = True
        return picture

    @property
    def over(self) -> bool:
        return self._over

    @property
    def steps(self) -> int:
        return self._steps

    @property
    def score(self) -> float:
        return self.total

    def result(self) -> str:
        return f"return {self.total:.1f}"

    def summary(self, scores: Sequence[float]) -> str:
        mean = np.mean(scores) if scores else 0.0
        return f"{count(len(scores), 'episode')}, mean return {mean:.1f}"

    def close(self) -> None:
        self.env.close()


def gym_replay(
    agent: Agent,
    game: GymSpec,
    episodes: int,
    seed: int,
    max_steps: int | None = None,
    pictures: bool = True,
) -> Replay:
    """The episodes of ``game`` that ``agent`` plays (see :class:`Replay`)."""
    return Replay(agent, SingleGym(game, pictures), episodes, seed, max_steps)


def fit_picture(size: tuple[int, int], area: Area) -> Area:
    """The largest rectangle of ``size``'s shape ``(w, h)`` centred in ``area``."""
    x, y, w, h = area
    k = min(w / size[0], h / size[1])
    fw, fh = max(1, int(size[0] * k)), max(1, int(size[1] * k))
    return x + (w - fw) // 2, y + (h - fh) // 2, fw, fh


def draw_frame(
    frames: FrameLayout,
    surface: Any,
    game: SingleGym,
    extra: Sequence[str] = (),
    message: Sequence[str] = (),
    rgb: np.ndarray | None = None,
) -> None:
    """One frame on ``surface``: the HUD (return, steps, ``extra``), ``game``'s current
    picture ``(H, W, 3)`` (``rgb``, or drawn now) scaled into the board area, the panel
    beside it and an optional message."""
    pygame = frames.pygame
    rgb = game.picture() if rgb is None else rgb

    def board(target: Any, area: Area) -> None:
        image = pygame.surfarray.make_surface(rgb.transpose(1, 0, 2))  # surfarray is (x, y)
        x, y, w, h = fit_picture((rgb.shape[1], rgb.shape[0]), area)
        target.blit(pygame.transform.smoothscale(image, (w, h)), (x, y))

    hud = [f"return {game.total:.1f}", f"steps {game.steps}", *extra]
    frames.render_frame(surface, board, hud, message)


class GymPictures:
    """The environment's pictures with the HUD and the network panel, drawn offscreen at
    the picture's own size: a GIF's frames, as the window shows them."""

    def __init__(self, replay: Replay) -> None:
        self.replay, self.game = replay, replay.game
        self.frames = FrameLayout(PANEL_WIDTH)
        pygame = self.pygame = self.frames.pygame
        self.frames.panel = network_panel(replay.agent, pygame, label_font(pygame))
        self.surface: Any = None  # sized by the first picture: every frame the same

    def __call__(self) -> np.ndarray:
        """The current state drawn, as packed pixels ``(H, W)`` uint32, RGBX bytes (a
        :data:`evonet.views.gif.Frame`'s picture)."""
        rgb = self.game.picture()
        if self.surface is None:
            tall = max(rgb.shape[0], panel_height(self.replay.agent.topo))
            self.surface = self.pygame.Surface(self.frames.frame_size((rgb.shape[1], tall)))
        draw_frame(self.frames, self.surface, self.game, self.replay.hud(), rgb=rgb)
        w, h = self.surface.get_size()
        data = self.pygame.image.tobytes(self.surface, "RGBX")
        return np.frombuffer(data, dtype="<u4").reshape(h, w)


class GymWindow(PygameWindow):
    """A resizable window: the HUD, the environment's picture scaled into the board area,
    the network panel beside it. Draws like Snake's window (``draw(k, extra, message)``),
    so :func:`evonet.views.replay.watch_loop` runs it.

    Raises :class:`evonet.games.ui.window.NoScreenError` when there is no display.
    """

    def __init__(self, replay: Replay, scale: float = 1.0, title: str = "evonet watch") -> None:
        self.replay, self.game = replay, replay.game
        # The first picture is drawn once the screen is known to be there: Gymnasium's
        # renderers start pygame, which would complain on stderr without one.
        super().__init__(lambda: self._fitting(scale), title, require_screen=True)
        self.frames = FrameLayout(PANEL_WIDTH)
        self.frames.panel = network_panel(replay.agent, self.pygame, label_font(self.pygame))

    def _fitting(self, scale: float) -> tuple[int, int]:
        """The picture at ``scale`` beside the panel, or smaller to fit the screen; tall
        enough for the panel's labels where the screen allows."""
        picture = self.game.picture()
        w, h = (max(1, round(scale * side)) for side in (picture.shape[1], picture.shape[0]))
        room = screen_room(self.pygame)
        k = min(1.0, (room[0] - PANEL_WIDTH) / w, (room[1] - HUD_HEIGHT) / h)
        w, h = max(1, int(w * k)), max(1, int(h * k))
        tall = min(panel_height(self.replay.agent.topo), room[1] - HUD_HEIGHT)
        return w + PANEL_WIDTH, HUD_HEIGHT + max(h, tall)

    def draw(self, k: int, extra: Sequence[str] = (), message: Sequence[str] = ()) -> None:
        """Draw the environment's current picture with the HUD, the panel and an optional
        centred message (``k`` is always 0: one game)."""
        self.screen = self.pygame.display.get_surface()  # resizing replaces the surface
        draw_frame(self.frames, self.screen, self.game, extra, message)
        self.pygame.display.flip()

    def close(self) -> None:
        super().close()
        self.game.close()


def open_window(
    agent: Agent, game: GymSpec, episodes: int, seed: int, scale: float = 1.0
) -> tuple[GymWindow, Replay]:
    """A pygame window showing ``game`` with the network panel, and the episodes to show
    in it; ``scale`` sizes the picture (the window never opens larger than the screen).

    Raises :class:`evonet.games.ui.window.NoScreenError` when there is no display.
    """
    replay = gym_replay(agent, game, episodes, seed)
    try:
        return GymWindow(replay, scale), replay
    except BaseException:
        replay.game.close()
        raise


def record_gif(
    agent: Agent,
    game: GymSpec,
    episodes: int,
    seed: int,
    path: str | os.PathLike,
    fps: float = 30.0,
    max_steps: int = 5000,
    scale: float = 1.0,
    on_frame: Callable[[int, int], object] | None = None,
) -> int:
    """Record ``episodes`` episodes into an animated GIF of the environment's own pictures
    (``rgb_array``) with the HUD and the network panel, as the window shows them; returns
    the frame count: one per state, at most ``max_steps`` moves an episode
    (:func:`evonet.views.replay.record_gif`). Needs no screen."""
    replay = gym_replay(agent, game, episodes, seed, max_steps)
    try:
        pictures, kept = GymPictures(replay), recording_colours()
        return replay_gif(replay, pictures, path, fps, scale, kept, on_frame)
    finally:
        replay.game.close()


def frame_counts(
    agent: Agent, game: GymSpec, episodes: int, seed: int, max_steps: int = 5000
) -> np.ndarray:
    """Frames per episode ``(episodes,)`` that :func:`record_gif` writes (undrawn)."""
    replay = gym_replay(agent, game, episodes, seed, max_steps, pictures=False)
    try:
        return replay.frame_counts()
    finally:
        replay.game.close()
