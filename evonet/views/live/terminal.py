"""The live training view in a terminal (curses): text lines, coloured where the terminal
has colours (yellow for positive values, cyan for negative)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from evonet.games.ui.terminal import Segment
from evonet.train.fit import TrainResult
from evonet.views.live.model import KEYS_HELP, Live, train_live
from evonet.views.panel import shown_neurons

SHADES = " .:-=+*#%@"  # ink from none to full, for a picture's pixels
LEVELS = "▁▂▃▄▅▆▇█"  # a sparkline's heights
BLOCKS = "·░▒▓█"  # a neuron's |activation| from 0 to 1
POS, NEG = "+", "-"  # colour keys of a segment


def sparkline(values: list[float], width: int) -> str:
    """The last ``width`` values as block heights on a log scale (losses span decades)."""
    vals = [math.log10(v) for v in values[-width:] if v > 0 and math.isfinite(v)]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    span = hi - lo or 1.0
    return "".join(LEVELS[min(len(LEVELS) - 1, int((v - lo) / span * len(LEVELS)))] for v in vals)


def neuron_row(values: np.ndarray, scale: float = 1.0) -> list[Segment]:
    """One glyph per neuron: its block shows |activation|, its colour the sign."""
    out: list[Segment] = []
    for v in values:
        t = min(1.0, abs(float(v)) / scale) if scale > 0 else 0.0
        out.append((BLOCKS[min(len(BLOCKS) - 1, int(t * (len(BLOCKS) - 1) + 0.5))] + " ",
                    POS if v > 0 else NEG if v < 0 else None))  # fmt: skip
    return out


def frame(live: Live, cols: int) -> list[list[Segment]]:
    """The whole screen as lines of coloured segments, at most ``cols`` wide."""
    width = max(20, cols - 1)
    lines = _wrap([(f"evonet train {live.name}", None), ("  " + live.status(), None)], width)
    bar = width - 18
    done = int(bar * live.progress)
    lines.append(
        [("[" + "#" * done + "." * (bar - done) + f"] {live.progress:4.0%}  h: keys", None)]
    )
    colours = {"train": POS, "val": NEG}
    lines += _wrap([(text, colours.get(kind or "")) for text, kind in live.loss_parts()], width)
    lines.append([(" " + sparkline(live.result.train_loss, width - 2), POS)])
    lines.append([("", None)])
    lines.append([(f"sample {live.sample}: {live.target_text()}", None)])
    data = live.data
    if data.image is not None:
        rows, cols_ = data.image
        raw = data.x[live.sample] * (data.scale if data.scale is not None else 1)
        raw = np.clip(raw + (data.shift if data.shift is not None else 0), 0, 1)
        step = max(1, -(-cols_ // 28))  # MNIST's 28 columns fit; larger pictures are thinned
        for r in range(0, rows, step):
            ink = "".join(
                SHADES[int(v * (len(SHADES) - 1))] * 2
                for v in raw[r * cols_ : (r + 1) * cols_ : step]
            )
            lines.append([("  " + ink, None)])
    else:
        lines.append([("  " + live.input_text(), None)])
    lines.append([("", None)])
    sizes = "-".join(map(str, live.topo.sizes))
    kind = f" {live.topo.network}" if live.topo.recurrent else ""
    lines.append([(f"network {sizes}{kind}", None)])
    per_row = max(4, (width - 12) // 2)
    shown = shown_neurons(live.agent.theta, live.topo, per_row)
    last = len(live.topo.sizes) - 1
    for layer, act in enumerate(live.agent.activations):
        name = "in" if layer == 0 else "out" if layer == last else f"h{layer}"
        scale = max(float(np.abs(act).max()), 1e-6) if layer == last else 1.0
        note = "" if len(shown[layer]) == len(act) else f" {len(shown[layer])}/{len(act)}"
        lines.append([(f" {name:<4}", None), *neuron_row(act[shown[layer]], scale), (note, None)])
    if live.agent.memory:
        lines.extend(_memory_rows(live, per_row))
    lines.append([("", None)])
    lines.append([("largest weight changes this frame:", None)])
    lines.extend([[("  " + text, None)] for text in live.change_lines()])
    if live.done:
        lines.append([("training done: q quits", None)])
    if live.help:
        lines = [[(text, None)] for text in KEYS_HELP]
    return [_clip(line, width) for line in lines]


def _memory_rows(live: Live, per_row: int, most: int = 8) -> list[list[Segment]]:
    """A recurrent network's memory: a row per state entry (the first ``most``), its
    latest steps left to right."""
    memory = np.array(live.agent.memory)[-per_row:]  # (T, S)
    shown = min(most, memory.shape[1])
    of = f" (state entries 1-{shown} of {memory.shape[1]})" if shown < memory.shape[1] else ""
    rows: list[list[Segment]] = [[(f"memory, the last {len(memory)} steps{of}:", None)]]
    for s in range(shown):
        rows.append([(f" m{s + 1:<3}", None), *neuron_row(memory[:, s], 1.0)])
    return rows


def _wrap(segments: list[Segment], width: int) -> list[list[Segment]]:
    """Segments on as few lines as fit ``width``, breaking between segments (a new line
    drops the segment's leading spaces)."""
    lines: list[list[Segment]] = [[]]
    used = 0
    for text, kind in segments:
        if lines[-1] and used + len(text) > width:
            text = text.lstrip()
            lines.append([])
            used = 0
        lines[-1].append((text, kind))
        used += len(text)
    return lines


def _clip(line: list[Segment], width: int) -> list[Segment]:
    out, used = [], 0
    for text, kind in line:
        if used >= width:
            break
        out.append((text[: width - used], kind))
        used += len(out[-1][0])
    return out


def live_view(stdscr: Any) -> Any:
    """A :class:`evonet.games.ui.terminal.CursesScreen` that draws a :class:`Live` by
    :func:`frame`, positive values yellow and negative cyan."""
    from evonet.games.ui.terminal import CursesScreen

    class LiveTerminal(CursesScreen):
        def draw(self, live: Live) -> None:
            rows, cols = self.screen.getmaxyx()
            self.write(frame(live, cols)[:rows])

    return LiveTerminal(stdscr, {POS: "YELLOW", NEG: "CYAN"})


def run_terminal(live: Live, rng: np.random.Generator) -> TrainResult:
    """Train in the terminal; raises :class:`evonet.games.ui.terminal.NoTerminalError` when
    there is none."""
    from evonet.games.ui.terminal import run_curses

    return run_curses(lambda stdscr: train_live(live_view(stdscr), live, rng))
