"""evonet 0.1.0's Snake engine, kept as the baseline that benchmarks time the engine against.

N games stepped in lockstep as numpy arrays (line bitmasks, lookup tables), as it was at
git revision e3d1b3f^ (games/snake.py), before the rules were compiled with numba. Layout 1
only (the 32 features before the room), boards up to 32x32. Only its imports changed (its
base classes now live in evonet.games.base) and its spec and board checks are left out;
its constructor takes ``observation=1`` (its one layout) as today's engine takes a layout.
The games it plays are move for move those of today's engine with ``observation=1``
(benchmarks/engine.py checks it before timing).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evonet.games.base import BatchedGame, Discrete, EpisodeStats, episode_seeds

# Headings, clockwise; y grows downwards (row 0 is the top of the board).
UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3
HEADING_NAMES = ("up", "right", "down", "left")
DX4 = np.array([0, 1, 0, -1])
DY4 = np.array([-1, 0, 1, 0])

# The 8 ray directions, clockwise from up: up, up-right, right, down-right, down, ...
DX8 = np.array([0, 1, 1, 1, 0, -1, -1, -1])
DY8 = np.array([-1, -1, 0, 1, 1, 1, 0, -1])
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
)
N_OBS = 32
MAX_SIDE = 32  # each board line is a uint32 bitmask of its cells
MIN_SIDE = 4
# Hunger is at most this many times the board's cells: enough to reach any cell from
# anywhere several times over, and a bound on every game's length (at most
# cells * hunger steps), so a game always ends.
MAX_HUNGER_FACTOR = 4


# Constants of the hashes below, made once: building numpy scalars costs per call.
_GOLDEN, _MIX1, _MIX2 = (
    np.uint64(0x9E3779B97F4A7C15),
    np.uint64(0xBF58476D1CE4E5B9),
    np.uint64(0x94D049BB133111EB),
)
_STREAM = np.uint64(0xD1B54A32D192ED03)
_S27, _S30, _S31 = np.uint64(27), np.uint64(30), np.uint64(31)
_THREE = np.uint64(3)


def mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array: a well-mixed, stateless hash."""
    z = z + _GOLDEN  # a new array; the rest works in place on it
    z ^= z >> _S30
    z *= _MIX1
    z ^= z >> _S27
    z *= _MIX2
    z ^= z >> _S31
    return z


def draw(key: np.ndarray, counter: np.ndarray) -> np.ndarray:
    """Random uint64 number ``counter`` of the stream of each game with hashed seed ``key``.

    Counter-based, so a game's numbers depend only on its own seed and how many it drew,
    never on the other games in the batch.
    """
    return mix64(key ^ (counter.astype(np.uint64) * _STREAM))


def _rows(a: np.ndarray) -> np.ndarray:
    """A C-contiguous ``(M, K)`` array as ``(M,)`` opaque rows: gathering or scattering
    whole rows this way is one memory copy per row, about twice as fast as ``a[g]``."""
    return a.view(np.dtype((np.void, a.shape[1] * a.itemsize))).reshape(-1)


