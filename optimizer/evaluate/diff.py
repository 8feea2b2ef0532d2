"""What changed between two runs of a campaign (a lead-time or budget rerun).

``diff_runs(previous_run_dir, new_run_dir)`` reads two run folders (SPEC §3 files)
and returns a dict of DataFrames:

* ``totals``     — summary.json figures (expected profit, spend, fill rate, …):
  previous, new and the difference.
* ``moved``      — plan lines that switched **mode** (same SKU and warehouse, other
  transport modes) or **warehouse** (same SKU, other warehouses), before → after.
* ``quantities`` — units per (sku, warehouse, mode) that went up or down (also new
  and dropped lines), with the change in line cost.
* ``newly_late`` — (sku, warehouse) pairs with demand that had a usable route
  (one meeting the check-in cutoff) before and have none now.
* ``lost_routes`` — (sku, warehouse, mode) routes usable before and late now.

Route coverage comes from ``coverage.csv`` in the run folder (the report layer
writes it: :func:`coverage_table`); for a run folder without one (``plan`` runs)
it is re-derived from the campaign folder and overrides in its summary.json.
That folder is recorded as an absolute path; a relative one (older run folders)
is looked up from the current folder and used only when it holds the run's
campaign, with a note saying so.

Ids are compared as written (``NA`` is a warehouse like any other).  A missing run
file raises :class:`~optimizer.io.run_folder.NotARunFolder`, a damaged one
:class:`~optimizer.io.run_folder.RunFileError`; both name the file.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.io.run_folder import SUMMARY_FILE, RunFileError, read_coverage, read_plan, read_summary
from optimizer.io.summary import Overrides, RunSummary
from optimizer.prep.instance import Instance

TOTALS = ["expected_profit", "spend", "purchase_spend", "shipment_spend", "budget",
          "expected_fill_rate", "expected_leftover_units", "expected_leftover_cost",
          "units_ordered", "skus_ordered"]
KEY = ["sku", "warehouse", "mode"]


def coverage_table(inst: Instance) -> pd.DataFrame:
    """Every (sku, warehouse, mode): usable (meets the cutoff) or not, slack days, pair demand."""
    cols = ["slack_days", "transit_days"]
    routes = pd.concat([inst.routes[cols].assign(usable=True),
                        inst.late_routes[cols].assign(usable=False)])
    mean = inst.pairs["mean"].reindex(routes.index.droplevel("mode")).fillna(0.0).to_numpy()
    out = routes.assign(demand_mean=mean).reset_index()
    return out[KEY + ["usable", "slack_days", "transit_days", "demand_mean"]].sort_values(KEY)


def diff_runs(previous_run_dir: str | Path, new_run_dir: str | Path,
              notes: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Differences from the previous run to the new one (see the module docstring).

    ``notes``, when given, receives what a reader of the diff should know: that the
    two runs planned different campaigns or campaign folders, or that a campaign
    folder recorded as a relative path was read from the current folder.
    """
    a, b = Path(previous_run_dir), Path(new_run_dir)
    sa, sb = read_summary(a), read_summary(b)
    found = _campaign_notes(a, sa, b, sb)
    plan_a, plan_b = _plan(a), _plan(b)
    cov_a, cov_b = _coverage(a, sa, found), _coverage(b, sb, found)
    late, lost = _newly_late(cov_a, cov_b)
    if notes is not None:
        notes += found
    return {
        "totals": _totals(sa, sb),
        "moved": _moved(plan_a, plan_b),
        "quantities": _quantities(plan_a, plan_b),
        "newly_late": late,
        "lost_routes": lost,
    }


def format_diff(diff: dict[str, pd.DataFrame]) -> str:
    """The diff as plain text, one titled table per part (the command line's output)."""
    titles = {"totals": "Totals", "moved": "Lines that switched mode or warehouse",
              "quantities": "Quantity changes per sku × warehouse × mode",
              "newly_late": "Pairs with demand that newly miss their cutoff (no usable route now)",
              "lost_routes": "Routes that made the cutoff before and miss it now"}
    parts = []
    for key, title in titles.items():
        df = diff[key]
        body = "  (none)" if df.empty else df.to_string(index=False, float_format=lambda x: f"{x:,.4f}")
        parts.append(f"{title}:\n{body}")
    return "\n\n".join(parts)


# ---------------------------------------------------------------- reading


def _plan(run: Path) -> pd.DataFrame:
    return read_plan(run)[KEY + ["units", "line_cost"]]


def _coverage(run: Path, summary: RunSummary, notes: list[str]) -> pd.DataFrame:
    coverage = read_coverage(run)
    if coverage is not None:
        return coverage
    from optimizer.io.campaign import load_campaign
    from optimizer.prep.instance import build_instance
    from optimizer.settings import Settings

    o = summary.overrides or Overrides()
    inst = build_instance(load_campaign(_campaign_folder(run, summary, notes)),
                          Settings(budget=o.budget, delays=o.delays))
    return coverage_table(inst)


