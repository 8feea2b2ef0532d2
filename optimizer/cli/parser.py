"""The command line's parser: every command, option, default, example and exit code.

``python -m optimizer --help`` says what the tool does and lists the commands;
``python -m optimizer COMMAND --help`` gives a command's description, options with
their defaults, examples and exit codes.  This parser is the one description of them
(README.md's "Command line" section follows it).  Every number an option takes obeys
the limits of :mod:`optimizer.io.options`, as in campaign.toml.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from optimizer.io.options import (
    Budget,
    DelayDays,
    LeadDays,
    Parts,
    RowsShown,
    Steps,
    TimeLimit,
    TopUpBudget,
    Workers,
    checked,
    path_option,
)
from optimizer.io.options import argparse_type as option

EXIT_OK, EXIT_ERROR, EXIT_INPUT, EXIT_SERVICE = 0, 1, 2, 3


EXIT_INTERRUPTED = 130  # Ctrl-C before there was a plan to keep (128 + SIGINT)


DESCRIPTION = """\
Plan stock for a big e-commerce promotion. From a campaign folder (campaign.toml,
skus.csv, warehouses.csv, lanes.csv, demand.csv, ...) it decides how many units of
each SKU to order, for which warehouse and by which transport mode, so that the
expected promo profit is largest within the budget, the cash limits, the space and
the cutoffs; then it writes purchase orders and a report, sweeps budgets and
lead-time delays, forecasts promo demand and watches sales against the plan."""


# What each exit code means: (commands that solve, the others).
_EXIT_MEANING = {
    EXIT_OK: ("success",) * 2,
    EXIT_INPUT: ("invalid input: each problem names the file, the row and the column; nothing is written",) * 2,
    EXIT_SERVICE: ("the min_fill_rate service target cannot be met (the message says why)", None),
    EXIT_ERROR: ("anything else (e.g. the solver found no plan worth presenting)", "anything else"),
    EXIT_INTERRUPTED: ("interrupted (Ctrl-C) before there was a plan to keep; nothing is written",
                       "interrupted (Ctrl-C)"),
}


def exit_codes(solving: bool = True) -> str:
    """The "exit codes:" block of a help text: a command that solves can also exit 3."""
    meanings = ((code, text[0 if solving else 1]) for code, text in _EXIT_MEANING.items())
    return "exit codes:\n" + "\n".join(f"  {code:<4} {text}" for code, text in meanings if text)


EXIT_CODES = exit_codes()


PROGRESS_NOTE = ("progress: stage lines on stderr (elapsed time, best plan and bound), at most a few "
                 "seconds apart;\na live status bar when stderr is a terminal.")


EPILOG = f"""\
Run `python -m optimizer COMMAND --help` for a command's options, defaults and examples.

examples:
  python -m optimizer validate data/sample
  python -m optimizer plan data/sample --budget 800000 --delay sea_fcl=10
  python -m optimizer report data/sample
  python -m optimizer frontier data/sample --steps 6 --time-limit 20

{EXIT_CODES}
Ctrl-C during a solve keeps the best plan found so far (status "interrupted", exit 0)."""


class UsageError(Exception):
    """A bad command-line value: reported like bad input (exit 2)."""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs as written (examples line up); each option's default
    shown, unless its help already says what it is or there is none to show."""

    def _format_action(self, action):
        if isinstance(action, argparse._SubParsersAction):  # the commands, without a "COMMAND" line above
            return "".join(self._format_action(a) for a in action._get_subactions())
        return super()._format_action(action)

    def _get_help_string(self, action):
        text = action.help or ""
        if (not action.option_strings or "default" in text or action.default is argparse.SUPPRESS
                or action.default in (None, False)):
            return text
        return f"{text} (default: %(default)s)"


