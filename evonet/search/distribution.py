"""What every evolution strategy shares: a Gaussian search distribution around a mean
genome, sampled by :meth:`ask` and moved by :meth:`tell`, with its whole state as arrays.

A strategy module subclasses :class:`Distribution` and writes three things: the shapes of
its state arrays, how it samples the ``(P, D)`` standard-normal directions, and its update
rule as a pure function from the old state to the new one. The base class keeps the rest
the same for all of them: ask is repeatable until tell, nothing is committed when an
update is not finite, the best genome ever is remembered, and the state round-trips
through a checkpoint exactly.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

from evonet.fields import setting
from evonet.search.ga import MAX_SIGMA, NonFiniteGenes, rank

State = dict[str, np.ndarray]


@dataclass(frozen=True)
class ESConfig:
    """Settings every evolution strategy has; each strategy's config adds its own."""

    population: int = setting(300, "P, genomes per generation.")
    sigma: float = setting(0.1, "Initial standard deviation of the search distribution.")

    even: ClassVar[bool] = False  # mirrored sampling needs pairs

    def validate(self) -> None:
        """Raise ValueError naming the first impossible setting."""
        if self.population < 2:
            raise ValueError(f"population must be at least 2, got {self.population}")
        if self.even and self.population % 2:
            raise ValueError(
                f"population must be even for mirrored sampling, got {self.population}"
            )
        for name, value in asdict(self).items():
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{name.replace('_', ' ')} must be finite, got {value}")
        if not 0 < self.sigma <= MAX_SIGMA:
            raise ValueError(f"sigma must be in (0, {MAX_SIGMA:g}], got {self.sigma}")

    def memory_bytes(self, n_params: int) -> int:
        """An upper estimate of the memory ask and tell take: the float64 directions and
        genomes, the float32 genomes, and a few (D,) arrays."""
        return 24 * self.population * n_params + 64 * n_params


