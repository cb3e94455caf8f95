"""``evonet watch [PATH]``: watch a champion play, with its network lighting up."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from evonet import signals
from evonet.cli.args import board_size, check_writable, float_in, int_in, nonneg_int
from evonet.cli.errors import UsageError, terminal_errors, window_errors
from evonet.cli.evaluate import load_agent
from evonet.cli.flags import add_render_flag
from evonet.cli.help import examples
from evonet.cli.output import get_ready, info
from evonet.games.base import GameSpec
from evonet.games.ui.terminal import check_terminal
from evonet.text import count
from evonet.views import replay as watch


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
            "+ and - speed, r restart, Esc or q quit. A Gymnasium agent plays in the "
            "environment's own window, at the environment's speed: Esc or q quits.",
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
        default=10.0,
        help=f"moves per second, {watch.MIN_FPS:g} to {watch.MAX_FPS:g}; "
        f"with --record at most {watch.MAX_GIF_FPS:g} (default: 10)",
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
    if game.name.startswith("gym:"):
        return watch_gym(args, path, theta, topo, game)
    agent = watch.Agent(theta, topo)
    # Say which file was picked only once the view can start: when it cannot, the error
    # is the one line on stderr.
    announce = (lambda: info(f"evonet: watching {path}")) if not args.path else (lambda: None)
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
            scores = watch.run_terminal(agent, game, args.episodes, args.seed, args.fps)
    else:
        with window_errors("try --render terminal or --record FILE.gif"):
            view, eps = watch.open_window(agent, game, args.episodes, args.seed, args.scale)
        announce()
        get_ready(game, always=False)
        with view:
            scores = watch.watch_loop(view, eps, args.fps)
    if scores:
        info(f"evonet: {count(len(scores), 'game')}, apples {scores}")
    return 0


def check_record_flags(args: argparse.Namespace) -> None:
    """Refuse a --record target or --fps that could not give the asked-for GIF."""
    if Path(args.record).suffix.lower() != ".gif":
        raise UsageError(
            f"--record {args.record}: can only write an animated GIF; use a name ending in .gif"
        )
    check_writable(args.record, "--record")
    if args.fps > watch.MAX_GIF_FPS:
        raise UsageError(
            f"--fps {args.fps:g}: a GIF plays at most {watch.MAX_GIF_FPS:g} frames per second "
            f"(viewers slow down shorter frames); use --fps {watch.MAX_GIF_FPS:g} or less "
            "with --record"
        )


def watch_gym(args: argparse.Namespace, path: Path, theta: Any, topo: Any, game: Any) -> int:
    """A Gymnasium agent: the environment's own window, or a GIF of its frames."""
    from evonet.views import replay_gym as view

    if args.render == "terminal":
        raise UsageError(f"{game.name} draws itself in a window: use --render window or --record")
    if args.record is not None:
        expected = view.frame_counts(theta, topo, game, args.episodes, args.seed, args.max_steps)
        return _record_with_bar(args, expected, view.record_gif, theta, topo, game)
    with window_errors("try --record FILE.gif"):
        returns = view.watch_window(theta, topo, game, args.episodes, args.seed)
    if returns:
        n = len(returns)
        info(f"evonet: {n} episode{'s' * (n != 1)}, returns {[round(r, 1) for r in returns]}")
    return 0


def record(args: argparse.Namespace, agent: watch.Agent, game: GameSpec) -> int:
    """``watch --record``: write the GIF with a progress bar on stderr."""
    expected = watch.frame_counts(agent, game, args.episodes, args.seed, args.max_steps)
    return _record_with_bar(args, expected, watch.record_gif, agent, game)


def _record_with_bar(
    args: argparse.Namespace, expected: Any, record_gif: Callable[..., int], *lead: Any
) -> int:
    """``record_gif(*lead, episodes, seed, target, fps, ...)`` (the Snake or the Gymnasium
    recorder) with a progress bar of ``expected`` frames per game."""
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
                args.fps,
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
