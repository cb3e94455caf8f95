"""A run's files as runs understand them: checkpoints that resume a run exactly, and the
networks (a champion, a run's best genome) that play a game.

:mod:`evonet.storage.checkpoint` checks a file's envelope (format, version, kind, keys,
members; its docstring has the layout of each version); here a checkpoint's metadata is
checked field by field against what a run is (its settings, the game they name and the
network it needs, the generation and the history's columns, the random state, the GA's
settings), then every array header against the shapes the metadata implies, before any
array is read. Checkpoints are written in version 2 (the history as a ``(G, F)`` matrix)
and read in versions 1 and 2. Every failure raises
:class:`~evonet.storage.checkpoint.CheckpointError` naming the file and the problem.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from evonet.evolution import config as config_mod
from evonet.evolution.obs_norm import ObsNorm
from evonet.evolution.rollout import check_topology
from evonet.evolution.run import FitnessFunction, Run, check_fits
from evonet.games.base import GameSpec, MissingPackage
from evonet.nn.mlp import Topology
from evonet.search.ga import GA
from evonet.search.strategies import Strategy, strategy_class
from evonet.storage.archive import Archive, brief
from evonet.storage.checkpoint import (
    HISTORY_ARRAYS,
    finite,
    network_of,
    open_file,
    rng_state_problem,
    save_file,
    topology_of,
)
from evonet.storage.history import (
    STRATEGY_FIELDS,
    array_problem,
    array_records,
    history_array,
    history_fields,
    history_matrix,
    record_problem,
)

Spec = tuple[tuple[int, ...], tuple[str, ...]]  # an array's shape and accepted dtypes
_COMMON = ("fitness", "best_genome")  # arrays of every strategy's checkpoint
OBS_ARRAYS = ("obs_count", "obs_mean", "obs_var")  # a run that normalises observations


# An evolution strategy's state arrays are stored under this prefix (es_mean, es_sigma...).
ES_PREFIX = "es_"


def save_run(path: str | os.PathLike, run: Run) -> Path:
    """Write everything a run needs to continue exactly, atomically (format version 2).

    Arrays: ``fitness (P,)``, ``best_genome (D,)``, the history ``(G, F)`` and the
    strategy's state: the GA's ``population (P, D)``, or an evolution strategy's arrays
    (``es_mean (D,)``...); with observation normalisation, its statistics (``obs_count ()``,
    ``obs_mean``, ``obs_var (n_obs,)``). Metadata: the config, topology, generation, the
    history's column names, RNG state, best fitness and the strategy's settings. A state
    with non-finite values is refused: it could never be resumed.
    """
    arrays, values = run.strategy.state()
    if run.config.strategy != "ga":
        arrays = {k if k in _COMMON else ES_PREFIX + k: v for k, v in arrays.items()}
    if run.obs_norm is not None:
        arrays |= run.obs_norm.state()
    for name, array in arrays.items():
        if name != "fitness" and not np.isfinite(array).all():
            raise ValueError(f"{name} holds NaN or infinite values; refusing to save it")
    meta = {
        "config": run.config.to_dict(),
        "topology": run.topology.to_dict(),
        "history_fields": list(run.fields),
        **values,
        "ga_config": dataclasses.asdict(run.config.search()),
    }
    history = history_array(run.history, run.fields)
    return save_file(path, "checkpoint", {**arrays, "history": history}, meta)


def load_run(path: str | os.PathLike, fitness: FitnessFunction | None = None) -> Run:
    """Read and validate a checkpoint written by :func:`save_run`.

    A run evolved on a Python fitness function evaluates and resumes only with that
    ``fitness`` passed again (a function cannot be saved without pickling it); without it
    the run can still be read. A game's run takes none.
    """
    with open_file(path, "checkpoint") as (a, meta):
        cfg, topo, game = _run_meta(a, meta)
        if game is not None and fitness is not None:
            raise a.fail(f"plays {cfg.game}; it takes no fitness function")
        expected = _check_run_arrays(a, cfg, topo, meta)
        history = _history(a, meta, _fields(cfg, game))
        arrays = {n: a.read(n, *spec) for n, spec in expected.items() if n not in HISTORY_ARRAYS}
    for name, array in arrays.items():
        if name != "fitness" and not np.isfinite(array).all():
            raise a.fail(f"array {name!r} holds NaN or infinite values")
    if np.isinf(arrays["fitness"]).any():
        raise a.fail("array 'fitness' holds infinite values")
    norm = _obs_norm_of(a, {k: arrays.pop(k) for k in OBS_ARRAYS if k in arrays})
    strategy = _strategy_of(a, cfg, arrays, meta)
    return Run(cfg, topo, game, strategy, history, fitness, obs_norm=norm)


def _obs_norm_of(a: Archive, arrays: dict[str, np.ndarray]) -> ObsNorm | None:
    """A run's observation statistics from its checked arrays (None: it has none)."""
    if not arrays:
        return None
    problem = ObsNorm.state_problem(arrays)
    if problem:
        raise a.fail(f"invalid observation statistics: {problem}")
    return ObsNorm.from_state(arrays)


