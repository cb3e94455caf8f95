"""``evonet watch [PATH]``: watch a champion play, with its network lighting up."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evonet import signals
from evonet.cli.args import board_size, check_writable, float_in, int_in, nonneg_int
from evonet.cli.errors import UsageError, terminal_errors, window_errors
from evonet.cli.evaluate import load_agent
from evonet.cli.flags import add_render_flag
from evonet.cli.help import examples
from evonet.cli.output import get_ready, info
from evonet.evolution.rollout import rollout
from evonet.games.base import GameSpec, episode_seeds
from evonet.games.ui.terminal import check_terminal
from evonet.text import count
from evonet.views import replay as watch
from evonet.views import replay_snake as snake

DEFAULT_FPS = 10.0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "watch",
        help="watch a saved agent play, with a live view of its network",
        description="Watch a saved agent play, with a live view of its network.",
        epilog=examples(
            ("evonet watch", "the best of your newest run, else the shipped champion"),
            ("evonet watch --board 20x20", "the newest run on 20x20, else its champion"),
            ("evonet watch best.npz --record game.gif", "a GIF instead; no screen needed"),
            notes="Without PATH: the best of the newest run under checkpoints/, else the "
            "shipped champion; with --board, the newest run evolved on that board, else the "
            "shipped champion nearest that board. Keys: space pause, right arrow or n step, "
            "+ and - speed, r restart, h keys, Esc or q quit. A Gymnasium agent plays in the "
            "same window, as the environment draws itself, with the same keys.",
        ),
    )
    p.add_argument(
        "path",
        nargs="?",
        help="best.npz, latest.npz or a network file (default: see below)",
    )
    add_render_flag(p, "a pygame window with the network")
    p.add_argument(
        "--episodes",
        type=int_in(1, watch.MAX_EPISODES),
        default=5,
        help=f"games to play, at most {watch.MAX_EPISODES} (default: 5)",
    )
    p.add_argument(
        "--fps",
        type=float_in(watch.MIN_FPS, watch.MAX_FPS),
        default=None,
        help=f"moves per second, {watch.MIN_FPS:g} to {watch.MAX_FPS:g}; "
        f"with --record at most {watch.MAX_GIF_FPS:g} (default: 10; a Gymnasium agent in "
        "the window: the environment's own speed)",
    )
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed of the games (default: 0)")
    p.add_argument("--board", type=board_size, help="WIDTHxHEIGHT (default: the agent's board)")
    p.add_argument(
        "--record",
        metavar="FILE.gif",
        help="write an animated GIF instead; no screen needed (default: none, a window)",
    )
    p.add_argument(
        "--max-steps",
        type=int_in(1, watch.MAX_RECORD_STEPS),
        default=5000,
        help=f"with --record: moves per game, at most {watch.MAX_RECORD_STEPS} (default: 5000)",
    )
    p.add_argument(
        "--scale",
        type=float_in(watch.MIN_SCALE, watch.MAX_SCALE),
        default=1.0,
        help=f"size factor, {watch.MIN_SCALE:g} to {watch.MAX_SCALE:g}: of the window's board "
        "(it never opens larger than the screen), or of a recording's frames (default: 1)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.record is not None:
        check_record_flags(args)  # before any work: nothing is loaded or created on error
    path = Path(args.path) if args.path else watch.default_target(board=args.board)
    theta, topo, game = load_agent(str(path), args.board)
    agent = watch.Agent(theta, topo)
    gym = game.name.startswith("gym:")
    if gym and args.render == "terminal":
        raise UsageError(_terminal_refusal(args, path, game))
    # Say which file (and game) was picked only once the view can start: when it cannot,
    # the error is the one line on stderr.
    picked = f"evonet: watching {path} ({game.describe()})"
    announce = (lambda: info(picked)) if not args.path else (lambda: None)
    # The engine compiles on the first run after an install: after the view's checks, so an
    # error comes at once, and before curses takes the screen, so the note can be read.
    if args.record is not None:
        announce()
        get_ready(game, always=False)
        return record(args, agent, game)
    if args.render == "terminal":
        with terminal_errors("run it in a terminal, or use --render window / --record FILE.gif"):
            check_terminal()
            announce()
            get_ready(game, always=False)
            scores = snake.run_terminal(agent, game, args.episodes, args.seed, _fps(args, game))
    else:
        scores = _watch_window(args, agent, game, announce)
    if scores and gym:
        info(f"evonet: {count(len(scores), 'episode')}, returns {[round(r, 1) for r in scores]}")
    elif scores:
        info(f"evonet: {count(len(scores), 'game')}, apples {scores}")
    return 0


def _terminal_refusal(args: argparse.Namespace, path: Path, game: GameSpec) -> str:
    """Why a Gymnasium agent has no terminal view; when evonet picked the file, also the
    Snake network the terminal would show (the newest 10x10 run, else the champion)."""
    text = (
        f"{path}: a {game.name} agent is shown as the environment draws it, in a window: "
        "use --render window or --record FILE.gif"
    )
    if args.path:
        return text
    snake_file = watch.default_target(board=(10, 10))
    return f"{text}; for a Snake run in the terminal: evonet watch {snake_file} --render terminal"


def _fps(args: argparse.Namespace, game: GameSpec) -> float:
    """--fps, else 10 moves a second, or a Gymnasium environment's own speed in a window."""
    if args.fps is not None:
        return args.fps
    if game.name.startswith("gym:") and args.record is None:
        from evonet.games.gym import render_fps

        return min(max(render_fps(game), watch.MIN_FPS), watch.MAX_FPS)
    return DEFAULT_FPS


