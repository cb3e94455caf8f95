"""The machine a benchmark runs on, in one line, with the date: what the docs' benchmarks
page names beside every figure.

    python benchmarks/machine.py

prints something like ``2026-12-03, Intel(R) Xeon(R) CPU @ 2.20GHz, 2 cores (2 available),
x86_64, vector extensions sse4_2 avx avx2 fma avx512f, Linux, Python 3.11.2, numpy 2.4.6``.
A benchmark script can print :func:`describe` above its results.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from importlib import metadata

# The extensions that decide how fast numpy's and numba's loops run, in the order printed.
# x86 names as /proc/cpuinfo spells them; Arm's as its "Features" line does.
VECTOR_EXTENSIONS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512dq",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "amx_tile",
    "neon",
    "asimd",
    "sve",
    "sve2",
)


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo (empty where there is none)."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, sep, value = line.partition(":")
                if sep and key.strip() not in fields:
                    fields[key.strip()] = value.strip()
    except OSError:
        pass
    return fields


def _sysctl(name: str) -> str:
    try:
        out = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def cpu_model() -> str:
    """The CPU's model name, as the operating system reports it."""
    info = _cpuinfo()
    for key in ("model name", "Model", "Hardware", "cpu model"):
        if info.get(key):
            return info[key]
    return _sysctl("machdep.cpu.brand_string") or platform.processor() or "unknown CPU"


def vector_extensions() -> list[str]:
    """The vector extensions of :data:`VECTOR_EXTENSIONS` this CPU has."""
    info = _cpuinfo()
    flags = set((info.get("flags") or info.get("Features") or "").split())
    if not flags and platform.system() == "Darwin":
        if platform.machine() == "arm64":
            flags.add("neon")  # every Apple silicon CPU has it
        flags |= set(_sysctl("machdep.cpu.features").lower().replace(".", "_").split())
        flags |= set(_sysctl("machdep.cpu.leaf7_features").lower().split())
    return [name for name in VECTOR_EXTENSIONS if name in flags]


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def describe(today: datetime.date | None = None) -> str:
    """One line: the date, CPU model, cores, architecture, vector extensions, OS, and the
    Python and numpy versions."""
    today = today or datetime.date.today()
    cores = os.cpu_count() or 1
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = cores
    extensions = " ".join(vector_extensions()) or "none found"
    parts = [
        today.isoformat(),
        cpu_model(),
        f"{cores} cores ({available} available)",
        platform.machine(),
        f"vector extensions {extensions}",
        platform.system(),
        f"Python {platform.python_version()}",
    ]
    numpy = _version("numpy")
    if numpy:
        parts.append(f"numpy {numpy}")
    return ", ".join(parts)


if __name__ == "__main__":
    print(describe())
