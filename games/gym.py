"""Any Gymnasium environment as a batched game: ``gym:ENV_ID`` in the registry.

Needs the optional extra: ``pip install 'evonet[gym]'`` (Gymnasium, with Box2D for
LunarLander). Supported: environments with a 1-D ``Box`` observation and a ``Discrete`` or
1-D ``Box`` action with finite bounds.

**Batch.** ``N`` environments come from one ``gymnasium.make_vec``: the environment's
native vector entry point where it has one (CartPole), synchronous vectorization otherwise.

**Episodes.** Only each environment's first episode counts. Gymnasium's vector envs reset
a finished environment on the next step (NEXT_STEP autoreset); from then on its rewards
and observations are ignored, and the game stays over here.

**Seeds.** Each environment of a synchronous vector env is reset with its own seed, so a
game's outcome depends only on its seed and its moves. A native vector env has one random
generator for the whole batch; where it keeps its games' states as columns of one array
(CartPole: ``state`` of shape ``(4, N)``, each column drawn uniformly from its reset
bounds), each game's column is drawn again from the game's own seed, so there too a game
depends only on its seed, and a generation may be split over workers. Any other native
vector env is seeded from all the batch's seeds: deterministic as a whole, never split.

**Fitness and score**: the episode's return (the sum of its rewards), higher is better; with
``step_cost`` the fitness is the return less that much per step, the score still the
return. (Hopper pays 1 a step for staying up: a policy that stands still earns 1,000 an
episode, a local optimum that a cost of 1 takes away, as ARS does; Mania et al. 2018.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .base import (
    ActionSpace,
    BatchedGame,
    Box,
    Discrete,
    EpisodeStats,
    GameSpec,
    MissingPackage,
)

PREFIX = "gym:"
INSTALL_HINT = "pip install 'evonet[gym]'"
MAX_COST = 1_000_000  # per step: far beyond any environment's rewards
SUPPORTED = "Box observations (1-D) and Discrete or Box (1-D, finite bounds) actions"


def import_gymnasium() -> Any:
    """gymnasium, or :class:`MissingPackage` naming the extra to install."""
    try:
        import gymnasium
    except ImportError:
        raise MissingPackage(f"gym: games need Gymnasium: {INSTALL_HINT}") from None
    return gymnasium


@dataclass(frozen=True)
class GymSpec(GameSpec):
    """A Gymnasium environment, by the registry name ``gym:ENV_ID``."""

    name: str
    step_cost: float = 0.0  # fitness less this per step; the score stays the return
    env_id: str = field(init=False)
    n_obs: int = field(init=False)  # type: ignore[misc]
    action_space: ActionSpace = field(init=False)  # type: ignore[misc]
    action_start: int = field(init=False, default=0)
    vectorized: bool = field(init=False, default=False)
    # Whether that native vector env keeps its games' states as the columns of one array
    # drawn from its reset bounds (CartPole), so each game's start is drawn from its seed.
    column_state: bool = field(init=False, default=False)

    score_name: ClassVar[str] = "return"
    fitness_doc: ClassVar[str] = "the episode's return, the sum of its rewards (higher is better)"

    def __post_init__(self) -> None:
        if not self.name.startswith(PREFIX) or len(self.name) == len(PREFIX):
            raise ValueError(f"expected gym:ENV_ID like gym:CartPole-v1, got {self.name!r}")
        if not (isinstance(self.step_cost, (int, float)) and 0 <= self.step_cost <= MAX_COST):
            raise ValueError(f"step cost must be from 0 to {MAX_COST:,}, got {self.step_cost!r}")
        env_id = self.name[len(PREFIX) :]
        gym = import_gymnasium()
        try:
            spec = gym.spec(env_id)
        except Exception as e:  # gymnasium raises several error types for a bad id
            raise ValueError(
                f"{self.name}: no such Gymnasium environment ({_first_line(e)}); "
                f"supported: installed environments with {SUPPORTED}"
            ) from None
        try:
            env = gym.make(env_id)
        except Exception as e:  # a missing dependency (Box2D, MuJoCo) surfaces here
            raise ValueError(f"{self.name}: cannot be made: {_first_line(e)}") from None
        try:
            obs_space, act_space = env.observation_space, env.action_space
        finally:
            env.close()
        spaces = gym.spaces
        if not (isinstance(obs_space, spaces.Box) and len(obs_space.shape) == 1):
            raise ValueError(f"{self.name}: observations are {obs_space}; supported: {SUPPORTED}")
        start = 0
        if isinstance(act_space, spaces.Discrete):
            action: ActionSpace = Discrete(int(act_space.n))
            start = int(act_space.start)
        elif (
            isinstance(act_space, spaces.Box)
            and len(act_space.shape) == 1
            and np.isfinite(act_space.low).all()
            and np.isfinite(act_space.high).all()
        ):
            action = Box(
                tuple(float(v) for v in act_space.low), tuple(float(v) for v in act_space.high)
            )
        else:
            raise ValueError(f"{self.name}: actions are {act_space}; supported: {SUPPORTED}")
        object.__setattr__(self, "env_id", env_id)
        object.__setattr__(self, "n_obs", int(obs_space.shape[0]))
        # The entries' indices, as --observe names them: the panel labels its inputs so.
        object.__setattr__(self, "input_labels", tuple(f"obs {i}" for i in range(self.n_obs)))
        object.__setattr__(self, "action_space", action)
        object.__setattr__(self, "action_start", start)
        object.__setattr__(self, "vectorized", spec.vector_entry_point is not None)
        object.__setattr__(self, "column_state", self.vectorized and _has_columns(gym, env_id))

    @property
    def shardable(self) -> bool:
        # A native vector env draws every start from one generator for the whole batch,
        # unless its games' starts can be drawn per game (column_state).
        return not self.vectorized or self.column_state


    def make(self, n_games: int) -> GymGame:
        return GymGame(self, n_games)

    def memory_bytes(self, n_games: int) -> int:
        # An environment is a Python object of a few kB (Box2D worlds: tens of kB); the
        # arrays here are small beside it.
        return n_games * (64 * 1024 + 16 * self.n_obs)

    def describe(self) -> str:
        return self.name

    def info(self) -> dict[str, Any]:
        return {"env": self.env_id}

    def to_env_action(self, action: np.ndarray) -> Any:
        """One game's action ``()`` int or ``(k,)`` float32 as the environment takes it."""
        if isinstance(self.action_space, Discrete):
            return int(action) + self.action_start
        return np.asarray(action, dtype=np.float32)


