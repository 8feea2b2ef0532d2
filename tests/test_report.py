"""The report layer: `python -m optimizer report` end to end, and the report tables.

End-to-end runs use data/tiny with a short time limit; the table tests plan the
tiny campaign once in process.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import shutil
import sqlite3
from pathlib import Path

import nbformat
import numpy as np
import openpyxl
import pandas as pd
import pytest

from optimizer import report
from optimizer.cli import main
from optimizer.io.campaign import load_campaign
from optimizer.io.run_folder import new_run_dir
from optimizer.prep.instance import build_instance
from optimizer.settings import Settings

from conftest import (
    OWN_CAMPAIGNS,
    REPO,
    SHARED_CONFORMANCE_V2,
    SHARED_CONFORMANCE_V3,
    case_folders,
    conformance_cases,
    load_expected,
    run_cli,
)

TINY = REPO / "data" / "tiny"
KPI_NAMES = ["Expected profit", "Spend", "Budget used", "Expected fill rate",
             "Expected sell-through", "Expected leftover units", "Expected leftover value",
             "Average stockout probability"]


# ---------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def cli_report(tmp_path_factory):
    """The real command line, run by this interpreter (the venv's python)."""
    root = tmp_path_factory.mktemp("reports")
    proc = run_cli(["report", str(TINY), "--time-limit", "20", "--budget", "29000",
                    "--delay", "air=1", "--reports-dir", str(root)], timeout=300)
    return proc, root


@pytest.mark.notebook
def test_report_command_writes_html_notebook_plan_files(cli_report):
    proc, root = cli_report
    assert proc.returncode == 0, proc.stderr
    html_path = Path(proc.stdout.strip().splitlines()[-1])
    assert html_path.name == "report.html" and html_path.is_file()
    run_dir = html_path.parent
    assert run_dir.parent == root / "tiny-demo"
    for name in ("campaign_plan.ipynb", "plan.csv", "shipments.csv", "sku_summary.csv",
                 "summary.json", "purchase_orders.xlsx"):
        assert (run_dir / name).is_file(), name
    assert not (run_dir / ".plan").exists()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["overrides"] == {"budget": 29000.0, "delays": {"air": 1}}
    nb = nbformat.read(run_dir / "campaign_plan.ipynb", as_version=4)
    assert "parameters" in nb.cells[0].metadata["tags"]
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)


@pytest.mark.notebook
def test_report_html_has_kpis_tables_and_offline_charts(cli_report):
    proc, _ = cli_report
    page = Path(proc.stdout.strip().splitlines()[-1]).read_text(encoding="utf-8")
    for kpi in KPI_NAMES:
        assert kpi in page, kpi
    for heading in ("Purchase orders", "Shipping plan", "Allocation by warehouse and mode",
                    "Timeline", "SKUs no lane can bring in time", "Against the spreadsheet rule (feasible)",
                    "Profit risk", "ABC classes and stock health", "Chance of a loss",
                    "share of expected revenue", "Profit and cash", "Supplier payments"):
        assert heading in page, heading
    assert "Cash limits" not in page  # data/tiny has no [[cash_limits]]
    assert page.count('class="dataframe report-table"') >= 8
    assert "BEA-00006" in page and "order by" in page and "ship by" in page
    # the decision first: summary cards, then the action list, the appendix collapsed last
    first = {k: page.index(k) for k in ('class="cards"', 'id="What-to-order,-and-by-when"',
                                        'id="Profit-and-cash"', 'id="Details"', 'id="Appendix"')}
    assert list(first) == sorted(first, key=first.get), first
    assert 'class="cards"' in page and "Against the spreadsheet rule (feasible)" in page and "within 7 days" in page
    assert page.count("<details>") == 6
    # profit waterfall, cash curve, allocation ×2, timeline, simulated-profit histogram
    assert page.count("Plotly.newPlot(") == 6
    assert page.count("window.Plotly = Plotly") == 1  # plotly.js inlined exactly once
    assert "cdn.plot.ly/plotly" not in page and "require.min.js" not in page
    assert "from optimizer import report" not in page  # code hidden


@pytest.mark.notebook
def test_report_workbook_and_history(cli_report):
    proc, root = cli_report
    run_dir = Path(proc.stdout.strip().splitlines()[-1]).parent
    wb = openpyxl.load_workbook(run_dir / "purchase_orders.xlsx")
    plan = pd.read_csv(run_dir / "plan.csv")
    suppliers = set(pd.read_csv(TINY / "skus.csv").set_index("sku").loc[plan["sku"], "supplier"])
    assert wb.sheetnames[0] == "Summary" and wb.sheetnames[-2:] == ["Payment schedule", "Shipping plan"]
    pos = [_read_po_sheet(wb[name]) for name in wb.sheetnames[1:-2]]  # one per supplier and PO date
    assert {po["header"]["Supplier id"].value for po in pos} == suppliers
    assert len(pos) == len(plan.merge(pd.read_csv(TINY / "skus.csv"), on="sku")
                          .groupby(["supplier", "po_date"]))
    assert {"SKU", "Units", "Unit price", "Line total", "Ship by"} <= set(pos[0]["titles"])
    with sqlite3.connect(root / "history.sqlite") as con:
        rows = con.execute("SELECT campaign, run_id, parameters, input_sha256, status, "
                           "expected_profit, spend, build_seconds, solve_seconds, run_dir "
                           "FROM runs").fetchall()
    assert len(rows) == 1
    campaign, run_id, params, sha, status, profit, spend, build_s, solve_s, folder = rows[0]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert campaign == "Tiny demo" and run_id == run_dir.name and Path(folder) == run_dir
    assert json.loads(params)["budget"] == 29000.0 and json.loads(params)["delays"] == {"air": 1}
    assert len(sha) == 64 and status == summary["status"]
    assert profit == pytest.approx(summary["expected_profit"])
    assert spend == pytest.approx(summary["spend"]) and build_s >= 0 and solve_s >= 0


def _failing_notebook(path: Path) -> Path:
    nb = nbformat.read(REPO / "notebooks" / "campaign_plan.ipynb", as_version=4)
    nb.cells = [nb.cells[0], nbformat.v4.new_code_cell('raise RuntimeError("boom in the notebook")')]
    nbformat.write(nb, path)
    return path


@pytest.mark.notebook
def test_notebook_failure_keeps_error_notebook_and_exits_1(tmp_path, capsys):
    root = tmp_path / "reports"
    code = main(["report", str(TINY), "--reports-dir", str(root),
                 "--notebook", str(_failing_notebook(tmp_path / "bad.ipynb"))])
    err = capsys.readouterr().err
    assert code == 1
    errors = [line for line in err.strip().splitlines() if not line.startswith("report ")]  # not progress
    assert len(errors) == 1 and "boom in the notebook" in err
    (run_dir,) = (root / "tiny-demo").iterdir()
    executed = run_dir / "campaign_plan.ipynb"
    assert executed.is_file() and str(executed) in err
    nb = nbformat.read(executed, as_version=4)
    assert any(o.get("ename") == "RuntimeError" for c in nb.cells if c.cell_type == "code"
               for o in c.get("outputs", []))
    assert not (run_dir / "report.html").exists()
    with sqlite3.connect(root / "history.sqlite") as con:
        assert con.execute("SELECT status FROM runs").fetchall() == [("failed",)]


def test_bad_campaign_exits_2_before_any_notebook(tmp_path, capsys):
    bad = tmp_path / "campaign"
    shutil.copytree(TINY, bad)
    (bad / "skus.csv").write_text((bad / "skus.csv").read_text().replace("2.67", "-2.67"))
    root = tmp_path / "reports"
    assert main(["report", str(bad), "--reports-dir", str(root)]) == 2
    err = capsys.readouterr().err
    assert "skus.csv" in err and "unit_cost" in err and "Traceback" not in err
    assert not root.exists()
    assert main(["report", str(TINY), "--delay", "boat=3", "--reports-dir", str(root)]) == 2
    assert not root.exists()


def test_run_folders_never_collide(tmp_path):
    dirs = {new_run_dir("Tiny demo", tmp_path) for _ in range(20)}
    assert len(dirs) == 20 and all(d.is_dir() and d.parent == tmp_path / "tiny-demo" for d in dirs)


# ---------------------------------------------------------------- tables


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    return report.plan_into(TINY, tmp_path_factory.mktemp("run") / "r", time_limit_s=20)


def test_plan_into_puts_plan_files_in_run_dir(tiny_run):
    names = {p.name for p in tiny_run.out_dir.iterdir()}
    assert {"plan.csv", "shipments.csv", "sku_summary.csv", "summary.json"} <= names
    assert ".plan" not in names


