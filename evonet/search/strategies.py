"""The search strategies by name: the genetic algorithm and the evolution strategies.

Every strategy is one module with a settings class and an ask/tell class; a new one is one
module and one line here.
"""

from __future__ import annotations

from evonet.search.cma_es import CMAES
from evonet.search.distribution import Distribution
from evonet.search.ga import GA
from evonet.search.openai_es import OpenAIES
from evonet.search.pgpe import PGPE
from evonet.search.snes import SNES

EVOLUTION_STRATEGIES: dict[str, type[Distribution]] = {
    cls.name: cls for cls in (OpenAIES, PGPE, SNES, CMAES)
}
STRATEGY_NAMES = ("ga", *EVOLUTION_STRATEGIES)

Strategy = GA | Distribution
"""What a run asks and tells: :class:`~evonet.search.ga.GA` or an evolution strategy."""


def strategy_class(name: str) -> type[Distribution]:
    """The evolution strategy called ``name``; ValueError naming the choices otherwise."""
    try:
        return EVOLUTION_STRATEGIES[name]
    except KeyError:
        raise ValueError(
            f"unknown strategy {name!r}; choose from {', '.join(STRATEGY_NAMES)}"
        ) from None
