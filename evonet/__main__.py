"""``python -m evonet`` runs the command-line interface."""

import sys

from evonet import signals

# Ctrl-C while the command line itself is being imported (on a busy machine that takes a
# while) ends like Ctrl-C at any later moment of start-up: one line and exit code 130.
signals.exit_on_interrupt()

from evonet.cli.main import main  # noqa: E402

sys.exit(main())
