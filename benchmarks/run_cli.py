"""How the benchmarks run the real command line: ``evonet(*args)``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def evonet(*args: str, cwd: Path | None = None, progress: bool = False) -> str:
    """``python -m evonet ARGS``; returns its stdout, or exits with its error.

    With ``progress``, its stderr (progress bar and status lines) shows as it runs, so a
    run of many minutes is never a silent wait; evolve runs are not given ``--quiet``.
    """
    r = subprocess.run(
        [sys.executable, "-m", "evonet", *args],
        text=True,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=None if progress else subprocess.PIPE,
    )
    if r.returncode != 0:
        detail = "see above" if progress else r.stderr.strip()[-500:]
        sys.exit(f"evonet {' '.join(args)} failed: {detail}")
    return r.stdout
