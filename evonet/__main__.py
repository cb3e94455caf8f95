"""``python -m evonet`` runs the command-line interface."""

import os
import signal
import sys


def _interrupted(signum: int, frame: object) -> None:
    os.write(2, b"\nevonet: interrupted\n")
    os._exit(130)


# Ctrl-C while the command line itself is being imported (on a busy machine that takes a
# while) ends like Ctrl-C at any later moment of start-up: one line and exit code 130.
# main() installs its own handler at once.
signal.signal(signal.SIGINT, _interrupted)

from evonet.cli.main import main  # noqa: E402

sys.exit(main())
