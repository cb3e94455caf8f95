"""A genetic algorithm over a ``(P, D)`` matrix of flat genomes, in ask/tell form.

Operators are pure functions of arrays and an explicit ``numpy.random.Generator``; none
loops over genes or individuals in Python. :class:`GA` strings them together and keeps the
state that a checkpoint needs to continue a run bit for bit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from evonet.fields import setting

SELECTIONS = ("truncation", "tournament")
# Far above any useful mutation size (genes start within +-1), and small enough that float32
# genes stay finite however long a run: each generation moves a gene by a few sigma at most.
MAX_SIGMA = 1000.0


class NonFiniteGenes(ArithmeticError):
    """Breeding produced a NaN or infinite gene; the GA state was left unchanged."""


@dataclass(frozen=True)
class GAConfig:
    """Settings of the genetic algorithm."""

    population: int = setting(300, "P, genomes per generation.")
    elite: int = setting(6, "Best genomes copied unchanged into the next generation.")
    parents: int = setting(
        30, "Truncation selection draws both parents of each child from the best PARENTS."
    )
    selection: str = setting(
        "truncation", "truncation (from the best PARENTS) or tournament (best of TOURNAMENT_SIZE)."
    )
    tournament_size: int = setting(
        3, "Contestants per tournament, drawn from the whole population."
    )
    mutation_rate: float = setting(0.1, "Probability that a gene gets Gaussian noise.")
    mutation_sigma: float = setting(0.2, "Standard deviation of that noise at generation 0.")
    sigma_decay: float = setting(1.0, "Sigma is multiplied by this every generation (1: constant).")
    sigma_min: float = setting(0.0, "Sigma never decays below this.")

    def validate(self) -> None:
        """Raise ValueError naming the first impossible setting."""
        if self.population < 2:
            raise ValueError(f"population must be at least 2, got {self.population}")
        if not 0 <= self.elite < self.population:
            raise ValueError(
                f"elite must be from 0 to population - 1 ({self.population - 1}), got {self.elite}"
            )
        if self.parents < 2:
            raise ValueError(f"parents must be at least 2, got {self.parents}")
        if self.parents > self.population:
            raise ValueError(
                f"parents ({self.parents}) cannot exceed the population ({self.population})"
            )
        if self.selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {SELECTIONS}, got {self.selection!r}")
        if self.tournament_size < 1:
            raise ValueError(f"tournament size must be positive, got {self.tournament_size}")
        if self.selection == "tournament" and self.tournament_size > self.population:
            raise ValueError(
                f"tournament size ({self.tournament_size}) cannot exceed the population "
                f"({self.population})"
            )
        if not 0.0 <= self.mutation_rate <= 1.0:
            raise ValueError(f"mutation rate must be in [0, 1], got {self.mutation_rate}")
        for name in ("mutation_sigma", "sigma_min"):
            value = getattr(self, name)
            if not 0 <= value <= MAX_SIGMA:
                raise ValueError(
                    f"{name.replace('_', ' ')} must be a finite number from 0 to {MAX_SIGMA:g} "
                    f"(larger noise would overflow float32 genes), got {value}"
                )
        if not 0 < self.sigma_decay <= 1:
            raise ValueError(f"sigma decay must be in (0, 1], got {self.sigma_decay}")

    def memory_bytes(self, n_params: int) -> int:
        """An upper estimate of the memory a population of ``P x n_params`` float32 genes
        takes while :meth:`GA.tell` breeds it: the population, both parents' copies, the
        crossover and mutation draws (float64) and masks, the children (measured: about 21
        bytes per gene), plus the tournament draws."""
        genes = self.population * n_params
        tournament = 40 * self.population * self.tournament_size
        return 24 * genes + (tournament if self.selection == "tournament" else 0)

    def sigma(self, generation: int) -> float:
        """Mutation sigma at ``generation`` under the decay schedule."""
        return max(self.sigma_min, self.mutation_sigma * self.sigma_decay**generation)


# ------------------------------------------------------------------ pure operators


def rank(fitness: np.ndarray) -> np.ndarray:
    """Indices of ``fitness (P,)`` from best to worst; NaN and +-inf rank last.

    Ties keep index order (a stable sort), so ranking is deterministic.
    """
    key = np.where(np.isfinite(fitness), fitness, -np.inf)
    return np.argsort(-key, kind="stable")


def truncation_parents(
    order: np.ndarray, n: int, parents: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Two ``(n,)`` index arrays, each drawn uniformly from the best ``parents``."""
    top = order[:parents]
    return top[rng.integers(0, parents, n)], top[rng.integers(0, parents, n)]


