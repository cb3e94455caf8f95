"""The network panel: an MLP drawn with pygame, neurons coloured by what they computed.

Shared by ``evonet watch`` (an agent playing) and ``evonet train --live`` (a network
learning). Each neuron is filled by its activation (orange positive, blue negative,
brighter for larger magnitude); each neuron's few strongest incoming connections are drawn,
coloured by sign and thicker for larger |w| (all of them would blur into a mesh). A layer
wider than the panel can show is summarised: its strongest neurons, with a note of how
many are shown.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evonet.nn import compiled, mlp, recurrent
from evonet.nn.mlp import Topology

EDGES_PER_NEURON = 3  # the strongest incoming connections drawn for each neuron
MAX_SHOWN = 40  # neurons per layer: 35 labelled Snake inputs fit; wider layers are summarised
LABEL_FONTS = "dejavusans,liberationsans,arial,helvetica"  # clear at small sizes
LABEL_SIZE = 15  # pixels; pygame's own font, the fallback, needs 20 to be as legible
PANEL_WIDTH = 460  # pixels beside a watched game's board
LABEL_PITCH = 17  # pixels between input neurons at which their labels read at LABEL_SIZE
SMALLEST_LABEL = 10  # pixels: below this, input labels are left out
BACKGROUND = (28, 30, 38)
TEXT, DIM = (230, 230, 230), (150, 150, 160)
_ZERO, _POSITIVE, _NEGATIVE = (55, 58, 68), (255, 152, 0), (66, 165, 245)
_BROKEN = (229, 57, 53)
MEMORY_STEPS = 64  # steps of a recurrent network's state the memory strip shows
MEMORY_HEIGHT = 64  # pixels of the strip

Area = tuple[int, int, int, int]


def label_font(pygame: Any, size: int = LABEL_SIZE) -> Any:
    """A clear system sans-serif, else pygame's own (whose small sizes render with uneven
    letter spacing: "hunge r"), a size larger."""
    pygame.font.init()
    for name in LABEL_FONTS.split(","):
        path = pygame.font.match_font(name)
        if path:
            return pygame.font.Font(path, size)
    return pygame.font.Font(None, size + 5)


@dataclass
class Agent:
    """A network, what it computed on the latest input, and the names a view shows."""

    theta: np.ndarray  # (D,)
    topo: Topology
    activations: list[np.ndarray] = field(default_factory=list)  # per layer, (n_l,)
    action: int = 1  # the output neuron that is ringed (the chosen action or class)
    input_labels: tuple[str, ...] = ()  # short names of the inputs, for the panel
    action_names: tuple[str, ...] = ()
    # Continuous (Box) actions: every output drives the action, so none is ringed.
    continuous: bool = False
    # Forward with the compiled pass (evonet.nn.compiled), as evolution does on a game
    # whose spec says compiled_play, so a view plays the games evolution scored.
    compiled: bool = False
    # A recurrent network's state (S,), and its latest states for the memory strip.
    state: np.ndarray | None = None
    memory: deque = field(default_factory=lambda: deque(maxlen=MEMORY_STEPS))

    @property
    def overruled(self) -> bool:
        """Whether the action taken is not the network's largest output: a shield's
        (:meth:`games.base.GameSpec.actions`)."""
        if self.continuous or not self.activations or self.topo.n_out < 2:
            return False
        return self.action != int(np.argmax(self.activations[-1]))

    def action_name(self, n: int) -> str:
        return self.action_names[n] if n < len(self.action_names) else f"action {n}"

    def reset(self) -> None:
        """Forget: a recurrent network starts every episode (or sequence) from zero."""
        self.state = recurrent.initial_state(self.topo, (), self.theta.dtype)
        self.memory.clear()

    def decide(self, obs: np.ndarray) -> int:
        """Forward one input ``(n_in,)`` (a recurrent network from its state, which it
        updates); keep every layer's activations for display."""
        if self.topo.recurrent:
            self._step(obs)
        elif self.compiled:
            self.activations = compiled.trace(self.theta, obs, self.topo)
        else:
            _, acts = mlp.forward_trace(self.theta, obs[None, :], self.topo)
            self.activations = [a[0] for a in acts]
        self.action = int(np.argmax(self.activations[-1]))
        return self.action

    def _step(self, obs: np.ndarray) -> None:
        """A recurrent network's step, as a rollout takes it (one genome's games in a
        batched matmul, in the genome's dtype), so a view plays the games evolution
        scored."""
        if self.state is None:
            self.reset()
        state = self.state[None, None].copy()  # (1 genome, 1 game, S)
        x = np.asarray(obs, self.theta.dtype)[None, None]
        layers = mlp.unflatten(self.theta[None], self.topo)
        out = recurrent.step_layers(layers, x, state, self.topo, 1)[0, 0]
        self.state = state[0, 0]
        self.memory.append(self.state)
        hidden = [self.state[part] for part in recurrent.state_slices(self.topo)]
        self.activations = [x[0, 0], *hidden, out]