def _strategy_of(a: Archive, cfg: config_mod.EvolveConfig, arrays: dict, meta: dict) -> Strategy:
    """The run's strategy from its checked arrays and metadata."""
    if cfg.strategy == "ga":
        return GA.from_state(arrays, {**meta, "ga_config": dataclasses.asdict(cfg.ga())})
    cls = strategy_class(cfg.strategy)
    state = {k.removeprefix(ES_PREFIX): v for k, v in arrays.items()}
    problem = cls.state_problem(state)
    if problem:
        raise a.fail(f"invalid {cfg.strategy} state: {problem}")
    return cls.from_state(cfg.search(), state, meta)


def load_network(path: str | os.PathLike) -> tuple[np.ndarray, Topology, dict]:
    """Read a network file, or the best genome of an evolution checkpoint.

    Returns ``(theta (D,), topology, meta)``. A checkpoint's metadata is checked in full,
    but only its best genome is read (the run's population need not fit in memory here).
    """
    with open_file(path) as (a, meta):
        if meta["kind"] == "network":
            return network_of(a, meta), topology_of(a, meta), meta
        cfg, topo, game = _run_meta(a, meta, memory=False)
        _check_run_arrays(a, cfg, topo, meta, memory=False)
        _history(a, meta, _fields(cfg, game))  # a few bytes a generation: checked as load_run does
        theta = finite(a, a.read("best_genome", (topo.n_params,), ("<f4",)))
        if cfg.obs_norm:  # the network that plays: the statistics folded in
            stats = {k: a.read(k, *_obs_specs(topo)[k]) for k in OBS_ARRAYS}
            theta = _obs_norm_of(a, stats).fold(theta, topo)  # type: ignore[union-attr]
    return theta, topo, meta


class NotAnAgent(ValueError):
    """A saved network that plays no game (trained by gradient descent, or on a fitness
    function), or whose recorded game cannot be made here."""


def load_agent(
    path: str | os.PathLike, board: tuple[int, int] | None = None
) -> tuple[np.ndarray, Topology, GameSpec]:
    """A network from a file, with the game it was evolved on: ``(theta (D,), topology,
    game)``. Its board and hunger for Snake; ``board`` plays another board with the same
    observation layout.

    Raises :class:`~evonet.storage.checkpoint.CheckpointError` for a bad file and
    :class:`NotAnAgent` for a network that cannot play (each message names the file).
    """
    theta, topo, meta = load_network(path)
    # Networks from a run carry its config under "info"; checkpoints carry it directly.
    info = meta.get("info") if isinstance(meta.get("info"), dict) else {}
    settings = info.get("config") if "config" in info else meta.get("config")
    task = info.get("task")  # a network from `evonet train TASK --save`
    if settings is None and (topo.n_out == 1 or isinstance(task, str)):
        by = f" by 'evonet train {task}'" if isinstance(task, str) else ""
        raise NotAnAgent(
            f"{path}: network {'-'.join(map(str, topo.sizes))} was trained{by}, not evolved "
            "on a game; watch and evaluate play agents from 'evonet evolve'"
        )
    game = _agent_game(path, settings, board)
    try:
        check_topology(topo, game)
    except ValueError as e:
        raise NotAnAgent(f"{path}: not an agent for {game.name}: {e}") from None
    return theta, topo, game


