"""The Snake engine: N games of the rule book (:mod:`games.snake.rules`) stepped together.

:class:`Snake` holds the games' arrays, checks what callers pass in, and crosses into the
compiled rules once per call; :func:`warm_up` gets those ready (compiled, or loaded from
numba's cache).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np
from numba import config as numba_config

from ..base import BatchedGame, Discrete, EpisodeStats, episode_seeds
from ..compiled import load_or_compile
from .rules import (
    COMPILED,
    ENTRY_POINTS,
    FEATURE_NAMES,
    LAYOUT,
    LAYOUTS,
    MIN_SIDE,
    N_OBS,
    advance_games,
    check_settings,
    episode_fitness,
    new_board,
    new_games,
    observe_game,
    start_games,
)


class Snake(BatchedGame):
    """N games of Snake on a ``width x height`` board, stepped together, each by the rule
    book (:mod:`games.snake.rules`).

    ``hunger`` is the hunger limit, None for the default (the board's cells);
    ``observation`` the observation layout. ``terminated`` and ``truncated`` as returned by
    :meth:`step` are the games' standing status, not only this step's change.

    Readable state, each of shape ``(N,)``: ``apples``, ``steps``, ``length``, ``alive``,
    ``terminated``, ``truncated``, ``won``, ``heading``, ``head_cell`` (and ``head_x``,
    ``head_y``), ``apple_cell``, ``steps_since_apple``.
    """

    action_space = Discrete(3)
    score_name = "apples"

    def __init__(
        self,
        n_games: int = 1,
        width: int = 10,
        height: int = 10,
        hunger: int | None = None,
        observation: int = LAYOUT,
    ) -> None:
        settings = check_settings(width, height, hunger, observation)
        if not isinstance(n_games, (int, np.integer)) or n_games < 1:
            raise ValueError(f"n_games must be a positive whole number, got {n_games!r}")
        self.n = n = int(n_games)
        self.width, self.height, self.hunger, self.observation = settings
        self.n_obs = LAYOUTS[self.observation]
        self.cells = self.width * self.height
        self._board = new_board(*settings)
        self._games = g = new_games(n, self.cells, self.n_obs)
        # What the compiled drivers take: the same as plain tuples (see games.snake.rules).
        self._rules = tuple(self._board), tuple(g)
        self._obs = g.obs
        self.seeds = np.zeros(n, dtype=np.uint64)
        self._reward = np.zeros(n, dtype=np.float32)
        # Readable per-game state, (N,) each: views of the games' state records, and alive.
        st = g.state
        self.heading, self.head_cell, self.apple_cell = st.heading, st.head_cell, st.apple_cell
        self.length, self.apples, self.steps = st.length, st.apples, st.steps
        self.steps_since_apple = st.steps_since_apple
        self.alive, self.terminated = g.alive, st.terminated
        self.truncated, self.won = st.truncated, st.won
        self._seeded = False

    @property
    def compiled_rules(self) -> tuple[tuple, tuple]:
        """The board's and the games' arrays as the compiled rules take them (plain
        tuples of a :class:`~games.snake.rules.Board` and :class:`~games.snake.rules.Games`),
        for compiled loops that step these games themselves."""
        return self._rules

    @staticmethod
    def memory_bytes(n_games: int, width: int, height: int) -> int:
        """An upper estimate of the bytes ``Snake(n_games, width, height)`` uses: per game
        its occupancy grid (1 byte a cell), body ring buffer (2 bytes a cell), observation,
        state record, seed and reward. Nothing grows faster than the board's cells."""
        cells = width * height
        # One for all the games: the board's tables (neighbours, walls, cells' columns and
        # rows, shares up to the longest hunger, rays as bits) and the flood fill's queue.
        tables = 256 * cells
        state = 8 * 9 + 64  # at least STATE.itemsize + 8 + 4
        return n_games * (3 * cells + 4 * N_OBS + state) + tables + (1 << 16)

    # ------------------------------------------------------------------------- reset

    def reset(
        self, seed: int | Sequence[int] | np.ndarray | None = None
    ) -> tuple[np.ndarray, dict]:
        """Start every game anew.

        Args:
            seed: an int (per-game seeds derived with :func:`episode_seeds`) or ``N``
                per-game seeds (uint64-compatible). ``None`` draws fresh OS entropy.

        Returns:
            ``(obs (N, n_obs) float32, info)``; ``info["seeds"]`` holds the per-game seeds.
        """
        seeds = self._seed_array(seed, self.n)
        self._seeded = True
        self._start(np.arange(self.n), seeds)
        info = self._info()
        info["seeds"] = self.seeds.copy()
        return self._obs.copy(), info

    def reset_games(self, games: np.ndarray | Sequence[int], seeds: np.ndarray) -> np.ndarray:
        """Restart only the listed games with the given per-game seeds.

        The other games are untouched, so a caller can keep a batch full (auto-reset).
        A restarted game behaves exactly as after :meth:`reset` with that seed.

        Returns:
            the new observations of those games, ``(len(games), n_obs)``.
        """
        if not self._seeded:
            raise RuntimeError("call reset() before reset_games()")
        g = np.asarray(games, dtype=np.int64)
        if g.ndim != 1:
            raise ValueError(f"game indices must be a 1-D array, got shape {g.shape}")
        seeds = self._seed_array(seeds, g.size)
        if g.size and (g.min() < 0 or g.max() >= self.n):
            raise ValueError(f"game indices must lie within [0, {self.n})")
        if np.unique(g).size != g.size:
            raise ValueError("game indices must be distinct")
        self._start(g, seeds)
        return self._obs.take(g, axis=0)

    @staticmethod
    def _seed_array(seed: int | Sequence[int] | np.ndarray | None, n: int) -> np.ndarray:
        if seed is None:
            return np.random.SeedSequence().generate_state(n, dtype=np.uint64)
        if np.ndim(seed) == 0:
            return episode_seeds(int(seed), n)
        seeds = np.asarray(seed)
        if seeds.shape != (n,):
            raise ValueError(f"expected {n} per-game seeds, got shape {seeds.shape}")
        if seeds.dtype.kind not in "iu" or (seeds.dtype.kind == "i" and np.any(seeds < 0)):
            raise ValueError("per-game seeds must be non-negative integers")
        return seeds.astype(np.uint64, copy=False)

    def _start(self, g: np.ndarray, seeds: np.ndarray) -> None:
        self.seeds[g] = seeds
        with _quiet():
            start_games(g, seeds, *self._rules)

    def set_game(
        self,
        k: int,
        cells: Sequence[tuple[int, int]],
        heading: int,
        apple: tuple[int, int] | None,
    ) -> None:
        """Put game ``k`` in a given position (for tests, puzzles and demonstrations).

        Args:
            cells: the snake's segments as ``(x, y)``, head first; at least 2, each
                adjacent to the next, inside the board and distinct.
            heading: 0 up, 1 right, 2 down, 3 left.
            apple: the apple's cell, which must be free; None only for a full board.

        The game becomes live with zero steps and apples; its seed stream is kept.
        """
        if not self._seeded:
            raise RuntimeError("call reset() before set_game()")
        cells = [(int(x), int(y)) for x, y in cells]
        self._check_position(cells, heading, apple)
        flat = [y * self.width + x for x, y in reversed(cells)]  # tail .. head
        g = self._games
        g.grid[k] = 0
        g.grid[k, flat] = 1
        g.body[k, : len(flat)] = flat
        s = g.state[k]
        s.head_ptr, s.length, s.head_cell = len(flat) - 1, len(flat), flat[-1]
        words = [0, 0]
        for cell in flat if self._board.bits else ():
            words[cell // 64] |= 1 << (cell % 64)
        s.bits_lo, s.bits_hi = words
        s.heading = heading
        s.apple_cell = -1 if apple is None else apple[1] * self.width + apple[0]
        s.apples = s.steps = s.steps_since_apple = 0
        g.alive[k], s.terminated, s.truncated, s.won = True, False, False, False
        with _quiet():
            observe_game(k, self._board, g)

    def _check_position(
        self, cells: list[tuple[int, int]], heading: int, apple: tuple[int, int] | None
    ) -> None:
        """ValueError unless :meth:`set_game` can put a snake of ``cells`` there."""
        if len(cells) < 2 or len(set(cells)) != len(cells):
            raise ValueError("a snake needs at least 2 distinct cells")
        for (x0, y0), (x1, y1) in zip(cells, cells[1:], strict=False):
            if abs(x0 - x1) + abs(y0 - y1) != 1:
                raise ValueError(f"segments {(x0, y0)} and {(x1, y1)} are not adjacent")
        if any(not (0 <= x < self.width and 0 <= y < self.height) for x, y in cells):
            raise ValueError("every segment must be on the board")
        if heading not in (0, 1, 2, 3):
            raise ValueError(f"heading must be 0, 1, 2 or 3, got {heading!r}")
        if (apple is None) != (len(cells) == self.cells) or apple in cells:
            raise ValueError("the apple must be on a free cell (None only on a full board)")

    # -------------------------------------------------------------------------- step

    def step(
        self, actions: np.ndarray | Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Advance every live game by one move.

        Args:
            actions: ``(N,)`` integers in {0, 1, 2}: turn left, straight, turn right.

        Returns:
            ``(obs (N, n_obs) float32, reward (N,) float32, terminated (N,) bool,
            truncated (N,) bool, info)``.
        """
        if not self._seeded:
            raise RuntimeError("call reset() before step()")
        actions = np.asarray(actions)
        if actions.shape != (self.n,):
            raise ValueError(f"actions must have shape ({self.n},), got {actions.shape}")
        if actions.dtype.kind not in "iu":
            raise ValueError(f"actions must be integers 0, 1, 2, got dtype {actions.dtype}")
        # Viewed as unsigned, negative actions are huge: one comparison checks the range.
        if np.count_nonzero(actions.view(actions.dtype.str.replace("i", "u")) > 2):
            raise ValueError("actions must be 0 (turn left), 1 (straight) or 2 (turn right)")

        reward = self.advance(actions).copy()
        obs, term, trunc = self._obs.copy(), self.terminated.copy(), self.truncated.copy()
        return obs, reward, term, trunc, self._info()

    def advance(self, actions: np.ndarray) -> np.ndarray:
        """:meth:`step` for trusted callers: no checks, no copies.

        ``actions`` must be a valid ``(N,)`` integer array. Returns the ``(N,)`` rewards (a
        buffer the next call overwrites); read the new observations from
        :attr:`observations`. A population rollout uses this in its inner loop.
        """
        # One dtype and one memory layout for the compiled loop, so it is compiled (and
        # cached) once: a strided view of actions would compile a second version of it.
        actions = np.ascontiguousarray(actions, dtype=np.int64)
        self._reward[:] = 0.0
        with _quiet():
            advance_games(actions, self._reward, *self._rules)
        return self._reward

    @property
    def observations(self) -> np.ndarray:
        """The current ``(N, n_obs)`` observations as a read-only view (no copy)."""
        view = self._obs.view()
        view.flags.writeable = False
        return view

    def observation_names(self) -> list[str]:
        """Names of the ``n_obs`` observation features, in order (the rule book's)."""
        return list(FEATURE_NAMES[: self.n_obs])

    def episode_stats(self) -> EpisodeStats:
        """Apples, steps, wins and the fitness (the rule book's), each ``(N,)``."""
        fitness = episode_fitness(self.apples, self.steps, self.truncated, self.hunger, self.cells)
        return EpisodeStats(
            fitness, self.apples.astype(np.float64), self.steps.copy(), self.won.copy()
        )

    def _info(self) -> dict:
        return {
            "apples": self.apples.copy(),
            "steps": self.steps.copy(),
            "length": self.length.copy(),
            "alive": self.alive.copy(),
            "won": self.won.copy(),
        }

    # ------------------------------------------------------------------ for the views

    @property
    def occupied(self) -> np.ndarray:
        """``(N, C)`` bool: the cells each snake covers."""
        return self._games.grid.astype(bool)

    @property
    def head_x(self) -> np.ndarray:
        """``(N,)`` column of each head."""
        return self.head_cell % self.width

    @property
    def head_y(self) -> np.ndarray:
        """``(N,)`` row of each head."""
        return self.head_cell // self.width

    @property
    def done(self) -> np.ndarray:
        """``(N,)`` bool: the game is over (terminated or truncated)."""
        return ~self.alive

    def snake_cells(self, k: int) -> np.ndarray:
        """``(length, 2)`` int array of game ``k``'s segments as ``(x, y)``, head first."""
        g = self._games
        ptr, n = g.state[k].head_ptr, self.length[k]
        cells = g.body[k, (ptr - np.arange(n)) % self.cells].astype(np.int64)
        return np.stack([cells % self.width, cells // self.width], axis=1)

    def apple_xy(self, k: int) -> tuple[int, int] | None:
        """Game ``k``'s apple as ``(x, y)``, or None once the board is full."""
        a = int(self.apple_cell[k])
        return None if a < 0 else (a % self.width, a // self.width)


def _quiet() -> contextlib.AbstractContextManager:
    """As plain Python (NUMBA_DISABLE_JIT=1) the hash runs on numpy scalars, which warn
    about the wrap-around it relies on; compiled, it wraps silently."""
    return np.errstate(over="ignore") if numba_config.DISABLE_JIT else contextlib.nullcontext()


def warm_up() -> tuple[float, bool]:
    """Make the compiled engine ready: compile it, or load it from numba's cache (and
    compile afresh if that cache is damaged: :func:`games.compiled.load_or_compile`).

    Returns ``(seconds it took, whether it was compiled rather than loaded)``. Compiled code
    is cached beside the rules' module, or in the user's cache folder (``~/.cache/numba``)
    when the install is read-only, so only the first run after an install compiles.
    """
    return load_or_compile(_first_step, COMPILED, ENTRY_POINTS)


def _first_step() -> None:
    env = Snake(1, MIN_SIDE, MIN_SIDE)
    env.reset(seed=0)
    env.advance(np.ones(1, dtype=np.int64))
