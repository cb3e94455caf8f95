"""The benchmarks' population: genomes bred from the shipped champion.

Its weights plus N(0, 0.05) noise, so games last about as long as late in a real run.
"""

from __future__ import annotations

import numpy as np

from evonet.checkpoint import load_network
from evonet.mlp import Topology
from evonet.watch import shipped_champion


def champion_bred(n: int, seed: int = 0) -> tuple[np.ndarray, Topology]:
    """``(n, D)`` float32 genomes bred from the shipped champion, and their topology."""
    theta, topo, _ = load_network(shipped_champion())
    rng = np.random.default_rng(seed)
    return (theta[None] + rng.normal(0, 0.05, (n, theta.size))).astype(np.float32), topo
