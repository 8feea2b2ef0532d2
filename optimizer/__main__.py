"""``python -m optimizer``: the command line (:mod:`optimizer.cli`)."""

import sys

try:
    from optimizer.cli import main
except KeyboardInterrupt:  # Ctrl-C while the engine is still being imported
    print("interrupted: nothing was written", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
