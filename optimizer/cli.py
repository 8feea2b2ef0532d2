"""The command line: ``python -m optimizer COMMAND CAMPAIGN_DIR [options]``.

``python -m optimizer --help`` says what the tool does and lists the commands;
``python -m optimizer COMMAND --help`` gives a command's description, options with
their defaults, examples and exit codes.  The argparse parser below is the one
description of them (README.md's "Command line" section follows it).  Every command
loads and checks its inputs before any work, shows its progress on stderr
(:mod:`optimizer.progress`) and maps what went wrong to an exit code
(:data:`EXIT_CODES`).
"""

from __future__ import annotations

import argparse
import shutil
import sys
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
from optimizer.progress import Progress
from optimizer.status import Status

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
                 "past 150 %% while one more unit of budget still earns more than campaign.toml's\n"
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
                   help=f"solver time limit per budget (default: {TIME_LIMIT_DEFAULT})")
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
                   help=f"solver time limit; it counts the solve, not the build (default: {TIME_LIMIT_DEFAULT})")


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


def _check_modes(modes_wanted, campaign) -> None:
    from optimizer.io.campaign import option_problems
    from optimizer.io.errors import InputError

    problems = option_problems(campaign, modes=modes_wanted)
    if problems:
        raise InputError(problems, campaign.root)


def _load(folder: Path, **kwargs):
    """The campaign folder, loaded and checked; what it can be planned with but should hear
    about (a warehouse whose cutoff is already past, say) is printed as warnings."""
    from optimizer.io.campaign import load_campaign

    campaign = load_campaign(folder, **kwargs)
    for warning in campaign.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return campaign


def _settings(args, campaign):
    from optimizer.io.campaign import option_problems
    from optimizer.io.errors import InputError
    from optimizer.settings import Settings

    delays = parse_delays(args.delay)
    problems = option_problems(campaign, modes=delays)
    if problems:
        raise InputError(problems, campaign.root)
    return Settings(budget=args.budget, delays=delays, time_limit_s=args.time_limit)


def cmd_validate(args) -> int:

    c = _load(args.campaign)
    print(f"{args.campaign}: valid — {len(c.skus)} SKUs, {len(c.warehouses)} warehouses, "
          f"{len(c.lanes)} lanes, {len(c.demand)} demand rows")
    facts = c.seller_economics_facts()
    if facts:
        print("seller economics: " + "; ".join(facts))
    return EXIT_OK


def cmd_plan(args) -> int:
    if args.parts is None and (args.scheduler is not None or args.workers is not None):
        raise UsageError("--scheduler and --workers plan the --parts in parallel: they go with --parts N")
    _check_workers(args)
    # The HiGHS log (--verbose) goes to the terminal too: plain lines, no bar to redraw over it.
    with Progress("plan", live=False if args.verbose else None) as progress:
        progress.status("loading and checking the campaign")
        from optimizer.io.errors import InputError
        from optimizer.io.run_folder import default_run_dir, new_folder_problems
        from optimizer.workflows.planner import plan_campaign

        campaign = _load(args.campaign)
        settings = _settings(args, campaign)
        out = args.out or default_run_dir(campaign.config.name)
        if problems := new_folder_problems(out, "--out"):
            raise InputError(problems, campaign.root)
        if args.parts is not None:
            line = _plan_partitioned(args, campaign, settings, out, progress)
        else:
            progress.status("planning")
            run = plan_campaign(campaign, settings, out_dir=out, verbose=args.verbose, progress=progress)
            line = plan_line(run.summary, run.out_dir)
    if args.parts is None:
        from optimizer.evaluate.empty_plan import empty_plan_notes

        for note in empty_plan_notes(run.instance, run.evaluation.lines):
            print(f"note: {note}", file=sys.stderr)
    print(line)
    return EXIT_OK


def plan_line(summary: dict, out_dir) -> str:
    """The one line ``plan`` prints: status, exact profit, spend, fill rate, gap (or that no bound was proven)."""
    s = summary
    gap = ("no bound proven" if s.get("mip_gap") is None
           else f"gap {s['mip_gap']:.3%} to bound {s['best_bound']:,.2f}")
    return (f"{s['status']}: expected profit {s['expected_profit']:,.2f} {s['currency']}, "
            f"spend {s['spend']:,.2f} of {s['budget']:,.2f}, fill rate "
            f"{(s['expected_fill_rate'] or 0):.1%}, {gap} → {out_dir}")


