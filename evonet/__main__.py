"""``python -m evonet`` runs the command-line interface."""

import sys

from evonet.cli import main

sys.exit(main())
