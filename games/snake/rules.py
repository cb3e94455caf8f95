"""Snake's rule book, then its rules.

**Board and start.** Cells are ``(x, y)`` with ``x`` in ``[0, width)`` left to right and ``y``
in ``[0, height)`` top to bottom, numbered ``y * width + x``. Both sides are between 4 and
64. Each game starts with a snake of length 3 lying straight through the centre cell
``(width // 2, height // 2)``: the middle segment on it, the head one cell ahead. The
starting heading and every apple come from the game's own seed.

**Actions** (relative to the heading), one integer per game:

====== =========== =================================
action name        effect
====== =========== =================================
0      turn left   heading rotates 90° anticlockwise
1      straight    heading unchanged
2      turn right  heading rotates 90° clockwise
====== =========== =================================

**One step.** The head moves one cell along the new heading.

* Leaving the board or entering a body cell kills the snake (``terminated``). The cell the
  tail leaves in this same step is free, so following your own tail is legal.
* Entering the apple's cell eats it: the snake grows by one (the tail stays) and a new
  apple appears on a uniformly random free cell.
* Filling the whole board wins (``terminated`` with ``won``); no new apple appears.
* ``hunger`` steps without an apple end the game (``truncated``); the default is
  ``width * height``, enough to reach any cell from anywhere, and the most is
  ``4 * width * height``, so every game ends.

**Rewards:** +1 for an apple, -1 for dying, 0 otherwise (and 0 once a game is over).

**Observation** (``float32``), all in the snake's own frame: 35 features in layout 2 (the
default) and in layout 3 (``observation=3``, the same features with the room's on another
scale, as the table says), the first 32 of them in layout 1 (``observation=1``, for
networks evolved before the room features existed). Ray ``i`` points ``45° * i``
clockwise from the heading; the rays' names, ``<ray>`` below, are for i = 0 to 7:
``fwd`` (ahead), ``fwd-R``, ``R`` (right), ``back-R``, ``back`` (behind), ``back-L``,
``L`` (left), ``fwd-L``. Each feature's name is the one the network panel,
:meth:`games.snake.engine.Snake.observation_names` and the Gymnasium environment show
(:data:`FEATURE_NAMES`).

======= ============ ======================================================================
index   name         feature and scaling
======= ============ ======================================================================
0-7     wall <ray>   ``1 / k`` where ``k >= 1`` is the number of moves until the head would
                     leave the board along the ray (1.0 means the wall is adjacent)
8-15    apple <ray>  1.0 if the apple lies on the ray, else 0.0
16-23   body <ray>   ``1 / k`` for the nearest body segment ``k`` moves away along the ray,
                     0.0 if no segment lies on it
24-27   head <dir>   the absolute heading, one-hot; ``<dir>``: up, right, down, left
28      apple ahead  (apple - head) projected on the heading, / max(width, height)
29      apple right  (apple - head) projected on the right-hand side, / max(width, height)
30      length       length / (width * height)
31      hunger       steps since the last apple / hunger
32-34   room <move>  the room after the move, ``<move>``: L (turn left), fwd (straight), R
                     (turn right): ``min(R, length) / length``, where ``R`` counts the cells
                     reachable from the cell the move enters (itself included) through free
                     cells and the tail's cell, moving up, down, left or right; 0.0 for a
                     move that leaves the board or enters the body (the tail's cell
                     excepted). 1.0 means there is room for the whole body. Layout 3:
                     ``log(1 + min(R, length)) / log(1 + length)``, on which one cell
                     (the tail's, say) is far from 0.0 even for a long snake.
======= ============ ======================================================================

**Episode end.** A game is over when ``terminated`` (died or won) or ``truncated``
(starved). Finished games stay finished, with their last observation and zero reward,
until they are reset; their actions are ignored.

**Fitness** of one episode, for evolution::

    f = apples + s / (s + C)

where ``C = width * height`` and ``s`` is the number of *useful* steps survived: all steps
of an episode that ended by dying or by winning, but for a starved (truncated) episode only
the steps up to its last apple. Apples always dominate (the tie-break is below 1), longer
survival breaks ties, and circling until starved earns nothing. The score people read is
the apples.

**Determinism.** A game's trajectory depends only on its episode seed and its own actions:
game k gives the same result alone, in a batch of 10,000, or in any order.

The rules follow in the order above: the settings the rule book allows, the game's state,
then the compiled rules (start, actions, one step, observations, fitness), and last the
drivers that play a batch of games in one compiled call. Each rule is a plain function of
one game, compiled with numba; with NUMBA_DISABLE_JIT=1 the same functions run as plain
Python. :class:`games.snake.engine.Snake` holds the games' arrays and checks what callers
pass in.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit
from numba.core.registry import CPUDispatcher

# ------------------------------------------------------------------ the rule book's terms

# Headings, clockwise; y grows downwards (row 0 is the top of the board).
UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3
DX4 = np.array([0, 1, 0, -1])
DY4 = np.array([-1, 0, 1, 0])
ACTION_NAMES = ("turn left", "straight", "turn right")

# The 8 ray directions, clockwise from up: up, up-right, right, down-right, down, ...
DX8 = np.array([0, 1, 1, 1, 0, -1, -1, -1])
DY8 = np.array([-1, -1, 0, 1, 1, 1, 0, -1])
# The ray direction of an offset, by the signs of (dx, dy): RAY_OF_SIGNS[3 * sx + sy + 4].
RAY_OF_SIGNS = np.array([7, 6, 5, 0, -1, 4, 1, 2, 3])
# The rays' names, ray i turned 45° * i clockwise from the heading: short, as the network
# panel shows them beside its input neurons.
RAY_NAMES = ("fwd", "fwd-R", "R", "back-R", "back", "back-L", "L", "fwd-L")

# The observation, block by block as in the rule book's table: each block's features'
# names. The one list of names (FEATURE_NAMES) and every block's place (FEATURE_BLOCKS)
# come from here, so the two cannot disagree.
_BLOCK_NAMES = {
    "wall": [f"wall {r}" for r in RAY_NAMES],
    "apple": [f"apple {r}" for r in RAY_NAMES],
    "body": [f"body {r}" for r in RAY_NAMES],
    "heading": ["head up", "head right", "head down", "head left"],
    "apple offset": ["apple ahead", "apple right"],
    "length": ["length"],
    "hunger": ["hunger"],
    "room": ["room L", "room fwd", "room R"],
}
FEATURE_NAMES: tuple[str, ...] = tuple(n for names in _BLOCK_NAMES.values() for n in names)


def _slices(blocks: dict[str, list[str]]) -> dict[str, slice]:
    """Each block's slice of the features, the blocks one after another."""
    slices, start = {}, 0
    for block, names in blocks.items():
        slices[block] = slice(start, start + len(names))
        start += len(names)
    return slices