def _require_writable(folder: Path, option: str, campaign) -> None:
    from optimizer.io.errors import InputError
    from optimizer.io.run_folder import writable_problems

    problems = writable_problems(folder, option)
    if problems:
        raise InputError(problems, campaign.root)


def _plan_partitioned(args, campaign, settings, out: Path, progress) -> str:
    """Plan ``--parts`` supplier groups, write the run folder; the line to print."""
    from contextlib import nullcontext

    from optimizer.io.run_folder import write_run
    from optimizer.workflows.partition import plan_partitioned

    if args.scheduler is None:
        context = nullcontext(None)
    else:
        from optimizer.workflows.distributed import dask_client, describe_client

        progress.status("starting the Dask cluster")
        context = dask_client(args.scheduler, args.workers)
    with context as client:
        if client is not None:
            progress(describe_client(client))
        progress.status(f"planning {args.parts} parts")
        ev, summary, parts = plan_partitioned(campaign, args.parts, settings, client, progress=progress)
    summary["scheduler"] = args.scheduler or "single-process"
    write_run(out, ev, summary, extra_files={"parts.csv": parts.to_csv(index=False)})
    n = summary["parts"]
    return (f"partitioned ({n} part{'' if n == 1 else 's'}): expected profit {summary['expected_profit']:,.2f} "
            f"{summary['currency']}, spend {summary['spend']:,.2f} of {summary['budget']:,.2f}, "
            f"no proven bound for the whole → {out}")


def cmd_report(args) -> int:
    with Progress("report") as progress:
        progress.status("loading and checking the campaign")
        from optimizer.report.notebook_runner import NOTEBOOK, ReportFailed, run_report

        campaign = _load(args.campaign)  # bad input: exit 2 before any notebook runs
        settings = _settings(args, campaign)
        _require_writable(args.reports_dir, "--reports-dir", campaign)
        try:
            result = run_report(campaign, settings, reports_root=args.reports_dir,
                                notebook=args.notebook or NOTEBOOK, progress=progress)
        except ReportFailed as e:
            failed = e
        else:
            failed = None
    if failed is not None:
        if failed.ename == "ServiceInfeasible":  # the whole diagnosis, as plan prints it
            print(f"infeasible: {failed.evalue}\n(the report notebook: {failed.notebook})", file=sys.stderr)
            return EXIT_SERVICE
        print(f"error: {failed}", file=sys.stderr)
        return EXIT_ERROR
    s = result.summary
    if s:
        print(f"{s.get('status')}: expected profit {s.get('expected_profit', 0):,.2f} "
              f"{s.get('currency', '')}, spend {s.get('spend', 0):,.2f} of {s.get('budget', 0):,.2f}")
    print(result.html)
    return EXIT_OK


