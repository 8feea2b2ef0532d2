"""The report layer: `python -m optimizer report` end to end, and the report tables.

End-to-end runs use data/tiny with a short time limit; the table tests plan the
tiny campaign once in process.
"""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
from pathlib import Path

import nbformat
import openpyxl
import pandas as pd
import pytest

from optimizer import report
from optimizer.cli import main
from optimizer.io.campaign import load_campaign
from optimizer.io.run_folder import new_run_dir
from optimizer.prep.instance import Overrides, build_instance

from conftest import (
    OWN_CAMPAIGNS,
    REPO,
    SHARED_CONFORMANCE_V2,
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
                    "Timeline", "SKUs no lane can bring in time", "Against the rule of thumb",
                    "Profit risk", "ABC classes and stock health", "Chance of a loss",
                    "share of expected revenue", "Profit and cash", "Supplier payments"):
        assert heading in page, heading
    assert "Cash limits" not in page  # data/tiny has no [[cash_limits]]
    assert page.count('class="dataframe report-table"') >= 8
    assert "BEA-00006" in page and "order_by" in page and "ship_by" in page
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
    assert set(wb.sheetnames) == suppliers | {"Payment schedule", "Shipping plan"}
    ws = wb[sorted(suppliers)[0]]
    header = [c.value for c in ws[1]]
    assert {"sku", "units", "order_by", "po_value"} <= set(header)
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
    assert len(err.strip().splitlines()) == 1 and "boom in the notebook" in err
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
    assert k["Expected profit"] == pytest.approx(s["expected_profit"])
    assert k["Spend"] == pytest.approx(s["spend"])
    assert k["Expected fill rate"] == pytest.approx(s["expected_fill_rate"], abs=1e-6)
    assert k["Expected leftover units"] == pytest.approx(s["expected_leftover_units"], abs=1e-3)
    assert k["Expected leftover value (at cost incl. duty)"] == pytest.approx(s["expected_leftover_cost"], abs=1e-3)
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
    assert list(cmp.columns) == ["optimised", "rule of thumb", "difference"]
    # the optimiser is at least as good as the rule of thumb on the exact objective
    # whenever the rule-of-thumb plan keeps every rule
    if report.rule_breaches(inst, rot).empty:
        assert tiny_run.evaluation.expected_profit >= rot.expected_profit - 1e-6


def test_rule_of_thumb_is_the_newsvendor_quantity_when_money_is_plenty():
    inst = build_instance(load_campaign(TINY), Overrides(budget=1e9))
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
    late = build_instance(campaign, Overrides(delays={"sea_lcl": 60, "rail": 60, "air": 60}))
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
    inst = build_instance(load_campaign(folder), Overrides())
    assert report.forecast_audit(inst) is None
    assert "No forecast_audit.csv" in report.forecast_note(inst, None)
    assert report.forecast_summary(None).empty and report.forecast_audit_table(None).empty

    d = inst.campaign.demand
    audit = d.assign(category="c", method="ets_level", baseline=d["mean"] / 3, lift=3.0,
                     growth=1.0, ad_uplift=1.0, competition=1.0, sd_scale=1.25)
    audit.loc[0, "mean"] += 1.0                 # demand.csv row 0 is not the forecast
    audit.to_csv(folder / "forecast_audit.csv", index=False)
    got = report.forecast_audit(build_instance(load_campaign(folder), Overrides()))
    note = report.forecast_note(inst, got)
    assert f"{len(d) - 1} of the {len(d)} SKU × warehouse rows" in note and "1 differ" in note
    assert "calibrated ×1.250" in note
    summary = report.forecast_summary(got)
    assert summary["pairs"].sum() == len(d)
    assert summary["forecast mean"].sum() == pytest.approx(audit["mean"].sum())
    assert summary["lift"].iloc[0] == pytest.approx(3.0)
    table = report.forecast_audit_table(got)
    assert table["mean"].is_monotonic_decreasing and "sd_scale" in table


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
    assert all(isinstance(t, pd.DataFrame) for t in tables)
    assert len(tables[2]) == len(ev.lines)  # one purchase-order line per plan line
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