# Each block's slice of an observation: obs[:, FEATURE_BLOCKS["body"]] is the body rays.
FEATURE_BLOCKS: dict[str, slice] = _slices(_BLOCK_NAMES)
# Where each block starts, for the compiled rules: ray i's wall feature is WALL_RAYS + i.
WALL_RAYS = FEATURE_BLOCKS["wall"].start
APPLE_RAYS = FEATURE_BLOCKS["apple"].start
BODY_RAYS = FEATURE_BLOCKS["body"].start
HEADING_ONE_HOT = FEATURE_BLOCKS["heading"].start
APPLE_AHEAD = FEATURE_BLOCKS["apple offset"].start
APPLE_RIGHT = APPLE_AHEAD + 1
LENGTH_SHARE = FEATURE_BLOCKS["length"].start
HUNGER_SHARE = FEATURE_BLOCKS["hunger"].start
ROOM = FEATURE_BLOCKS["room"].start

# Observation layouts: a saved network records the one it was evolved with, so it keeps
# playing after a newer layout becomes the default. 1: the features before the room;
# 2 (the default): all of them; 3: the same features, the room's on a log scale.
LAYOUTS = {1: ROOM, 2: len(FEATURE_NAMES), 3: len(FEATURE_NAMES)}
LAYOUT = 2
N_OBS = LAYOUTS[LAYOUT]

# ----------------------------------------------------------- the settings the rules allow

MIN_SIDE = 4
MAX_SIDE = 64  # a board of 64x64 cells; every array grows only with the cells
# Hunger is at most this many times the board's cells: enough to reach any cell from
# anywhere several times over, and a bound on every game's length (at most
# cells * hunger steps), so a game always ends.
MAX_HUNGER_FACTOR = 4
# Boards of up to this many cells (two 64-bit words; 10x10 and 11x11 among them) keep the
# snake's cells as bits too, and fill the room features on bits.
BIT_CELLS = 128
# A snake of up to this many cells finds its body rays segment by segment, fewer steps than
# the 8 rays on bits take.
SHORT = 8


class Settings(NamedTuple):
    """A game's settings as the rules allow them (:func:`check_settings`)."""

    width: int
    height: int
    hunger: int  # the hunger limit itself: never 0
    observation: int  # the observation layout, a key of LAYOUTS


def check_settings(
    width: int, height: int, hunger: int | None = None, observation: int = LAYOUT
) -> Settings:
    """The settings as ints if the rules allow them, else ValueError saying why.

    The one check of a game's settings: :class:`games.snake.engine.Snake` and
    :class:`games.snake.spec.SnakeSpec` both call it. ``hunger`` None is the default, the
    board's cell count (which a spec's settings write as 0).
    """
    w, h = _board(width, height)
    most = MAX_HUNGER_FACTOR * w * h
    if hunger is not None and not whole(hunger):
        raise ValueError(f"hunger must be a whole number, got {hunger!r}")
    if hunger == 0:  # a spec's 0 arrives as None: this is a limit of 0 moves
        raise ValueError("a hunger limit of 0 would end every game at once; None is the default")
    if hunger is not None and not 0 < hunger <= most:
        raise ValueError(
            f"hunger must be from 0 (the board's cell count) to {MAX_HUNGER_FACTOR} x the "
            f"board's cells ({most} on {w}x{h}), so every game ends; got {hunger}"
        )
    if not whole(observation) or observation not in LAYOUTS:
        layouts = ", ".join(map(str, LAYOUTS))
        raise ValueError(f"observation layout must be one of {layouts}, got {observation!r}")
    return Settings(w, h, w * h if hunger is None else int(hunger), int(observation))


