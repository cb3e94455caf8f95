"""A real 2-node Ray cluster on this machine: evolve on it, and compare with a serial run.

    python benchmarks/ray_cluster.py        # needs evonet[ray]

Starts a head node (`ray start --head`) and a second node that joins it (`ray start
--address`), each with one CPU, then runs the same small `evonet evolve snake` serially
and with `--backend ray --ray-address` on the cluster, and checks that history.csv (all
but the timing columns) and best.npz are identical. Stops the cluster at the end with
`ray stop` (which stops every Ray process of this user on the machine).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import machine  # benchmarks/machine.py, beside this script

FLAGS = (
    "--population 23 --elite 2 --parents 5 --episodes 3 --board 6x6 --hidden 6 "
    "--generations 4 --seed 3 --quiet"
).split()
TIMING = {"seconds", "agent_steps_per_s", "workers"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args: str, cwd: Path | None = None) -> None:
    r = subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=ENV)
    if r.returncode != 0:
        sys.exit(f"{' '.join(args)} failed: {r.stderr.strip()[-800:]}")


def columns(path: Path) -> list[list[str]]:
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    keep = [i for i, k in enumerate(header) if k not in TIMING]
    return [[line.split(",")[i] for i in keep] for line in lines]


# A local test cluster without Ray's token authentication (Ray 2.5x may otherwise ask the
# second node for a token the head generated).
ENV = {**os.environ, "RAY_AUTH_MODE": "disabled"}


def main() -> None:
    print(machine.describe())  # the figures below belong with this line
    port = free_port()
    address = f"127.0.0.1:{port}"
    ray = [sys.executable, "-m", "ray.scripts.scripts"]
    common = ["--num-cpus", "1", "--disable-usage-stats"]
    try:
        run(*ray, "start", "--head", "--port", str(port), "--include-dashboard=false", *common)
        run(*ray, "start", "--address", address, *common)
        probe = (
            f"import ray; ray.init(address='{address}', logging_level='error'); "
            "print(sum(n['Alive'] for n in ray.nodes()))"
        )
        nodes = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, env=ENV
        ).stdout.strip()
        print(f"cluster at {address}: {nodes} live nodes")
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            evonet = [sys.executable, "-m", "evonet", "evolve", "snake", *FLAGS]
            run(*evonet, "--backend", "serial", "--out", "serial", cwd=folder)
            run(*evonet, "--backend", "ray", "--ray-address", address, "--out", "ray", cwd=folder)
            same_history = columns(folder / "serial/history.csv") == columns(
                folder / "ray/history.csv"
            )
            # best.npz records its run folder in its config, so compare the genomes.
            import numpy as np

            from evonet.evolution.files import load_network

            a, _, _ = load_network(folder / "serial/best.npz")
            b, _, _ = load_network(folder / "ray/best.npz")
            print(
                f"history identical: {same_history}; best genome identical: "
                f"{bool(np.array_equal(a, b))}"
            )
            if not (same_history and np.array_equal(a, b)):
                sys.exit(1)
    finally:
        subprocess.run([*ray, "stop", "--force"], capture_output=True, env=ENV)
        print("cluster stopped")


if __name__ == "__main__":
    main()
