"""The generation loop: ask, evaluate, tell; reporters do all the output.

A run evaluates its genomes on a game from the registry (:func:`evonet.evolution.rollout.rollout`)
or on a Python fitness function; fitness is always higher-is-better.

Reporters follow neat-python's pattern: a base class with no-op hooks, so the loop stays
free of printing, files and plots, and each output is one small class in
:mod:`evonet.evolution.reporters`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from evonet.evolution.config import CUSTOM, EvolveConfig
from evonet.evolution.obs_norm import ObsNorm
from evonet.evolution.rollout import (
    RolloutResult,
    from_episodes,
    race,
    rollout,
    rollout_bytes,
)
from evonet.games.base import GameSpec
from evonet.memory import check_memory
from evonet.nn import mlp
from evonet.nn.mlp import Topology
from evonet.search.ga import GA, GAConfig, rank
from evonet.search.strategies import Strategy, strategy_class
from evonet.storage.history import history_fields
from evonet.text import count

Evaluator = Callable[[np.ndarray, Topology, GameSpec, np.ndarray], RolloutResult]
"""Where rollouts run (:mod:`evonet.evolution.evaluators`): called as
:func:`evonet.evolution.rollout.rollout`, with ``observe=True`` only in a run that
normalises observations."""

FitnessFunction = Callable[[np.ndarray], np.ndarray]
"""``fitness(genomes (P, D) float32) -> (P,)`` numbers, higher is better."""


@dataclass
class Champion:
    """The genome a run hands over as its result (``best.npz``), and how it was picked."""

    genome: np.ndarray  # (D,) float32
    record: dict  # episodes, fitness, mean score, wins, and which candidate it was


@dataclass
class Run:
    """The state of an evolution run: what reporters read and checkpoints store.

    ``game`` is the game every genome plays (from the registry); a run on a Python fitness
    function has no game (``None``) and its ``fitness`` instead.
    """

    config: EvolveConfig
    topology: Topology
    game: GameSpec | None
    strategy: Strategy
    """What asks for genomes and learns from their fitness: the GA or an evolution
    strategy (:mod:`evonet.search`)."""
    history: list[dict] = field(default_factory=list)
    fitness: FitnessFunction | None = None
    stop_reason: str = ""
    """Why the last :func:`evolve` ended: finished, time limit or interrupted."""
    champion: Champion | None = None
    """Picked when :func:`evolve` ends (:meth:`pick_champion`); None before, or for a
    fitness function."""
    obs_norm: ObsNorm | None = None
    """The observation statistics of a run with ``config.obs_norm`` (else None)."""

    @classmethod
    def start(
        cls,
        cfg: EvolveConfig,
        fitness: FitnessFunction | None = None,
        io: tuple[int, int] | None = None,
    ) -> Run:
        """A fresh run: the initial population drawn from ``cfg.seed``.

        For a fitness function, pass it with ``io = (inputs, outputs)``, the network's
        sizes; ``cfg.game`` must then be ``"custom"``.
        """
        if (fitness is None) != (io is None):
            raise ValueError("a fitness function needs io=(inputs, outputs), and only it does")
        if fitness is not None and cfg.game != CUSTOM:
            raise ValueError(f'a fitness function runs with game="{CUSTOM}", not {cfg.game!r}')
        cfg.validate(io=io)
        game = None if fitness is not None else cfg.game_spec()
        check_fits(cfg, game, io)
        topo = cfg.topology(game, io)
        norm = ObsNorm.empty(topo.n_in) if cfg.obs_norm else None
        return cls(cfg, topo, game, start_search(cfg, topo), fitness=fitness, obs_norm=norm)

    def playable(self, genomes: np.ndarray) -> np.ndarray:
        """The networks ``(P, D)`` or ``(D,)`` that play as the strategy's ``genomes`` do:
        with observation normalisation, the current statistics folded into their first
        layer (:mod:`evonet.evolution.obs_norm`); else ``genomes`` themselves."""
        return genomes if self.obs_norm is None else self.obs_norm.fold(genomes, self.topology)

    @property
    def ga(self) -> Strategy:
        """The run's :attr:`strategy` (the name from when the GA was the only one)."""
        return self.strategy

    @property
    def generation(self) -> int:
        """Generations finished so far."""
        return self.strategy.generation

    def __repr__(self) -> str:
        game = self.game.describe() if self.game is not None else "fitness function"
        best = self.strategy.best_fitness
        return (
            f"Run({game}, network {'-'.join(map(str, self.topology.sizes))}, generation "
            f"{self.generation}/{self.config.generations}, best fitness {best})"
        )

    @property
    def curriculum_end(self) -> int:
        """The first generation that plays the run's own game: ``config.curriculum`` when
        the game has an easier version (:meth:`GameSpec.easier`), else 0."""
        if self.game is None or self.game.easier() is None:
            return 0
        return self.config.curriculum

    def game_at(self, generation: int) -> GameSpec | None:
        """The game generation ``generation`` plays: the easier version during the
        curriculum, then the run's own (:attr:`game`)."""
        if self.game is not None and generation < self.curriculum_end:
            return self.game.easier()
        return self.game

    @property
    def score_name(self) -> str:
        """What the game's score counts (``apples``, ``return``; ``score`` for a fitness
        function, where it is the fitness)."""
        return self.game.score_name if self.game is not None else "score"

    @property
    def fields(self) -> tuple[str, ...]:
        """The history's columns."""
        return history_fields(self.score_name, self.strategy.figure_names)

    def evaluate(
        self,
        genomes: np.ndarray,
        generation: int,
        evaluator: Evaluator | None = None,
        observe: bool = False,
    ) -> RolloutResult:
        """Score genomes ``(P, D)`` as generation ``generation`` does, a race
        (:func:`evonet.evolution.rollout.race`) when :meth:`EvolveConfig.raced` says so; a
        game's rollouts run on ``evaluator`` (default: in this process), summing the
        observations too with ``observe``."""
        cfg = self.config
        if self.game is None and self.fitness is None:
            raise ValueError(
                "this run was evolved on a Python fitness function: load it with "
                "evonet.load_run(path, fitness=...) to evaluate or resume it"
            )
        if self.fitness is None:
            assert self.game is not None
            seeds = generation_seeds(cfg.seed, generation, cfg.episodes_at(generation))
            game = self.game_at(generation)
            options = {"observe": True} if observe else {}  # any evaluator takes none
            play, top = evaluator or rollout, cfg.raced(generation)
            if top:
                return race(play, genomes, self.topology, game, seeds, cfg.episodes, top, **options)
            return play(genomes, self.topology, game, seeds, **options)
        values = np.asarray(self.fitness(genomes), dtype=np.float64)
        p = genomes.shape[0]
        if values.shape != (p,):
            raise ValueError(f"the fitness function returned shape {values.shape}, not ({p},)")
        # NaN marks a genome that could not be scored (the GA ranks it last); an infinity
        # or nothing scorable at all is a bug in the function, better said now than at save.
        if np.isinf(values).any() or np.isnan(values).all():
            bad = np.flatnonzero(~np.isfinite(values))[:5].tolist()
            raise ValueError(
                f"the fitness function returned non-finite values (genomes {bad}...); "
                "use NaN only for a genome that cannot be scored"
            )
        zeros = np.zeros((p, 1), dtype=np.int64)
        return from_episodes(values[:, None], values[:, None], zeros, zeros.astype(bool))

    def pick_champion(self, evaluator: Evaluator | None = None) -> Champion | None:
        """Pick the run's champion from the last generation's elites and the best genome so
        far (with ``champion_heats``, the GA's last children too: the best ``parents`` of
        them on that many episodes join the elites and the best so far): each plays the same
        ``champion_episodes`` fresh episodes (never a generation's), and the one that wins
        the most of them wins (Snake's full boards), then the best mean fitness, then the
        first. A snake that loses rarely but early can score fewer apples than one that
        loses more often near the end; the target is the full board.

        The best genome so far is the best on one generation's few episodes, and late in a
        run many genomes score the most possible there, so it is often the luckiest rather
        than the best; a hundred more episodes tell them apart. The last generation's
        children, never scored, differ from their parents by a little noise, and on a board
        larger than the one they evolved on, that little can matter (docs/evolving.md).
        Sets and returns :attr:`champion`; None (and nothing played) for a fitness
        function, with ``champion_episodes = 0``, or before the first generation.
        """
        cfg = self.config
        if self.game is None or cfg.champion_episodes == 0 or self.generation == 0:
            return None
        candidates, labels = self.champion_pool()
        candidates, pool = self.playable(candidates), len(candidates)
        play, children = evaluator or rollout, self.champion_children(pool)
        heats = cfg.champion_heats if children.size > cfg.parents else 0
        seeds = champion_seeds(cfg.seed, cfg.champion_episodes + heats)
        if heats:
            # The elites and the best so far have proved themselves on a generation's
            # episodes: they go straight on. The children race for the other places.
            young = candidates[children]
            heat = play(young, self.topology, self.game, seeds[cfg.champion_episodes :])
            won = children[by_wins(heat)[: cfg.parents]]
            final = np.union1d(np.setdiff1d(np.arange(pool), children), won)
            candidates, labels = candidates[final], [labels[k] for k in final]
        result = play(candidates, self.topology, self.game, seeds[: cfg.champion_episodes])
        i = int(by_wins(result)[0])
        record = {
            "episodes": cfg.champion_episodes,
            "fitness": float(result.fitness[i]),
            f"mean_{self.score_name}": float(result.score[i]),
            "wins": int(result.episode_won[i].sum()),
            "picked": labels[i],
            "candidates": pool,
            "heats": heats,  # episodes the children played, before the best went on
        }
        self.champion = Champion(candidates[i].copy(), record)
        return self.champion

    def champion_children(self, pool: int) -> np.ndarray:
        """Indices ``(C,)`` of the last generation's children in :meth:`champion_pool`'s
        ``pool`` genomes (none without ``champion_heats``): they follow the elites, and the
        best genome so far comes last."""
        if not (self.config.champion_heats and isinstance(self.strategy, GA)):
            return np.arange(0)
        return np.arange(self.config.elite, pool - 1)

    def champion_pool(self) -> tuple[np.ndarray, list[str]]:
        """The genomes ``(C, D)`` that may become the champion, and what each is: the
        strategy's candidates, and with ``champion_heats`` for the GA, its last
        generation's children too (the elites lead its population)."""
        candidates, labels = self.strategy.candidates()
        if not (self.config.champion_heats and isinstance(self.strategy, GA)):
            return candidates, labels
        elite, population = self.config.elite, self.strategy.population
        children = [f"child {k + 1} of the last generation" for k in range(len(population) - elite)]
        genomes = np.concatenate([candidates[:-1], population[elite:], candidates[-1:]])
        return genomes, [*labels[:-1], *children, labels[-1]]


