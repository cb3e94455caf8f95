"""How much memory this process may still use, and a check to run before allocating.

Settings are checked against an estimate of the arrays they imply before any of those
arrays exists, so an impossible setting is a one-line refusal that names the size, not a
``MemoryError`` (or the kernel's OOM killer) minutes into a run.

The limit is the smallest of: the machine's physical memory, the process's address-space
and data limits (``ulimit -v``, ``ulimit -d``) minus what it already uses, and a cgroup v2
memory limit minus the group's current use.
"""

from __future__ import annotations

import os
from pathlib import Path


class OverBudget(ValueError):
    """Settings or a file whose arrays would not fit in memory."""


def format_bytes(n: float) -> str:
    """``3.1 TiB``-style size."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            if unit == "bytes":
                return f"{n:.0f} {unit}"
            return f"{n:.1f} {unit}" if n < 1e6 else f"{n:.1e} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _statm() -> tuple[int, int]:
    """``(virtual size, data size)`` of this process in bytes; zeros if unknown."""
    try:
        fields = Path("/proc/self/statm").read_text().split()
        page = os.sysconf("SC_PAGE_SIZE")
        return int(fields[0]) * page, int(fields[5]) * page
    except (OSError, ValueError, IndexError):
        return 0, 0


def _cgroup_room() -> int | None:
    """Bytes left under a cgroup v2 memory limit, or None if there is none."""
    try:
        text = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if text == "max":
            return None
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        return int(text) - used
    except (OSError, ValueError):
        return None


def memory_limit() -> tuple[int, str]:
    """``(bytes, what sets it)``: the most memory new arrays may take."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (OSError, ValueError, AttributeError):
        physical = 1 << 62  # unknown: other limits, or the allocation itself, decide
    limits = [(physical, "of this machine's memory")]
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Unix
        resource = None
    if resource is not None:
        vsize, data = _statm()
        for name, used in (("RLIMIT_AS", vsize), ("RLIMIT_DATA", data)):
            soft, _ = resource.getrlimit(getattr(resource, name))
            if soft != resource.RLIM_INFINITY:
                limits.append((soft - used, "left under this process's memory limit"))
    room = _cgroup_room()
    if room is not None:
        limits.append((room, "left under this container's memory limit"))
    n, what = min(limits)
    return max(0, n), what


def check_memory(need: int, what: str, instead: str = "") -> None:
    """Raise :class:`OverBudget` if ``need`` bytes exceed :func:`memory_limit`.

    The message reads ``{what} would need 3.1 TiB of memory, more than the 23.4 GiB of
    this machine's memory``, then ``; {instead}`` (what to do about it) if given.
    """
    limit, source = memory_limit()
    if need > limit:
        raise OverBudget(
            f"{what} would need {format_bytes(need)} of memory, more than the "
            f"{format_bytes(limit)} {source}" + (f"; {instead}" if instead else "")
        )