def parse_delays(items: list[str] | None) -> dict[str, int]:
    """``["sea=10", "air=-2"]`` → ``{"sea": 10, "air": -2}`` (extra transit days per mode)."""
    delays: dict[str, int] = {}
    for item in items or []:
        mode, sep, days = item.partition("=")
        try:
            if not sep or not mode.strip():
                raise ValueError
            total = checked(DelayDays, delays.get(mode.strip(), 0) + int(days))
        except ValueError as err:
            detail = f" ({err})" if "must be" in str(err) else ""
            raise UsageError(f"--delay {item!r}: expected MODE=DAYS, e.g. --delay sea=10{detail}") from None
        delays[mode.strip()] = total
    return delays


def _command(sub, name: str, summary: str, description: str, examples: list[str],
             solving: bool = True, notes: str = "", progress: bool = True) -> argparse.ArgumentParser:
    """A subcommand whose help has a description, examples, the exit codes (and progress)."""
    epilog = "examples:\n" + "\n".join(f"  python -m optimizer {name} {e}".rstrip() for e in examples)
    if progress:
        epilog += "\n\n" + PROGRESS_NOTE
    epilog += "\n\n" + exit_codes(solving) + (f"\n{notes}" if notes else "")
    return sub.add_parser(name, help=summary, description=description, epilog=epilog,
                          formatter_class=HelpFormatter)


CAMPAIGN_HELP = "campaign folder: campaign.toml, skus.csv, warehouses.csv, lanes.csv, demand.csv, ..."