def _board(width: int, height: int) -> tuple[int, int]:
    """``(width, height)`` as ints if both are whole numbers from MIN_SIDE to MAX_SIDE."""
    sides = {"width": width, "height": height}
    for name, side in sides.items():
        if not whole(side):
            raise ValueError(f"board {name} must be a whole number, got {side!r}")
    w, h, lo, hi = int(width), int(height), MIN_SIDE, MAX_SIDE
    small = ", ".join(f"{n} {v}" for n, v in sides.items() if v < lo)
    if small:
        raise ValueError(f"the board must be at least {lo}x{lo}, got {w}x{h} ({small})")
    large = ", ".join(f"{n} {v}" for n, v in sides.items() if v > hi)
    if large:
        raise ValueError(f"the board can be at most {hi}x{hi}, got {w}x{h} ({large})")
    return w, h


def check_board(width: int, height: int) -> tuple[int, int]:
    """``(width, height)`` if the rules allow that board, else ValueError saying why."""
    settings = check_settings(width, height)
    return settings.width, settings.height


def whole(value: object) -> bool:
    """Whether ``value`` is a whole number (an int or numpy integer, not a bool)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


# ------------------------------------------------------------------------ the game state

# One game's counters and flags, a numpy record: game k's is ``g.state[k]``, read and
# written by name (``s.heading``, ``s.steps += 1``) in the compiled rules and in Python
# alike. One record per game keeps what a step reads together; whether a game is alive,
# which every step reads for every game (and so does a rollout), has an array of its own.
STATE = np.dtype(
    [
        ("heading", np.int64),  # UP, RIGHT, DOWN or LEFT
        ("head_ptr", np.int64),  # the head's slot in the game's body
        ("length", np.int64),
        ("head_cell", np.int64),
        ("apple_cell", np.int64),  # -1 once the board is full
        ("apples", np.int64),  # eaten
        ("steps", np.int64),  # played
        ("steps_since_apple", np.int64),
        ("placed", np.int64),  # apples placed, so apple n is the game's draw number n
        ("key", np.uint64),  # the hashed seed, from which every random draw comes
        # The snake's cells as bits, cell c is bit c % 64 of word c // 64, on boards of up
        # to BIT_CELLS cells (else 0), where the room's fill works on whole words at once.
        ("bits_lo", np.uint64),
        ("bits_hi", np.uint64),
        ("terminated", np.bool_),  # died or won
        ("truncated", np.bool_),  # starved
        ("won", np.bool_),  # filled the board
    ],
    align=True,
)


class Games(NamedTuple):
    """N games: their states, and per game a row of each array (the queue excepted)."""

    state: np.ndarray  # (N,) STATE records, as a numpy recarray
    alive: np.ndarray  # (N,) bool
    grid: np.ndarray  # (N, cells) uint8: 1 where the snake is; the flood fill marks 2-4
    body: np.ndarray  # (N, cells) int16: a ring buffer of the snake's cells, tail ... head
    obs: np.ndarray  # (N, n_obs) float32: the observations
    # The flood fill's queue of cells, (cells,) int64: shared, as the games are stepped one
    # after another.
    queue: np.ndarray


class Board(NamedTuple):
    """What every rule takes about the board: its settings, and tables of what the rules
    would otherwise compute again on every step for every game (a division for a cell's
    column and row, eight divisions for the wall features), looked up by cell instead."""

    width: int
    height: int
    hunger: int  # the hunger limit
    room: bool  # whether the observation has the room features (layouts 2 and 3)
    # (cells + 1,) float64: the room feature of R cells for a snake of length L is
    # scale[min(R, L)] / scale[L]: R itself in layout 2, log(1 + R) in layout 3.
    room_scale: np.ndarray
    neighbours: np.ndarray  # (cells, 4) int64: up, right, down, left; -1 off the board
    x: np.ndarray  # (cells,) int64: each cell's column
    y: np.ndarray  # (cells,) int64: each cell's row
    walls: np.ndarray  # (cells, 8) float32: 1 / moves to the wall along each ray direction
    ray_cells: np.ndarray  # (cells,) int64: the cells on the 8 rays from a cell
    # The features' values, as the rules compute them in float64 and store as float32:
    inverse: np.ndarray  # (MAX_SIDE + 1,) 1 / k (0 at k = 0), a body ray k moves away
    ahead: np.ndarray  # (2 * side + 1,) v / side at v + side: the apple's offset share
    lengths: np.ndarray  # (cells + 1,) length / cells
    hungers: np.ndarray  # (hunger + 1,) steps since the last apple / hunger
    # On boards of up to BIT_CELLS cells, as two words of bits (lo, hi), else zeros:
    bits: bool  # whether the board is that small: the state keeps bits_lo and bits_hi
    inside: np.ndarray  # (2,) uint64: the board's cells
    left_ok: np.ndarray  # (2,) uint64: the cells with a cell to their left
    right_ok: np.ndarray  # (2,) uint64: the cells with a cell to their right
    lines: np.ndarray  # (cells, 8, 2) uint64: the cells along each ray direction from a cell


def new_games(n: int, cells: int, n_obs: int) -> Games:
    """The arrays of ``n`` games on a board of ``cells`` cells, zeroed (none started)."""
    return Games(
        state=np.zeros(n, STATE).view(np.recarray),
        alive=np.zeros(n, bool),
        grid=np.zeros((n, cells), np.uint8),
        body=np.zeros((n, cells), np.int16),  # cells < 64 * 64 fit
        obs=np.zeros((n, n_obs), np.float32),
        queue=np.zeros(cells, np.int64),
    )


def new_board(width: int, height: int, hunger: int, observation: int) -> Board:
    """The :class:`Board` of settings the rules allow (:func:`check_settings`)."""
    x, y = np.meshgrid(np.arange(width), np.arange(height))
    x, y = x.ravel(), y.ravel()
    nx, ny = x[:, None] + DX4, y[:, None] + DY4
    inside = (nx >= 0) & (nx < width) & (ny >= 0) & (ny < height)
    neighbours = np.where(inside, ny * width + nx, -1).astype(np.int64)
    # Moves until the head would leave the board along each ray direction.
    to_x = np.where(DX8 > 0, width - x[:, None], np.where(DX8 < 0, x[:, None] + 1, width + height))
    to_y = np.where(DY8 > 0, height - y[:, None], np.where(DY8 < 0, y[:, None] + 1, width + height))
    moves = np.minimum(to_x, to_y)
    side, cells = max(width, height), width * height
    return Board(
        width, height, hunger, LAYOUTS[observation] > ROOM, _room_scale(cells, observation),
        neighbours, x, y,
        walls=(1.0 / moves).astype(np.float32),
        ray_cells=(moves - 1).sum(axis=1),
        inverse=np.concatenate([[0], _shares(1, np.arange(1, MAX_SIDE + 1))]).astype(np.float32),
        ahead=_shares(np.arange(-side, side + 1), side),
        lengths=_shares(np.arange(cells + 1), cells),
        hungers=_shares(np.arange(hunger + 1), hunger),
        bits=cells <= BIT_CELLS,
        inside=_words(np.ones(cells, bool)),
        left_ok=_words(x > 0),
        right_ok=_words(x < width - 1),
        lines=_lines(width, height, moves),
    )  # fmt: skip


def _lines(width: int, height: int, moves: np.ndarray) -> np.ndarray:
    """The cells on each ray direction from each cell, up to the wall (``moves`` ``(cells,
    8)``: the moves until leaving the board), as two words of bits (zeros on boards of
    more than BIT_CELLS cells): ``(cells, 8, 2)`` uint64."""
    cells = width * height
    if cells > BIT_CELLS:
        return np.zeros((1, 8, 2), np.uint64)  # never read
    x, y = np.arange(cells) % width, np.arange(cells) // width
    on = np.zeros((cells, 8, 2 * 64), bool)
    for k in range(1, max(width, height)):  # the cells k moves away, while on the board
        c, d = np.nonzero(k < moves)
        on[c, d, (y[c] + k * DY8[d]) * width + x[c] + k * DX8[d]] = True
    return _packed(on)


def _words(cells: np.ndarray) -> np.ndarray:
    """The cells ``(cells,)`` bool as two words of bits (zeros on larger boards)."""
    if cells.size > BIT_CELLS:
        return np.zeros(2, np.uint64)
    return _packed(np.concatenate([cells, np.zeros(2 * 64 - cells.size, bool)]))


def _packed(on: np.ndarray) -> np.ndarray:
    """Bools ``(..., 128)`` as two words of bits ``(..., 2)`` uint64, bit c % 64 of word
    c // 64 for cell c (distinct powers of two: their sum is their union)."""
    powers = np.uint64(1) << np.arange(64, dtype=np.uint64)
    return (on.reshape(*on.shape[:-1], 2, 64) * powers).sum(axis=-1, dtype=np.uint64)