def tournament_parents(
    fitness: np.ndarray, n: int, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Two ``(n,)`` index arrays; each parent is the fittest of ``size`` random genomes."""
    key = np.where(np.isfinite(fitness), fitness, -np.inf)
    contestants = rng.integers(0, fitness.size, (2, n, size))
    best = np.argmax(key[contestants], axis=-1)
    winners = np.take_along_axis(contestants, best[..., None], axis=-1)[..., 0]
    return winners[0], winners[1]


def uniform_crossover(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Children ``(n, D)``: each gene (weight or bias) from ``a`` or ``b`` by a fair coin."""
    return np.where(rng.random(a.shape) < 0.5, a, b)


def gaussian_mutation(
    x: np.ndarray, rate: float, sigma: float, rng: np.random.Generator
) -> np.ndarray:
    """A copy of ``x`` where each gene, with probability ``rate``, gets N(0, sigma) added."""
    out = x.copy()
    hit = rng.random(x.shape) < rate
    out[hit] += rng.normal(0.0, sigma, int(hit.sum())).astype(x.dtype)
    return out


def next_generation(
    population: np.ndarray,
    fitness: np.ndarray,
    cfg: GAConfig,
    sigma: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Breed the next ``(P, D)`` population: elites first, unchanged, then children."""
    order = rank(fitness)
    n_children = population.shape[0] - cfg.elite
    if cfg.selection == "truncation":
        pa, pb = truncation_parents(order, n_children, cfg.parents, rng)
    else:
        pa, pb = tournament_parents(fitness, n_children, cfg.tournament_size, rng)
    children = uniform_crossover(population[pa], population[pb], rng)
    children = gaussian_mutation(children, cfg.mutation_rate, sigma, rng)
    return np.concatenate([population[order[: cfg.elite]], children])


# --------------------------------------------------------------------- the driver


class GA:
    """Ask/tell genetic algorithm.

    ``ask()`` returns the ``(P, D)`` population to evaluate; ``tell(fitness)`` takes its
    ``(P,)`` fitness, remembers the best genome ever, and breeds the next generation.
    """

    def __init__(self, cfg: GAConfig, population: np.ndarray, rng: np.random.Generator) -> None:
        cfg.validate()
        if population.ndim != 2 or population.shape[0] != cfg.population:
            raise ValueError(
                f"initial population must be ({cfg.population}, D), got {population.shape}"
            )
        self.cfg = cfg
        self.population = population
        self.rng = rng
        self.generation = 0
        self.fitness = np.full(cfg.population, np.nan)
        self.best_genome = population[0].copy()
        self.best_fitness = -np.inf

    figure_names: tuple[str, ...] = ()  # the GA adds no columns to a run's history

    def figures(self) -> dict[str, float]:
        """The strategy's own figures for the history: none for the GA (its mutation
        sigma follows from its settings)."""
        return {}

    def candidates(self) -> tuple[np.ndarray, list[str]]:
        """The genomes ``(elite + 1, D)`` that may become the run's champion, and what each
        is: after :meth:`tell`, the elites of the generation just scored, then the best
        genome so far."""
        genomes = np.concatenate([self.population[: self.cfg.elite], self.best_genome[None]])
        labels = [f"elite {i + 1} of the last generation" for i in range(self.cfg.elite)]
        return genomes, [*labels, "the best genome so far"]

    def forget_best(self) -> None:
        """Let the next :meth:`tell` set the best genome ever afresh (its fitness is no
        longer comparable: the game changed)."""
        self.best_fitness = -np.inf

    def ask(self) -> np.ndarray:
        """The ``(P, D)`` genomes of the current generation (do not modify)."""
        return self.population

    def tell(self, fitness: np.ndarray) -> None:
        """Record ``fitness (P,)`` for the asked population and breed the next one."""
        fitness = np.asarray(fitness, dtype=np.float64)
        if fitness.shape != (self.cfg.population,):
            raise ValueError(
                f"fitness must have shape ({self.cfg.population},), got {fitness.shape}"
            )
        sigma = self.cfg.sigma(self.generation)
        rng_state = self.rng.bit_generator.state
        children = next_generation(self.population, fitness, self.cfg, sigma, self.rng)
        if not np.isfinite(children).all():
            # Nothing is committed: the GA still holds the generation it was asked for, so
            # a checkpoint never holds genes that could not be resumed.
            self.rng.bit_generator.state = rng_state
            raise NonFiniteGenes(
                f"generation {self.generation}: breeding produced NaN or infinite genes "
                f"(mutation sigma {sigma:g})"
            )
        top = rank(fitness)[0]
        if np.isfinite(fitness[top]) and fitness[top] > self.best_fitness:
            self.best_fitness = float(fitness[top])
            self.best_genome = self.population[top].copy()
        # NaN is the one "no usable score" value (rank() already puts +-inf last), so a
        # checkpoint never holds an infinity.
        self.fitness = np.where(np.isfinite(fitness), fitness, np.nan)
        self.population = children
        self.generation += 1

    # State as arrays plus JSON-able values, for checkpoints.

    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        """``(arrays, values)`` that :meth:`from_state` restores exactly."""
        arrays = {
            "population": self.population,
            "fitness": self.fitness,
            "best_genome": self.best_genome,
        }
        values = {
            "generation": self.generation,
            "best_fitness": None if not np.isfinite(self.best_fitness) else self.best_fitness,
            "rng_state": self.rng.bit_generator.state,
            "ga_config": asdict(self.cfg),
        }
        return arrays, values

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray], values: dict) -> GA:
        cfg = GAConfig(**values["ga_config"])
        rng = np.random.default_rng()
        rng.bit_generator.state = values["rng_state"]
        ga = cls(cfg, arrays["population"].copy(), rng)
        ga.generation = int(values["generation"])
        ga.fitness = arrays["fitness"].copy()
        ga.best_genome = arrays["best_genome"].copy()
        bf = values["best_fitness"]
        ga.best_fitness = -np.inf if bf is None else float(bf)
        return ga