def test_headline_kpis_match_summary(tiny_run):
    k = report.headline_kpis(tiny_run.instance, tiny_run.evaluation).set_index("KPI")["value"]
    s = tiny_run.summary
    assert k["Expected profit"] == pytest.approx(s.expected_profit)
    assert k["Spend"] == pytest.approx(s.spend)
    assert k["Expected fill rate"] == pytest.approx(s.expected_fill_rate, abs=1e-6)
    assert k["Expected leftover units"] == pytest.approx(s.expected_leftover_units, abs=1e-3)
    assert k["Expected leftover value (at cost incl. duty)"] == pytest.approx(s.expected_leftover_cost, abs=1e-3)
    pairs = tiny_run.evaluation.pairs
    assert k["Expected sell-through"] == pytest.approx(
        pairs["expected_sales"].sum() / pairs["available"].sum())
    assert 0 <= k["Average stockout probability"] <= 1


def test_purchase_orders_and_shipping_plan(tiny_run):
    inst, ev = tiny_run.instance, tiny_run.evaluation
    po = report.purchase_orders(inst, ev)
    assert po["units"].sum() == ev.lines["units"].sum()
    assert (po["po_value"] == po["units"] * po["unit_cost"]).all()
    sup = report.supplier_summary(inst, ev)
    assert sup["po_value"].sum() == pytest.approx(po["po_value"].sum())
    assert (sup["po_value"] >= sup["min_order_value"] - 1e-6).all()
    ship = report.shipping_plan(inst, ev)
    assert ship["units"].sum() == ev.lines["units"].sum()
    assert ship["shipment_cost"].sum() == pytest.approx(ev.shipment_spend)
    assert (ship["ship_by"] <= ship["cutoff"]).all()
    t = report.timeline(inst, ev)
    assert (t["order_by"] <= t["ship_by"]).all() and (t["ship_by"] <= t["cutoff"]).all()


def test_figures_are_plotly(tiny_run):
    inst, ev = tiny_run.instance, tiny_run.evaluation
    for fig in (report.allocation_by_warehouse_figure(ev), report.allocation_by_mode_figure(ev),
                report.timeline_figure(inst, ev)):
        assert fig.data and "<div" in fig.to_html(full_html=False, include_plotlyjs=False)


def test_action_list_windows_add_up_to_the_purchase_orders(tiny_run):
    """Orders by PO date, one row per supplier and date, in windows from the planning
    date; their units and values are the plan's, window by window in date order."""
    inst, ev = tiny_run.instance, tiny_run.evaluation
    due = report.orders_due(inst, ev)
    po = report.purchase_orders(inst, ev)
    assert due["units"].sum() == po["units"].sum()
    assert due["value"].sum() == pytest.approx(po["po_value"].sum())
    assert list(due["po_date"]) == sorted(due["po_date"])
    assert len(due) == len(ev.lines.merge(inst.skus[["supplier"]], left_on="sku", right_index=True)
                           .groupby(["supplier", "po_date"]))
    days = [(d - inst.planning_date).days for d in due["po_date"]]
    for label, n in zip(due["window"], days):
        assert label == ("within 7 days" if n <= 7 else "8–14 days" if n <= 14 else
                         "15–30 days" if n <= 30 else "after 30 days")
    page = report.action_list_html(inst, ev, rows_per_window=1)
    assert "Total:" in page and f"{int(due['units'].sum()):,}" in page
    if (due.groupby("window").size() > 1).any():
        assert "more orders in this window" in page


def test_summary_cards_state_profit_risk_rule_of_thumb_and_cause(tiny_run):
    from optimizer.report.decision import change_cause
    inst, ev, summary = tiny_run.instance, tiny_run.evaluation, tiny_run.summary
    rot = report.rule_of_thumb(inst)
    sim = report.simulate(inst, ev, n=200, seed=1)
    page = report.summary_cards(inst, ev, summary, rule_of_thumb=rot, sim=sim, previous_summary=None)
    gain = ev.expected_profit - rot.expected_profit
    assert f"{abs(gain):,.0f} USD" in page and "P10" in page and "first run" in page
    assert "Against the spreadsheet rule (feasible)" in page
    before = summary.updated(budget=20_000.0, overrides={"delays": {"air": 0}})
    after = summary.updated(budget=29_000.0, overrides={"delays": {"air": 3}})
    assert change_cause(before, after) == "budget 20,000 → 29,000; lead-time delays air +0 → +3 days"
    assert "same budget and lead times" in change_cause(summary, summary)


def _assert_spend_parts_reconcile(inst, ev):
    """Purchase, freight, duty and shipments add up to the spend to the cent, in the
    Spend card and under the action list's total alike, and agree with cash.csv by kind."""
    from optimizer.report.decision import _cents, spend_cents

    cur = inst.campaign.config.currency
    cents, spend = spend_cents(ev)
    assert list(cents) == ["purchase", "freight", "duty", "shipments"]
    assert sum(cents.values()) == spend == round(ev.spend * 100)
    exact = ev.spend_parts()
    assert sum(exact.values()) == pytest.approx(ev.spend, abs=1e-6)
    for kind, c in cents.items():
        assert abs(c / 100 - exact[kind]) <= 0.01 + 1e-9, kind
    paid = ev.payments.groupby("kind")["amount"].sum() if len(ev.payments) else pd.Series(dtype=float)
    by_kind = {"purchase": paid.get("deposit", 0.0) + paid.get("balance", 0.0), "freight": paid.get("freight", 0.0),
               "duty": paid.get("duty", 0.0), "shipments": paid.get("shipments", 0.0)}
    for kind, amount in by_kind.items():  # cash.csv pays the same parts
        assert exact[kind] == pytest.approx(amount, abs=1e-6), kind
    # the purchase is the purchase orders' value at unit cost
    assert exact["purchase"] == pytest.approx(report.purchase_orders(inst, ev)["po_value"].sum(), abs=1e-6)
    cards = report.summary_cards(inst, ev, summary_of(inst, ev))
    actions = report.action_list_html(inst, ev)
    for text in [_cents(spend, cur)] + [_cents(c, cur) for c in cents.values()]:
        assert text in cards, text
        assert text in actions or ev.lines.empty, text  # an empty plan's action list says so
    if not ev.lines.empty:
        assert "= spend (the Spend card)" in actions and "+ freight" in actions and "+ duty" in actions


def summary_of(inst, ev):
    from optimizer.evaluate.plan import summarize
    from optimizer.status import Status

    return summarize(inst, ev, status=Status.OPTIMAL, bound=None, build_seconds=0.0, solve_seconds=0.0,
                     n_variables=0, n_constraints=0)


def test_spend_parts_add_up_to_the_spend_card_to_the_cent(tiny_run):
    inst, ev = tiny_run.instance, tiny_run.evaluation
    assert ev.spend_parts()["duty"] > 0 and ev.spend_parts()["shipments"] > 0  # every part shows
    _assert_spend_parts_reconcile(inst, ev)
    # the lines carry their parts: purchase + duty + freight is the line cost
    lines = ev.lines
    assert (lines["line_purchase"] + lines["line_duty"] + lines["line_freight"]
            - lines["line_cost"]).abs().max() < 1e-9


def test_spend_parts_of_an_empty_plan_are_zero(tiny_run):
    from optimizer.evaluate.plan import evaluate_plan
    from optimizer.report.decision import spend_cents

    ev = evaluate_plan(tiny_run.instance, None)
    assert spend_cents(ev) == ({"purchase": 0, "freight": 0, "duty": 0, "shipments": 0}, 0)


def _causes_hold(inst, ev):
    """Every pair's unserved demand is in the cause its definition names, and the causes
    add up to the expected demand less the expected sales."""
    from optimizer.evaluate.kpis import unserved_by_cause, unserved_demand

    u = unserved_demand(inst, ev).set_index(["sku", "warehouse"])
    p = ev.pairs
    total = float((p["expected_demand"] - p["expected_sales"]).sum())
    t = unserved_by_cause(inst, ev).set_index("cause")
    assert list(t.index) == ["unreachable", "not_worth_stocking", "cut_by_limits"]
    assert t["unserved_units"].sum() == pytest.approx(total, rel=1e-12, abs=1e-9)
    assert u["unserved"].sum() == pytest.approx(total, rel=1e-12, abs=1e-9)
    demand = float(p["expected_demand"].sum())
    assert t["demand_share"].sum() == pytest.approx(total / demand)
    info = inst.pairs.reindex(u.index)
    assert (u["cause"] == "unreachable").eq(~info["has_route"]).all()
    reach = u[info["has_route"]]
    assert (reach["cause"] == "cut_by_limits").eq(reach["economic_stock"] > reach["available"]).all()
    for cause, row in t.iterrows():  # the top SKUs: most unserved units of that cause first
        per_sku = u[u["cause"] == cause].groupby(level="sku")["unserved"].sum().sort_values(ascending=False)
        assert [s for s, _ in row["top_skus"]] == [s for s in per_sku.index[:3] if per_sku[s] > 0]
    table = report.unserved_table(inst, ev)
    assert list(table["cause"])[:2] == ["no lane in time", "not worth stocking at its margin"]
    assert table["cause"].iloc[2].startswith("cut by ") and table["cause"].iloc[3] == "unserved in all"
    assert table["expected units unserved"].iloc[3] == f"{total:,.0f}"
    return t


