"""Snake: N independent games stepped in lockstep.

The :class:`Snake` docstring is the rule book. The rules themselves are plain functions of
one game each (:func:`start_game`, :func:`step_game`, :func:`place_apple`,
:func:`observe`), compiled with numba; :class:`Snake` holds the games' arrays and checks
what callers pass in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
from numba import config as numba_config
from numba import njit
from numba.core.registry import CPUDispatcher

from ..base import BatchedGame, Discrete, EpisodeStats, GameSpec, episode_seeds
from ..compiled import load_or_compile

# Headings, clockwise; y grows downwards (row 0 is the top of the board).
UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3
HEADING_NAMES = ("up", "right", "down", "left")
DX4 = np.array([0, 1, 0, -1])
DY4 = np.array([-1, 0, 1, 0])

# The 8 ray directions, clockwise from up: up, up-right, right, down-right, down, ...
DX8 = np.array([0, 1, 1, 1, 0, -1, -1, -1])
DY8 = np.array([-1, -1, 0, 1, 1, 1, 0, -1])
# The ray direction of an offset, by the signs of (dx, dy): RAY_OF_SIGNS[3 * sx + sy + 4].
RAY_OF_SIGNS = np.array([7, 6, 5, 0, -1, 4, 1, 2, 3])
RAY_NAMES = (
    "ahead",
    "ahead-right",
    "right",
    "behind-right",
    "behind",
    "behind-left",
    "left",
    "ahead-left",
)

ACTION_NAMES = ("turn left", "straight", "turn right")
_RAYS = ("fwd", "fwd-R", "R", "back-R", "back", "back-L", "L", "fwd-L")
SHORT_INPUTS = tuple(  # the features' short names, for the network panel
    [f"wall {r}" for r in _RAYS]
    + [f"apple {r}" for r in _RAYS]
    + [f"body {r}" for r in _RAYS]
    + ["head up", "head right", "head down", "head left"]
    + ["apple ahead", "apple right", "length", "hunger"]
    + ["room L", "room fwd", "room R"]
)
# Observation layouts: a saved network records the one it was evolved with, so it keeps
# playing after a newer layout becomes the default. 1: the 32 ray, heading, apple, length
# and hunger features; 2 (the default): those and the room after each move, 35.
LAYOUTS = {1: 32, 2: 35}
LAYOUT = 2
N_OBS = LAYOUTS[LAYOUT]
OBSERVATION_NAMES = (  # the rule book's names of the features, in order
    [f"wall {r}" for r in RAY_NAMES]
    + [f"apple {r}" for r in RAY_NAMES]
    + [f"body {r}" for r in RAY_NAMES]
    + [f"heading {n}" for n in HEADING_NAMES]
    + ["apple ahead", "apple right", "length", "hunger"]
    + ["room left", "room straight", "room right"]
)
MIN_SIDE = 4
# A run on a board with more cells first learns on this one (SnakeSpec.easier): its games
# are short, and the observations are scale-free, so what it learns carries over.
CURRICULUM_BOARD = (10, 10)
MAX_SIDE = 64  # a board of 64x64 cells; every array grows only with the cells
# Hunger is at most this many times the board's cells: enough to reach any cell from
# anywhere several times over, and a bound on every game's length (at most
# cells * hunger steps), so a game always ends.
MAX_HUNGER_FACTOR = 4


# ---------------------------------------------------------------------------- the rules
#
# One game at a time, to be read against the rule book: the docstring of the Snake class
# below. Game k's state is column k of ``state`` (the rows below), ``status`` (alive,
# terminated, truncated, won), ``key`` (its hashed seed), ``grid`` (its occupancy, one byte
# per cell: 1 = snake), ``body`` (a ring buffer of its cells, tail ... head) and ``obs``
# (its observation). Compiled with numba; with NUMBA_DISABLE_JIT=1 the same functions run
# as plain Python.

# Rows of the (9, N) int64 state.
HEADING, HEAD_PTR, LENGTH, HEAD_CELL, APPLE_CELL, APPLES, STEPS, SINCE_APPLE, PLACED = range(9)
N_STATE = 9
# Rows of the (4, N) bool status.
ALIVE, TERMINATED, TRUNCATED, WON = range(4)
# What every rule takes: the board (width, height, hunger, room: 1 if the layout has the
# room features) and the games' arrays (state, status, key, grid, body, obs), followed by
# what the flood fill uses: its queue, which the games share because they are stepped one
# after another, and each cell's neighbours (up, right, down, left; -1 off the board).
Board = tuple[int, int, int, int]
Games = tuple[
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
]

# SplitMix64 constants. Every operand of the hash is uint64: mixing in a signed integer
# would turn the arithmetic into float64 (in numpy and numba alike).
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_STREAM = np.uint64(0xD1B54A32D192ED03)
_S27, _S30, _S31 = np.uint64(27), np.uint64(30), np.uint64(31)


@njit(cache=True)
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64 finaliser: a well-mixed, stateless hash of a uint64."""
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(cache=True)
def draw(key: np.uint64, counter: int) -> np.uint64:
    """Random number ``counter`` of the game whose hashed seed is ``key``. Counter-based, so
    a game's numbers depend only on its own seed and how many it drew."""
    return mix64(key ^ (np.uint64(counter) * _STREAM))


