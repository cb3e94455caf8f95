"""The batched-game interface, and the registry that maps a game's name to its maker.

A *batched game* runs ``N`` independent games in lockstep, Gymnasium vector-env style, and
is what evolution plays: every genome of a population plays its episodes as one block of
games in one batch. A *game spec* is a game with its settings (Snake on a 10x10 board,
``gym:CartPole-v1``); it states the sizes a network needs and makes batches of any size.

Adding a game is one module with a :class:`GameSpec` subclass and one line in
:data:`REGISTRY`. This package imports nothing from ``evonet``.

Conventions every game keeps:

* **Fitness: higher is better.** Each game documents its per-episode fitness (Snake:
  apples plus a survival tie-break; Gymnasium: the episode's return) and reports a *score*
  for people (``apples``, ``return``) beside it.
* **Only the first episode counts.** A game that ends stays over until :meth:`reset`; its
  later actions are ignored and its statistics frozen.
* **Determinism.** The same seeds and the same actions give the same results.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np


def episode_seeds(seed: int, n: int) -> np.ndarray:
    """``(n,)`` uint64 per-game seeds derived from one integer seed (via SeedSequence)."""
    return np.random.SeedSequence(int(seed)).generate_state(n, dtype=np.uint64)


@dataclass(frozen=True)
class Discrete:
    """``n`` actions, one integer in ``[0, n)`` per game; a network picks the argmax of its
    ``n`` outputs."""

    n: int

    @property
    def n_outputs(self) -> int:
        return self.n


@dataclass(frozen=True)
class Box:
    """A real vector per game with per-component bounds ``low <= a <= high`` (finite); a
    network's outputs are squashed into them (see :func:`actions_from_outputs`)."""

    low: tuple[float, ...]
    high: tuple[float, ...]

    @property
    def n_outputs(self) -> int:
        return len(self.low)


ActionSpace = Discrete | Box


def actions_from_outputs(outputs: np.ndarray, space: ActionSpace) -> np.ndarray:
    """Network outputs ``(..., n_outputs)`` -> actions for ``space``.

    Discrete: the argmax, int64 ``(...)``. Box: ``low + (tanh(y) + 1) / 2 * (high - low)``,
    float32 ``(..., k)``: every output maps into the bounds, and 0 to their middle.
    """
    if isinstance(space, Discrete):
        return outputs.argmax(axis=-1)
    low = np.asarray(space.low, dtype=np.float32)
    high = np.asarray(space.high, dtype=np.float32)
    squashed = (np.tanh(outputs, dtype=np.float32) + 1) / 2
    return np.clip(low + squashed * (high - low), low, high)


@dataclass
class EpisodeStats:
    """What each of ``N`` games achieved in its first episode; every array is ``(N,)``."""

    fitness: np.ndarray
    """float64, higher is better: what evolution maximises (each game documents it)."""
    score: np.ndarray
    """float64: the number people read (apples for Snake, the return for Gymnasium)."""
    steps: np.ndarray
    """int64: moves played before the episode ended."""
    won: np.ndarray
    """bool: the game's own notion of a win (Snake: a full board); all False if none."""


class BatchedGame(ABC):
    """``n`` games stepped together.

    Attributes every game sets:
        n: the number of games.
        n_obs: observation features per game.
        action_space: :class:`Discrete` or :class:`Box`.
        score_name: what :attr:`EpisodeStats.score` counts, e.g. ``"apples"``.
        alive: ``(n,)`` bool, which games are still running their first episode (an
            attribute or a property; read it again after each :meth:`advance`).
    """

    n: int
    alive: np.ndarray
    n_obs: int
    action_space: ActionSpace
    score_name: str

    @abstractmethod
    def reset(self, seed: Any = None) -> Any:
        """Start every game anew; ``seed`` is ``(n,)`` per-game seeds (uint64)."""

    @property
    @abstractmethod
    def observations(self) -> np.ndarray:
        """The current observations, ``(n, n_obs)`` float32 (finished games keep their
        last)."""

    @abstractmethod
    def advance(self, actions: np.ndarray) -> Any:
        """One move of every running game: ``actions`` is ``(n,)`` int64 for Discrete or
        ``(n, k)`` float32 for Box, already valid (no checks). Finished games ignore it."""

    @abstractmethod
    def episode_stats(self) -> EpisodeStats:
        """Each game's first-episode statistics so far (final once it is over)."""

    def close(self) -> None:  # noqa: B027 - most games hold nothing to release
        """Release what the game holds (windows, subprocesses)."""


