import dataclasses
from unittest.mock import ANY

import numpy as np

from evonet.evolution.config import EvolveConfig
from evonet.evolution.reporters import HistoryReporter
from evonet.evolution.rollout import rollout
from evonet.evolution.run import Run, by_wins, champion_seeds, evolve, generation_seeds
from evonet.games.base import episode_seeds
from evonet.games.snake import Snake, SnakeSpec
from evonet.storage.history import history_fields
from tests.helpers import history_rows

TINY = EvolveConfig(
    generations=4, population=24, elite=2, parents=6, episodes=2, board=(6, 6), hidden=(8,)
)


def deterministic_columns(path):
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    assert header == list(history_fields("apples"))
    return history_rows(path)[1:]


def test_same_seed_gives_identical_history_csv(tmp_path):
    runs = []
    for name in ("a", "b", "c"):
        cfg = dataclasses.replace(TINY, seed=1 if name != "c" else 2)
        run = Run.start(cfg)
        evolve(run, [HistoryReporter(tmp_path / f"{name}.csv")])
        runs.append(run)
    a, b, c = (deterministic_columns(tmp_path / f"{n}.csv") for n in "abc")
    assert len(a) == 4 and a == b and a != c
    np.testing.assert_array_equal(runs[0].ga.population, runs[1].ga.population)


def test_each_generation_plays_new_seeds():
    s0, s1 = generation_seeds(0, 0, 4), generation_seeds(0, 1, 4)
    assert s0.shape == (4,) and not np.array_equal(s0, s1)
    np.testing.assert_array_equal(s0, generation_seeds(0, 0, 4))


def random_policy_apples(width, height, seeds, seed=0):
    env = Snake(seeds.size, width, height)
    env.reset(seed=seeds)
    rng = np.random.default_rng(seed)
    while env.alive.any():
        env.step(rng.integers(0, 3, seeds.size))
    return env.apples.mean()


def test_short_evolution_clearly_beats_a_random_policy():
    cfg = EvolveConfig(
        generations=15,
        population=80,
        elite=4,
        parents=16,
        episodes=3,
        board=(6, 6),
        hidden=(8,),
        seed=0,
    )
    run = Run.start(cfg)
    evolve(run)
    seeds = episode_seeds(999, 200)
    champion = rollout(run.ga.best_genome[None], run.topology, run.game, seeds).score[0]
    random = random_policy_apples(6, 6, seeds)
    assert random < 0.5
    assert champion > 2.0 + 4 * random, (champion, random)
    assert run.history[-1]["mean_apples"] > run.history[0]["mean_apples"]


def test_time_limit_stops_between_generations():
    run = Run.start(dataclasses.replace(TINY, generations=1000, time_limit=0.3))
    assert evolve(run) == "time limit"
    assert 1 <= run.generation < 1000 and len(run.history) == run.generation


def test_stop_request_ends_after_a_whole_generation():
    run = Run.start(TINY)
    calls = []
    reason = evolve(run, should_stop=lambda: len(calls.append(1) or calls) > 2)
    assert reason == "interrupted" and run.generation == 2


def test_the_champion_is_the_best_candidate_on_fresh_episodes(tmp_path):
    from evonet.evolution.files import load_network
    from evonet.evolution.reporters import BestGenomeReporter

    cfg = dataclasses.replace(TINY, generations=6, elite=3, champion_episodes=30)
    run = Run.start(cfg)
    evolve(run, [BestGenomeReporter(tmp_path / "best.npz")])
    champion = run.champion
    assert champion is not None and champion.record["episodes"] == 30
    # The candidates, replayed by hand: the last generation's elites, then the best so far.
    candidates = np.concatenate([run.ga.population[:3], run.ga.best_genome[None]])
    seeds = champion_seeds(cfg.seed, 30)
    assert not set(seeds) & {s for g in range(6) for s in generation_seeds(cfg.seed, g, 2)}
    result = rollout(candidates, run.topology, run.game, seeds)
    best = int(np.argmax(result.fitness))
    np.testing.assert_array_equal(champion.genome, candidates[best])
    assert champion.record["fitness"] == result.fitness.max()
    assert champion.record["mean_apples"] == result.score[best]
    # best.npz is the champion, and says how it was picked.
    theta, _, meta = load_network(tmp_path / "best.npz")
    np.testing.assert_array_equal(theta, champion.genome)
    assert meta["info"]["champion"] == champion.record
    assert meta["info"]["fitness"] == champion.record["fitness"]


