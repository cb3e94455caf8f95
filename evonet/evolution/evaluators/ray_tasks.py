"""Rollouts as Ray tasks, on a local Ray instance or an existing cluster.

Stateless tasks, one per shard (more shards than workers: Ray starts each on the next free
CPU) (``address="auto"`` or ``"HOST:PORT"`` joins a cluster). The
genome matrix is ``ray.put`` once per generation; a task whose worker fails is retried by Ray.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evonet.evolution.evaluators.sharded import BLAS_THREADS, Sharded, quietly
from evonet.evolution.rollout import RolloutResult, rollout
from evonet.games.base import GameSpec
from evonet.nn.mlp import Topology

RAY_HINT = "pip install 'evonet[ray]'"


class RayEvaluator(Sharded):
    """Rollouts as Ray tasks, ``workers`` shards per generation (see the module docstring).

    Raises ValueError (from :meth:`start`) when Ray is not installed or the cluster at
    ``address`` cannot be reached.
    """

    name = "ray"

    def __init__(self, workers: int, address: str | None = None) -> None:
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive whole number, got {workers!r}")
        self.workers, self.address = workers, address
        self._ray: Any = None
        self._task: Any = None
        self._started_here = False

    def start(self) -> None:
        """Start a local Ray instance or join the cluster (otherwise the first call does)."""
        if self._ray is not None:
            return
        try:
            import ray
        except ImportError:
            raise ValueError(f"the ray backend needs Ray: {RAY_HINT}") from None
        if not ray.is_initialized():
            env = {"env_vars": {k: "1" for k in BLAS_THREADS}}
            options: dict[str, Any] = dict(
                include_dashboard=False,
                log_to_driver=False,
                logging_level="error",
                runtime_env=env,
            )
            if self.address:
                _check_reachable(self.address)
                options["address"] = self.address
            else:
                options["num_cpus"] = self.workers
            try:
                quietly(lambda: ray.init(**options))
            except Exception as e:  # ConnectionError, RuntimeError, ValueError by version
                where = f"the Ray cluster at {self.address}" if self.address else "Ray"
                text = str(e).strip().splitlines()
                raise ValueError(
                    f"cannot start or reach {where}: {text[0] if text else type(e).__name__}"
                ) from None
            self._started_here = True
        self._ray = ray
        # Stateless tasks; Ray runs a task again when its worker dies (max_retries).
        self._task = ray.remote(max_retries=3, num_cpus=1)(_play_shared)

    def _play(
        self, genomes: np.ndarray, work: list, topo: Topology, game: GameSpec, observe: bool
    ) -> list[RolloutResult]:
        shared = self._ray.put(genomes)  # once per generation, read by every task
        refs = [self._task.remote(shared, rows, topo, game, s, observe) for rows, s in work]
        return self._ray.get(refs)

    def close(self) -> None:
        if self._ray is not None and self._started_here:
            self._ray.shutdown()
        self._ray = None


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """ValueError unless ``HOST:PORT`` accepts a connection (Ray itself would retry for a
    minute before giving up); ``auto`` is left to Ray."""
    import socket

    if address == "auto":
        return
    host, _, port = address.rpartition(":")
    shown = address if len(address) <= 60 else address[:60] + "..."
    if not host or len(host) > 253 or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(
            f"--ray-address {shown}: expected auto or HOST:PORT (a host name of at most 253 "
            "characters, a port from 1 to 65535)"
        )
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except (OSError, UnicodeError) as e:  # UnicodeError: a label longer than 63
        reason = getattr(e, "strerror", None) or e
        raise ValueError(f"cannot reach the Ray cluster at {shown}: {reason}") from None


def _play_shared(
    genomes: np.ndarray,
    rows: slice,
    topo: Topology,
    game: GameSpec,
    seeds: np.ndarray,
    observe: bool = False,
) -> RolloutResult:
    """A Ray task: the ``rows`` of the generation's genome matrix on the seeds."""
    return rollout(np.array(genomes[rows]), topo, game, seeds, observe=observe)
