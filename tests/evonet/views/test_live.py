import dataclasses
import os
import signal

import numpy as np
import pytest

from evonet.evolution.files import load_network
from evonet.nn import mlp
from evonet.train import fit as train
from evonet.train.tasks.registry import TASKS
from evonet.views.live import model as live
from tests.helpers import colours, evonet, run_in_terminal


def make_live(name="xor", **overrides):
    task = TASKS[name]
    cfg = dataclasses.replace(task.config, **overrides)
    rng = np.random.default_rng(0)
    data = task.make_data(rng)
    topo = task.topology()
    return live.Live(name, topo, data, cfg, mlp.init(topo, rng)), rng


class Keys:
    """Wraps a view: plays back key presses frame by frame, counts frames."""

    def __init__(self, view, script):
        self.view, self.script, self.frames, self.speeds = view, list(script), 0, []

    def draw(self, state):
        self.view.draw(state)
        self.frames += 1
        self.speeds.append(state.speed)

    def poll(self):
        self.view.poll()
        return self.script.pop(0) if self.script else []

    def tick(self, fps):
        pass


@pytest.fixture
def window(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    from evonet.views.live.window import LiveWindow

    with LiveWindow() as view:
        yield view


@pytest.mark.parametrize("name", ["xor", "sine", "digits", "parity"])
def test_the_window_draws_the_network_learning_and_q_keeps_it(window, name):
    state, rng = make_live(name)
    keys = Keys(window, [[], ["faster"], ["faster"], ["slower"], [], ["quit"]])
    before = state.agent.theta.copy()
    res = live.train_live(keys, state, rng)
    # Keys are read before each frame is drawn, so the frame whose keys quit is not: five
    # frames, then the last one.
    assert res.stopped and keys.frames == 5 + 1
    s0 = live.starting_speed(state.total_steps)
    assert keys.speeds[:4] == [s0, 2 * s0, 4 * s0, 2 * s0]
    assert not np.array_equal(res.theta, before)  # what was learned is kept
    pixels = window.pygame.surfarray.array3d(window.screen)
    assert colours(pixels) > 20  # a drawn frame, not a blank
    panel = window.panel
    assert panel.edges and all(len(s) <= 40 for s in panel.shown)
    if name == "parity":  # a sequence, read step by step: the memory strip holds each step
        assert len(state.agent.memory) == 8 and state.agent.memory[0].shape == (8,)
        assert state.target_text().startswith("target ") and len(state.target_text()) > 20


@pytest.mark.slow
def test_the_panel_follows_the_weights_as_they_change(window):
    """At every frame the panel shows the neurons and connections that frame's weights
    imply: a panel made afresh from them draws the same."""
    from evonet.views.panel import Agent, NetworkPanel

    state, rng = make_live("xor", target_loss=None, epochs=300)
    seen = []

    class Record(Keys):
        def draw(self, s):
            super().draw(s)
            panel = window.panel
            seen.append((s.agent.theta.copy(), list(panel.edges), [list(n) for n in panel.shown]))

    live.train_live(Record(window, []), state, rng, wait_at_end=False)
    assert len(seen) > 10
    for theta, edges, shown in seen:
        fresh = NetworkPanel(Agent(theta, state.topo), window.pygame, window.font)
        assert edges == fresh.edges and shown == [list(n) for n in fresh.shown]
    assert seen[0][1] != seen[-1][1]  # and the weights did move the picture


def test_pause_holds_training_until_pressed_again(window):
    state, rng = make_live("xor")
    steps = []

    class Watch(Keys):
        def draw(self, s):
            super().draw(s)
            steps.append(s.result.steps)

    live.train_live(Watch(window, [["pause"], [], [], ["pause"], [], ["quit"]]), state, rng)
    assert steps[1] == steps[2] == steps[3]  # paused: frames, but no training
    assert steps[4] > steps[3]


def test_the_xor_plane_shows_what_the_network_learned(window):
    from evonet.views.live.window import _plane

    state, rng = make_live("xor")
    live.train_live(Keys(window, []), state, rng, wait_at_end=False)
    surface = window.pygame.Surface((150, 150))
    _plane(surface, state, window.pygame, (0, 0, 150, 150))
    # The plane spans each input's range widened by 0.5: [-1.5, 1.5], 50 pixels a unit.
    # A little inside each corner case, the colour is its class: orange 1, blue 0.
    for (a, b), target in zip(state.data.x, state.data.y[:, 0], strict=True):
        px, py = 75 + 50 * 0.7 * a, 75 - 50 * 0.7 * b
        r, _, blue = tuple(surface.get_at((int(px), int(py))))[:3]
        assert (r > blue) == (target == 1), (a, b, target)


def test_a_network_that_diverges_is_still_drawn(window):
    state, rng = make_live("sine", lr=1e200)
    with np.errstate(all="ignore"):
        res = live.train_live(Keys(window, [[]] * 5 + [["quit"]]), state, rng)
    assert not np.isfinite(res.theta).all() and state.done


def test_training_to_the_end_waits_for_q_then_returns_the_result(window):
    state, rng = make_live("sine", epochs=3)
    res = live.train_live(Keys(window, [[]] * 40 + [["quit"]]), state, rng)
    assert res.epochs == 3 and not res.stopped and state.done
    # Watching changes nothing: the same seed trains the same network without the view.
    task = TASKS["sine"]
    cfg = dataclasses.replace(task.config, epochs=3)
    rng = np.random.default_rng(0)
    data = task.make_data(rng)
    plain = train.fit(mlp.init(state.topo, rng), state.topo, data.x, data.y, cfg, rng, *data.val)
    np.testing.assert_array_equal(res.theta, plain.theta)


@pytest.mark.slow
def test_the_terminal_view_trains_and_q_saves_what_was_learned(tmp_path):
    save = tmp_path / "xor.npz"
    code, err = run_in_terminal(
        ["train", "xor", "--live", "terminal", "--save", str(save)],
        keys=b"q",
        ready=b"largest weight changes",
    )
    assert code == 0, err
    assert "xor run 1/1 (seed 0)" in err
    theta, topo, meta = load_network(save)
    assert topo.sizes == (2, 4, 1) and meta["info"]["task"] == "xor"


def test_ctrl_c_in_the_live_view_keeps_and_saves_what_was_learned(tmp_path):
    save = tmp_path / "digits.npz"
    code, err = run_in_terminal(
        ["train", "digits", "--live", "terminal", "--save", str(save)],
        keys=signal.SIGINT,  # Ctrl-C, as a terminal delivers it
        ready=b"largest weight changes",
    )
    assert code == 130 and "interrupted; kept what was learned" in err, err
    assert "Traceback" not in err and "(stopped)" in err
    _, topo, meta = load_network(save)
    assert topo.sizes == (64, 128, 10) and meta["info"]["epochs"] >= 0


def test_minus_below_one_update_a_frame_is_slow_motion(window):
    state, rng = make_live("xor")
    ticks = []

    class Ticks(Keys):
        def tick(self, fps):
            ticks.append(fps)

    live.train_live(Ticks(window, [["slower"], ["slower"], [], ["quit"]]), state, rng)
    # Keys are read before each frame waits: the first wait is already at half speed.
    assert state.speed == 0.25 and ticks[:3] == [live.FPS / 2, live.FPS / 4, live.FPS / 4]
    assert state.rate == 7.5


def test_the_terminal_frame_summarises_wide_layers_in_80_columns():
    from evonet.views.live.terminal import frame

    state, _ = make_live("digits")
    lines = ["".join(text for text, _ in line) for line in frame(state, 80)]
    assert max(map(len, lines)) < 80
    assert any(line.startswith(" in ") and "/64" in line for line in lines)
    assert any(line.startswith(" h1 ") and "/128" in line for line in lines)
    assert sum("@" in line or "#" in line for line in lines) >= 4  # the digit's picture


def test_the_terminal_frame_names_the_cell_and_says_when_memory_rows_are_left_out():
    from evonet.views.live.terminal import frame

    for hidden, note in ((8, None), (16, "(state entries 1-8 of 16)")):
        task = TASKS["parity"]
        topo = task.topology(hidden=(hidden,), network="rnn")
        state = live.Live("parity", topo, task.make_data(np.random.default_rng(0)),
                          task.config, mlp.init(topo, np.random.default_rng(1)))  # fmt: skip
        state.show(state.agent.theta, 3)
        lines = ["".join(text for text, _ in line) for line in frame(state, 100)]
        assert f"network 1-{hidden}-1 rnn" in lines
        heading = next(line for line in lines if line.startswith("memory, the last 8 steps"))
        assert (note in heading) if note else heading.endswith("steps:")
        assert sum(line.startswith(" m") for line in lines) == 8


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--live", "--runs", "2"], "--live watches one run"),
        (["--live", "--sweep", "lr=0.1,0.2"], "--live watches one run"),
        (["--live", "terminal"], "needs an interactive terminal"),
    ],
)
def test_live_refusals_are_one_line(args, needle):
    r = evonet("train", "xor", *args)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert needle in r.stderr


@pytest.mark.slow
def test_a_live_window_without_a_screen_is_one_line():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "SDL_VIDEODRIVER",
                                                            "WAYLAND_DISPLAY")}  # fmt: skip
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "evonet", "train", "xor", "--live"],
                       capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert "no screen" in r.stderr and "--live terminal" in r.stderr
