"""Replay an agent, one game at a time: the driver every watched or recorded game uses.

A game comes as a :class:`SingleGame`, one game played move by move (Snake's engine with a
batch of one, :mod:`evonet.views.replay_snake`; one Gymnasium environment,
:mod:`evonet.views.replay_gym`). :class:`Replay` plays episode ``i`` from seed ``i`` of
``episode_seeds(seed, episodes)`` (the seeds ``evonet evaluate`` plays), the agent choosing
every move; :func:`watch_loop` shows it in a window or terminal with the shared keys, and
:func:`record_gif` writes its frames into an animated GIF.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from evonet.games.base import Discrete, GameSpec, episode_seeds
from evonet.storage.checkpoint import CheckpointError, read_network
from evonet.views import gif
from evonet.views.controls import MAX_FPS, MIN_FPS, Controls, Press, keys_help, loop
from evonet.views.panel import Agent

MAX_GIF_FPS = gif.MAX_FPS
MIN_SCALE, MAX_SCALE = 0.1, 4.0  # recorded frame size factor: 82x48 to 3280x1904 pixels
MAX_EPISODES = 10_000  # games to watch; their seeds are drawn up front
MAX_RECORD_STEPS = 1_000_000  # moves per recorded game: 5.5 hours of GIF at 50 fps
KEYS_HELP = keys_help("n or right arrow: one move (paused)", "r: restart the game")


class SingleGame(Protocol):
    """One game played move by move: what :class:`Replay` needs of a game."""

    spec: GameSpec

    def reset(self, seed: int) -> np.ndarray:
        """Start a game from ``seed``; returns its first observation ``(n_obs,)``."""
        ...

    def step(self, action: Any) -> np.ndarray:
        """Play ``action`` (as ``actions_from_outputs`` gives it for one game); returns
        the next observation ``(n_obs,)``."""
        ...

    @property
    def over(self) -> bool: ...
    @property
    def steps(self) -> int: ...
    @property
    def score(self) -> float:
        """The number people read (apples, the return), as ``evonet evaluate`` does."""
        ...

    def result(self) -> str:
        """The finished game in a few words, e.g. ``3 apples``."""
        ...

    def summary(self, scores: Sequence[float]) -> str:
        """Finished games' ``scores`` in a few words, e.g. ``2 games, mean 3.5 apples``."""
        ...


class Replay:
    """The episodes being watched or recorded: seeds, the current game, restarts, scores.

    ``max_steps`` ends a game after that many moves (recordings); None plays it out.
    """

    def __init__(self, agent: Agent, game: SingleGame, episodes: int, seed: int,
                 max_steps: int | None = None) -> None:  # fmt: skip
        self.agent, self.game, self.n, self.max_steps = agent, game, episodes, max_steps
        agent.input_labels = agent.input_labels or game.spec.input_labels
        agent.action_names = agent.action_names or game.spec.action_names
        agent.continuous = not isinstance(game.spec.action_space, Discrete)
        # Forward as evolution did: compiled for an MLP on compiled rules, else in numpy.
        agent.compiled = game.spec.compiled_play and not agent.topo.recurrent
        self.seeds = episode_seeds(seed, episodes)  # (episodes,) uint64
        self.index = 0
        self.scores: list[float] = []  # of the games seen to their end
        self.start(0)

    def start(self, index: int) -> None:
        """(Re)start episode ``index`` from its seed; the agent decides its first move."""
        self.index = index
        self.agent.reset()  # a recurrent network's memory starts empty, as in evolution
        self._decide(self.game.reset(int(self.seeds[index])))

    def step(self) -> None:
        """Play the decided move, then decide the next one (shown by the panel)."""
        self._decide(self.game.step(self.action))

    def _decide(self, obs: np.ndarray) -> None:
        spec, obs = self.game.spec, np.asarray(obs)
        self.agent.decide(spec.seen(obs))  # the entries it was evolved on
        # The game's own observation for a shield, as evolution played (GameSpec.actions).
        self.action = spec.actions(self.agent.activations[-1], obs)
        if not self.agent.continuous:
            self.agent.action = int(self.action)  # the panel rings the move taken

    @property
    def over(self) -> bool:
        capped = self.max_steps is not None and self.game.steps >= self.max_steps
        return self.game.over or capped

    @property
    def last(self) -> bool:
        return self.index + 1 >= self.n

    def hud(self) -> list[str]:
        return [f"episode {self.index + 1}/{self.n}"]

    def states(self) -> Iterator[tuple[int, int]]:
        """Play every episode from its start to its end, yielding ``(episode, step)`` at
        each state: the start, then after every move (``s + 1`` states for ``s`` moves)."""
        for i in range(self.n):
            self.start(i)
            while True:
                yield i, self.game.steps
                if self.over:
                    break
                self.step()

    def frame_counts(self) -> np.ndarray:
        """States per episode ``(episodes,)``: the frames :func:`record_gif` writes. Plays
        the games without drawing them: a game depends only on its seed and its moves."""
        counts = np.zeros(self.n, dtype=np.int64)
        for i, _ in self.states():
            counts[i] += 1
        return counts


