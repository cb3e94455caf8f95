"""What the worker pool's fork server loads once, before it forks any worker.

:mod:`evonet.evolution.evaluators.processes` starts its worker processes from a fork server
(multiprocessing's ``forkserver``) that imports this module: numpy, the rollout, the
workers' task, and every built-in game made ready to play (Snake's compiled engine and
compiled rollout loaded from their cache). Each worker is a fork of that server, so it
starts with all of them in place instead of importing and loading them all itself, and a
pool that replaces a dead worker starts at once.
"""

import evonet.evolution.evaluators.processes  # noqa: F401  (the workers' initializer and task)
from evonet.evolution import compiled_play
from evonet.games import base as games

for _name in games.REGISTRY:
    try:
        _game = games.make(_name)
        _game.warm_up()
        compiled_play.warm_up(_game)  # its compiled rollout, if it has one
    except Exception:  # noqa: BLE001 - a worker then gets it ready, or reports why not, itself
        pass
