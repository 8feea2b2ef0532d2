"""The report's section on a two-stage plan (SPEC §8), after the action list.

:func:`two_stage_html` says what the plan keeps back and why: the reserve (budget left
after the orders placed now) and the top-up spend it expects; the profit of the two-stage
plan next to the plan made for one stage and topped up later, that plan without a top-up
and, where computed, the perfect-information profit — each out of sample with its standard
error, and the value of flexibility; then the policy of the SKUs with the largest expected
top-ups, as rules a buyer follows (:mod:`optimizer.evaluate.policy`).  For a one-stage run
it is empty.
"""

from __future__ import annotations

import html

import pandas as pd

from optimizer.io.summary import RunSummary
from optimizer.report.decision import CARD_STYLE, _card, _money, _pct
from optimizer.report.html import table_html

#: Policy rows the section shows (the pairs with the largest expected top-up first).
POLICY_ROWS = 10


def _error(se: float | None, sampled: bool, currency: str) -> str:
    """A standard error in words: none on scenarios.csv's own scenarios (exact), none on fresh
    ones when the two plans agree in every scenario."""
    if se:
        return f"± {_money(se, currency)} (standard error)"
    return "the same in every evaluation scenario" if sampled else "exact"


def _estimate(value: float | None, se: float | None, sampled: bool, currency: str) -> tuple[str, str]:
    if value is None:
        return "not computed", "at this size (SPEC §8 allows a bound; none is reported)"
    return _money(value, currency), _error(se, sampled, currency)


def two_stage_html(summary: RunSummary, policy: pd.DataFrame | None) -> str:
    """The section of the module docstring (HTML, every text escaped); "" for a one-stage run."""
    s = summary
    if s.recourse_date is None:
        return ""
    cur = s.currency or ""
    reserve_share = s.reserve / s.budget if s.budget else float("nan")
    cards = [
        _card("Kept back", _money(s.reserve, cur), f"{_pct(reserve_share)} of the budget, for top-ups on "
                                                    f"{s.recourse_date}"),
        _card("Expected top-up spend", _money(s.expected_stage2_spend, cur),
              f"over {s.planning_scenarios:,} planning scenarios"),
    ]
    rows = [("Two-stage plan", s.two_stage_profit, s.two_stage_profit_se),
            ("Planned for one stage, topped up", s.single_stage_profit, s.single_stage_profit_se),
            ("Planned for one stage, no top-up", s.no_recourse_profit, s.no_recourse_profit_se),
            ("Perfect information", s.perfect_information_profit, s.perfect_information_profit_se)]
    sampled = s.evaluation_seed is not None
    for title, value, se in rows:
        text, detail = _estimate(value, se, sampled, cur)
        if title == "Perfect information" and s.perfect_information_is_bound and value is not None:
            text, detail = f"at most {text}", f"a bound: only the budget kept of the rules; {detail}"
        cards.append(_card(title, text, detail))
    vof = s.value_of_flexibility
    if vof is not None:
        cards.append(_card("Value of flexibility", _money(vof, cur, signed=True),
                           f"the two-stage plan less the one-stage plan topped up; "
                           f"{_error(s.value_of_flexibility_se, sampled, cur)}", "good" if vof > 0 else ""))
    where = (f"{s.evaluation_scenarios:,} fresh scenarios (seed {s.evaluation_seed}), not the scenarios the plan "
             "was made on" if sampled else
             f"the {s.evaluation_scenarios:,} scenarios of scenarios.csv, the ones the plan was made on (exact)")
    text = (f"<h2>Kept back for the top-up</h2><p>The purchase orders placed now are stage 1. On {html.escape(str(s.recourse_date))} "
            f"the run-up and presales show which SKUs are hot; the top-up is then ordered from what is kept back. "
            f"Profits evaluated on {html.escape(where)}.</p>")
    text += CARD_STYLE + '<div class="cards">' + "".join(cards) + "</div>"
    if policy is None or policy.empty:
        return text + "<p>No scenario calls for a top-up: the plan keeps nothing back that would pay.</p>"
    top_pairs = (policy.groupby(["sku", "warehouse"])["expected_units"].sum()
                 .sort_values(ascending=False).head(POLICY_ROWS).index)
    shown = policy.set_index(["sku", "warehouse"]).loc[top_pairs].reset_index()
    shown = shown.assign(pace_from=shown["pace_from"].map("{:.0%}".format),
                         share=shown["share"].map("{:.1%}".format))
    table = shown[["sku", "warehouse", "mode", "pace_from", "units", "order_up_to", "share", "rule"]].rename(
        columns={"pace_from": "pace from", "order_up_to": "order up to", "share": "probability"})
    n = len(top_pairs)
    caption = (f"Top-up policy of the {n} pair{'s' if n > 1 else ''} with the largest expected top-up "
               "(every pair in policy.csv): a pair's row is the last whose pace it reaches")
    return text + table_html(table, caption=caption, csv="policy.csv")


__all__ = ["POLICY_ROWS", "two_stage_html"]
