"""The ``.npz`` container: atomic writes, and reads that inspect before they allocate.

An ``.npz`` is a zip of ``.npy`` members. :class:`Archive` opens one without trusting it:
the zip directory and each member's ``.npy`` header are read first (a few hundred bytes),
the caller checks them against what the file's metadata implies, and only then is any
array data read, into an array whose size was checked against the machine's memory.
Nothing is ever unpickled; members that are encrypted, compressed with an unknown method,
or whose sizes disagree are refused.

Writes go to a temporary file in the destination folder, are flushed and fsynced, and then
``os.replace`` the destination, so a crash at any moment leaves either the old file or the
new one, never a mix. Temporaries left by killed writers are removed by the next
successful write in the same folder.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import reprlib
import secrets
import stat
import tokenize
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.lib import format as npy

from evonet.memory import OverBudget, check_memory

# Version 1 checkpoints keep their history in the JSON metadata: 64 MiB holds about 300,000
# generations of it, far longer than any run here (version 2 keeps it in an array).
MAX_META_BYTES = 64 << 20
MAX_JSON_DEPTH = 32  # evonet's own metadata nests 4 deep
MAX_INT_DIGITS = 40  # a 128-bit RNG state has 39 digits
# Values and containers: 200,000 generations of a version 1 history hold about 1.8 million.
# Parsing makes one Python object of a few dozen bytes per item, so this bounds its memory.
MAX_JSON_ITEMS = 2_500_000
MAX_MEMBERS = 16  # evonet's files hold 2 or 4
SMALL_ARRAY = 1 << 20  # bytes: read without asking how much memory is left
MAX_NPY_HEADER = 4096  # numpy writes 128 bytes for the arrays evonet saves
_READ_CHUNK = 1 << 20
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
# What zipfile raises for a damaged archive: besides its own errors, a version it does not
# know (NotImplementedError), and corrupt deflated data (zlib.error).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    ValueError,
    RuntimeError,
    zlib.error,
)
# What numpy raises for a damaged .npy header: it tokenizes and parses the header's text.
_HEADER_ERRORS = (ValueError, TypeError, SyntaxError, OverflowError, tokenize.TokenError)


class FileError(ValueError):
    """A file that is missing, unreadable, foreign, corrupt or inconsistent.

    The message names the file and the problem, in one line.
    """


# A value read from a file, as messages quote it: a file could hold a string or a list of
# millions of characters where a number belongs.
_BRIEF = reprlib.Repr()  # Python 3.11's takes no settings as arguments
_BRIEF.maxlevel, _BRIEF.maxlist, _BRIEF.maxdict = 2, 4, 4
_BRIEF.maxstring, _BRIEF.maxother, _BRIEF.maxlong = 40, 40, 50


def brief(value: Any) -> str:
    """``repr(value)``, shortened with ``...`` to a few dozen characters (one line)."""
    return _BRIEF.repr(value)


def reason(e: BaseException) -> str:
    """An exception of zipfile, zlib or numpy as a short phrase: its first line, cut to a
    readable length (zipfile quotes raw header bytes, which a damaged file makes huge)."""
    text = str(e).strip()
    line = text.splitlines()[0] if text else type(e).__name__
    return line if len(line) <= 160 else line[:150] + "..."


# ------------------------------------------------------------------------- writing


_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp$")


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(f)`` on a temporary file beside ``path``, fsync it, then rename it over.

    If anything fails or the process dies, ``path`` keeps its previous content. An
    ``OSError`` is re-raised with ``filename`` set to ``path`` (not the temporary), so a
    message can name the file the user knows.
    """
    path = Path(path)
    folder = path.parent
    tmp = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        # O_EXCL: never clobber another writer's temporary; mode 0o666 minus the umask, as
        # for any ordinary file.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            # Whatever stopped the write, the destination still holds the previous file.
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise
    except OSError as e:
        raise OSError(e.errno, e.strerror or str(e), str(path)) from None
    _fsync_dir(folder)
    remove_stale_temps(folder, keep=tmp)
    return path


