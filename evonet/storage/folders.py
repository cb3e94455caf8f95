"""Run folders: never two runs in one folder, never a run overwritten.

The command line and :func:`evonet.run` both take their folder from here. A new run gets a
folder that holds no run (no ``latest.npz``) and that no other evonet process is writing;
the default folder moves on to ``NAME-2``, ``NAME-3``...; an explicitly chosen one is
refused instead. The folder stays locked while its run lives.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

LOCK_FILE = ".evonet.lock"  # held by the process writing the folder


class FolderError(ValueError):
    """A run folder that cannot be used; the message names it and says why."""


def make_folder(out: Path) -> None:
    """Create the run folder, and fail now (not after the first generation) if it cannot
    be written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise FolderError(f"{out}: cannot create the folder: {e.strerror or e}") from None
    # A real write finds every reason a folder cannot be written (permissions, a read-only
    # mount, a full disk); os.access() knows only some, and nothing for root.
    probe = out / f".evonet-probe.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        probe.unlink()
    except OSError as e:
        raise FolderError(f"{out}: cannot write there: {e.strerror or e}") from None


MAX_SIBLINGS = 9_999  # NAME-2 ... NAME-9999 for a default folder


def fresh_folder(out: Path, explicit: bool) -> tuple[Path, int | None]:
    """The folder for a new run, and its lock: never a folder that holds a run already or
    that another evonet process is writing to. The default folder moves on to
    ``NAME-2``, ``NAME-3``...; an explicit folder is refused instead."""
    last = out.parent / f"{out.name}-{MAX_SIBLINGS}"
    # Named one at a time: building all 9,999 Paths up front would cost every run.
    candidates = (
        out if n == 1 else out.parent / f"{out.name}-{n}" for n in range(1, MAX_SIBLINGS + 1)
    )
    for folder in candidates:
        if folder.exists() and not folder.is_dir():
            if explicit:
                raise FolderError(f"{folder}: is a file, not a folder")
            continue
        if (folder / "latest.npz").exists():
            if explicit:
                raise FolderError(
                    f"{folder}: already holds a run; resume it from {folder / 'latest.npz'} "
                    "or choose another folder"
                )
            continue
        lock = claim(folder)
        if lock is None:
            if explicit:
                raise FolderError(f"{folder}: another evonet run is writing there right now")
            continue
        return folder, lock
    raise FolderError(f"{out}: every folder from {out} to {last} is taken")


def claim(out: Path) -> int | None:
    """Make ``out`` (checked writable) and take its lock, held until the process ends.

    Returns the lock's file descriptor, or None if another process holds the lock. The
    lock is ``fcntl.flock`` on ``.evonet.lock``: the kernel releases it however the holder
    ends, so no stale lock survives a crash.
    """
    make_folder(out)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - no flock on Windows: no lock there
        return -1
    try:
        fd = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise FolderError(f"{out}: cannot write there: {e.strerror or e}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def release(lock: int | None) -> None:
    """Let the folder go (the kernel also releases it when the process ends)."""
    if lock is not None and lock >= 0:
        os.close(lock)