TIME_LIMIT_DEFAULT = "[solver] time_limit_s of campaign.toml, else 120"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m optimizer", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=HelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")

    v = _command(sub, "validate", "check a campaign folder and list every problem",
                 "Check a campaign folder against every input rule and list each problem with its\n"
                 "file, row and column, all at once. Nothing is solved or written.",
                 ["data/sample"], solving=False, progress=False)
    v.add_argument("campaign", type=path_option, help=CAMPAIGN_HELP)

    pl = _command(sub, "plan", "optimise the campaign and write a run folder (plan.csv, summary.json, ...)",
                  "Optimise the campaign: the order quantity of each SKU for each warehouse and mode\n"
                  "with the largest expected profit within the budget and the other limits. Writes a\n"
                  "run folder (plan.csv, shipments.csv, sku_summary.csv, summary.json, solver log) and\n"
                  "prints one line: status, expected profit, spend, fill rate and the gap to the bound.",
                  ["data/sample", "data/sample --budget 800000 --delay sea_fcl=10 --out runs/what-if",
                   "data/sample --time-limit 60 --verbose",
                   "data/sample --parts 4 --scheduler local --workers 2"],
                  notes='Ctrl-C during the solve writes the best plan found so far (status "interrupted", '
                        'exit 0).')
    pl.add_argument("campaign", type=path_option, help=CAMPAIGN_HELP)
    pl.add_argument("--out", type=path_option, metavar="RUN_DIR",
                    help="new (or empty) run folder (default: runs/<campaign>/<UTC time>)")
    _add_what_if_options(pl)
    pl.add_argument("--verbose", action="store_true", help="show the HiGHS log")
    pl.add_argument("--parts", type=option(Parts, "--parts"), metavar="N",
                    help="large catalogues: plan N supplier groups separately and merge them; no proven "
                         "bound for the whole (default: plan the campaign as one)")
    _add_scheduler_options(pl, "plan the --parts in parallel, one task each (default: one after the "
                               "other in this process)")

    r = _command(sub, "report", "plan, then render the HTML report and the purchase-order workbook",
                 "Plan the campaign in notebooks/campaign_plan.ipynb and render a self-contained HTML\n"
                 "report (KPIs, profit and cash, risk, purchase orders, shipping plan, changes since\n"
                 "the last run) into a new folder reports/<campaign>/<run-id>/, with the executed\n"
                 "notebook, the plan files and purchase_orders.xlsx. Every run, good or failed, is\n"
                 "recorded in reports/history.sqlite. Prints the status line and the path of\n"
                 "report.html.",
                 ["data/sample", "data/sample --budget 800000 --delay sea_fcl=10",
                  "data/sample --time-limit 60 --reports-dir /shared/reports"])
    r.add_argument("campaign", type=path_option, help=CAMPAIGN_HELP)
    _add_what_if_options(r)
    r.add_argument("--reports-dir", type=path_option, default=Path("reports"), dest="reports_dir", metavar="DIR",
                   help="the report goes to a new folder DIR/<campaign>/<run id>/; the run index is DIR/history.sqlite")
    r.add_argument("--notebook", type=path_option, help=argparse.SUPPRESS)  # tests: another notebook

    f = _command(sub, "frontier", "expected profit against budget, from one persistent model",
                 "Solve the campaign at several budgets and write frontier.csv (profit, spend, fill\n"
                 "rate, bound, gap and the marginal profit of one more unit of budget per point) to a\n"
                 "new reports/<campaign>/<run-id>/. One model is built for the largest budget and\n"
                 "re-solved at each, warm-started from the last plan. With --steps the sweep goes on\n"
                 "past 150 % while one more unit of budget still earns more than campaign.toml's\n"
                 "[frontier] hurdle (default 0), up to max_budget_share x the budget (default 3), and\n"
                 "names the recommended budget: past it, money earns no more than the hurdle.",
                 ["data/sample --steps 6 --time-limit 20", "data/sample --budgets 400000 600000 800000",
                  "data/sample --steps 8 --scheduler local --workers 2"])
    f.add_argument("campaign", type=path_option, help=CAMPAIGN_HELP)
    which = f.add_mutually_exclusive_group(required=True)
    which.add_argument("--budgets", type=option(Budget, "--budgets"), nargs="+", metavar="X",
                       help="budgets to solve")
    which.add_argument("--steps", type=option(Steps, "--steps"), metavar="N",
                       help="N budgets evenly from 20 %% to 150 %% of the campaign budget")
    f.add_argument("--delay", action="append", metavar="MODE=DAYS",
                   help="extra transit days for every lane of MODE, at every budget (repeatable; "
                        "negative = faster; default: none)")
    f.add_argument("--time-limit", type=option(TimeLimit, "--time-limit"), dest="time_limit", metavar="SECONDS",
                   help=("wall-time limit per budget: its solve and its plan's evaluation; the one model "
                         f"build is outside it and said before the sweep (default: {TIME_LIMIT_DEFAULT})"))
    f.add_argument("--reports-dir", type=path_option, default=Path("reports"), dest="reports_dir", metavar="DIR",
                   help="frontier.csv goes to a new folder DIR/<campaign>/<run id>/")
    _add_scheduler_options(f, "solve the budgets in parallel, one cold solve each (default: one "
                              "persistent model in this process)")
    f.set_defaults(budget=None)

    sc = _command(sub, "scenarios", "re-plan every combination of lead-time delays and budgets",
                  "Re-plan every combination of per-mode delays x budgets x campaign folders, one\n"
                  "independent solve each, and write scenarios.csv with what each delay costs against\n"
                  "no delay to a new reports/<campaign or batch>/<run-id>/.",
                  ["data/sample --delay sea_fcl=0,7,14 --delay air=0,3",
                   "data/sample --delay sea_fcl=0,10 --budgets 600000 800000 --time-limit 30",
                   "data/sample data/sample_v1 --delay sea_fcl=0,7 --scheduler local"])
    sc.add_argument("campaigns", type=path_option, nargs="+", metavar="CAMPAIGN_DIR", help="one or more campaign folders")
    sc.add_argument("--delay", action="append", metavar="MODE=D[,D ...]",
                    help="delays to try for MODE, e.g. sea_fcl=0,7,14 (repeatable; every combination "
                         "of the modes' values is one scenario; default: no delay only)")
    sc.add_argument("--budgets", type=option(Budget, "--budgets"), nargs="+", metavar="X",
                    help="budgets to try (default: each campaign's own)")
    sc.add_argument("--time-limit", type=option(TimeLimit, "--time-limit"), dest="time_limit", metavar="SECONDS",
                    help=f"solver time limit per scenario (default: {TIME_LIMIT_DEFAULT})")
    sc.add_argument("--reports-dir", type=path_option, default=Path("reports"), dest="reports_dir", metavar="DIR",
                    help="scenarios.csv goes to a new folder DIR/<campaign or batch>/<run id>/")
    _add_scheduler_options(sc, "solve the scenarios in parallel (default: one after the other in "
                               "this process)")

    fc = _command(sub, "forecast", "promo demand forecast from sales_history.csv",
                  "Forecast promo demand (mean and sd per SKU x warehouse) from the campaign's\n"
                  "sales_history.csv and past promos: baseline, promo lift, calibrated sd. Writes the\n"
                  "demand file and forecast_audit.csv beside it (how each number was made); never\n"
                  "overwrites demand.csv.",
                  ["data/sample_history", "data/sample_history --out /tmp/demand_forecast.csv"],
                  solving=False)
    fc.add_argument("campaign", type=path_option, help=CAMPAIGN_HELP + " and sales_history.csv")
    fc.add_argument("--out", type=path_option, metavar="FILE",
                    help="demand file to write (default: demand.csv if the folder has none, else "
                         "demand_forecast.csv); forecast_audit.csv goes beside it")

    bt = _command(sub, "backtest", "forecast the most recent past promo and score it",
                  "Forecast the most recent past promo from the data before it, as the forecast would\n"
                  "have been made then, and score it against what sold: WAPE and bias next to\n"
                  "seasonal naive and last year's same promo, new SKUs' WAPE, and the forecast\n"
                  "distribution's 80% interval coverage and pinball loss at P10/P50/P90, with the\n"
                  "demand shapes chosen per pair and with a normal everywhere.",
                  ["data/sample_history", "data/sample_history --promo 'Prime Day' --lead-days 60"],
                  solving=False, progress=False)
    bt.add_argument("campaign", type=path_option, help=CAMPAIGN_HELP + " and sales_history.csv")
    bt.add_argument("--promo", help="past promo name to backtest (default: the campaign's own)")
    bt.add_argument("--lead-days", type=option(LeadDays, "--lead-days"), dest="lead_days", metavar="N",
                    help="days between the data cutoff and the promo (default: promo_start - planning_date)")

    d = _command(sub, "diff", "what changed between two run folders (plan, cost, cutoffs)",
                 "Compare two run folders: totals, lines that switched mode or warehouse, quantity\n"
                 "changes, pairs that newly miss their cutoff.",
                 ["runs/tiny-demo/20261101T090000Z runs/tiny-demo/20261108T090000Z"],
                 solving=False, progress=False)
    d.add_argument("run_a", type=path_option, help="the earlier run folder")
    d.add_argument("run_b", type=path_option, help="the new run folder")
    _add_monitor_parser(sub)
    _add_index_parser(sub)
    return p