def _agent_game(path: Any, settings: Any, board: tuple[int, int] | None) -> GameSpec:
    """The game recorded with a saved network, on ``board`` if given."""
    if isinstance(settings, dict) and settings.get("game") == config_mod.CUSTOM:
        raise NotAnAgent(
            f"{path}: a network evolved on a Python fitness function, which no game plays; "
            "load it in Python: evonet.load_network(path)"
        )
    try:
        game = config_mod.game_from_meta(settings)
    except MissingPackage as e:
        raise NotAnAgent(f"{path}: {e}") from None
    except ValueError as e:
        raise NotAnAgent(f"{path}: invalid game settings in its metadata: {e}") from None
    if board is None:
        return game
    try:
        # Another board, the same observation layout (the run's hunger fits its board).
        layout = {k: v for k, v in game.info().items() if k in ("observation", "shield")}
        return config_mod.game_from_meta({"game": game.name, "board": list(board), **layout})
    except ValueError as e:
        raise NotAnAgent(f"--board: {e}") from None


def _check_run_arrays(
    a: Archive, cfg: config_mod.EvolveConfig, topo: Topology, meta: dict, memory: bool = True
) -> dict[str, Spec]:
    """Check every array header of a checkpoint against its config and metadata, before
    any data is read; returns ``{name: (shape, dtypes)}``. Without ``memory``, the GA's
    arrays need not fit in this machine's memory (the history, small, always must)."""
    expected = _expected_arrays(cfg, topo, meta)
    a.require_names(("meta", *expected), "checkpoint")  # the members depend on the strategy
    for name, spec in expected.items():
        a.check(name, *spec, memory=memory or name in HISTORY_ARRAYS)
    return expected


def _expected_arrays(cfg: config_mod.EvolveConfig, topo: Topology, meta: dict) -> dict[str, Spec]:
    """Every array member of a checkpoint, by name: its exact shape and accepted dtypes."""
    p, d = cfg.population, topo.n_params
    expected: dict[str, Spec] = {"fitness": ((p,), ("<f8",)), "best_genome": ((d,), ("<f4",))}
    if cfg.strategy == "ga":
        expected["population"] = ((p, d), ("<f4",))
    else:
        shapes = strategy_class(cfg.strategy).state_shapes(cfg.search(), d)
        expected |= {ES_PREFIX + k: (shape, ("<f8",)) for k, shape in shapes.items()}
    if cfg.obs_norm:
        expected |= _obs_specs(topo)
    if meta["version"] >= 2:
        expected["history"] = ((meta["generation"], len(meta["history_fields"])), ("<f8",))
    return expected


def _obs_specs(topo: Topology) -> dict[str, Spec]:
    """The observation statistics' arrays of a run that normalises its observations."""
    n = topo.n_in
    return {"obs_count": ((), ("<f8",)), "obs_mean": ((n,), ("<f8",)), "obs_var": ((n,), ("<f8",))}


