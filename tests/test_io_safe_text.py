"""Untrusted names (SKU, supplier, campaign) in the HTML report, the .xlsx and the CSVs."""

from __future__ import annotations

import csv
import shutil

import openpyxl
import pandas as pd
import pytest

from optimizer.cli import main
from optimizer.io.safe_text import safe_cell, safe_frame, sheet_names

from conftest import REPO

TINY = REPO / "data" / "tiny"
SCRIPT = "<script>alert(1)</script>"


@pytest.mark.parametrize("text, expected", [
    ("=1+2", "'=1+2"), ("+SUM(A1)", "'+SUM(A1)"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("-12.5", "-12.5"), ("+3", "+3"), ("-1e-3", "-1e-3"), ("BEA-00001", "BEA-00001"),
    ("", ""), ("plain", "plain"), ("a=b", "a=b"),
])
def test_safe_cell(text, expected):
    assert safe_cell(text) == expected


def test_safe_frame_leaves_numbers_alone():
    df = pd.DataFrame({"sku": ["=1+2", "ok", "-5"], "units": [-3, 4, 5], "cost": [-1.5, 2.0, 3.0]})
    out = safe_frame(df)
    assert list(out["sku"]) == ["'=1+2", "ok", "-5"]
    assert list(out["units"]) == [-3, 4, 5] and out["units"].dtype == df["units"].dtype
    assert list(out["cost"]) == [-1.5, 2.0, 3.0]
    assert list(df["sku"]) == ["=1+2", "ok", "-5"]  # the input is not changed


def test_sheet_names_follow_excel_rules():
    names = sheet_names(["A/B:C", "x" * 40, "x" * 40, "Sup", "SUP", "'quoted'", "", "History",
                         "Shipping plan"], reserved=("History", "Shipping plan"))
    assert names[0] == "A_B_C"
    assert all(0 < len(n) <= 31 for n in names)
    assert len({n.casefold() for n in names}) == len(names)
    assert not any(set(n) & set("[]:*?/\\") for n in names)
    assert not any(n.startswith("'") or n.endswith("'") for n in names)
    assert "History" not in names and "Shipping plan" not in names


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """data/tiny with a script as SKU and campaign name and formulas as ids and names."""
    root = tmp_path_factory.mktemp("hostile")
    c = root / "campaign"
    shutil.copytree(TINY, c)
    toml = (c / "campaign.toml").read_text().replace('name = "Tiny demo"', f'name = "{SCRIPT}"')
    (c / "campaign.toml").write_text(toml)
    for name in ("skus.csv", "demand.csv", "inventory.csv", "suppliers.csv"):
        text = (c / name).read_text()
        text = text.replace("BEA-00006", "=1+2").replace("BEA-00001", "@SUM(A1)")
        text = text.replace("SUP01", "+SUP01").replace("Premium makeup brush set 6-pack", SCRIPT)
        text = text.replace("Hangzhou Greenleaf Beauty Tools Co. Ltd", '"=HYPERLINK(""http://x"")"')
        (c / name).write_text(text)
    reports = root / "reports"
    code = main(["report", str(c), "--time-limit", "20", "--reports-dir", str(reports)])
    assert code == 0
    (html,) = reports.glob("*/*/report.html")
    return html.parent


@pytest.mark.notebook
def test_html_report_escapes_untrusted_names(hostile_run):
    page = (hostile_run / "report.html").read_text(encoding="utf-8")
    assert SCRIPT not in page and "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown, as text
    assert "<title>&lt;script&gt;" in page


@pytest.mark.notebook
def test_workbook_neutralises_formulas(hostile_run):
    # ids shown as written, in text cells: a spreadsheet never runs them
    wb = openpyxl.load_workbook(hostile_run / "purchase_orders.xlsx")
    # each PO sheet is named by its PO number, built from the supplier id without its formula sign
    assert any("SUP01" in name for name in wb.sheetnames)
    assert not any(name.startswith(("=", "+", "-", "@")) for name in wb.sheetnames)
    cells = [c for ws in wb for row in ws.iter_rows() for c in row]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert "=1+2" in texts and "@SUM(A1)" in texts and any("+SUP01" in t for t in texts)
    assert not any(t.startswith("'") for t in texts)
    assert all(c.data_type == "s" for c in cells if isinstance(c.value, str))
    assert not any(c.data_type == "f" for c in cells)
    numbers = [c.value for c in cells if isinstance(c.value, (int, float))]
    assert numbers and all(isinstance(v, (int, float)) for v in numbers)


@pytest.mark.notebook
def test_plan_csvs_neutralise_formulas(hostile_run):
    plan = list(csv.reader((hostile_run / "plan.csv").open()))
    skus = {row[0] for row in plan[1:]}
    assert "'=1+2" in skus and not any(s.startswith(("=", "@", "+")) for s in skus)
    for name in ("plan.csv", "sku_summary.csv", "shipments.csv", "coverage.csv"):
        for row in csv.reader((hostile_run / name).open()):
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (name, cell)
                if cell.startswith("-"):
                    float(cell)  # only numbers may start with a minus


@pytest.mark.notebook
def test_run_folder_reads_ids_back_verbatim(hostile_run):
    # the monitor matches actuals to plan lines by these ids
    from optimizer.io.run_folder import read_coverage, read_plan, read_plan_run

    run, problems = read_plan_run(hostile_run)
    assert not problems
    assert {"=1+2", "@SUM(A1)"} <= set(run.lines["sku"])
    assert {"=1+2", "@SUM(A1)"} <= set(run.pairs.index.get_level_values("sku"))
    assert "=1+2" in set(read_plan(hostile_run)["sku"]) and "=1+2" in set(read_coverage(hostile_run)["sku"])


@pytest.mark.parametrize("text", ["=1+2", "'=1+2", "''x", "'", "-abc", "@x", "plain", "-12.5", "'quoted'"])
def test_neutralising_is_reversible(text):
    from optimizer.io.safe_text import plain_cell

    safe = safe_cell(text)
    assert plain_cell(safe) == text
    assert not safe.startswith(("=", "+", "@", "\t", "\r")) and (not safe.startswith("-") or text == "-12.5")