def test_no_champion_is_picked_when_interrupted_or_asked_not_to():
    run = Run.start(TINY)
    evolve(run, should_stop=lambda: run.generation >= 2)
    assert run.champion is None
    run = Run.start(dataclasses.replace(TINY, champion_episodes=0))
    evolve(run)
    assert run.champion is None


def test_a_resumed_run_picks_the_same_champion():
    straight = Run.start(TINY)
    evolve(straight)
    resumed = Run.start(TINY)
    evolve(resumed, should_stop=lambda: resumed.generation >= 2)
    evolve(resumed)
    assert straight.champion is not None and resumed.champion is not None
    np.testing.assert_array_equal(straight.champion.genome, resumed.champion.genome)
    assert straight.champion.record == resumed.champion.record


def test_by_wins_ranks_the_most_wins_first_then_fitness():
    from evonet.evolution.rollout import from_episodes

    # Genome 0 scores the most but wins once; 1 and 2 win twice (2 scores more); 3 is NaN.
    fitness = np.array([[99.0, 98.0], [97.0, 97.0], [97.0, 97.5], [np.nan, np.nan]])
    won = np.array([[True, False], [True, True], [True, True], [False, False]])
    steps = np.ones((4, 2), dtype=np.int64)
    result = from_episodes(fitness, fitness, steps, won)
    assert by_wins(result).tolist() == [2, 1, 0, 3]
    # Without wins (a Gymnasium game), fitness alone.
    result = from_episodes(fitness, fitness, steps, np.zeros_like(won))
    assert by_wins(result).tolist() == [0, 2, 1, 3]


def test_the_champion_is_picked_from_the_whole_last_population_after_heats():

    run = Run.start(dataclasses.replace(TINY, champion_episodes=20))
    evolve(run)
    record, e = run.champion.record, 20
    assert record["candidates"] == TINY.population + 1 and record["heats"] == 10
    pool, labels = run.champion_pool()
    assert labels[0] == "elite 1 of the last generation" and labels[-1] == "the best genome so far"
    assert labels[TINY.elite] == "child 1 of the last generation"
    seeds = champion_seeds(TINY.seed, e + 10)
    # Only the children play the heats; the elites and the best so far go straight on.
    children = np.arange(TINY.elite, len(pool) - 1)
    heat = rollout(pool[children], run.topology, run.game, seeds[e:])
    won = children[by_wins(heat)[: TINY.parents]]
    best = np.concatenate([np.arange(TINY.elite), np.sort(won), [len(pool) - 1]])
    final = rollout(pool[best], run.topology, run.game, seeds[:e])
    i = int(by_wins(final)[0])
    assert final.episode_won[i].sum() == final.episode_won.sum(axis=1).max()
    np.testing.assert_array_equal(run.champion.genome, pool[best][i])
    assert record["picked"] == labels[best[i]] and record["fitness"] == final.fitness[i]
    # Without heats, the elites and the best genome so far play the same episodes.
    plain = Run.start(dataclasses.replace(TINY, champion_episodes=20, champion_heats=0))
    evolve(plain)
    assert plain.champion.record["candidates"] == TINY.elite + 1
    assert plain.champion.record["heats"] == 0


def test_a_big_board_run_evolves_as_the_10x10_run_of_its_seed():
    # With the curriculum as long as the run, a 12x12 run plays 10x10 throughout: the same
    # populations as the 10x10 run, so the boards differ only in where the pick plays.
    small = dataclasses.replace(TINY, board=(10, 10), generations=3, champion_episodes=0)
    big = dataclasses.replace(small, board=(12, 12), curriculum=3)
    runs = [Run.start(cfg) for cfg in (small, big)]
    for run in runs:
        evolve(run)
    np.testing.assert_array_equal(runs[0].strategy.population, runs[1].strategy.population)
    assert [h["best_fitness"] for h in runs[0].history] == [
        h["best_fitness"] for h in runs[1].history
    ]


# 12x12 has more cells than 10x10, so its first generations play 10x10.
CURRICULUM = dataclasses.replace(TINY, board=(12, 12), curriculum=2, generations=4)