def cmd_frontier(args) -> int:
    with Progress("frontier") as progress:
        progress.status("loading and checking the campaign")
        import pandas as pd

        from optimizer.io.run_folder import default_run_dir, publish, staging_for, write_meta
        from optimizer.io.run_index import HISTORY_NAME, input_checksum, record_run
        from optimizer.workflows.frontier import budget_frontier, budget_steps, record_frontier, write_frontier

        campaign = _load(args.campaign)
        settings = _settings(args, campaign)
        _require_writable(args.reports_dir, "--reports-dir", campaign)
        _check_workers(args)
        budgets = args.budgets or budget_steps(campaign.config.budget, args.steps)
        # Built in a hidden staging folder, published under its name once complete: a
        # killed sweep leaves nothing visible, Ctrl-C keeps the points done.
        run_dir = default_run_dir(campaign.config.name, args.reports_dir)
        staging = staging_for(run_dir)
        meta = {"campaign": campaign.config.name, "campaign_dir": str(Path(campaign.root).resolve()),
                "budgets": sorted(set(budgets)), "delays": dict(settings.what_if.delays),
                "time_limit_s": args.time_limit, "scheduler": args.scheduler or "single-process"}
        history = {"db_path": Path(args.reports_dir) / HISTORY_NAME, "campaign": campaign.config.name,
                   "input_sha256": input_checksum(campaign.root)}
        try:
            if args.scheduler is None:
                table = budget_frontier(campaign, budgets, settings, time_limit_s=args.time_limit,
                                        progress=progress, extend=args.steps is not None)
            else:
                from optimizer.workflows.distributed import dask_client, dask_frontier, describe_client

                progress.status("starting the Dask cluster", total=len(meta["budgets"]))
                with dask_client(args.scheduler, args.workers) as client:
                    progress(describe_client(client))
                    progress.status("solving the budgets, one task each")
                    table = dask_frontier(campaign.root, budgets, client, settings,
                                          time_limit_s=args.time_limit, progress=progress.step)
            if table.attrs.get("interrupted") and table.empty:  # Ctrl-C before the first point had a plan
                raise KeyboardInterrupt
        except Exception as e:  # a failed run is indexed too, with its error as the folder's record
            write_meta(staging, "frontier", {**meta, "error": f"{type(e).__name__}: {e}"})
            publish(staging, run_dir)
            record_run(**history, run_id=run_dir.name, run_dir=run_dir, status=Status.FAILED,
                       parameters={**meta, "command": "frontier"}, message=f"{type(e).__name__}: {e}"[:2000])
            raise
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    from optimizer.workflows.frontier import recommended_budget

    hurdle = campaign.config.frontier.hurdle
    interrupted = bool(table.attrs.get("interrupted"))
    recommended = None if interrupted else recommended_budget(table, hurdle)
    asked = len(meta["budgets"])
    meta.update(budgets=[float(b) for b in table["budget"]], hurdle=hurdle, recommended_budget=recommended,
                interrupted=interrupted)
    out = write_frontier(table, staging, meta=meta)
    publish(staging, run_dir)
    out = run_dir / out.name
    record_frontier(table=table, run_dir=run_dir, parameters=meta, **history)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda x: f"{x:,.4f}"))
    if recommended is not None:
        print(f"recommended budget: {recommended:,.2f} {campaign.config.currency} (past it one more unit "
              f"earns no more than the hurdle {hurdle:g}; campaign budget {campaign.config.budget:,.2f})")
    print(out)
    if interrupted:
        print(f"interrupted (Ctrl-C) after {len(table)} of {asked} point(s): the frontier "
              "holds the points done (the last one with its best plan so far); no recommended budget",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return _batch_exit(list(table.attrs.get("errors", {}).values()))


def cmd_scenarios(args) -> int:
    with Progress("scenarios") as progress:
        progress.status("loading and checking the campaigns")
        import pandas as pd

        from optimizer.io.run_folder import new_run_dir
        from optimizer.io.run_index import HISTORY_NAME
        from optimizer.settings import Settings
        from optimizer.workflows.scenarios import record_scenarios, run_scenarios, write_scenarios

        campaigns = [_load(c) for c in args.campaigns]  # bad input: exit 2 before solving
        delays = parse_delay_lists(args.delay)
        for c in campaigns:
            _check_modes(delays, c)
        _check_workers(args)
        _require_writable(args.reports_dir, "--reports-dir", campaigns[0])
        settings = Settings(time_limit_s=args.time_limit)
        if args.scheduler is None:
            table = run_scenarios(campaigns, delays, args.budgets, settings, progress=progress)
        else:
            from optimizer.workflows.distributed import dask_client, describe_client

            progress.status("starting the Dask cluster")
            with dask_client(args.scheduler, args.workers) as client:
                progress(describe_client(client))
                table = run_scenarios(campaigns, delays, args.budgets, settings, client, progress=progress)
    name = campaigns[0].config.name if len(campaigns) == 1 else "batch"
    run_dir = new_run_dir(name, args.reports_dir)
    meta = {"campaign_dirs": [str(Path(c.root).resolve()) for c in campaigns], "delays": delays,
            "budgets": args.budgets, "time_limit_s": args.time_limit,
            "scheduler": args.scheduler or "single-process"}
    out = write_scenarios(table, run_dir, meta)
    record_scenarios(Path(args.reports_dir) / HISTORY_NAME, table, run_dir=run_dir,
                     parameters={k: v for k, v in meta.items() if k not in ("campaign_dirs", "delays")})
    shown = ["campaign", "scenario", "budget", "expected_profit", "spend", "expected_fill_rate",
             "status", "profit_vs_no_delay", "solve_seconds"]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table[shown].to_string(index=False, float_format=lambda x: f"{x:,.2f}"))
    print(out)
    failed = table[table["status"] == Status.FAILED]
    return _batch_exit(list(zip(failed["error_type"], failed["error"])))