def by_wins(result: RolloutResult) -> np.ndarray:
    """Indices ``(P,)`` of ``result``'s genomes, best first: the most episodes won, then
    the best mean fitness (NaN last), then index order. A game without wins (Gymnasium's)
    ranks by fitness alone."""
    order = rank(result.fitness)
    wins = result.episode_won.sum(axis=1)
    return order[np.argsort(-wins[order], kind="stable")]


def start_search(cfg: EvolveConfig, topo: Topology) -> Strategy:
    """The run's strategy at generation 0, drawn from ``cfg.seed``: the GA's population of
    networks initialised as :func:`evonet.nn.mlp.init` does, or an evolution strategy's
    distribution centred on one such network."""
    rng = np.random.default_rng(cfg.seed)
    settings = cfg.search()
    if isinstance(settings, GAConfig):
        return GA(settings, mlp.init(topo, rng, n=cfg.population, dtype=np.float32), rng)
    mean = mlp.init(topo, rng, n=1, dtype=np.float64)[0]
    return strategy_class(cfg.strategy)(settings, mean, rng)


def generation_bytes(cfg: EvolveConfig, game: GameSpec | None, topo: Topology) -> int:
    """An upper estimate of the memory one generation needs: its strategy's ask and tell,
    and the larger of its rollout and the champion's pick."""
    need = cfg.search().memory_bytes(topo.n_params)
    if game is not None:
        generation = rollout_bytes(cfg.population, cfg.most_episodes, topo, game, cfg.obs_norm)
        candidates = cfg.elite + 1 if cfg.strategy == "ga" else 2
        pick = rollout_bytes(candidates, cfg.champion_episodes, topo, game)
        if cfg.champion_heats and cfg.strategy == "ga":
            heats = rollout_bytes(cfg.population - cfg.elite, cfg.champion_heats, topo, game)
            finalists = cfg.parents + cfg.elite + 1
            pick = max(heats, rollout_bytes(finalists, cfg.champion_episodes, topo, game))
        need += max(generation, pick)
    return need