@njit(cache=True)
def place_apple(k: int, cells: int, state: np.ndarray, key: np.ndarray, grid: np.ndarray) -> None:
    """Put game k's apple on a uniformly random free cell: the game's draw number
    ``PLACED + 1``, modulo the free cells, picks one in row-major order."""
    state[PLACED, k] += 1
    n_free = np.uint64(cells - state[LENGTH, k])
    nth = draw(key[k], state[PLACED, k]) % n_free
    seen = np.uint64(0)
    for cell in range(cells):
        if grid[k, cell] == 0:
            if seen == nth:
                state[APPLE_CELL, k] = cell
                return
            seen += np.uint64(1)


@njit(cache=True)
def observe(k: int, board: Board, games: Games) -> None:
    """Write game k's observation features (the table of the rule book): 32, and the 3
    room features when the board says so."""
    width, height, hunger, has_room = board
    state, grid, body, obs = games[0], games[3], games[4], games[5]
    head, heading, apple = state[HEAD_CELL, k], state[HEADING, k], state[APPLE_CELL, k]
    hx, hy = head % width, head // width
    ax, ay = apple % width - hx, apple // width - hy  # the apple relative to the head
    ray_cells = 0  # cells on the 8 rays, walls excluded
    for i in range(8):  # ray i points 45 * i degrees clockwise from the heading
        d = (2 * heading + i) % 8
        dx, dy = DX8[d], DY8[d]
        # Wall: moves until the head would leave the board along the ray.
        wall = width + height
        if dx != 0:
            wall = min(wall, width - hx if dx > 0 else hx + 1)
        if dy != 0:
            wall = min(wall, height - hy if dy > 0 else hy + 1)
        obs[k, i] = 1.0 / wall
        ray_cells += wall - 1
        # Apple: on the ray when its offset is a positive multiple of (dx, dy).
        on_ray = apple >= 0 and ax * dy == ay * dx and ax * dx + ay * dy > 0
        obs[k, 8 + i] = 1.0 if on_ray else 0.0
        obs[k, 16 + i] = 0.0
    # Body: 1 / moves to the nearest segment on each ray. Found by walking the rays cell by
    # cell, or, when the snake has fewer segments than the rays have cells (large boards),
    # by placing each segment on its ray: the same answer, from the cheaper side.
    length = state[LENGTH, k]
    if length - 1 < ray_cells:
        cells = width * height
        ptr = state[HEAD_PTR, k] - length + 1  # the tail
        if ptr < 0:
            ptr += cells
        for _ in range(length - 1):  # every segment but the head
            cell = body[k, ptr]
            ptr = ptr + 1 if ptr + 1 < cells else 0
            sx, sy = cell % width - hx, cell // width - hy
            if sx != 0 and sy != 0 and abs(sx) != abs(sy):
                continue  # on no ray
            d = RAY_OF_SIGNS[3 * np.sign(sx) + np.sign(sy) + 4]
            i = (d - 2 * heading) % 8
            obs[k, 16 + i] = max(obs[k, 16 + i], 1.0 / max(abs(sx), abs(sy)))
    else:
        for i in range(8):
            d = (2 * heading + i) % 8
            x, y, moves = hx + DX8[d], hy + DY8[d], 1
            while 0 <= x < width and 0 <= y < height:
                if grid[k, y * width + x]:
                    obs[k, 16 + i] = 1.0 / moves
                    break
                x, y, moves = x + DX8[d], y + DY8[d], moves + 1
    for i in range(4):
        obs[k, 24 + i] = 1.0 if heading == i else 0.0
    if apple >= 0:
        side = max(width, height)
        fx, fy = DX4[heading], DY4[heading]
        rx, ry = DX4[(heading + 1) % 4], DY4[(heading + 1) % 4]
        obs[k, 28] = (ax * fx + ay * fy) / side
        obs[k, 29] = (ax * rx + ay * ry) / side
    else:  # a full board has no apple
        obs[k, 28] = obs[k, 29] = 0.0
    obs[k, 30] = length / (width * height)
    obs[k, 31] = state[SINCE_APPLE, k] / hunger
    if has_room:
        room(k, board, games)