def test_a_curriculum_plays_the_easier_board_first_then_the_runs_own():
    run = Run.start(CURRICULUM)
    assert run.curriculum_end == 2
    genomes = run.ga.ask()
    for gen, board in [(0, (10, 10)), (1, (10, 10)), (2, (12, 12)), (3, (12, 12))]:
        assert run.game_at(gen) == SnakeSpec(board=board)
        seeds = generation_seeds(CURRICULUM.seed, gen, CURRICULUM.episodes)
        expected = rollout(genomes, run.topology, SnakeSpec(board=board), seeds)
        np.testing.assert_array_equal(run.evaluate(genomes, gen).fitness, expected.fitness)
    # None on a board no larger than 10x10, nor when asked for none.
    small = Run.start(TINY)
    assert small.curriculum_end == 0 and small.game_at(0) == SnakeSpec(board=(6, 6))
    assert Run.start(dataclasses.replace(CURRICULUM, curriculum=0)).curriculum_end == 0


def test_after_the_curriculum_a_genome_plays_the_board_episodes():
    cfg = dataclasses.replace(
        CURRICULUM, late_episodes=3, late_from=1, board_episodes=5, late_share=1.0
    )
    run = Run.start(cfg)
    genomes = run.ga.ask()
    for gen, episodes in [(0, 2), (1, 3), (2, 5), (3, 5)]:
        result = run.evaluate(genomes, gen)
        assert result.episode_won.shape == (cfg.population, episodes)
        seeds = generation_seeds(cfg.seed, gen, episodes)
        expected = rollout(genomes, run.topology, run.game_at(gen), seeds)
        np.testing.assert_array_equal(result.fitness, expected.fitness)
    # The curriculum's generations are those of a run without board episodes.
    plain = Run.start(dataclasses.replace(cfg, board_episodes=0))
    evolve(run)
    evolve(plain)
    timing = {"seconds": ANY, "agent_steps_per_s": ANY}
    assert run.history[:2] == [{**r, **timing} for r in plain.history[:2]]
    assert run.history[2]["mean_fitness"] != plain.history[2]["mean_fitness"]


def test_the_best_genome_so_far_is_the_best_on_the_runs_own_board():
    run = Run.start(CURRICULUM)
    evolve(run, should_stop=lambda: run.generation >= 2)
    run.ga.best_fitness = 1e9  # beyond any fitness: only forgetting it lets 12x12 set it
    evolve(run)
    assert run.ga.best_fitness == max(r["best_fitness"] for r in run.history[2:])
    # The champion is picked on the run's own board.
    seeds = champion_seeds(CURRICULUM.seed, CURRICULUM.champion_episodes)
    again = rollout(run.champion.genome[None], run.topology, SnakeSpec(board=(12, 12)), seeds)
    assert again.fitness[0] == run.champion.record["fitness"]


# Two generations of 2 episodes a genome, then two of 5 for every genome (no race).
LATE = dataclasses.replace(TINY, late_episodes=5, late_from=2, late_share=1.0)


def test_generations_from_late_from_on_play_the_late_episodes():
    assert [LATE.episodes_at(g) for g in range(4)] == [2, 2, 5, 5]
    assert [dataclasses.replace(LATE, late_episodes=0).episodes_at(g) for g in (0, 3)] == [2, 2]
    run = Run.start(LATE)
    genomes = run.ga.ask()
    for gen, episodes in [(1, 2), (2, 5)]:
        result = run.evaluate(genomes, gen)
        assert result.episode_won.shape == (TINY.population, episodes)
        seeds = generation_seeds(LATE.seed, gen, episodes)
        expected = rollout(genomes, run.topology, run.game, seeds)
        np.testing.assert_array_equal(result.fitness, expected.fitness)
    # Late episodes change the run from late_from on, and only from there.
    late, plain = Run.start(LATE), Run.start(dataclasses.replace(LATE, late_episodes=0))
    evolve(late)
    evolve(plain)
    timing = {"seconds": ANY, "agent_steps_per_s": ANY}
    assert late.history[:2] == [{**r, **timing} for r in plain.history[:2]]
    assert late.history[3]["mean_fitness"] != plain.history[3]["mean_fitness"]


# A race from generation 2 on: every genome plays 2 episodes, the best 8 of 24 all 5.
RACE = dataclasses.replace(LATE, late_share=0.3)


