"""Environments evonet plays: the batched-game interface and registry, Snake, any Gymnasium
environment. This package imports nothing from evonet; it is installed as ``evonet.games``."""
