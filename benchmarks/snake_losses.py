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
move had room for the whole body.
"""

from __future__ import annotations

import argparse
import statistics
import sys

import machine  # benchmarks/machine.py, beside this script
import numpy as np

from evonet.evolution.files import load_agent
from evonet.evolution.rollout import rollout
from evonet.games.base import episode_seeds
from evonet.games.snake.rules import ROOM
from evonet.views.panel import Agent

KINDS = ("starved", "cornered", "a move into death")


def lost_games(path: str, games: int, seed: int) -> tuple[np.ndarray, np.ndarray, object]:
    """Play ``games`` fresh games; returns (their seeds ``(G,)``, the lost ones' indices
    ``(L,)``, the game)."""
    theta, topo, game = load_agent(path)
    if game.name != "snake" or game.info().get("observation", 1) < 2:
        sys.exit(f"{path}: needs a Snake network with the room features (layout 2 or later)")
    seeds = episode_seeds(seed, games)
    won = rollout(theta[None], topo, game, seeds).episode_won[0]
    return seeds, np.flatnonzero(~won), (theta, topo, game)


def replay(agent: Agent, game: object, seed: np.uint64) -> tuple[str, int, int]:
    """One lost game again, move by move: (how it ended, apples, steps before the end for
    which no move had room for the whole body)."""
    env = game.make(1)
    env.reset(seed=np.array([seed], dtype=np.uint64))
    agent.reset()
    cramped = 0
    while not env.done[0]:
        obs = env.observations[0]
        room = obs[ROOM : ROOM + 3]
        cramped = 0 if (room >= 1.0).any() else cramped + 1
        agent.decide(game.seen(obs))
        move = int(game.actions(agent.activations[-1], obs))  # through a shield, if any
        env.advance(np.array([move]))
    if env.won[0]:
        sys.exit("a replay won a game the batch lost: the two forward passes disagree")
    if env.truncated[0]:
        kind = "starved"
    else:
        kind = "a move into death" if (room > 0).any() else "cornered"
    return kind, int(env.apples[0]), cramped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("network", help="a Snake network file (best.npz, a champion)")
    parser.add_argument("--games", type=int, default=400, help="fresh games (400)")
    parser.add_argument("--seed", type=int, default=2026, help="episode seed (2026)")
    args = parser.parse_args()
    if not 1 <= args.games <= 100_000:
        sys.exit(f"--games must be from 1 to 100,000, got {args.games}")
    print(machine.describe())
    seeds, lost, (theta, topo, game) = lost_games(args.network, args.games, args.seed)
    print(f"{args.network}: won {args.games - lost.size} of {args.games} games")
    # Forward as evolution did: compiled for an MLP on compiled rules (as watch does).
    agent = Agent(theta, topo, compiled=game.compiled_play and not topo.recurrent)
    ends = [replay(agent, game, seeds[k]) for k in lost]
    for kind in KINDS:
        mine = [e for e in ends if e[0] == kind]
        if not mine:
            continue
        apples = sorted(e[1] for e in mine)
        cramped = statistics.median(e[2] for e in mine)
        print(
            f"  {kind}: {len(mine)}; apples {apples}; median moves cramped before: {cramped:g}"
        )


if __name__ == "__main__":
    main()
