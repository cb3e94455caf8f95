"""Snake as a Gymnasium environment: ``evonet/Snake-v0``, single and natively vectorized.

:class:`SnakeEnv` is one game behind the :class:`gymnasium.Env` API; :class:`SnakeVectorEnv`
is the batched engine (:class:`games.snake.engine.Snake`) behind
:class:`gymnasium.vector.VectorEnv`, stepping all its games in one numpy call. Both play
exactly the engine's games: a game started from the same per-game seed and given the same
actions goes the same way here, in the engine, and so in ``evonet evaluate``.

Register the id once with :func:`register_envs` (importing :mod:`evonet` does it when
Gymnasium is installed), then::

    env = gymnasium.make("evonet/Snake-v0", width=10, height=10)
    envs = gymnasium.make_vec("evonet/Snake-v0", num_envs=64)  # the native SnakeVectorEnv

This module imports Gymnasium; pygame only when something is drawn.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from ..observed import check_observe
from .engine import Snake
from .rules import FEATURE_BLOCKS, FEATURE_NAMES, N_OBS

ENV_ID = "evonet/Snake-v0"
RENDER_FPS = 10  # moves per second in "human" mode, as `evonet watch` plays by default
CELL_PIXELS = 40  # board cell size of rendered frames and of the window
MIN_FRAME_WIDTH = 320  # frames are at least this wide, so the HUD line fits on small boards
_SEED_LIMIT = 2**64  # per-game seeds are uint64

# Shared by both classes' docstrings.
_SPACES_DOC = """
    **Action space:** ``Discrete(3)``, relative to the snake's heading: 0 turn left,
    1 straight, 2 turn right.

    **Observation space:** ``Box(low, high, (35,), float32)``, the engine's 35 features
    (observation layout 2) in the snake's own frame (the table is in the rule book,
    :mod:`games.snake.rules`): wall, apple and body along 8 rays (0-23), the heading
    one-hot (24-27), the apple's offset ahead (28) and to the right (29) as a fraction of
    the longer side, length / cells (30), steps since the last apple / hunger (31), and the
    room after turning left, going straight and turning right (32-34), ``min(reachable
    cells, length) / length``. Every feature lies in ``[0, 1]`` except the two apple offsets,
    which lie in ``[-1, 1]``. The env's ``feature_names`` (``env.unwrapped.feature_names``
    after ``gymnasium.make``) names them in order, as the rule book and evonet's network
    panel do: ``"wall fwd"``, ``"wall fwd-R"``, ..., ``"room R"``.

    **Partial observation:** ``observe=(i, j, ...)`` keeps only those entries, in that
    order (as ``evonet evolve snake --observe``): the space, the observations and
    ``feature_names`` are then theirs.

    **Rewards:** +1 for eating an apple, -1 for dying, 0 otherwise.

    **Starting state:** a snake of length 3 through the centre cell, its heading and every
    apple drawn from the game's per-game seed (a uint64).

    **Episode end:** *terminated* when the snake leaves the board or runs into itself, or
    fills the board (a win, ``info["won"]``); *truncated* after ``hunger`` moves without an
    apple (default ``width * height``). The hunger limit bounds every game, so the id is
    registered without a ``TimeLimit``.

    **Info:** ``apples`` eaten, ``steps`` played, snake ``length`` and ``won``, all of the
    current episode; after a reset also ``game_seed``, the per-game seed (uint64) it was
    started with.
