"""The command line: ``python -m optimizer COMMAND CAMPAIGN_DIR [options]``.

A thin layer over the package's public API: :mod:`optimizer.cli.parser` describes the
commands and options, :mod:`optimizer.cli.commands` runs them, and :func:`main` maps
what went wrong to an exit code (:data:`~optimizer.cli.parser.EXIT_CODES`): 2 for bad
input, 3 for an unreachable service target, 130 for Ctrl-C before there was a plan,
1 for anything else.
"""

from __future__ import annotations

import sys

from optimizer.cli.commands import COMMANDS, plan_line
from optimizer.cli.parser import (
    EXIT_CODES,
    EXIT_ERROR,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SERVICE,
    UsageError,
    _parser,
    parse_delay_lists,
    parse_delays,
)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (never raises for bad input or Ctrl-C)."""
    try:
        return _run(argv)
    except KeyboardInterrupt:  # a solve keeps its best plan itself: this is before there is one
        print("interrupted: no plan to keep yet; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED


def _run(argv: list[str] | None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:  # argparse already printed the usage message
        return EXIT_INPUT if e.code else EXIT_OK
    try:
        return COMMANDS[args.command](args)
    except Exception as e:  # noqa: BLE001 — an expected failure becomes its message and exit code
        code = _failure(e)
        if code is None:  # a bug: its traceback is the report
            raise
        return code


def _failure(e: Exception) -> int | None:
    """Print an expected failure's message and return its exit code; None for anything else.

    The engine's exception classes are looked up, not imported: an exception of a
    class whose module was never imported cannot be one, and importing the engine here
    (after a failed import of it, say) would only raise again.  This also keeps
    ``--help`` and the first progress line from waiting for Pyomo.
    """
    def kind(module: str, name: str):
        return getattr(sys.modules.get(module), name, None) or ()

    if isinstance(e, (UsageError, kind("optimizer.io.errors", "InputError"))):
        print(f"error: {e}", file=sys.stderr)
        return EXIT_INPUT
    if isinstance(e, kind("optimizer.solve.diagnose", "ServiceInfeasible")):
        print(f"infeasible: {e}", file=sys.stderr)
        return EXIT_SERVICE
    if isinstance(e, (FileExistsError, kind("optimizer.workflows.planner", "SolveFailed"))):
        print(f"error: {e}", file=sys.stderr)
        return EXIT_ERROR
    return None


__all__ = ["EXIT_CODES", "EXIT_ERROR", "EXIT_INPUT", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_SERVICE", "UsageError",
           "main", "parse_delay_lists", "parse_delays", "plan_line"]
