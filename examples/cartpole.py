"""Evolve a CartPole controller through Gymnasium (needs ``pip install 'evonet[gym]'``).

    python examples/cartpole.py [--generations N] [--out FOLDER]

The game is ``gym:CartPole-v1`` from the registry, with its own default settings (a small
network, a population of 64). Afterwards the champion plays 100 fresh episodes.
"""

import argparse

import evonet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=20)
    parser.add_argument("--out", default="checkpoints/cartpole-example")
    args = parser.parse_args()

    config = evonet.EvolveConfig.for_game("gym:CartPole-v1", generations=args.generations)
    try:
        run = evonet.run(config, out=args.out)
    except ValueError as e:  # an impossible setting or an unreadable checkpoint
        parser.exit(2, f"error: {e}\n")

    result = evonet.evaluate(
        run.ga.best_genome[None], run.topology, run.game, evonet.episode_seeds(1, 100)
    )
    returns = result.episode_score[0]  # (100,)
    print(
        f"{run.stop_reason} at generation {run.generation}; champion over 100 fresh episodes: "
        f"mean return {returns.mean():.1f} (CartPole-v1 counts 475 as solved)"
    )


if __name__ == "__main__":
    main()