def _room_scale(cells: int, observation: int) -> np.ndarray:
    """``(cells + 1,)`` float64: what the room features scale a count of cells by
    (:attr:`Board.room_scale`): the count itself up to layout 2, its logarithm from 3."""
    if observation < 3:
        return np.arange(cells + 1, dtype=np.float64)
    # The C library's log1p, one count at a time, as the reference computes it: numpy's
    # vectorised log1p may differ from it in the last bit, and so with the CPU.
    return np.array([math.log1p(c) for c in range(cells + 1)], dtype=np.float64)


def _shares(v: np.ndarray | int, whole: np.ndarray | int) -> np.ndarray:
    """``v / whole`` divided in float64 and stored as float32, as the features are."""
    return (v / whole).astype(np.float32)


# -------------------------------------------------------------------- the compiled rules
#
# Each takes game k of the games ``g`` on ``board``: its state ``s = g.state[k]`` and row k
# of the arrays. The rules that take the board and the games are compiled into the drivers
# that call them (inline="always"): a call would copy both, dozens of words, and numba
# would count a reference to each array. The small rules of plain numbers (turn, the
# random draws, the bit counts) are calls, left to the compiler to inline: compiling every
# one of them into every caller took twice as long, for a few percent of speed.


# ---------------------------------------------------------------------------- the start