# ---------------------------------------------------------------- profit and cash (SPEC §6)

ECONOMICS_CASES = ["c13_marketplace_fees", "c15_bonded", "c16_cash_limits", "c17_fx"]


@pytest.fixture(scope="module", params=ECONOMICS_CASES)
def economics_run(request):
    """A planned SPEC §6 conformance-v2 campaign (fees, bonded, deposits + cash limits, fx)."""
    from optimizer.workflows.planner import plan_campaign

    case = SHARED_CONFORMANCE_V2 / request.param
    if not case.is_dir():
        pytest.skip(f"no conformance-v2 case at {case} (clone ../shared beside the repo)")
    return plan_campaign(case, Overrides(time_limit_s=20), progress=lambda msg: None)


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
    if cfg.cash_limits:  # c16: a marker per limit at its date and amount, the curve below it
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
        assert r.due in set(lines["order_by" if r.kind == "deposit" else "ship_by"])
        rate = inst.campaign.config.rate(r.currency)
        assert r.quoted_amount * rate == pytest.approx(r.amount)
    if inst.campaign.config.name == "c16_cash_limits":  # 30 % deposits
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
            assert shown.at[f, "deposit due"] == str(g["order_by"].iloc[0])
            assert shown.at[f, "balance due"] == str(g["ship_by"].iloc[0])
    foreign = "deposit as quoted" in shown
    assert foreign == (case == "c17_fx")
    if foreign:  # c17: SKU A quoted in CNY, SKU B in USD, both from F1
        assert "CNY" in shown.at["F1", "deposit as quoted"]
        assert shown.at["F1", "balance"] == "" and shown.at["F1", "balance due"] == ""


def test_cash_limit_table_matches_summary(economics_run):
    inst, ev, summary = economics_run.instance, economics_run.evaluation, economics_run.summary
    t = report.cash_limit_table(inst, ev)
    limits = summary.get("cash_limits") or []
    assert list(t["paid until"]) == [c["until"] for c in limits]
    assert list(t["paid"]) == [f"{c['paid']:,.2f} USD" for c in limits]
    assert list(t["headroom"]) == [f"{c['headroom']:,.2f} USD" for c in limits]
    assert t.empty == (inst.campaign.config.name != "c16_cash_limits")


def test_workbook_payment_schedule_sheet(economics_run, tmp_path):
    inst, ev = economics_run.instance, economics_run.evaluation
    cur = inst.campaign.config.currency
    path = report.write_purchase_orders(inst, ev, tmp_path)
    wb = openpyxl.load_workbook(path)
    suppliers = set(report.purchase_orders(inst, ev)["supplier"])
    assert set(wb.sheetnames) == suppliers | {"Payment schedule", "Shipping plan"}
    ws = wb["Payment schedule"]
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:6] == ["supplier", "kind", "share", "due", "amount", "currency"]
    sheet = pd.DataFrame(rows[1:], columns=header)
    own = f"amount in {cur}" if f"amount in {cur}" in header else "amount"
    assert (own == "amount") == (inst.campaign.config.name != "c17_fx")
    assert sheet.groupby("supplier")[own].sum().to_dict() == pytest.approx(
        _purchase_value_by_supplier(inst, ev).to_dict())
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
    run = plan_campaign(folder, Overrides(time_limit_s=20), progress=lambda msg: None)
    out = tmp_path / "out"
    out.mkdir()
    path = report.write_purchase_orders(run.instance, run.evaluation, out)
    ws = openpyxl.load_workbook(path)["Payment schedule"]
    cells = [c for c in ws["A"][1:] if c.value == "=1+1"]
    assert cells and all(c.data_type == "s" for c in cells)