def record_gif(
    replay: Replay,
    picture: Callable[[], np.ndarray],
    path: str | os.PathLike,
    fps: float,
    scale: float = 1.0,
    later_colours: np.ndarray | None = None,
    on_frame: Callable[[int, int], object] | None = None,
    colours: int = gif.MAX_COLOURS,
) -> int:
    """Record every episode of ``replay`` into an animated GIF; returns the frame count.

    One frame per state (:meth:`Replay.states`), ``picture()`` drawing it ``(H, W, 3)``;
    see :func:`evonet.views.gif.record` for ``fps``, ``scale``, ``later_colours``,
    ``on_frame``, ``colours`` and how the file is written. Needs no screen.
    """
    frames = ((picture(), i, step) for i, step in replay.states())
    return gif.record(path, frames, fps, scale, later_colours, on_frame, colours)


class Watching:
    """What a watched game shows each frame, moving on as the keys ask."""

    def __init__(self, view: Any, replay: Replay, controls: Controls) -> None:
        self.view, self.replay, self.controls = view, replay, controls
        self.hold = 0  # frames the finished game has been shown

    def show(self, press: Press) -> None:
        replay, controls = self.replay, self.controls
        if press.restart:
            replay.start(replay.index)
            self.hold = 0
        status = [*replay.hud(), f"{controls.speed:.3g} fps"]
        status += ["paused"] * controls.paused + ["h: keys"]
        if controls.help:  # the game waits while the keys are shown
            self.view.draw(0, status, KEYS_HELP)
        elif replay.over:
            self.game_over(status)
        else:
            self.view.draw(0, status)
            if not controls.paused or press.step:
                replay.step()

    def game_over(self, status: list[str]) -> None:
        """The finished game's result; after a moment the next game, or after the last one
        the scores of all."""
        replay, game = self.replay, self.replay.game
        if self.hold == 0:
            replay.scores.append(game.score)
        self.hold += 1
        end = game.summary(replay.scores) + "   r: replay   q: quit"
        self.view.draw(0, status, [game.result(), end if replay.last else "next game coming up"])
        if not replay.last and self.hold > max(self.controls.speed, 2):
            replay.start(replay.index + 1)
            self.hold = 0


def watch_loop(view: Any, replay: Replay, fps: float, max_frames: int = -1) -> list[float]:
    """Interactive replay in a window or terminal view (``draw(k, extra, message)``,
    ``poll``, ``tick``); returns the score of every finished game.

    Keys: the shared ones (:mod:`evonet.views.controls`: space, + and -, h, Esc or q) and
    n or the right arrow for one move while paused, r to restart the current game. The
    HUD says "h: keys" throughout.
    """
    controls = Controls(fps, MIN_FPS, MAX_FPS, step_keys=("step", "right"))
    loop(view, controls, Watching(view, replay, controls).show, max_frames)
    return replay.scores


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
        _, _, meta = read_network(path)
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
