"""evonet's two kinds of file, trained networks and evolution checkpoints, and their checks.

Every file is one ``.npz`` (see :mod:`evonet.storage.archive`): ``.npy`` arrays plus a member
``meta`` holding UTF-8 JSON as a ``uint8`` array, so no object arrays are ever needed.

==========  =====================================  =========================================
kind        arrays                                 metadata (besides format, version, kind)
==========  =====================================  =========================================
network     ``theta (D,)`` float32 or float64      ``topology``, ``info`` (free-form table)
checkpoint  ``population (P, D)`` float32,         ``config``, ``topology``, ``generation``,
            ``fitness (P,)`` float64,              ``history``, ``best_fitness``,
            ``best_genome (D,)`` float32           ``rng_state``, ``ga_config``
==========  =====================================  =========================================

Loading never trusts the file: the zip directory and the metadata are read and every field
checked for type and range first; the shapes and exact dtypes the metadata implies are then
checked against each member's ``.npy`` header, and only then is array data read. Every
failure raises :class:`CheckpointError` naming the file and the problem in one line.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from evonet.evolution.run import FitnessFunction, Run, history_fields
from evonet.games.base import GameSpec
from evonet.nn.mlp import Topology
from evonet.storage.archive import Archive, FileError, save_arrays

FORMAT = "evonet"
VERSION = 1
NETWORK_ARRAYS = ("theta",)
RUN_ARRAYS = ("population", "fitness", "best_genome")
_COMMON_KEYS = frozenset({"format", "version", "kind", "topology"})
_KEYS = {
    "network": _COMMON_KEYS | {"info"},
    "checkpoint": _COMMON_KEYS
    | {"config", "generation", "history", "best_fitness", "rng_state", "ga_config"},
}

CheckpointError = FileError  # the name callers know; one class for every file problem


def save_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """Atomically write ``arrays`` and JSON-able ``meta`` (``format`` and ``version`` are
    added). Raises ``OSError`` naming ``path`` if it cannot be written; the previous file
    at ``path``, if any, is untouched in that case."""
    return save_arrays(path, arrays, {"format": FORMAT, "version": VERSION, **meta})


def save_network(
    path: str | os.PathLike, theta: np.ndarray, topo: Topology, info: dict | None = None
) -> Path:
    """Write one network ``theta`` of shape ``(D,)`` with its topology, atomically."""
    if theta.shape != (topo.n_params,):
        raise ValueError(f"network has shape {theta.shape}, topology needs ({topo.n_params},)")
    if not np.isfinite(theta).all():
        raise ValueError("network holds NaN or infinite weights; refusing to save it")
    meta = {"kind": "network", "topology": topo.to_dict(), "info": info or {}}
    return save_npz(path, {"theta": theta}, meta)


def save_run(path: str | os.PathLike, run: Run) -> Path:
    """Write everything a run needs to continue exactly, atomically.

    Arrays: ``population (P, D)``, ``fitness (P,)``, ``best_genome (D,)``. Metadata: the
    config, topology, generation, RNG state, best fitness and the history records. A state
    with non-finite genes is refused: it could never be resumed.
    """
    arrays, values = run.ga.state()
    for name in ("population", "best_genome"):
        if not np.isfinite(arrays[name]).all():
            raise ValueError(f"{name} holds NaN or infinite genes; refusing to save it")
    meta = {
        "kind": "checkpoint",
        "config": run.config.to_dict(),
        "topology": run.topology.to_dict(),
        "history": run.history,
        **values,
    }
    return save_npz(path, arrays, meta)


# --------------------------------------------------------------------------- loading


def file_kind(path: str | os.PathLike) -> str | None:
    """``"network"`` or ``"checkpoint"`` for an evonet file, None for anything else (a
    missing, foreign or broken file). Reads only the metadata."""
    try:
        with Archive(path) as a:
            return _read_meta(a)["kind"]
    except FileError:
        return None


def load_network(path: str | os.PathLike) -> tuple[np.ndarray, Topology, dict]:
    """Read a network file, or the best genome of an evolution checkpoint.

    Returns ``(theta (D,), topology, meta)``. A checkpoint's metadata is checked in full,
    but only its best genome is read.
    """
    with Archive(path) as a:
        meta = _read_meta(a)
        if meta["kind"] == "network":
            a.require_names(("meta", *NETWORK_ARRAYS), "network file")
            topo = _topology(a, meta)
            theta = a.read("theta", (topo.n_params,), ("<f4", "<f8"))
        else:
            a.require_names(("meta", *RUN_ARRAYS), "checkpoint")
            # Only the best genome is read: the run's population need not fit here.
            cfg, topo, _ = _run_meta(a, meta, memory=False)
            _check_run_arrays(a, cfg, topo, memory=False)
            theta = a.read("best_genome", (topo.n_params,), ("<f4",))
    if not np.isfinite(theta).all():
        raise a.fail("the network holds NaN or infinite weights")
    return theta, topo, meta


def load_run(path: str | os.PathLike, fitness: FitnessFunction | None = None) -> Run:
    """Read and validate a checkpoint written by :func:`save_run`.

    A run evolved on a Python fitness function evaluates and resumes only with that
    ``fitness`` passed again (a function cannot be saved without pickling it); without it
    the run can still be read. A game's run takes none.
    """
    from evonet.search.ga import GA

    with Archive(path) as a:
        meta = _read_meta(a, kind="checkpoint")
        a.require_names(("meta", *RUN_ARRAYS), "checkpoint")
        cfg, topo, game = _run_meta(a, meta)
        if game is not None and fitness is not None:
            raise a.fail(f"plays {cfg.game}; it takes no fitness function")
        expected = _check_run_arrays(a, cfg, topo)
        arrays = {name: a.read(name, *spec) for name, spec in expected.items()}
    for name in ("population", "best_genome"):
        if not np.isfinite(arrays[name]).all():
            raise a.fail(f"array {name!r} holds NaN or infinite values")
    if np.isinf(arrays["fitness"]).any():
        raise a.fail("array 'fitness' holds infinite values")
    ga = GA.from_state(arrays, {**meta, "ga_config": dataclasses.asdict(cfg.ga())})
    return Run(cfg, topo, game, ga, meta["history"], fitness)


def _check_run_arrays(
    a: Archive, cfg: Any, topo: Topology, memory: bool = True
) -> dict[str, tuple[tuple[int, ...], tuple[str]]]:
    """Check every array header of a checkpoint against its config, before any data is
    read; returns ``{name: (shape, dtypes)}``."""
    p, d = cfg.population, topo.n_params
    expected = {
        "population": ((p, d), ("<f4",)),
        "fitness": ((p,), ("<f8",)),
        "best_genome": ((d,), ("<f4",)),
    }
    for name, spec in expected.items():
        a.check(name, *spec, memory=memory)
    return expected


def _read_meta(a: Archive, kind: str | None = None) -> dict:
    """The metadata, with its format, version, kind and set of keys checked."""
    if "meta" not in a.names:
        raise a.fail("not an evonet file: it has no metadata entry")
    meta = a.read_json("meta")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise a.fail("not an evonet file (metadata has no evonet format tag)")
    version = meta.get("version")
    if type(version) is not int or version != VERSION:  # 1.0 and true are not 1
        raise a.fail(f"format version {version!r} is not supported (this evonet reads {VERSION})")
    found = meta.get("kind")
    if found not in _KEYS:
        raise a.fail(f"holds a {found!r}, not a network or checkpoint")
    if kind is not None and found != kind:
        raise a.fail(f"holds a {found!r}, expected a {kind!r}")
    keys = _KEYS[found]
    if meta.keys() != keys:
        extra, missing = sorted(meta.keys() - keys), sorted(keys - meta.keys())
        problem = f"unknown {', '.join(extra)}" if extra else f"missing {', '.join(missing)}"
        raise a.fail(f"metadata of a {found}: {problem}")
    if found == "network" and not isinstance(meta["info"], dict):
        raise a.fail("metadata 'info' is not a table")
    return meta


def _topology(a: Archive, meta: dict) -> Topology:
    try:
        return Topology.from_dict(meta["topology"])
    except (ValueError, TypeError) as e:
        raise a.fail(f"invalid topology: {e}") from None


def _run_meta(a: Archive, meta: dict, memory: bool = True) -> tuple[Any, Topology, GameSpec | None]:
    """Check a checkpoint's metadata field by field; returns ``(config, topology, game)``
    (no game for a run on a fitness function)."""
    from evonet.evolution import config as config_mod

    topo = _topology(a, meta)
    config = meta["config"]
    custom = isinstance(config, dict) and config.get("game") == config_mod.CUSTOM
    # A fitness function's network sizes are the user's: only the file records them.
    io = (topo.n_in, topo.n_out) if custom else None
    try:
        cfg = config_mod.from_dict(config, memory, io)
        game = None if custom else cfg.game_spec()
    except ValueError as e:
        raise a.fail(f"invalid config: {e}") from None
    expected = cfg.topology(game, io)
    if topo != expected:
        raise a.fail(
            f"topology {list(topo.sizes)} {topo.hidden}/{topo.output} does not match the "
            f"config's {list(expected.sizes)} {cfg.activation}/linear"
        )
    history = meta["history"]
    if not isinstance(history, list):
        raise a.fail("history is not a list of records")
    fields = history_fields(game.score_name if game is not None else "score")
    for i, record in enumerate(history):
        problem = _history_problem(i, record, fields)
        if problem:
            raise a.fail(f"history record {i}: {problem}")
    gen = meta["generation"]
    if not _is_int(gen) or gen != len(history):
        raise a.fail(f"generation {gen!r} does not match the {len(history)} history records")
    best = meta["best_fitness"]
    if best is not None and not (_is_number(best) and math.isfinite(best)):
        raise a.fail(f"best_fitness must be a finite number or null, got {best!r}")
    problem = _rng_state_problem(meta["rng_state"])
    if problem:
        raise a.fail(f"invalid RNG state: {problem}")
    if meta["ga_config"] != dataclasses.asdict(cfg.ga()):
        raise a.fail("ga_config does not match the config's GA settings")
    return cfg, topo, game


def _history_problem(i: int, record: Any, fields: tuple[str, ...]) -> str:
    if isinstance(record, dict) and record.keys() == set(fields) - {"workers"}:
        record["workers"] = 1  # written before runs had workers: they ran in one process
    if not isinstance(record, dict) or record.keys() != set(fields):
        return f"expected the fields {', '.join(fields)}"
    if record["generation"] != i or not _is_int(record["generation"]):
        return f"generation is {record['generation']!r}, expected {i}"
    for k in fields[1:]:
        v = record[k]
        if not (_is_number(v) and math.isfinite(v)):
            return f"{k} is {v!r}, not a finite number"
    return ""


def _rng_state_problem(state: Any) -> str:
    """Empty if ``state`` is a valid PCG64 ``bit_generator.state``, else what is wrong."""
    if not isinstance(state, dict) or state.get("bit_generator") != "PCG64":
        return "missing or not a PCG64 state"
    if state.keys() != {"bit_generator", "state", "has_uint32", "uinteger"}:
        return "expected the keys bit_generator, state, has_uint32, uinteger"
    inner = state["state"]
    if not isinstance(inner, dict) or inner.keys() != {"state", "inc"}:
        return "state must hold state and inc"
    for name, value, bits in (
        ("state", inner["state"], 128),
        ("inc", inner["inc"], 128),
        ("uinteger", state["uinteger"], 32),
    ):
        if not _is_int(value) or not 0 <= value < 2**bits:
            return f"{name} must be a whole number from 0 to 2**{bits} - 1, got {value!r}"
    if state["has_uint32"] not in (0, 1) or not _is_int(state["has_uint32"]):
        return f"has_uint32 must be 0 or 1, got {state['has_uint32']!r}"
    try:
        np.random.PCG64().state = state
    except (ValueError, TypeError, OverflowError) as e:
        return str(e)
    return ""


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