class GymGame(BatchedGame):
    """``n`` Gymnasium environments stepped together (see the module docstring)."""

    score_name = "return"

    def __init__(self, spec: GymSpec, n_games: int) -> None:
        gym = import_gymnasium()
        self.spec, self.n = spec, int(n_games)
        self.n_obs, self.action_space = spec.n_obs, spec.action_space
        self.venv = gym.make_vec(spec.env_id, num_envs=self.n)
        # A synchronous vector env steps every sub-env, and a finished one would go on
        # playing (and resetting) at full cost until the longest game ends. Stepping only
        # the live ones makes a batch cost the sum of its games' lengths instead.
        self.sub_envs = getattr(self.venv, "envs", None)
        self._obs = np.zeros((self.n, self.n_obs), dtype=np.float32)
        self.alive = np.zeros(self.n, dtype=bool)
        self.returns = np.zeros(self.n, dtype=np.float64)
        self.steps = np.zeros(self.n, dtype=np.int64)

    def reset(self, seed: Any = None) -> None:
        seeds = np.asarray(seed if seed is not None else _fresh(self.n), dtype=np.uint64)
        if seeds.shape != (self.n,):
            raise ValueError(f"expected {self.n} per-game seeds, got shape {seeds.shape}")
        if self.sub_envs is not None:
            obs, _ = self.venv.reset(seed=[int(s) for s in seeds])
        else:
            batch_seed = np.random.SeedSequence([int(s) for s in seeds]).generate_state(1)
            obs, _ = self.venv.reset(seed=int(batch_seed[0]))
            obs = _starts_per_game(self.venv.unwrapped, seeds, obs)
        self._obs[:] = obs
        self.alive[:] = True
        self.returns[:] = 0
        self.steps[:] = 0

    @property
    def observations(self) -> np.ndarray:
        return self._obs

    def advance(self, actions: np.ndarray) -> None:
        live = self.alive.nonzero()[0]
        if live.size == 0:
            return
        if self.sub_envs is not None:
            for i in live:
                obs, reward, term, trunc, _ = self.sub_envs[i].step(
                    self.spec.to_env_action(actions[i])
                )
                self._record(i, obs, reward, term or trunc)
            return
        if isinstance(self.action_space, Discrete):
            actions = actions + self.spec.action_start
        obs, reward, term, trunc, _ = self.venv.step(actions)
        self.returns[live] += reward[live]
        self.steps[live] += 1
        self._obs[live] = obs[live]
        self.alive[live] = ~(term[live] | trunc[live])

    def _record(self, i: int, obs: Any, reward: float, done: bool) -> None:
        self._obs[i] = obs
        self.returns[i] += float(reward)
        self.steps[i] += 1
        if done:
            self.alive[i] = False

    def episode_stats(self) -> EpisodeStats:
        return EpisodeStats(
            fitness=self.returns - self.spec.step_cost * self.steps,
            score=self.returns.copy(),
            steps=self.steps.copy(),
            won=np.zeros(self.n, dtype=bool),
        )

    def close(self) -> None:
        self.venv.close()


def render_fps(spec: GymSpec) -> float:
    """The frames per second the environment renders at (its metadata), else 30."""
    gym = import_gymnasium()
    env = gym.make(spec.env_id)
    try:
        fps = env.metadata.get("render_fps") or 30
    finally:
        env.close()
    return float(fps) if math.isfinite(float(fps)) and fps > 0 else 30.0


def _has_columns(gym: Any, env_id: str) -> bool:
    """Whether ``env_id``'s native vector env keeps its games' states as columns."""
    venv = gym.make_vec(env_id, num_envs=2)
    try:
        venv.reset(seed=0)
        return _columns(venv.unwrapped) is not None
    finally:
        venv.close()


def _columns(env: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(state (k, N), low, high)`` of a native vector env that keeps its games' states
    as columns drawn from ``[low, high]`` at reset (CartPole's), else None."""
    state, low, high = (getattr(env, name, None) for name in ("state", "low", "high"))
    n = getattr(env, "num_envs", None)
    if not isinstance(state, np.ndarray) or state.ndim != 2 or state.shape[1] != n:
        return None
    if not all(isinstance(b, (int, float, np.floating, np.ndarray)) for b in (low, high)):
        return None
    return state, np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def _starts_per_game(env: Any, seeds: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """Draw each game's start again from its own seed in a native vector env whose states
    are columns (:func:`_columns`), as its reset draws them (uniform in its bounds), and
    return the observations; other envs' ``obs`` unchanged."""
    columns = _columns(env)
    if columns is None:
        return obs
    state, low, high = columns
    for i, seed in enumerate(seeds):
        state[:, i] = np.random.default_rng(int(seed)).uniform(low, high, size=state.shape[0])
    return state.T.astype(np.float32)


def _fresh(n: int) -> np.ndarray:
    return np.random.SeedSequence().generate_state(n, dtype=np.uint64)


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
