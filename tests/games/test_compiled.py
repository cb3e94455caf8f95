"""numba's on-disk cache: a damaged one costs a compile, not the run.

The program here is two small cached functions, one calling the other, as the Snake
engine's entry points call its rules: it compiles in a fraction of a second where the
engine takes several. Each "run" loads the program as a new module, which has new
functions and only numba's files on disk in common with the runs before it, as a new
process would.
"""

import importlib.util
from pathlib import Path

import pytest
from numba.core.registry import CPUDispatcher

import evonet.games.snake.rules
from evonet.games.compiled import load_or_compile

PROGRAM = """
from numba import njit


@njit(cache=True)
def inner(x):
    return x + 1


@njit(cache=True)
def outer(x):
    return inner(x) * 2
"""


def fresh(path, n):
    spec = importlib.util.spec_from_file_location(f"cached_program_{n}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ready(module):
    """``load_or_compile`` as the engine's warm_up uses it; whether it compiled."""
    _, compiled = load_or_compile(
        lambda: module.outer(1), [module.inner, module.outer], [module.outer]
    )
    assert module.outer(1) == 4
    return compiled


def test_a_damaged_compile_cache_is_rebuilt_not_a_traceback(tmp_path):
    path = tmp_path / "program.py"
    path.write_text(PROGRAM)
    assert ready(fresh(path, 0)) is True  # compiled, and cached
    assert ready(fresh(path, 1)) is False  # loaded
    cache = Path(fresh(path, 2).outer._cache._cache_path)
    damaged = [*cache.glob("program.*.nbi"), *cache.glob("program.*.nbc")]
    assert len(damaged) == 4  # an index and the code of each function
    for p in damaged:
        p.write_bytes(b"garbage\n")  # a full disk, a crash mid-write
    with pytest.raises(ValueError):
        fresh(path, 3).outer(1)  # numba alone: a traceback from its loader
    assert ready(fresh(path, 4)) is True  # compiled afresh
    assert ready(fresh(path, 5)) is False  # and the cache works again


def test_the_engine_rebuilds_every_compiled_function_it_has():
    """A rule defined after ``_RULES`` would be left out of the rebuild."""
    defined = {f for f in vars(evonet.games.snake.rules).values() if isinstance(f, CPUDispatcher)}
    assert (
        defined
        == set(evonet.games.snake.rules.COMPILED)
        >= set(evonet.games.snake.rules.ENTRY_POINTS)
    )
    assert len(defined) >= 9


def test_the_engine_is_compiled_for_one_kind_of_actions_whatever_it_is_given():
    """A strided or narrower actions array would make numba compile (and cache) a second
    version of the whole step, once per process that first meets it."""
    import numpy as np

    from evonet.games.snake import Snake, rules

    env = Snake(4, 6, 6)
    env.reset(seed=1)
    before = len(rules.advance_games.signatures)
    env.advance(np.ones((4, 2), dtype=np.int64)[:, 0])  # a strided view
    env.advance(np.ones(4, dtype=np.uint8))  # a narrower type
    if isinstance(rules.advance_games, CPUDispatcher):  # compiled, not plain Python
        assert len(rules.advance_games.signatures) == max(before, 1)
