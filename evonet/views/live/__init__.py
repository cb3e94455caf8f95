"""``evonet train --live``: the model (:mod:`.model`) knows nothing of its views; :func:`run`
picks the window (:mod:`.window`) or the terminal (:mod:`.terminal`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and the training code load when a run starts, not to build the CLI
    import numpy as np

    from evonet.nn.mlp import Topology
    from evonet.train.fit import TrainConfig
    from evonet.train.task import Data
    from evonet.views.live.model import Live


def run(mode: str, name: str, theta: np.ndarray, topo: Topology, data: Data,
        cfg: TrainConfig, rng: np.random.Generator) -> Live:  # fmt: skip
    """Train ``theta`` ``(D,)`` in a window (``mode="window"``) or the terminal; q (or
    Ctrl-C) keeps what was learned. Returns the :class:`~evonet.views.live.model.Live`: its
    ``result``, and ``interrupted`` for Ctrl-C.

    Raises :class:`evonet.games.ui.window.NoScreenError` or
    :class:`evonet.games.ui.terminal.NoTerminalError` when the view cannot start.
    """
    from evonet.views.live.model import Live, train_live

    live = Live(name, topo, data, cfg, theta)
    if mode == "terminal":
        from evonet.views.live.terminal import run_terminal

        run_terminal(live, rng)
        return live
    from evonet.views.live.window import LiveWindow

    with LiveWindow() as view:
        train_live(view, live, rng)
    return live
