"""``python -m optimizer``: the command line (:mod:`optimizer.cli`)."""

import sys

from optimizer.cli import main

sys.exit(main())
