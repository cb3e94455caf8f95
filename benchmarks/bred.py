"""The benchmarks' population: genomes bred from a shipped champion.

Its weights plus N(0, 0.05) noise, so games last about as long as late in a real run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evonet.evolution.config import game_from_meta
from evonet.evolution.files import load_network
from evonet.games.base import GameSpec
from evonet.nn.mlp import Topology
from evonet.views.replay import shipped_champion

# The champion of evonet 0.1.0, evolved on observation layout 1 (no room features): the
# "before" of the room features' cost.
PREVIOUS = Path(__file__).resolve().parents[1] / "checkpoints" / "snake-champion-0.1.0.npz"


def champion_bred(
    n: int, seed: int = 0, path: Path | None = None
) -> tuple[np.ndarray, Topology, GameSpec]:
    """``(n, D)`` float32 genomes bred from a champion (the shipped 10x10 one unless
    ``path``), their topology, and the game the champion was evolved on."""
    theta, topo, meta = load_network(path or shipped_champion())
    game = game_from_meta(meta["info"]["config"])
    rng = np.random.default_rng(seed)
    genomes = (theta[None] + rng.normal(0, 0.05, (n, theta.size))).astype(np.float32)
    return genomes, topo, game
