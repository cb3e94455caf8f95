"""``evonet evaluate PATH``: play a saved champion on fresh seeds and report its score."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from evonet.cli.args import board_size, nonneg_int, positive_int
from evonet.cli.errors import UsageError
from evonet.cli.flags import add_backend_flags, evaluator_from
from evonet.cli.help import examples
from evonet.cli.output import emit_json, get_ready
from evonet.evolution import files
from evonet.evolution.evaluators.sharded import merge
from evonet.evolution.rollout import RolloutResult, rollout, rollout_bytes
from evonet.games.base import GameSpec, episode_seeds
from evonet.memory import OverBudget, check_memory
from evonet.nn.mlp import Topology
from evonet.text import count


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="play a saved network on fresh games and report its score",
        description="Play a saved network on fresh games of the game it was evolved on and "
        "report its score.",
        epilog=examples(
            ("evonet evaluate checkpoints/snake/best.npz", "100 games: mean, median, max"),
            ("evonet evaluate best.npz --episodes 1000 --seed 7", "other games, more of them"),
            ("evonet evaluate best.npz --board 20x20 --json", "another board, as JSON"),
            notes="PATH is a best.npz, a latest.npz (its best genome) or a shipped champion. "
            "The report gives the mean, median and max score (apples for Snake, the return "
            "for Gymnasium), the full boards for Snake, the mean steps a game, and the steps "
            "a won game takes (mean and 95th percentile).",
        ),
    )
    p.add_argument("path", help="a .npz written by evonet")
    p.add_argument(
        "--episodes", type=positive_int, default=100, help="games to play (default: 100)"
    )
    p.add_argument(
        "--seed",
        type=nonneg_int,
        default=12345,
        help="seed of the games: the same seed, the same games (default: 12345)",
    )
    p.add_argument(
        "--board", type=board_size, help="snake: WIDTHxHEIGHT (default: the run's board)"
    )
    p.add_argument("--json", action="store_true", help="last stdout line is one JSON object")
    add_backend_flags(p, default="serial: one batch in this process")
    p.set_defaults(run=run)


def load_agent(
    path: str, board: tuple[int, int] | None = None
) -> tuple[np.ndarray, Topology, GameSpec]:
    """:func:`evonet.evolution.files.load_agent`, its refusals as one-line usage errors."""
    try:
        return files.load_agent(path, board)
    except ValueError as e:  # a bad file, or a network that plays no game
        raise UsageError(str(e)) from None


def run(args: argparse.Namespace) -> int:
    theta, topo, game = load_agent(args.path, args.board)
    try:
        check_memory(
            rollout_bytes(1, args.episodes, topo, game) + 64 * args.episodes,
            f"--episodes {args.episodes} on {game.describe()}",
            "ask for fewer --episodes",
        )
    except OverBudget as e:
        raise UsageError(str(e)) from None
    # One champion's games play here, in one batch, unless workers are asked for: starting
    # worker processes costs more than a champion's few hundred games take in one batch
    # (the docs' benchmarks page has the figures).
    with evaluator_from(args, default="serial") as evaluator:
        get_ready(game)
        res = play_with_progress(
            evaluator, theta, topo, game, episode_seeds(args.seed, args.episodes)
        )
    score, name = res.episode_score[0], game.score_name
    best = float(score.max())
    out = {
        "episodes": args.episodes,
        f"mean_{name}": float(score.mean()),
        f"median_{name}": float(np.median(score)),
        f"max_{name}": int(best) if best.is_integer() else best,
        "mean_steps": float(res.episode_steps[0].mean()),
    }
    won = res.episode_won[0]
    wins = int(won.sum())
    if game.can_win:  # the JSON key is the words the text uses: full_boards for Snake
        out[(game.win_name + "s").replace(" ", "_")] = wins
        if wins:  # how fast it wins, as well as how often
            steps = res.episode_steps[0][won]
            out["mean_steps_per_win"] = float(steps.mean())
            out["p95_steps_per_win"] = float(np.percentile(steps, 95))
    if args.json:
        emit_json(out)
    else:
        wins = f"{count(wins, game.win_name)}, " if game.can_win else ""
        n = args.episodes
        print(
            f"{args.path} on {n} episode{'s' * (n != 1)} of {game.describe()} "
            f"(seed {args.seed}): mean {out[f'mean_{name}']:.2f} {name}, "
            f"median {_number(out[f'median_{name}'])}, max {_number(out[f'max_{name}'])}, "
            f"{wins}mean steps {out['mean_steps']:.0f}"
            + _win_speed(out, game)
        )
    return 0


def _win_speed(out: dict, game: GameSpec) -> str:
    """``; a full board takes 3642 steps on average (95th percentile 4521)``, or nothing
    without a win."""
    if "mean_steps_per_win" not in out:
        return ""
    return (
        f"; a {game.win_name} takes {out['mean_steps_per_win']:.0f} steps on average "
        f"(95th percentile {out['p95_steps_per_win']:.0f})"
    )


# With workers, the episodes go out in up to this many blocks, so a long evaluation shows
# progress; each worker's part of a block is at least MIN_SHARD episodes, because a batch
# costs a forward pass per step of its longest game, and small batches pay it over and
# over (benchmarks/evaluate.py measures batches of 5 and 25 against one batch).
PROGRESS_BLOCKS = 20
MIN_SHARD = 100


def play_with_progress(
    evaluator: Any, theta: np.ndarray, topo: Topology, game: GameSpec, seeds: np.ndarray
) -> RolloutResult:
    """``evaluator(theta[None], topo, game, seeds)`` with a progress bar on stderr once it
    has taken a moment (tqdm's ``delay``). ``theta`` is ``(P,)`` and ``seeds`` ``(E,)``;
    the result is that of one genome on ``E`` episodes, the same however the episodes were
    split (a game's result depends only on its seed).

    With at most one worker (one worker would only play what this process can, after its
    start-up), or for a game whose batch shares randomness (which cannot be split), every
    episode is played here in one batch, with progress from inside it.
    """
    from tqdm import tqdm

    n = len(seeds)
    # No rate and no time left: the games of one batch play side by side and end in
    # clumps (a good player's short games end long before its long ones), so a pace from
    # the first ones would promise far too much.
    with tqdm(
        total=n,
        desc="evaluate",
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} games over [{elapsed}]",
        delay=1.0,
        file=sys.stderr,
    ) as bar:
        if not game.shardable or getattr(evaluator, "workers", 1) == 1:
            return rollout(theta[None], topo, game, seeds, lambda over: bar.update(over - bar.n))
        size = max(evaluator.workers * MIN_SHARD, -(-n // PROGRESS_BLOCKS))
        parts = []
        for block in np.array_split(seeds, -(-n // size)):
            parts.append(evaluator(theta[None], topo, game, block))
            bar.update(len(block))
    return merge(parts, axis=1)


def _number(v: float) -> str:
    """A whole number as such (97), anything else to two decimals (-81.70)."""
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}"