def test_a_race_plays_the_rest_of_the_episodes_for_the_best_only():
    from evonet.evolution.rollout import race
    from evonet.search.ga import rank

    run = Run.start(RACE)
    genomes = run.ga.ask()
    assert [RACE.raced(g) for g in range(4)] == [0, 0, 8, 8]
    seeds = generation_seeds(RACE.seed, 2, 5)
    result = run.evaluate(genomes, 2)
    np.testing.assert_array_equal(
        result.fitness, race(rollout, genomes, run.topology, run.game, seeds, 2, 8).fitness
    )
    heats = rollout(genomes, run.topology, run.game, seeds[:2])
    best = np.sort(rank(heats.fitness)[:8])
    whole = rollout(genomes[best], run.topology, run.game, seeds)
    assert np.flatnonzero(result.finished).tolist() == best.tolist()
    np.testing.assert_allclose(result.fitness[best], whole.fitness, rtol=1e-12)
    np.testing.assert_array_equal(result.episode_won[best], whole.episode_won)
    # The others played the first two episodes only, and rank below every finisher.
    out = ~result.finished
    np.testing.assert_array_equal(result.fitness[out], heats.fitness[out])
    assert np.isnan(result.episode_fitness[out, 2:]).all() and not result.episode_won[out, 2:].any()
    assert (result.episode_steps[out, 2:] == 0).all()
    assert set(rank(result.selection_fitness)[:8].tolist()) == set(best.tolist())
    assert result.agent_steps == heats.agent_steps + int(whole.episode_steps[:, 2:].sum())


def test_selection_takes_its_parents_from_the_genomes_that_played_every_episode():
    race, plain = Run.start(RACE), Run.start(dataclasses.replace(RACE, late_share=1.0))
    evolve(race, should_stop=lambda: race.generation >= 2)
    asked = race.ga.ask().copy()
    finished = race.evaluate(asked, 2).finished
    evolve(race)
    evolve(plain)
    timing = {"seconds": ANY, "agent_steps_per_s": ANY}
    assert race.history[:2] == [{**r, **timing} for r in plain.history[:2]]
    assert race.history[2]["mean_fitness"] != plain.history[2]["mean_fitness"]
    assert np.isnan(race.ga.fitness).sum() == 24 - 8  # knocked out: no full fitness
    # Generation 3's elites, copied unchanged, are genomes that played all 5 episodes.
    again = Run.start(RACE)
    evolve(again, should_stop=lambda: again.generation >= 3)
    for elite in again.ga.ask()[: RACE.elite]:
        assert any(np.array_equal(elite, g) for g in asked[finished])
    # Never fewer than the parents and elites selection takes; no race for a strategy that
    # weighs every genome, for tournaments drawn from everyone, or without more episodes.
    assert dataclasses.replace(RACE, late_share=0.01).raced(2) == RACE.parents
    for change in ({"strategy": "snes"}, {"selection": "tournament"}, {"late_episodes": 2}):
        assert dataclasses.replace(RACE, **change).raced(3) == 0, change
    assert dataclasses.replace(RACE, late_share=0.99).raced(3) == 0  # all 24 play them all
    # The share of the population rounds up, but not by floating point's last bit.
    big = dataclasses.replace(RACE, population=300, late_share=0.34)
    assert big.raced(3) == 102 and dataclasses.replace(big, late_share=0.341).raced(3) == 103


def test_a_race_gives_the_same_numbers_on_any_number_of_workers():
    from evonet.evolution.evaluators.processes import ProcessEvaluator

    serial, split = Run.start(RACE), Run.start(RACE)
    evolve(serial)
    with ProcessEvaluator(2) as ev:
        evolve(split, evaluator=ev)
    np.testing.assert_array_equal(serial.ga.population, split.ga.population)
    np.testing.assert_array_equal(serial.ga.fitness, split.ga.fitness)


def test_the_fitness_plot_marks_the_curriculum_end_and_the_late_episodes():
    from evonet.evolution.reporters import _switches

    assert _switches(Run.start(LATE)) == [(2, "5 episodes a genome")]
    both = dataclasses.replace(CURRICULUM, late_episodes=3, late_from=1, late_share=1.0)
    assert _switches(Run.start(both)) == [(2, "snake 12x12"), (1, "3 episodes a genome")]
    assert _switches(Run.start(dataclasses.replace(LATE, late_episodes=2))) == []  # no change
    assert _switches(Run.start(dataclasses.replace(LATE, late_from=0))) == []  # from the start
    assert _switches(Run.start(TINY)) == [(350, "64 episodes for the best 6")]  # beyond its end
    assert _switches(Run.start(RACE)) == [(2, "5 episodes for the best 8")]