"""


def observation_space(observe: Sequence[int] | None = None) -> spaces.Box:
    """The ``(35,)`` float32 space of one game's observations, the same on every board;
    with ``observe``, of those entries only, ``(len(observe),)``.

    Every feature lies in ``[0, 1]``, except the apple's offset ahead (28) and to the
    right (29): signed, at most ``(side - 1) / max(width, height)`` in size, so in
    ``[-1, 1]`` (0 once the board is full and there is no apple).
    """
    low = np.zeros(N_OBS, dtype=np.float32)
    low[FEATURE_BLOCKS["apple offset"]] = -1.0
    high = np.ones(N_OBS, dtype=np.float32)
    seen = _seen(observe)
    return spaces.Box(low[seen], high[seen], dtype=np.float32)


def _seen(observe: Sequence[int] | None) -> slice | np.ndarray:
    """The index that picks ``observe``'s entries of an observation (all of them: None);
    ValueError naming a bad entry."""
    if observe is None:
        return slice(None)
    return np.asarray(check_observe(observe, N_OBS, ENV_ID), np.int64)


def _game_seed(seed: Any) -> int:
    """One per-game engine seed: a whole number in ``[0, 2**64)``."""
    try:
        value = operator.index(seed)
    except TypeError:
        raise ValueError(f"a game seed is a whole number, got {seed!r}") from None
    if not 0 <= value < _SEED_LIMIT:
        raise ValueError(f"a game seed lies in [0, 2**64), got {value}")
    return value


def _game_seeds(seeds: Sequence[int] | np.ndarray, n: int) -> np.ndarray:
    """``(n,)`` uint64 per-game engine seeds from a sequence or an integer array.

    A list is converted element by element: ``np.asarray`` would turn a mix of small and
    near-2**64 Python ints into float64 and lose digits.
    """
    if isinstance(seeds, np.ndarray) and seeds.dtype.kind in "iu":
        if seeds.dtype.kind == "i" and np.any(seeds < 0):
            raise ValueError("game seeds lie in [0, 2**64), got a negative one")
        values = seeds.astype(np.uint64)
    else:
        try:
            values = np.array([_game_seed(s) for s in seeds], dtype=np.uint64)
        except TypeError:
            raise ValueError(f"expected {n} game seeds, got {seeds!r}") from None
    if values.shape != (n,):
        raise ValueError(f"expected {n} game seeds, got shape {values.shape}")
    return values


class _Painter:
    """Draws games of one engine batch, as pixel arrays or in a window.

    pygame is imported on first use, so environments that never render never load it.
    """

    def __init__(self, game: Snake, title: str) -> None:
        self.game, self.title = game, title
        self._frames: Any = None  # FrameRenderer, made on the first offscreen frame
        self._surface: Any = None
        self._window: Any = None  # WindowView, opened by the first show()

    def frame(self, k: int) -> np.ndarray:
        """Game ``k`` (HUD and board) as an ``(H, W, 3)`` uint8 RGB array."""
        if self._frames is None:
            from .render.window import FrameRenderer

            self._frames = FrameRenderer(self.game)
            # A plain Surface needs no display, so this works with SDL_VIDEODRIVER=dummy
            # or with no video driver at all.
            w, h = self._frames.size(CELL_PIXELS)
            self._surface = self._frames.pygame.Surface((max(w, MIN_FRAME_WIDTH), h))
        self._frames.render(self._surface, k)
        # surfarray is indexed (x, y); images are (row, column).
        pixels = self._frames.pygame.surfarray.array3d(self._surface)
        return np.ascontiguousarray(pixels.transpose(1, 0, 2))

    def show(self, k: int, fps: float) -> None:
        """Draw game ``k`` in the window (opened on first use) and hold it for 1 / fps s."""
        if self._window is None:
            from .render.window import WindowView

            # Raises NoScreenError if SDL could only open an invisible window, unless
            # SDL_VIDEODRIVER asked for that (as tests do with "dummy").
            self._window = WindowView(self.game, CELL_PIXELS, self.title, require_screen=True)
        self._window.draw(k)
        # As Gymnasium's classic-control envs do: keep the window responsive (the events
        # themselves are not used), then wait for the frame's time.
        self._window.pygame.event.pump()
        self._window.tick(fps)

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None
        self._frames = self._surface = None


class SnakeEnv(gymnasium.Env):
    __doc__ = (
        """One game of Snake on a ``width x height`` board (the engine's rules).
"""
        + _SPACES_DOC
        + """
    **Seeding:** ``reset(seed=s)`` seeds :attr:`np_random` as Gymnasium envs do, and each
    reset draws the game's per-game seed from it. To play one exact engine game instead,
    for comparison with :class:`games.snake.engine.Snake` or ``evonet evaluate``, pass
    ``reset(options={"game_seed": S})``: the game with per-game seed ``S`` (for example an
    element of :func:`games.base.episode_seeds`); ``np_random`` is then not used.

    **Arguments:** ``width``, ``height`` (4 to 64, default 10), ``hunger`` (moves without an
    apple before truncation; default ``width * height``), ``observe`` (the entries to keep;
    default all), ``render_mode`` (``"human"``:
    a pygame window drawn on every reset and step at ``render_fps``; ``"rgb_array"``:
    :meth:`render` returns the frame as an ``(H, W, 3)`` uint8 array).
    """
    )

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": RENDER_FPS}
    feature_names: tuple[str, ...] = FEATURE_NAMES  # the observation's, in order

    def __init__(
        self,
        width: int = 10,
        height: int = 10,
        hunger: int | None = None,
        render_mode: str | None = None,
        observe: Sequence[int] | None = None,
    ) -> None:
        _check_render_mode(render_mode, self.metadata["render_modes"])
        self._seen = _seen(observe)  # before the engine: a bad entry allocates nothing
        self._game = Snake(1, width, height, hunger)  # checks the board and hunger
        self.width, self.height, self.hunger = width, height, self._game.hunger
        self.feature_names = tuple(np.array(FEATURE_NAMES)[self._seen].tolist())
        self.observation_space = observation_space(observe)
        self.action_space = spaces.Discrete(3)
        self.render_mode = render_mode
        self._painter = _Painter(self._game, ENV_ID)
        self._started = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new game; returns its ``(35,)`` float32 observation and info.

        Args:
            seed: seeds :attr:`np_random`, from which the game's seed is drawn.
            options: ``{"game_seed": S}`` plays the engine game with per-game seed ``S``
                (a whole number in ``[0, 2**64)``) instead.
        """
        super().reset(seed=seed)
        options = dict(options or {})
        if "game_seed" in options:
            game_seed = _game_seed(options.pop("game_seed"))
        else:
            game_seed = int(self.np_random.integers(0, _SEED_LIMIT, dtype=np.uint64))
        if options:
            raise ValueError(f"unknown reset options {sorted(options)}; known: ['game_seed']")
        # An array, not an int: the engine would take an int as a seed to derive from.
        obs, _ = self._game.reset(np.array([game_seed], dtype=np.uint64))
        self._started = True
        if self.render_mode == "human":
            self.render()
        # A numpy uint64, not an int: SyncVectorEnv gathers info ints into int64 arrays,
        # which half of all seeds would overflow.
        return obs[0, self._seen], {**self._info(), "game_seed": np.uint64(game_seed)}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """One move; returns ``(obs (35,) float32, reward, terminated, truncated, info)``.

        Stepping a finished game (before :meth:`reset`) changes nothing: reward 0 and the
        same end flags.
        """
        if not self._started:
            raise RuntimeError("call reset() before step()")
        if not self.action_space.contains(action):
            raise ValueError(f"action must be 0, 1 or 2 (left, straight, right), got {action!r}")
        obs, reward, terminated, truncated, _ = self._game.step(np.array([int(action)]))
        if self.render_mode == "human":
            self.render()
        end = bool(terminated[0]), bool(truncated[0])
        return obs[0, self._seen], float(reward[0]), *end, self._info()

    def _info(self) -> dict[str, Any]:
        g = self._game
        return {
            "apples": int(g.apples[0]),
            "steps": int(g.steps[0]),
            "length": int(g.length[0]),
            "won": bool(g.won[0]),
        }

    def render(self) -> np.ndarray | None:
        """``"rgb_array"``: the current frame, ``(H, W, 3)`` uint8 (HUD strip over the board).
        ``"human"``: draws the game in its window and returns None."""
        if self.render_mode is None:
            gymnasium.logger.warn(
                "render() was called without a render mode; make the env with "
                f'gymnasium.make("{ENV_ID}", render_mode="rgb_array") (or "human")'
            )
            return None
        if not self._started:
            raise RuntimeError("call reset() before render()")
        if self.render_mode == "rgb_array":
            return self._painter.frame(0)
        self._painter.show(0, self.metadata["render_fps"])
        return None

    def close(self) -> None:
        """Close the window, if one is open (safe to call more than once)."""
        self._painter.close()


class SnakeVectorEnv(VectorEnv):
    __doc__ = (
        """``num_envs`` games of Snake stepped together by the batched numpy engine.
"""
        + _SPACES_DOC
        + """
    Spaces are batched: :attr:`single_observation_space` and :attr:`single_action_space` are
    :class:`SnakeEnv`'s; :attr:`observation_space` is ``(num_envs, 35)`` float32 and
    :attr:`action_space` is ``MultiDiscrete([3] * num_envs)``. Rewards are ``(num_envs,)``
    float32, terminations and truncations ``(num_envs,)`` bool: what happened *in this
    step* (the engine's own flags say whether a game is over; these say that it just ended).

    **Autoreset (NEXT_STEP):** a game that ended in one step is restarted by the next:
    that step ignores its action and returns its fresh starting observation, reward 0,
    terminated and truncated False (and ``info["game_seed"]`` for it). Its new per-game
    seed is drawn from :attr:`np_random`.

    **Seeding:** ``reset(seed=s)`` with an int seeds :attr:`np_random`, from which every
    game's per-game seed is drawn (now and at autoresets). ``reset(seed=[S_0, ...])`` with
    ``num_envs`` whole numbers plays exactly the engine games with those per-game seeds,
    for example ``games.base.episode_seeds(2026, num_envs)`` to replay
    ``evonet evaluate --seed 2026``; :attr:`np_random` is then seeded from the list.
    ``options={"game_seeds": [...]}`` gives the per-game seeds alongside an int ``seed``
    (which still seeds the autoresets).

    **Info:** each key is a ``(num_envs,)`` array with a ``_key`` bool mask of the games it
    is valid for, as :class:`gymnasium.vector.SyncVectorEnv` would give: ``apples``,
    ``steps``, ``length``, ``won`` for every game, ``game_seed`` for games just (re)started.

    **Rendering:** ``"rgb_array"``: :meth:`render` returns a tuple of ``num_envs`` frames,
    each ``(H, W, 3)`` uint8, drawn when asked (one offscreen surface reused). ``"human"``:
    game 0 is shown in a window on every reset and step at ``render_fps``.

    **Arguments:** ``num_envs`` and :class:`SnakeEnv`'s.
    """
    )

    metadata = {
        "render_modes": ["human", "rgb_array"],
        "render_fps": RENDER_FPS,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }
    feature_names: tuple[str, ...] = FEATURE_NAMES  # a single observation's, in order

    def __init__(
        self,
        num_envs: int = 1,
        width: int = 10,
        height: int = 10,
        hunger: int | None = None,
        render_mode: str | None = None,
        observe: Sequence[int] | None = None,
    ) -> None:
        _check_render_mode(render_mode, self.metadata["render_modes"])
        self._seen = _seen(observe)  # before the engine: a bad entry allocates nothing
        self._game = Snake(num_envs, width, height, hunger)  # checks every argument
        self.num_envs = int(num_envs)
        self.width, self.height, self.hunger = width, height, self._game.hunger
        self.feature_names = tuple(np.array(FEATURE_NAMES)[self._seen].tolist())
        self.single_observation_space = observation_space(observe)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.single_action_space = spaces.Discrete(3)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.render_mode = render_mode
        self._painter = _Painter(self._game, ENV_ID)
        # Games that ended in the previous step, to be restarted by the next; None until
        # the first reset.
        self._prev_done: np.ndarray | None = None

    def reset(
        self,
        *,
        seed: int | Sequence[int] | np.ndarray | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start every game anew; returns ``(obs (num_envs, 35) float32, info)``.

        Args:
            seed: an int seeds :attr:`np_random` (per-game seeds are drawn from it);
                ``num_envs`` whole numbers in ``[0, 2**64)`` are the per-game seeds.
            options: ``{"game_seeds": [...]}``, ``num_envs`` per-game seeds.
        """
        options = dict(options or {})
        game_seeds = None
        if seed is not None and np.ndim(seed) > 0:
            if "game_seeds" in options:
                raise ValueError("give per-game seeds as seed=[...] or as game_seeds, not both")
            game_seeds = _game_seeds(seed, self.num_envs)  # type: ignore[arg-type]
            # The autoresets' seeds still come from np_random: derive it from the list, so
            # the same list replays the same run.
            self.np_random = np.random.Generator(
                np.random.PCG64(np.random.SeedSequence(game_seeds))
            )
        else:
            super().reset(seed=seed)
        if "game_seeds" in options:
            game_seeds = _game_seeds(options.pop("game_seeds"), self.num_envs)
        if options:
            raise ValueError(f"unknown reset options {sorted(options)}; known: ['game_seeds']")
        if game_seeds is None:
            game_seeds = self._draw_seeds(self.num_envs)

        obs, _ = self._game.reset(game_seeds)
        self._prev_done = np.zeros(self.num_envs, dtype=bool)
        if self.render_mode == "human":
            self.render()
        every = np.ones(self.num_envs, dtype=bool)
        obs = obs[:, self._seen]
        return obs, {**self._info(), "game_seed": game_seeds.copy(), "_game_seed": every}

    def step(
        self, actions: np.ndarray | Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """One move of every game (see the class docstring for the autoreset).

        Args:
            actions: ``(num_envs,)`` integers in {0, 1, 2}.

        Returns:
            ``(obs (num_envs, 35) float32, reward (num_envs,) float32,
            terminated (num_envs,) bool, truncated (num_envs,) bool, info)``.
        """
        if self._prev_done is None:
            raise RuntimeError("call reset() before step()")
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,) or actions.dtype.kind not in "iu":
            raise ValueError(
                f"actions must be {self.num_envs} integers 0, 1 or 2, got shape "
                f"{actions.shape} and dtype {actions.dtype}"
            )
        if np.count_nonzero((actions < 0) | (actions > 2)):
            raise ValueError("actions must be 0 (turn left), 1 (straight) or 2 (turn right)")

        # Games that ended last step are over in the engine, so advance() leaves them
        # alone (reward 0); restarting them afterwards makes this step their reset.
        reward = self._game.advance(actions)
        restart = self._prev_done.nonzero()[0]
        seeds = np.zeros(self.num_envs, dtype=np.uint64)
        if restart.size:
            seeds[restart] = self._draw_seeds(restart.size)
            self._game.reset_games(restart, seeds[restart])
        # The engine's flags are each game's standing status. Every game not restarted
        # was running before this move, and restarted games are cleared, so the flags now
        # say exactly which games ended in this step.
        terminated = self._game.terminated.copy()
        truncated = self._game.truncated.copy()
        restarted, self._prev_done = self._prev_done, terminated | truncated
        if self.render_mode == "human":
            self.render()
        info = {**self._info(), "game_seed": seeds, "_game_seed": restarted}
        return self._game.observations[:, self._seen].copy(), reward, terminated, truncated, info

    def _draw_seeds(self, n: int) -> np.ndarray:
        """``(n,)`` fresh uint64 per-game seeds from :attr:`np_random`."""
        return self.np_random.integers(0, _SEED_LIMIT, size=n, dtype=np.uint64)

    def _info(self) -> dict[str, Any]:
        g, every = self._game, np.ones(self.num_envs, dtype=bool)
        return {
            "apples": g.apples.copy(),
            "_apples": every,
            "steps": g.steps.copy(),
            "_steps": every.copy(),
            "length": g.length.copy(),
            "_length": every.copy(),
            "won": g.won.copy(),
            "_won": every.copy(),
        }

    def render(self) -> tuple[np.ndarray, ...] | None:
        """``"rgb_array"``: one ``(H, W, 3)`` uint8 frame per game, as a tuple.
        ``"human"``: draws game 0 in the window and returns None."""
        if self.render_mode is None:
            gymnasium.logger.warn(
                "render() was called without a render mode; make the env with "
                f'gymnasium.make_vec("{ENV_ID}", render_mode="rgb_array") (or "human")'
            )
            return None
        if self._prev_done is None:
            raise RuntimeError("call reset() before render()")
        if self.render_mode == "rgb_array":
            return tuple(self._painter.frame(k) for k in range(self.num_envs))
        self._painter.show(0, self.metadata["render_fps"])
        return None

    def close_extras(self, **kwargs: Any) -> None:
        """Close the window, if one is open."""
        self._painter.close()


def register_envs() -> None:
    """Register ``evonet/Snake-v0`` with Gymnasium (once: later calls do nothing).

    ``max_episode_steps`` is None: the hunger limit already truncates every game, and a
    ``TimeLimit`` on top would cut long winning games short.
    """
    if ENV_ID in gymnasium.registry:
        return
    gymnasium.register(
        id=ENV_ID,
        entry_point=f"{__name__}:SnakeEnv",
        vector_entry_point=f"{__name__}:SnakeVectorEnv",
        max_episode_steps=None,
    )


def _check_render_mode(render_mode: str | None, modes: list[str]) -> None:
    if render_mode is not None and render_mode not in modes:
        raise ValueError(f"render_mode must be one of {modes} or None, got {render_mode!r}")
