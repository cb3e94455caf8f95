"""``evonet play snake``: a person plays Snake in a window or in the terminal."""

from __future__ import annotations

import argparse
from collections import deque
from typing import TYPE_CHECKING, Any

from evonet.cli.args import board_size, float_in, nonneg_int
from evonet.cli.errors import UsageError, terminal_errors, window_errors
from evonet.cli.flags import add_render_flag
from evonet.cli.help import examples
from evonet.cli.output import get_ready
from evonet.games.base import episode_seeds
from evonet.games.snake.render.keys import DIRECTION_HEADING, relative_action
from evonet.views.replay import MAX_FPS, MIN_FPS

if TYPE_CHECKING:
    from evonet.games.snake import Snake


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "play",
        help="play Snake yourself with the arrow keys",
        description="Play Snake yourself, in a window or in the terminal.",
        epilog=examples(
            ("evonet play snake", "a window; arrow keys steer"),
            ("evonet play snake --render terminal", "curses; arrow keys or WASD"),
            ("evonet play snake --board 16x12 --fps 10", "a bigger board, faster"),
            notes="The snake waits for your first move, a key that does not turn it back "
            "into itself. Esc or q quits; r restarts after a game over.",
        ),
    )
    p.add_argument("game", choices=["snake"], help="the game to play: snake")
    add_render_flag(p, "a pygame window")
    p.add_argument(
        "--board", type=board_size, default=(10, 10), help="WIDTHxHEIGHT (default: 10x10)"
    )
    p.add_argument(
        "--fps",
        type=float_in(MIN_FPS, MAX_FPS),
        default=8.0,
        help=f"moves per second, {MIN_FPS:g} to {MAX_FPS:g} (default: 8)",
    )
    p.add_argument(
        "--seed",
        type=nonneg_int,
        default=None,
        help="seed of the first game (default: a new one each time)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from evonet.games.snake import Snake, SnakeSpec  # numba: only when a game is played

    width, height = args.board
    try:
        env = Snake(1, width, height)
    except ValueError as e:
        raise UsageError(f"--board: {e}") from None
    # The engine compiles on the first run after an install: after the view's checks, so an
    # error comes at once, and before curses takes the screen, so the note can be read.
    spec = SnakeSpec(board=(width, height))
    if args.render == "terminal":
        from evonet.games.snake.render.terminal import TerminalView
        from evonet.games.ui.terminal import check_terminal, run_curses

        with terminal_errors("run it in a terminal, or use --render window"):
            check_terminal()
            get_ready(spec, always=False)
            run_curses(lambda scr: play_loop(TerminalView(scr, env), env, args.fps, args.seed))
    else:
        from evonet.games.snake.render.window import WindowView

        with window_errors("try --render terminal"):
            view = WindowView(env, title="evonet play snake", require_screen=True)
        get_ready(spec, always=False)
        with view:
            play_loop(view, env, args.fps, args.seed)
    return 0


def play_loop(view: Any, env: Snake, fps: float, seed: int | None, max_frames: int = -1) -> int:
    """Run games until the player quits; returns the number of games started.

    ``view`` is a window or terminal view (``draw``, ``poll``, ``tick``). The snake waits
    for the first direction key that moves it (not back into its body), then moves at
    ``fps``; key presses queue up so quick turns are not lost.
    """
    games, frame = 0, 0
    seeds = None if seed is None else iter(episode_seeds(seed, 1_000_000))

    def new_game() -> None:
        env.reset(seed=None if seeds is None else [next(seeds)])

    new_game()
    games, started, pending = 1, False, deque(maxlen=3)
    while frame != max_frames:
        frame += 1
        keys = view.poll()
        if "quit" in keys:
            break
        pending.extend(k for k in keys if k in DIRECTION_HEADING)
        if env.done[0]:
            score = f"{int(env.apples[0])} apples" + (
                ", board full: you win!" if env.won[0] else ""
            )
            view.draw(0, message=["game over: " + score, "r: play again   q: quit"])
            if "restart" in keys:
                new_game()
                games, started = games + 1, False
                pending.clear()
            view.tick(fps)
            continue
        if not started:
            # A first key back into the body would be ignored and the snake would run on
            # into the wall before the player knew it had started: wait for one that moves.
            heading = int(env.heading[0])
            while pending and (DIRECTION_HEADING[pending[0]] - heading) % 4 == 2:
                pending.popleft()
            started = bool(pending)
            if not started:
                view.draw(0, message=["press an arrow key to start", "q: quit"])
                view.tick(fps)
                continue
        key = pending.popleft() if pending else None
        env.step([relative_action(int(env.heading[0]), key)])
        view.draw(0)
        view.tick(fps)
    return games
