"""evonet's two kinds of file, trained networks and evolution checkpoints: their envelope,
and networks read in full.

Every file is one ``.npz`` (see :mod:`evonet.storage.archive`): ``.npy`` arrays plus a member
``meta`` holding UTF-8 JSON as a ``uint8`` array, so no object arrays are ever needed.
Files are written as format version 2 and read in versions 1 and 2. The versions differ
only in where a checkpoint keeps its history (one record of numbers per generation):

=============  =====================================  ======================================
kind           arrays                                 metadata (besides format, version, kind)
=============  =====================================  ======================================
network        ``theta (D,)`` float32 or float64      ``topology``, ``info`` (free-form)
checkpoint     ``fitness (P,)`` float64,              ``config``, ``topology``,
               ``best_genome (D,)`` float32,          ``generation``, ``history_fields``,
               ``history (G, F)`` float64, and the    ``best_fitness``, ``rng_state``,
               strategy's: ``population (P, D)``      ``ga_config`` (the strategy's
               float32 for the GA, ``es_*`` float64   settings, under the name it had when
               for an evolution strategy              the GA was the only one)
checkpoint v1  the same, without ``history``          the same, with ``history`` (a list of
                                                      G records) for ``history_fields``
=============  =====================================  ======================================

In version 2, row ``g`` of ``history`` is generation ``g``'s record: ``G`` equals
``generation``, and its ``F`` columns are named, in order, by ``history_fields`` (those of
``history.csv``; see :mod:`evonet.storage.history`). Its ``generation`` and ``workers``
columns hold whole numbers, read back as ints. Version 1 kept the records in the JSON,
which made a checkpoint written every generation grow with the square of the
generations and take long to parse. A checkpoint's array members depend on its run's
strategy, so :mod:`evonet.evolution.files` checks them.

Loading never trusts the file: the zip directory and the metadata are read and checked
first (:func:`open_file`: the format tag, the version, the kind, exactly the keys and the
members of that kind and version); the shapes and exact dtypes the metadata implies are
then checked against each member's ``.npy`` header, and only then is array data read. What
a checkpoint's metadata must hold beyond its keys (the run's settings, history and random
state) is checked where runs are understood: :mod:`evonet.evolution.files`. Every failure
raises :class:`CheckpointError` naming the file and the problem in one line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from evonet.nn.mlp import Topology
from evonet.storage.archive import Archive, FileError, brief, save_arrays

FORMAT = "evonet"
VERSION = 2  # what is written
VERSIONS = (1, 2)  # what is read
NETWORK_ARRAYS = ("theta",)
HISTORY_ARRAYS = ("history",)  # a run's record of its generations, from version 2 on
WHAT = {"network": "network file", "checkpoint": "checkpoint"}  # in messages
_COMMON_KEYS = frozenset({"format", "version", "kind", "topology"})
_RUN_KEYS = _COMMON_KEYS | {"config", "generation", "best_fitness", "rng_state", "ga_config"}
# (kind, version) -> the metadata keys and the array members of such a file
_KEYS = {
    ("network", 1): _COMMON_KEYS | {"info"},
    ("network", 2): _COMMON_KEYS | {"info"},
    ("checkpoint", 1): _RUN_KEYS | {"history"},
    ("checkpoint", 2): _RUN_KEYS | {"history_fields"},
}
ARRAYS: dict[tuple[str, int], tuple[str, ...] | None] = {
    ("network", 1): NETWORK_ARRAYS,
    ("network", 2): NETWORK_ARRAYS,
    ("checkpoint", 1): None,
    ("checkpoint", 2): None,
}

CheckpointError = FileError  # the name callers know; one class for every file problem


def save_file(
    path: str | os.PathLike, kind: str, arrays: dict[str, np.ndarray], meta: dict
) -> Path:
    """Atomically write a file of ``kind`` (``network`` or ``checkpoint``): ``arrays`` and
    JSON-able ``meta`` (``format``, ``version`` and ``kind`` are added). Raises ``OSError``
    naming ``path`` if it cannot be written; the previous file at ``path``, if any, is
    untouched in that case."""
    return save_npz(path, arrays, {"kind": kind, **meta})


def save_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """Atomically write ``arrays`` and JSON-able ``meta`` with evonet's format tag and
    version (see :func:`save_file` for evonet's own kinds)."""
    return save_arrays(path, arrays, {"format": FORMAT, "version": VERSION, **meta})


def save_network(
    path: str | os.PathLike, theta: np.ndarray, topo: Topology, info: dict | None = None
) -> Path:
    """Write one network ``theta`` of shape ``(D,)`` with its topology, atomically."""
    if theta.shape != (topo.n_params,):
        raise ValueError(f"network has shape {theta.shape}, topology needs ({topo.n_params},)")
    if not np.isfinite(theta).all():
        raise ValueError("network holds NaN or infinite weights; refusing to save it")
    meta = {"topology": topo.to_dict(), "info": info or {}}
    return save_file(path, "network", {"theta": theta}, meta)


@contextmanager
def open_file(path: str | os.PathLike, kind: str | None = None) -> Iterator[tuple[Archive, dict]]:
    """The archive at ``path`` and its metadata, once the envelope is checked: an evonet
    file of a known version, of ``kind`` if given, with exactly that kind's metadata keys
    and members. No array data has been read."""
    with Archive(path) as a:
        meta = _read_meta(a, kind)
        arrays = ARRAYS[meta["kind"], meta["version"]]
        if arrays is not None:  # a checkpoint's: checked by evonet.evolution.files
            a.require_names(("meta", *arrays), WHAT[meta["kind"]])
        yield a, meta


def file_kind(path: str | os.PathLike) -> str | None:
    """``"network"`` or ``"checkpoint"`` for an evonet file, None for anything else (a
    missing, foreign or broken file). Reads only the metadata."""
    try:
        with Archive(path) as a:
            return _read_meta(a)["kind"]
    except FileError:
        return None


def read_network(path: str | os.PathLike) -> tuple[np.ndarray, Topology, dict]:
    """A network file: ``(theta (D,), topology, meta)``. A checkpoint is refused (its best
    genome is read by :func:`evonet.evolution.files.load_network`, which checks the run)."""
    with open_file(path, "network") as (a, meta):
        return network_of(a, meta), topology_of(a, meta), meta


def network_of(a: Archive, meta: dict) -> np.ndarray:
    """The weights ``theta (D,)`` of an open network file, checked finite."""
    theta = a.read("theta", (topology_of(a, meta).n_params,), ("<f4", "<f8"))
    return finite(a, theta)


def finite(a: Archive, theta: np.ndarray) -> np.ndarray:
    """``theta``, unless it holds NaN or infinite weights (a file error then)."""
    if not np.isfinite(theta).all():
        raise a.fail("the network holds NaN or infinite weights")
    return theta


def topology_of(a: Archive, meta: dict) -> Topology:
    """The topology recorded in a file's metadata, checked."""
    try:
        return Topology.from_dict(meta["topology"])
    except (ValueError, TypeError) as e:
        raise a.fail(f"invalid topology: {e}") from None


def _read_meta(a: Archive, kind: str | None = None) -> dict:
    """The metadata, with its format, version, kind and set of keys checked."""
    if "meta" not in a.names:
        raise a.fail("not an evonet file: it has no metadata entry")
    meta = a.read_json("meta")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise a.fail("not an evonet file (metadata has no evonet format tag)")
    version = meta.get("version")
    if type(version) is not int or version not in VERSIONS:  # 1.0 and true are not 1
        reads = " and ".join(map(str, VERSIONS))
        raise a.fail(
            f"format version {brief(version)} is not supported (this evonet reads {reads})"
        )
    found = meta.get("kind")
    if not isinstance(found, str) or found not in WHAT:  # a list would not even hash
        raise a.fail(f"holds a {brief(found)}, not a network or checkpoint")
    if kind is not None and found != kind:
        raise a.fail(f"holds a {found!r}, expected a {kind!r}")
    keys = _KEYS[found, version]
    if meta.keys() != keys:
        extra, missing = sorted(meta.keys() - keys), sorted(keys - meta.keys())
        problem = f"unknown {', '.join(extra)}" if extra else f"missing {', '.join(missing)}"
        raise a.fail(f"metadata of a {found}: {problem}")
    if found == "network" and not isinstance(meta["info"], dict):
        raise a.fail("metadata 'info' is not a table")
    return meta


def rng_state_problem(state: Any) -> str:
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
        if not _whole(value) or not 0 <= value < 2**bits:
            return f"{name} must be a whole number from 0 to 2**{bits} - 1, got {brief(value)}"
    if state["has_uint32"] not in (0, 1) or not _whole(state["has_uint32"]):
        return f"has_uint32 must be 0 or 1, got {brief(state['has_uint32'])}"
    try:
        np.random.PCG64().state = state
    except (ValueError, TypeError, OverflowError) as e:
        return str(e)
    return ""


def _whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)
