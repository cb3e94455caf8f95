"""``evonet train --live``: watch a network learn, in a window or in the terminal.

Training runs in :func:`evonet.train.fit.fit` as usual; its ``on_step`` hook hands every
update to :class:`Live`, which shows a frame every ``speed`` updates: the network with the
sample just fed (neurons by activation, connections by weight), the sample, the loss
curves so far, the epoch progress and the weights that changed most since the last frame.
Keys: the shared ones of :mod:`evonet.views.controls` (space pauses, + and - double or
halve the speed, h shows the keys); q stops training and keeps what was learned. The
views (:mod:`evonet.views.live.window`, :mod:`evonet.views.live.terminal`) only draw a
:class:`Live` and report keys; :func:`evonet.views.live.run` picks one.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Protocol

import numpy as np

from evonet.nn import mlp, recurrent
from evonet.nn.mlp import Topology
from evonet.train.fit import TrainConfig, TrainResult, fit
from evonet.train.losses import predict_classes
from evonet.train.task import Data
from evonet.views.controls import Controls, frame, keys_help
from evonet.views.panel import Agent

FPS = 30.0
MIN_SPEED, MAX_SPEED = 1 / 16, float(1 << 14)  # updates per frame; below 1, slow motion
FIRST_RUN_SECONDS = 40.0  # at the starting speed a default run takes about this long
KEYS_HELP = keys_help(quit="q or Esc: stop, keep what was learned")


def _pace(speed: float) -> float:
    """Frames per second at ``speed`` updates a frame: below one, slow motion."""
    return FPS * min(1.0, speed)


class View(Protocol):
    def draw(self, live: Live) -> None: ...
    def poll(self) -> list[str]: ...
    def tick(self, fps: float) -> None: ...


def starting_speed(total_steps: int, seconds: float = FIRST_RUN_SECONDS) -> float:
    """Updates per frame, a power of two, so ``total_steps`` take about ``seconds`` (or
    less: rounded down, so early stops and first epochs are not over in a blink)."""
    want = total_steps / (seconds * FPS)
    return min(MAX_SPEED, 2.0 ** math.floor(math.log2(max(want, 1.0))))


class Live:
    """What the live views show, updated from training's ``on_step`` hook."""

    def __init__(self, name: str, topo: Topology, data: Data, cfg: TrainConfig,
                 theta: np.ndarray) -> None:  # fmt: skip
        self.name, self.topo, self.data, self.cfg = name, topo, data, cfg
        self.steps_per_epoch = -(-len(data.x) // cfg.batch_size)
        self.total_steps = self.steps_per_epoch * cfg.epochs
        self.controls = Controls(starting_speed(self.total_steps), MIN_SPEED, MAX_SPEED,
                                 pace=_pace)  # fmt: skip
        self.done = self.interrupted = False
        self.result = TrainResult(theta)
        self.sample = 0  # row of data.x shown
        self.agent = Agent(theta, topo, input_labels=_input_labels(data, topo),
                           action_names=_output_names(data, topo))  # fmt: skip
        if data.x.ndim == 3:  # sequences: the memory strip shows one whole sequence
            self.agent.memory = deque(maxlen=data.x.shape[1])
        self._before = theta.copy()  # the weights at the last frame
        self.changes: list[tuple[int, int, int, float]] = []  # (layer, i, j, delta)
        self.show(theta, 0)

    # ----------------------------------------------------- the keys' state, for views

    @property
    def speed(self) -> float:
        """Updates per frame; below 1, slow motion."""
        return self.controls.speed

    @property
    def paused(self) -> bool:
        return self.controls.paused

    @property
    def help(self) -> bool:
        return self.controls.help

    @property
    def stop(self) -> bool:
        """Whether q (or Ctrl-C) asked training to stop."""
        return self.controls.quit

    # ------------------------------------------------------------------ what is shown

    @property
    def epoch(self) -> int:
        """The epoch being trained, from 1 (the last one once training is done)."""
        return min(self.result.epochs + (not self.done), self.cfg.epochs)

    @property
    def progress(self) -> float:
        return 1.0 if self.done else self.result.steps / max(1, self.total_steps)

    def show(self, theta: np.ndarray, row: int) -> None:
        """Forward sample ``row`` through ``theta`` ``(D,)`` and note the weights that
        moved most since the last frame."""
        self.sample = int(row)
        self.agent.theta = theta
        x = self.data.x[self.sample]
        if x.ndim == 2:  # a sequence (T, n_in): read step by step from an empty memory
            self.agent.reset()
            for step in x:
                self.agent.decide(step)
        else:
            self.agent.decide(x)
        if self.topo.n_out == 1:  # one sigmoid or linear output: ring it
            self.agent.action = 0
        delta = theta - self._before
        self._before = theta.copy()
        changes = []
        for layer, (d, _) in enumerate(mlp.unflatten(delta, self.topo)):
            mags = np.abs(d).ravel()
            # The three largest without sorting them all: this runs every frame, and a
            # first layer of MNIST has 100,000 weights.
            for k in np.argpartition(-mags, min(3, mags.size) - 1)[:3]:
                i, j = np.unravel_index(k, d.shape)
                if d[i, j]:
                    changes.append((layer, int(i), int(j), float(d[i, j])))
        if changes:  # a frame without an update (the last one) keeps the latest changes
            changes.sort(key=lambda c: -abs(c[3]))
            self.changes = changes[:4]

    def target_text(self) -> str:
        """The sample's target and the network's answer, e.g. ``target 3, says 3 (0.97)``;
        for a sequence, every step's: ``target 0110, says 0111``."""
        y = self.data.y[self.sample]
        if y.ndim == 2:
            x = self.data.x[self.sample][None]
            says = predict_classes(recurrent.run(self.agent.theta, x, self.topo))[0]
            want = predict_classes(y[None])[0]
            return f"target {''.join(map(str, want))}, says {''.join(map(str, says))}"
        out = self.agent.activations[-1]
        if self.data.classes and len(y) > 1:
            want, got = int(np.argmax(y)), int(np.argmax(out))
            return (
                f"target {self.data.classes[want]}, says {self.data.classes[got]} ({out[got]:.2f})"
            )
        if self.data.classes:
            got = int(predict_classes(out[None])[0])
            return f"target {y[0]:g}, says {got} (p {out[0]:.2f})"
        return f"target {y[0]:+.3f}, says {out[0]:+.3f}"

    def input_text(self) -> str:
        x = self.data.x[self.sample].ravel()
        return "input " + " ".join(f"{v:+.2f}" for v in x[:6]) + (" ..." if len(x) > 6 else "")

    def status(self) -> str:
        state = "done" if self.done else "paused" if self.paused else f"{self.rate:g} updates/s"
        return f"epoch {self.epoch}/{self.cfg.epochs}  step {self.result.steps:,}  {state}"

    @property
    def rate(self) -> float:
        """Updates per second at the current speed."""
        return self.speed * FPS

    def loss_parts(self) -> list[tuple[str, str | None]]:
        """The latest losses as ``(text, series)`` pieces, series ``"train"`` or ``"val"``
        (None for plain text), so views can colour each like its curve."""
        r = self.result
        if not r.train_loss:
            return [("loss: after the first epoch", None)]
        parts: list[tuple[str, str | None]] = [(f"training loss {r.train_loss[-1]:.2e}", "train")]
        # Sine scores its test points every epoch; it has no validation set.
        name = "held-out" if self.data.x_val is None else "validation"
        if r.val_loss:
            parts += [(f"  {name} {r.val_loss[-1]:.2e}", "val")]
        if r.val_acc:
            parts += [(f"  {name} accuracy {r.val_acc[-1]:.1%}", None)]
        elif r.train_acc:
            parts += [(f"  training accuracy {r.train_acc[-1]:.1%}", None)]
        return parts

    def loss_text(self) -> str:
        return "".join(text for text, _ in self.loss_parts())

    def change_lines(self) -> list[str]:
        return [f"layer {layer + 1} w[{i}->{j}] {d:+.2e}" for layer, i, j, d in self.changes]


def train_live(
    view: View,
    live: Live,
    rng: np.random.Generator,
    wait_at_end: bool = True,
) -> TrainResult:
    """Train ``live``'s network in ``view`` until the last epoch or ``q``; with
    ``wait_at_end`` the finished network stays on screen until ``q``. Returns what was
    learned either way."""
    data, cfg = live.data, live.cfg

    def show_frame() -> bool:
        """One frame of the shared loop; False once q asked to stop."""
        return frame(view, live.controls, lambda _: view.draw(live))

    def on_step(theta: np.ndarray, batch: np.ndarray, res: TrainResult) -> bool:
        live.result = res
        if res.steps % max(1, int(live.speed)) and res.steps != 1:
            return False
        live.show(theta, batch[0])
        while show_frame() and live.paused:
            pass
        return live.stop

    def on_epoch(res: TrainResult) -> None:
        live.result = res

    x_val, y_val = data.val
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            res = fit(live.agent.theta, live.topo, data.x, data.y, cfg, rng, x_val, y_val,
                      on_epoch, on_step)  # fmt: skip
    except KeyboardInterrupt:
        # Ctrl-C stops like q: what was learned so far is kept (and saved with --save).
        res = live.result
        res.stopped = live.controls.quit = live.interrupted = True
        return res
    live.result, live.done, live.controls.paused = res, True, False
    live.show(res.theta, live.sample)
    if wait_at_end and not live.stop:
        while show_frame():
            pass
    else:
        view.draw(live)
    return res


def _input_labels(data: Data, topo: Topology) -> tuple[str, ...]:
    if data.image is not None:
        cols = data.image[1]
        return tuple(f"px {n // cols},{n % cols}" for n in range(topo.n_in))
    if topo.n_in == 1:
        return ("x",)
    return tuple(f"x{n + 1}" for n in range(topo.n_in))


def _output_names(data: Data, topo: Topology) -> tuple[str, ...]:
    if data.classes and topo.n_out > 1:
        return tuple(data.classes)
    if data.classes:
        return ("p(1)",)
    return ("y",)
