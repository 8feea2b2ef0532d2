"""Inputs of in-campaign monitoring (``python -m optimizer monitor``), read and checked.

* the **actuals file** (e.g. ``actuals.csv``): ``date``, ``sku``, ``warehouse``,
  ``units`` (>= 0, units sold that day).  One row per day × sku × warehouse; a day
  without a row is a day with no sales (exports often leave zero days out).  Dates
  must lie in ``[planning_date, promo_end]``; rows after ``--as-of`` are left out
  (noted).  Every sku and warehouse must exist in skus.csv / warehouses.csv: a
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
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from optimizer.io import checks
from optimizer.io.campaign import Campaign, read_cells
from optimizer.io.checks import Col, Table
from optimizer.io.errors import InputError, Problem

AUDIT_FILE = "forecast_audit.csv"
ACTUALS_COLUMNS = (Col("date", "date"), Col("sku", "str"), Col("warehouse", "str"),
                   Col("units", "float", ge=0))
AUDIT_COLUMNS = (Col("sku", "str"), Col("warehouse", "str"),
                 Col("baseline_rate", "float", ge=0, blank_ok=True))
PLAN_COLUMNS = (Col("sku", "str"), Col("warehouse", "str"), Col("mode", "str"),
                Col("units", "int", ge=0), Col("ship_by", "date"))
SUMMARY_COLUMNS = (Col("sku", "str"), Col("warehouse", "str"), Col("existing", "int", ge=0),
                   Col("ordered", "int", ge=0), Col("available", "int", ge=0),
                   Col("mean", "float", ge=0), Col("sd", "float", ge=0))
MAX_LISTED = 20  # problems listed per column; the rest are counted


@dataclass
class Actuals:
    """Validated daily sales: ``sales`` has date (datetime.date), sku, warehouse, units."""

    sales: pd.DataFrame
    first_date: dt.date
    as_of: dt.date
    notes: list[str] = field(default_factory=list)


@dataclass
class MonitoredRun:
    """The plan being monitored (a ``plan`` run folder)."""

    folder: Path
    summary: dict
    lines: pd.DataFrame   # plan.csv: sku, warehouse, mode, units, ship_by
    pairs: pd.DataFrame   # sku_summary.csv, index (sku, warehouse)

    @property
    def budget(self) -> float:
        return float(self.summary["budget"])

    @property
    def spend(self) -> float:
        return float(self.summary["spend"])


def _checked(path: Path, file: str, columns: tuple[Col, ...], key: tuple[str, ...],
             min_rows: int = 0) -> tuple[pd.DataFrame | None, list[Problem]]:
    """One CSV file through the same reader and column rules as the campaign files."""
    if not path.is_file():
        return None, [Problem(file, None, None, "required file is missing")]
    raw, problems = read_cells(path, file)
    if raw is None:
        return None, problems
    checked, found = checks.check_table(Table(file, columns, key=key, min_rows=min_rows), raw)
    problems += found
    return checked.frame, _limited(problems)


def _limited(problems: list[Problem]) -> list[Problem]:
    """At most MAX_LISTED problems per (file, column); the rest counted in one line."""
    seen: dict[tuple, int] = {}
    out = []
    for p in problems:
        k = (p.file, p.column)
        seen[k] = seen.get(k, 0) + 1
        if seen[k] <= MAX_LISTED:
            out.append(p)
    for (file, column), n in seen.items():
        if n > MAX_LISTED:
            out.append(Problem(file, None, column, f"... and {n - MAX_LISTED} more rows like these"))
    return out


def read_actuals(path: str | Path, campaign: Campaign,
                 as_of: dt.date | None = None) -> tuple[Actuals | None, list[Problem]]:
    """Read and check the actuals file; ``as_of`` defaults to its last date."""
    path = Path(path)
    file = str(path)
    frame, problems = _checked(path, file, ACTUALS_COLUMNS, ("date", "sku", "warehouse"), min_rows=1)
    if frame is None or problems:
        return None, problems
    cfg = campaign.config
    skus, whs = set(campaign.skus["sku"]), set(campaign.warehouses["warehouse"])
    for line, v in frame.loc[~frame["sku"].isin(skus), "sku"].items():
        problems.append(Problem(file, line, "sku", f"unknown sku '{v}': not in skus.csv"))
    for line, v in frame.loc[~frame["warehouse"].isin(whs), "warehouse"].items():
        problems.append(Problem(file, line, "warehouse",
                                f"unknown warehouse '{v}': not in warehouses.csv"))
    for line, d in frame.loc[frame["date"] < cfg.planning_date, "date"].items():
        problems.append(Problem(file, line, "date", f"{d} is before planning_date "
                                f"({cfg.planning_date}): actuals are sales after the plan was made"))
    for line, d in frame.loc[frame["date"] > cfg.promo_end, "date"].items():
        problems.append(Problem(file, line, "date", f"{d} is after promo_end "
                                f"({cfg.promo_end}): the campaign is over"))
    problems.sort(key=lambda p: (p.row or 0, ["date", "sku", "warehouse", "units"].index(p.column)))
    problems = _limited(problems)
    last = max(frame["date"])
    as_of = as_of or last
    first = min(frame["date"])
    if as_of < first:
        problems.append(Problem("command line", None, "--as-of",
                                f"{as_of} is before the first date in {path.name} ({first})"))
    elif not cfg.planning_date <= as_of <= cfg.promo_end:
        problems.append(Problem("command line", None, "--as-of",
                                f"{as_of} is outside planning_date .. promo_end "
                                f"({cfg.planning_date} .. {cfg.promo_end})"))
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


def read_run(folder: str | Path, campaign: Campaign) -> tuple[MonitoredRun | None, list[Problem]]:
    """Read the monitored run folder (summary.json, plan.csv, sku_summary.csv)."""
    folder = Path(folder)
    if not folder.is_dir():
        return None, [Problem(str(folder), None, None, "run folder does not exist")]
    problems: list[Problem] = []
    summary_file = str(folder / "summary.json")
    summary = None
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(Problem(summary_file, None, None,
                                "required file is missing: is this a `python -m optimizer plan` run folder?"))
    except (OSError, ValueError) as e:
        problems.append(Problem(summary_file, None, None, f"cannot be read as JSON: {e}"))
    if isinstance(summary, dict):
        for key in ("budget", "spend"):
            if not isinstance(summary.get(key), (int, float)) or isinstance(summary.get(key), bool):
                problems.append(Problem(summary_file, None, key, "must be a number"))
        if summary.get("campaign") not in (None, campaign.config.name):
            problems.append(Problem(summary_file, None, "campaign",
                                    f"this run planned {summary['campaign']!r}, not "
                                    f"{campaign.config.name!r}"))
    elif summary is not None:
        problems.append(Problem(summary_file, None, None, "must be a JSON object"))
    lines, found = _checked(folder / "plan.csv", str(folder / "plan.csv"), PLAN_COLUMNS,
                            ("sku", "warehouse", "mode"))
    problems += found
    pairs, found = _checked(folder / "sku_summary.csv", str(folder / "sku_summary.csv"),
                            SUMMARY_COLUMNS, ("sku", "warehouse"))
    problems += found
    if problems:
        return None, problems
    lines = lines[[c.name for c in PLAN_COLUMNS]].reset_index(drop=True)
    pairs = pairs[[c.name for c in SUMMARY_COLUMNS]].set_index(["sku", "warehouse"]).sort_index()
    return MonitoredRun(folder, summary, lines, pairs), []


def read_run_up_rates(campaign: Campaign) -> tuple[pd.Series | None, list[Problem]]:
    """``baseline_rate`` per (sku, warehouse) from forecast_audit.csv, or None without the file."""
    path = Path(campaign.root) / AUDIT_FILE
    if not path.exists():
        return None, []
    frame, problems = _checked(path, AUDIT_FILE, AUDIT_COLUMNS, ("sku", "warehouse"))
    if frame is None or problems:
        return None, problems
    rates = frame.dropna(subset=["baseline_rate"]).set_index(["sku", "warehouse"])["baseline_rate"]
    return rates.astype(float), []


def load_monitor_inputs(campaign: Campaign, run_dir: str | Path, actuals_path: str | Path,
                        as_of: dt.date | None = None
                        ) -> tuple[MonitoredRun, Actuals, pd.Series | None]:
    """All three inputs, checked together; raises one InputError listing every problem."""
    run, problems = read_run(run_dir, campaign)
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
    "MonitoredRun",
    "load_monitor_inputs",
    "read_actuals",
    "read_run",
    "read_run_up_rates",
]
