"""Evolve Snake from Python, then play the champion on fresh games.

    python examples/snake.py [--generations N] [--board 8x8] [--out FOLDER]

The same run as ``evonet evolve snake`` (its files, progress bar and Ctrl-C), followed by
what ``evonet evaluate`` does: the champion on 100 fresh games.
"""

import argparse

import evonet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=200)
    parser.add_argument("--board", default="10x10")
    parser.add_argument("--population", type=int, default=300)
    parser.add_argument("--out", default="checkpoints/snake-example")
    args = parser.parse_args()

    width, height = (int(v) for v in args.board.split("x"))
    config = evonet.EvolveConfig.for_game(
        "snake", generations=args.generations, board=(width, height), population=args.population
    )
    try:
        run = evonet.run(config, out=args.out)
    except ValueError as e:  # an impossible setting or an unreadable checkpoint
        parser.exit(2, f"error: {e}\n")

    result = evonet.evaluate(
        run.ga.best_genome[None], run.topology, run.game, evonet.episode_seeds(1, 100)
    )
    apples = result.episode_score[0]  # (100,) apples per game
    print(
        f"{run.stop_reason} at generation {run.generation}; champion on 100 fresh "
        f"{run.game.describe()} games: mean {apples.mean():.1f} apples, max {apples.max():.0f}"
    )


if __name__ == "__main__":
    main()