def _campaign_folder(run: Path, summary: RunSummary, notes: list[str]) -> Path:
    """The campaign folder a plan run was made from (its coverage is re-derived from it)."""
    path = run / SUMMARY_FILE
    recorded = summary.campaign_dir
    why = "the route coverage (the run folder has no coverage.csv) is re-derived from it"
    if not recorded:
        raise RunFileError(path, f"has no campaign_dir naming the campaign folder: {why}")
    folder = Path(recorded)
    if folder.is_absolute():
        if not folder.is_dir():
            raise RunFileError(path, f"the campaign folder {recorded} in campaign_dir does not exist "
                                     f"(any more): {why}")
        return folder
    name = summary.campaign
    here = folder.resolve()
    if here.is_dir() and name is not None and _campaign_name(here) == name:
        notes.append(f"{path} records the campaign folder as the relative path {recorded!r}, without the "
                     f"folder it is relative to; read as {here} (from the current folder), which holds "
                     f"campaign {name!r}")
        return here
    found = (f"{here} holds no campaign {name!r}" if here.is_dir() else f"there is no {here}")
    raise RunFileError(path, f"campaign_dir {recorded!r} is a relative path and the folder it is relative to "
                             f"is not recorded ({found}): {why}; run diff from the folder the plan was made "
                             "in, or write the campaign folder's absolute path into campaign_dir")


def _campaign_name(folder: Path) -> str | None:
    """``name`` of ``folder/campaign.toml`` (None when it cannot be read)."""
    try:
        with open(folder / "campaign.toml", "rb") as f:
            return tomllib.load(f).get("name")
    except (OSError, ValueError):
        return None


def _campaign_notes(a: Path, sa: RunSummary, b: Path, sb: RunSummary) -> list[str]:
    """A note when the two runs planned different campaigns or campaign folders."""
    name_a, name_b = sa.campaign, sb.campaign
    if name_a != name_b:
        return [f"the runs plan different campaigns: {name_a!r} ({a}) and {name_b!r} ({b})"]
    dir_a, dir_b = sa.campaign_dir, sb.campaign_dir
    if all(d and Path(d).is_absolute() for d in (dir_a, dir_b)) and dir_a != dir_b:
        return [f"the runs of campaign {name_a!r} were made from different campaign folders: "
                f"{dir_a} ({a}) and {dir_b} ({b})"]
    return []


# ---------------------------------------------------------------- parts


def _totals(sa: RunSummary, sb: RunSummary) -> pd.DataFrame:
    rows = []
    for k in TOTALS:  # RunSummary fields, each a number or None
        va, vb = getattr(sa, k), getattr(sb, k)
        delta = None if va is None or vb is None else vb - va
        rows.append((k, va, vb, delta))
    return pd.DataFrame(rows, columns=["metric", "previous", "new", "change"])


def _moved(pa: pd.DataFrame, pb: pd.DataFrame) -> pd.DataFrame:
    cols = ["sku", "change", "warehouse", "before", "after", "units_before", "units_after"]
    rows = []

    def used(plan, by):
        return plan.groupby(by).agg(where=(KEY[len(by)], lambda s: ", ".join(sorted(set(s)))),
                                    units=("units", "sum"))

    for by, change in ((["sku", "warehouse"], "mode"), (["sku"], "warehouse")):
        ua, ub = used(pa, by), used(pb, by)
        both = ua.merge(ub, how="inner", left_index=True, right_index=True, suffixes=("_a", "_b"))
        for key, r in both[both["where_a"] != both["where_b"]].iterrows():
            sku, wh = (key if isinstance(key, tuple) else (key, ""))
            rows.append((sku, change, wh, r["where_a"], r["where_b"], r["units_a"], r["units_b"]))
    return pd.DataFrame(rows, columns=cols).sort_values(["sku", "change"]).reset_index(drop=True)


def _quantities(pa: pd.DataFrame, pb: pd.DataFrame) -> pd.DataFrame:
    q = pa.set_index(KEY).merge(pb.set_index(KEY), how="outer", left_index=True, right_index=True,
                                suffixes=("_before", "_after"))
    q = q.fillna(0.0)
    q["units_change"] = q["units_after"] - q["units_before"]
    q["cost_change"] = q["line_cost_after"] - q["line_cost_before"]
    q = q[q["units_change"] != 0].copy()
    q["direction"] = np.select(
        [q["units_before"] == 0, q["units_after"] == 0, q["units_change"] > 0],
        ["new", "dropped", "up"], "down")
    q[["units_before", "units_after", "units_change"]] = q[
        ["units_before", "units_after", "units_change"]].astype("int64")
    return q.reset_index()[KEY + ["direction", "units_before", "units_after", "units_change",
                                  "cost_change"]]


def _newly_late(ca: pd.DataFrame, cb: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    both = ca.set_index(KEY).merge(cb.set_index(KEY), how="inner", left_index=True, right_index=True,
                                  suffixes=("_before", "_after"))
    lost = both[both["usable_before"].astype(bool) & ~both["usable_after"].astype(bool)]
    lost = lost.reset_index()[KEY + ["slack_days_before", "slack_days_after", "demand_mean_after"]]
    lost = lost.rename(columns={"demand_mean_after": "demand_mean"})
    pair = both.groupby(level=["sku", "warehouse"]).agg(
        before=("usable_before", "any"), now=("usable_after", "any"),
        demand_mean=("demand_mean_after", "max"), best_slack_days=("slack_days_after", "max"))
    late = pair[pair["before"] & ~pair["now"] & (pair["demand_mean"] > 0)]
    late = late.reset_index()[["sku", "warehouse", "demand_mean", "best_slack_days"]]
    return late, lost


__all__ = ["diff_runs", "format_diff", "coverage_table"]
