"""Train the MLP on handwritten digits from Python (needs ``pip install 'evonet[digits]'``).

    python examples/digits.py [--epochs N] [--hidden N]

The task, its data split and its default settings come from the registry that
``evonet train`` uses; ``fit`` trains one copy of the flat parameter vector, the same
vector the genetic algorithm evolves. Prints the test accuracy and the confusion matrix.
"""

import argparse
import dataclasses

import numpy as np

import evonet
from evonet.train.fit import fit
from evonet.train.losses import confusion
from evonet.train.tasks.registry import TASKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--hidden", type=int, default=128)
    args = parser.parse_args()

    task = TASKS["digits"]
    rng = np.random.default_rng(0)
    data = task.make_data(rng)  # x (1079, 64) standardised pixels, y (1079, 10) one-hot
    topology = task.topology(hidden=(args.hidden,))  # 64-H-10, relu, softmax
    config = dataclasses.replace(task.config, epochs=args.epochs)
    result = fit(evonet.init(topology, rng), topology, data.x, data.y, config, rng, *data.val)

    out = evonet.forward(result.theta, data.x_test, topology)  # (359, 10) probabilities
    counts = confusion(out, data.y_test)  # (10, 10): row = target, column = prediction
    print(f"{result.epochs} epochs, validation accuracy {result.val_acc[-1]:.3f}")
    print(f"test accuracy {np.trace(counts) / counts.sum():.3f}")
    print("confusion matrix (rows: target 0-9, columns: prediction 0-9):")
    print(counts)


if __name__ == "__main__":
    main()
