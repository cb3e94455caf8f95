"""Read IDX files, the format MNIST ships in, without trusting them.

An IDX file is a 4-byte magic (two zero bytes, a type code, the number of dimensions),
one big-endian uint32 per dimension, then the values row-major. evonet reads unsigned
bytes (type 0x08) only, which is what MNIST and its look-alikes use. Files may be gzipped
(``.gz``), as they are downloaded.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

from evonet.memory import check_memory

UBYTE = 0x08
MAX_ROWS = 1_000_000  # ten times MNIST's training set
MAX_PIXELS = 128 * 128  # per image


class IdxError(ValueError):
    """An IDX file that is missing, malformed or not what was expected; the message names
    the file and the problem in one line."""


def read_idx(path: str | os.PathLike, ndim: int) -> np.ndarray:
    """The array in ``path``: ``(N,)`` labels for ``ndim=1``, ``(N, rows, cols)`` images
    for ``ndim=3``, as uint8. Sizes are checked against the file before anything is
    allocated."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            head = f.read(4)
            if len(head) < 4 or head[:2] != b"\0\0":
                raise IdxError(f"{path}: not an IDX file (no IDX magic number)")
            if head[2] != UBYTE:
                raise IdxError(
                    f"{path}: holds IDX type 0x{head[2]:02x}; evonet reads unsigned bytes (0x08)"
                )
            if head[3] != ndim:
                raise IdxError(f"{path}: has {head[3]} dimensions, expected {ndim}")
            raw = f.read(4 * ndim)
            if len(raw) < 4 * ndim:
                raise IdxError(f"{path}: ends inside its header")
            dims = struct.unpack(f">{ndim}I", raw)
            _check_dims(path, dims)
            size = int(np.prod(dims, dtype=np.int64))
            shape = "x".join(map(str, dims))
            # The bytes, then as float64: refused before either is allocated.
            check_memory(9 * size, f"{path}: reading its {shape} values")
            body = f.read(size + 1)  # one more byte than expected reveals trailing data
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise IdxError(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}") from None
    if len(body) != size:
        what = "is shorter" if len(body) < size else "is longer"
        raise IdxError(f"{path}: {what} than its header says ({shape})")
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def _check_dims(path: Path, dims: tuple[int, ...]) -> None:
    if not 1 <= dims[0] <= MAX_ROWS:
        raise IdxError(f"{path}: declares {dims[0]} items; expected 1 to {MAX_ROWS:,}")
    if len(dims) == 3 and not (1 <= dims[1] * dims[2] <= MAX_PIXELS and min(dims[1:]) >= 1):
        raise IdxError(
            f"{path}: declares {dims[1]}x{dims[2]} images; at most {MAX_PIXELS:,} pixels"
        )


def find(folder: Path, prefix: str, kind: str) -> Path:
    """The file for ``prefix`` (``train`` or ``t10k``) and ``kind`` (``images`` or
    ``labels``), under either of the names MNIST copies use, gzipped or not."""
    ndim = 3 if kind == "images" else 1
    for sep in ("-", "."):
        for ext in ("", ".gz"):
            path = folder / f"{prefix}-{kind}{sep}idx{ndim}-ubyte{ext}"
            if path.is_file():
                return path
    raise IdxError(
        f"{folder}: has no {prefix}-{kind}-idx{ndim}-ubyte (or .gz); --data needs MNIST's "
        "four IDX files: train-images, train-labels, t10k-images, t10k-labels"
    )


def read_pair(folder: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, rows, cols)`` and labels ``(N,)`` of one split, checked to agree."""
    images = read_idx(find(folder, prefix, "images"), 3)
    labels = read_idx(find(folder, prefix, "labels"), 1)
    if len(images) != len(labels):
        raise IdxError(f"{folder}: {prefix} has {len(images):,} images but {len(labels):,} labels")
    return images, labels
