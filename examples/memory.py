"""A network with memory: CartPole without its velocities, a GRU beside an MLP.

    python examples/memory.py [--generations N] [--out FOLDER]

Both networks see only the cart's position and the pole's angle (observation entries 0
and 2). The feed-forward MLP sees one moment and cannot tell which way the pole is
falling; the GRU (``network="gru"``) carries a state through each episode and infers the
velocities from what it saw. Each runs with CartPole's defaults (a GRU gets more
generations), then its champion plays 100 fresh episodes. Needs ``pip install
'evonet[gym]'``.
"""

import argparse

import numpy as np

import evonet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, help="default: CartPole's, per network")
    parser.add_argument("--out", help="a folder for the two runs (default: new ones)")
    args = parser.parse_args()

    for network in ("mlp", "gru"):
        given = {} if args.generations is None else {"generations": args.generations}
        config = evonet.EvolveConfig.for_game(
            "gym:CartPole-v1", observe=(0, 2), network=network, **given
        )
        try:
            run = evonet.run(config, out=None if args.out is None else f"{args.out}/{network}")
        except ValueError as e:  # an impossible setting or an unreadable checkpoint
            parser.exit(2, f"error: {e}\n")
        # (D,) float32, the GRU's gates and all in one vector: what best.npz holds.
        champion = run.champion.genome
        seeds = evonet.episode_seeds(1, 100)
        result = evonet.evaluate(champion[None], run.topology, run.game, seeds)
        print(
            f"{network} {'-'.join(map(str, run.topology.sizes))}: after {run.generation} "
            f"generations, mean return {result.episode_score[0].mean():.1f} over 100 fresh "
            "episodes (475 counts as solved)"
        )

    # The memory itself: the GRU's hidden state (S,) after each of the first steps of an
    # episode, stepped by hand from zero (as every episode starts).
    state = evonet.initial_state(run.topology, (1,))  # (1 game, S)
    for t, angle in enumerate((0.0, 0.05, 0.1)):  # the pole tipping right
        out, state = evonet.step(champion, np.array([[0.0, angle]], np.float32), state,
                                 run.topology)  # fmt: skip
        print(f"  step {t}: state {np.round(state[0], 2)}, outputs {np.round(out[0], 2)}")


if __name__ == "__main__":
    main()
