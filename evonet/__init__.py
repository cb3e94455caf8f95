"""evonet: evolve numpy neural networks to play games, and train them by gradient descent.

The public Python API. Fitness is always *higher is better*. A genome is one flat
float vector ``(D,)`` holding every weight and bias of an MLP (:class:`Topology`); a
population is a ``(P, D)`` matrix.

Evolve on a game from the registry, or on your own fitness function::

    import evonet

    run = evonet.run(evonet.EvolveConfig.for_game("gym:CartPole-v1"))
    best = run.ga.best_genome  # (D,) float32

    def fitness(genomes):  # (P, D) -> (P,)
        out = evonet.forward(genomes, X, topology)  # (P, n, 1): all genomes at once
        return -((out[..., 0] - y) ** 2).mean(axis=1)

    run = evonet.run(fitness=fitness, io=(2, 1))

Pieces:

* networks: :class:`Topology`, :func:`init` ``-> (n, D)``, :func:`forward` (genomes
  ``(*G, D)`` with inputs ``(*G, *B, n_in)`` -> ``(*G, *B, n_out)``), :func:`unflatten`;
  networks with memory (``Topology(..., network="rnn" or "gru")``) step with
  :func:`step` (inputs and states ``(*G, *B, S)`` from :func:`initial_state`) or run over
  sequences ``(B, T, n_in)`` with :func:`run_sequence`;
* evolution: :class:`EvolveConfig`, :func:`run`, :class:`Session` (the run behind
  :func:`run` and ``evonet evolve``, for your own evaluator or messages), :class:`FolderError`
  (a run folder that cannot be used: a ``ValueError`` naming it), :class:`Run` (with
  :meth:`Run.start`; the bare loop is ``evonet.evolution.run.evolve``), :class:`Reporter`,
  :class:`GA`, :class:`GAConfig`, and the evolution strategies :class:`OpenAIES`,
  :class:`PGPE`, :class:`SNES`, :class:`CMAES` (each with its ``...Config``; ask/tell over
  your own fitness too);
* games: :func:`make_game` (``"snake"``, ``"gym:ENV_ID"``), :func:`supported_games`,
  :func:`register_game` (your own game),
  :class:`GameSpec`, :class:`BatchedGame`, :func:`evaluate` (genomes ``(P, D)`` on
  episode seeds ``(E,)`` from :func:`episode_seeds` ``-> RolloutResult``);
* files: :func:`save_network`, :func:`load_network`, :func:`load_agent` (a network with
  the game it plays), :func:`save_run`, :func:`load_run` (pickle-free ``.npz``, validated
  before anything is read).

Importing evonet also registers Snake with Gymnasium as ``evonet/Snake-v0`` (once
Gymnasium is imported, before or after evonet). Everything is imported on first use, so
``import evonet`` stays quick: the command line starts without numpy or Gymnasium.
"""

from __future__ import annotations

import importlib as _importlib
import importlib.util as _importlib_util
from typing import Any as _Any

__version__ = "0.2.0"

# Public name -> the module that defines it (imported on first access).
_EXPORTS = {
    "Topology": "evonet.nn.mlp",
    "init": "evonet.nn.mlp",
    "forward": "evonet.nn.mlp",
    "unflatten": "evonet.nn.mlp",
    "step": "evonet.nn.recurrent",
    "initial_state": "evonet.nn.recurrent",
    "GA": "evonet.search.ga",
    "GAConfig": "evonet.search.ga",
    "OpenAIES": "evonet.search.openai_es",
    "OpenAIESConfig": "evonet.search.openai_es",
    "PGPE": "evonet.search.pgpe",
    "PGPEConfig": "evonet.search.pgpe",
    "SNES": "evonet.search.snes",
    "SNESConfig": "evonet.search.snes",
    "CMAES": "evonet.search.cma_es",
    "CMAESConfig": "evonet.search.cma_es",
    "EvolveConfig": "evonet.evolution.config",
    "Run": "evonet.evolution.run",
    "Reporter": "evonet.evolution.run",
    "run": "evonet.api",
    "Session": "evonet.api",
    "FolderError": "evonet.storage.folders",
    "RolloutResult": "evonet.evolution.rollout",
    "save_network": "evonet.storage.checkpoint",
    "load_network": "evonet.evolution.files",
    "save_run": "evonet.evolution.files",
    "load_run": "evonet.evolution.files",
    "load_agent": "evonet.evolution.files",
    "GameSpec": "evonet.games.base",
    "BatchedGame": "evonet.games.base",
    "EpisodeStats": "evonet.games.base",
    "Discrete": "evonet.games.base",
    "Box": "evonet.games.base",
}
# Public name -> (module, its name there) where the names differ.
_RENAMED = {
    "run_sequence": ("evonet.nn.recurrent", "run"),
    "make_game": ("evonet.games.base", "make"),
    "evaluate": ("evonet.evolution.rollout", "rollout"),
    "episode_seeds": ("evonet.games.base", "episode_seeds"),
    "supported_games": ("evonet.games.base", "supported"),
    "register_game": ("evonet.games.base", "register"),
}
__all__ = sorted([*_EXPORTS, *_RENAMED])


def __getattr__(name: str) -> _Any:
    if name in _EXPORTS:
        return getattr(_importlib.import_module(_EXPORTS[name]), name)
    if name in _RENAMED:
        module, attr = _RENAMED[name]
        return getattr(_importlib.import_module(module), attr)
    raise AttributeError(f"module 'evonet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({"__version__", *__all__})


def _register_snake_with_gymnasium() -> None:
    """Register ``evonet/Snake-v0`` when Gymnasium is (or gets) imported.

    Registering needs Gymnasium itself, whose import would slow every ``evonet`` command's
    start-up. So if it is not imported yet, a one-shot import hook
    registers right after Gymnasium's own import finishes, whoever imports it.
    """
    import sys

    def register() -> None:
        from evonet.games.snake.gym_env import register_envs

        register_envs()

    if sys.modules.get("gymnasium") is not None:
        register()
        return

    class _AfterGymnasium:
        def find_spec(self, name: str, path: object = None, target: object = None) -> _Any:
            if name != "gymnasium":
                return None
            sys.meta_path.remove(self)
            spec = _importlib_util.find_spec(name)
            loader = getattr(spec, "loader", None)
            if loader is None or not hasattr(loader, "exec_module"):
                return spec
            run_module = loader.exec_module

            def exec_module(module: _Any) -> None:
                run_module(module)
                register()

            loader.exec_module = exec_module  # this spec's own loader instance
            return spec

    sys.meta_path.insert(0, _AfterGymnasium())


_register_snake_with_gymnasium()
