"""optimizer.evaluate.diff — the rerun diff: what changed between two runs after a lead-time change.

On data/tiny, delaying sea_lcl by 10 days, rail by 10 and air by 20 pushes the
sea_lcl routes of BEA-00006 past both cutoffs (slack 5 and 8 days) and leaves
ELE-00004 with no lane at all (its only usable routes were air and DTM1 rail).
"""

from __future__ import annotations

import contextlib
import io
import json

import pandas as pd
import pytest

from optimizer.cli import main
from optimizer.evaluate.diff import diff_runs
from optimizer.io.run_index import previous_run, record_run

from conftest import REPO, run_plan_in_process

TINY = REPO / "data" / "tiny"
LATE = {"sea_lcl": 10, "rail": 10, "air": 20}
DELAY_ARGS = [a for m, d in LATE.items() for a in ("--delay", f"{m}={d}")]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    a, b = root / "before", root / "after"
    code_a, out_a = run_plan_in_process(TINY, a)
    code_b, out_b = run_plan_in_process(TINY, b, delays=LATE)
    assert code_a == 0 and code_b == 0, out_a + out_b
    return a, b


def test_diff_names_moved_lines_and_newly_late_pairs(two_runs):
    a, b = two_runs
    d = diff_runs(a, b)
    assert set(d) == {"totals", "moved", "quantities", "newly_late", "lost_routes"}
    moved = d["moved"]
    bea = moved[(moved["sku"] == "BEA-00006") & (moved["change"] == "mode")]
    assert set(bea["warehouse"]) == {"ONT8", "DTM1"} and (bea["before"] == "sea_lcl").all()
    assert not bea["after"].str.contains("sea_lcl").any()
    q = d["quantities"].set_index(["sku", "warehouse", "mode"])
    assert q.loc[("BEA-00006", "ONT8", "sea_lcl"), "direction"] == "dropped"
    assert q.loc[("BEA-00006", "ONT8", "sea_lcl"), "units_after"] == 0
    plan_a, plan_b = (pd.read_csv(r / "plan.csv") for r in (a, b))
    assert q["units_change"].sum() == plan_b["units"].sum() - plan_a["units"].sum()
    late = d["newly_late"]
    assert set(zip(late["sku"], late["warehouse"])) == {("ELE-00004", "ONT8"), ("ELE-00004", "DTM1")}
    lost = set(zip(d["lost_routes"]["sku"], d["lost_routes"]["warehouse"], d["lost_routes"]["mode"]))
    assert ("BEA-00006", "ONT8", "sea_lcl") in lost and ("BEA-00001", "DTM1", "sea_lcl") not in lost
    totals = d["totals"].set_index("metric")
    sa, sb = (json.loads((r / "summary.json").read_text()) for r in (a, b))
    assert totals.at["expected_profit", "change"] == pytest.approx(sb["expected_profit"] - sa["expected_profit"])
    assert totals.at["spend", "change"] == pytest.approx(sb["spend"] - sa["spend"])


def test_diff_of_a_run_with_itself_is_empty(two_runs):
    a, _ = two_runs
    d = diff_runs(a, a)
    assert d["moved"].empty and d["quantities"].empty and d["newly_late"].empty
    assert (d["totals"]["change"].fillna(0) == 0).all()


def test_diff_command(two_runs, tmp_path):
    a, b = two_runs
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["diff", str(a), str(b)]) == 0
    text = out.getvalue()
    assert "switched mode or warehouse" in text and "BEA-00006" in text and "ELE-00004" in text
    with contextlib.redirect_stderr(io.StringIO()) as err:
        assert main(["diff", str(a), str(tmp_path)]) == 2
    assert "not a run folder" in err.getvalue()


def test_previous_run_is_latest_earlier_success_of_same_campaign(tmp_path):
    db = tmp_path / "history.sqlite"
    for i, (campaign, status) in enumerate([("Tiny demo", "optimal"), ("Tiny demo", "time_limit"),
                                            ("Other", "optimal"), ("Tiny demo", "failed")]):
        d = tmp_path / f"r{i}"
        d.mkdir()
        (d / "summary.json").write_text("{}")
        record_run(db, campaign=campaign, run_id=f"2026010{i}", parameters={}, input_sha256=None,
                   status=status, run_dir=d)
    assert previous_run(db, "Tiny demo") == tmp_path / "r1"
    assert previous_run(db, "Tiny demo", before_run_id="20260101") == tmp_path / "r0"
    assert previous_run(db, "Tiny demo", before_run_id="20260100") is None
    assert previous_run(tmp_path / "none.sqlite", "Tiny demo") is None


@pytest.mark.notebook
def test_report_shows_diff_against_previous_run(tmp_path):
    root = tmp_path / "reports"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["report", str(TINY), "--time-limit", "10", "--reports-dir", str(root)]) == 0
        assert main(["report", str(TINY), "--time-limit", "10", "--reports-dir", str(root),
                     *DELAY_ARGS]) == 0
    first, second = sorted((root / "tiny-demo").iterdir())
    assert (first / "coverage.csv").is_file() and (second / "coverage.csv").is_file()
    page1 = (first / "report.html").read_text(encoding="utf-8")
    page2 = (second / "report.html").read_text(encoding="utf-8")
    assert "Changes since the previous run" in page1 and "No earlier successful run" in page1
    assert f"Compared with run <code>{first.name}</code>" in page2
    start = page2.index("Changes since the previous run")
    section = page2[start:page2.index("Run and files", start)]
    assert "BEA-00006" in section and "ELE-00004" in section and "dropped" in section