def _watch_window(
    args: argparse.Namespace, agent: watch.Agent, game: GameSpec, announce: Callable[[], None]
) -> list[float]:
    """Watch in evonet's window, with the network panel; returns the finished games' scores."""
    if game.name.startswith("gym:"):
        from evonet.views import replay_gym as opener

        hint = "try --record FILE.gif"
    else:
        opener, hint = snake, "try --render terminal or --record FILE.gif"  # type: ignore[assignment]
    with window_errors(hint):
        view, replay = opener.open_window(agent, game, args.episodes, args.seed, args.scale)
    announce()
    get_ready(game, always=False)
    with view:
        return watch.watch_loop(view, replay, _fps(args, game))


def check_record_flags(args: argparse.Namespace) -> None:
    """Refuse a --record target or --fps that could not give the asked-for GIF."""
    if Path(args.record).suffix.lower() != ".gif":
        raise UsageError(
            f"--record {args.record}: can only write an animated GIF; use a name ending in .gif"
        )
    check_writable(args.record, "--record")
    if args.fps is not None and args.fps > watch.MAX_GIF_FPS:
        raise UsageError(
            f"--fps {args.fps:g}: a GIF plays at most {watch.MAX_GIF_FPS:g} frames per second "
            f"(viewers slow down shorter frames); use --fps {watch.MAX_GIF_FPS:g} or less "
            "with --record"
        )


def record(args: argparse.Namespace, agent: watch.Agent, game: GameSpec) -> int:
    """``watch --record``: the games' frames into a GIF, with a progress bar on stderr.

    A frame is the game's board (Snake's, or a Gymnasium environment's own picture) with
    the HUD and the network panel, as the window shows it. The bar's total is predicted
    by playing the same games undrawn first.
    """
    if game.name.startswith("gym:"):
        from evonet.views import replay_gym as recorder
    else:
        recorder = snake  # type: ignore[assignment]
    if game.shardable:
        # Each game depends only on its seed and its moves, so one batch of all of them,
        # with no drawing, tells how long each is, far sooner than playing them one by one.
        seeds = episode_seeds(args.seed, args.episodes)
        steps = rollout(agent.theta[None], agent.topo, game, seeds).episode_steps[0]
        expected = np.minimum(steps, args.max_steps) + 1
    else:
        expected = recorder.frame_counts(agent, game, args.episodes, args.seed, args.max_steps)
    return _record_with_bar(args, expected, recorder.record_gif, agent, game)


def _record_with_bar(
    args: argparse.Namespace, expected: Any, record_gif: Callable[..., int], *lead: Any
) -> int:
    """``record_gif(*lead, episodes, seed, target, fps, ...)`` (the Snake or the Gymnasium
    recorder) with a progress bar of ``expected`` frames per game ``(episodes,)``."""
    from tqdm import tqdm

    target = Path(args.record)
    with (
        signals.as_interrupt(),
        tqdm(
            total=int(expected.sum()),
            desc=f"record {target.name}",
            unit="frame",
            leave=False,
            dynamic_ncols=True,
        ) as bar,
    ):
        progress = FrameProgress(bar, expected)
        try:
            frames = record_gif(
                *lead,
                args.episodes,
                args.seed,
                target,
                args.fps if args.fps is not None else DEFAULT_FPS,
                max_steps=args.max_steps,
                scale=args.scale,
                on_frame=progress,
            )
        except OSError as e:
            raise UsageError(f"--record {target}: cannot write: {e.strerror or e}") from None
        progress.finish()
    info(f"evonet: wrote {target} ({count(frames, 'frame')}, {count(args.episodes, 'game')})")
    return 0


class FrameProgress:
    """Advances a tqdm ``bar`` by one for each frame ``record_gif`` reports.

    The bar's total starts as the predicted frames per game ``(E,)``. Should a game turn out
    longer or shorter than predicted, the total is corrected to the frames written so far
    plus the prediction for the games still to come, so it never claims more or less than
    what is known.
    """

    def __init__(self, bar: Any, expected: Sequence[int]) -> None:
        self.bar, self.expected = bar, [int(n) for n in expected]
        self.game, self.seen = 0, 0  # the game being recorded, its frames so far

    def __call__(self, episode: int, step: int) -> None:
        if episode != self.game:
            self._settle()
            self.game, self.seen = episode, 0
        self.seen += 1
        if self.seen > self.expected[episode]:
            self._correct(self.seen)
        self.bar.update(1)

    def finish(self) -> None:
        """Call after the last frame: a last game shorter than predicted fixes the total."""
        self._settle()

    def _settle(self) -> None:
        if self.seen < self.expected[self.game]:
            self._correct(self.seen)

    def _correct(self, frames: int) -> None:
        self.bar.total += frames - self.expected[self.game]
        self.expected[self.game] = frames
        self.bar.refresh()
