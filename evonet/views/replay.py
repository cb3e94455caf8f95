"""Replay an agent: the game in a window or terminal, plus a live view of its network.

The network panel draws every neuron coloured by its activation at the current step
(orange positive, blue negative, brighter for larger magnitude) and the connections by
weight, and rings the output neuron of the chosen action. Frames can also be rendered
offscreen into an animated GIF.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from evonet.evolution.rollout import rollout
from evonet.games.base import GameSpec, episode_seeds
from evonet.storage.archive import atomic_write
from evonet.storage.checkpoint import CheckpointError, load_network
from evonet.text import count
from evonet.views.gif import GifStream, PaletteMap
from evonet.views.panel import Agent, activation_colour, label_font, network_panel

if TYPE_CHECKING:  # numba loads when a game is played, not to build the CLI
    from evonet.games.snake import SnakeSpec

PANEL_WIDTH = 460
MIN_FPS, MAX_FPS = 1.0, 240.0  # moves per second while watching (or playing)
# GIF frame times are whole hundredths of a second, and browsers show anything shorter
# than 2/100 s at 10 frames per second: a faster recording would play slower.
MAX_GIF_FPS = 50.0
MIN_SCALE, MAX_SCALE = 0.1, 4.0  # recorded frame size factor: 82x48 to 3280x1904 pixels
MAX_EPISODES = 10_000  # games to watch; their seeds are drawn up front
MAX_RECORD_STEPS = 1_000_000  # moves per recorded game: 5.5 hours of GIF at 50 fps
RGBX_SHIFTS = (0, 8, 16)  # bit offsets of red, green, blue in a little-endian RGBX pixel
TRANSPARENT = 63  # GIF palette index for "unchanged since the last frame"; 63 colours drawn
MIN_BOARD_PIXELS = 630  # tall enough for 35 labelled input neurons (18 px each)
# Short lines: the terminal view shows them in 40 columns too.
KEYS_HELP = [
    "keys",
    "space: pause, or go on",
    "n or right arrow: one move (paused)",
    "+ and -: faster, slower",
    "r: restart the game",
    "h or ?: show or hide this help",
    "Esc or q: quit",
]


def cell_size(game: SnakeSpec, cell: int = 40, scale: float = 1.0) -> int:
    """Cell pixels: ``cell``, enlarged on small boards so the network panel stays legible,
    times ``scale``."""
    return max(1, round(scale * max(cell, -(-MIN_BOARD_PIXELS // game.height))))


class Episodes:
    """The sequence of games being watched: seeds, the current game, restarts."""

    def __init__(self, agent: Agent, game: SnakeSpec, episodes: int, seed: int) -> None:
        self.agent, self.n = agent, episodes
        agent.input_labels = agent.input_labels or game.input_labels
        agent.action_names = agent.action_names or game.action_names
        self.env = game.make(1)
        self.seeds = episode_seeds(seed, episodes)
        self.index = 0
        self.scores: list[int] = []
        self.start(0)

    def start(self, index: int) -> None:
        self.index = index
        self.obs, _ = self.env.reset(seed=self.seeds[index : index + 1])
        self.agent.decide(self.obs[0])

    def step(self) -> None:
        """Play the decided move, then decide the next one (shown by the panel)."""
        self.obs, *_ = self.env.step(np.array([self.agent.action]))
        self.agent.decide(self.obs[0])

    @property
    def over(self) -> bool:
        return bool(self.env.done[0])

    def hud(self) -> list[str]:
        return [f"episode {self.index + 1}/{self.n}"]


def watch_loop(view: Any, eps: Episodes, fps: float, max_frames: int = -1) -> list[int]:
    """Interactive replay in a window or terminal view; returns apples per finished game.

    Keys: space pauses, right arrow or n steps one move while paused, + and - change the
    speed, r restarts the current game, h or ? shows the keys (the game waits meanwhile),
    Esc or q quits. The HUD says "h: keys" throughout.
    """
    paused, frame, hold, helping = False, 0, 0, False
    while frame != max_frames:
        frame += 1
        keys = view.poll()
        if "quit" in keys:
            break
        for k in keys:
            if k == "pause":
                paused = not paused
            elif k == "faster":
                fps = min(fps * 1.5, MAX_FPS)
            elif k == "slower":
                fps = max(fps / 1.5, MIN_FPS)
            elif k == "restart":
                eps.start(eps.index)
                hold = 0
            elif k == "help":
                helping = not helping
        step_once = paused and any(k in ("right", "step") for k in keys)
        status = [*eps.hud(), f"{fps:.0f} fps"] + (["paused"] if paused else []) + ["h: keys"]
        if helping:
            view.draw(0, status, KEYS_HELP)
        elif eps.over:
            if hold == 0:
                eps.scores.append(int(eps.env.apples[0]))
            hold += 1
            last = eps.index + 1 >= eps.n
            mean = np.mean(eps.scores) if eps.scores else 0.0
            msg = [
                count(int(eps.env.apples[0]), "apple")
                + (" - board full!" if eps.env.won[0] else "")
            ]
            msg.append(
                f"{count(len(eps.scores), 'game')}, mean {mean:.1f} apples   r: replay   q: quit"
                if last
                else "next game coming up"
            )
            view.draw(0, status, msg)
            if not last and hold > max(fps, 2):
                eps.start(eps.index + 1)
                hold = 0
        else:
            view.draw(0, status)
            if not paused or step_once:
                eps.step()
        view.tick(fps)
    return eps.scores


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
    """Render ``episodes`` games offscreen into an animated GIF; returns the frame count.

    One frame per game state: the start of each game and every move after it, so a game of
    ``s`` steps gives ``s + 1`` frames (at most ``max_steps + 1``). ``scale`` resizes the
    frames (0.5: half width and height) to keep files small. Each frame shows for
    ``round(100 / fps)`` hundredths of a second (GIF's time unit; at least 1). Needs no
    screen.

    Frames go to the file as they are rendered (memory does not grow with the recording),
    into a temporary file beside ``path`` that replaces ``path`` only when complete.
    ``on_frame(episode, step)`` is called after each frame is written (``step`` counts
    moves within that game, 0 for its start), e.g. to show progress.
    """
    if not (fps > 0 and scale > 0 and episodes >= 1 and max_steps >= 0):
        raise ValueError(f"bad recording settings: {fps=}, {scale=}, {episodes=}, {max_steps=}")
    eps = Episodes(agent, game, episodes, seed)
    frames = FrameSource(agent, game, eps, cell, scale)

    def write(f: BinaryIO) -> None:
        gif: GifStream | None = None
        for i in range(episodes):
            eps.start(i)
            steps = 0
            while True:
                pixels = frames.grab()
                if gif is None:  # the palette comes from the first frame
                    colours = PaletteMap(frames.palette(pixels))
                    gif = GifStream(f, colours, TRANSPARENT, max(1, round(100 / fps)))
                gif.add(pixels, RGBX_SHIFTS)
                if on_frame is not None:
                    on_frame(i, steps)
                if eps.over or steps >= max_steps:
                    break
                eps.step()
                steps += 1
        assert gif is not None  # episodes >= 1
        gif.close()
        nonlocal written
        written = gif.frames

    written = 0
    atomic_write(Path(path), write)
    return written


def frame_counts(
    agent: Agent, game: GameSpec, episodes: int, seed: int, max_steps: int = 5000
) -> np.ndarray:
    """Frames per game ``(episodes,)`` that :func:`record_gif` writes with these settings.

    Plays the same games headless and batched (:func:`evonet.evolution.rollout.rollout`), in a
    fraction of the recording's time: a game depends only on its seed and its moves.
    """
    result = rollout(agent.theta[None], agent.topo, game, episode_seeds(seed, episodes))
    return np.minimum(result.episode_steps[0], max_steps) + 1


class FrameSource:
    """Renders the watched game with its network panel offscreen, as packed pixels."""

    def __init__(
        self, agent: Agent, game: SnakeSpec, eps: Episodes, cell: int, scale: float
    ) -> None:
        from evonet.games.snake.render.window import FrameRenderer

        self.eps = eps
        self.renderer = FrameRenderer(eps.env, PANEL_WIDTH, None)
        pygame = self.pygame = self.renderer.pygame
        self.renderer.panel = network_panel(agent, pygame, label_font(pygame))
        self.surface = pygame.Surface(self.renderer.size(cell_size(game, cell)))
        w, h = self.surface.get_size()
        self.scale = scale
        self.size = (max(1, round(w * scale)), max(1, round(h * scale))) if scale != 1 else (w, h)

    def grab(self) -> np.ndarray:
        """The current state as pixels ``(H, W)`` uint32, RGBX bytes (see RGBX_SHIFTS)."""
        self.renderer.render(self.surface, 0, self.eps.hud())
        data = self.pygame.image.tobytes(self.surface, "RGBX")
        if self.scale != 1:
            from PIL import Image

            image = Image.frombytes("RGB", self.surface.get_size(), data, "raw", "RGBX")
            data = image.resize(self.size, Image.Resampling.LANCZOS).tobytes("raw", "RGBX")
        return np.frombuffer(data, dtype="<u4").reshape(self.size[1], self.size[0])

    @staticmethod
    def palette(pixels: np.ndarray) -> np.ndarray:
        """The recording's palette ``(n, 3)``, ``n <= TRANSPARENT``: up to 63 colours of the
        first frame ``(H, W)`` (packed RGBX) plus every activation colour, so a neuron that
        lights up later is not forced onto a wrong colour."""
        from PIL import Image

        h, w = pixels.shape
        rgb = pixels.view(np.uint8).reshape(h, w, 4)[..., :3]
        ramp = np.array([activation_colour(v) for v in np.linspace(-1, 1, 41)], np.uint8)
        strip = np.repeat(ramp[None], 8, axis=0).repeat(4, axis=1)  # (8, 164, 3)
        source = np.zeros((h + 8, max(w, strip.shape[1]), 3), np.uint8)
        source[:h, :w] = rgb
        source[h:, : strip.shape[1]] = strip
        # No dithering: flat colours compress far better.
        quantized = Image.fromarray(source).quantize(TRANSPARENT, dither=Image.Dither.NONE)
        return np.array(quantized.getpalette(), np.uint8).reshape(-1, 3)[:TRANSPARENT]


def open_window(
    agent: Agent, game: SnakeSpec, episodes: int, seed: int, scale: float = 1.0
) -> tuple[Any, Episodes]:
    """A pygame window with the network panel, and the games to show in it. ``scale``
    sizes the board's cells (the panel keeps its width, for its labels); the window never
    opens larger than the screen, and can be resized.

    Raises :class:`evonet.games.ui.window.NoScreenError` when there is no display.
    """
    from evonet.games.snake.render.window import WindowView

    eps = Episodes(agent, game, episodes, seed)
    view = WindowView(
        eps.env,
        cell=cell_size(game, scale=scale),
        title="evonet watch",
        panel_width=PANEL_WIDTH,
        require_screen=True,
    )
    view.frames.panel = network_panel(agent, view.pygame, label_font(view.pygame))
    return view, eps


def run_terminal(agent: Agent, game: SnakeSpec, episodes: int, seed: int, fps: float) -> list[int]:
    """Watch in the terminal (curses), without the network panel.

    Raises :class:`evonet.games.ui.terminal.NoTerminalError` when there is no usable terminal.
    """
    from evonet.games.snake.render.terminal import TerminalView
    from evonet.games.ui.terminal import run_curses

    def main(stdscr: Any) -> list[int]:
        eps = Episodes(agent, game, episodes, seed)
        return watch_loop(TerminalView(stdscr, eps.env), eps, fps)

    return run_curses(main)


def newest_run_best(root: Path) -> Path | None:
    """``best.npz`` of the most recently written run folder under ``root``, if any."""
    found = sorted(root.glob("*/best.npz"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


# The champions that ship with the package, by the board they were evolved on. Another
# board gets the one evolved on the board nearest in cells: the observations are
# scale-free, so a champion plays any board.
SHIPPED = {(10, 10): "snake-champion.npz", (20, 20): "snake-champion-20x20.npz"}


def shipped_name(board: tuple[int, int] | None = None) -> str:
    """The file name of the shipped champion for ``board``: the one evolved on it, else on
    the board nearest in cells (ties: the smaller); the 10x10 one without a board."""
    if board is None:
        return SHIPPED[(10, 10)]
    cells = board[0] * board[1]
    return SHIPPED[min(SHIPPED, key=lambda b: (abs(b[0] * b[1] - cells), b))]


def shipped_champion(board: tuple[int, int] | None = None) -> Path:
    """The packaged champion for ``board`` (see :func:`shipped_name`)."""
    return Path(__file__).parents[1] / "assets" / shipped_name(board)


def run_board(path: Path) -> tuple[int, int] | None:
    """The board a saved Snake network was evolved on, or None if it cannot tell."""
    try:
        _, _, meta = load_network(path)
    except (CheckpointError, OSError):
        return None
    info = meta.get("info") if isinstance(meta.get("info"), dict) else {}
    config = info.get("config") if isinstance(info.get("config"), dict) else {}
    board = config.get("board")
    if config.get("game", "snake") != "snake" or not isinstance(board, list) or len(board) != 2:
        return None
    return board[0], board[1]


def default_target(root: Path = Path("checkpoints"), board: tuple[int, int] | None = None) -> Path:
    """What ``evonet watch`` opens without a path.

    Without ``board``: the best of the newest run under ``root``, else the repository's
    shipped 10x10 champion, else the packaged copy. With ``board``: the best of the newest
    run evolved on that board, else the shipped champion for it (:func:`shipped_name`).
    """
    if board is None:
        newest = newest_run_best(root)
        if newest is not None:
            return newest
    else:
        found = sorted(root.glob("*/best.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
        for path in found:
            if run_board(path) == tuple(board):
                return path
    local = root / shipped_name(board)
    return local if local.exists() else shipped_champion(board)
