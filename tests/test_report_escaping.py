"""Untrusted text in the rendered report's HTML: the currency and the money it formats.

campaign.toml admits only a three-letter currency code (tests/test_io_campaign.py), so
these tests put a hostile currency into a loaded campaign's config directly: every place
the report writes money into HTML must escape it all the same.
"""

from __future__ import annotations

import pandas as pd
import pytest

from optimizer import report

from conftest import REPO

TINY = REPO / "data" / "tiny"
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    run = report.plan_into(TINY, tmp_path_factory.mktemp("run") / "r", time_limit_s=20)
    config = run.instance.campaign.config
    object.__setattr__(config, "currency", HOSTILE)
    assert run.instance.campaign.config.currency == HOSTILE and not run.evaluation.lines.empty
    return run


def _no_live_markup(page: str) -> None:
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_action_list_escapes_the_currency(hostile_run):
    _no_live_markup(report.action_list_html(hostile_run.instance, hostile_run.evaluation, rows_per_window=1))


def test_frontier_note_escapes_the_currency(hostile_run):
    budget = float(hostile_run.instance.campaign.config.budget)
    frontier = pd.DataFrame({"budget": [budget / 2, budget * 2], "expected_profit": [1.0, 2.0],
                             "marginal_profit_per_budget": [0.5, 0.25]})
    frontier.attrs.update(recommended_budget=budget, hurdle=0.0)
    page = report.frontier_note(hostile_run.instance.campaign, frontier)
    assert "Recommended budget" in page and "At the campaign budget" in page
    _no_live_markup(page)


def test_cards_title_and_tables_escape_the_currency(hostile_run):
    inst, ev = hostile_run.instance, hostile_run.evaluation
    _no_live_markup(report.summary_cards(inst, ev, hostile_run.summary))
    _no_live_markup(report.title_html(inst))
    _no_live_markup(report.table_html(report.purchase_orders(inst, ev), currency=HOSTILE))
    _no_live_markup(report.table_html(report.kpi_table(inst, ev)))
    _no_live_markup(report.table_html(report.payment_schedule(inst, ev)))