def _check_workers(args) -> None:
    """--scheduler and --workers, checked before any work (a misspelt scheduler fails at once)."""
    if args.scheduler is not None:
        from optimizer.workflows.distributed import check_scheduler

        check_scheduler(args.scheduler)
    if args.workers is not None and args.scheduler != "local":
        raise UsageError("--workers goes with --scheduler local")


def _batch_exit(errors: list[tuple[str, str]]) -> int:
    """Report a batch's failed tasks; exit 3 if every failure is a service target, else 1."""
    for kind, message in errors:
        print(f"error: {kind}: {message}", file=sys.stderr)
    if not errors:
        return EXIT_OK
    return EXIT_SERVICE if all(kind == "ServiceInfeasible" for kind, _ in errors) else EXIT_ERROR


def cmd_diff(args) -> int:
    from optimizer.evaluate.diff import diff_runs, format_diff
    from optimizer.io.run_folder import RunFileError

    notes: list[str] = []
    try:
        diff = diff_runs(args.run_a, args.run_b, notes=notes)
    except (FileNotFoundError, RunFileError) as e:  # a missing or damaged run file, named
        print(f"error: {e}", file=sys.stderr)
        return EXIT_INPUT
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print(format_diff(diff))
    return EXIT_OK


def cmd_forecast(args) -> int:
    with Progress("forecast") as progress:
        progress.status("loading and checking the campaign")
        from optimizer.forecast.forecaster import forecast_campaign, write_forecast
        from optimizer.forecast.history import load_history

        campaign = _load(args.campaign, require_demand=False)   # forecast writes demand.csv
        progress.status("reading and checking the sales history")
        hist = load_history(campaign)
        progress(f"sales history: {len(hist.sales):,} rows, {len(hist.promos)} past promos")
        fc = forecast_campaign(campaign, hist, progress=progress)
    for note in fc.notes:
        print(f"note: {note}", file=sys.stderr)
    demand_path, audit_path = write_forecast(fc, args.campaign, args.out)
    a = fc.audit
    print(f"forecast {len(fc.demand)} (sku, warehouse) rows, total mean {fc.demand['mean'].sum():,.0f} "
          f"units, in {fc.seconds:.1f} s; methods: "
          + ", ".join(f"{m} {n}" for m, n in a["method"].value_counts().items()))
    print("demand shapes (SPEC §7; why: distribution_reason in the audit): "
          + ", ".join(f"{d} {n}" for d, n in fc.demand["distribution"].value_counts().items()))
    print(f"wrote {demand_path} and {audit_path}")
    return EXIT_OK


def cmd_backtest(args) -> int:
    from optimizer.forecast.forecaster import backtest
    from optimizer.forecast.history import load_history, promo_kind

    campaign = _load(args.campaign)
    hist = load_history(campaign)
    if args.promo and not any(p.kind == promo_kind(args.promo) for p in hist.promos):
        raise UsageError(f"--promo {args.promo!r}: no past promo of that name in campaign.toml")
    try:
        r = backtest(campaign, hist, promo_kind(args.promo) if args.promo else None, args.lead_days)
    except ValueError as e:
        raise UsageError(str(e)) from None
    t, prev = r["target"], r["previous"]
    print(f"backtest: {t.name} ({t.start} .. {t.end}) forecast from data before {r['cutoff']} "
          f"(lead {r['lead_days']} days); same promo last year: "
          f"{f'{prev.name} ({prev.start} .. {prev.end})' if prev else 'none'}")
    print(f"pairs compared: {r['compared']} of {r['pairs']} (left out: a censored promo day, "
          "or no history for a benchmark)")
    print(f"{'forecast':<22}{'WAPE':>8}{'bias':>9}")
    for name, m in r["metrics"].items():
        print(f"{name:<22}{m['wape']:>8.1%}{m['bias']:>+9.1%}")
    new = r["new_skus"]
    print(f"new SKUs (no past occurrence of the promo): {new['pairs']} pairs, WAPE "
          + (f"{new['wape']:.1%}, bias {new['bias']:+.1%}" if new["pairs"] else "-"))
    print(f"\nthe method's distribution on the {r['scored']} pairs with an outcome "
          "(pinball loss per unit of actual demand):")
    print(f"{'demand shape':<22}{'80% cover':>10}{'P10':>8}{'P50':>8}{'P90':>8}")
    for name, m in (("chosen per pair", r["shapes"]), ("normal everywhere", r["normal"])):
        print(f"{name:<22}{m['coverage_80']:>10.1%}{m['pinball_10']:>8.3f}{m['pinball_50']:>8.3f}"
              f"{m['pinball_90']:>8.3f}")
    cal = r["calibration"]
    print(f"80% interval coverage with the uncalibrated sd: {r['coverage_80_uncalibrated']:.1%}; "
          f"sd calibration: {cal.source}")
    return EXIT_OK


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


