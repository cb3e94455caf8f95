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
from evonet.text import count
from evonet.views.controls import MAX_FPS, MIN_FPS, Controls, Press, keys_help, loop

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
            "into itself. Space pauses, + and - change the speed, h shows the keys, Esc or "
            "q quits; r restarts after a game over.",
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
            view = WindowView(
                env, title="evonet play snake", require_screen=True, hud_extra=HUD_EXTRA
            )
        get_ready(spec, always=False)
        with view:
            play_loop(view, env, args.fps, args.seed)
    return 0


# The longest items the HUD adds to the game's: the window sizes its HUD strip for them.
HUD_EXTRA = (f"{MIN_FPS:.3g} fps", "paused")
KEYS_HELP = keys_help("arrow keys or WASD: steer", "r: play again (game over)")


class Playing:
    """What the played game shows each frame, moving on as the keys ask.

    The snake waits for the first direction key that moves it (not back into its body),
    then moves once a frame; direction keys queue up so quick turns are not lost.
    """

    def __init__(self, view: Any, env: Snake, controls: Controls, seed: int | None) -> None:
        self.view, self.env, self.controls = view, env, controls
        self.seeds = None if seed is None else iter(episode_seeds(seed, 1_000_000))
        self.pending: deque[str] = deque(maxlen=3)
        self.games = 0
        self.new_game()

    def new_game(self) -> None:
        self.env.reset(seed=None if self.seeds is None else [next(self.seeds)])
        self.games, self.started = self.games + 1, False
        self.pending.clear()

    def show(self, press: Press) -> None:
        env, view, controls = self.env, self.view, self.controls
        if controls.help:  # the game waits while the keys are shown
            view.draw(0, message=KEYS_HELP)
            return
        if not controls.paused:  # a paused game takes no turns
            self.pending.extend(k for k in press.others if k in DIRECTION_HEADING)
        status = [f"{controls.speed:.3g} fps"] + ["paused"] * controls.paused
        if env.done[0]:
            score = count(int(env.apples[0]), "apple") + (
                ", board full: you win!" if env.won[0] else ""
            )
            view.draw(0, status, ["game over: " + score, "r: play again   q: quit"])
            if press.restart:
                self.new_game()
        elif not self.started and not self._start():
            view.draw(0, status, ["press an arrow key to start", "q: quit   h: keys"])
        elif controls.paused:
            view.draw(0, status)
        else:
            key = self.pending.popleft() if self.pending else None
            env.step([relative_action(int(env.heading[0]), key)])
            view.draw(0, status)

    def _start(self) -> bool:
        """Whether a queued key starts the game. A first key back into the body would be
        ignored and the snake would run on into the wall before the player knew it had
        started: only one that moves it counts."""
        heading = int(self.env.heading[0])
        while self.pending and (DIRECTION_HEADING[self.pending[0]] - heading) % 4 == 2:
            self.pending.popleft()
        self.started = bool(self.pending)
        return self.started


def play_loop(view: Any, env: Snake, fps: float, seed: int | None, max_frames: int = -1) -> int:
    """Run games until the player quits; returns the number of games started.

    ``view`` is a window or terminal view (``draw``, ``poll``, ``tick``). Keys: the arrows
    (or WASD) steer, r plays again after a game over, and the shared keys of
    :mod:`evonet.views.controls` (space pauses, + and - change the speed, h shows the keys,
    Esc or q quits).
    """
    controls = Controls(fps, MIN_FPS, MAX_FPS)
    playing = Playing(view, env, controls, seed)
    loop(view, controls, playing.show, max_frames)
    return playing.games
