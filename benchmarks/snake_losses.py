"""Why a Snake champion loses: play it on fresh games and sort every game it loses.

    python benchmarks/snake_losses.py evonet/assets/snake-champion.npz
    python benchmarks/snake_losses.py run/best.npz --games 1000 --seed 2026

The games are played as `evonet evaluate` plays them (episode seeds from --seed); each lost
game is then replayed move by move, as `evonet watch` plays it, and sorted by its last
move, read from the room features (observation layout 2 or later):

- starved: `hunger` moves without an apple;
- cornered: every move died, so the game was lost earlier;
- a move into death: the move taken died while another did not. The other's region may
  be a single cell, the tail's, which frees as the snake moves on. (A shielded network,
  `--shield`, never loses this way.)

Prints the counts, the apples at each loss, and the steps before each loss for which no
move had room for the whole body. With `--lookahead D`, also how many of the losses a
timed lookahead would have seen coming: a move that lives D more moves where the move
taken does not, in a search (not in evonet) where each body cell frees when the tail
leaves it and eating the current apple delays every freeing by a move.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import deque

import machine  # benchmarks/machine.py, beside this script
import numpy as np

from evonet.evolution.files import load_agent
from evonet.evolution.rollout import rollout
from evonet.games.base import episode_seeds
from evonet.games.snake.rules import ROOM
from evonet.views.panel import Agent

KINDS = ("starved", "cornered", "a move into death")
STEPS = ((0, -1), (1, 0), (0, 1), (-1, 0))  # up, right, down, left: the headings' order
LOOK_BACK = 100  # the moves before a loss the lookahead looks back over
NODES = 200_000  # a search's budget of positions; past it a move counts as dying there


class Lookahead:
    """How many moves, up to ``depth``, a snake can live after each move (ignoring
    apples but the current one): a depth-first search over the moves, where a body cell
    ``i`` segments from the tail is free once ``i + 1`` moves have passed, and a cell the
    head enters once the whole body has passed it."""

    def __init__(self, width: int, height: int, depth: int) -> None:
        self.width, self.height, self.depth = width, height, depth

    def after(self, cells: np.ndarray, heading: int, apple: tuple | None) -> list[int]:
        """Moves to live after each move (turn left, straight, turn right) from the
        position with the snake on ``cells`` ``(L, 2)``, head first."""
        self.length = n = len(cells)
        # The move after which each cell is free (less the apples eaten by then).
        frees = {(int(x), int(y)): n - i for i, (x, y) in enumerate(cells)}
        head = (int(cells[0][0]), int(cells[0][1]))
        out = []
        for a in range(3):
            self.budget = NODES
            out.append(self._live(frees, head, (heading + a - 1) % 4, apple, 0, 0, self.depth))
        return out

    def _live(self, frees: dict, head: tuple, way: int, apple: tuple | None, t: int,
              grown: int, depth: int) -> int:  # fmt: skip
        """Moves to live, up to ``depth``, moving ``way`` from ``head`` at move ``t``."""
        x, y = head[0] + STEPS[way][0], head[1] + STEPS[way][1]
        if depth == 0 or self.budget <= 0:
            return 0
        self.budget -= 1
        inside = 0 <= x < self.width and 0 <= y < self.height
        if not inside or frees.get((x, y), 0) + grown > t + 1:
            return 0
        eats = (x, y) == apple  # the tail stays a move: every cell frees a move later
        before = frees.get((x, y))
        frees[(x, y)] = t + 1 + self.length - grown
        best = 0
        for turn in (-1, 0, 1):
            rest = self._live(frees, (x, y), (way + turn) % 4, None if eats else apple,
                              t + 1, grown + eats, depth - 1)  # fmt: skip
            best = max(best, rest)
            if best == depth - 1:
                break
        if before is None:
            del frees[(x, y)]
        else:
            frees[(x, y)] = before
        return 1 + best


def seen_coming(history: list, look: Lookahead) -> int | None:
    """Moves before the end at which the lookahead first sees a lost game's end coming
    (scanning back from it): another move lives its whole depth, the one taken does not.
    ``history`` holds ``(cells, heading, move, apple)`` per move, the last one last."""
    for back, (cells, heading, move, apple) in enumerate(reversed(history), start=1):
        lives = look.after(cells, heading, apple)
        if lives[move] < look.depth and max(lives) == look.depth:
            return back
    return None


def lost_games(path: str, games: int, seed: int) -> tuple[np.ndarray, np.ndarray, object]:
    """Play ``games`` fresh games; returns (their seeds ``(G,)``, the lost ones' indices
    ``(L,)``, the game)."""
    theta, topo, game = load_agent(path)
    if game.name != "snake" or game.info().get("observation", 1) < 2:
        sys.exit(f"{path}: needs a Snake network with the room features (layout 2 or later)")
    seeds = episode_seeds(seed, games)
    won = rollout(theta[None], topo, game, seeds).episode_won[0]
    return seeds, np.flatnonzero(~won), (theta, topo, game)


def replay(
    agent: Agent, game: object, seed: np.uint64, look: Lookahead | None = None
) -> tuple[str, int, int, int | None]:
    """One lost game again, move by move: (how it ended, apples, steps before the end for
    which no move had room for the whole body, and with ``look`` the moves before the
    end at which it saw the end coming, None if it did not)."""
    env = game.make(1)
    env.reset(seed=np.array([seed], dtype=np.uint64))
    agent.reset()
    cramped, history = 0, deque(maxlen=LOOK_BACK)
    while not env.done[0]:
        obs = env.observations[0]
        room = obs[ROOM : ROOM + 3]
        cramped = 0 if (room >= 1.0).any() else cramped + 1
        agent.decide(game.seen(obs))
        move = int(game.actions(agent.activations[-1], obs))  # through a shield, if any
        if look is not None:
            apple = env.apple_xy(0)
            apple = None if apple is None else (int(apple[0]), int(apple[1]))
            history.append((env.snake_cells(0).copy(), int(env.heading[0]), move, apple))
        env.advance(np.array([move]))
    if env.won[0]:
        sys.exit("a replay won a game the batch lost: the two forward passes disagree")
    if env.truncated[0]:
        kind = "starved"
    else:
        kind = "a move into death" if (room > 0).any() else "cornered"
    seen = seen_coming(list(history), look) if look is not None and kind != "starved" else None
    return kind, int(env.apples[0]), cramped, seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("network", help="a Snake network file (best.npz, a champion)")
    parser.add_argument("--games", type=int, default=400, help="fresh games (400)")
    parser.add_argument("--seed", type=int, default=2026, help="episode seed (2026)")
    parser.add_argument("--lookahead", type=int, default=0, metavar="D",
                        help="moves a timed lookahead searches (0: none)")  # fmt: skip
    args = parser.parse_args()
    if not 1 <= args.games <= 100_000:
        sys.exit(f"--games must be from 1 to 100,000, got {args.games}")
    if not 0 <= args.lookahead <= 64:
        sys.exit(f"--lookahead must be from 0 to 64 moves, got {args.lookahead}")
    print(machine.describe())
    seeds, lost, (theta, topo, game) = lost_games(args.network, args.games, args.seed)
    print(f"{args.network}: won {args.games - lost.size} of {args.games} games")
    # Forward as evolution did: compiled for an MLP on compiled rules (as watch does).
    agent = Agent(theta, topo, compiled=game.compiled_play and not topo.recurrent)
    look = Lookahead(*game.board, args.lookahead) if args.lookahead else None
    ends = [replay(agent, game, seeds[k], look) for k in lost]
    for kind in KINDS:
        mine = [e for e in ends if e[0] == kind]
        if not mine:
            continue
        apples = sorted(e[1] for e in mine)
        cramped = statistics.median(e[2] for e in mine)
        print(
            f"  {kind}: {len(mine)}; apples {apples}; median moves cramped before: {cramped:g}"
        )
        if look is not None and kind != "starved":
            seen = sorted(e[3] for e in mine if e[3] is not None)
            print(
                f"    a {look.depth}-move lookahead saw {len(seen)} of them coming, "
                f"this many moves before the end: {seen}"
            )


if __name__ == "__main__":
    main()