def test_unserved_demand_splits_into_its_three_causes(tiny_run):
    """No lane in time + not worth stocking at its margin + cut by the budget or a limit
    = the unserved expected demand, on the tiny plan, on the same units when two modes
    are 60 days late (ONT8 unreachable), and on the newsvendor's stock everywhere."""
    from optimizer.evaluate.plan import evaluate_plan

    inst, ev = tiny_run.instance, tiny_run.evaluation
    t = _causes_hold(inst, ev)
    assert t.at["cut_by_limits", "unserved_units"] > 0  # the budget binds on data/tiny
    page = report.summary_cards(inst, ev, tiny_run.summary)
    for row in t.itertuples():
        assert f"{row.demand_share:.1%}" in page
    assert "no lane in time" in page and "not worth stocking" in page and "cut by the budget" in page

    late = build_instance(inst.campaign, Settings(delays={"sea_lcl": 60, "air": 60}))
    units = ev.lines.set_index(["sku", "warehouse", "mode"])["units"]
    t = _causes_hold(late, evaluate_plan(late, units))
    assert t.at["unreachable", "unserved_units"] > 0 and t.at["unreachable", "pairs"] > 0

    p = inst.pairs[inst.pairs["has_route"] & np.isfinite(inst.pairs["economic_stock"])]
    cheapest = inst.routes["landed_cost"].groupby(level=["sku", "warehouse"]).idxmin()
    newsvendor = pd.Series((p["economic_stock"] - p["existing"]).clip(lower=0).to_numpy(),
                           index=pd.MultiIndex.from_tuples(list(cheapest.reindex(p.index))))
    t = _causes_hold(inst, evaluate_plan(inst, newsvendor))
    assert t.at["not_worth_stocking", "unserved_units"] > 0


def test_changes_since_read_in_words_with_the_currency():
    from optimizer.evaluate.diff import TOTALS

    assert set(report.tables.CHANGE_TOTALS) == set(TOTALS)  # every total has a name and a format
    totals = pd.DataFrame([("expected_fill_rate", 0.48, 0.47, -0.01), ("spend", 1000.0, 1234.5, 234.5),
                           ("units_ordered", 10, 10, 0), ("expected_profit", None, 5.0, None)],
                          columns=["metric", "previous", "new", "change"])
    t = report.tables.changes_totals(totals, "USD")
    assert t.values.tolist() == [["Fill rate", "48.0% → 47.0%", "-1.0 pp"],
                                 ["Spend", "1,000.00 USD → 1,234.50 USD", "+234.50 USD"],
                                 ["Units ordered", "10 → 10", "0"],
                                 ["Expected profit", "– → 5.00 USD", "–"]]
    page = report.changes_html({"totals": totals, **{k: pd.DataFrame() for k in
                                                     ("moved", "quantities", "newly_late", "lost_routes")}},
                               "runs/x/previous", "USD")
    assert "Fill rate" in page and "48.0% → 47.0%" in page and "expected_fill_rate" not in page


def test_modes_have_one_colour_in_the_report_and_the_explorer(tiny_run):
    from types import SimpleNamespace

    from optimizer.report.explorer_panel import allocation_chart
    from optimizer.report.figures import MODE_COLOURS, mode_colour

    ev = tiny_run.evaluation
    shown = {t.name: t.marker.color for t in report.allocation_by_warehouse_figure(ev).data}
    assert set(shown) == set(ev.lines["mode"]) and all(shown[m] == mode_colour(m) for m in shown)
    panel = {t.name: t.marker.color for t in allocation_chart(SimpleNamespace(evaluation=ev),
                                                              sorted(set(ev.lines["mode"])) + ["rail"]).data}
    assert panel == shown
    assert len(set(MODE_COLOURS.values())) == len(MODE_COLOURS)
    assert mode_colour("drone") == mode_colour("drone") and mode_colour("drone") not in MODE_COLOURS.values()


def test_line_labels_are_placed_apart():
    """Labels of vertical lines (the histogram's P10/P50/P90 and expected profit, the
    frontier's budgets): in one row never on one another, in the row next to the plot
    never across another line; close lines read away from each other."""
    from optimizer.report.figures import LABEL_CHAR_PX, place_line_labels

    sample = [(447_871, "P10 447,871"), (574_989, "P50 574,989"), (661_507, "P90 661,507"),
              (560_974, "expected 560,974")]
    assert place_line_labels(sample, 240_000, 770_000, plot_px=700) == [
        ("right", 0), ("left", 0), ("left", 0), ("right", 0)]  # expected and P50 back to back
    same = [(753_000, "campaign budget"), (753_000, "recommended")]
    assert place_line_labels(same, 150_000, 1_400_000, plot_px=240) == [("right", 0), ("left", 0)]
    rng = np.random.default_rng(3)
    for _ in range(200):
        marks = [(float(x), f"label {k} " + "x" * int(rng.integers(0, 10))) for k, x in
                 enumerate(rng.uniform(0, 100, int(rng.integers(1, 6))))]
        where = place_line_labels(marks, 0, 100, plot_px=500)
        spans = []
        for (x, text), (anchor, row) in zip(marks, where):
            at, width = 5 * x, len(text) * LABEL_CHAR_PX + 6
            spans.append((row, at - width if anchor == "right" else at, at if anchor == "right" else at + width))
        for k, (row, lo, hi) in enumerate(spans):
            assert not any(r == row and a < hi and lo < b for r, a, b in spans[k + 1:]), (marks, where)
            if row == 0:
                assert not any(lo + 1 < 5 * x < hi - 1 for j, (x, _) in enumerate(marks) if j != k), (marks, where)


def test_tables_in_the_house_style():
    from optimizer.report.html import present, table_html
    df = pd.DataFrame({"sku": ["=cmd", "B"], "units": [13758, 2], "fill_rate": [0.5432, 1.0],
                       "line_cost": [1234.5, 2.0]})
    shown = present(df, "USD")
    assert list(shown.columns) == ["sku", "units", "fill rate", "line cost (USD)"]
    assert shown.iloc[0].tolist() == ["=cmd", "13,758", "54.3%", "1,234.50"]
    page = table_html(pd.concat([df] * 30, ignore_index=True), currency="USD", top=5, csv="plan.csv")
    assert page.count('<tr style="display:none">') == 60 - 5 and 'href="plan.csv"' in page
    assert 'type="search"' in page and "60 rows; the first 5 shown" in page


def test_rule_of_thumb_plan_fits_budget_packs_and_moq(tiny_run):
    inst = tiny_run.instance
    units = report.rule_of_thumb_units(inst)
    assert units.index.equals(inst.routes.index) and (units >= 0).all()
    used = units[units > 0]
    assert len(used)
    packs = inst.routes.loc[used.index, "case_pack"]
    assert (used % packs == 0).all()
    per_sku = used.groupby(level="sku").sum()
    assert (per_sku >= inst.skus.loc[per_sku.index, "moq"]).all()
    # one lane per (sku, warehouse), the cheapest on-time one
    for (s, w, m) in used.index:
        assert inst.routes.loc[(s, w), "landed_cost"].idxmin() == m
    rot = report.rule_of_thumb(inst)
    assert rot.spend <= inst.budget + 1e-6
    cmp = report.compare_with_rule_of_thumb(inst, tiny_run.evaluation, rot).set_index("KPI")
    assert list(cmp.columns) == ["optimised", "spreadsheet rule (feasible)", "difference"]
    # the spreadsheet rule keeps every rule, so the optimiser is at least as good on the exact objective
    assert report.rule_breaches(inst, rot).empty
    assert tiny_run.evaluation.expected_profit >= rot.expected_profit - 1e-6


def test_rule_of_thumb_is_the_newsvendor_quantity_when_no_limit_binds():
    inst = build_instance(load_campaign(TINY), Settings(budget=1e9))
    # plenty of money, space and supplier capacity (tiny's SUP01 caps 2,000 units)
    inst = dataclasses.replace(inst, warehouses=inst.warehouses.assign(capacity_m3=math.inf),
                               lanes=inst.lanes.assign(capacity_m3=math.nan),
                               suppliers=inst.suppliers.assign(capacity_units=math.nan))
    units = report.rule_of_thumb_units(inst).groupby(level=["sku", "warehouse"]).sum()
    p = inst.pairs
    for (s, w), u in units[units > 0].items():
        need = max(0.0, p.at[(s, w), "mean"] + 1.65 * p.at[(s, w), "sd"] - p.at[(s, w), "existing"])
        pack = inst.skus.at[s, "case_pack"]
        if units.loc[s].sum() > inst.skus.at[s, "moq"] + pack:  # not topped up to the MOQ
            assert u == math.ceil(need / pack - 1e-9) * pack


def test_unreachable_lists_pairs_no_lane_brings_in_time():
    campaign = load_campaign(TINY)
    assert report.unreachable(build_instance(campaign)).empty
    late = build_instance(campaign, Settings(delays={"sea_lcl": 60, "rail": 60, "air": 60}))
    u = report.unreachable(late)
    with_demand = set(map(tuple, campaign.demand[["sku", "warehouse"]].to_numpy()))
    assert set(zip(u["sku"], u["warehouse"])) == with_demand
    assert (u["days_short"] > 0).all() and u["fastest_mode"].eq("air").all()


