"""optimizer.io.run_folder: where a run may be written, how its folder is made, how its files read back."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from types import SimpleNamespace

import pandas as pd
import pytest
from pydantic import ValidationError

from optimizer.io import run_folder
from optimizer.io.run_folder import (
    PLAN_COLUMNS,
    SHIPMENT_COLUMNS,
    SKU_SUMMARY_COLUMNS,
    NotARunFolder,
    RunFileError,
    publish,
    read_coverage,
    read_plan,
    read_plan_run,
    read_run_csv,
    read_summary,
    staging_for,
    writable_problems,
    write_run,
)
from optimizer.io.summary import CashLimitStatus, Overrides, RunSummary
from optimizer.status import Status

ODD_IDS = ["NA", "N/A", "None", "NULL", "nan", "''quoted"]


# ---------------------------------------------------------------- writable_problems


def test_checking_a_destination_creates_nothing(tmp_path):
    target = tmp_path / "runs" / "tiny-demo" / "20260101T000000Z"
    assert writable_problems(target, "--out") == []
    assert list(tmp_path.iterdir()) == []  # no folder, no probe file left behind


def test_a_dangling_symlink_is_refused_and_one_to_an_empty_folder_is_fine(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "empty")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert writable_problems(tmp_path / "link", "--out") == []
    (problem,) = writable_problems(tmp_path / "dangling", "--out")
    assert problem.column == "--out" and "symbolic link" in problem.message and "does not exist" in problem.message
    (problem,) = writable_problems(tmp_path / "dangling" / "run", "--out")
    assert "under" in problem.message and "does not exist" in problem.message
    assert not (tmp_path / "nowhere").exists()


def test_a_file_on_the_way_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    (problem,) = writable_problems(tmp_path / "file", "--out")
    assert "is a file, not a folder" in problem.message
    (problem,) = writable_problems(tmp_path / "file" / "a" / "b", "--out")
    assert "which is a file" in problem.message


def test_an_unwritable_ancestor_is_refused_without_creating_anything(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(run_folder.tempfile, "mkstemp", refuse)
    (problem,) = writable_problems(locked / "a" / "b", "--reports-dir")
    assert "cannot write to" in problem.message and "Permission denied" in problem.message
    assert str(locked) in problem.message
    assert list(locked.iterdir()) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        (problem,) = writable_problems(locked / "a" / "b", "--out")
        assert "cannot write to" in problem.message
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


# ---------------------------------------------------------------- staging and publishing


@pytest.fixture
def umask():
    """Set the process umask for a test, restoring it afterwards."""
    saved = os.umask(0o022)
    os.umask(saved)
    yield os.umask
    os.umask(saved)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_a_published_run_folder_has_the_permissions_of_any_new_folder(tmp_path, umask, mask):
    umask(mask)
    final = tmp_path / "reports" / "tiny-demo" / "run"
    staging = staging_for(final)
    assert staging.parent == final.parent and staging.name.startswith(".")
    (staging / "summary.json").write_text("{}")
    publish(staging, final)
    assert stat.S_IMODE(final.stat().st_mode) == 0o777 & ~mask
    plain = tmp_path / "plain"
    plain.mkdir()
    assert stat.S_IMODE(final.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_a_run_is_published_into_the_empty_folder_a_symlink_points_to(tmp_path):
    target = tmp_path / "shared" / "empty"
    target.mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(target)
    staging = staging_for(link)
    assert staging.parent == target.parent  # beside the real folder: the rename stays on its disk
    (staging / "plan.csv").write_text("sku\n")
    publish(staging, link)
    assert link.is_symlink() and (target / "plan.csv").is_file()
    assert [p.name for p in target.parent.iterdir()] == ["empty"]  # no staging folder left


def test_publishing_to_a_dangling_symlink_is_refused(tmp_path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(NotADirectoryError, match="does not exist"):
        staging_for(link)
    assert not (tmp_path / "nowhere").exists()


# ---------------------------------------------------------------- reading back


def _plan_csv(rows: list[str]) -> str:
    return "sku,warehouse,mode,cases,units,unit_landed_cost,line_cost,order_by,ship_by,cutoff\n" + "".join(
        f"{r},1,6,2.5,15.0,2026-09-01,2026-09-20,2026-11-03\n" for r in rows)


def test_ids_such_as_NA_and_None_are_read_verbatim(tmp_path):
    rows = [f"{sku},{wh},sea" for sku, wh in zip(ODD_IDS, reversed(ODD_IDS))]
    (tmp_path / "plan.csv").write_text(_plan_csv(rows))
    plan = read_plan(tmp_path)
    assert list(plan["sku"]) == ["NA", "N/A", "None", "NULL", "nan", "'quoted"]
    assert list(plan["warehouse"]) == ["'quoted", "nan", "NULL", "None", "N/A", "NA"]
    assert plan["units"].dtype.kind in "if" and plan["units"].sum() == 36
    (tmp_path / "coverage.csv").write_text(
        "sku,warehouse,mode,usable,slack_days,transit_days,demand_mean\n"
        "NA,None,air,True,4,8,1.5\nnan,NULL,sea,False,-3,40,0.0\n")
    cov = read_coverage(tmp_path)
    assert list(cov["sku"]) == ["NA", "nan"] and list(cov["warehouse"]) == ["None", "NULL"]
    assert list(cov["usable"]) == [True, False]


def test_an_empty_number_is_missing_and_an_empty_id_is_empty_text(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("campaign,status,budget,expected_profit\n,optimal,100,\nNA,,200,5\n")
    table = read_run_csv(path)
    assert list(table["campaign"]) == ["", "NA"] and list(table["status"]) == ["optimal", ""]
    assert table["expected_profit"].isna().tolist() == [True, False]


@pytest.mark.parametrize("content, fragment", [
    (b"", "is empty"),
    (b"\xff\xfe\x00garbage\x00\xff", "cannot be read as CSV"),
    (b"hello world\nnot a plan\n", "has no column 'sku'"),
    (b"sku,warehouse,mode,units,line_cost\nA,W,sea,many,1.0\n", "line 2, column 'units'"),
    (b"sku,warehouse,mode,units,line_cost\nA,W,sea,1,2,3,4\n", "cannot be read as CSV"),
])
def test_a_damaged_plan_csv_is_named(tmp_path, content, fragment):
    (tmp_path / "plan.csv").write_bytes(content)
    with pytest.raises(RunFileError, match=fragment) as e:
        read_plan(tmp_path)
    assert str(tmp_path / "plan.csv") in str(e.value)


def test_a_damaged_coverage_csv_is_named(tmp_path):
    (tmp_path / "coverage.csv").write_text(
        "sku,warehouse,mode,usable,slack_days,transit_days,demand_mean\nA,W,air,maybe,4,8,1.5\n")
    with pytest.raises(RunFileError, match="column 'usable'"):
        read_coverage(tmp_path)


@pytest.mark.parametrize("content, fragment", [
    ("{not json", "is not valid JSON"),
    ("[1, 2]", "must hold a JSON object, not an array"),
    ("", "is not valid JSON"),
])
def test_a_damaged_summary_is_named(tmp_path, content, fragment):
    (tmp_path / "summary.json").write_text(content)
    with pytest.raises(RunFileError, match=fragment) as e:
        read_summary(tmp_path)
    assert str(tmp_path / "summary.json") in str(e.value)
    assert isinstance(e.value, ValueError)  # callers that catch ValueError keep working


def test_a_missing_file_is_not_a_run_folder(tmp_path):
    with pytest.raises(NotARunFolder):
        read_summary(tmp_path)
    with pytest.raises(NotARunFolder):
        read_plan(tmp_path)
    assert read_coverage(tmp_path) is None


# ---------------------------------------------------------------- summary.json: RunSummary


def _no_plan() -> SimpleNamespace:
    """An evaluated plan that orders nothing: the tables write_run writes beside summary.json."""
    pairs = pd.DataFrame(columns=SKU_SUMMARY_COLUMNS).set_index(["sku", "warehouse"])
    return SimpleNamespace(lines=pd.DataFrame(columns=PLAN_COLUMNS), shipments=pd.DataFrame(columns=SHIPMENT_COLUMNS),
                           pairs=pairs, payments=pd.DataFrame())


def _every_field() -> RunSummary:
    """A summary with every field summary.json may hold given a value."""
    values = {
        "campaign": "Tiny demo", "currency": "USD", "status": Status.TIME_LIMIT, "expected_profit": 95222.680327,
        "best_bound": 95252.151673, "mip_gap": 0.0003095, "spend": 28980.392816, "purchase_spend": 28505.392816,
        "shipment_spend": 475.0, "budget": 29000.0, "budget_used": 0.999324, "expected_fill_rate": 0.707145,
        "expected_sales_units": 2562.3158, "expected_demand_units": 3623.4644, "expected_leftover_units": 454.6842,
        "expected_leftover_cost": 6756.9528, "expected_revenue": 128218.700128, "fees": 12.5, "referral_fees": 10.0,
        "fulfilment_fees": 2.5, "storage_cost": 3.25, "duty_deferred": 0.0,
        "cash_limits": [CashLimitStatus(until=dt.date(2026, 8, 31), limit=113000.0, paid=52909.00656,
                                        headroom=60090.99344)],
        "units_ordered": 1986, "skus_ordered": 3, "build_seconds": 0.0424, "solve_seconds": 0.0807,
        "n_variables": 49, "n_constraints": 126, "overrides": Overrides(budget=29000.0, delays={"air": 1, "sea_fcl": -2}),
        "termination": "not run", "mip_gap_target": 0.001, "time_limit_s": 10.0, "solve_time_limit_s": 8.5, "lp_rounds": 3, "mip_rounds": 0,
        "sales_chords": 11, "order_nothing_profit": 42863.723264, "planning_date": dt.date(2026, 8, 20),
        "merged_profit_before_polish": 84956.693879, "campaign_dir": "/data/tiny", "parts": 2,
        "parts_seconds": 0.315, "bound_seconds": 0.52, "bound_rounds": 2, "bound_evaluations": 7,
        "bound_note": None, "scheduler": "single-process", "kind": "top-up", "as_of": dt.date(2026, 10, 14),
        "monitored_run": "runs/tiny-demo/20260820T090000Z", "reason": None,
        "recourse_date": dt.date(2026, 10, 20), "reserve": 19.607184, "expected_stage2_spend": 12.5,
        "planning_scenarios": 200, "two_stage_method": "priced_relaxation", "evaluation_scenarios": 1000, "evaluation_seed": 2,
        "two_stage_profit": 95100.5, "two_stage_profit_se": 210.25, "single_stage_profit": 94900.0,
        "single_stage_profit_se": 215.0, "no_recourse_profit": 94800.0, "no_recourse_profit_se": 220.0,
        "perfect_information_profit": 97000.0, "perfect_information_profit_se": 250.0,
        "perfect_information_scenarios": 100, "perfect_information_is_bound": False, "value_of_flexibility": 200.5, "value_of_flexibility_se": 40.0,
    }
    assert set(values) == set(RunSummary.model_fields)
    return RunSummary(**values)


@pytest.mark.parametrize("summary", [
    _every_field(),
    RunSummary(kind="top-up", status="no_top_up", as_of="2026-10-14", campaign="NA", budget=500,
               spend=0.0, expected_profit=0.0, units_ordered=0, reason=None, monitored_run="runs/x"),
    RunSummary(),
], ids=["every field", "no top-up", "empty"])
def test_a_summary_round_trips_through_write_run_and_read_summary(tmp_path, summary):
    run = write_run(tmp_path / "run", _no_plan(), summary)
    back = read_summary(run)
    assert back == summary and back.model_fields_set == summary.model_fields_set
    text = (run / "summary.json").read_text()
    assert text == summary.to_json()
    assert list(json.loads(text)) == [k for k in RunSummary.model_fields if k in summary.model_fields_set]
    assert "NaN" not in text and "Infinity" not in text


def test_summary_json_holds_the_plain_values(tmp_path):
    run = write_run(tmp_path / "run", _no_plan(), _every_field())
    data = json.loads((run / "summary.json").read_text())
    assert data["status"] == "time_limit" and data["planning_date"] == "2026-08-20"
    assert data["cash_limits"] == [{"until": "2026-08-31", "limit": 113000.0, "paid": 52909.00656,
                                    "headroom": 60090.99344}]
    assert data["overrides"] == {"budget": 29000.0, "delays": {"air": 1, "sea_fcl": -2}}
    assert data["units_ordered"] == 1986 and isinstance(data["units_ordered"], int)
    assert data["reason"] is None and data["best_bound"] == 95252.151673


def test_write_run_records_the_campaign_folder_as_an_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = write_run(tmp_path / "run", _no_plan(), RunSummary(campaign_dir="data/tiny"))
    assert read_summary(run).campaign_dir == str(tmp_path / "data" / "tiny")


def test_write_run_takes_a_run_summary_only(tmp_path):
    with pytest.raises(TypeError, match="RunSummary"):
        write_run(tmp_path / "run", _no_plan(), {"status": "optimal"})
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_summary_never_holds_a_non_finite_number(value):
    with pytest.raises(ValidationError):
        RunSummary(expected_profit=value)
    with pytest.raises(ValidationError):
        RunSummary(overrides={"budget": value})


@pytest.mark.parametrize("content, fragment", [
    ('{"expected_profit": 1.0, "profit": 2.0}', "'profit': unknown key"),
    ('{"status": "great"}', "'status'"),
    ('{"spend": "12.5"}', "'spend'"),
    ('{"units_ordered": 1.5}', "'units_ordered'"),
    ('{"units_ordered": true}', "'units_ordered'"),
    ('{"budget": NaN}', "'budget'"),
    ('{"planning_date": "next week"}', "'planning_date'"),
    ('{"overrides": [1]}', "'overrides'"),
    ('{"overrides": {"delays": {"air": 1.5}}}', "'overrides.delays.air'"),
    ('{"overrides": {"budget": null, "delays": {}, "service": 1}}', "'overrides.service': unknown key"),
    ('{"cash_limits": [{"until": "2026-08-31", "limit": 1.0, "paid": 1.0}]}', "'cash_limits.0.headroom'"),
    ('{"kind": "refill"}', "'kind'"),
])
def test_an_invalid_summary_is_a_run_file_error_naming_the_file_and_key(tmp_path, content, fragment):
    (tmp_path / "summary.json").write_text(content)
    with pytest.raises(RunFileError, match="is not a valid run summary") as e:
        read_summary(tmp_path)
    assert str(tmp_path / "summary.json") in str(e.value) and fragment in str(e.value)


def test_the_monitor_reads_an_invalid_summary_as_problems(tmp_path):
    (tmp_path / "summary.json").write_text('{"budget": "lots", "spend": 1.0, "profit": 2.0}')
    (tmp_path / "plan.csv").write_text("sku,warehouse,mode,units,ship_by\nA,W,air,1,2026-09-01\n")
    (tmp_path / "sku_summary.csv").write_text("sku,warehouse,existing,ordered,available,mean,sd\nA,W,0,1,1,2.0,1.0\n")
    files, problems = read_plan_run(tmp_path)
    assert files is None
    assert {(p.file, p.column) for p in problems} == {(str(tmp_path / "summary.json"), "budget"),
                                                      (str(tmp_path / "summary.json"), "profit")}
    (tmp_path / "summary.json").write_text('{"budget": 100.0, "spend": 40.0, "campaign": "Tiny demo"}')
    files, problems = read_plan_run(tmp_path, "Tiny demo")
    assert problems == [] and files.summary == RunSummary(budget=100.0, spend=40.0, campaign="Tiny demo")
    assert (files.budget, files.spend) == (100.0, 40.0)