@njit(cache=True, inline="always")
def start_game(k: int, seed: np.uint64, board: Board, g: Games) -> None:
    """Game k's start for ``seed``: length 3 through the centre, heading from draw 0, the
    first apple from draw 1."""
    width, height = board.width, board.height
    s, grid, body = g.state[k], g.grid, g.body
    s.key = mix64(np.uint64(seed))
    heading = draw(s.key, 0) % np.uint64(4)
    dx, dy = DX4[heading], DY4[heading]
    cx, cy = width // 2, height // 2
    grid[k, :] = 0
    s.bits_lo = s.bits_hi = 0
    for i in range(3):  # tail, middle, head
        cell = (cy + (i - 1) * dy) * width + (cx + (i - 1) * dx)
        body[k, i] = cell
        grid[k, cell] = 1
        if board.bits:
            flip(s, cell)
    s.heading = heading
    s.head_ptr = 2
    s.length = 3
    s.head_cell = body[k, 2]
    s.apples = s.steps = s.steps_since_apple = s.placed = 0
    g.alive[k] = True
    s.terminated = s.truncated = s.won = False
    place_apple(k, width * height, g)
    observe_game(k, board, g)  # a call: a game's start is no hot path


# -------------------------------------------------------------------------- the actions


@njit(cache=True)
def turn(heading: int, action: int) -> int:
    """The heading after ``action``: 0 turns left (anticlockwise), 1 keeps it, 2 turns
    right."""
    return (heading + action + 3) & 3  # % 4 of a number never negative


# ----------------------------------------------------------------------------- one step


@njit(cache=True, inline="always")
def step_game(k: int, action: int, board: Board, g: Games) -> float:
    """One move of live game k; returns its reward (+1 apple, -1 death, else 0)."""
    cells = board.width * board.height
    s, grid, body = g.state[k], g.grid, g.body
    heading = turn(s.heading, action)
    s.heading = heading  # a dead snake keeps the heading it died with
    s.steps += 1
    s.steps_since_apple += 1
    cell = board.neighbours[s.head_cell, heading]
    if cell < 0:
        g.alive[k], s.terminated = False, True  # left the board
        return -1.0
    eats = cell == s.apple_cell
    tail = body[k, tail_slot(s.head_ptr, s.length, cells)]
    if not eats:
        grid[k, tail] = 0  # the tail leaves its cell first, so following it is legal
    if grid[k, cell]:
        if not eats:
            grid[k, tail] = 1  # the snake died where it was
        g.alive[k], s.terminated = False, True  # ran into its body
        return -1.0
    grid[k, cell] = 1
    if board.bits:
        if not eats:
            flip(s, tail)
        flip(s, cell)
    ptr = s.head_ptr + 1 if s.head_ptr + 1 < cells else 0
    body[k, ptr] = cell
    s.head_ptr, s.head_cell = ptr, cell
    reward = 0.0
    if eats:
        reward = 1.0
        s.length += 1
        s.apples += 1
        s.steps_since_apple = 0
        if s.length == cells:  # the board is full: won, and no new apple
            s.apple_cell = -1
            g.alive[k] = False
            s.terminated = s.won = True
        else:
            place_apple(k, cells, g)
    elif s.steps_since_apple >= board.hunger:
        g.alive[k], s.truncated = False, True  # starved
    observe(k, board, g)
    return reward


@njit(cache=True)
def flip(s: np.record, cell: int) -> None:
    """Flip ``cell``'s bit in the state's bits (boards of up to BIT_CELLS cells)."""
    if cell < 64:
        s.bits_lo ^= _ONE << np.uint64(cell)
    else:
        s.bits_hi ^= _ONE << np.uint64(cell - 64)


@njit(cache=True)
def tail_slot(head_ptr: int, length: int, cells: int) -> int:
    """The tail's slot in a body ring buffer of ``cells`` slots whose head is in
    ``head_ptr``: a compare instead of a modulo, the hotter path."""
    slot = head_ptr - length + 1
    return slot + cells if slot < 0 else slot


@njit(cache=True, inline="always")
def place_apple(k: int, cells: int, g: Games) -> None:
    """Put game k's apple on a uniformly random free cell: the game's draw number
    ``placed + 1``, modulo the free cells, picks one in row-major order."""
    s, grid = g.state[k], g.grid
    s.placed += 1
    n_free = np.uint64(cells - s.length)
    nth = draw(s.key, s.placed) % n_free
    seen = np.uint64(0)
    for cell in range(cells):
        if grid[k, cell] == 0:
            if seen == nth:
                s.apple_cell = cell
                return
            seen += np.uint64(1)


# SplitMix64 constants. Every operand of the hash is uint64: mixing in a signed integer
# would turn the arithmetic into float64 (in numpy and numba alike).
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_STREAM = np.uint64(0xD1B54A32D192ED03)
_S27, _S30, _S31 = np.uint64(27), np.uint64(30), np.uint64(31)
_ONE = np.uint64(1)


@njit(cache=True)
def draw(key: np.uint64, counter: int) -> np.uint64:
    """Random number ``counter`` of the game whose hashed seed is ``key``. Counter-based, so
    a game's numbers depend only on its own seed and how many it drew."""
    return mix64(key ^ (np.uint64(counter) * _STREAM))


