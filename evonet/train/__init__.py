"""Gradient descent on the same flat networks: the fit loop, losses, optimisers, tasks."""