class GameSpec(ABC):
    """A game with its settings: what a run's config names, and the maker of batches.

    Attributes every spec sets:
        name: the registry name (``"snake"``, ``"gym:CartPole-v1"``).
        n_obs, action_space, score_name: as the batches it makes.
        fitness_doc: one sentence saying what fitness is (higher is better).
        can_win: whether :attr:`EpisodeStats.won` can ever be true.
        win_name: what people call a won episode (``full board`` for Snake).
        input_labels, action_names: short names of the observation features and of the
            actions, for views (empty: unnamed).
    """

    name: str
    n_obs: int
    action_space: ActionSpace
    score_name: str
    fitness_doc: str
    can_win: bool = False
    win_name: str = "win"
    input_labels: tuple[str, ...] = ()
    action_names: tuple[str, ...] = ()

    @property
    def n_outputs(self) -> int:
        """Network outputs the game needs."""
        return self.action_space.n_outputs

    @property
    def shardable(self) -> bool:
        """Whether a game's result is the same in any batch, so a population may be split
        over workers without changing a number (true unless a batch shares randomness)."""
        return True

    @property
    def compiled_play(self) -> bool:
        """Whether populations play the game in one compiled loop (its batches have
        ``compiled_rules`` that evonet's compiled rollout steps game by game, with a
        compiled forward pass; views then forward networks the same way)."""
        return False

    @property
    def shield_at(self) -> int:
        """With a shield between the network and the game, the first of ``n_outputs``
        observation entries (of the batches' own observations) that are 0.0 exactly for
        an action that ends the game at once: the network's best action among the others
        is taken while there are any (:meth:`actions`). -1: no shield."""
        return -1

    def actions(self, outputs: np.ndarray, observations: np.ndarray) -> np.ndarray:
        """The actions a network's ``outputs (..., n_outputs)`` take in games whose
        batches' observations are ``observations (..., batch n_obs)``:
        :func:`actions_from_outputs`, through the shield when there is one."""
        at = self.shield_at
        if at >= 0:
            living = observations[..., at : at + self.n_outputs] > 0
            # Only where some action lives: a game with none plays the network's choice.
            mask = living | ~living.any(axis=-1, keepdims=True)
            outputs = np.where(mask, outputs, -np.inf)
        return actions_from_outputs(outputs, self.action_space)

    @abstractmethod
    def make(self, n_games: int) -> BatchedGame:
        """A batch of ``n_games`` games (reset it before use)."""

    @abstractmethod
    def memory_bytes(self, n_games: int) -> int:
        """An upper estimate of what a batch of ``n_games`` needs, to refuse impossible
        sizes before allocating."""

    def describe(self) -> str:
        """A few words for titles and messages, e.g. ``"snake 10x10"``."""
        return self.name

    def info(self) -> dict[str, Any]:
        """Settings written beside a saved champion (JSON-able)."""
        return {}

    def easier(self) -> GameSpec | None:
        """A smaller version of this game for a run's first generations (the curriculum of
        :attr:`evonet.evolution.config.EvolveConfig.curriculum`), or None when there is none. It
        must take the same network (observations and actions) and cost no more memory."""
        return None

    def seen(self, obs: np.ndarray) -> np.ndarray:
        """What a network sees of the batches' observations ``(..., batch n_obs)``: ``(...,
        n_obs)``, all of them unless the game is :class:`games.observed.Observed`."""
        return obs

    def inputs(self) -> np.ndarray:
        """``(n_obs,)`` int64: the batches' observation entries a network sees, in order
        (for compiled loops that read observations themselves)."""
        return np.arange(self.n_obs, dtype=np.int64)

    def warm_up(self) -> str | None:
        """Get ready to play at full speed (compile, load from a cache); a one-line note of
        what it took for people to read, or None when there was nothing to do."""
        return None


