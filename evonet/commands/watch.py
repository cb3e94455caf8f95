"""``evonet watch [PATH]``: watch a champion play, with its network lighting up."""

from __future__ import annotations

import argparse
from pathlib import Path

from evonet import watch
from evonet.commands.common import (
    UsageError,
    board_size,
    check_writable,
    info,
    nonneg_int,
    positive_float,
    positive_int,
    window_errors,
)
from evonet.commands.evaluate import load_agent
from evonet.rollout import GameSettings


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "watch",
        help="watch a saved agent play, with a live view of its network",
        description="Watch an agent play. Without PATH: the best of the newest run under "
        "checkpoints/, else the shipped champion. Keys: space pause, right arrow or n step, "
        "+ and - speed, r restart, Esc or q quit.",
    )
    p.add_argument("path", nargs="?", help="best.npz, latest.npz or a network file")
    p.add_argument("--render", choices=["window", "terminal"], default="window")
    p.add_argument("--episodes", type=positive_int, default=5, help="games to play (5)")
    p.add_argument("--fps", type=positive_float, default=10.0, help="moves per second (10)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed of the games (0)")
    p.add_argument("--board", type=board_size, help="WIDTHxHEIGHT (default: the agent's board)")
    p.add_argument(
        "--record", metavar="FILE.gif", help="write an animated GIF instead; no screen needed"
    )
    p.add_argument(
        "--max-steps", type=positive_int, default=5000, help="with --record: moves per game (5000)"
    )
    p.add_argument(
        "--scale", type=positive_float, default=1.0, help="with --record: frame size factor (1)"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    path = Path(args.path) if args.path else watch.default_target()
    theta, topo, game = load_agent(str(path))
    if args.board:
        game = GameSettings(args.board[0], args.board[1], None)
    agent = watch.Agent(theta, topo)
    if not args.path:
        info(f"evonet: watching {path}")
    if args.record:
        target = check_writable(args.record, "--record")
        try:
            frames = watch.record_gif(
                agent,
                game,
                args.episodes,
                args.seed,
                target,
                args.fps,
                max_steps=args.max_steps,
                scale=args.scale,
            )
        except OSError as e:
            raise UsageError(f"--record {target}: cannot write: {e.strerror or e}") from None
        info(f"evonet: wrote {target} ({frames} frames, {args.episodes} games)")
        return 0
    if args.render == "terminal":
        scores = watch.run_terminal(agent, game, args.episodes, args.seed, args.fps)
    else:
        with window_errors("try --render terminal or --record FILE.gif"):
            view, eps = watch.open_window(agent, game, args.episodes, args.seed)
        with view:
            scores = watch.watch_loop(view, eps, args.fps)
    if scores:
        info(f"evonet: {len(scores)} games, apples {scores}")
    return 0