def assert_resumes_identically(cfg, tmp_path, stop_at=1):
    """A run of ``cfg`` stopped after ``stop_at`` generations, saved, loaded and finished
    ends exactly as one that ran straight through; returns the resumed run."""
    from evonet.evolution.files import load_run, save_run

    straight = Run.start(cfg)
    evolve(straight)
    first = Run.start(cfg)
    evolve(first, should_stop=lambda: first.generation >= stop_at)
    save_run(tmp_path / "latest.npz", first)
    resumed = load_run(tmp_path / "latest.npz")
    evolve(resumed)
    np.testing.assert_array_equal(straight.ga.population, resumed.ga.population)
    np.testing.assert_array_equal(straight.ga.best_genome, resumed.ga.best_genome)
    columns = ("best_fitness", "mean_fitness", "best_apples")
    assert [[r[c] for c in columns] for r in straight.history] == [
        [r[c] for c in columns] for r in resumed.history
    ]
    assert straight.champion.record == resumed.champion.record
    return resumed


def test_a_run_resumed_across_the_curriculum_end_is_identical(tmp_path):
    assert_resumes_identically(CURRICULUM, tmp_path)


def test_a_run_resumed_across_late_from_is_identical(tmp_path):
    resumed = assert_resumes_identically(LATE, tmp_path)
    assert resumed.config.late_episodes == 5 and resumed.config.late_from == 2
    assert assert_resumes_identically(RACE, tmp_path, stop_at=3).config.late_share == 0.3


def test_progress_shows_no_false_eta_and_runs_over_a_time_limit():
    import io

    from evonet.evolution.reporters import ProgressReporter

    out = io.StringIO()
    evolve(Run.start(TINY), [ProgressReporter(out)])
    last = out.getvalue().split("\r")[-1]
    assert "4/4 generations [" in last and "gen/min=" in last and "<" not in last
    out = io.StringIO()
    run = Run.start(dataclasses.replace(TINY, generations=100_000, time_limit=0.3))
    evolve(run, [ProgressReporter(out)])
    last = out.getvalue().split("\r")[-1]
    assert "of the 00:00 time limit" in last and f"generation={run.generation}/100000" in last


class StartingEvaluator:
    """Plays here, but keeps the log of a sharding evaluator's start and calls."""

    def __init__(self, workers):
        self.workers, self.log = workers, []

    def workers_used(self, game):
        return self.workers

    def start(self):
        self.log.append("start")

    def __call__(self, genomes, topo, game, seeds, observe=False):
        self.log.append("play")
        return rollout(genomes, topo, game, seeds, observe=observe)


def test_workers_start_before_the_first_generation_is_timed():
    """Start-up belongs to no generation: the workers start before the first one's clock,
    and only when a generation will use more than one of them."""
    for workers, log in ((2, ["start", "play"]), (1, ["play"])):
        evaluator = StartingEvaluator(workers)
        evolve(Run.start(dataclasses.replace(TINY, generations=1, champion_episodes=0)),
               evaluator=evaluator)  # fmt: skip
        assert evaluator.log == log


def test_gen_per_min_is_the_generations_own_time():
    import io

    from evonet.evolution.reporters import ProgressReporter
    from evonet.evolution.run import _one_generation

    run = Run.start(dataclasses.replace(TINY, generations=2))
    progress = ProgressReporter(io.StringIO())
    progress.on_start(run)
    for _ in range(2):  # the records' own seconds set gen/min, not the wall clock
        record, result = _one_generation(run, None)
        progress.on_generation(run, {**record, "seconds": 30.0}, result)
    assert "gen/min=2.00" in progress.bar.postfix


def test_the_bar_fits_80_columns_dropping_the_least_important_fields_first():
    import io

    from evonet.evolution.reporters import ProgressReporter

    def last_line(cfg, columns):
        out = io.StringIO()
        evolve(Run.start(cfg), [ProgressReporter(out, columns=columns)])
        lines = out.getvalue().replace("\n", "\r").split("\r")
        return [line for line in lines if "snake 6x6: " in line][-1]

    wide = last_line(TINY, None)  # no terminal: every field, by its full name
    assert wide.startswith("evolve snake 6x6: ") and "4/4 generations [" in wide
    assert all(f in wide for f in ("best_apples=", "mean_apples=", "gen/min=", "workers="))
    for columns in (80, 72):
        narrow = last_line(TINY, columns)
        assert len(narrow) <= columns and narrow.startswith("snake 6x6: 100%|##########|")
        assert "4/4 gen [" in narrow and "best=" in narrow and "mean=" in narrow
        assert "workers=" not in narrow  # the last field goes first
    limited = last_line(dataclasses.replace(TINY, generations=100_000, time_limit=0.3), 80)
    assert len(limited) <= 80 and "/00:00, gen=" in limited and "best=" in limited