def activation_colour(v: float, scale: float = 1.0) -> tuple[int, int, int]:
    """Orange for positive, blue for negative, dark grey for zero; saturates at ``scale``.
    NaN and infinities (a network that diverged in training) are red."""
    if not math.isfinite(v):
        return _BROKEN
    # Plain Python after the division: called for every neuron of every frame, where
    # numpy's per-call overhead (np.clip on a scalar) was a third of the panel's time.
    t = min(max(float(abs(v) / scale), 0.0), 1.0) if scale > 0 else 0.0
    tip = _POSITIVE if v > 0 else _NEGATIVE
    return tuple(int(b + t * (c - b)) for b, c in zip(_ZERO, tip, strict=True))


def activation_colours(values: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """:func:`activation_colour` of every value of ``values`` ``(...)`` at once:
    ``(..., 3)`` uint8."""
    v = np.asarray(values, dtype=np.float64)
    finite = np.nan_to_num(v, nan=0.0, posinf=0.0, neginf=0.0)  # drawn red below
    t = (
        np.clip(np.abs(finite) / scale, 0.0, 1.0)[..., None]
        if scale > 0
        else 0.0 * finite[..., None]
    )
    tip = np.where((v > 0)[..., None], _POSITIVE, _NEGATIVE)
    out = (np.array(_ZERO) + t * (tip - np.array(_ZERO))).astype(np.uint8)
    out[~np.isfinite(v)] = _BROKEN
    return out


# Every activation colour, for a recording's palette: a neuron that lights up later in
# the recording keeps its colour.
ACTIVATION_RAMP = np.array([activation_colour(v) for v in np.linspace(-1, 1, 41)], np.uint8)


def recording_colours(*flat: tuple[int, int, int]) -> np.ndarray:
    """The colours a recording of a watched game keeps exactly in its palette ``(k, 3)``
    uint8: every activation colour, the panel's and the HUD's flat colours, and the
    game's own ``flat`` colours."""
    from evonet.games.ui import window as hud

    kept = [hud.BACKGROUND, hud.TEXT, hud.DIM, BACKGROUND, TEXT, DIM, (255, 255, 255), *flat]
    return np.concatenate([ACTIVATION_RAMP, np.array(kept, np.uint8)])


def neuron_positions(sizes: Sequence[int], area: Area, bottom: int = 30) -> list[np.ndarray]:
    """Centre ``(n_l, 2)`` of every neuron, layers left to right, each column centred;
    ``bottom`` pixels are kept free for the caption."""
    x, y, w, h = area
    left, right, top = 105, 85, 16  # room for input and action labels
    xs = np.linspace(x + left, x + w - right, len(sizes))
    span = h - top - bottom
    out = []
    for cx, n in zip(xs, sizes, strict=True):
        gap = min(span / n, 3 * span / max(sizes), 60.0)  # small layers spread out, capped
        ys = y + top + span / 2 + (np.arange(n) - (n - 1) / 2) * gap
        out.append(np.stack([np.full(n, cx), ys], axis=1))
    return out


def panel_height(topo: Topology) -> int:
    """The panel's height in pixels at which every input neuron's label reads at full
    size (a shorter panel draws them smaller, then leaves them out)."""
    return 16 + 52 + LABEL_PITCH * min(topo.sizes[0], MAX_SHOWN)


def shown_neurons(theta: np.ndarray, topo: Topology, limit: int = MAX_SHOWN) -> list[np.ndarray]:
    """Per layer, the indices ``(k,)`` of the neurons drawn, ascending: all of a layer of
    ``limit`` or fewer, else the ``limit`` with the largest weights in and out (the
    neurons that matter most to the network)."""
    # A diverged network (NaN or infinite weights) is still drawn: as the largest finite.
    layers = [
        (recurrent.input_weights(w, topo, n), b)
        for n, (w, b) in enumerate(mlp.unflatten(np.nan_to_num(theta), topo))
    ]
    shown = []
    for n, size in enumerate(topo.sizes):
        if size <= limit:
            shown.append(np.arange(size))
            continue
        strength = np.zeros(size)
        if n > 0:
            strength += np.sum(layers[n - 1][0] ** 2, axis=0)  # incoming
        if n < len(layers):
            strength += np.sum(layers[n][0] ** 2, axis=1)  # outgoing
        top = np.argsort(-strength, kind="stable")[:limit]
        shown.append(np.sort(top))
    return shown


class NetworkPanel:
    """A panel-drawing callable, ``panel(surface, area)``, for
    :class:`evonet.games.snake.render.window.FrameRenderer` and the live training view.

    The neurons shown and connections drawn are picked from the weights when the panel is
    made and again on :meth:`refresh` (training calls it as the weights change; watching
    never needs to).
    """

    def __init__(self, agent: Agent, pygame: Any, font: Any) -> None:
        self.agent, self.pygame, self.font = agent, pygame, font
        self.label_fonts: dict[int, Any] = {LABEL_SIZE: font}  # by size, for crowded inputs
        self.refresh()

    def _label_font(self, gap: float) -> Any | None:
        """The font for input labels ``gap`` pixels apart, or None when none would read."""
        size = min(LABEL_SIZE, int(gap) - 2)
        if size < SMALLEST_LABEL:
            return None
        if size not in self.label_fonts:
            self.label_fonts[size] = label_font(self.pygame, size)
        return self.label_fonts[size]

    def refresh(self) -> None:
        """Pick the neurons shown and each one's strongest inputs from the current weights.

        ``edges`` holds ``(layer, i, j, colour, width)`` with ``i``, ``j`` neuron indices
        of layers ``layer`` and ``layer + 1``, weakest first so the strongest are drawn on
        top."""
        agent = self.agent
        self.shown = shown_neurons(agent.theta, agent.topo)
        edges = []
        for layer, (full, _) in enumerate(mlp.unflatten(agent.theta, agent.topo)):
            wts = recurrent.input_weights(full, agent.topo, layer)
            src, dst = self.shown[layer], self.shown[layer + 1]
            w = np.nan_to_num(wts[np.ix_(src, dst)])  # (shown in, shown out); see shown_neurons
            mags = np.abs(w)
            scale = float(mags.max()) or 1.0 if mags.size else 1.0
            keep = min(EDGES_PER_NEURON, mags.shape[0])
            strongest = np.argsort(-mags, axis=0, kind="stable")[:keep]  # (keep, shown out)
            for col, j in enumerate(dst):
                for row in strongest[:, col]:
                    t = float(mags[row, col]) / scale
                    colour = activation_colour(w[row, col], scale)
                    faded = tuple(int(0.35 * c + 0.65 * bg + t * 0.45 * (c - bg))
                                  for c, bg in zip(colour, BACKGROUND, strict=True))  # fmt: skip
                    edges.append((layer, int(src[row]), int(j), faded, 1 + round(2 * t)))
        edges.sort(key=lambda e: e[4])
        self.edges = edges

    def __call__(self, surface: Any, area: Area) -> None:
        self.pygame.draw.rect(surface, BACKGROUND, area)
        if not self.agent.activations:
            return
        surface.set_clip(area)  # labels and lines never spill onto the board
        try:
            self._draw(surface, area)
        finally:
            surface.set_clip(None)

    def _text(self, surface: Any, text: str, colour: tuple, x: float, y: float) -> Any:
        img = self.font.render(text, True, colour)
        surface.blit(img, (x, y))
        return img

    def _draw(self, surface: Any, area: Area) -> None:
        pygame, agent = self.pygame, self.agent
        x, y, w, h = area
        counts = [len(s) for s in self.shown]
        summarised = counts != list(agent.topo.sizes)
        # The strip sits above the caption, its label above it, then a neuron's clearance.
        strip_top = y + h - 36 - MEMORY_HEIGHT
        strip = MEMORY_HEIGHT + 6 + 20 + 10 if agent.topo.recurrent else 0
        pos = neuron_positions(counts, area, bottom=(52 if summarised else 30) + strip)
        if strip:
            self._memory(surface, (x + 16, strip_top, w - 32, MEMORY_HEIGHT))
        # Where each shown neuron sits: index in the layer -> row in ``pos``.
        row = [{int(n): k for k, n in enumerate(s)} for s in self.shown]
        gap = min((p[1, 1] - p[0, 1]) for p in pos if len(p) > 1) if max(counts) > 1 else 20.0
        radius = max(2, min(8, int(gap * 0.4)))
        for layer, i, j, colour, width in self.edges:
            a, b = pos[layer][row[layer][i]], pos[layer + 1][row[layer + 1][j]]
            pygame.draw.line(surface, colour, a, b, width)
        last = len(pos) - 1
        chosen = None if agent.continuous else agent.action  # the output ringed
        for layer, (p, act) in enumerate(zip(pos, agent.activations, strict=True)):
            values = act[self.shown[layer]]
            scale = max(float(np.abs(act).max()), 1e-6) if layer == last else 1.0
            for n, (cx, cy) in enumerate(p):
                pygame.draw.circle(surface, activation_colour(values[n], scale), (cx, cy), radius)
                if layer == last and self.shown[layer][n] == chosen:
                    pygame.draw.circle(surface, (255, 255, 255), (cx, cy), radius + 4, 2)
            if counts[layer] < agent.topo.sizes[layer]:
                note = f"{counts[layer]} of {agent.topo.sizes[layer]}"
                img = self.font.render(note, True, DIM)
                surface.blit(img, (p[0, 0] - img.get_width() / 2, p[-1, 1] + radius + 3))
        inputs = pos[0][1, 1] - pos[0][0, 1] if len(pos[0]) > 1 else LABEL_PITCH
        labels = self._label_font(inputs)
        for k, (cx, cy) in enumerate(pos[0]):
            n = int(self.shown[0][k])
            if n < len(agent.input_labels) and labels is not None:
                img = labels.render(agent.input_labels[n], True, DIM)
                surface.blit(img, (cx - radius - 4 - img.get_width(), cy - img.get_height() // 2))
        for k, (cx, cy) in enumerate(pos[-1]):
            n = int(self.shown[-1][k])
            colour = (255, 255, 255) if n == chosen else DIM
            img = self.font.render(agent.action_name(n), True, colour)
            surface.blit(img, (cx + radius + 6, cy - img.get_height() // 2))
        sizes = "-".join(map(str, agent.topo.sizes))
        kind = f" {agent.topo.network}" if agent.topo.recurrent else ""
        said = "continuous actions" if agent.continuous else agent.action_name(agent.action)
        if agent.overruled:
            said += " (the shield's)"
        caption = f"network {sizes}{kind}: {said}"
        img = self.font.render(caption, True, TEXT)
        surface.blit(img, (x + (w - img.get_width()) // 2, y + h - img.get_height() - 6))

    def _memory(self, surface: Any, area: Area) -> None:
        """The memory strip: the recurrent state's latest steps left to right, a row per
        state entry (hidden neuron, first layer on top), coloured as the neurons are."""
        x, y, w, h = area
        label = f"memory: the last {len(self.agent.memory)} steps' state, newest right"
        self._text(surface, label, DIM, x, y - 20)
        if not self.agent.memory:
            return
        colours = activation_colours(np.array(self.agent.memory))  # (T, S, 3): x, y
        img = self.pygame.surfarray.make_surface(np.ascontiguousarray(colours))
        steps, most = len(self.agent.memory), self.agent.memory.maxlen or MEMORY_STEPS
        width = round(w * steps / most)  # a step keeps its width as the strip fills
        img = self.pygame.transform.scale(img, (max(1, width), h))
        surface.blit(img, (x + w - width, y))
        self.pygame.draw.rect(surface, DIM, (x - 1, y - 1, w + 2, h + 2), 1)


def network_panel(agent: Agent, pygame: Any, font: Any) -> NetworkPanel:
    """The panel for ``agent``, drawn with ``font``."""
    return NetworkPanel(agent, pygame, font)