@njit(cache=True)
def room(k: int, board: Board, games: Games) -> None:
    """Features 32-34: for each move (turn left, straight, turn right), the cells reachable
    from the cell it enters, ``R``, as ``min(R, length) / length``; 0 for a move that dies.

    A flood fill through free cells and the tail's cell (the tail moves on). It stops once
    it has counted ``length`` cells: room for the whole body is all the feature tells, and
    that bound keeps the fill short while the snake is short; a long snake leaves few free
    cells to fill. Moves into one region share a fill.
    """
    width, height = board[0], board[1]
    state, grid, body, obs = games[0], games[3], games[4], games[5]
    queue, neighbours = games[6], games[7]
    cells = width * height
    head, heading, length = state[HEAD_CELL, k], state[HEADING, k], state[LENGTH, k]
    tail = body[k, (state[HEAD_PTR, k] - length + 1) % cells]
    hx, hy = head % width, head // width
    # The fills mark the cells they reach in the grid itself, 2 + the move's number, so one
    # byte tells free (0), body (1) and reached (by which fill); the tail's cell is free for
    # the while. All of it is put back at the end, from the queue of reached cells.
    grid[k, tail] = 0
    top = 0  # queue[:top] holds every cell reached so far, fill after fill
    for a in range(3):
        obs[k, 32 + a] = 0.0
        hd = (heading + a + 3) % 4
        x, y = hx + DX4[hd], hy + DY4[hd]
        if not (0 <= x < width and 0 <= y < height):
            continue  # the move leaves the board
        start = y * width + x
        mark = grid[k, start]
        if mark == 1:
            continue  # the move runs into the body
        if mark >= 2:  # reached by an earlier move's fill: the same region
            obs[k, 32 + a] = obs[k, 32 + mark - 2]
            continue
        grid[k, start] = 2 + a
        first = top
        queue[top] = start
        top += 1
        i, shared = first, -1
        while i < top and top - first < length and shared < 0:
            c = queue[i]
            i += 1
            for d in range(4):
                nc = neighbours[c, d]
                if nc < 0:
                    continue
                mark = grid[k, nc]
                if mark == 0:
                    grid[k, nc] = 2 + a
                    queue[top] = nc
                    top += 1
                elif mark >= 2 and mark != 2 + a:  # an earlier fill stopped short of its end
                    shared = mark - 2
                    break
        if shared >= 0:
            obs[k, 32 + a] = obs[k, 32 + shared]
        else:
            obs[k, 32 + a] = min(top - first, length) / length
    for i in range(top):
        grid[k, queue[i]] = 0
    grid[k, tail] = 1