@pytest.mark.notebook
def test_kernel_is_this_interpreter_whatever_jupyter_has_registered(tmp_path, monkeypatch):
    """A `python3` kernel spec registered elsewhere (here: a broken one) is never used."""
    import sys

    from optimizer.report.notebook_runner import run_report

    bogus = tmp_path / "jupyter" / "kernels" / "python3"
    bogus.mkdir(parents=True)
    (bogus / "kernel.json").write_text(json.dumps(
        {"argv": ["/nonexistent/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
         "display_name": "broken", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    nb = nbformat.read(REPO / "notebooks" / "campaign_plan.ipynb", as_version=4)
    nb.cells = [nb.cells[0], nbformat.v4.new_code_cell(
        'import pathlib, sys\npathlib.Path(run_dir, "exe.txt").write_text(sys.executable)')]
    nbformat.write(nb, tmp_path / "exe.ipynb")
    result = run_report(load_campaign(TINY), reports_root=tmp_path / "reports",
                        notebook=tmp_path / "exe.ipynb")
    assert (result.run_dir / "exe.txt").read_text() == sys.executable
    assert result.html.is_file()


@pytest.mark.notebook
def test_forecast_section_says_which_demand_rows_are_the_forecast(tmp_path):
    """The report's demand-forecast tables: none without an audit; with one, the rows of
    demand.csv that are the audited forecast are counted (an edited row is not)."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    inst = build_instance(load_campaign(folder), Settings())
    assert report.forecast_audit(inst) is None
    assert "No forecast_audit.csv" in report.forecast_note(inst, None)
    assert report.forecast_summary(None).empty and report.forecast_audit_table(None).empty

    d = inst.campaign.demand
    audit = d.assign(category="c", method="ets_level", baseline=d["mean"] / 3, lift=3.0,
                     growth=1.0, ad_uplift=1.0, competition=1.0, sd_scale=1.25,
                     distribution_reason="a reason")
    audit.loc[0, "mean"] += 1.0                 # demand.csv row 0 is not the forecast
    audit.to_csv(folder / "forecast_audit.csv", index=False)
    got = report.forecast_audit(build_instance(load_campaign(folder), Settings()))
    note = report.forecast_note(inst, got)
    assert f"{len(d) - 1} of the {len(d)} SKU × warehouse rows" in note and "1 differ" in note
    assert "calibrated ×1.250" in note
    summary = report.forecast_summary(got)
    assert summary["pairs"].sum() == len(d)
    assert summary["forecast mean"].sum() == pytest.approx(audit["mean"].sum())
    assert summary["lift"].iloc[0] == pytest.approx(3.0)
    table = report.forecast_audit_table(got)
    assert table["mean"].is_monotonic_decreasing and "distribution" in table
    assert "sd_scale" not in table            # one scale for every pair: said in the note


FEASIBLE = [c for c in case_folders(OWN_CAMPAIGNS) + conformance_cases() if load_expected(c)["exit_code"] == 0]


@pytest.mark.slow
@pytest.mark.parametrize("case_dir", FEASIBLE, ids=lambda p: p.name)
def test_report_tables_on_every_known_optimum_campaign(case_dir):
    # campaigns with only the required columns (no `name`, `category`, suppliers.csv, ...)
    from optimizer.workflows.planner import plan_campaign

    run = plan_campaign(case_dir, progress=lambda msg: None)
    inst, ev = run.instance, run.evaluation
    rot = report.rule_of_thumb(inst)
    tables = [report.headline_kpis(inst, ev), report.run_facts(run.summary), report.purchase_orders(inst, ev),
              report.supplier_summary(inst, ev), report.shipping_plan(inst, ev), report.allocation(ev),
              report.timeline(inst, ev), report.unreachable(inst), report.abc_table(inst, ev),
              report.compare_with_rule_of_thumb(inst, ev, rot), report.rule_breaches(inst, rot)]
    tables += [report.orders_due(inst, ev), report.demand_shapes(inst, ev), report.unserved_table(inst, ev)]
    assert all(isinstance(t, pd.DataFrame) for t in tables)
    _assert_spend_parts_reconcile(inst, ev)
    assert len(tables[2]) == len(ev.lines)  # one purchase-order line per plan line
    assert report.summary_cards(inst, ev, run.summary, rule_of_thumb=rot).count('class="card-title"') == 6
    assert "<table" in report.action_list_html(inst, ev) or ev.lines.empty
    for figure in (report.allocation_by_warehouse_figure(ev), report.allocation_by_mode_figure(ev),
                   report.timeline_figure(inst, ev)):
        assert figure.to_dict()["data"] is not None


@pytest.mark.notebook
def test_report_command_on_a_campaign_with_only_the_required_columns(tmp_path):
    case = OWN_CAMPAIGNS / "m03_one_container_and_air_for_the_rest"
    proc = run_cli(["report", str(case), "--reports-dir", str(tmp_path / "reports")])
    assert proc.returncode == 0, proc.stderr
    page = Path(proc.stdout.strip().splitlines()[-1]).read_text(encoding="utf-8")
    assert "3,424.00 USD" in page  # the hand-derived optimum of m03


@pytest.mark.notebook
def test_report_exit_3_gives_the_whole_diagnosis(tmp_path):
    m05 = REPO / "tests" / "campaigns" / "m05_service_target_no_lane_in_time"
    proc = run_cli(["report", str(m05), "--reports-dir", str(tmp_path)], timeout=300)
    assert proc.returncode == 3, proc.stderr
    assert "infeasible: The service target min_fill_rate = 0.9 cannot be met:" in proc.stderr
    assert "A at FBA1: needs 90 more units (has 0) but no lane makes the cutoff" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_interrupted_report_leaves_nothing(tmp_path, monkeypatch):
    import papermill

    from optimizer.report.notebook_runner import run_report

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(papermill, "execute_notebook", interrupted)
    reports = tmp_path / "reports"
    with pytest.raises(KeyboardInterrupt):
        run_report(load_campaign(TINY), reports_root=reports)
    left = [p for p in reports.rglob("*") if p.name != "history.sqlite"]
    assert all(p.is_dir() and not any(p.iterdir()) for p in left), left  # at most the empty campaign folder


def _disk_full(*args, **kwargs):
    import errno

    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("where", ["notebook", "html"])
def test_a_full_disk_publishes_nothing(tmp_path, monkeypatch, where):
    """A notebook cut short by a full disk, or a report.html that cannot be written: no
    folder is published, no run is recorded as a success, the message says so."""
    import papermill

    from optimizer.report import notebook_runner
    from optimizer.report.notebook_runner import ReportFailed, run_report

    def execute(notebook, output, **kwargs):
        if where == "notebook":
            Path(output).write_text('{"cells": [')  # the write the full disk cut short
            raise OSError(28, "No space left on device")
        shutil.copy(notebook, output)

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    monkeypatch.setattr(notebook_runner, "render_html", _disk_full)
    reports = tmp_path / "reports"
    with pytest.raises(ReportFailed, match="nothing was published"):
        run_report(load_campaign(TINY), reports_root=reports)
    visible = [p for p in reports.rglob("*") if not any(part.startswith(".") for part in p.relative_to(reports).parts)]
    assert not [p for p in visible if p.is_file() and p.name != "history.sqlite"]
    assert all(not any(q for q in p.iterdir() if not q.name.startswith(".")) for p in visible if p.is_dir())
    from optimizer.io.run_index import read_history
    assert list(read_history(reports / "history.sqlite")["status"]) == ["failed"]  # the failure is indexed


# ---------------------------------------------------------------- profit and cash (SPEC §6)

ECONOMICS_CASES = ["c13_marketplace_fees", "c15_bonded", "c16_cash_limits", "c17_fx", "c23_po_cycle"]
CASH_LIMIT_CASES = ("c16_cash_limits", "c23_po_cycle")  # 30 % deposits under cash limits


def _shared_case(name: str) -> Path:
    """A shared conformance-v2 or -v3 case folder (v3: ``c20`` on)."""
    return (SHARED_CONFORMANCE_V3 if name[:3] >= "c20" else SHARED_CONFORMANCE_V2) / name


@pytest.fixture(scope="module", params=ECONOMICS_CASES)
def economics_run(request):
    """A planned SPEC §6 conformance campaign (fees, bonded, deposits + cash limits, fx,
    a weekly PO cycle)."""
    from optimizer.workflows.planner import plan_campaign

    case = _shared_case(request.param)
    if not case.is_dir():
        pytest.skip(f"no conformance case at {case} (clone ../shared beside the repo)")
    return plan_campaign(case, Settings(time_limit_s=20), progress=lambda msg: None)


def _purchase_value_by_supplier(inst, ev) -> pd.Series:
    l = ev.lines.merge(inst.skus[["supplier", "unit_cost"]], left_on="sku", right_index=True)
    return (l["units"] * l["unit_cost"]).groupby(l["supplier"]).sum()


def test_profit_waterfall_adds_up_to_expected_profit(economics_run):
    inst, ev = economics_run.instance, economics_run.evaluation
    w = report.profit_waterfall_figure(ev, inst.campaign.config.currency).data[0]
    measures, values, labels = list(w.measure), list(w.y), list(w.x)
    assert measures[-1] == "total" and set(measures[:-1]) == {"relative"}
    assert labels[0] == "Revenue" and labels[-1] == "Expected profit"
    assert sum(values[:-1]) == pytest.approx(ev.expected_profit, rel=1e-9)
    assert values[-1] == pytest.approx(ev.expected_profit, rel=1e-9)
    assert values[labels.index("Landed cost")] == pytest.approx(-ev.spend)
    shown = {report.figures.PROFIT_PART_LABELS[k] for k, v in ev.profit_parts().items() if abs(v) >= 0.005}
    assert set(labels[:-1]) == shown | {"Revenue"}  # zero parts left out
    case = inst.campaign.config.name
    assert ("Referral fees" in labels) == (case == "c13_marketplace_fees")
    assert ("Duty on sales (bonded)" in labels) == (case == "c15_bonded")


def test_cash_curve_ends_at_spend_under_each_limit(economics_run):
    inst, ev = economics_run.instance, economics_run.evaluation
    cfg = inst.campaign.config
    fig = report.cash_curve_figure(ev, cfg.cash_limits, cfg.currency, start=inst.planning_date)
    traces = {t.name: t for t in fig.data}
    paid = traces["cash paid"]
    assert paid.line.shape == "hv"
    y = list(paid.y)
    assert y[0] == 0 and y[-1] == pytest.approx(ev.spend)
    assert all(b >= a - 1e-9 for a, b in zip(y, y[1:]))
    assert ("cash limit" in traces) == bool(cfg.cash_limits)
    if cfg.cash_limits:  # c16, c23: a marker per limit at its date and amount, the curve below it
        marks = traces["cash limit"]
        assert list(marks.y) == [c.limit for c in cfg.cash_limits]
        assert "limit until 2026-09-30: 2,500 USD" in marks.text
        x = pd.to_datetime(pd.Series(paid.x))
        for c in cfg.cash_limits:
            by_then = [v for d, v in zip(x, y) if d <= pd.Timestamp(c.until)]
            assert by_then[-1] <= c.limit + 1e-6


def test_payment_schedule_pays_each_supplier_its_purchase_value(economics_run):
    inst, ev = economics_run.instance, economics_run.evaluation
    cur = inst.campaign.config.currency
    sp = report.supplier_payments(inst, ev)
    value = _purchase_value_by_supplier(inst, ev)
    assert sp.groupby("supplier")["amount"].sum().to_dict() == pytest.approx(value.to_dict())
    # the deposit and balance rows of cash.csv, to the cent
    cash = ev.payments[ev.payments["kind"].isin(["deposit", "balance"])]
    assert sp.groupby(["supplier", "kind"])["amount"].sum().to_dict() == pytest.approx(
        cash.groupby(["supplier", "kind"])["amount"].sum().to_dict())
    lines = ev.lines.set_index("sku")
    for r in sp.itertuples():
        assert r.due in set(lines["po_date" if r.kind == "deposit" else "ship_by"])
        assert r.kind == "balance" or r.due == r.po_date  # the deposit on the PO date
        rate = inst.campaign.config.rate(r.currency)
        assert r.quoted_amount * rate == pytest.approx(r.amount)
    if inst.campaign.config.name in CASH_LIMIT_CASES:
        dep = sp[sp["kind"] == "deposit"].groupby("supplier")["amount"].sum()
        assert dep.to_dict() == pytest.approx((0.3 * value).to_dict())
    shown = report.payment_schedule(inst, ev).set_index("supplier")
    assert list(shown.index) == sorted(value.index)  # one row per supplier
    assert list(shown["total"]) == [f"{value[f]:,.2f} {cur}" for f in shown.index]
    case = inst.campaign.config.name
    if case == "c16_cash_limits":  # one line per supplier: one deposit and one balance date
        assert set(shown["deposit share"]) == {"30.0%"}
        by_supplier = ev.lines.merge(inst.skus[["supplier"]], left_on="sku", right_index=True)
        for f, g in by_supplier.groupby("supplier"):
            assert shown.at[f, "deposit due"] == str(g["po_date"].iloc[0])
            assert shown.at[f, "balance due"] == str(g["ship_by"].iloc[0])
    foreign = "deposit as quoted" in shown
    assert foreign == (case == "c17_fx")
    if foreign:  # c17: SKU A quoted in CNY, SKU B in USD, both from F1
        assert "CNY" in shown.at["F1", "deposit as quoted"]
        assert shown.at["F1", "balance"] == "" and shown.at["F1", "balance due"] == ""


def test_spend_parts_add_up_to_the_spend_card_on_seller_economics(economics_run):
    """Fees, bonded warehouses (no duty), deposits under cash limits (c16), quotes in
    another currency, a weekly PO cycle: the parts still add up to the spend to the cent."""
    _assert_spend_parts_reconcile(economics_run.instance, economics_run.evaluation)


def test_unserved_demand_splits_on_seller_economics(economics_run):
    _causes_hold(economics_run.instance, economics_run.evaluation)


def test_cash_limit_table_matches_summary(economics_run):
    inst, ev, summary = economics_run.instance, economics_run.evaluation, economics_run.summary
    t = report.cash_limit_table(inst, ev)
    limits = summary.cash_limits or []
    assert list(t["paid until"]) == [c.until.isoformat() for c in limits]
    assert list(t["paid"]) == [f"{c.paid:,.2f} USD" for c in limits]
    assert list(t["headroom"]) == [f"{c.headroom:,.2f} USD" for c in limits]
    assert t.empty == (inst.campaign.config.name not in CASH_LIMIT_CASES)


def test_workbook_payment_schedule_sheet(economics_run, tmp_path):
    inst, ev = economics_run.instance, economics_run.evaluation
    cur = inst.campaign.config.currency
    path = report.write_purchase_orders(inst, ev, tmp_path)
    wb = openpyxl.load_workbook(path)
    suppliers = set(report.purchase_orders(inst, ev)["supplier"])
    ws = wb["Payment schedule"]
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:7] == ["supplier", "po_number", "kind", "share", "due", "amount", "currency"]
    sheet = pd.DataFrame(rows[1:], columns=header)
    assert set(sheet["supplier"]) == suppliers
    assert set(sheet["po_number"]) == set(wb.sheetnames[1:-2])  # every PO, each its own sheet
    own = f"amount in {cur}" if f"amount in {cur}" in header else "amount"
    assert (own == "amount") == (inst.campaign.config.name != "c17_fx")
    assert sheet.groupby("supplier")[own].sum().to_dict() == pytest.approx(
        _purchase_value_by_supplier(inst, ev).to_dict(), abs=0.005)
    assert set(sheet["kind"]) <= {"deposit", "balance"}
    for cells in ws.iter_rows(min_row=2):
        cell = dict(zip(header, cells))
        assert cell["amount"].number_format == f'#,##0.00 "{cell["currency"].value}"'
        assert cell["due"].is_date


def test_workbook_payment_schedule_keeps_formula_text_as_text(tmp_path):
    """A supplier id that a spreadsheet would run as a formula is a text cell in the
    Payment schedule sheet too."""
    from optimizer.workflows.planner import plan_campaign

    case = SHARED_CONFORMANCE_V2 / "c16_cash_limits"
    if not case.is_dir():
        pytest.skip(f"no conformance-v2 case at {case}")
    folder = tmp_path / "campaign"
    shutil.copytree(case, folder)
    for name in ("skus.csv", "suppliers.csv"):
        (folder / name).write_text((folder / name).read_text().replace("F1,", "=1+1,"))
    run = plan_campaign(folder, Settings(time_limit_s=20), progress=lambda msg: None)
    out = tmp_path / "out"
    out.mkdir()
    path = report.write_purchase_orders(run.instance, run.evaluation, out)
    ws = openpyxl.load_workbook(path)["Payment schedule"]
    cells = [c for c in ws["A"][1:] if c.value == "=1+1"]
    assert cells and all(c.data_type == "s" for c in cells)


# ---------------------------------------------------------------- purchase orders a supplier accepts

PO_HEADER_FIELDS = ("PO number", "PO date", "Supplier", "Supplier id", "Buyer", "Currency",
                    "Incoterms", "Payment terms", "Ship to")


def _read_po_sheet(ws) -> dict:
    """A PO sheet read back: ``header`` (label → value cell), ``ship_to``
    (the texts of the Ship to rows), ``head_row``,
    ``lines`` (a dict of cells per line, by column title), ``totals`` and ``payments``
    (label and cells by column title) and ``payment_totals``."""
    rows = list(ws.iter_rows())
    first = [r[0].value for r in rows]
    head = first.index("SKU")
    header = {r[0].value: r[1] for r in rows[2:head] if r[0].value}
    start = first.index("Ship to")
    ship_to = [r[1].value for r in rows[start:head] if r[1].value]
    titles = [c.value for c in rows[head]]
    col = {t: i for i, t in enumerate(titles) if t}
    out = {"header": header, "ship_to": ship_to, "head_row": head + 1, "titles": titles, "lines": [], "totals": [],
           "payments": [], "payment_totals": []}
    i = head + 1
    while not str(first[i]).startswith("Total"):
        out["lines"].append({t: rows[i][j] for t, j in col.items()})
        i += 1
    while first[i] and str(first[i]).startswith("Total"):
        out["totals"].append({t: rows[i][j] for t, j in col.items()})
        i += 1
    pay = first.index("Payment schedule", i) + 1
    pay_col = {c.value: j for j, c in enumerate(rows[pay]) if c.value}
    i = pay + 1
    while not str(first[i]).startswith("Total"):
        out["payments"].append({t: rows[i][j] for t, j in pay_col.items()})
        i += 1
    while first[i] and str(first[i]).startswith("Total"):
        out["payment_totals"].append({t: rows[i][j] for t, j in pay_col.items()})
        i += 1
    return out


def _code(cell) -> str:
    """The currency of a money cell, from its number format (``#,##0.00 "CNY"``)."""
    return cell.number_format.split('"')[1]


def _check_po_workbook(inst, ev, path) -> dict:
    """Every PO sheet against the plan (SPEC §3 lines, §6 money and PO dates): one PO per
    supplier and PO date, by PO date; returns the sheets read by (supplier, PO date)."""
    from optimizer.report.workbook import PO_NUMBER_MAX, po_numbers

    cfg = inst.campaign.config
    wb = openpyxl.load_workbook(path)
    plan = ev.lines.merge(inst.skus[["supplier"]], left_on="sku", right_index=True)
    keys = sorted({(d, f) for f, d in zip(plan["supplier"], plan["po_date"])})
    orders = [(f, d) for d, f in keys]
    assert wb.sheetnames[0] == "Summary"
    assert wb.sheetnames[-2:] == ["Payment schedule", "Shipping plan"]
    assert len(wb.sheetnames) - 3 == len(orders)  # one sheet per supplier and PO date
    sheets = dict(zip(orders, wb.sheetnames[1:-2]))
    numbers = dict(zip(orders, po_numbers(cfg.name, orders)))
    assert len(set(numbers.values())) == len(numbers)
    payments = report.supplier_payments(inst, ev)
    read = {}
    for (supplier, day), sheet in sheets.items():
        ws = wb[sheet]
        s = read[(supplier, day)] = _read_po_sheet(ws)
        h = s["header"]
        assert set(PO_HEADER_FIELDS) <= set(h), sheet
        assert h["Supplier id"].value == supplier and h["Supplier id"].data_type == "s"
        assert h["PO number"].value == numbers[(supplier, day)] == sheet
        assert len(sheet) <= PO_NUMBER_MAX
        assert h["PO date"].is_date and h["PO date"].value.date() == day
        assert h["Buyer"].value == (cfg.buyer.company or cfg.name)
        assert h["Incoterms"].value == cfg.buyer.incoterms
        share = float(inst.suppliers["deposit_share"].get(supplier, 1.0))
        if 0 < share < 1:
            assert h["Payment terms"].value == (f"{round(100 * share, 2):g} % deposit on order, "
                                                "balance before shipment")
        mine = plan[(plan["supplier"] == supplier) & (plan["po_date"] == day)]
        shown = " ".join(s["ship_to"])
        for w in set(mine["warehouse"]):
            assert f"{w} ({inst.warehouses.at[w, 'market']})" in shown
        # lines: one per plan line of this PO, sorted by ship-by, totals = units × quoted price
        lines = s["lines"]
        assert len(lines) == len(mine)
        assert sum(line["Units"].value for line in lines) == mine["units"].sum()
        ship_by = [line["Ship by"].value for line in lines]
        assert ship_by == sorted(ship_by)
        currencies = set()
        for line in lines:
            sku = inst.skus.loc[line["SKU"].value]
            code = sku["cost_currency"]
            currencies.add(code)
            assert line["Unit price"].value == pytest.approx(sku["quoted_unit_cost"])
            assert line["Line total"].value == pytest.approx(
                line["Units"].value * line["Unit price"].value, abs=0.005)
            assert line["Units per case"].value == sku["case_pack"]
            assert line["Cases"].value * line["Units per case"].value == line["Units"].value
            assert line["Line total"].number_format == f'#,##0.00 "{code}"'
            assert code in line["Unit price"].number_format
            assert line["Ship by"].is_date and line["Ship by"].value.date() >= day
        mixed = len(currencies) > 1
        assert ("Currency" in s["titles"]) == mixed
        assert set(h["Currency"].value.replace(" and ", " ").split()) >= currencies
        # totals: per currency when the supplier quotes in two, then units and cases overall
        value = {}
        for line in lines:
            value[_code(line["Line total"])] = value.get(_code(line["Line total"]), 0.0) + line["Line total"].value
        overall = s["totals"][-1]
        assert overall["Units"].value == sum(line["Units"].value for line in lines)
        assert overall["Cases"].value == sum(line["Cases"].value for line in lines)
        money_totals = {_code(t["Line total"]): t["Line total"].value
                        for t in s["totals"] if t["Line total"].value is not None}
        assert money_totals == pytest.approx(value, abs=1e-6)
        assert len(s["totals"]) == (len(currencies) + 1 if mixed else 1)
        # payments: one deposit per currency on the PO date, the balances on the lines'
        # ship-by dates, in the quoted currency, adding up to the PO value to the cent
        theirs = payments[(payments["supplier"] == supplier) & (payments["po_date"] == day)]
        assert len(s["payments"]) == len(theirs)
        deposits = [p for p in s["payments"] if p["Payment"].value.startswith("Deposit") or share >= 1]
        if share > 0:
            assert sorted(_code(p["Amount"]) for p in deposits) == sorted(currencies)
            assert {p["Due"].value.date() for p in deposits} == {day}
        paid = {}
        for p in s["payments"]:
            paid[_code(p["Amount"])] = paid.get(_code(p["Amount"]), 0.0) + p["Amount"].value
            assert p["Due"].is_date and p["Due"].value.date() >= day
        assert paid == pytest.approx(value, abs=1e-6)  # to the cent, rounding included
        assert {_code(t["Amount"]): t["Amount"].value
                for t in s["payment_totals"]} == pytest.approx(value, abs=1e-6)
        assert theirs.groupby("currency")["quoted_amount"].sum().to_dict() == pytest.approx(value, abs=0.01)
        due = sorted(d.date() for d in (p["Due"].value for p in s["payments"]))
        assert due == sorted(theirs["due"])
        # laid out for screen and print: its own pages, numbered from 1, counted on the sheet
        assert ws.freeze_panes == f"A{s['head_row'] + 1}"
        assert ws.page_setup.orientation == "landscape"
        assert 10 <= ws.page_setup.scale <= 100 and not ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.oddFooter.center.text == f"{sheet} · page &P of {len(ws.row_breaks.brk) + 1}"
        assert int(ws.page_setup.firstPageNumber) == 1 and ws.page_setup.useFirstPageNumber
        assert ws.print_area.replace("$", "").startswith(f"'{sheet}'!A1:")
        assert ws.column_dimensions["B"].width >= 8
    return {"workbook": wb, "sheets": sheets, "read": read}


def _read_summary(ws) -> pd.DataFrame:
    rows = list(ws.iter_rows())
    head = [r[0].value for r in rows].index("PO number")
    titles = [c.value for c in rows[head]]
    body = rows[head + 1:]
    return pd.DataFrame([[c.value for c in r] for r in body], columns=titles), body, titles


def test_workbook_one_purchase_order_per_supplier_and_po_date(economics_run, tmp_path):
    inst, ev = economics_run.instance, economics_run.evaluation
    path = report.write_purchase_orders(inst, ev, tmp_path)
    got = _check_po_workbook(inst, ev, path)
    summary, cells, titles = _read_summary(got["workbook"]["Summary"])
    total, summary = summary.iloc[-1], summary.iloc[:-1]
    assert total["PO number"] == "Total"
    numbers = {key: got["read"][key]["header"]["PO number"].value for key in got["sheets"]}
    assert set(summary["PO number"]) == set(numbers.values())  # every PO, none twice over
    assert summary.groupby("Supplier")["Units"].sum().to_dict() == \
        report.purchase_orders(inst, ev).groupby("supplier")["units"].sum().to_dict()
    assert total["Units"] == ev.lines["units"].sum() and total["Lines"] == len(ev.lines)
    days = [d.date() for d in summary["PO date"]]
    assert days == sorted(days)
    for row in cells[:-1]:  # each PO number links to its sheet
        link = row[titles.index("PO number")].hyperlink
        assert link is not None and f"'{row[0].value}'!" in link.location
    cur = inst.campaign.config.currency
    own = f"Value in {cur}" if f"Value in {cur}" in titles else "Value"
    assert (own == "Value") == (inst.campaign.config.name != "c17_fx")
    assert total[own] == pytest.approx(_purchase_value_by_supplier(inst, ev).sum(), abs=0.01)
    name = inst.campaign.config.name
    if name == "c17_fx":  # F1 quotes SKU A in CNY, B in USD: one PO, two currencies
        assert list(summary["Currency"]) == ["CNY", "USD"] and summary["PO number"].nunique() == 1
        (key,) = got["read"]
        assert "Currency" in got["read"][key]["titles"]
    if name == "c23_po_cycle":  # weekly POs from 09-01: F1 on 09-29 and 10-20, F2 on 10-13
        assert [(r["PO number"], r["PO date"].date().isoformat(), r["Deposit"]) for _, r in summary.iterrows()] == [
            ("CPC-F1-001", "2026-09-29", pytest.approx(2499.0)),
            ("CPC-F2-001", "2026-10-13", pytest.approx(2858.4)),
            ("CPC-F1-002", "2026-10-20", pytest.approx(483.0))]


def _assert_po_money_agrees_with_cash(inst, cash: pd.DataFrame, path) -> None:
    """The workbook's payments against cash.csv's deposits and balances, to the cent:
    each PO's deposit is cash.csv's deposit of its supplier on its PO date (in the quote
    currency), each supplier's payments add up to what cash.csv pays it, and the
    Summary's total value to all of cash.csv's deposits and balances."""
    cfg = inst.campaign.config
    wb = openpyxl.load_workbook(path)
    cash = cash[cash["kind"].isin(["deposit", "balance"])].copy()
    cash["date"] = [str(d) for d in cash["date"]]
    rows = list(wb["Payment schedule"].iter_rows(values_only=True))
    sheet = pd.DataFrame(rows[1:], columns=rows[0])
    sheet["date"] = [d.date().isoformat() for d in sheet["due"]]
    own = f"amount in {cfg.currency}" if f"amount in {cfg.currency}" in sheet else "amount"
    # one deposit per PO and currency, on the PO date: cash.csv's deposit of the supplier that day
    deposits = sheet[sheet["kind"] == "deposit"]
    assert not deposits.duplicated(["po_number", "currency"]).any()
    paid = cash[cash["kind"] == "deposit"].groupby(["supplier", "date"])["amount"].sum()
    assert set(deposits.groupby(["supplier", "date"]).groups) == set(paid.index)
    for (supplier, day), g in deposits.groupby(["supplier", "date"]):
        assert g["po_number"].nunique() == 1  # one PO per supplier and PO date
        rates = [cfg.rate(c) for c in g["currency"]]
        got = sum(a * r for a, r in zip(g["amount"], rates))
        assert abs(got - paid[(supplier, day)]) <= 0.005 * sum(rates) + 1e-6, (supplier, day)
    # each PO sheet's payments are the Payment schedule's rows of that PO
    for number, g in sheet.groupby("po_number"):
        s = _read_po_sheet(wb[number])
        assert sorted(p["Amount"].value for p in s["payments"]) == pytest.approx(sorted(g["amount"]), abs=1e-9)
    # per supplier and in all, what the workbook pays is what cash.csv pays, to the cent
    want = cash.groupby("supplier")["amount"].sum()
    got = sheet.groupby("supplier")[own].sum()
    assert set(got.index) == set(want.index)
    for supplier in want.index:
        assert abs(got[supplier] - want[supplier]) <= 0.005 + 1e-6, supplier
    summary, _, titles = _read_summary(wb["Summary"])
    total = summary.iloc[-1][f"Value in {cfg.currency}" if f"Value in {cfg.currency}" in titles else "Value"]
    assert abs(total - cash["amount"].sum()) <= 0.005 + 1e-6


def test_workbook_money_agrees_with_cash_csv_to_the_cent(economics_run, tmp_path):
    inst, ev = economics_run.instance, economics_run.evaluation
    _assert_po_money_agrees_with_cash(inst, ev.payments, report.write_purchase_orders(inst, ev, tmp_path))


@pytest.mark.slow
def test_sample_purchase_orders_are_weekly_with_one_deposit_each(tmp_path, one_stage_sample):
    """data/sample places its purchase orders weekly (po_cycle_days = 7): every PO date is
    the planning date plus whole weeks, each PO pays one deposit on its PO date, and the
    workbook agrees with the run's cash.csv to the cent."""
    from optimizer.workflows.planner import plan_campaign

    run = plan_campaign(one_stage_sample, Settings(time_limit_s=60), out_dir=tmp_path / "run",
                        progress=lambda msg: None)
    inst, ev = run.instance, run.evaluation
    assert inst.campaign.config.po_cycle_days == 7
    assert {(d - inst.planning_date).days % 7 for d in ev.lines["po_date"]} == {0}
    assert (ev.lines["po_date"] <= ev.lines["order_by"]).all()
    path = report.write_purchase_orders(inst, ev, tmp_path)
    got = _check_po_workbook(inst, ev, path)
    cash = pd.read_csv(tmp_path / "run" / "cash.csv", dtype={"supplier": str}, keep_default_na=False)
    deposits = cash[cash["kind"] == "deposit"]
    assert len(deposits) == len(got["sheets"])  # one deposit per PO
    _assert_po_money_agrees_with_cash(inst, cash, path)


def test_purchase_order_prints_the_buyer_and_the_suppliers_address(tmp_path):
    """campaign.toml [buyer] and suppliers.csv address / contact on every PO; a PO's
    pages are numbered on their own."""
    from optimizer.workflows.planner import plan_campaign

    case = _shared_case("c23_po_cycle")
    if not case.is_dir():
        pytest.skip(f"no conformance case at {case}")
    folder = tmp_path / "campaign"
    shutil.copytree(case, folder)
    with open(folder / "campaign.toml", "a", encoding="utf-8") as f:
        f.write('\n[buyer]\ncompany = "Acme Trading LLC"\naddress = """\n1 Main St\nReno NV 89501"""\n'
                'contact = "Jane Doe, buying@acme.example"\nincoterms = "fob Shenzhen"\n')
    (folder / "suppliers.csv").write_text(
        "supplier,min_order_value,capacity_units,deposit_share,name,address,contact\n"
        'F1,0,,0.3,Ningbo Lotus Co. Ltd,"88 Harbour Rd, Ningbo",=Mr Li\n'
        "F2,0,,0.3,,,\n")
    run = plan_campaign(folder, Settings(time_limit_s=20), progress=lambda msg: None)
    inst, ev = run.instance, run.evaluation
    out = tmp_path / "out"
    out.mkdir()
    got = _check_po_workbook(inst, ev, report.write_purchase_orders(inst, ev, out))
    f1 = got["read"][("F1", dt.date(2026, 9, 29))]["header"]
    assert f1["Buyer"].value == "Acme Trading LLC"
    assert f1["Buyer address"].value == "1 Main St, Reno NV 89501"
    assert f1["Buyer contact"].value == "Jane Doe, buying@acme.example"
    assert f1["Incoterms"].value == "FOB Shenzhen"
    assert f1["Supplier"].value == "Ningbo Lotus Co. Ltd"
    assert f1["Supplier address"].value == "88 Harbour Rd, Ningbo"
    assert f1["Supplier contact"].value == "=Mr Li" and f1["Supplier contact"].data_type == "s"
    f2 = got["read"][("F2", dt.date(2026, 10, 13))]["header"]
    assert "Supplier address" not in f2 and "Supplier contact" not in f2  # not given: not printed
    assert f2["Supplier"].value == "F2" and f2["Buyer"].value == "Acme Trading LLC"
    summary = {r[0]: r[1] for r in got["workbook"]["Summary"].iter_rows(values_only=True, max_row=9) if r[0]}
    assert summary["Buyer"] == "Acme Trading LLC" and summary["Campaign"] == "c23_po_cycle"
    assert summary["Order cycle"] == "every 7 days from the planning date"
    footers = {got["workbook"][sheet].oddFooter.center.text for sheet in got["sheets"].values()}
    assert footers == {f"{n} · page &P of 1" for n in ("CPC-F1-001", "CPC-F2-001", "CPC-F1-002")}


def _hostile_campaign(folder: Path) -> Path:
    """c17_fx (F1 quoting SKU A in CNY, B in USD) with formula-like supplier, SKU and
    supplier names, a warehouse address, a 30 % deposit and a case pack of 6."""
    import csv

    shutil.copytree(SHARED_CONFORMANCE_V2 / "c17_fx", folder)
    skus = pd.read_csv(folder / "skus.csv", dtype=str, keep_default_na=False)
    skus["supplier"] = "=1+1"
    skus["name"] = ['=HYPERLINK("http://x","click")', "@SUM(1)"]
    skus.loc[skus["sku"] == "A", "case_pack"] = "6"
    skus.to_csv(folder / "skus.csv", index=False, quoting=csv.QUOTE_MINIMAL)
    pd.DataFrame({"supplier": ["=1+1"], "min_order_value": ["0"], "capacity_units": [""],
                  "deposit_share": ["0.3"], "name": ["-Evil Co, Ltd"]}).to_csv(
        folder / "suppliers.csv", index=False)
    wh = pd.read_csv(folder / "warehouses.csv", dtype=str, keep_default_na=False)
    wh["address"] = "+1 Dock Road, Reno NV"
    wh.to_csv(folder / "warehouses.csv", index=False)
    return folder


def test_purchase_order_keeps_formula_like_names_as_text(tmp_path):
    """Supplier ids, supplier and SKU names and addresses that a spreadsheet would run as
    formulas are text cells, shown as written, on the PO and Summary sheets."""
    from optimizer.workflows.planner import plan_campaign

    if not (SHARED_CONFORMANCE_V2 / "c17_fx").is_dir():
        pytest.skip(f"no conformance-v2 case at {SHARED_CONFORMANCE_V2}")
    run = plan_campaign(_hostile_campaign(tmp_path / "campaign"), Settings(time_limit_s=10),
                        progress=lambda msg: None)
    inst, ev = run.instance, run.evaluation
    out = tmp_path / "out"
    out.mkdir()
    path = report.write_purchase_orders(inst, ev, out)
    got = _check_po_workbook(inst, ev, path)
    wb = got["workbook"]
    (key,) = got["sheets"]
    assert key[0] == "=1+1"
    s = got["read"][key]
    h = s["header"]
    assert h["Supplier"].value == "-Evil Co, Ltd" and h["Supplier id"].value == "=1+1"
    assert h["Ship to"].value == "FBA1 (US): +1 Dock Road, Reno NV"
    assert h["PO number"].value == "CF-1-1-001" == got["sheets"][key]
    assert h["Payment terms"].value == "30 % deposit on order, balance before shipment"
    assert {line["Name"].value for line in s["lines"]} == {'=HYPERLINK("http://x","click")', "@SUM(1)"}
    a = next(line for line in s["lines"] if line["SKU"].value == "A")
    assert a["Units per case"].value == 6 and a["Units"].value % 6 == 0
    labels = [p["Payment"].value for p in s["payments"]]
    assert labels.count("Deposit 30 %") == 2 and labels.count("Balance 70 %") == 2  # CNY and USD
    hostile = {"=1+1", "-Evil Co, Ltd", '=HYPERLINK("http://x","click")', "@SUM(1)"}
    seen = set()
    for ws in (wb[got["sheets"][key]], wb["Summary"]):
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
                    assert cell.data_type == "s", (ws.title, cell.coordinate, cell.value)
                    seen.add(cell.value)
    assert seen == hostile


def test_a_long_purchase_order_breaks_its_pages_where_it_says():
    """The page count in a PO's footer is the sheet's own: a break where a page is full
    (90 % of a landscape page, 15-point rows) at a scale that fits the columns on the page
    width, a block that fits on a page moved whole to the next one."""
    from openpyxl import Workbook

    from optimizer.report.workbook import _paginate

    def sheet(width: float):
        ws = Workbook().active
        for c in "ABCDEFGHIJ":
            ws.column_dimensions[c].width = width
        return ws

    ws = sheet(15)  # 150 characters: 78 %, 37 rows a page
    assert _paginate(ws, 10, 37) == 1 and not ws.row_breaks.brk
    assert ws.page_setup.scale == 78
    ws = sheet(8)  # 80 characters: 100 %, 29 rows a page
    assert _paginate(ws, 10, 100) == 4
    assert ws.page_setup.scale == 100 and [b.id for b in ws.row_breaks.brk] == [29, 58, 87]
    ws = sheet(8)
    assert _paginate(ws, 10, 40, keep=[(25, 33)]) == 2  # the block starts page 2
    assert [b.id for b in ws.row_breaks.brk] == [24]
    ws = sheet(8)
    assert _paginate(ws, 10, 40, keep=[(5, 40)]) == 2  # longer than a page: split
    assert [b.id for b in ws.row_breaks.brk] == [29]


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftotext")),
                    reason="LibreOffice (soffice) and poppler's pdftotext are not installed")
def test_purchase_orders_print_each_with_its_own_page_numbers(economics_run, tmp_path):
    """The workbook converted to PDF by LibreOffice: each PO's pages say "page n of m"
    counted on that PO alone, though they print in one document."""
    import re
    import subprocess

    inst, ev = economics_run.instance, economics_run.evaluation
    path = report.write_purchase_orders(inst, ev, tmp_path)
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=300)
    text = subprocess.run(["pdftotext", "-layout", str(path.with_suffix(".pdf")), "-"], check=True,
                          capture_output=True, text=True).stdout
    found = re.findall(r"(\S+) · page (\d+) of (\d+)", text)
    wb = openpyxl.load_workbook(path)
    want = [(name, str(n), str(len(wb[name].row_breaks.brk) + 1)) for name in wb.sheetnames[1:-2]
            for n in range(1, len(wb[name].row_breaks.brk) + 2)]
    assert found == want
    assert "###" not in text  # every amount fits its column


def test_purchase_order_numbers_and_terms():
    from optimizer.report.workbook import PO_NUMBER_MAX, payment_terms, po_numbers, po_prefix

    assert po_prefix("Black Friday 2026 (sample)") == "BF26"
    assert po_prefix("Prime Day 2025 — EU") == "PDE25"
    assert po_prefix("c23_po_cycle") == "CPC"
    assert po_prefix("Singles' Day [test] 20261111") == "SD"  # no year on its own
    assert po_prefix("双十一 2026") == "PO26" and po_prefix("") == "PO"
    d1, d2 = dt.date(2026, 8, 20), dt.date(2026, 8, 27)
    orders = [("SUP01", d2), ("SUP01", d1), ("=1+1", d1), ("F-1", d1), ("F 1", d1), ("", d1),
              ("Shenzhen Kingstar Electronics", d1), ("Shenzhen Kingstar Homeware", d2)]
    numbers = po_numbers("Black Friday 2026 (sample)", orders)
    assert numbers == ["BF26-SUP01-002", "BF26-SUP01-001", "BF26-1-1-001", "BF26-F-1-2-001",
                       "BF26-F-1-001", "BF26-SUP-001", "BF26-Shenzhen-Ki-001", "BF26-Shenzhen-2-001"]
    assert len(set(n.casefold() for n in numbers)) == len(numbers)
    assert max(map(len, numbers)) <= PO_NUMBER_MAX
    many = po_numbers("Black Friday 2026", [("SUP01", d1 + dt.timedelta(days=k)) for k in range(1000)])
    assert many[0] == "BF26-SUP01-0001" and many[-1] == "BF26-SUP01-1000"
    assert payment_terms(0.3) == "30 % deposit on order, balance before shipment"
    assert payment_terms(0.125) == "12.5 % deposit on order, balance before shipment"
    assert payment_terms(1.0) == "payment in full on order"
    assert payment_terms(0.0) == "payment in full before shipment"


def test_purchase_order_workbook_of_an_empty_plan(tiny_run, tmp_path):
    from optimizer.evaluate.plan import evaluate_plan

    inst = tiny_run.instance
    wb = openpyxl.load_workbook(report.write_purchase_orders(inst, evaluate_plan(inst, None), tmp_path))
    assert wb.sheetnames == ["Summary", "Payment schedule", "Shipping plan"]
    assert "the plan orders nothing" in [r[0] for r in wb["Summary"].iter_rows(values_only=True)]


@pytest.mark.notebook
def test_report_shows_the_latest_frontier_of_the_same_campaign_files(tmp_path):
    root = tmp_path / "reports"
    assert main(["frontier", str(TINY), "--steps", "4", "--time-limit", "5", "--reports-dir", str(root)]) == 0
    assert main(["report", str(TINY), "--time-limit", "10", "--reports-dir", str(root)]) == 0
    (page,) = root.glob("tiny-demo/*/report.html")
    text = page.read_text(encoding="utf-8")
    assert "Recommended budget:" in text and "At the campaign budget of" in text
    assert text.index('id="Budget-frontier"') < text.index('id="Profit-and-cash"')


def test_the_spend_card_gives_the_recommended_budget_and_what_ten_percent_more_earns(tiny_run):
    from optimizer.report.decision import budget_advice
    from optimizer.workflows.frontier import frontier_table

    campaign = load_campaign(TINY)  # budget 29,000
    rows = [{"budget": b, "expected_profit": p, "spend": s, "status": "optimal"}
            for b, p, s in ((20_000, 80_000.0, 19_990), (30_000, 100_000.0, 29_990), (40_000, 104_000.0, 33_000))]
    t = frontier_table(rows)
    t.attrs["recommended_budget"] = 33_000.0
    recommended, more = budget_advice(campaign, t)
    assert recommended == 33_000.0
    assert more == pytest.approx((100_000 + 0.19 * 4_000) - (80_000 + 0.9 * 20_000))  # 29,000 → 31,900: 2,760
    html = report.summary_cards(tiny_run.instance, tiny_run.evaluation, tiny_run.summary, frontier=t)
    assert "recommended budget 33,000 USD" in html and "one more 10 % of budget earns 2,760 USD" in html


def test_an_unreadable_frontier_is_said_in_one_line_and_the_report_goes_on(tmp_path):
    from optimizer.report.decision import load_frontier

    (tmp_path / "frontier.csv").write_bytes(b"\x00\x01garbage")
    table, note = load_frontier(tmp_path)
    assert table is None and "cannot be read" in note and note.count("<p>") == 1
    table, note = load_frontier(None)
    assert table is None and "No budget frontier" in note
