"""evonet: evolve numpy neural networks to play games, and train them by gradient descent."""

__version__ = "0.1.0"