@njit(cache=True)
def start_game(k: int, seed: np.uint64, board: Board, games: Games) -> None:
    """Game k's start for ``seed``: length 3 through the centre, heading from draw 0, the
    first apple from draw 1."""
    width, height = board[0], board[1]
    state, status, key, grid, body = games[0], games[1], games[2], games[3], games[4]
    key[k] = mix64(np.uint64(seed))
    heading = draw(key[k], 0) % np.uint64(4)
    dx, dy = DX4[heading], DY4[heading]
    cx, cy = width // 2, height // 2
    grid[k, :] = 0
    for i in range(3):  # tail, middle, head
        cell = (cy + (i - 1) * dy) * width + (cx + (i - 1) * dx)
        body[k, i] = cell
        grid[k, cell] = 1
    state[HEADING, k] = heading
    state[HEAD_PTR, k] = 2
    state[LENGTH, k] = 3
    state[HEAD_CELL, k] = body[k, 2]
    state[APPLES, k] = state[STEPS, k] = state[SINCE_APPLE, k] = state[PLACED, k] = 0
    status[ALIVE, k] = True
    status[TERMINATED, k] = status[TRUNCATED, k] = status[WON, k] = False
    place_apple(k, width * height, state, key, grid)
    observe(k, board, games)


@njit(cache=True)
def step_game(k: int, action: int, board: Board, games: Games) -> float:
    """One move of live game k; returns its reward (+1 apple, -1 death, else 0)."""
    width, height, hunger = board[0], board[1], board[2]
    state, status, key, grid, body = games[0], games[1], games[2], games[3], games[4]
    cells = width * height
    heading = (state[HEADING, k] + action + 3) % 4  # action 0 turns left, 2 right
    state[HEADING, k] = heading  # a dead snake keeps the heading it died with
    state[STEPS, k] += 1
    state[SINCE_APPLE, k] += 1
    head = state[HEAD_CELL, k]
    x, y = head % width + DX4[heading], head // width + DY4[heading]
    if not (0 <= x < width and 0 <= y < height):
        status[ALIVE, k], status[TERMINATED, k] = False, True  # left the board
        return -1.0
    cell = y * width + x
    eats = cell == state[APPLE_CELL, k]
    tail_ptr = (state[HEAD_PTR, k] - state[LENGTH, k] + 1) % cells
    tail = body[k, tail_ptr]
    if not eats:
        grid[k, tail] = 0  # the tail leaves its cell first, so following it is legal
    if grid[k, cell]:
        if not eats:
            grid[k, tail] = 1  # the snake died where it was
        status[ALIVE, k], status[TERMINATED, k] = False, True  # ran into its body
        return -1.0
    grid[k, cell] = 1
    ptr = (state[HEAD_PTR, k] + 1) % cells
    body[k, ptr] = cell
    state[HEAD_PTR, k], state[HEAD_CELL, k] = ptr, cell
    reward = 0.0
    if eats:
        reward = 1.0
        state[LENGTH, k] += 1
        state[APPLES, k] += 1
        state[SINCE_APPLE, k] = 0
        if state[LENGTH, k] == cells:  # the board is full: won, and no new apple
            state[APPLE_CELL, k] = -1
            status[ALIVE, k] = False
            status[TERMINATED, k] = status[WON, k] = True
        else:
            place_apple(k, cells, state, key, grid)
    elif state[SINCE_APPLE, k] >= hunger:
        status[ALIVE, k], status[TRUNCATED, k] = False, True  # starved
    observe(k, board, games)
    return reward


# Batch drivers: one compiled call per batch, so Python is crossed once per step.


