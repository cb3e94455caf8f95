"""Shared fixtures: a seeded generator, and headless pygame for drawing tests."""

import os

import numpy as np
import pytest

# Drawing tests must never need a real screen or sound card.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
