"""Evaluations each evolution strategy needs to reach a target, beside its reference
implementation with the same settings: pycma for CMA-ES, evosax for OpenAI-ES, PGPE and
SNES. Sphere, Rosenbrock and Rastrigin in 10 and 100 dimensions, medians over seeds.

    pip install cma evosax      # the references, for this benchmark only
    python benchmarks/strategies.py [--seeds 3] [--dims 10,100]

Prints one row per (strategy, function, dimension): the median evaluations to the target
of evonet's and of the reference, and their ratio (below 1.5 is the aim); "-" where the
budget ran out first.
"""

from __future__ import annotations

import argparse
import statistics
import warnings

import numpy as np

from evonet.search.cma_es import CMAES, CMAESConfig
from evonet.search.openai_es import OpenAIES, OpenAIESConfig
from evonet.search.pgpe import PGPE, PGPEConfig
from evonet.search.snes import SNES, SNESConfig

try:
    from machine import describe
except ImportError:  # run from elsewhere than benchmarks/
    from benchmarks.machine import describe


def sphere(x: np.ndarray) -> np.ndarray:
    return np.sum(x**2, axis=1)


def rosenbrock(x: np.ndarray) -> np.ndarray:
    return np.sum(100 * (x[:, 1:] - x[:, :-1] ** 2) ** 2 + (1 - x[:, :-1]) ** 2, axis=1)


def rastrigin(x: np.ndarray) -> np.ndarray:
    return 10 * x.shape[1] + np.sum(x**2 - 10 * np.cos(2 * np.pi * x), axis=1)


# (function, start, {kind: target in dimension d}): minimised; fixed-step strategies
# (OpenAI-ES, PGPE) stall at a distance set by their step, so their targets are looser;
# Rastrigin's is to leave the start's basin (90 a dimension) for one near the optimum.
TARGETS = {
    "sphere": (sphere, 1.0, {"adaptive": lambda d: 1e-8, "fixed": lambda d: 1e-4 * d * d}),
    "rosenbrock": (rosenbrock, 0.0, {"adaptive": lambda d: 1e-6, "fixed": lambda d: 0.5 * d}),
    "rastrigin": (rastrigin, 3.0, {"adaptive": lambda d: 2.0 * d, "fixed": lambda d: 2.0 * d}),
}
# Per strategy: evonet's class and settings, and whether its step adapts.
STRATEGIES = {
    "openai-es": (OpenAIES, {"sigma": 0.05, "learning_rate": 0.03, "weight_decay": 0.0}, "fixed"),
    "pgpe": (PGPE, {"sigma": 0.1, "learning_rate": 0.075, "max_speed": 0.15}, "fixed"),
    "snes": (SNES, {"sigma": 0.5}, "adaptive"),
    "cma-es": (CMAES, {"sigma": 0.5}, "adaptive"),
}


def population(d: int) -> int:
    """An even population that grows with the dimension, as CMA-ES's default does."""
    return 2 * ((4 + int(3 * np.log(d)) + 1) // 2) * 2


def ours(name: str, f, x0: np.ndarray, target: float, budget: int, seed: int) -> int | None:
    cls, settings, _ = STRATEGIES[name]
    cfg = {"openai-es": OpenAIESConfig, "pgpe": PGPEConfig, "snes": SNESConfig}.get(
        name, CMAESConfig
    )(population=population(x0.size), **settings)
    s = cls(cfg, x0, np.random.default_rng(seed))
    while s.generation * cfg.population < budget:
        # The genomes are float32, as networks' are; the function sees them in float64.
        s.tell(-f(s.ask().astype(np.float64)))
        if -s.best_fitness <= target:
            return s.generation * cfg.population
    return None


def reference(name: str, f, x0: np.ndarray, target: float, budget: int, seed: int) -> int | None:
    if name == "cma-es":
        return _pycma(f, x0, target, budget, seed)
    return _evosax(name, f, x0, target, budget, seed)


def _pycma(f, x0, target, budget, seed) -> int | None:
    import cma

    opts = {"popsize": population(x0.size), "seed": seed + 1, "verbose": -9}
    opts |= {"ftarget": target, "maxfevals": budget, "tolfun": 0, "tolx": 0, "tolfunhist": 0}
    opts |= {"CMA_diagonal": x0.size > CMAESConfig().full_up_to}
    es = cma.CMAEvolutionStrategy(x0, STRATEGIES["cma-es"][1]["sigma"], opts)
    while not es.stop():
        xs = es.ask()
        es.tell(xs, f(np.array(xs)).tolist())
    best = es.result.fbest
    return es.result.evaluations if best is not None and best <= target else None


def _evosax(name, f, x0, target, budget, seed) -> int | None:
    import jax
    import jax.numpy as jnp
    import optax
    from evosax.algorithms import PGPE as XPGPE
    from evosax.algorithms import SNES as XSNES
    from evosax.algorithms import Open_ES
    from evosax.core.optimizer import clipup

    p, settings = population(x0.size), STRATEGIES[name][1]
    mean = jnp.asarray(x0, dtype=jnp.float32)
    if name == "openai-es":
        es = Open_ES(p, mean, optimizer=optax.adam(settings["learning_rate"]),
                     std_schedule=optax.constant_schedule(settings["sigma"]))  # fmt: skip
        params = es.default_params
    elif name == "pgpe":
        es = XPGPE(p, mean, optimizer=clipup(settings["learning_rate"], settings["max_speed"]))
        params = es.default_params.replace(std_init=settings["sigma"])
    else:
        es = XSNES(p, mean)
        params = es.default_params.replace(std_init=settings["sigma"])
    key = jax.random.key(seed)
    state = es.init(key, mean, params)
    for g in range(budget // p):
        key, ask_key, tell_key = jax.random.split(key, 3)
        xs, state = es.ask(ask_key, state, params)
        fitness = f(np.asarray(xs, dtype=np.float64))
        state, _ = es.tell(tell_key, xs, jnp.asarray(fitness), state, params)
        if fitness.min() <= target:
            return (g + 1) * p
    return None


def _median(values: list[int | None]) -> float | None:
    """The median, counting a run out of budget as worse than any that finished."""
    ranked = sorted(values, key=lambda v: float("inf") if v is None else v)
    mid = ranked[len(ranked) // 2]
    return None if mid is None else float(statistics.median(v for v in ranked if v is not None)
                                          if None not in values else mid)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--dims", default="10,100")
    ap.add_argument("--strategies", default=",".join(STRATEGIES))
    ap.add_argument("--budget", type=int, default=100_000, help="evaluations per run at most")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    print(describe())
    print(f"{'strategy':10} {'function':10} {'D':>4} {'target':>7} {'evonet':>9} "
          f"{'reference':>9} {'ratio':>6}")  # fmt: skip
    for name in args.strategies.split(","):
        kind = STRATEGIES[name][2]
        for fname, (f, start, targets) in TARGETS.items():
            for d in (int(x) for x in args.dims.split(",")):
                x0, target = np.full(d, start), targets[kind](d)
                a = [ours(name, f, x0, target, args.budget, s) for s in range(args.seeds)]
                b = [reference(name, f, x0, target, args.budget, s) for s in range(args.seeds)]
                ma, mb = _median(a), _median(b)
                ratio = f"{ma / mb:.2f}" if ma and mb else "-"
                show = [("-" if m is None else f"{m:,.0f}") for m in (ma, mb)]
                print(f"{name:10} {fname:10} {d:4} {target:7.0e} {show[0]:>9} {show[1]:>9} "
                      f"{ratio:>6}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