# name -> "module:maker", the module relative to this package (".snake.spec") or absolute
# ("mypkg.tetris") for games that live elsewhere. A maker is called as maker(name, **options)
# and returns a GameSpec, or raises ValueError naming the problem (a bad option, a missing package).
REGISTRY: dict[str, str] = {
    "snake": ".snake.spec:SnakeSpec",
}
# Name prefixes whose maker takes the rest of the name: gym:CartPole-v1.
PREFIXES: dict[str, str] = {
    "gym:": ".gym:GymSpec",
}


def register(name: str, maker: str) -> None:
    """Add a game: ``name`` made by ``maker``, ``"module:Class"`` of a :class:`GameSpec`
    whose constructor takes ``(name, **settings)``. For games that live outside this
    package (``evonet.register_game("tetris", "mypkg.tetris:TetrisSpec")``)."""
    if not isinstance(name, str) or not name or any(name.startswith(p) for p in PREFIXES):
        raise ValueError(f"a game name is non-empty text without a prefix, got {name!r}")
    if not isinstance(maker, str) or maker.count(":") != 1:
        raise ValueError(f'a maker is "module:Class", got {maker!r}')
    REGISTRY[name] = maker


class MissingPackage(ValueError):
    """A game needs an optional package that is not installed; the message names it."""


MAX_NAME = 200  # characters in a game name (Gymnasium ids are far shorter)


class UnknownGame(ValueError):
    """A game name that no registry entry makes."""


def supported() -> str:
    """The names the registry knows, for messages: ``snake, gym:ENV_ID``."""
    return ", ".join([*REGISTRY, *(p + "ENV_ID" for p in PREFIXES)])


def _maker(name: str) -> Any:
    target = REGISTRY.get(name)
    if target is None:
        target = next((t for p, t in PREFIXES.items() if name.startswith(p)), None)
    if target is None:
        # "snak" -> snake; "gim:CartPole-v1" -> gym:CartPole-v1. (difflib here, not
        # evonet.text's did_you_mean: games sit below every other layer.)
        rest = name.partition(":")[2]
        close = difflib.get_close_matches(name, [*REGISTRY, *(p + rest for p in PREFIXES)], 1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UnknownGame(f"unknown game {name!r}{hint}; supported: {supported()}")
    module, attr = target.split(":")
    return getattr(importlib.import_module(module, __package__), attr)


def make(name: str, **options: Any) -> GameSpec:
    """The game registered as ``name`` with ``options`` (Snake: ``board``, ``hunger``).
    (Any game with only some observation entries reaching the network:
    :class:`games.observed.Observed` around it.)

    Raises:
        UnknownGame: no such game (the message lists the supported names).
        ValueError: the game refuses an option, or needs a package that is not installed.
    """
    if not isinstance(name, str):
        raise UnknownGame(f"a game name is text, got {name!r}; supported: {supported()}")
    if len(name) > MAX_NAME:  # keeps every message that names the game one short line
        raise UnknownGame(f"game {name[:40]!r}... is {len(name)} characters, at most {MAX_NAME}")
    maker = _maker(name)
    accepted = inspect.signature(maker).parameters
    for key in options:
        if key not in accepted or key == "name":
            raise ValueError(f"game {name} has no setting {key!r}")
    return maker(name, **options)
