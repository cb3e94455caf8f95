"""Shared fixtures: a seeded generator, and headless pygame for drawing tests; the Snake
engine compiled once before any test runs."""

import os

import numpy as np
import pytest

# Drawing tests must never need a real screen or sound card.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


def pytest_configure(config: pytest.Config) -> None:
    # Compile the Snake engine (or load it) once, in the process that starts the test
    # workers, before they start: on a fresh clone, every pytest-xdist worker and every
    # evonet process the tests start would otherwise compile it at the same time, each
    # paying the whole compile.
    if "PYTEST_XDIST_WORKER" not in os.environ:
        import evonet.games.snake.engine

        evonet.games.snake.engine.warm_up()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
