"""Evolve a network on your own fitness function: XOR, scored for all genomes at once.

    python examples/custom_fitness.py [--generations N] [--out FOLDER]

``fitness(genomes)`` gets the whole population, ``(P, D)`` float32 (one flat network per
row), and returns ``(P,)`` numbers, higher is better. The run writes the same files as
``evonet evolve`` (latest.npz, best.npz, history.csv, fitness.png); Ctrl-C stops after the
current generation, and ``--resume FOLDER/latest.npz`` continues.
"""

import argparse

import numpy as np

import evonet

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)  # (4, 2)
Y = np.array([0, 1, 1, 0], dtype=np.float32)  # (4,)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=100)
    parser.add_argument("--out", default="checkpoints/xor")
    parser.add_argument("--resume", help="a latest.npz of this example")
    args = parser.parse_args()

    config = evonet.EvolveConfig.for_game(
        "custom", generations=args.generations, hidden=(4,), population=100, parents=20
    )
    topology = config.topology(io=(2, 1))  # 2 inputs, hidden (4,), 1 output

    def fitness(genomes: np.ndarray) -> np.ndarray:
        inputs = np.broadcast_to(X, (len(genomes), *X.shape))  # (P, 4, 2)
        out = evonet.forward(genomes, inputs, topology)[..., 0]  # (P, 4)
        return -((out - Y) ** 2).mean(axis=1)  # minus the squared error: higher is better

    try:
        run = evonet.run(config, fitness=fitness, io=(2, 1), out=args.out, resume=args.resume)
    except ValueError as e:  # an impossible setting or an unreadable checkpoint
        parser.exit(2, f"error: {e}\n")
    best = evonet.forward(run.ga.best_genome, X, topology)[:, 0]
    print(
        f"{run.stop_reason} at generation {run.generation}: XOR of 00 01 10 11 -> "
        + " ".join(f"{v:.2f}" for v in best)
    )


if __name__ == "__main__":
    main()