def remove_stale_temps(folder: Path, keep: Path | None = None) -> list[Path]:
    """Delete temporaries of :func:`atomic_write` in ``folder`` whose writer is dead.

    A writer killed mid-write leaves ``.NAME.PID.HEX.tmp``; a live writer's temporary (its
    process still runs) is left alone. Returns the paths removed. Never raises.
    """
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for p in entries:
        m = _TEMP.match(p.name)
        if m is None or p == keep:
            continue
        pid = int(m["pid"])
        if pid != os.getpid() and process_alive(pid):
            continue
        with contextlib.suppress(OSError):
            p.unlink()
            removed.append(p)
    return removed


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (or may: another user's, which we cannot ask about)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or a pid we cannot ask about: keep its file
    return True


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


def save_arrays(path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """Atomically write ``arrays`` plus ``meta`` (JSON, stored as member ``meta``).

    Non-finite floats are refused in the metadata (``allow_nan=False``): a file never holds
    a number that cannot be read back as the same setting.
    """
    if "meta" in arrays:
        raise ValueError("array name 'meta' is reserved")
    text = json.dumps(meta, sort_keys=True, allow_nan=False)
    blob = np.frombuffer(text.encode(), dtype=np.uint8)
    # What loading would refuse is never written: the file could not be opened again.
    problem = _json_problem(blob) if blob.size <= MAX_META_BYTES else "is too large"
    if problem:
        raise ValueError(f"metadata {problem}; refusing to write a file that could not be read")
    return atomic_write(path, lambda f: np.savez(f, meta=blob, **arrays))


# ------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Member:
    """One ``.npy`` member as its headers declare it; no data has been read."""

    name: str  # without ".npy"
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    header_bytes: int  # magic plus header
    info: zipfile.ZipInfo

    @property
    def nbytes(self) -> int:
        n = self.dtype.itemsize
        for s in self.shape:
            n *= s
        return n


class Archive:
    """An ``.npz`` opened for inspection. Use as a context manager.

    Opening reads the zip directory and checks every entry's name, flags, compression
    method and sizes; :meth:`member` reads one ``.npy`` header; :meth:`read` reads data.
    Every failure raises :class:`FileError` naming the file.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, Member] = {}

    def fail(self, problem: str) -> FileError:
        return FileError(f"{self.path}: {problem}")

    def __enter__(self) -> Archive:
        path = self.path
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise self.fail("no such file") from None
        except OSError as e:  # a name too long, a loop of links, no permission ...
            raise self.fail(f"cannot be read: {e.strerror or e}") from None
        if stat.S_ISDIR(mode):
            raise self.fail("is a folder, not a file")
        if not stat.S_ISREG(mode):  # a pipe or a device could block or never end
            raise self.fail("is not a regular file")
        try:
            size = path.stat().st_size
            with open(path, "rb") as f:
                magic = f.read(4)
        except OSError as e:
            raise self.fail(f"cannot be read: {e.strerror or e}") from None
        if size == 0:
            raise self.fail("file is empty")
        if magic != b"PK\x03\x04":
            raise self.fail("not a valid .npz archive (not a zip file)")
        try:
            self._zip = zipfile.ZipFile(path)
            infos = self._zip.infolist()
        except _ZIP_ERRORS as e:
            problem = f"truncated or not a zip: {reason(e)}"
            raise self.fail(f"not a valid .npz archive ({problem})") from None
        try:
            if len(infos) > MAX_MEMBERS:
                raise self.fail(
                    f"holds {len(infos)} members; an evonet file holds at most {MAX_MEMBERS}"
                )
            names = [i.filename for i in infos]
            if len(set(names)) != len(names):
                raise self.fail("the archive lists a member twice")
            for i in infos:
                self._check_entry(i, size)
        except FileError:
            self._zip.close()
            raise
        self.names = frozenset(n.removesuffix(".npy") for n in names)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._zip is not None:
            self._zip.close()

    def _check_entry(self, i: zipfile.ZipInfo, archive_size: int) -> None:
        name, shown = i.filename, brief(i.filename)
        if not name.endswith(".npy") or "/" in name or name == ".npy":
            raise self.fail(f"member {shown} is not an .npy array")
        if i.flag_bits & 0x1:
            raise self.fail(f"member {shown} is encrypted")
        if i.compress_type not in _METHODS:
            raise self.fail(f"member {shown} uses zip compression method {i.compress_type}")
        if i.compress_size > archive_size or (
            i.compress_type == zipfile.ZIP_STORED and i.compress_size != i.file_size
        ):
            raise self.fail(f"member {shown} declares sizes that do not fit the archive")

    def require_names(self, expected: Iterable[str], kind: str) -> None:
        """The members must be exactly ``expected`` (names without ``.npy``)."""
        expected = frozenset(expected)
        if self.names != expected:
            extra, missing = sorted(self.names - expected), sorted(expected - self.names)
            # Names as they are, unless a file's name could break or flood the line.
            extra = [n if n.isprintable() and len(n) <= 40 else brief(n) for n in extra]
            if len(extra) > 3:  # keep the message to one readable line
                extra = [*extra[:3], f"and {len(extra) - 3} more"]
            parts = [f"unexpected member {', '.join(extra)}" if extra else ""]
            parts.append(f"missing {', '.join(missing)}" if missing else "")
            holds = ", ".join(sorted(expected))
            raise self.fail(f"{'; '.join(p for p in parts if p)} (a {kind} holds {holds})")

    def member(self, name: str) -> Member:
        """The declared shape and dtype of member ``name``, from its ``.npy`` header only.

        Also checks that the zip entry's uncompressed size equals header plus data, so the
        data read later is exactly what the header declares.
        """
        if name in self._members:
            return self._members[name]
        if name not in self.names:
            raise self.fail(f"missing array {name!r}")
        assert self._zip is not None
        info = self._zip.getinfo(name + ".npy")
        try:
            with self._zip.open(info) as f:
                head = f.read(MAX_NPY_HEADER + 12)
        except _ZIP_ERRORS as e:
            raise self.fail(f"member {name!r} cannot be read: {reason(e)}") from None
        try:
            buf = io.BytesIO(head)
            version = npy.read_magic(buf)
            if version == (1, 0):
                shape, fortran, dtype = npy.read_array_header_1_0(buf, MAX_NPY_HEADER)
            elif version == (2, 0):
                shape, fortran, dtype = npy.read_array_header_2_0(buf, MAX_NPY_HEADER)
            else:
                raise ValueError(f"unsupported .npy version {version}")
        except _HEADER_ERRORS as e:
            raise self.fail(f"member {name!r} is not a valid .npy array: {reason(e)}") from None
        if dtype.hasobject:
            raise self.fail(
                f"member {name!r} holds a pickled object array, which evonet never loads"
            )
        m = Member(name, tuple(shape), dtype, bool(fortran), buf.tell(), info)
        if m.header_bytes + m.nbytes != info.file_size:
            raise self.fail(
                f"member {name!r} declares shape {m.shape} ({m.nbytes} bytes of data) but the "
                f"archive holds {info.file_size - m.header_bytes} bytes"
            )
        self._members[name] = m
        return m

    def check(
        self, name: str, shape: tuple[int, ...], dtypes: Iterable[str], memory: bool = True
    ) -> Member:
        """Member ``name``'s header must declare exactly ``shape`` and one of ``dtypes``
        (``"<f4"``...), and (if ``memory``) its data must fit in the machine's memory.
        Reads no data."""
        m = self.member(name)
        accepted = [np.dtype(d) for d in dtypes]
        if m.dtype not in accepted or m.dtype.byteorder not in "<|=":
            want = " or ".join(d.str for d in accepted)
            raise self.fail(f"array {name!r} has dtype {m.dtype.str}, expected {want}")
        if m.shape != tuple(shape):
            raise self.fail(f"array {name!r} has shape {m.shape}, expected {tuple(shape)}")
        # Below a mebibyte an array fits wherever Python itself does, and asking the system
        # (/proc, the cgroup) would cost more than reading it.
        if memory and m.nbytes > SMALL_ARRAY:
            try:
                check_memory(m.nbytes, f"array {name!r}")
            except OverBudget as e:
                raise self.fail(str(e)) from None
        return m

    def read(self, name: str, shape: tuple[int, ...], dtypes: Iterable[str]) -> np.ndarray:
        """Member ``name``'s data, allocated only after :meth:`check` passed."""
        m = self.check(name, shape, dtypes)
        out = np.empty(m.shape[::-1] if m.fortran_order else m.shape, dtype=m.dtype)
        view = memoryview(out).cast("B") if out.nbytes else memoryview(b"")
        assert self._zip is not None
        try:
            with self._zip.open(m.info) as f:
                f.read(m.header_bytes)
                pos = 0
                while pos < m.nbytes:
                    chunk = f.read(min(_READ_CHUNK, m.nbytes - pos))
                    if not chunk:
                        raise EOFError("the data ends early")
                    view[pos : pos + len(chunk)] = chunk
                    pos += len(chunk)
                f.read(1)  # reaches the end, where zipfile checks the CRC
        except _ZIP_ERRORS as e:
            raise self.fail(f"array {name!r} cannot be read: {reason(e)}") from None
        return out.T if m.fortran_order else out

    def read_json(self, name: str = "meta") -> Any:
        """Member ``name`` (a 1-D uint8 array of UTF-8 JSON), parsed within bounds."""
        m = self.member(name)
        if m.dtype != np.uint8 or len(m.shape) != 1:
            raise self.fail("metadata entry is not a byte array")
        if m.nbytes > MAX_META_BYTES:
            raise self.fail(
                f"metadata is {m.nbytes} bytes; evonet reads at most {MAX_META_BYTES} bytes"
            )
        raw = memoryview(self.read(name, m.shape, ["|u1"]))  # parsed in place, not copied
        try:
            return parse_json(raw)
        except ValueError as e:
            raise self.fail(f"metadata is not JSON that evonet reads: {reason(e)}") from None


# ---------------------------------------------------------------------------- JSON


def json_shape(raw: bytes | memoryview) -> tuple[int, int]:
    """``(deepest nesting, number of items)`` of JSON text, in one linear pass.

    Items are containers plus values inside containers (counted by their commas): about
    the number of Python objects that parsing would create. Brackets and commas inside
    strings do not count; a quote is inside a string when an odd number of backslashes
    precedes it. The text is scanned in 1 MiB chunks, so the scan needs little memory
    whatever the size, and no input makes it slower than linear.
    """
    depth = deepest = items = 0
    in_string, backslashes = False, 0  # carried from one chunk to the next
    for start in range(0, len(raw), _READ_CHUNK):
        a = np.frombuffer(raw, dtype=np.uint8, count=min(_READ_CHUNK, len(raw) - start),
                          offset=start)  # fmt: skip
        n = a.size
        pos = np.arange(n, dtype=np.int32)
        # For each position, the last position at or before it that is not a backslash.
        last = np.maximum.accumulate(np.where(a == ord("\\"), np.int32(-1), pos))
        quotes = np.flatnonzero(a == ord('"'))
        before = quotes - 1
        j = last[np.maximum(before, 0)]
        run = np.where(before < 0, backslashes, np.where(j < 0, quotes + backslashes, before - j))
        toggles = np.zeros(n, dtype=np.int32)
        toggles[quotes[run % 2 == 0]] = 1
        inside = (np.cumsum(toggles) + in_string) % 2 == 1
        opens = ((a == ord("[")) | (a == ord("{"))) & ~inside
        closes = ((a == ord("]")) | (a == ord("}"))) & ~inside
        level = depth + np.cumsum(opens.astype(np.int32) - closes)
        if n:
            deepest = max(deepest, int(level.max()))
            depth = int(level[-1])
            in_string = bool(inside[-1])
            backslashes = (n - 1 - int(last[-1])) if last[-1] >= 0 else n + backslashes
        items += int(opens.sum()) + int(((a == ord(",")) & ~inside).sum())
    return deepest, items


def _json_problem(raw: bytes | memoryview | np.ndarray) -> str:
    """What makes JSON text too deep or too large to read, or ``""``."""
    deepest, items = json_shape(raw)
    if deepest > MAX_JSON_DEPTH:
        return f"nested deeper than {MAX_JSON_DEPTH} levels"
    if items > MAX_JSON_ITEMS:
        return f"holds more than {MAX_JSON_ITEMS:,} items"
    return ""


def parse_json(raw: bytes | memoryview) -> Any:
    """JSON from UTF-8 bytes, refusing nesting deeper than ``MAX_JSON_DEPTH``, more than
    ``MAX_JSON_ITEMS`` items, and integers longer than ``MAX_INT_DIGITS`` digits (all
    checked before or while parsing, so no input takes deep recursion or huge memory).

    Raises ValueError naming the problem.
    """
    try:
        text = str(raw, "utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"not UTF-8 ({e.reason} at byte {e.start})") from None
    problem = _json_problem(raw)
    if problem:
        raise ValueError(problem)

    def bounded_int(s: str) -> int:
        if len(s.lstrip("-")) > MAX_INT_DIGITS:
            digits = len(s.lstrip("-"))
            raise ValueError(f"an integer has {digits} digits (at most {MAX_INT_DIGITS} are read)")
        return int(s)

    try:
        return json.loads(text, parse_int=bounded_int)
    except json.JSONDecodeError as e:
        raise ValueError(str(e)) from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
