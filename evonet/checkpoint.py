"""Atomic, pickle-free files: trained networks and evolution checkpoints.

Every file is one ``.npz`` (a zip of ``.npy`` arrays) plus an entry ``meta``: UTF-8 JSON
stored as a ``uint8`` array, so no object arrays are ever needed. Loading uses
``allow_pickle=False`` and checks the format name, version, kind, shapes, dtypes and
finiteness; every failure raises :class:`CheckpointError` whose message names the file and
the problem.

Writes go to a temporary file in the destination folder, are flushed and fsynced, and then
``os.replace`` the destination, so a crash at any moment leaves either the old file or the
new one, never a mix.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from evonet.evolve import Run
from evonet.mlp import Topology

FORMAT = "evonet"
VERSION = 1
META_KEY = "meta"


class CheckpointError(ValueError):
    """A file that is missing, unreadable, foreign, corrupt or inconsistent."""


def save_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """Atomically write ``arrays`` and JSON-able ``meta`` to ``path``; returns the path.

    ``meta`` gets ``format`` and ``version`` added. Raises ``OSError`` if the folder is not
    writable; the previous file at ``path``, if any, is untouched in that case.
    """
    path = Path(path)
    if META_KEY in arrays:
        raise ValueError(f"array name {META_KEY!r} is reserved")
    meta = {"format": FORMAT, "version": VERSION, **meta}
    blob = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
    return atomic_write(path, lambda f: np.savez(f, **{META_KEY: blob}, **arrays))


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(f)`` on a temporary file beside ``path``, fsync it, then rename it over.

    If anything fails or the process dies, ``path`` keeps its previous content.
    """
    path = Path(path)
    folder = path.parent
    tmp = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    # O_EXCL: never clobber another writer's temporary; mode 0o666 minus the umask, as for
    # any ordinary file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        # Whatever stopped the write, the destination still holds the previous file.
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(folder)
    return path


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not every platform lets a folder be opened.
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def load_npz(
    path: str | os.PathLike, kind: str | None = None
) -> tuple[dict[str, np.ndarray], dict]:
    """Read a file written by :func:`save_npz` without unpickling anything.

    Args:
        path: the ``.npz`` file.
        kind: if given, ``meta["kind"]`` must equal it.

    Returns:
        ``(arrays, meta)``.

    Raises:
        CheckpointError: naming ``path`` and what is wrong with it.
    """
    path = Path(path)

    def fail(problem: str) -> CheckpointError:
        return CheckpointError(f"{path}: {problem}")

    if not path.exists():
        raise fail("no such file")
    if path.is_dir():
        raise fail("is a folder, not a file")
    if path.stat().st_size == 0:
        raise fail("file is empty")
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise fail(f"cannot be read: {e.strerror or e}") from None
    if magic != b"PK\x03\x04":
        # np.load would otherwise try unknown bytes as a pickle (and refuse, but say so).
        raise fail("not a valid .npz archive (not a zip file)")
    try:
        with np.load(path, allow_pickle=False) as z:
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise fail("not an .npz archive (a bare .npy array)")
            names = list(z.files)
            if META_KEY not in names:
                raise fail("not an evonet file: it has no metadata entry")
            arrays = {name: z[name] for name in names}
    except CheckpointError:
        raise
    except zipfile.BadZipFile as e:
        raise fail(f"not a valid .npz archive (truncated or not a zip: {e})") from None
    except ValueError as e:
        if "pickle" in str(e).lower():
            raise fail("holds a pickled object array, which evonet never loads") from None
        raise fail(f"cannot be read: {e}") from None
    except (OSError, EOFError, KeyError, zipfile.LargeZipFile) as e:
        raise fail(f"cannot be read: {e}") from None

    blob = arrays.pop(META_KEY)
    if blob.dtype != np.uint8 or blob.ndim != 1:
        raise fail("metadata entry is not a byte array")
    try:
        meta = json.loads(blob.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise fail(f"metadata is not valid JSON: {e}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise fail("not an evonet file (metadata has no evonet format tag)")
    if meta.get("version") != VERSION:
        raise fail(
            f"format version {meta.get('version')!r} is not supported (this evonet reads {VERSION})"
        )
    if kind is not None and meta.get("kind") != kind:
        raise fail(f"holds a {meta.get('kind')!r}, expected a {kind!r}")
    return arrays, meta


def require_array(
    path: str | os.PathLike,
    arrays: dict[str, np.ndarray],
    name: str,
    shape: tuple[int | None, ...],
    dtype_kind: str,
    finite: bool = False,
) -> np.ndarray:
    """Fetch ``arrays[name]`` and check its shape (None = any size), dtype kind and values.

    ``dtype_kind`` is a numpy kind code: ``f`` float, ``i`` signed int, ``u`` unsigned,
    ``b`` bool.
    """
    if name not in arrays:
        raise CheckpointError(f"{path}: missing array {name!r}")
    a = arrays[name]
    if a.dtype.kind != dtype_kind:
        raise CheckpointError(
            f"{path}: array {name!r} has dtype {a.dtype}, expected kind {dtype_kind!r}"
        )
    if a.ndim != len(shape) or any(
        s is not None and s != n for s, n in zip(shape, a.shape, strict=True)
    ):
        want = tuple("*" if s is None else s for s in shape)
        raise CheckpointError(f"{path}: array {name!r} has shape {a.shape}, expected {want}")
    if finite and not np.all(np.isfinite(a)):
        raise CheckpointError(f"{path}: array {name!r} holds NaN or infinite values")
    return a


def topology_from_meta(path: str | os.PathLike, meta: dict) -> Topology:
    """The topology recorded in a file's metadata, validated."""
    try:
        return Topology.from_dict(meta.get("topology"))
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: invalid topology: {e}") from None


def save_network(
    path: str | os.PathLike, theta: np.ndarray, topo: Topology, info: dict | None = None
) -> Path:
    """Write one network ``theta`` of shape ``(D,)`` with its topology, atomically."""
    if theta.shape != (topo.n_params,):
        raise ValueError(f"network has shape {theta.shape}, topology needs ({topo.n_params},)")
    meta = {"kind": "network", "topology": topo.to_dict(), "info": info or {}}
    return save_npz(path, {"theta": theta}, meta)


def load_network(path: str | os.PathLike) -> tuple[np.ndarray, Topology, dict]:
    """Read a network file, or the best genome of an evolution checkpoint.

    Returns ``(theta (D,), topology, meta)``.
    """
    arrays, meta = load_npz(path)
    topo = topology_from_meta(path, meta)
    if meta.get("kind") == "network":
        name = "theta"
    elif meta.get("kind") == "checkpoint":
        name = "best_genome"
    else:
        raise CheckpointError(f"{path}: holds a {meta.get('kind')!r}, not a network or checkpoint")
    theta = require_array(path, arrays, name, (None,), "f", finite=True)
    if theta.shape[0] != topo.n_params:
        raise CheckpointError(
            f"{path}: network has {theta.shape[0]} parameters but its topology "
            f"{list(topo.sizes)} needs {topo.n_params}"
        )
    return theta, topo, meta


# ------------------------------------------------------------------ evolution runs


def save_run(path: str | os.PathLike, run: Run) -> Path:
    """Write everything a run needs to continue exactly, atomically.

    Arrays: ``population (P, D)``, ``fitness (P,)``, ``best_genome (D,)``. Metadata: the
    config, topology, generation, RNG state, best fitness and the history records.
    """
    arrays, values = run.ga.state()
    meta = {
        "kind": "checkpoint",
        "config": run.config.to_dict(),
        "topology": run.topology.to_dict(),
        "history": run.history,
        **values,
    }
    return save_npz(path, arrays, meta)


def load_run(path: str | os.PathLike) -> Run:
    """Read and validate a checkpoint written by :func:`save_run`."""
    from evonet import config as config_mod
    from evonet.ga import GA

    arrays, meta = load_npz(path, kind="checkpoint")

    def fail(problem: str) -> CheckpointError:
        return CheckpointError(f"{path}: {problem}")

    try:
        cfg = config_mod.from_dict(meta["config"])
        cfg.validate()
    except (KeyError, TypeError, ValueError) as e:
        raise fail(f"invalid config: {e}") from None
    topo = topology_from_meta(path, meta)
    if topo != cfg.topology():
        raise fail(
            f"topology {list(topo.sizes)} {topo.hidden}/{topo.output} does not match the "
            f"config's {list(cfg.topology().sizes)} {cfg.activation}/linear"
        )
    p, d = cfg.population, topo.n_params
    population = require_array(path, arrays, "population", (p, d), "f", finite=True)
    require_array(path, arrays, "fitness", (p,), "f")
    require_array(path, arrays, "best_genome", (d,), "f", finite=True)
    history = meta.get("history")
    if not isinstance(history, list) or not all(isinstance(r, dict) for r in history):
        raise fail("history is not a list of records")
    gen = meta.get("generation")
    if not isinstance(gen, int) or gen < 0 or gen != len(history):
        raise fail(f"generation {gen!r} does not match the {len(history)} history records")
    state = meta.get("rng_state")
    if not isinstance(state, dict) or state.get("bit_generator") != "PCG64":
        raise fail("missing or foreign RNG state")
    try:
        ga = GA.from_state(arrays, {**meta, "ga_config": dataclasses.asdict(cfg.ga())})
    except (KeyError, TypeError, ValueError) as e:
        raise fail(f"invalid GA state: {e}") from None
    if ga.population.dtype != population.dtype:
        raise fail("population dtype changed on load")
    return Run(cfg, topo, cfg.game_settings(), ga, history)