def _run_meta(
    a: Archive, meta: dict, memory: bool = True
) -> tuple[config_mod.EvolveConfig, Topology, GameSpec | None]:
    """Check a checkpoint's metadata field by field; returns ``(config, topology, game)``
    (no game for a run on a fitness function). With ``memory``, the run must also fit in
    this machine's memory to be resumed here."""
    cfg, topo, game, io = _run_settings(a, meta)
    if memory:
        try:
            check_fits(cfg, game, io)
        except ValueError as e:
            raise a.fail(f"invalid config: {e}") from None
    _check_history(a, meta, _fields(cfg, game))
    best = meta["best_fitness"]
    if best is not None and not (_number(best) and math.isfinite(best)):
        raise a.fail(f"best_fitness must be a finite number or null, got {brief(best)}")
    problem = rng_state_problem(meta["rng_state"])
    if problem:
        raise a.fail(f"invalid RNG state: {problem}")
    if meta["ga_config"] != dataclasses.asdict(cfg.search()):
        raise a.fail(f"ga_config does not match the config's {cfg.strategy} settings")
    return cfg, topo, game


def _run_settings(
    a: Archive, meta: dict
) -> tuple[config_mod.EvolveConfig, Topology, GameSpec | None, tuple[int, int] | None]:
    """The checkpoint's config, its topology (checked against the config), its game, and
    for a fitness function the network's ``io``."""
    topo = topology_of(a, meta)
    config = meta["config"]
    custom = isinstance(config, dict) and config.get("game") == config_mod.CUSTOM
    # A fitness function's network sizes are the user's: only the file records them.
    io = (topo.n_in, topo.n_out) if custom else None
    try:
        cfg = config_mod.from_dict(config, io)
        game = None if custom else cfg.game_spec()
    except ValueError as e:
        raise a.fail(f"invalid config: {e}") from None
    expected = cfg.topology(game, io)
    if topo != expected:
        raise a.fail(
            f"topology {topo.network} {list(topo.sizes)} {topo.hidden}/{topo.output} does not "
            f"match the config's {cfg.network} {list(expected.sizes)} {cfg.activation}/linear"
        )
    return cfg, topo, game, io


def _fields(cfg: config_mod.EvolveConfig, game: GameSpec | None) -> tuple[str, ...]:
    """The history's columns of a run of ``cfg`` on ``game`` (None: a fitness function):
    an evolution strategy's add its figures."""
    figures = () if cfg.strategy == "ga" else STRATEGY_FIELDS
    return history_fields(game.score_name if game is not None else "score", figures)


def _check_history(a: Archive, meta: dict, fields: tuple[str, ...]) -> None:
    """The generation, and the history's columns (version 2) or records (version 1)."""
    gen = meta["generation"]
    if not _whole(gen) or not 0 <= gen <= config_mod.MAX_GENERATIONS:
        raise a.fail(
            f"generation {brief(gen)} is not a whole number from 0 to "
            f"{config_mod.MAX_GENERATIONS:,}"
        )
    if meta["version"] >= 2:
        if meta["history_fields"] != list(fields):
            raise a.fail(
                f"history_fields {brief(meta['history_fields'])} are not the columns of this "
                f"run's history ({', '.join(fields)})"
            )
        return
    history = meta["history"]
    if not isinstance(history, list):
        raise a.fail("history is not a list of records")
    for i, record in enumerate(history):
        problem = record_problem(i, record, fields)
        if problem:
            raise a.fail(f"history record {i}: {problem}")
    if gen != len(history):
        raise a.fail(f"generation {gen!r} does not match the {len(history)} history records")


def _history(a: Archive, meta: dict, fields: tuple[str, ...]) -> list[dict]:
    """The checkpoint's history records (the metadata and the array headers checked):
    its ``history`` array read and checked (version 2), or its JSON records (version 1),
    each with the same types either way."""
    if meta["version"] >= 2:
        h = a.read("history", (meta["generation"], len(fields)), ("<f8",))
    else:
        h = history_matrix(meta["history"], fields)  # each record checked by _run_meta
    problem = array_problem(h, fields)
    if problem:
        raise a.fail(f"history {problem}")
    return array_records(h, fields)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)
