"""The live training view in a pygame window: the network panel of ``evonet watch`` on
the left; the sample, the loss curves, the epoch progress and the largest weight changes
on the right."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from evonet.games.ui.window import PygameWindow, screen_room
from evonet.nn import recurrent
from evonet.views.live.model import KEYS_HELP, Live
from evonet.views.panel import (
    BACKGROUND,
    DIM,
    TEXT,
    NetworkPanel,
    activation_colour,
    activation_colours,
    label_font,
)

SIZE = (1180, 700)  # fits a 1280x720 screen
HUD = 36
SIDE = 470  # the right column's width
TRAIN_COLOUR, VAL_COLOUR = (255, 152, 0), (66, 165, 245)
SERIES = {"train": TRAIN_COLOUR, "val": VAL_COLOUR}


class LiveWindow(PygameWindow):
    """A resizable window that draws a :class:`Live` and reports keys by name.

    Raises :class:`evonet.games.ui.window.NoScreenError` when there is no display (unless
    ``SDL_VIDEODRIVER`` asks for one, as tests do with ``dummy``).
    """

    def __init__(self, title: str = "evonet train --live") -> None:
        super().__init__(lambda: _fitting(self.pygame), title, require_screen=True)
        self.font = label_font(self.pygame)
        self.big = label_font(self.pygame, 18)
        self.panel: NetworkPanel | None = None

    def draw(self, live: Live) -> None:
        self.screen = self.pygame.display.get_surface()  # resizing replaces the surface
        render(self.screen, live, self.pygame, self.font, self.big, self._panel(live))
        self.pygame.display.flip()

    def _panel(self, live: Live) -> NetworkPanel:
        if self.panel is None:
            self.panel = NetworkPanel(live.agent, self.pygame, self.font)
        else:
            self.panel.refresh()  # the weights moved since the last frame
        return self.panel


def _fitting(pygame: Any) -> tuple[int, int]:
    """:data:`SIZE`, or smaller to fit the screen (the window can be resized)."""
    room = screen_room(pygame)
    return min(SIZE[0], room[0]), min(SIZE[1], room[1])


def render(surface: Any, live: Live, pygame: Any, font: Any, big: Any, panel: NetworkPanel) -> None:
    """Draw a whole frame of ``live`` onto ``surface`` (any size; offscreen works)."""
    w, h = surface.get_size()
    surface.fill(BACKGROUND)
    side = min(SIDE, w // 2)
    hud = f"evonet train {live.name}    {live.status()}    h: keys"
    surface.blit(big.render(hud, True, TEXT), (12, (HUD - big.get_height()) // 2))
    panel(surface, (0, HUD, w - side, h - HUD))
    x0, y = w - side + 10, HUD + 8
    y = _sample(surface, live, pygame, font, (x0, y, side - 20, 190))
    y = _loss_plot(surface, live, pygame, font, (x0, y + 10, side - 20, max(80, h - y - 250)))
    y = _progress(surface, live, pygame, font, (x0, y + 12, side - 20, 18))
    surface.blit(font.render("largest weight changes this frame", True, DIM), (x0, y + 12))
    for k, line in enumerate(live.change_lines()):
        surface.blit(font.render(line, True, TEXT), (x0 + 8, y + 34 + 20 * k))
    if live.done:
        note = "training done: q or Esc closes the window"
        surface.blit(big.render(note, True, TEXT), (x0, min(h - 30, y + 34 + 20 * 4 + 8)))
    if live.help:  # over the right column: the network stays in view
        _message(surface, pygame, big, KEYS_HELP, (w - side, HUD, side, h - HUD))


def _sample(surface: Any, live: Live, pygame: Any, font: Any, area: tuple) -> int:
    """The sample just fed: its picture, or its input values; then target and answer."""
    x, y, w, h = area
    surface.blit(font.render(f"sample {live.sample} of the training set", True, DIM), (x, y))
    y += 24
    data = live.data
    if data.image is not None:
        rows, cols = data.image
        raw = data.x[live.sample] * (data.scale if data.scale is not None else 1)
        raw = raw + (data.shift if data.shift is not None else 0)
        cell = max(2, min(150 // rows, 150 // cols))
        for n, v in enumerate(np.clip(raw, 0, 1)):
            shade = int(40 + 215 * v)
            rect = (x + (n % cols) * cell, y + (n // cols) * cell, cell, cell)
            pygame.draw.rect(surface, (shade, shade, shade), rect)
        text_x, text_y = x + cols * cell + 16, y + 10
    elif data.x.ndim == 2 and live.topo.n_in <= 2 and live.topo.n_out == 1:
        # One input: the function learned so far against the target. Two: the output
        # over the input plane, the classic picture of XOR. Either with the sample marked.
        box = (x, y, 150, 150)
        (_function if live.topo.n_in == 1 else _plane)(surface, live, pygame, box)
        text_x, text_y = x + 166, y + 10
        surface.blit(font.render(live.input_text(), True, TEXT), (text_x, text_y))
        text_y += 24
    else:
        values = data.x[live.sample].ravel()  # a sequence's steps one after another
        for n, v in enumerate(values[:8]):
            pygame.draw.circle(surface, activation_colour(v), (x + 10 + 26 * n, y + 12), 9)
        text_x, text_y = x, y + 32
        surface.blit(font.render(live.input_text(), True, TEXT), (text_x, text_y))
        text_y += 24
    surface.blit(font.render(live.target_text(), True, TEXT), (text_x, text_y))
    return area[1] + area[3]


def _function(surface: Any, live: Live, pygame: Any, box: tuple) -> None:
    """Target points (grey) and the network's curve (orange) over the inputs' range."""
    x, y, w, h = box
    pygame.draw.rect(surface, (36, 40, 50), box)
    data = live.data
    xs = np.linspace(data.x.min(), data.x.max(), w)[:, None]  # (w, 1)
    pred = recurrent.run(live.agent.theta, xs, live.topo)[:, 0]
    lo = float(min(data.y.min(), np.nanmin(pred) if np.isfinite(pred).any() else 0))
    hi = float(max(data.y.max(), np.nanmax(pred) if np.isfinite(pred).any() else 1))
    lo, hi = max(lo, 2 * data.y.min() - data.y.max()), min(hi, 2 * data.y.max() - data.y.min())
    span = (hi - lo) or 1.0

    def to_px(u: float, v: float) -> tuple[float, float]:
        left = (u - xs[0, 0]) / ((xs[-1, 0] - xs[0, 0]) or 1.0)
        return x + left * (w - 1), y + h - 4 - (v - lo) / span * (h - 8)

    for u, v in zip(data.x[:, 0], data.y[:, 0], strict=True):
        pygame.draw.circle(surface, DIM, to_px(u, v), 1)
    points = [to_px(u, v) for u, v in zip(xs[:, 0], pred, strict=True) if np.isfinite(v)]
    surface.set_clip(box)
    if len(points) > 1:
        pygame.draw.lines(surface, TRAIN_COLOUR, False, points, 2)
    u, v = data.x[live.sample, 0], data.y[live.sample, 0]
    pygame.draw.circle(surface, TEXT, to_px(u, v), 4, 1)
    surface.set_clip(None)


def _plane(surface: Any, live: Live, pygame: Any, box: tuple) -> None:
    """The network's output over the plane around the inputs (orange high, blue low),
    the training points on it coloured by target, the sample ringed."""
    x, y, w, h = box
    data, n = live.data, 48
    lo, hi = data.x.min(axis=0) - 0.5, data.x.max(axis=0) + 0.5  # (2,) each
    u, v = np.meshgrid(np.linspace(lo[0], hi[0], n), np.linspace(hi[1], lo[1], n))
    grid = np.stack([u.ravel(), v.ravel()], axis=1)  # (n*n, 2), top row first
    out = recurrent.run(live.agent.theta, grid, live.topo)[:, 0].reshape(n, n)
    # Outputs as a signed colour around the classes' midpoint (0.5 for a sigmoid).
    mid = 0.5 if live.topo.output == "sigmoid" else float(np.mean(data.y))
    rgb = activation_colours(2 * (out - mid))  # (n, n, 3)
    image = pygame.surfarray.make_surface(rgb.transpose(1, 0, 2))  # surfarray is (x, y)
    surface.blit(pygame.transform.scale(image, (w, h)), (x, y))
    for k, (p, t) in enumerate(zip(data.x, data.y[:, 0], strict=True)):
        px = x + (p[0] - lo[0]) / (hi[0] - lo[0]) * (w - 1)
        py = y + (hi[1] - p[1]) / (hi[1] - lo[1]) * (h - 1)
        pygame.draw.circle(surface, (255, 255, 255) if t > mid else (20, 20, 20), (px, py), 5)
        if k == live.sample:
            pygame.draw.circle(surface, TEXT, (px, py), 9, 2)


def _loss_plot(surface: Any, live: Live, pygame: Any, font: Any, area: tuple) -> int:
    """Training (orange) and validation (blue) loss per epoch so far, log scale."""
    x, y, w, h = area
    pygame.draw.rect(surface, (36, 40, 50), area)
    tx, ty = x + 6, y + 4
    for text, colour in live.loss_parts():  # coloured like their curves, wrapped to the box
        img = font.render(text, True, SERIES.get(colour, TEXT))
        if tx > x + 6 and tx + img.get_width() > x + w - 6:
            img = font.render(text.lstrip(), True, SERIES.get(colour, TEXT))
            tx, ty = x + 6, ty + font.get_height() + 2
        surface.blit(img, (tx, ty))
        tx += img.get_width()
    series = [(s, c) for s, c in ((live.result.train_loss, TRAIN_COLOUR),
                                  (live.result.val_loss, VAL_COLOUR)) if s]  # fmt: skip
    values = [v for s, _ in series for v in s if v > 0 and math.isfinite(v)]
    if not values:
        return y + h
    top, bottom = math.log10(max(values)), math.log10(min(values))
    span = max(top - bottom, 1e-9)
    below = ty + font.get_height() + 8  # the curves start below the text
    inner = (x + 8, below, w - 86, y + h - below - 8)  # the scale's labels go right of the curves
    epochs = max(max(len(s) for s, _ in series), 2)  # the curve so far fills the width
    for s, colour in series:
        points = [
            (inner[0] + inner[2] * k / (epochs - 1),
             inner[1] + inner[3] * (top - math.log10(v)) / span)
            for k, v in enumerate(s) if v > 0 and math.isfinite(v)
        ]  # fmt: skip
        if len(points) > 1:
            pygame.draw.lines(surface, colour, False, points, 2)
        elif points:
            pygame.draw.circle(surface, colour, points[0], 2)
    for text, ty in ((f"{10**top:.1e}", inner[1]), (f"{10**bottom:.1e}", inner[1] + inner[3] - 14)):
        img = font.render(text, True, DIM)
        surface.blit(img, (inner[0] + inner[2] + 6, ty))
    return y + h


def _progress(surface: Any, live: Live, pygame: Any, font: Any, area: tuple) -> int:
    x, y, w, h = area
    pygame.draw.rect(surface, (46, 51, 63), area, border_radius=4)
    done = int(w * live.progress)
    if done:
        pygame.draw.rect(surface, (76, 175, 80), (x, y, done, h), border_radius=4)
    text = f"epoch {live.epoch} of {live.cfg.epochs}  {live.progress:.0%}"
    img = font.render(text, True, TEXT)
    surface.blit(img, (x + (w - img.get_width()) // 2, y + (h - img.get_height()) // 2))
    return y + h


def _message(surface: Any, pygame: Any, font: Any, lines: list[str], area: tuple) -> None:
    x, y, w, h = area
    imgs = [font.render(line, True, TEXT) for line in lines]
    bw = max(i.get_width() for i in imgs) + 40
    bh = sum(i.get_height() + 6 for i in imgs) + 24
    box = (x + (w - bw) // 2, y + (h - bh) // 2, bw, bh)
    pygame.draw.rect(surface, (15, 16, 22), box, border_radius=8)
    pygame.draw.rect(surface, (90, 95, 110), box, 2, border_radius=8)
    ty = box[1] + 12
    for img in imgs:
        surface.blit(img, (box[0] + 20, ty))
        ty += img.get_height() + 6
