"""Replay an agent on a Gymnasium environment: its own ``human`` window, or a GIF.

Gymnasium environments draw themselves (``render_mode="human"`` opens the environment's
window; ``"rgb_array"`` gives frames), so this view is the environment's own, without the
network panel of the Snake view. Episode ``i`` is reset with seed ``i`` of
``episode_seeds(seed, episodes)``, the seeds ``evonet evaluate`` plays.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from evonet.games.base import episode_seeds
from evonet.games.gym import GymSpec, episodes
from evonet.nn import mlp
from evonet.nn.mlp import Topology
from evonet.storage.archive import atomic_write
from evonet.views.gif import GifStream, PaletteMap

TRANSPARENT = 255  # palette index for "unchanged since the last frame"; 255 colours drawn
RGBX_SHIFTS = (0, 8, 16)


def policy(theta: np.ndarray, topo: Topology) -> Callable[[np.ndarray], np.ndarray]:
    """The network ``theta (D,)`` as ``observation (n_in,) -> outputs (n_out,)``."""
    layers = mlp.unflatten(theta, topo)
    return lambda obs: mlp.forward_layers(layers, obs[None], topo, 0)[0]


def watch_window(
    theta: np.ndarray, topo: Topology, game: GymSpec, n_episodes: int, seed: int
) -> list[float]:
    """Play in the environment's own window (``human`` render mode); returns the return of
    each finished episode. The environment sets the pace (its ``render_fps``); closing the
    window, Esc or q stops.

    Raises :class:`evonet.games.ui.window.NoScreenError` when there is no display.
    """
    from evonet.games.ui.window import check_screen

    check_screen()  # raises NoScreenError without a display, before anything plays
    returns: list[float] = []
    seeds = episode_seeds(seed, n_episodes)
    for i, step, _, total, over in episodes(game, policy(theta, topo), seeds, "human"):
        if step == 0:
            _caption(f"evonet watch {game.name}: episode {i + 1}/{n_episodes}   q: quit")
        if over:
            returns.append(total)
        if _quit_requested():
            break
    return returns


def _caption(text: str) -> None:
    import sys

    pygame = sys.modules.get("pygame")
    if pygame is not None and pygame.display.get_init():
        pygame.display.set_caption(text)


def _quit_requested() -> bool:
    """Whether the window was closed or Esc or q pressed since the last look.

    The environment draws with pygame and only pumps its events; reading them here is
    what lets the user leave early.
    """
    import sys

    pygame = sys.modules.get("pygame")
    if pygame is None or not pygame.display.get_init():
        return False
    for event in pygame.event.get((pygame.QUIT, pygame.KEYDOWN)):
        if event.type == pygame.QUIT or event.key in (pygame.K_ESCAPE, pygame.K_q):
            return True
    return False


def frame_counts(
    theta: np.ndarray, topo: Topology, game: GymSpec, n_episodes: int, seed: int, max_steps: int
) -> np.ndarray:
    """Frames per episode ``(n_episodes,)`` that :func:`record_gif` writes (headless)."""
    counts = np.zeros(n_episodes, dtype=np.int64)
    seeds = episode_seeds(seed, n_episodes)
    for i, _, _, _, _ in episodes(game, policy(theta, topo), seeds, None, max_steps):
        counts[i] += 1
    return counts


def record_gif(
    theta: np.ndarray,
    topo: Topology,
    game: GymSpec,
    n_episodes: int,
    seed: int,
    path: str | os.PathLike,
    fps: float = 30.0,
    max_steps: int = 5000,
    scale: float = 1.0,
    on_frame: Callable[[int, int], object] | None = None,
) -> int:
    """Render episodes with ``rgb_array`` into an animated GIF; returns the frame count.

    One frame per state (the reset and every move, at most ``max_steps`` moves per
    episode), written as it is rendered into a temporary file that replaces ``path`` when
    complete. ``on_frame(episode, step)`` follows each frame.
    """
    from PIL import Image

    seeds = episode_seeds(seed, n_episodes)
    written = 0

    def write(f: BinaryIO) -> None:
        nonlocal written
        gif: GifStream | None = None
        for i, step, frame, _, _ in episodes(
            game, policy(theta, topo), seeds, "rgb_array", max_steps
        ):
            image = Image.fromarray(np.ascontiguousarray(frame[..., :3], dtype=np.uint8))
            if scale != 1:
                size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
                image = image.resize(size, Image.Resampling.LANCZOS)
            rgbx = np.asarray(image.convert("RGBX"))
            pixels = rgbx.view("<u4").reshape(rgbx.shape[:2])
            if gif is None:  # the palette comes from the first frame
                quantized = image.quantize(TRANSPARENT, dither=Image.Dither.NONE)
                palette = np.array(quantized.getpalette(), np.uint8).reshape(-1, 3)
                gif = GifStream(
                    f, PaletteMap(palette[:TRANSPARENT]), TRANSPARENT, max(1, round(100 / fps))
                )
            gif.add(pixels, RGBX_SHIFTS)
            if on_frame is not None:
                on_frame(i, step)
        assert gif is not None  # n_episodes >= 1
        gif.close()
        written = gif.frames

    atomic_write(Path(path), write)
    return written
