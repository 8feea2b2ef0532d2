"""Command line (SPEC §4).

    python -m optimizer validate CAMPAIGN_DIR
    python -m optimizer plan CAMPAIGN_DIR [--out OUT_DIR] [--budget X] [--delay MODE=DAYS ...]
    python -m optimizer report CAMPAIGN_DIR [--budget X] [--delay MODE=DAYS ...] [--time-limit S]
    python -m optimizer frontier CAMPAIGN_DIR (--budgets X [X ...] | --steps N) [--delay ...] [--time-limit S]
    python -m optimizer diff RUN_A RUN_B
    python -m optimizer forecast CAMPAIGN_DIR [--out FILE]
    python -m optimizer backtest CAMPAIGN_DIR [--promo NAME] [--lead-days N]
    python -m optimizer monitor CAMPAIGN_DIR --run RUN_DIR --actuals FILE [--as-of DATE] [--budget X]
                                [--modes MODE ...] [--time-limit S] [--out OUT_DIR]

Exit codes: 0 success; 2 invalid input (file, row and column named, no
traceback); 3 infeasible service target (explained); 1 anything else.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_ERROR, EXIT_INPUT, EXIT_SERVICE = 0, 1, 2, 3


class UsageError(Exception):
    """A bad command-line value: reported like bad input (exit 2)."""


def parse_delays(items: list[str] | None) -> dict[str, int]:
    """``["sea=10", "air=-2"]`` → ``{"sea": 10, "air": -2}`` (extra transit days per mode)."""
    delays: dict[str, int] = {}
    for item in items or []:
        mode, sep, days = item.partition("=")
        try:
            if not sep or not mode.strip():
                raise ValueError
            delays[mode.strip()] = delays.get(mode.strip(), 0) + int(days)
        except ValueError:
            raise UsageError(f"--delay {item!r}: expected MODE=DAYS, e.g. --delay sea=10") from None
    return delays


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m optimizer", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check a campaign folder and report every problem")
    v.add_argument("campaign", type=Path)

    pl = sub.add_parser("plan", help="optimise the campaign and write a run folder")
    pl.add_argument("campaign", type=Path)
    pl.add_argument("--out", type=Path, help="new (or empty) run folder; default runs/<campaign>/<time>")
    _add_what_if_options(pl)
    pl.add_argument("--verbose", action="store_true", help="show the HiGHS log")

    r = sub.add_parser("report", help="run the campaign notebook and render the HTML report")
    r.add_argument("campaign", type=Path)
    _add_what_if_options(r)
    r.add_argument("--reports-dir", type=Path, default=Path("reports"), dest="reports_dir",
                   help="root of reports/<campaign>/<run-id>/ and history.sqlite (default: reports)")
    r.add_argument("--notebook", type=Path, help=argparse.SUPPRESS)  # tests: another notebook

    f = sub.add_parser("frontier", help="expected profit against budget, from one persistent model")
    f.add_argument("campaign", type=Path)
    which = f.add_mutually_exclusive_group(required=True)
    which.add_argument("--budgets", type=float, nargs="+", metavar="X", help="budgets to solve")
    which.add_argument("--steps", type=int, metavar="N",
                       help="N budgets from 20 %% to 150 %% of the campaign budget")
    f.add_argument("--delay", action="append", metavar="MODE=DAYS",
                   help="extra transit days for every lane of MODE (repeatable; negative = faster)")
    f.add_argument("--time-limit", type=float, dest="time_limit",
                   help="solver time limit per budget, seconds")
    f.add_argument("--reports-dir", type=Path, default=Path("reports"), dest="reports_dir",
                   help="frontier.csv goes to a new reports/<campaign>/<run-id>/ (default: reports)")
    f.set_defaults(budget=None)

    fc = sub.add_parser("forecast", help="promo demand forecast from sales_history.csv")
    fc.add_argument("campaign", type=Path)
    fc.add_argument("--out", type=Path, help="demand file to write (default: demand.csv if the "
                    "folder has none, else demand_forecast.csv); forecast_audit.csv goes beside it")

    bt = sub.add_parser("backtest", help="forecast the most recent past promo and score it")
    bt.add_argument("campaign", type=Path)
    bt.add_argument("--promo", help="past promo name to backtest (default: the campaign's own)")
    bt.add_argument("--lead-days", type=int, dest="lead_days",
                    help="days between the data cutoff and the promo (default: promo_start - planning_date)")

    d = sub.add_parser("diff", help="what changed between two run folders (plan, cost, cutoffs)")
    d.add_argument("run_a", type=Path, help="the earlier run folder")
    d.add_argument("run_b", type=Path, help="the new run folder")
    _add_monitor_parser(sub)
    return p


def _add_what_if_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--budget", type=float, help="override the campaign budget")
    p.add_argument("--delay", action="append", metavar="MODE=DAYS",
                   help="extra transit days for every lane of MODE (repeatable; negative = faster)")
    p.add_argument("--time-limit", type=float, dest="time_limit", help="solver time limit, seconds")


def _overrides(args, campaign):
    from .errors import InputError, Problem
    from .instance import Overrides

    delays = parse_delays(args.delay)
    problems = []
    modes = set(campaign.lanes["mode"])
    for mode in delays:
        if mode not in modes:
            problems.append(Problem("command line", None, "--delay",
                                    f"no lane has mode {mode!r} (modes: {', '.join(sorted(modes))})"))
    if args.budget is not None and not args.budget > 0:
        problems.append(Problem("command line", None, "--budget", f"must be > 0, got {args.budget:g}"))
    if args.time_limit is not None and not args.time_limit > 0:
        problems.append(Problem("command line", None, "--time-limit", "must be > 0"))
    if problems:
        raise InputError(problems, campaign.root)
    return Overrides(budget=args.budget, delays=delays, time_limit_s=args.time_limit)


def cmd_validate(args) -> int:
    from .campaign import load_campaign

    c = load_campaign(args.campaign)
    print(f"{args.campaign}: valid — {len(c.skus)} SKUs, {len(c.warehouses)} warehouses, "
          f"{len(c.lanes)} lanes, {len(c.demand)} demand rows")
    return EXIT_OK


def cmd_plan(args) -> int:
    from .campaign import load_campaign
    from .planner import default_run_dir, plan_campaign

    campaign = load_campaign(args.campaign)
    overrides = _overrides(args, campaign)
    out = args.out or default_run_dir(campaign.config.name)
    if out.exists() and any(out.iterdir()):
        print(f"error: {out} already holds files; a run never overwrites another — "
              "choose a new --out", file=sys.stderr)
        return EXIT_ERROR
    run = plan_campaign(campaign, overrides, out_dir=out, verbose=args.verbose)
    s = run.summary
    print(f"{s['status']}: expected profit {s['expected_profit']:,.2f} {s['currency']}, "
          f"spend {s['spend']:,.2f} of {s['budget']:,.2f}, fill rate "
          f"{(s['expected_fill_rate'] or 0):.1%}, gap {(s['mip_gap'] or 0):.3%} → {run.out_dir}")
    return EXIT_OK


def cmd_report(args) -> int:
    from .campaign import load_campaign
    from .reporting.runner import NOTEBOOK, ReportFailed, run_report

    campaign = load_campaign(args.campaign)  # bad input: exit 2 before any notebook runs
    overrides = _overrides(args, campaign)
    try:
        result = run_report(campaign, overrides, reports_root=args.reports_dir,
                            notebook=args.notebook or NOTEBOOK)
    except ReportFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_SERVICE if e.ename == "ServiceInfeasible" else EXIT_ERROR
    s = result.summary
    if s:
        print(f"{s.get('status')}: expected profit {s.get('expected_profit', 0):,.2f} "
              f"{s.get('currency', '')}, spend {s.get('spend', 0):,.2f} of {s.get('budget', 0):,.2f}")
    print(result.html)
    return EXIT_OK


def cmd_frontier(args) -> int:
    import pandas as pd

    from .campaign import load_campaign
    from .frontier import budget_frontier, budget_steps, write_frontier
    from .reporting.runner import new_run_dir

    campaign = load_campaign(args.campaign)
    overrides = _overrides(args, campaign)
    if args.steps is not None and args.steps < 1:
        raise UsageError("--steps must be ≥ 1")
    if args.budgets is not None and min(args.budgets) <= 0:
        raise UsageError("--budgets must all be > 0")
    budgets = args.budgets or budget_steps(campaign.config.budget, args.steps)
    table = budget_frontier(campaign, budgets, overrides, time_limit_s=args.time_limit,
                            progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    out = write_frontier(table, new_run_dir(campaign.config.name, args.reports_dir), meta={
        "campaign": campaign.config.name, "campaign_dir": str(campaign.root),
        "budgets": sorted(set(budgets)), "delays": dict(overrides.delays),
        "time_limit_s": args.time_limit})
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda x: f"{x:,.4f}"))
    print(out)
    return EXIT_OK


def cmd_diff(args) -> int:
    from .diff import diff_runs, format_diff

    try:
        diff = diff_runs(args.run_a, args.run_b)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_INPUT
    print(format_diff(diff))
    return EXIT_OK


def cmd_forecast(args) -> int:
    from .campaign import load_campaign
    from .forecast import forecast_campaign, write_forecast
    from .sales_history import load_history

    campaign = load_campaign(args.campaign)
    hist = load_history(campaign)
    fc = forecast_campaign(campaign, hist)
    for note in fc.notes:
        print(f"note: {note}", file=sys.stderr)
    demand_path, audit_path = write_forecast(fc, args.campaign, args.out)
    a = fc.audit
    print(f"forecast {len(fc.demand)} (sku, warehouse) rows, total mean {fc.demand['mean'].sum():,.0f} "
          f"units, in {fc.seconds:.1f} s; methods: "
          + ", ".join(f"{m} {n}" for m, n in a["method"].value_counts().items()))
    print(f"wrote {demand_path} and {audit_path}")
    return EXIT_OK


def cmd_backtest(args) -> int:
    from .campaign import load_campaign
    from .forecast import backtest
    from .sales_history import load_history, promo_kind

    campaign = load_campaign(args.campaign)
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
    print(f"80% interval coverage of the method (mean ± 1.28 sd): {r['coverage_80']:.0%}")
    return EXIT_OK


def _add_monitor_parser(sub) -> None:
    m = sub.add_parser("monitor", help="actual sales against the plan: stop-loss / top-up flags "
                       "and a top-up re-plan on fast lanes")
    m.add_argument("campaign", type=Path)
    m.add_argument("--run", type=Path, required=True, help="the plan run folder being monitored")
    m.add_argument("--actuals", type=Path, required=True,
                   help="daily sales to date: date, sku, warehouse, units")
    m.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD (default: the last date in --actuals)")
    m.add_argument("--budget", type=float,
                   help="top-up budget (default: the monitored plan's budget minus its spend)")
    m.add_argument("--modes", nargs="+", metavar="MODE", default=["air", "courier"],
                   help="transport modes a top-up may use (default: air courier)")
    m.add_argument("--time-limit", type=float, dest="time_limit", help="top-up solver time limit, seconds")
    m.add_argument("--out", type=Path, help="new (or empty) folder; default runs/<campaign>/<time>-monitor")


def cmd_monitor(args) -> int:
    import datetime as dt

    from .campaign import load_campaign
    from .monitor import default_monitor_dir, monitor_campaign

    as_of = None
    if args.as_of is not None:
        try:
            as_of = dt.date.fromisoformat(args.as_of.strip())
        except ValueError:
            raise UsageError(f"--as-of {args.as_of!r}: expected a date YYYY-MM-DD") from None
    if args.time_limit is not None and not args.time_limit > 0:
        raise UsageError("--time-limit must be > 0")
    campaign = load_campaign(args.campaign)
    out = args.out or default_monitor_dir(campaign.config.name)
    result = monitor_campaign(campaign, args.run, args.actuals, as_of=as_of, budget=args.budget,
                              modes=tuple(args.modes), time_limit_s=args.time_limit, out_dir=out)
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


COMMANDS = {"validate": cmd_validate, "plan": cmd_plan, "report": cmd_report,
            "frontier": cmd_frontier, "diff": cmd_diff, "forecast": cmd_forecast,
            "backtest": cmd_backtest}


COMMANDS["monitor"] = cmd_monitor


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (never raises for bad input)."""
    from .diagnose import ServiceInfeasible
    from .errors import InputError
    from .planner import SolveFailed

    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:  # argparse already printed the usage message
        return EXIT_INPUT if e.code else EXIT_OK
    try:
        return COMMANDS[args.command](args)
    except (InputError, UsageError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_INPUT
    except ServiceInfeasible as e:
        print(f"infeasible: {e}", file=sys.stderr)
        return EXIT_SERVICE
    except SolveFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except FileExistsError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