def check_fits(
    cfg: EvolveConfig, game: GameSpec | None = None, io: tuple[int, int] | None = None
) -> None:
    """Raise :class:`evonet.memory.OverBudget` (a ValueError) unless one generation of a
    run with ``cfg`` on ``game`` (or, for a fitness function, a network of ``io``) fits in
    this machine's memory; nothing is allocated to find out."""
    if io is None and game is None:
        game = cfg.game_spec()
    topo = cfg.topology(game, io)
    where = f" on {game.describe()}" if game is not None else ""
    board = ", --board-episodes" if cfg.board_episodes else ""
    check_memory(
        generation_bytes(cfg, game, topo),
        f"population {cfg.population} x {count(cfg.most_episodes, 'episode')} with a "
        f"{'-'.join(map(str, topo.sizes))} network{where}",
        f"lower --population, --episodes, --late-episodes{board} or --hidden",
    )


def _workers(evaluator: Evaluator | None, game: GameSpec | None) -> int:
    """The processes a generation ran on: 1 for a fitness function (always in this
    process) or a game an evaluator does not split."""
    used = getattr(evaluator, "workers_used", None)
    return used(game) if used is not None and game is not None else 1


def _start_workers(evaluator: Evaluator | None, game: GameSpec | None) -> None:
    """Start an evaluator's worker processes or Ray connection now, if it will use them, so
    that the first generation's time is its own."""
    start = getattr(evaluator, "start", None)
    if start is not None and _workers(evaluator, game) > 1:
        start()


