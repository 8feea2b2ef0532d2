"""The command line (optimizer.cli): what it prints and how it refuses bad options before any work."""

from __future__ import annotations

import contextlib
import io
import json
import signal
import subprocess
import sys
import time

import pytest

from optimizer.cli import main, plan_line

from checker import check_plan
from conftest import OWN_CAMPAIGNS, REPO, write_campaign

M01 = OWN_CAMPAIGNS / "m01_budget_by_margin_per_cost"
M04 = OWN_CAMPAIGNS / "m04_cheap_lane_misses_the_cutoff"


def _main(args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def test_plan_line_says_when_no_bound_was_proven():
    summary = {"status": "time_limit", "expected_profit": 1234.5, "currency": "USD", "spend": 900.0,
               "budget": 1000.0, "expected_fill_rate": 0.5, "mip_gap": None, "best_bound": None}
    line = plan_line(summary, "runs/x")
    assert "no bound proven" in line and "gap" not in line
    line = plan_line({**summary, "mip_gap": 0.00123, "best_bound": 1236.0}, "runs/x")
    assert "gap 0.123% to bound 1,236.00" in line


@pytest.mark.parametrize("out, fragment", [
    ("file", "is a file, not a folder"),
    ("file/run", "which is a file"),
    ("/proc/no-such/run", "cannot write to /proc/no-such/run"),
])
def test_unwritable_out_exits_2_before_solving(tmp_path, out, fragment):
    (tmp_path / "file").write_text("not a folder\n")
    target = out if out.startswith("/") else str(tmp_path / out)
    code, stdout, err = _main(["plan", str(M01), "--out", target])
    assert code == 2, err
    assert "option '--out'" in err and fragment in err and "Traceback" not in err
    assert "built model" not in err  # refused before any work


def test_unwritable_reports_dir_exits_2(tmp_path):
    (tmp_path / "file").write_text("x")
    for command in (["report", str(M01)], ["frontier", str(M01), "--steps", "2"]):
        code, _, err = _main([*command, "--reports-dir", str(tmp_path / "file")])
        assert code == 2 and "option '--reports-dir'" in err, err


def test_empty_plan_says_why(tmp_path):
    code, _, err = _main(["plan", str(M04), "--delay", "air=42", "--out", str(tmp_path / "a")])
    assert code == 0 and "note: the plan orders nothing: no lane makes any cutoff" in err
    no_demand = write_campaign(
        tmp_path / "c", {"name": "empty", "currency": "USD", "planning_date": "2026-09-01",
                         "promo_start": "2026-11-27", "promo_end": "2026-12-01", "budget": 1000.0,
                         "buffer_days": 0},
        [{"sku": "A", "supplier": "F1", "unit_cost": 1.0, "price": 2.0, "weight_kg": 1.0, "volume_m3": 0.01,
          "case_pack": 1, "moq": 0, "production_days": 1, "duty_rate": 0.0, "salvage_value": 0.0,
          "return_rate": 0.0}],
        [{"warehouse": "W", "market": "US", "capacity_m3": 10.0, "cutoff": "2026-11-01"}],
        [{"warehouse": "W", "mode": "sea", "transit_days": 1, "cost_per_kg": 0.0, "cost_per_m3": 0.0,
          "volumetric_kg_per_m3": 0, "shipment_cost": 0.0}], [])
    code, _, err = _main(["plan", str(no_demand), "--out", str(tmp_path / "b")])
    assert code == 0 and "note: the plan orders nothing: demand.csv has no demand" in err


def _plan_process(out, campaign=REPO / "data" / "sample"):
    return subprocess.Popen([sys.executable, "-m", "optimizer", "plan", str(campaign), "--out", str(out),
                             "--time-limit", "120"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_ctrl_c_keeps_the_best_plan_found(tmp_path):
    out = tmp_path / "run"
    proc = _plan_process(out)
    seen = []
    for line in proc.stderr:  # progress lines: interrupt once the first plans are in
        seen.append(line)
        if line.startswith("rounded LP plan"):
            proc.send_signal(signal.SIGINT)
            break
    stdout, rest = proc.communicate(timeout=120)
    err = "".join(seen) + rest
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "interrupted: keeping the best plan found" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["mip_gap"] is not None
    assert summary["solve_seconds"] < summary["time_limit_s"]
    check_plan(REPO / "data" / "sample", out).assert_valid()


@pytest.mark.slow
def test_ctrl_c_before_any_plan_writes_nothing(tmp_path):
    out = tmp_path / "run"
    proc = _plan_process(out)
    time.sleep(1.0)  # loading the campaign and importing the engine: no plan yet
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err and "interrupted" in err
    assert not out.exists()