@njit(cache=True)
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64 finaliser: a well-mixed, stateless hash of a uint64."""
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


# ------------------------------------------------------------------------- observations


@njit(cache=True, inline="always")
def observe(k: int, board: Board, g: Games) -> None:
    """Write game k's features (the rule book's table) into ``g.obs[k]``: all but the
    room's, and the room's when the board says so."""
    s, obs = g.state[k], g.obs
    head, heading, apple = s.head_cell, s.heading, s.apple_cell
    hx, hy = board.x[head], board.y[head]
    ax, ay = board.x[apple] - hx, board.y[apple] - hy  # the apple relative to the head
    rays(k, board, g, head, heading)
    if apple >= 0:
        apple_ray(k, g, heading, ax, ay)
    body_rays(k, board, g, hx, hy)
    for i in range(4):
        obs[k, HEADING_ONE_HOT + i] = 1.0 if heading == i else 0.0
    if apple >= 0:
        side = board.ahead.size // 2
        fx, fy = DX4[heading], DY4[heading]
        obs[k, APPLE_AHEAD] = board.ahead[ax * fx + ay * fy + side]
        obs[k, APPLE_RIGHT] = board.ahead[ay * fx - ax * fy + side]  # right: (-fy, fx)
    else:  # a full board has no apple
        obs[k, APPLE_AHEAD] = obs[k, APPLE_RIGHT] = 0.0
    obs[k, LENGTH_SHARE] = board.lengths[s.length]
    obs[k, HUNGER_SHARE] = board.hungers[s.steps_since_apple]
    if board.room:
        room(k, board, g)


@njit(cache=True, _nrt=False)
def observe_game(k: int, board: Board, g: Games) -> None:
    """:func:`observe` as a function of its own, for the cold paths (a game's start, a
    position set from Python): compiled once here, where every caller that inlines
    :func:`observe` compiles it again."""
    observe(k, board, g)


@njit(cache=True, inline="always")
def rays(k: int, board: Board, g: Games, head: int, heading: int) -> None:
    """The wall features of the 8 rays from the head, looked up; clears the apple and body
    rays. Ray i points ``45° * i`` clockwise from the heading: direction ``2 * heading + i``
    of the 8."""
    obs, walls = g.obs, board.walls
    for i in range(8):
        obs[k, WALL_RAYS + i] = walls[head, (2 * heading + i) & 7]
        obs[k, APPLE_RAYS + i] = 0.0
        obs[k, BODY_RAYS + i] = 0.0


@njit(cache=True)
def ray_of(heading: int, sx: int, sy: int) -> int:
    """The ray (0-7, from the heading) an offset ``(sx, sy)`` from the head lies on, or -1.
    On a ray when it is a positive multiple of one of the 8 directions."""
    if (sx != 0 and sy != 0 and abs(sx) != abs(sy)) or (sx == 0 and sy == 0):
        return -1
    d = RAY_OF_SIGNS[3 * sign(sx) + sign(sy) + 4]
    return (d - 2 * heading) & 7


@njit(cache=True)
def sign(v: int) -> int:
    """-1, 0 or 1: the sign of an int (np.sign would make it a float first)."""
    return 1 if v > 0 else (-1 if v < 0 else 0)


@njit(cache=True, inline="always")
def apple_ray(k: int, g: Games, heading: int, ax: int, ay: int) -> None:
    """The apple feature: 1 on the one ray the apple, ``(ax, ay)`` from the head, lies on."""
    i = ray_of(heading, ax, ay)
    if i >= 0:
        g.obs[k, APPLE_RAYS + i] = 1.0


@njit(cache=True, inline="always")
def body_rays(k: int, board: Board, g: Games, hx: int, hy: int) -> None:
    """The body features: 1 / moves to the nearest segment on each ray from the head
    ``(hx, hy)``, on rays already cleared to 0.

    Found by placing each segment on its ray while the snake is short (fewer segments than
    the rays have cells, or than SHORT on a board of bits), else on the bits of a small
    board (:func:`body_rays_on_bits`), else by walking the rays cell by cell: the same
    answer, from the cheapest side.
    """
    s = g.state[k]
    short = s.length <= SHORT if board.bits else s.length - 1 < board.ray_cells[s.head_cell]
    if board.bits and not short:
        body_rays_on_bits(k, board, g, hx, hy)
        return
    width, height = board.width, board.height
    obs, body, grid = g.obs, g.body, g.grid
    heading, length, inverse = s.heading, s.length, board.inverse
    if short:
        cells = width * height
        ptr = tail_slot(s.head_ptr, length, cells)
        for _ in range(length - 1):  # every segment but the head
            cell = body[k, ptr]
            ptr = ptr + 1 if ptr + 1 < cells else 0
            sx, sy = board.x[cell] - hx, board.y[cell] - hy
            i = ray_of(heading, sx, sy)
            if i >= 0:
                near = inverse[max(abs(sx), abs(sy))]
                obs[k, BODY_RAYS + i] = max(obs[k, BODY_RAYS + i], near)
    else:
        for i in range(8):
            d = (2 * heading + i) & 7
            x, y, moves = hx + DX8[d], hy + DY8[d], 1
            while 0 <= x < width and 0 <= y < height:
                if grid[k, y * width + x]:
                    obs[k, BODY_RAYS + i] = inverse[moves]
                    break
                x, y, moves = x + DX8[d], y + DY8[d], moves + 1


@njit(cache=True, inline="always")
def body_rays_on_bits(k: int, board: Board, g: Games, hx: int, hy: int) -> None:
    """:func:`body_rays` on a board of up to BIT_CELLS cells: along each ray, the body's
    cells on it (its bits and the ray's), the nearest being the lowest bit on rays whose
    cell numbers grow (right, down-right, down, down-left), else the highest."""
    s, obs = g.state[k], g.obs
    head, heading = s.head_cell, s.heading
    for d in range(8):
        lo = board.lines[head, d, 0] & s.bits_lo
        hi = board.lines[head, d, 1] & s.bits_hi
        if lo == 0 and hi == 0:
            continue
        if 2 <= d <= 5:  # the nearest has the lowest number
            cell = lowest_bit(lo) if lo != 0 else 64 + lowest_bit(hi)
        else:
            cell = 64 + highest_bit(hi) if hi != 0 else highest_bit(lo)
        moves = max(abs(board.x[cell] - hx), abs(board.y[cell] - hy))
        obs[k, BODY_RAYS + ((d - 2 * heading) & 7)] = board.inverse[moves]


@njit(cache=True)
def lowest_bit(x: np.uint64) -> int:
    """The number of the lowest set bit of a word that has one."""
    return popcount((x & (~x + _ONE)) - _ONE)


@njit(cache=True)
def highest_bit(x: np.uint64) -> int:
    """The number of the highest set bit of a word that has one."""
    for shift in (_ONE, _2, _4, _8, _16, _32):
        x |= x >> shift
    return popcount(x) - 1


@njit(cache=True, inline="always")
def room(k: int, board: Board, g: Games) -> None:
    """The room features: for each move (turn left, straight, turn right), the cells
    reachable from the cell it enters, ``R``, as ``min(R, length) / length``; 0 for a move
    that dies.

    A flood fill (:func:`fill`) through free cells and the tail's cell (the tail moves on).
    Moves into one region share a fill.
    """
    if board.bits:
        room_on_bits(k, board, g)
        return
    cells = board.width * board.height
    s, obs, grid, queue = g.state[k], g.obs, g.grid, g.queue
    head, heading, length = s.head_cell, s.heading, s.length
    tail = g.body[k, tail_slot(s.head_ptr, length, cells)]
    # The fills mark the cells they reach in the grid itself, 2 + the move's number, so one
    # byte tells free (0), body (1) and reached (by which fill); the tail's cell is free for
    # the while. All of it is put back at the end, from the queue of reached cells.
    grid[k, tail] = 0
    top = 0  # queue[:top] holds every cell reached so far, fill after fill
    for a in range(3):
        obs[k, ROOM + a] = 0.0
        start = board.neighbours[head, turn(heading, a)]
        if start < 0:
            continue  # the move leaves the board
        mark = grid[k, start]
        if mark == 1:
            continue  # the move runs into the body
        if mark >= 2:  # reached by an earlier move's fill: the same region
            obs[k, ROOM + a] = obs[k, ROOM + mark - 2]
            continue
        first = top
        top, shared = fill(k, board, g, start, a, top)
        if shared >= 0:
            obs[k, ROOM + a] = obs[k, ROOM + shared]
        else:
            obs[k, ROOM + a] = room_share(board, top - first, length)
    for i in range(top):
        grid[k, queue[i]] = 0
    grid[k, tail] = 1


@njit(cache=True, inline="always")
def room_share(board: Board, reached: int, length: int) -> float:
    """The room feature of a region of ``reached`` cells for a snake of ``length``:
    ``min(R, length) / length`` (layout 2), or ``log(1 + min(R, length)) / log(1 +
    length)`` (layout 3), which tells a region of one cell from none by more than a
    long snake's ``1 / length``."""
    scale = board.room_scale
    return scale[min(reached, length)] / scale[length]


@njit(cache=True, inline="always")
def fill(k: int, board: Board, g: Games, start: int, a: int, top: int) -> tuple[int, int]:
    """Move ``a``'s flood fill from cell ``start``, appending the cells it reaches to
    ``g.queue`` from ``top`` on; returns ``(the new top, the earlier move whose region it
    met or -1)``.

    It stops once it has counted ``length`` cells: room for the whole body is all the
    feature tells, and that bound keeps the fill short while the snake is short; a long
    snake leaves few free cells to fill. It stops too on meeting a cell that an earlier
    move's fill reached (and stopped short of its end): the same region.
    """
    length, neighbours, grid, queue = g.state[k].length, board.neighbours, g.grid, g.queue
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
            elif mark >= 2 and mark != 2 + a:
                shared = mark - 2
                break
    return top, shared


@njit(cache=True, inline="always")
def room_on_bits(k: int, board: Board, g: Games) -> None:
    """:func:`room` on a board of up to BIT_CELLS cells, the same features: each fill
    grows a region of bits by one move in every direction at once (:func:`fill_bits`)."""
    s, obs = g.state[k], g.obs
    head, heading, length = s.head_cell, s.heading, s.length
    tail = g.body[k, tail_slot(s.head_ptr, length, board.width * board.height)]
    free_lo, free_hi = board.inside[0] & ~s.bits_lo, board.inside[1] & ~s.bits_hi
    if tail < 64:  # the tail moves on: its cell is free
        free_lo |= _ONE << np.uint64(tail)
    else:
        free_hi |= _ONE << np.uint64(tail - 64)
    lo0 = hi0 = lo1 = hi1 = np.uint64(0)  # the regions of moves 0 and 1, once filled
    for a in range(3):
        obs[k, ROOM + a] = 0.0
        start = board.neighbours[head, turn(heading, a)]
        if start < 0 or not has(free_lo, free_hi, start):
            continue  # the move leaves the board or runs into the body
        if has(lo0, hi0, start):  # in an earlier move's region: the same room
            obs[k, ROOM + a] = obs[k, ROOM]
        elif has(lo1, hi1, start):
            obs[k, ROOM + a] = obs[k, ROOM + 1]
        else:
            lo, hi = fill_bits(board, start, free_lo, free_hi, length)
            obs[k, ROOM + a] = room_share(board, popcount(lo) + popcount(hi), length)
            if a == 0:
                lo0, hi0 = lo, hi
            else:
                lo1, hi1 = lo, hi


@njit(cache=True)
def has(lo: np.uint64, hi: np.uint64, cell: int) -> bool:
    """Whether ``cell``'s bit is set in the words ``(lo, hi)``."""
    if cell < 64:
        return (lo >> np.uint64(cell)) & _ONE != 0
    return (hi >> np.uint64(cell - 64)) & _ONE != 0


@njit(cache=True, inline="always")
def fill_bits(
    board: Board, start: int, free_lo: np.uint64, free_hi: np.uint64, length: int
) -> tuple[np.uint64, np.uint64]:
    """The region of free cells ``(free_lo, free_hi)`` reachable from ``start``, as bits; it
    stops, as :func:`fill` does, once it holds ``length`` cells."""
    w, w_ = np.uint64(board.width), np.uint64(64 - board.width)
    left_lo, left_hi = board.left_ok[0], board.left_ok[1]
    right_lo, right_hi = board.right_ok[0], board.right_ok[1]
    lo, hi = np.uint64(0), np.uint64(0)
    if start < 64:
        lo = _ONE << np.uint64(start)
    else:
        hi = _ONE << np.uint64(start - 64)
    while True:
        # One move right (+1), left (-1), down (+width) and up (-width) from every cell.
        rl, rh, ll, lh = lo & right_lo, hi & right_hi, lo & left_lo, hi & left_hi
        grow_lo = lo | (rl << _ONE) | (ll >> _ONE) | (lh << _63) | (lo << w) | (lo >> w)
        grow_lo |= hi << w_
        grow_hi = hi | (rh << _ONE) | (rl >> _63) | (lh >> _ONE) | (hi << w) | (hi >> w)
        grow_hi |= lo >> w_
        grow_lo &= free_lo
        grow_hi &= free_hi
        if grow_lo == lo and grow_hi == hi:
            return lo, hi
        lo, hi = grow_lo, grow_hi
        if popcount(lo) + popcount(hi) >= length:
            return lo, hi


_M1, _M2 = np.uint64(0x5555555555555555), np.uint64(0x3333333333333333)
_M4, _H01 = np.uint64(0x0F0F0F0F0F0F0F0F), np.uint64(0x0101010101010101)
_63, _2, _4, _56 = np.uint64(63), np.uint64(2), np.uint64(4), np.uint64(56)
_8, _16, _32 = np.uint64(8), np.uint64(16), np.uint64(32)


@njit(cache=True, inline="always")  # in the flood fill's innermost loop
def popcount(x: np.uint64) -> int:
    """The set bits of a word (SWAR: no intrinsic needed, and plain Python runs it too)."""
    x = x - ((x >> _ONE) & _M1)
    x = (x & _M2) + ((x >> _2) & _M2)
    x = (x + (x >> _4)) & _M4
    return np.int64((x * _H01) >> _56)


# ------------------------------------------------------------------------------ fitness


def episode_fitness(
    apples: np.ndarray, steps: np.ndarray, truncated: np.ndarray, hunger: int, cells: int
) -> np.ndarray:
    """Per-episode fitness (the rule book's); all arrays share one shape, ``(N,)``."""
    useful = steps - np.where(truncated, hunger, 0)
    return apples + useful / (useful + cells)


# ---------------------------------------------------------------------- a batch of games
#
# One compiled call per batch, so Python is crossed once per step. The drivers take the
# board and the games as plain tuples (a Board's fields, a Games's), which numba takes from
# Python faster than named ones, and name them again inside. The rules of the board and
# the games are compiled into them (inline="always"), and they are compiled without
# numba's reference counting (_nrt=False; they allocate nothing): each read of an array
# from the named tuples inside the loop over games would otherwise count a reference, and
# numba cannot always take the counts out again, which cost more than the rules themselves.
DRIVER = {"cache": True, "_nrt": False}


@njit(**DRIVER)
def start_games(ks: np.ndarray, seeds: np.ndarray, board: tuple, games: tuple) -> None:
    """Start games ``ks`` ``(M,)`` anew with their ``seeds`` ``(M,)``."""
    b, g = Board(*board), Games(*games)
    for i in range(ks.size):
        start_game(ks[i], seeds[i], b, g)


@njit(**DRIVER)
def advance_games(actions: np.ndarray, reward: np.ndarray, board: tuple, games: tuple) -> None:
    """One move of every live game: ``actions`` ``(N,)`` in, ``reward`` ``(N,)`` out."""
    b, g = Board(*board), Games(*games)
    alive = g.alive
    for k in range(actions.size):
        if alive[k]:
            reward[k] = step_game(k, actions[k], b, g)


# The compiled functions Python calls directly; the rest are compiled into them.
ENTRY_POINTS = (start_games, advance_games, observe_game)
# Every compiled function of the rules (none, as plain Python: NUMBA_DISABLE_JIT), so a
# damaged cache of any of them can be rebuilt (games.compiled.load_or_compile).
COMPILED = tuple(f for f in list(globals().values()) if isinstance(f, CPUDispatcher))