def generation_seeds(seed: int, generation: int, episodes: int) -> np.ndarray:
    """``(E,)`` episode seeds of one generation: new every generation, and a pure function
    of ``(seed, generation)`` so that a resumed run plays the very same episodes."""
    return np.random.SeedSequence([seed, generation]).generate_state(episodes, dtype=np.uint64)


# Beyond any generation number (at most 200,000): the champion's episodes are never played
# by a generation.
CHAMPION_STREAM = 2**32


def champion_seeds(seed: int, episodes: int) -> np.ndarray:
    """``(E,)`` seeds of the episodes that pick a run's champion (:meth:`Run.pick_champion`):
    a pure function of the run's seed, so a resumed run picks the same champion."""
    return np.random.SeedSequence([seed, CHAMPION_STREAM]).generate_state(episodes, dtype=np.uint64)


class Reporter:
    """Base class of run observers; every hook is a no-op."""

    def on_start(self, run: Run) -> None:
        """Before the first generation of this process (fresh or resumed)."""

    def on_generation(self, run: Run, record: dict, result: RolloutResult) -> None:
        """After each generation has been evaluated and told to the GA."""

    def on_picking(self, run: Run) -> None:
        """Before the champion is picked (:meth:`Run.pick_champion`): it plays a while."""

    def on_end(self, run: Run, reason: str) -> None:
        """After the loop and the champion's pick (:attr:`Run.champion`, none when
        interrupted): ``reason`` is ``finished``, ``time limit`` or ``interrupted``."""

    def on_abort(self, run: Run, error: BaseException) -> None:
        """The loop stopped with ``error`` (a full disk, a second Ctrl-C); the run holds
        the last generation that finished. Nothing is written after this."""


