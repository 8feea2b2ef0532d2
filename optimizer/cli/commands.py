"""The commands: each loads and checks its inputs before any work, shows its progress on
stderr (:mod:`optimizer.progress`), calls the package's public workflows and prints
their result; what went wrong becomes an exit code in :mod:`optimizer.cli`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from optimizer.cli.parser import (
    EXIT_ERROR,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SERVICE,
    UsageError,
    parse_delay_lists,
    parse_delays,
)
from optimizer.progress import Progress
from optimizer.status import Status


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
    two_stage = None
    if c.config.recourse is not None:  # SPEC §8: scenarios.csv is read and checked too
        from optimizer.prep.recourse import campaign_scenarios, effective_recourse, has_scenarios_file

        recourse, rho_from = effective_recourse(c)
        scenarios, warnings = campaign_scenarios(c, recourse)
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        how = ("scenarios.csv" if has_scenarios_file(c) else
               f"generated as SPEC §8 says, resolved_share {recourse.resolved_share:g} from {rho_from}")
        two_stage = f"two-stage: top-ups on {recourse.date} in {len(scenarios)} scenarios ({how})"
    print(f"{args.campaign}: valid — {len(c.skus)} SKUs, {len(c.warehouses)} warehouses, "
          f"{len(c.lanes)} lanes, {len(c.demand)} demand rows")
    facts = c.seller_economics_facts()
    if facts:
        print("seller economics: " + "; ".join(facts))
    if two_stage:
        print(two_stage)
    return EXIT_OK


def cmd_plan(args) -> int:
    started = time.perf_counter()   # the time limit counts from here (see plan_campaign)
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
        if args.parts is not None and campaign.config.recourse is not None:
            raise UsageError("--parts plans one stage; a campaign with [recourse] is planned whole")
        if args.parts is not None:
            line = _plan_partitioned(args, campaign, settings, out, progress)
        else:
            progress.status("planning")
            run = plan_campaign(campaign, settings, out_dir=out, verbose=args.verbose, progress=progress,
                                started=started)
            line = plan_line(run.summary, run.out_dir)
    if args.parts is None:
        from optimizer.evaluate.empty_plan import empty_plan_notes

        for note in empty_plan_notes(run.instance, run.evaluation.lines):
            print(f"note: {note}", file=sys.stderr)
    print(line)
    return EXIT_OK


def plan_line(summary, out_dir) -> str:
    """The one line ``plan`` prints from the run's :class:`~optimizer.io.summary.RunSummary`:
    status, exact profit, spend, fill rate, gap (or that no bound was proven)."""
    s = summary
    gap = ("no bound proven" if s.mip_gap is None
           else f"gap {s.mip_gap:.3%} to bound {s.best_bound:,.2f}")
    line = (f"{s.status}: expected profit {s.expected_profit:,.2f} {s.currency}, "
            f"spend {s.spend:,.2f} of {s.budget:,.2f}, fill rate "
            f"{(s.expected_fill_rate or 0):.1%}, {gap} → {out_dir}")
    if s.recourse_date is not None:
        line += (f"\ntwo-stage: {s.reserve:,.2f} kept back for top-ups on {s.recourse_date} (expected "
                 f"top-up spend {s.expected_stage2_spend:,.2f}); on {s.evaluation_scenarios:,} evaluation "
                 f"scenarios {s.two_stage_profit:,.2f} ± {s.two_stage_profit_se:,.2f} against "
                 f"{s.single_stage_profit:,.2f} planned for one stage and topped up, value of flexibility "
                 f"{s.value_of_flexibility:,.2f} ± {s.value_of_flexibility_se:,.2f}")
    return line


def _require_writable(folder: Path, option: str, campaign) -> None:
    from optimizer.io.errors import InputError
    from optimizer.io.run_folder import writable_problems

    problems = writable_problems(folder, option)
    if problems:
        raise InputError(problems, campaign.root)


def _plan_partitioned(args, campaign, settings, out: Path, progress) -> str:
    """Plan ``--parts`` supplier groups, write the run folder; the line to print."""
    from optimizer.io.run_folder import write_run
    from optimizer.workflows.distributed import batch_client
    from optimizer.workflows.partition import plan_partitioned

    with batch_client(args.scheduler, args.workers, progress) as client:
        progress.status(f"planning {args.parts} parts")
        ev, summary, parts = plan_partitioned(campaign, args.parts, settings, client, progress=progress)
    summary = summary.updated(scheduler=args.scheduler or "single-process")
    write_run(out, ev, summary, extra_files={"parts.csv": parts.to_csv(index=False)})
    n = summary.parts
    bound = (f"no proven bound for the whole ({summary.bound_note})" if summary.best_bound is None else
             f"gap {summary.mip_gap:.3%} to the whole campaign's bound {summary.best_bound:,.2f}")
    return (f"partitioned ({n} part{'' if n == 1 else 's'}): expected profit {summary.expected_profit:,.2f} "
            f"{summary.currency}, spend {summary.spend:,.2f} of {summary.budget:,.2f}, {bound} → {out}")


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
    if s is not None:
        print(f"{s.status}: expected profit {s.expected_profit or 0:,.2f} "
              f"{s.currency or ''}, spend {s.spend or 0:,.2f} of {s.budget or 0:,.2f}")
    print(result.html)
    return EXIT_OK


def cmd_frontier(args) -> int:
    with Progress("frontier") as progress:
        progress.status("loading and checking the campaign")
        import pandas as pd

        from optimizer.workflows.frontier import budget_steps, frontier_run

        campaign = _load(args.campaign)
        settings = _settings(args, campaign)
        _require_writable(args.reports_dir, "--reports-dir", campaign)
        _check_workers(args)
        budgets = args.budgets or budget_steps(campaign.config.budget, args.steps)
        run = frontier_run(campaign, budgets, settings, reports_dir=args.reports_dir,
                           extend=args.steps is not None, scheduler=args.scheduler, workers=args.workers,
                           time_limit_s=args.time_limit, progress=progress)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(run.table.to_string(index=False, float_format=lambda x: f"{x:,.4f}"))
    if run.recommended_budget is not None:
        print(f"recommended budget: {run.recommended_budget:,.2f} {campaign.config.currency} (past it one more "
              f"unit earns no more than the hurdle {campaign.config.frontier.hurdle:g}; campaign budget "
              f"{campaign.config.budget:,.2f})")
    print(run.csv)
    if run.interrupted:
        print(f"interrupted (Ctrl-C) after {len(run.table)} of {run.asked} point(s): the frontier holds the "
              "points done (the last one with its best plan so far); no recommended budget", file=sys.stderr)
        return EXIT_INTERRUPTED
    return _batch_exit(list(run.table.attrs.get("errors", {}).values()))


def cmd_scenarios(args) -> int:
    with Progress("scenarios") as progress:
        progress.status("loading and checking the campaigns")
        import pandas as pd

        from optimizer.settings import Settings
        from optimizer.workflows.scenarios import scenarios_run

        campaigns = [_load(c) for c in args.campaigns]  # bad input: exit 2 before solving
        delays = parse_delay_lists(args.delay)
        for c in campaigns:
            _check_modes(delays, c)
        _check_workers(args)
        _require_writable(args.reports_dir, "--reports-dir", campaigns[0])
        run = scenarios_run(campaigns, delays, args.budgets, Settings(time_limit_s=args.time_limit),
                            reports_dir=args.reports_dir, scheduler=args.scheduler, workers=args.workers,
                            progress=progress)
    shown = ["campaign", "scenario", "budget", "expected_profit", "spend", "expected_fill_rate",
             "status", "profit_vs_no_delay", "solve_seconds"]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(run.table[shown].to_string(index=False, float_format=lambda x: f"{x:,.2f}"))
    print(run.csv)
    failed = run.table[run.table["status"] == Status.FAILED]
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
    print(r.text())
    return EXIT_OK


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
        print(f"top-up ({s.status}): {s.units_ordered:,} units, spend {s.spend:,.2f} of "
              f"{s.budget:,.2f}, expected profit {s.expected_profit:,.2f} {s.currency}")
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


COMMANDS = {"validate": cmd_validate, "plan": cmd_plan, "report": cmd_report,
            "frontier": cmd_frontier, "scenarios": cmd_scenarios, "diff": cmd_diff, "forecast": cmd_forecast,
            "backtest": cmd_backtest, "monitor": cmd_monitor, "index": cmd_index}
