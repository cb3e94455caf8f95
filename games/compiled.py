"""numba's on-disk cache of compiled code: load it, or compile afresh when it is damaged.

numba reads a cache index with pickle and trusts it, so a truncated or damaged index (a
full disk, a crash mid-write) raises from inside its loader instead of costing a compile.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from numba.core.registry import CPUDispatcher


def load_or_compile(
    first_call: Callable[[], object],
    rules: Iterable[CPUDispatcher],
    entry_points: Iterable[CPUDispatcher],
) -> tuple[float, bool]:
    """Make compiled code ready by calling ``first_call()``, which calls the entry points.

    ``rules`` are every cached function of the program, the entry points (those Python
    calls) and what they call. If loading their cache fails, their cache indexes are
    emptied and ``first_call()`` compiles afresh, which rewrites them; a real compile
    error raises again from there.

    Returns ``(seconds it took, whether it was compiled rather than loaded)``.
    """
    start = time.perf_counter()
    try:
        first_call()
    except Exception:  # a damaged cache file fails inside numba's own loader
        rules = [f for f in rules if isinstance(f, CPUDispatcher)]
        if not rules:
            raise  # plain Python (NUMBA_DISABLE_JIT): nothing is cached
        for f in rules:  # every rule: compiling one loads its callees' entries too
            f._cache.flush()
        first_call()
    seconds = time.perf_counter() - start
    compiled = any(
        sum(f.stats.cache_misses.values())
        for f in entry_points
        if isinstance(f, CPUDispatcher)  # else plain Python: NUMBA_DISABLE_JIT
    )
    return seconds, compiled
