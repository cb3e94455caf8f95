"""Supervised tasks for evonet train: one module each, listed in the registry."""