def _add_what_if_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--budget", type=option(Budget, "--budget"), metavar="X",
                   help="override the campaign budget (default: budget of campaign.toml)")
    p.add_argument("--delay", action="append", metavar="MODE=DAYS",
                   help="extra transit days for every lane of MODE (repeatable; negative = faster; "
                        "default: none)")
    p.add_argument("--time-limit", type=option(TimeLimit, "--time-limit"), dest="time_limit", metavar="SECONDS",
                   help=f"time limit in wall seconds for the whole run: loading, the build, the solve and writing (default: {TIME_LIMIT_DEFAULT})")


DASK_GROUP = "advanced: run batches on Dask"


def _add_scheduler_options(p: argparse.ArgumentParser, what: str) -> None:
    g = p.add_argument_group(DASK_GROUP, "'local' needs nothing more; a real cluster's workers need this "
                                         "package and\nthe campaign folders at the same paths "
                                         "(docs/batches-on-dask.md).")
    g.add_argument("--scheduler", metavar="local|ADDRESS",
                   help=f"'local' starts a Dask LocalCluster, or a scheduler address such as "
                        f"tcp://host:8786: {what}")
    g.add_argument("--workers", type=option(Workers, "--workers"), metavar="N",
                   help="worker processes of a --scheduler local cluster (default: one per core)")


