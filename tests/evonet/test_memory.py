"""The memory budget: the limit it reads, its estimates, and refusals before allocating."""

import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

from evonet.evolution import compiled_play
from evonet.evolution.config import EvolveConfig
from evonet.evolution.rollout import rollout, rollout_bytes
from evonet.evolution.run import Run, generation_seeds
from evonet.memory import OverBudget, check_memory, format_bytes, memory_limit
from tests.helpers import evonet_limited


def test_format_bytes():
    assert format_bytes(512) == "512 bytes"
    assert format_bytes(3 * 1024**4 + 10**11) == "3.1 TiB"
    assert format_bytes(1.5 * 1024**2) == "1.5 MiB"
    assert format_bytes(2.0**110) == "1.2e+18 PiB"  # not a 19-digit number


def test_the_limit_is_at_most_the_machines_memory():
    limit, what = memory_limit()
    assert 0 < limit <= os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert what


def test_check_memory_names_the_size_and_the_limit():
    limit, _ = memory_limit()
    check_memory(limit // 2, "half")
    with pytest.raises(OverBudget, match=r"^twice would need .* of memory, more than the"):
        check_memory(2 * limit, "twice")


def test_an_address_space_limit_lowers_the_budget():
    code = (
        "import resource; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
        "from evonet.memory import memory_limit; print(*memory_limit(), sep='|')"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    limit, what = r.stdout.strip().split("|")
    assert 0 < int(limit) < 1 << 30 and what == "left under this process's memory limit"


def peak_bytes(f):
    tracemalloc.start()
    try:
        f()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "settings",
    [
        dict(population=400, episodes=4),
        dict(population=60, episodes=2, hidden=(256,), board=(20, 20)),
        dict(population=50, episodes=3, board=(32, 32), selection="tournament"),
    ],
)
def test_estimates_bound_what_a_generation_really_allocates(settings):
    """The estimates must not be below the real peak (or a refusal would come too late),
    and not far above it (or sane settings would be refused)."""
    cfg = EvolveConfig(**settings)
    run = Run.start(cfg)
    run.game.warm_up()  # compiling the engine and the rollout is not the rollout's memory
    compiled_play.warm_up(run.game)
    genomes, topo = run.ga.ask(), run.topology
    seeds = generation_seeds(0, 0, cfg.episodes)
    measured = peak_bytes(lambda: rollout(genomes, topo, run.game, seeds))
    estimate = rollout_bytes(cfg.population, cfg.episodes, topo, run.game)
    assert measured <= estimate <= 3 * measured
    fitness = np.random.default_rng(0).random(cfg.population)
    measured = peak_bytes(lambda: run.ga.tell(fitness)) + genomes.nbytes  # plus the parents
    estimate = cfg.ga().memory_bytes(topo.n_params)
    assert measured <= estimate <= 3 * measured


def test_mlp_init_refuses_before_allocating():
    from evonet.nn import mlp

    with pytest.raises(OverBudget, match="parameters would need"):
        mlp.init(mlp.Topology((10**6, 10**6, 10**6)), np.random.default_rng(0))


# ----------------------------------------------------- the CLI under a 2 GiB address space

HUGE = [
    (["evolve", "snake", "--population", "1000000000"], "population 1000000000 x 64 episodes"),
    (["evolve", "snake", "--episodes", "1000000000"], "x 1,000,000,000 episodes"),
    (["evolve", "snake", "--hidden", "100000"], "35-100000-3 network"),
    # The champion's pick plays (elite + 1) x champion episodes games at once.
    ("evolve snake --champion-episodes 100000 --elite 299 --board 64x64".split(), "would need"),
    (["evolve", "snake", "--hidden", "1000,1000", "--population", "2000"], "would need"),
    (["train", "sine", "--hidden", "100000,100000"], "training a 1-100000-100000-1 network"),
    (["evaluate", "CHAMPION", "--episodes", "1000000000"], "--episodes 1000000000"),
]


@pytest.fixture(scope="module")
def refused(tmp_path_factory):
    """``(result, its folder)`` of each HUGE command, all run in one process under a 2 GiB
    address space, each in a folder of its own."""
    from evonet.views.replay import shipped_champion

    commands = [
        (
            [str(shipped_champion()) if a == "CHAMPION" else a for a in args],
            tmp_path_factory.mktemp("huge"),
        )
        for args, _ in HUGE
    ]
    results = evonet_limited(commands, memory=2 << 30)
    return [(r, folder) for r, (_, folder) in zip(results, commands, strict=True)]


@pytest.mark.slow
@pytest.mark.parametrize("case", range(len(HUGE)), ids=[" ".join(a) for a, _ in HUGE])
def test_huge_settings_are_refused_with_the_size_they_need(refused, case):
    r, folder = refused[case]
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    needle = HUGE[case][1]
    assert len(lines) == 1 and needle in lines[0] and "would need" in lines[0], r.stderr
    assert "left under this process's memory limit" in lines[0]
    assert not (folder / "checkpoints").exists()