def cmd_monitor(args) -> int:
    import datetime as dt

    as_of = None
    if args.as_of is not None:
        try:
            as_of = dt.date.fromisoformat(args.as_of.strip())
        except ValueError:
            raise UsageError(f"--as-of {args.as_of!r}: expected a date YYYY-MM-DD") from None
    with Progress("monitor") as progress:
        progress.status("loading and checking the campaign")
        from optimizer.monitor import default_monitor_dir, monitor_campaign

        campaign = _load(args.campaign)
        out = args.out or default_monitor_dir(campaign.config.name)
        result = monitor_campaign(campaign, args.run, args.actuals, as_of=as_of, budget=args.budget,
                                  modes=tuple(args.modes) if args.modes else None,
                                  time_limit_s=args.time_limit, out_dir=out, progress=progress)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    counts = result.info["status_counts"]
    print(f"as of {result.info['as_of']}: " + ", ".join(
        f"{counts.get(k, 0)} {k.replace('_', ' ')}"
        for k in ("stop_loss", "running_ahead", "behind_1_week", "on_plan", "not_judged")))
    if result.topup is not None:
        s = result.topup.summary
        print(f"top-up ({s['status']}): {s['units_ordered']:,} units, spend {s['spend']:,.2f} of "
              f"{s['budget']:,.2f}, expected profit {s['expected_profit']:,.2f} {s['currency']}")
    print(result.out_dir)
    return EXIT_OK


def cmd_index(args) -> int:
    import sqlite3

    import pandas as pd

    from optimizer.io.run_index import HISTORY_NAME, read_history, rebuild_index

    if args.rebuild:
        _check_rebuild_dir(args.reports_dir)
        try:
            db, n, old, skipped = rebuild_index(args.reports_dir)
        except (OSError, sqlite3.Error) as e:
            print(f"error: could not rebuild {Path(args.reports_dir) / HISTORY_NAME} ({e}); the existing "
                  "index, if any, is unchanged", file=sys.stderr)
            return EXIT_ERROR
        for run_dir, reason in skipped:
            print(f"warning: {run_dir} is not indexed: {reason}", file=sys.stderr)
        kept = f"; the previous file is kept as {old}" if old is not None else ""
        left = f", {len(skipped)} unreadable run folder(s) left out" if skipped else ""
        print(f"rebuilt {db} from the run folders under {args.reports_dir}: {n} rows{left}{kept}")
        return EXIT_OK
    db = Path(args.reports_dir) / HISTORY_NAME
    if not db.is_file():
        raise UsageError(f"no run index at {db}: no report, frontier or scenarios run wrote one")
    try:
        history = read_history(db)
    except sqlite3.DatabaseError as e:
        raise UsageError(f"the run index {db} cannot be read ({e}): rebuild it from the run folders "
                         f"with `python -m optimizer index --rebuild --reports-dir {args.reports_dir}`") from None
    shown = ["recorded_at", "campaign", "run_id", "status", "expected_profit", "spend"]
    with pd.option_context("display.width", 200, "display.max_columns", 10):
        print(history[shown].tail(args.last).to_string(index=False))
    return EXIT_OK


def _check_rebuild_dir(reports_dir: Path) -> None:
    """``index --rebuild --reports-dir``: an existing folder a new index can be written to
    (checked before anything is written; a mistyped folder is not created)."""
    from optimizer.io.errors import InputError
    from optimizer.io.run_folder import writable_problems

    if not reports_dir.is_dir():
        what = "is not a folder" if reports_dir.exists() else "does not exist"
        raise UsageError(f"--reports-dir {reports_dir} {what}: no run folders to rebuild the index from")
    problems = writable_problems(reports_dir, "--reports-dir")
    if problems:
        raise InputError(problems)


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


COMMANDS = {"validate": cmd_validate, "plan": cmd_plan, "report": cmd_report,
            "frontier": cmd_frontier, "scenarios": cmd_scenarios, "diff": cmd_diff, "forecast": cmd_forecast,
            "backtest": cmd_backtest, "monitor": cmd_monitor, "index": cmd_index}


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


if __name__ == "__main__":
    sys.exit(main())