class Distribution:
    """Ask/tell over a search distribution centred on ``mean (D,)``.

    ``ask()`` returns ``(P, D)`` float32 genomes (the same ones until ``tell``);
    ``tell(fitness (P,))`` updates the distribution, higher fitness being better.
    """

    name: ClassVar[str] = ""
    figure_names: ClassVar[tuple[str, ...]] = ("sigma", "step")
    config_class: ClassVar[type[ESConfig]] = ESConfig

    def __init__(self, cfg: ESConfig, mean: np.ndarray, rng: np.random.Generator) -> None:
        cfg.validate()
        if mean.ndim != 1 or mean.size == 0:
            raise ValueError(f"the initial mean must be one flat genome (D,), got {mean.shape}")
        self.cfg, self.rng, self.generation = cfg, rng, 0
        self.state_arrays = self.initial_state(np.asarray(mean, dtype=np.float64))
        self.fitness = np.full(cfg.population, np.nan)
        self.best_genome = mean.astype(np.float32)
        self.best_fitness = -np.inf
        self.last_step = 0.0
        self._asked: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def n_params(self) -> int:
        return self.state_arrays["mean"].size

    @property
    def mean(self) -> np.ndarray:
        """The distribution's centre ``(D,)`` float64."""
        return self.state_arrays["mean"]

    # ------------------------------------------------------------ what a strategy writes

    def initial_state(self, mean: np.ndarray) -> State:
        """The state arrays at generation 0 (``mean`` among them)."""
        raise NotImplementedError

    @classmethod
    def state_shapes(cls, cfg: ESConfig, n_params: int) -> dict[str, tuple[int, ...]]:
        """Every state array's shape for ``D = n_params`` (checked when a file is read)."""
        raise NotImplementedError

    def directions(self) -> np.ndarray:
        """``(P, D)`` float64 standard-normal draws from :attr:`rng` (mirrored or not)."""
        return self.rng.standard_normal((self.cfg.population, self.n_params))

    def genomes(self, z: np.ndarray) -> np.ndarray:
        """The genomes ``(P, D)`` float64 for directions ``z``: ``mean + sigma * z``."""
        return self.mean + self.state_arrays["sigma"] * z

    def update(self, z: np.ndarray, fitness: np.ndarray) -> State:
        """The new state after directions ``z (P, D)`` scored ``fitness (P,)``: pure, the
        old state is left as it was."""
        raise NotImplementedError

    def spread(self) -> float:
        """The distribution's typical standard deviation: the mean of its sigmas."""
        return float(np.mean(self.state_arrays["sigma"]))

    def figures(self) -> dict[str, float]:
        """The strategy's own figures for the progress bar and history: ``sigma`` (its
        :meth:`spread`) and ``step``, how far the last :meth:`tell` moved the mean."""
        return {"sigma": self.spread(), "step": self.last_step}

    @classmethod
    def state_problem(cls, arrays: State) -> str:
        """What is wrong with state arrays read from a file (empty if nothing)."""
        sigma = arrays.get("sigma")
        if sigma is not None and not (sigma > 0).all():
            return "sigma must be positive"
        return ""

    # -------------------------------------------------------------------- ask and tell

    def ask(self) -> np.ndarray:
        """The ``(P, D)`` float32 genomes of the current generation (do not modify)."""
        if self._asked is None:
            z = self.directions()
            self._asked = (z, self.genomes(z).astype(np.float32))
        return self._asked[1]

    def tell(self, fitness: np.ndarray) -> None:
        """Record ``fitness (P,)`` for the asked genomes and update the distribution."""
        fitness = np.asarray(fitness, dtype=np.float64)
        if fitness.shape != (self.cfg.population,):
            raise ValueError(
                f"fitness must have shape ({self.cfg.population},), got {fitness.shape}"
            )
        population = self.ask()
        assert self._asked is not None
        with np.errstate(all="ignore"):  # a diverged update is refused just below
            new = self.update(self._asked[0], np.where(np.isfinite(fitness), fitness, np.nan))
        if not all(np.isfinite(a).all() for a in new.values()):
            # Nothing is committed: ask() still returns this generation's genomes, so a
            # checkpoint never holds a distribution that could not be resumed.
            raise NonFiniteGenes(
                f"generation {self.generation}: the {self.name} update produced NaN or "
                "infinite values"
            )
        top = rank(fitness)[0]
        if np.isfinite(fitness[top]) and fitness[top] > self.best_fitness:
            self.best_fitness = float(fitness[top])
            self.best_genome = population[top].copy()
        self.fitness = np.where(np.isfinite(fitness), fitness, np.nan)
        self.last_step = float(np.linalg.norm(new["mean"] - self.mean))
        self.state_arrays = new
        self.generation += 1
        self._asked = None

    def forget_best(self) -> None:
        """Let the next :meth:`tell` set the best genome ever afresh."""
        self.best_fitness = -np.inf

    def candidates(self) -> tuple[np.ndarray, list[str]]:
        """The genomes ``(2, D)`` that may become the run's champion, and what each is:
        the distribution's mean, and the best genome so far."""
        genomes = np.stack([self.mean.astype(np.float32), self.best_genome])
        return genomes, ["the distribution's mean", "the best genome so far"]

    # ------------------------------------------------------------------------ state

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """``(arrays, values)`` that :meth:`from_state` restores exactly. Arrays: the
        strategy's state, ``fitness (P,)``, ``best_genome (D,)``."""
        arrays = {**self.state_arrays, "fitness": self.fitness, "best_genome": self.best_genome}
        values = {
            "generation": self.generation,
            "best_fitness": None if not np.isfinite(self.best_fitness) else self.best_fitness,
            "rng_state": self.rng.bit_generator.state,
        }
        return arrays, values

    @classmethod
    def from_state(
        cls, cfg: ESConfig, arrays: dict[str, np.ndarray], values: dict[str, Any]
    ) -> Distribution:
        rng = np.random.default_rng()
        rng.bit_generator.state = values["rng_state"]
        search = cls(cfg, arrays["mean"], rng)
        search.state_arrays = {k: arrays[k].copy() for k in cls.state_shapes(cfg, search.n_params)}
        search.generation = int(values["generation"])
        search.fitness = arrays["fitness"].copy()
        search.best_genome = arrays["best_genome"].copy()
        bf = values["best_fitness"]
        search.best_fitness = -np.inf if bf is None else float(bf)
        return search