class Snake(BatchedGame):
    """N games of Snake on a ``width x height`` board, stepped together.

    **Board and start.** Cells are ``(x, y)`` with ``x`` in ``[0, width)`` left to right and
    ``y`` in ``[0, height)`` top to bottom, numbered ``y * width + x``. Both sides are between
    4 and 32. Each game starts with a snake of length 3 lying straight through the centre
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

    **Observation** (``float32``, ``N_OBS = 32`` features), all in the snake's own frame.
    Ray ``i`` points ``45° * i`` clockwise from the heading: 0 ahead, 1 ahead-right,
    2 right, 3 behind-right, 4 behind, 5 behind-left, 6 left, 7 ahead-left.

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

    n_obs = N_OBS
    action_space = Discrete(3)
    score_name = "apples"

    def __init__(
        self,
        n_games: int = 1,
        width: int = 10,
        height: int = 10,
        hunger: int | None = None,
        observation: int = 1,
    ) -> None:
        if observation != 1:  # taken so benchmarks make it as they make today's engine
            raise ValueError(
                f"evonet 0.1.0's engine has observation layout 1 only, got {observation!r}"
            )
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
        self.n, self.width, self.height, self.hunger = (
            int(n_games),
            int(width),
            int(height),
            int(hunger),
        )
        self.cells = self.width * self.height
        self._build_tables()
        self._seeded = False

    @staticmethod
    def memory_bytes(n_games: int, width: int, height: int) -> int:
        """An upper estimate of the bytes ``Snake(n_games, width, height)`` uses while it
        is reset and stepped: its lookup tables plus the per-game state and temporaries.

        Measured with tracemalloc on 6x6 to 32x32 boards; meant for refusing impossible
        batch sizes before allocating, not for accounting.
        """
        cells = width * height
        tables = 52 * cells * cells + 8192 * cells + (1 << 17)
        per_game = 8 * cells + 12 * (width + height) + 1024  # body ring, line masks, rest
        return tables + n_games * per_game

    # ------------------------------------------------------------------ lookup tables

    def _build_tables(self) -> None:
        """Lookup tables: per cell its four board lines and next cells; per (cell, heading)
        the ego rays' wall distances; per (cell, heading, apple cell) the apple features.

        Every board line (row, column, diagonal, anti-diagonal) is kept per game as a bitmask
        of occupied cells (a uint32: sides are at most 32). The nearest body segment along a
        ray is the nearest set bit on one side of the head's bit in one mask: a few numpy
        operations over all games instead of a walk along the board.
        """
        w, h = self.width, self.height
        x, y = np.meshgrid(np.arange(w), np.arange(h))
        x, y = x.ravel(), y.ravel()
        # Lines in the order of the "increasing" ray directions right, down-right, down,
        # down-left; walking the opposite rays left, up-left, up, up-right decreases the bit.
        n_diag = w + h - 1
        line = np.stack([y, h + (x - y + h - 1), h + n_diag + x, h + n_diag + w + x + y], axis=1)
        pos = np.stack([x, y, y, y], axis=1)
        self.n_lines = h + n_diag + w + n_diag
        self._line = line  # (C, 4)
        self._pos = pos  # (C, 4)
        self._bit = (1 << pos).astype(np.uint32)  # (C, 4)
        self._x_shift = np.arange(w)  # a row mask's bit of each column
        self._below = self._bit - np.uint32(1)  # bits strictly below the cell's own bit

        # Moves until the head leaves the board along each absolute direction.
        big = w + h
        steps = np.stack(
            [
                np.minimum.reduce(
                    [
                        np.where(DX8[d] > 0, w - x, big),
                        np.where(DX8[d] < 0, x + 1, big),
                        np.where(DY8[d] > 0, h - y, big),
                        np.where(DY8[d] < 0, y + 1, big),
                    ]
                )
                for d in range(8)
            ],
            axis=1,
        )
        # Ego ray i of heading hd points along absolute direction (2 * hd + i) % 8.
        self._ego = (2 * np.arange(4)[:, None] + np.arange(8)) % 8  # (4, 8)
        inv_wall = (1.0 / steps).astype(np.float32)  # (C, 8) absolute
        self._inv_wall = inv_wall[:, self._ego].reshape(self.cells * 4, 8)  # row cell*4+hd
        # Body distances come out in absolute order right, down-right, down, down-left,
        # left, up-left, up, up-right: absolute direction a sits at column (a - 2) % 8.
        self._ego_cols = (self._ego - 2) % 8
        # Row offsets into flattened (M, 8) arrays, for up to all games or all start positions.
        self._rows8 = np.arange(max(self.n, 4 * self.cells)) * 8
        # 1 / d for a body segment d moves away, by the float64 exponent field e of the
        # nearest segment's bit (see _features): e = 1022 + d along increasing rays, and
        # e = 1023 + p - d along decreasing rays from the head's bit p, looked up in the
        # block of 2048 entries at 2048 * (p + 1). Every other entry, e = 0 (an empty
        # ray) included, is 0.
        side = max(w, h)
        self._inv_dist = np.zeros(2048 * (side + 1), dtype=np.float32)
        self._inv_dist[1023 : 1023 + side] = 1.0 / np.arange(1, side + 1)
        for p in range(1, side):
            self._inv_dist[2048 * (p + 1) + 1023 : 2048 * (p + 1) + 1023 + p] = 1.0 / (
                p - np.arange(p)
            )
        self._dist_block = np.zeros((self.cells, 8), dtype=np.int64)  # (C, 8) block starts
        self._dist_block[:, 4:] = 2048 * (pos + 1)

        # Ray direction code of an offset (dx, dy), -1 if it lies on no ray.
        dx, dy = np.meshgrid(np.arange(-w + 1, w), np.arange(-h + 1, h))
        code = np.full(dx.shape, -1, dtype=np.int64)
        on_ray = ((dx == 0) | (dy == 0) | (np.abs(dx) == np.abs(dy))) & ((dx != 0) | (dy != 0))
        for d in range(8):
            code[on_ray & (np.sign(dx) == DX8[d]) & (np.sign(dy) == DY8[d])] = d
        ray_code = code.ravel().astype(np.int8)

        # Everything the observation says about the apple, per (head cell, heading, apple
        # cell + 1; column 0 = no apple): its absolute ray code + 1 (0: on no ray) and its
        # offset ahead and to the right, in cells. Small integer types keep this
        # (C*4, C+1) table cheap to build on large boards.
        c = self.cells
        xs, ys = x.astype(np.int16), y.astype(np.int16)
        head = np.repeat(np.arange(c), 4)  # row r = head * 4 + heading
        hd = np.tile(np.arange(4), c)
        adx = xs[None, :] - xs[head][:, None]  # (C*4, C)
        ady = ys[None, :] - ys[head][:, None]
        code = ray_code[(ady + np.int32(h - 1)) * np.int32(2 * w - 1) + (adx + np.int16(w - 1))]
        info = np.zeros((c * 4, c + 1, 3), dtype=np.int8)
        info[:, 1:, 0] = code + np.int8(1)
        fx, fy = DX4[hd][:, None].astype(np.int8), DY4[hd][:, None].astype(np.int8)
        info[:, 1:, 1] = adx * fx + ady * fy
        info[:, 1:, 2] = ady * fx - adx * fy  # the heading turned 90 degrees clockwise
        # Separate contiguous tables: numpy's strided loops (on a column of a
        # combined table) are several times slower.
        info = info.reshape(-1, 3)
        self._apple_code = np.ascontiguousarray(info[:, 0])
        self._apple_offset = np.ascontiguousarray(info[:, 1:])

        # The observation's columns that depend only on (head cell, heading, the apple's
        # ray code): row (cell * 4 + heading) * 9 + code + 1 holds the walls, the apple's
        # ego ray one-hot and the heading one-hot; the other columns are 0 and get filled
        # per step. One row gather starts every observation.
        apple_ray = np.zeros((4, 9, 8), dtype=np.float32)  # [heading, code + 1, ego ray]
        for d in range(4):
            apple_ray[d, 1 + self._ego[d], np.arange(8)] = 1.0
        base = np.zeros((c * 4, 9, N_OBS), dtype=np.float32)
        base[:, :, 0:8] = self._inv_wall[:, None, :]
        base[:, :, 8:16] = apple_ray[hd]
        base[:, :, 24:28] = np.eye(4, dtype=np.float32)[hd][:, None, :]
        self._base_obs = _rows(base.reshape(-1, N_OBS))

        # The cell one move away from each cell along each heading, -1 off the board.
        nx, ny = x[:, None] + DX4, y[:, None] + DY4
        inside = (nx >= 0) & (nx < w) & (ny >= 0) & (ny < h)
        self._next_cell = np.where(inside, ny * w + nx, -1).ravel()  # index cell * 4 + hd
        self._cell_x, self._cell_y = x, y  # coordinates of each cell
        self._turn = ((np.arange(4)[:, None] + np.arange(3) - 1) % 4).ravel()  # hd * 3 + a

        # The starting snake of each heading: body cells (tail, middle, head) and line
        # masks, so that a reset copies rows instead of drawing the snake.
        cx, cy, hd = w // 2, h // 2, np.arange(4)
        self._row_of, self._row_bit = line[:, 0], self._bit[:, 0]  # a cell's row mask and bit
        self._start_body = np.stack(
            [(cy + (i - 1) * DY4[hd]) * w + (cx + (i - 1) * DX4[hd]) for i in range(3)], axis=1
        )
        self._start_lines = np.zeros((4, self.n_lines), dtype=np.uint32)
        for i in range(3):  # one segment at a time: segments share line masks
            cell = self._start_body[:, i]
            self._start_lines[hd[:, None], self._line[cell]] |= self._bit[cell]

        # Every fresh game is one of 4 * (C - 3) positions: its heading, and its first apple
        # on the k-th free cell. Their apples and observations are tabulated (row
        # heading * (C - 3) + k), so a reset looks them up instead of computing them.
        n_free = self.cells - 3
        free = np.ones((4, self.cells), dtype=bool)
        free[hd[:, None], self._start_body] = False
        self._start_apple = np.nonzero(free)[1]  # row-major per heading: the k-th free cell
        hd = np.repeat(hd, n_free)
        head = self._start_body[hd, 2]
        masks = self._start_lines[hd[:, None], self._line[head]]
        self._start_obs = self._features(head, hd, self._start_apple, masks, 3, 0)
        self._start_line_rows = _rows(self._start_lines)
        self._start_head = self._start_body[:, 2].copy()
        self._n_free = np.uint64(n_free)

    # ------------------------------------------------------------------------- reset

    def reset(
        self, seed: int | Sequence[int] | np.ndarray | None = None
    ) -> tuple[np.ndarray, dict]:
        """Start every game anew.

        Args:
            seed: an int (per-game seeds derived with :func:`episode_seeds`) or ``N``
                per-game seeds (uint64-compatible). ``None`` draws fresh OS entropy.

        Returns:
            ``(obs (N, 32) float32, info)``; ``info["seeds"]`` holds the per-game seeds.
        """
        n, c = self.n, self.cells
        seeds = self._seed_array(seed, n)
        self.seeds = np.zeros(n, dtype=np.uint64)
        self._key = np.zeros(n, dtype=np.uint64)
        self.heading = np.zeros(n, dtype=np.int64)
        self.body = np.zeros((n, c), dtype=np.int64)  # ring buffer of cells, tail..head
        self.lines = np.zeros((n, self.n_lines), dtype=np.uint32)
        self.head_ptr = np.zeros(n, dtype=np.int64)
        self.length = np.zeros(n, dtype=np.int64)
        self.head_cell = np.zeros(n, dtype=np.int64)
        self.apples = np.zeros(n, dtype=np.int64)
        self.steps = np.zeros(n, dtype=np.int64)
        self.steps_since_apple = np.zeros(n, dtype=np.int64)
        self.alive = np.zeros(n, dtype=bool)
        self.terminated = np.zeros(n, dtype=bool)
        self.truncated = np.zeros(n, dtype=bool)
        self.won = np.zeros(n, dtype=bool)
        self.apple_cell = np.full(n, -1, dtype=np.int64)
        self._apples_placed = np.zeros(n, dtype=np.int64)
        self._obs = np.zeros((n, N_OBS), dtype=np.float32)
        self._obs_rows, self._line_rows = _rows(self._obs), _rows(self.lines)
        self._seeded = True
        self._start(np.arange(n), seeds)
        info = self._info()
        info["seeds"] = self.seeds.copy()
        return self._obs.copy(), info

    def reset_games(self, games: np.ndarray | Sequence[int], seeds: np.ndarray) -> np.ndarray:
        """Restart only the listed games with the given per-game seeds.

        The other games are untouched, so a caller can keep a batch full (auto-reset).
        A restarted game behaves exactly as after :meth:`reset` with that seed.

        Returns:
            the new observations of those games, ``(len(games), 32)``.
        """
        if not self._seeded:
            raise RuntimeError("call reset() before reset_games()")
        g = np.asarray(games, dtype=np.int64)
        if g.ndim != 1:
            raise ValueError(f"game indices must be a 1-D array, got shape {g.shape}")
        seeds = self._seed_array(seeds, g.size)
        # The engine's internals expect ascending game indices (as an auto-reset's
        # nonzero() gives them); strictly ascending also means distinct.
        ordered = g
        if g.size > 1 and np.count_nonzero(g[1:] <= g[:-1]):
            order = g.argsort()
            ordered, seeds = g[order], seeds[order]
            if (ordered[1:] == ordered[:-1]).any():
                raise ValueError("game indices must be distinct")
        if g.size and (ordered[0] < 0 or ordered[-1] >= self.n):
            raise ValueError(f"game indices must lie within [0, {self.n})")
        self._start(ordered, seeds)
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
        """Put games ``g`` (ascending) in their starting position for the given seeds."""
        self.seeds[g] = seeds
        key = mix64(seeds)
        self._key[g] = key
        # Draws 0 and 1 of each game's stream in one call: the heading, and the first apple
        # as _place_apples would draw it, the k-th of the C - 3 free cells.
        first = mix64(np.stack([key, key ^ _STREAM]))  # draw(key, 0) and draw(key, 1)
        heading = (first[0] & _THREE).astype(np.int64)  # draw % 4
        row = heading * (self.cells - 3) + (first[1] % self._n_free).astype(np.int64)
        self.heading[g] = heading
        # Copy the precomputed start of each heading; the ring buffer beyond the snake's
        # length is never read, so it needs no clearing.
        self.body[g, :3] = self._start_body.take(heading, axis=0)
        self._line_rows[g] = self._start_line_rows.take(heading)
        self.head_ptr[g] = 2
        self.length[g] = 3
        self.head_cell[g] = self._start_head.take(heading)
        self.apple_cell[g] = self._start_apple.take(row)
        for a in (self.apples, self.steps, self.steps_since_apple):
            a[g] = 0
        self._apples_placed[g] = 1
        self.alive[g] = True
        self.terminated[g] = self.truncated[g] = self.won[g] = False
        self._obs_rows[g] = self._start_obs.take(row)

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
        g = np.array([k])
        self.lines[k] = 0
        flat = [y * self.width + x for x, y in reversed(cells)]  # tail .. head
        for i, cell in enumerate(flat):
            self.body[k, i] = cell
            self._toggle(g, np.array([cell]))
        self.head_ptr[k] = len(flat) - 1
        self.length[k] = len(flat)
        self.head_cell[k] = cells[0][1] * self.width + cells[0][0]
        self.heading[k] = heading
        self.apple_cell[k] = -1 if apple is None else apple[1] * self.width + apple[0]
        for a in (self.apples, self.steps, self.steps_since_apple):
            a[k] = 0
        self.alive[k] = True
        self.terminated[k] = self.truncated[k] = self.won[k] = False
        self._observe(g)

    # -------------------------------------------------------------------------- step

    def step(
        self, actions: np.ndarray | Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Advance every live game by one move.

        Args:
            actions: ``(N,)`` integers in {0, 1, 2}: turn left, straight, turn right.

        Returns:
            ``(obs (N, 32) float32, reward (N,) float32, terminated (N,) bool,
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

        reward = self.advance(actions)
        obs, term, trunc = self._obs.copy(), self.terminated.copy(), self.truncated.copy()
        return obs, reward, term, trunc, self._info()

    def advance(self, actions: np.ndarray) -> np.ndarray:
        """:meth:`step` for trusted callers: no checks, no copies; returns the rewards.

        ``actions`` must be a valid ``(N,)`` integer array. Read the new observations from
        :attr:`observations`. A population rollout uses this in its inner loop.
        """
        reward = np.zeros(self.n, dtype=np.float32)
        g = self.alive.nonzero()[0]  # the live games; finished ones are not touched
        if g.size:
            self._advance(g, actions[g], reward)
        return reward

    @property
    def observations(self) -> np.ndarray:
        """The current ``(N, 32)`` observations as a read-only view (no copy)."""
        view = self._obs.view()
        view.flags.writeable = False
        return view

    def _toggle(self, g: np.ndarray, cell: np.ndarray) -> None:
        """Flip cell ``cell[i]`` of game ``g[i]`` between free and occupied in its line masks.

        ``g`` must not repeat a game: two cells of one game may share a line mask.
        """
        flat = self.lines.reshape(-1)
        idx = ((g * self.n_lines)[:, None] + self._line.take(cell, axis=0)).ravel()
        flat[idx] = flat.take(idx) ^ self._bit.take(cell, axis=0).ravel()

    def _advance(self, g: np.ndarray, act: np.ndarray, reward: np.ndarray) -> None:
        # The step costs a few microseconds per numpy call, whatever the batch size, so
        # this counts calls: arr.take and arr.compress instead of np.take and boolean
        # indexing (less dispatch), and each per-game array gathered once.
        c = self.cells
        heading = self._turn.take(self.heading.take(g) * 3 + act)
        cell = self._next_cell.take(self.head_cell.take(g) * 4 + heading)
        out = cell < 0
        cell[out] = 0  # any valid index; these games die below
        eat = (cell == self.apple_cell.take(g)) & ~out
        length, head_ptr = self.length.take(g), self.head_ptr.take(g)
        tail_ptr = head_ptr - length + 1
        tail_ptr[tail_ptr < 0] += c  # ring buffer wrap-around, cheaper than %
        tail = self.body.take(g * c + tail_ptr)
        # The target cell's bit in its row mask (line 0 of a cell is its row).
        row = self.lines.take(g * self.n_lines + self._row_of.take(cell))
        occupied = (row & self._row_bit.take(cell)) != 0
        # The tail moves away this step unless the snake eats, so its cell is free.
        dead = out | (occupied & ~((cell == tail) & ~eat))

        live = ~dead
        moving = live & ~eat
        self._toggle(g.compress(moving), tail.compress(moving))  # the tail leaves its cell ...
        gl, cl = g.compress(live), cell.compress(live)
        self._toggle(gl, cl)  # ... before the head enters, which may be the same cell
        ptr = head_ptr.compress(live) + 1
        ptr[ptr == c] = 0
        self.head_ptr[gl] = ptr
        self.body.reshape(-1)[gl * c + ptr] = cl
        self.head_cell[gl] = cl
        self.heading[g] = heading  # a dead snake keeps the heading it died with

        self.steps[g] = self.steps.take(g) + 1
        ge = g.compress(eat)
        grown = length.compress(eat) + 1
        self.length[ge] = grown
        self.apples[ge] = self.apples.take(ge) + 1
        hungry = self.steps_since_apple.take(g) + 1
        hungry[eat] = 0
        self.steps_since_apple[g] = hungry
        reward[ge] = 1.0
        gd = g.compress(dead)
        reward[gd] = -1.0
        self.terminated[gd] = True

        over = dead
        full = grown == c
        if np.count_nonzero(full):  # cheaper than full.any() on a few elements
            gw = ge.compress(full)
            self.won[gw] = self.terminated[gw] = True
            self.apple_cell[gw] = -1
            self._place_apples(ge.compress(~full))
            over = dead | (eat & (length == c - 1))  # those that died or just won
        else:
            self._place_apples(ge)
        starved = (hungry >= self.hunger) & ~over
        self.truncated[g.compress(starved)] = True
        self.alive[g] = ~(over | starved)
        self._observe(gl)

    # --------------------------------------------------------------------- internals

    def _place_apples(self, g: np.ndarray) -> None:
        """Put a new apple on a uniformly random free cell of each game in ``g``."""
        if g.size == 0:
            return
        n_free = (self.cells - self.length.take(g)).astype(np.uint64)
        placed = self._apples_placed.take(g) + 1
        self._apples_placed[g] = placed
        k = (draw(self._key.take(g), placed) % n_free).astype(np.int64)
        # The k-th free cell in row-major order: free cells are the clear bits of the row
        # masks (row y, bit x).
        free = (~self.lines.take(g, axis=0)[:, : self.height, None] >> self._x_shift) & 1
        rank = free.reshape(g.size, self.cells).cumsum(axis=1)
        self.apple_cell[g] = (rank > k[:, None]).argmax(axis=1)

    def _observe(self, g: np.ndarray) -> None:
        """Write the observation rows of games ``g`` (see the class docstring)."""
        if g.size == 0:
            return
        head = self.head_cell.take(g)
        lines = (g * self.n_lines)[:, None] + self._line.take(head, axis=0)
        rows = self._features(
            head,
            self.heading.take(g),
            self.apple_cell.take(g),
            self.lines.take(lines),  # (M, 4): the head's row, diagonals, column
            self.length.take(g),
            self.steps_since_apple.take(g),
        )
        self._obs_rows[g] = rows

    def _features(
        self,
        head: np.ndarray,
        hd: np.ndarray,
        apple: np.ndarray,
        masks: np.ndarray,
        length: np.ndarray | int,
        hungry: np.ndarray | int,
    ) -> np.ndarray:
        """Observations from per-game head cell, heading, apple cell (-1: none), the 4 line
        masks through the head ``(M, 4)``, length and steps since the last apple.

        Returns the ``(M, 32)`` float32 observations as ``(M,)`` opaque rows (see _rows).
        """
        # X.take(i, axis=0) instead of X[i] or np.take: same result, several times
        # faster for these small row gathers, which dominate the step time.
        m = head.size
        r = head * 4 + hd
        # Lookup tables stand in for the arithmetic (integer % and // are slow in numpy).
        apple = r * (self.cells + 1) + apple + 1
        rows = self._base_obs.take(r * 9 + self._apple_code.take(apple))  # walls, apple, heading
        block = rows.view(np.float32).reshape(m, N_OBS)

        # Per line through the head: the nearest segment's bit on each side, in absolute
        # ray order (M, 8): increasing rays first, then decreasing ones.
        nearest = np.empty((m, 8), dtype=np.int64)
        after = (masks >> self._pos.take(head, axis=0)) >> 1  # past the head
        np.bitwise_and(after, -after, out=nearest[:, :4])  # lowest set bit
        np.bitwise_and(masks, self._below.take(head, axis=0), out=nearest[:, 4:])  # before
        # A power of two 2**j as float64 has the exponent field e = 1023 + j, and float64
        # holds these <= 32-bit masks exactly. Along increasing rays the nearest segment is
        # the lowest bit past the head, d = j + 1 moves away; along decreasing rays it is
        # the highest bit below the head's bit p, d = p - j moves away. _inv_dist maps e
        # (plus a block offset for decreasing rays) to 1 / d, and an empty mask to 0.
        index = (nearest.astype(np.float64).view(np.int64) >> 52) + self._dist_block.take(
            head, axis=0
        )
        ego = self._rows8[:m, None] + self._ego_cols.take(hd, axis=0)
        block[:, 16:24] = self._inv_dist.take(index.take(ego))

        block[:, 28:30] = self._apple_offset.take(apple, axis=0) / max(self.width, self.height)
        block[:, 30] = length / self.cells
        block[:, 31] = hungry / self.hunger
        return rows

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

    def _occupied(self, g: np.ndarray) -> np.ndarray:
        """``(len(g), C)`` bool: which cells of games ``g`` the snake covers (from the row
        masks, the one record of occupancy)."""
        rows = self.lines.take(g, axis=0)[:, : self.height]  # row y, bit x
        bits = (rows[:, :, None] >> self._x_shift) & 1
        return bits.reshape(len(g), self.cells).astype(bool)

    @property
    def occupied(self) -> np.ndarray:
        """``(N, C)`` bool: the cells each snake covers."""
        return self._occupied(np.arange(self.n))

    @property
    def head_x(self) -> np.ndarray:
        """``(N,)`` column of each head."""
        return self._cell_x[self.head_cell]

    @property
    def head_y(self) -> np.ndarray:
        """``(N,)`` row of each head."""
        return self._cell_y[self.head_cell]

    @property
    def done(self) -> np.ndarray:
        """``(N,)`` bool: the game is over (terminated or truncated)."""
        return ~self.alive

    def snake_cells(self, k: int) -> np.ndarray:
        """``(length, 2)`` int array of game ``k``'s segments as ``(x, y)``, head first."""
        ptr, n = self.head_ptr[k], self.length[k]
        cells = self.body[k, (ptr - np.arange(n)) % self.cells]
        return np.stack([cells % self.width, cells // self.width], axis=1)

    def apple_xy(self, k: int) -> tuple[int, int] | None:
        """Game ``k``'s apple as ``(x, y)``, or None once the board is full."""
        a = int(self.apple_cell[k])
        return None if a < 0 else (a % self.width, a // self.width)

    def observation_names(self) -> list[str]:
        """Names of the 32 observation features, in order."""
        return (
            [f"wall {r}" for r in RAY_NAMES]
            + [f"apple {r}" for r in RAY_NAMES]
            + [f"body {r}" for r in RAY_NAMES]
            + [f"heading {n}" for n in HEADING_NAMES]
            + ["apple ahead", "apple right", "length", "hunger"]
        )


def episode_fitness(
    apples: np.ndarray, steps: np.ndarray, truncated: np.ndarray, hunger: int, cells: int
) -> np.ndarray:
    """Per-episode fitness (see :class:`Snake`); all arrays share one shape."""
    useful = steps - np.where(truncated, hunger, 0)
    return apples + useful / (useful + cells)
