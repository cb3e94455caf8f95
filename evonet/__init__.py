"""evonet: evolve numpy neural networks to play games, and train them by gradient descent."""

__version__ = "0.1.0"

import importlib.util as _util

if _util.find_spec("gymnasium") is not None:
    from games.gym_snake import register_envs as _register_envs

    _register_envs()
