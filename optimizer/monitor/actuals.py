"""Inputs of in-campaign monitoring (``python -m optimizer monitor``), read and checked.

* the **actuals file** (e.g. ``actuals.csv``): ``date``, ``sku``, ``warehouse``,
  ``units`` (>= 0, units sold that day).  One row per day × sku × warehouse; a day
  without a row is a day with no sales (exports often leave zero days out).  Dates
  must lie in ``[planning_date, promo_end]``; rows after ``--as-of`` are left out
  (noted).  ``--as-of`` (default: the last date) must lie within the file's first
  and last dates: a day after the last one has no rows and would count as a day
  without sales.  Every sku and warehouse must exist in skus.csv / warehouses.csv: a
  typo'd SKU silently dropped would look like a SKU that stopped selling.
* the **monitored run folder** written by ``python -m optimizer plan``:
  ``summary.json`` (budget, spend, campaign), ``plan.csv`` (lines, to find units
  not yet shipped and the space the plan already uses) and ``sku_summary.csv``
  (per pair: available stock and the demand ``mean`` / ``sd`` the plan used).
* the **run-up pace**: ``forecast_audit.csv`` in the campaign folder, if present —
  the ``baseline_rate`` (units per day before the promo) the forecast step wrote
  per (sku, warehouse).  Without it, run-up days have no plan pace.

Problems are reported like every campaign file (:class:`~optimizer.io.errors.Problem`
with file, line and column, all at once in one :class:`~optimizer.io.errors.InputError`;
exit code 2).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from optimizer.io import checks
from optimizer.io.campaign import FORECAST_AUDIT_FILE, Campaign, is_absent, read_checked_csv
from optimizer.io.checks import Col
from optimizer.io.errors import InputError, Problem, limit_per_column
from optimizer.io.run_folder import PlanRunFiles, read_plan_run

AUDIT_FILE = FORECAST_AUDIT_FILE
ACTUALS_COLUMNS = (Col("date", "date"), Col("sku", "str"), Col("warehouse", "str"),
                   Col("units", "float", ge=0, cap=checks.DAILY_UNITS_MAX))
AUDIT_COLUMNS = (Col("sku", "str"), Col("warehouse", "str"),
                 Col("baseline_rate", "float", ge=0, blank_ok=True))


@dataclass
class Actuals:
    """Validated daily sales: ``sales`` has date (datetime.date), sku, warehouse, units."""

    sales: pd.DataFrame
    first_date: dt.date
    as_of: dt.date
    notes: list[str] = field(default_factory=list)


def campaign_row_problems(frame: pd.DataFrame, file: str, campaign: Campaign, before_plan: str) -> list[Problem]:
    """Problems of an in-campaign file's ``date, sku, warehouse`` rows against the campaign: an
    sku or warehouse it does not have, a date before planning_date (``before_plan`` says why
    that is wrong) or after promo_end."""
    cfg = campaign.config
    problems = []
    skus, whs = set(campaign.skus["sku"]), set(campaign.warehouses["warehouse"])
    known = frame["sku"].notna() & (frame["sku"] != "")
    for line, v in frame.loc[known & ~frame["sku"].isin(skus), "sku"].items():
        problems.append(Problem(file, line, "sku", f"unknown sku '{v}': not in skus.csv"))
    known = frame["warehouse"].notna() & (frame["warehouse"] != "")
    for line, v in frame.loc[known & ~frame["warehouse"].isin(whs), "warehouse"].items():
        problems.append(Problem(file, line, "warehouse",
                                f"unknown warehouse '{v}': not in warehouses.csv"))
    dated = frame["date"].notna()
    for line, d in frame.loc[dated & (frame["date"].where(dated, cfg.planning_date) < cfg.planning_date),
                             "date"].items():
        problems.append(Problem(file, line, "date", f"{d} is before planning_date ({cfg.planning_date}): "
                                f"{before_plan}"))
    for line, d in frame.loc[dated & (frame["date"].where(dated, cfg.promo_end) > cfg.promo_end), "date"].items():
        problems.append(Problem(file, line, "date", f"{d} is after promo_end "
                                f"({cfg.promo_end}): the campaign is over"))
    return problems


def read_actuals(path: str | Path, campaign: Campaign,
                 as_of: dt.date | None = None) -> tuple[Actuals | None, list[Problem]]:
    """Read and check the actuals file; ``as_of`` defaults to its last date."""
    path = Path(path)
    file = str(path)
    frame, problems = read_checked_csv(path, file, ACTUALS_COLUMNS, ("date", "sku", "warehouse"), min_rows=1)
    if frame is None or frame.empty or "date" not in frame:
        return None, problems
    # Every row is checked against the campaign, the rows with a bad cell too: all
    # problems are reported at once, not one line per run.
    problems += campaign_row_problems(frame, file, campaign, "actuals are sales after the plan was made")
    cfg = campaign.config
    columns = ["date", "sku", "warehouse", "units"]
    problems.sort(key=lambda p: (p.row or 0, columns.index(p.column) if p.column in columns else len(columns)))
    problems = limit_per_column(problems)
    if problems:
        return None, problems
    first, last = min(frame["date"]), max(frame["date"])
    as_of = as_of or last
    problems = _as_of_problems(as_of, first, last, path.name, cfg.planning_date)
    if problems:
        return None, problems
    notes = []
    later = frame["date"] > as_of
    if later.any():
        notes.append(f"{path.name}: {int(later.sum())} rows after --as-of {as_of} left out")
    if first > cfg.planning_date:
        notes.append(f"{path.name} starts on {first}, after planning_date {cfg.planning_date}: "
                     f"sales before {first} are not counted")
    sales = frame.loc[~later, ["date", "sku", "warehouse", "units"]].reset_index(drop=True)
    return Actuals(sales, first, as_of, notes), []


def _as_of_problems(as_of: dt.date, first: dt.date, last: dt.date, name: str,
                    planning_date: dt.date) -> list[Problem]:
    """``--as-of`` must lie within the actuals' dates, ``first .. last``.

    A day without a row counts as a day without sales, so an as-of date after the
    file's last date would judge the missing days as zero sales: it is refused,
    naming the last date.  (The actuals' dates lie in ``planning_date .. promo_end``
    already, so this also keeps the as-of date within the campaign.)
    """
    if as_of < first:
        before_plan = f", and before planning_date ({planning_date})" if as_of < planning_date else ""
        return [Problem("command line", None, "--as-of",
                        f"{as_of} is before the first date in {name} ({first}){before_plan}: "
                        f"give --as-of {first} or later")]
    if as_of > last:
        return [Problem("command line", None, "--as-of",
                        f"{as_of} is after the last date in {name} ({last}): the days after it have "
                        "no rows and would count as days without sales; give --as-of "
                        f"{last} or earlier (or add those days' rows, units 0 where nothing sold)")]
    return []


def read_run_up_rates(campaign: Campaign) -> tuple[pd.Series | None, list[Problem]]:
    """``baseline_rate`` per (sku, warehouse) from forecast_audit.csv, or None without the file.

    ``forecast`` writes the file formula-safe (:mod:`optimizer.io.safe_text`): the ids
    are read without that prefix, as the campaign names them.  A link to nowhere, a
    folder or any other non-file at that name is a problem, not "no file".
    """
    path = Path(campaign.root) / AUDIT_FILE
    if is_absent(path):
        return None, []
    frame, problems = read_checked_csv(path, AUDIT_FILE, AUDIT_COLUMNS, ("sku", "warehouse"))
    if frame is None or problems:
        return None, problems
    rates = frame.dropna(subset=["baseline_rate"]).set_index(["sku", "warehouse"])["baseline_rate"]
    return rates.astype(float), []


def load_monitor_inputs(campaign: Campaign, run_dir: str | Path, actuals_path: str | Path,
                        as_of: dt.date | None = None
                        ) -> tuple[PlanRunFiles, Actuals, pd.Series | None]:
    """All three inputs, checked together; raises one InputError listing every problem."""
    run, problems = read_plan_run(run_dir, campaign.config.name)
    actuals, found = read_actuals(actuals_path, campaign, as_of)
    problems += found
    rates, found = read_run_up_rates(campaign)
    problems += found
    if problems:
        raise InputError(problems, campaign.root)
    return run, actuals, rates


__all__ = [
    "AUDIT_FILE",
    "Actuals",
    "campaign_row_problems",
    "load_monitor_inputs",
    "read_actuals",
    "read_run_up_rates",
]