def evolve(
    run: Run,
    reporters: Sequence[Reporter] = (),
    should_stop: Callable[[], bool] = lambda: False,
    evaluator: Evaluator | None = None,
) -> str:
    """Run generations until ``run.config.generations`` or the time limit, then pick the
    champion.

    ``should_stop`` is checked between generations (a signal handler sets it); a generation
    in progress always finishes, so the run state is never half-updated. ``evaluator``
    says where a game's rollouts run (:mod:`evonet.evolution.evaluators`); results do not
    depend on it.

    Returns:
        why the loop ended: ``finished``, ``time limit`` or ``interrupted``.
    """
    _start_workers(evaluator, run.game)  # before the clock: start-up is no generation's
    start = time.perf_counter()  # the time limit counts from here
    try:
        for r in reporters:
            r.on_start(run)
        reason = _generations(run, reporters, should_stop, evaluator, start)
        # An interrupted run is resumed or abandoned: people wait for it, so no pick. A
        # resumed run that finishes picks the same champion as one that ran straight through.
        run.champion = None
        if reason != "interrupted" and run.game is not None and run.config.champion_episodes:
            for r in reporters:
                r.on_picking(run)
            run.pick_champion(evaluator)
        for r in reporters:
            r.on_end(run, reason)
    except BaseException as e:
        for r in reporters:
            r.on_abort(run, e)
        raise
    return reason


def _generations(
    run: Run,
    reporters: Sequence[Reporter],
    should_stop: Callable[[], bool],
    evaluator: Evaluator | None,
    start: float,
) -> str:
    """The loop of :func:`evolve`, until the last generation, the time limit (counted
    from ``start``, a ``time.perf_counter()``) or a stop."""
    cfg = run.config
    while run.generation < cfg.generations:
        if should_stop():
            return "interrupted"
        if cfg.time_limit and time.perf_counter() - start >= cfg.time_limit:
            return "time limit"
        record, result = _one_generation(run, evaluator)
        run.history.append(record)
        for r in reporters:
            r.on_generation(run, record, result)
    return "finished"


def _best_of(score: np.ndarray, ranked: np.ndarray) -> float:
    """The best ``score (P,)`` of the genomes ranked (finite ``ranked (P,)``): in a race,
    of those that played every episode."""
    return float(np.nanmax(np.where(np.isfinite(ranked), score, np.nan)))


def _one_generation(run: Run, evaluator: Evaluator | None) -> tuple[dict, RolloutResult]:
    """Ask, evaluate, tell: one generation, and its history record."""
    t0, gen = time.perf_counter(), run.generation
    norm = run.obs_norm
    result = run.evaluate(run.playable(run.strategy.ask()), gen, evaluator, norm is not None)
    if gen == run.curriculum_end and gen > 0:
        # Fitness on the easier game does not compare with the run's own: the best
        # genome so far is the best on the run's game, from its first generation on.
        run.strategy.forget_best()
    ranked = result.selection_fitness
    run.strategy.tell(ranked)
    if norm is not None and result.obs_stats is not None:
        norm.update(result.obs_stats)  # frozen while the generation played
    seconds = time.perf_counter() - t0
    record = {
        "generation": gen,
        # The best of a race is the best of the genomes that played every episode; the
        # mean and median are over what each genome played.
        "best_fitness": float(np.nanmax(ranked)),
        "mean_fitness": float(np.nanmean(result.fitness)),
        "median_fitness": float(np.nanmedian(result.fitness)),
        f"best_{run.score_name}": _best_of(result.score, ranked),
        f"mean_{run.score_name}": float(np.nanmean(result.score)),
        **run.strategy.figures(),
        "seconds": round(seconds, 4),
        "agent_steps_per_s": round(result.agent_steps / seconds, 1),
        "workers": _workers(evaluator, run.game),
    }
    return record, result
