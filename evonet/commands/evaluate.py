"""``evonet evaluate PATH``: play a saved champion on fresh seeds and report its score."""

from __future__ import annotations

import argparse

import numpy as np

from evonet.budget import OverBudget, check_memory
from evonet.checkpoint import CheckpointError, load_network
from evonet.commands.common import UsageError, board_size, emit_json, nonneg_int, positive_int
from evonet.config import game_from_meta
from evonet.mlp import Topology
from evonet.rollout import GameSettings, rollout, rollout_bytes
from games.snake import N_OBS, episode_seeds


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="play a saved network on fresh games and report apples",
        description="Play a saved network (best.npz, latest.npz or a trained network) on "
        "fresh Snake games and report mean, median and max apples, wins and mean steps.",
    )
    p.add_argument("path", help="a .npz written by evonet")
    p.add_argument("--episodes", type=positive_int, default=100, help="games to play (100)")
    p.add_argument("--seed", type=nonneg_int, default=12345, help="seed of the games")
    p.add_argument("--board", type=board_size, help="WIDTHxHEIGHT (default: the run's board)")
    p.add_argument("--json", action="store_true", help="last stdout line is one JSON object")
    p.set_defaults(run=run)


def load_agent(path: str) -> tuple[np.ndarray, Topology, GameSettings]:
    """A Snake network from a file, with the board and hunger it was evolved on."""
    try:
        theta, topo, meta = load_network(path)
    except CheckpointError as e:
        raise UsageError(str(e)) from None
    if topo.n_in != N_OBS or topo.n_out != 3:
        raise UsageError(
            f"{path}: network {list(topo.sizes)} is not a Snake agent ({N_OBS} inputs, 3 outputs)"
        )
    # Networks from a run carry its config under "info"; checkpoints carry it directly.
    info = meta.get("info") if isinstance(meta.get("info"), dict) else {}
    settings = info.get("config") if "config" in info else meta.get("config")
    try:
        game = game_from_meta(settings)
    except ValueError as e:
        raise UsageError(f"{path}: invalid game settings in its metadata: {e}") from None
    return theta, topo, game


def run(args: argparse.Namespace) -> int:
    theta, topo, game = load_agent(args.path)
    if args.board:
        game = GameSettings(args.board[0], args.board[1], None)
    try:
        check_memory(
            rollout_bytes(1, args.episodes, topo, game) + 64 * args.episodes,
            f"--episodes {args.episodes} on {game.width}x{game.height}",
            "ask for fewer --episodes",
        )
    except OverBudget as e:
        raise UsageError(str(e)) from None
    res = rollout(theta[None], topo, game, episode_seeds(args.seed, args.episodes))
    apples = res.episode_apples[0]
    out = {
        "episodes": args.episodes,
        "mean_apples": float(apples.mean()),
        "median_apples": float(np.median(apples)),
        "max_apples": int(apples.max()),
        "wins": int(res.episode_won[0].sum()),
        "mean_steps": float(res.episode_steps[0].mean()),
    }
    if args.json:
        emit_json(out)
    else:
        print(
            f"{args.path} on {args.episodes} games of {game.width}x{game.height} "
            f"(seed {args.seed}): mean {out['mean_apples']:.2f} apples, "
            f"median {out['median_apples']:.1f}, max {out['max_apples']}, "
            f"wins {out['wins']}, mean steps {out['mean_steps']:.0f}"
        )
    return 0
