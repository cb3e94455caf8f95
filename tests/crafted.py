"""Hand-made .npz files for the hardening tests: lying headers, odd zip entries, bad JSON.

Everything here writes zip archives directly (not through evonet), so a file can say
whatever a hostile or broken writer would make it say.
"""

import io
import json
import struct
import warnings
import zipfile

import numpy as np

from evonet.search.ga import GAConfig

GA_KEYS = frozenset(GAConfig.__dataclass_fields__)  # settings a checkpoint's ga_config repeats


def npy(array):
    """The ``.npy`` bytes of ``array``."""
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def npy_header(shape, dtype, payload=b"\0" * 64):
    """``.npy`` bytes whose header declares ``shape`` and ``dtype`` but holds ``payload``."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": tuple(shape)}
    )
    return buf.getvalue() + payload


def meta_member(meta):
    """The ``meta.npy`` bytes of a metadata table (or of raw JSON text, if a str)."""
    text = meta if isinstance(meta, str) else json.dumps(meta)
    return npy(np.frombuffer(text.encode(), dtype=np.uint8))


def members(path):
    """``{member name: raw bytes}`` of an archive."""
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def meta_of(path):
    """The metadata table of an evonet file."""
    with np.load(path) as z:
        return json.loads(z["meta"].tobytes())


def write_zip(path, entries, compression=zipfile.ZIP_STORED):
    """Write ``entries`` (name -> bytes, in order; a list of pairs allows duplicates)."""
    items = entries.items() if isinstance(entries, dict) else entries
    with zipfile.ZipFile(path, "w", compression) as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a duplicate name is what some tests want
        for name, data in items:
            z.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return path


def variant(src, dst, meta=None, replace=None, add=None, drop=()):
    """A copy of evonet file ``src`` with its metadata updated by ``meta`` (a dict of keys
    to set, or a function of the metadata returning the new one), members replaced or
    added (name without .npy -> raw .npy bytes), and members dropped."""
    entries = members(src)
    m = meta_of(src)
    if callable(meta):
        m = meta(m)
    elif meta:
        m.update(meta)
    entries["meta.npy"] = meta_member(m)
    for name in drop:
        entries.pop(name + ".npy")
    for name, data in {**(replace or {}), **(add or {})}.items():
        entries[name + ".npy"] = data
    return write_zip(dst, entries)


def patch_entry(path, name, *, method=None, flags=None):
    """Rewrite the compression method and/or general-purpose flags of member ``name`` in
    both its local header and its central-directory record (data left as it is)."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
        start = z.start_dir
    raw = bytearray(open(path, "rb").read())
    offsets = [(info.header_offset, 6, 8)]  # local header: flags at 6, method at 8
    pos = start
    while raw[pos : pos + 4] == b"PK\x01\x02":
        n, m, k = struct.unpack("<HHH", raw[pos + 28 : pos + 34])
        if raw[pos + 46 : pos + 46 + n].decode() == name:
            offsets.append((pos, 8, 10))  # central record: flags at 8, method at 10
        pos += 46 + n + m + k
    for base, flag_at, method_at in offsets:
        if flags is not None:
            raw[base + flag_at : base + flag_at + 2] = struct.pack("<H", flags)
        if method is not None:
            raw[base + method_at : base + method_at + 2] = struct.pack("<H", method)
    open(path, "wb").write(bytes(raw))
    return path


def deflated_zeros(path, entries, name, size):
    """Write ``entries`` plus member ``name``: an .npy of ``size`` zero bytes, deflated
    (about a thousandth of its size on disk), streamed so the test never holds it."""
    write_zip(path, entries)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open(name, "w", force_zip64=True) as f:
            header = npy_header((size,), np.uint8, b"")
            f.write(header)
            chunk = bytes(1 << 20)
            for _ in range(size >> 20):
                f.write(chunk)
    return path


def deep_json(depth):
    """JSON text of a metadata-shaped table with a list nested ``depth`` deep."""
    return '{"format": "evonet", "version": 1, "x": ' + "[" * depth + "]" * depth + "}"