@njit(cache=True)
def start_games(ks: np.ndarray, seeds: np.ndarray, board: Board, games: Games) -> None:
    """Start games ``ks`` ``(M,)`` anew with their ``seeds`` ``(M,)``."""
    for i in range(ks.size):
        start_game(ks[i], seeds[i], board, games)


@njit(cache=True)
def advance_games(actions: np.ndarray, reward: np.ndarray, board: Board, games: Games) -> None:
    """One move of every live game: ``actions`` ``(N,)`` in, ``reward`` ``(N,)`` out."""
    status = games[1]
    for k in range(actions.size):
        if status[ALIVE, k]:
            reward[k] = step_game(k, actions[k], board, games)


class Snake(BatchedGame):
    """N games of Snake on a ``width x height`` board, stepped together.

    **Board and start.** Cells are ``(x, y)`` with ``x`` in ``[0, width)`` left to right and
    ``y`` in ``[0, height)`` top to bottom, numbered ``y * width + x``. Both sides are between
    4 and 64. Each game starts with a snake of length 3 lying straight through the centre
    cell ``(width // 2, height // 2)``: the middle segment on it, the head one cell ahead.
    The starting heading and every apple come from the game's own seed.

    **Actions** (relative to the heading), one integer per game:

    ====== =========== ==============================
    action name        effect
    ====== =========== ==============================
    0      turn left   heading rotates 90° anticlockwise
    1      straight    heading unchanged
    2      turn right  heading rotates 90° clockwise
    ====== =========== ==============================

    **Rules of one step.** The head moves one cell along the new heading.

    * Leaving the board or entering a body cell kills the snake (``terminated``). The cell
      the tail leaves in this same step is free, so following your own tail is legal.
    * Entering the apple's cell eats it: the snake grows by one (the tail stays) and a new
      apple appears on a uniformly random free cell.
    * Filling the whole board wins (``terminated`` with ``won``); no new apple appears.
    * ``hunger`` steps without an apple end the game (``truncated``); the default is
      ``width * height``, enough to reach any cell from anywhere, and the most is
      ``4 * width * height``, so every game ends.

    **Rewards:** +1 for an apple, -1 for dying, 0 otherwise (and 0 once a game is over).

    **Observation** (``float32``), all in the snake's own frame: ``N_OBS = 35`` features
    in layout 2 (the default), the first 32 of them in layout 1 (``observation=1``, for
    networks evolved before the room features existed). Ray ``i`` points ``45° * i``
    clockwise from the heading: 0 ahead, 1 ahead-right, 2 right, 3 behind-right, 4 behind,
    5 behind-left, 6 left, 7 ahead-left.

    ======= ============================================================================
    index   feature and scaling
    ======= ============================================================================
    0-7     wall along ray i: ``1 / k`` where ``k >= 1`` is the number of moves until the
            head would leave the board (1.0 means the wall is adjacent)
    8-15    apple on ray i: 1.0 if the apple lies on the ray, else 0.0
    16-23   body along ray i: ``1 / k`` for the nearest body segment ``k`` moves away,
            0.0 if no segment lies on the ray
    24-27   absolute heading, one-hot: up, right, down, left
    28      apple ahead: (apple - head) projected on the heading, / max(width, height)
    29      apple to the right: (apple - head) projected on the right-hand side, / max side
    30      length / (width * height)
    31      steps since the last apple / hunger
    32-34   room after turning left, going straight, turning right: ``min(R, length) /
            length``, where ``R`` counts the cells reachable from the cell the move enters
            (itself included) through free cells and the tail's cell, moving up, down,
            left or right; 0.0 for a move that leaves the board or enters the body (the
            tail's cell excepted). 1.0 means there is room for the whole body.
    ======= ============================================================================

    **Episode end.** A game is over when ``terminated`` (died or won) or ``truncated``
    (starved). Finished games stay finished, with their last observation and zero reward,
    until :meth:`reset`; their actions are ignored. ``terminated`` and ``truncated`` as
    returned by :meth:`step` are the games' standing status, not only this step's change.

    **Determinism.** A game's trajectory depends only on its episode seed and its own
    actions: game k gives the same result alone, in a batch of 10,000, or in any order.

    Readable state, each of shape ``(N,)``: ``apples``, ``steps``, ``length``, ``alive``,
    ``won``, ``heading``, ``head_cell`` (and ``head_x``, ``head_y``), ``apple_cell``,
    ``steps_since_apple``.

    **Fitness** of one episode, for evolution (:meth:`episode_stats`)::

        f = apples + s / (s + C)

    where ``C = width * height`` and ``s`` is the number of *useful* steps survived: all
    steps of an episode that ended by dying or by winning, but for a starved (truncated)
    episode only the steps up to its last apple. Apples always dominate (the tie-break is
    below 1), longer survival breaks ties, and circling until starved earns nothing. The
    score people read is the apples.
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
        for name, side in (("width", width), ("height", height)):
            if not isinstance(side, (int, np.integer)) or not MIN_SIDE <= side <= MAX_SIDE:
                raise ValueError(
                    f"board {name} must be a whole number from {MIN_SIDE} to {MAX_SIDE}, "
                    f"got {side!r}"
                )
        if not isinstance(n_games, (int, np.integer)) or n_games < 1:
            raise ValueError(f"n_games must be a positive whole number, got {n_games!r}")
        if hunger is None:
            hunger = width * height
        if not isinstance(hunger, (int, np.integer)) or hunger < 1:
            raise ValueError(f"hunger limit must be a positive whole number, got {hunger!r}")
        if hunger > MAX_HUNGER_FACTOR * width * height:
            raise ValueError(
                f"hunger limit can be at most {MAX_HUNGER_FACTOR} x the board's cells "
                f"({MAX_HUNGER_FACTOR * width * height} on {width}x{height}), got {hunger}"
            )
        if observation not in LAYOUTS:
            raise ValueError(f"observation layout must be 1 or 2, got {observation!r}")
        n, w, h = int(n_games), int(width), int(height)
        self.n, self.width, self.height, self.hunger = n, w, h, int(hunger)
        self.observation = int(observation)
        self.n_obs = LAYOUTS[self.observation]
        self.cells = c = w * h
        self._state = np.zeros((N_STATE, n), dtype=np.int64)
        self._status = np.zeros((4, n), dtype=bool)
        self._key = np.zeros(n, dtype=np.uint64)
        self.seeds = np.zeros(n, dtype=np.uint64)
        self._grid = np.zeros((n, c), dtype=np.uint8)
        self._body = np.zeros((n, c), dtype=np.int16)  # cells < 64 * 64 fit
        self._obs = np.zeros((n, self.n_obs), dtype=np.float32)
        # The flood fill's queue of cells, shared by the games.
        self._queue = np.zeros(c, dtype=np.int64)
        self._neighbours = neighbour_table(w, h)
        self._reward = np.zeros(n, dtype=np.float32)
        # Readable per-game state: contiguous rows of the arrays above, (N,) each.
        s, st = self._state, self._status
        self.heading, self.head_cell, self.apple_cell = s[HEADING], s[HEAD_CELL], s[APPLE_CELL]
        self.length, self.apples, self.steps = s[LENGTH], s[APPLES], s[STEPS]
        self.steps_since_apple = s[SINCE_APPLE]
        self.alive, self.terminated = st[ALIVE], st[TERMINATED]
        self.truncated, self.won = st[TRUNCATED], st[WON]
        self._seeded = False

    @staticmethod
    def memory_bytes(n_games: int, width: int, height: int) -> int:
        """An upper estimate of the bytes ``Snake(n_games, width, height)`` uses: per game
        its occupancy grid (1 byte a cell), body ring buffer (2 bytes a cell), observation
        and state. Nothing grows faster than the board's cells."""
        cells = width * height
        fill = 40 * cells  # the flood fill's queue and neighbours, one for all the games
        return n_games * (3 * cells + 4 * N_OBS + 8 * N_STATE + 64) + fill + (1 << 16)

    def _rules(self) -> tuple[Board, Games]:
        """The board and the games' arrays, as every compiled rule takes them."""
        board = (self.width, self.height, self.hunger, int(self.n_obs > LAYOUTS[1]))
        arrays = (self._state, self._status, self._key, self._grid, self._body, self._obs)
        return board, (*arrays, self._queue, self._neighbours)

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
            start_games(g, seeds, *self._rules())

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
        flat = [y * self.width + x for x, y in reversed(cells)]  # tail .. head
        self._grid[k] = 0
        self._grid[k, flat] = 1
        self._body[k, : len(flat)] = flat
        s = self._state[:, k]
        s[HEAD_PTR], s[LENGTH], s[HEAD_CELL] = len(flat) - 1, len(flat), flat[-1]
        s[HEADING] = heading
        s[APPLE_CELL] = -1 if apple is None else apple[1] * self.width + apple[0]
        s[APPLES] = s[STEPS] = s[SINCE_APPLE] = 0
        self._status[:, k] = (True, False, False, False)  # alive only
        with _quiet():
            observe(k, *self._rules())

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
        # One dtype for the compiled loop, so it is compiled (and cached) once.
        actions = actions.astype(np.int64, copy=False)
        self._reward[:] = 0.0
        with _quiet():
            advance_games(actions, self._reward, *self._rules())
        return self._reward

    @property
    def observations(self) -> np.ndarray:
        """The current ``(N, n_obs)`` observations as a read-only view (no copy)."""
        view = self._obs.view()
        view.flags.writeable = False
        return view

    def episode_stats(self) -> EpisodeStats:
        """Apples, steps, wins and the fitness (see the class docstring), each ``(N,)``."""
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
        return self._grid.astype(bool)

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
        ptr, n = self._state[HEAD_PTR, k], self.length[k]
        cells = self._body[k, (ptr - np.arange(n)) % self.cells].astype(np.int64)
        return np.stack([cells % self.width, cells // self.width], axis=1)

    def apple_xy(self, k: int) -> tuple[int, int] | None:
        """Game ``k``'s apple as ``(x, y)``, or None once the board is full."""
        a = int(self.apple_cell[k])
        return None if a < 0 else (a % self.width, a // self.width)

    def observation_names(self) -> list[str]:
        """Names of the ``n_obs`` observation features, in order."""
        return OBSERVATION_NAMES[: self.n_obs]


def neighbour_table(width: int, height: int) -> np.ndarray:
    """``(cells, 4)`` int64: each cell's neighbour up, right, down and left, -1 off the
    board. The flood fill looks neighbours up here rather than dividing cell numbers."""
    x, y = np.meshgrid(np.arange(width), np.arange(height))
    x, y = x.ravel(), y.ravel()
    nx, ny = x[:, None] + DX4, y[:, None] + DY4
    inside = (nx >= 0) & (nx < width) & (ny >= 0) & (ny < height)
    return np.where(inside, ny * width + nx, -1).astype(np.int64)


def _quiet() -> contextlib.AbstractContextManager:
    """As plain Python (NUMBA_DISABLE_JIT=1) the hash runs on numpy scalars, which warn
    about the wrap-around it relies on; compiled, it wraps silently."""
    return np.errstate(over="ignore") if numba_config.DISABLE_JIT else contextlib.nullcontext()


def warm_up() -> tuple[float, bool]:
    """Make the compiled engine ready: compile it, or load it from numba's cache (and
    compile afresh if that cache is damaged: :func:`games.compiled.load_or_compile`).

    Returns ``(seconds it took, whether it was compiled rather than loaded)``. Compiled code
    is cached beside the module, or in the user's cache folder (``~/.cache/numba``) when the
    install is read-only, so only the first run after an install compiles.
    """
    return load_or_compile(_first_step, _RULES, _ENTRY_POINTS)


def _first_step() -> None:
    env = Snake(1, MIN_SIDE, MIN_SIDE)
    env.reset(seed=0)
    env.advance(np.ones(1, dtype=np.int64))


# The compiled functions Python calls directly; the rest are compiled into them.
_ENTRY_POINTS = (start_games, advance_games, observe)
# Every compiled function of the engine (none, as plain Python: NUMBA_DISABLE_JIT).
_RULES = tuple(f for f in list(globals().values()) if isinstance(f, CPUDispatcher))


def episode_fitness(
    apples: np.ndarray, steps: np.ndarray, truncated: np.ndarray, hunger: int, cells: int
) -> np.ndarray:
    """Per-episode fitness (see :class:`Snake`); all arrays share one shape."""
    useful = steps - np.where(truncated, hunger, 0)
    return apples + useful / (useful + cells)


def check_board(width: int, height: int) -> tuple[int, int]:
    """``(width, height)`` if the engine can play it, else ValueError saying why."""
    lo, hi = MIN_SIDE, MAX_SIDE
    if width < lo or height < lo:
        raise ValueError(f"the board must be at least {lo}x{lo}, got {width}x{height}")
    if width > hi or height > hi:
        raise ValueError(f"the board can be at most {hi}x{hi}, got {width}x{height}")
    return width, height


def check_hunger(hunger: int, width: int, height: int) -> int:
    """``hunger`` if it is 0 (the board's cell count) or at most ``MAX_HUNGER_FACTOR`` x the
    cells, so every game ends; else ValueError saying why."""
    most = MAX_HUNGER_FACTOR * width * height
    if not 0 <= hunger <= most:
        raise ValueError(
            f"hunger must be from 0 (the board's cell count) to {MAX_HUNGER_FACTOR} x the "
            f"board's cells ({most} on {width}x{height}), so every game ends; got {hunger}"
        )
    return hunger


def _whole(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


@dataclass(frozen=True)
class SnakeSpec(GameSpec):
    """Snake on a ``board = (width, height)`` with a ``hunger`` limit (0: width * height).

    The registry's maker for ``snake``: ``games.base.make("snake", board=(8, 8))``.
    """

    name: str = "snake"
    board: tuple[int, int] = (10, 10)
    hunger: int = 0
    observation: int = LAYOUT

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
        if not (isinstance(board, (tuple, list)) and len(board) == 2 and all(map(_whole, board))):
            raise ValueError(f"board must be two whole numbers (width, height), got {board!r}")
        object.__setattr__(self, "board", (int(board[0]), int(board[1])))
        if not _whole(self.hunger):
            raise ValueError(f"hunger must be a whole number, got {self.hunger!r}")
        check_hunger(int(self.hunger), *check_board(*self.board))
        if not _whole(self.observation) or self.observation not in LAYOUTS:
            raise ValueError(
                f"observation layout must be one of {', '.join(map(str, LAYOUTS))}, "
                f"got {self.observation!r}"
            )

    @property
    def n_obs(self) -> int:  # type: ignore[override]
        return LAYOUTS[self.observation]

    @property
    def input_labels(self) -> tuple[str, ...]:  # type: ignore[override]
        return SHORT_INPUTS[: self.n_obs]

    @property
    def width(self) -> int:
        return self.board[0]

    @property
    def height(self) -> int:
        return self.board[1]

    def make(self, n_games: int) -> Snake:
        return Snake(n_games, self.width, self.height, self.hunger or None, self.observation)

    def memory_bytes(self, n_games: int) -> int:
        return Snake.memory_bytes(n_games, self.width, self.height)

    def describe(self) -> str:
        layout = "" if self.observation == LAYOUT else f" (observation layout {self.observation})"
        return f"snake {self.width}x{self.height}{layout}"

    def info(self) -> dict:
        return {"board": list(self.board), "hunger": self.hunger, "observation": self.observation}

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