def parse_delay_lists(items: list[str] | None) -> dict[str, list[int]]:
    """``["sea=0,7", "air=0,3", "sea=14"]`` → ``{"sea": [0, 7, 14], "air": [0, 3]}`` (scenario values)."""
    delays: dict[str, list[int]] = {}
    for item in items or []:
        mode, sep, values = item.partition("=")
        try:
            if not sep or not mode.strip():
                raise ValueError
            days = [checked(DelayDays, int(v)) for v in values.split(",")]
        except ValueError as err:
            detail = f" ({err})" if "must be" in str(err) else ""
            raise UsageError(f"--delay {item!r}: expected MODE=DAYS[,DAYS ...], "
                             f"e.g. --delay sea=0,7,14{detail}") from None
        known = delays.setdefault(mode.strip(), [])
        known += [d for d in days if d not in known]
    return delays


def _add_monitor_parser(sub) -> None:
    m = _command(sub, "monitor", "actual sales against the plan: stop-loss / top-up flags and a top-up "
                 "re-plan on fast lanes",
                 "Compare the actual daily sales so far with the pace a plan run expected, flag each\n"
                 "SKU x warehouse (stop loss, running ahead, behind for a week, on plan) and re-plan a\n"
                 "top-up order for the pairs running ahead on the fast lanes. Writes flags.csv, the\n"
                 "daily pace, monitor.json and the top-up plan to a new folder.",
                 ["data/sample --run runs/bf2026/20260820T090000Z --actuals data/sample/actuals.csv",
                  "data/sample --run RUN_DIR --actuals actuals.csv --as-of 2026-10-14 --budget 50000 "
                  "--modes air"])
    m.add_argument("campaign", type=path_option, help=CAMPAIGN_HELP)
    m.add_argument("--run", type=path_option, required=True, metavar="RUN_DIR",
                   help="the plan run folder being monitored (what plan or report wrote)")
    m.add_argument("--actuals", type=path_option, required=True, metavar="FILE",
                   help="daily sales to date: date, sku, warehouse, units")
    m.add_argument("--as-of", dest="as_of", metavar="YYYY-MM-DD",
                   help="the day the sales run to (default: the last date in --actuals)")
    m.add_argument("--budget", type=option(TopUpBudget, "--budget"), metavar="X",
                   help="top-up budget (default: the monitored plan's budget minus its spend)")
    m.add_argument("--modes", nargs="+", metavar="MODE",
                   help="transport modes a top-up may use (default: those of air and courier "
                        "the campaign has)")
    m.add_argument("--time-limit", type=option(TimeLimit, "--time-limit"), dest="time_limit", metavar="SECONDS",
                   help=f"top-up solver time limit (default: {TIME_LIMIT_DEFAULT})")
    m.add_argument("--out", type=path_option, metavar="OUT_DIR",
                   help="new (or empty) folder (default: runs/<campaign>/<UTC time>-monitor)")


def _add_index_parser(sub) -> None:
    i = _command(sub, "index", "the run index (reports/history.sqlite): its last rows, or --rebuild",
                 "Show the last rows of the run index, reports/history.sqlite, which every report,\n"
                 "frontier and scenarios run adds to; or recreate it from the run folders.",
                 ["", "--last 50 --reports-dir /shared/reports", "--rebuild"],
                 solving=False, progress=False)
    i.add_argument("--reports-dir", type=path_option, default=Path("reports"), dest="reports_dir", metavar="DIR",
                   help="folder holding history.sqlite and the run folders")
    i.add_argument("--rebuild", action="store_true",
                   help="recreate the index from the run folders (an existing file is kept beside it)")
    i.add_argument("--last", type=option(RowsShown, "--last"), default=20, metavar="N", help="rows to show")
