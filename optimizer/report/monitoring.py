"""Tables of in-campaign monitoring for the monitor notebook (facts, flags)."""

from __future__ import annotations

import pandas as pd

from optimizer.monitor.campaign_monitor import MonitorResult


def monitor_facts(result: MonitorResult) -> pd.DataFrame:
    """What was compared, over which days, the status counts and the top-up budget and spend."""
    i, counts = result.info, result.info["status_counts"]
    rows = [("as of", i["as_of"]), ("actuals from", i["first_date"]),
            ("last week", " .. ".join(i["last_week"])), ("week before", " .. ".join(i["previous_week"])),
            ("run-up pace", i["run_up_pace"] or "none (no forecast_audit.csv)"),
            ("promo pace", i["promo_pace"])]
    rows += [(k.replace("_", " "), f"{counts.get(k, 0):,}")
             for k in ("stop_loss", "running_ahead", "behind_1_week", "on_plan", "not_judged")]
    rows += [("top-up modes", ", ".join(i["modes"])), ("top-up budget", f"{i['topup_budget']:,.2f}")]
    if i["topup"]:
        t = i["topup"]
        rows += [("top-up spend", f"{t['spend']:,.2f}"), ("top-up units", f"{t['units_ordered']:,}"),
                 ("top-up expected profit", f"{t['expected_profit']:,.2f}"), ("top-up status", t["status"])]
    return pd.DataFrame(rows, columns=["", "value"])



FLAG_VIEW = ["sku", "warehouse", "status", "action", "plan_prev_week", "actual_prev_week",
             "plan_last_week", "actual_last_week", "pace", "stock_left", "remaining_demand_at_pace",
             "topup_units", "topup_cost"]



def flag_table(result: MonitorResult, statuses=("stop_loss", "running_ahead", "behind_1_week")) -> pd.DataFrame:
    """The flags table's rows with these statuses, in the columns an analyst reads first."""
    f = result.flags
    return f.loc[f["status"].isin(statuses), FLAG_VIEW].reset_index(drop=True)


__all__ = [
    "FLAG_VIEW",
    "flag_table",
    "monitor_facts",
]
