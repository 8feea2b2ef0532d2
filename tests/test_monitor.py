"""In-campaign monitoring (optimizer.monitor): flags, the top-up re-plan, bad actuals, CLI, notebook.

The hand-made campaign: four SKUs at one warehouse, each planned to sell 10 units a
day in the run-up (forecast_audit.csv) and 100 in the promo.  Two weeks of actuals
up to the as-of date 2026-10-14:

* BEHIND sells 2 a day in both weeks   → stop-loss;
* DIP sells 10, then 2 a day            → behind in the last week only: no flag;
* HOT sells 10, then 20 a day           → running ahead: top-up;
* STEADY sells 10 a day                 → on plan.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import shutil

import pandas as pd
import pytest

from checker import check_plan
from conftest import REPO, execute_notebook, run_cli, write_campaign

AS_OF = dt.date(2026, 10, 14)
DAILY = {"BEHIND": (2, 2), "DIP": (10, 2), "HOT": (10, 20), "STEADY": (10, 10)}  # (week 1, week 2)


def _campaign(root, ids: dict[str, str] | None = None, name: str = "Monitor test"):
    """The hand-made campaign and its actuals in ``root/camp``; ``ids`` renames SKUs,
    the warehouse ``W1`` and the supplier ``S1`` (e.g. to hostile text)."""
    ids = ids or {}

    def i(x):
        return ids.get(x, x)

    wh = i("W1")
    skus = [{"sku": i(s), "supplier": i("S1"), "unit_cost": 10.0, "price": 30.0, "weight_kg": 1.0,
             "volume_m3": 0.01, "case_pack": 1, "moq": 0, "production_days": 5, "duty_rate": 0.0,
             "salvage_value": 2.0, "return_rate": 0.0} for s in DAILY]
    lanes = [{"warehouse": wh, "mode": "sea", "transit_days": 30, "cost_per_kg": 0.1, "cost_per_m3": 0.0,
                  "volumetric_kg_per_m3": 0, "shipment_cost": 0.0},
             {"warehouse": wh, "mode": "air", "transit_days": 5, "cost_per_kg": 2.0, "cost_per_m3": 0.0,
                  "volumetric_kg_per_m3": 167, "shipment_cost": 0.0},
             {"warehouse": wh, "mode": "courier", "transit_days": 3, "cost_per_kg": 3.0, "cost_per_m3": 0.0,
                  "volumetric_kg_per_m3": 200, "shipment_cost": 10.0}]
    folder = write_campaign(
        root / "camp",
        {"name": name, "currency": "USD", "planning_date": dt.date(2026, 8, 1),
             "promo_start": dt.date(2026, 11, 27), "promo_end": dt.date(2026, 12, 1), "budget": 10_000.0,
             "buffer_days": 2, "solver": {"time_limit_s": 30}},
        skus, [{"warehouse": wh, "market": "US", "capacity_m3": 1000.0, "cutoff": dt.date(2026, 11, 20)}],
        lanes, [{"sku": i(s), "warehouse": wh, "mean": 100.0, "sd": 30.0} for s in DAILY])
    pd.DataFrame({"sku": [i(s) for s in DAILY], "warehouse": wh, "method": "test",
                  "baseline_rate": 10.0}).to_csv(folder / "forecast_audit.csv", index=False)
    rows = []
    for day in range(14):
        date = AS_OF - dt.timedelta(days=13 - day)
        for sku, (w1, w2) in DAILY.items():
            rows.append({"date": date.isoformat(), "sku": i(sku), "warehouse": wh,
                         "units": w1 if day < 7 else w2})
    pd.DataFrame(rows).to_csv(folder / "actuals.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """The hand-made campaign and a plan run of it (what the monitor watches)."""
    from optimizer.workflows.planner import plan_campaign

    root = tmp_path_factory.mktemp("monitor")
    folder = _campaign(root)
    run = plan_campaign(folder, out_dir=root / "run", progress=lambda m: None)
    return folder, run.out_dir, run.summary


@pytest.fixture(scope="module")
def monitored(planned, tmp_path_factory):
    from optimizer.monitor import monitor_campaign

    folder, run_dir, _ = planned
    out = tmp_path_factory.mktemp("mon") / "out"
    return monitor_campaign(folder, run_dir, folder / "actuals.csv", out_dir=out, progress=lambda m: None)


def _status(result) -> dict:
    return dict(zip(result.flags["sku"], result.flags["status"]))


def test_flags_on_the_hand_made_campaign(monitored):
    f = monitored.flags.set_index("sku")
    assert _status(monitored) == {"BEHIND": "stop_loss", "DIP": "behind_1_week",
                                  "HOT": "running_ahead", "STEADY": "on_plan"}
    assert f["flagged"].to_dict() == {"BEHIND": True, "DIP": False, "HOT": True, "STEADY": False}
    # plan per week = 7 days × baseline_rate 10; pace over both weeks
    assert f.loc["HOT", "plan_last_week"] == pytest.approx(70.0)
    assert f.loc["HOT", "actual_last_week"] == 140
    assert f.loc["HOT", "pace"] == pytest.approx(210 / 140)
    assert f.loc["BEHIND", "pace"] == pytest.approx(28 / 140)
    assert "pause replenishment" in f.loc["BEHIND", "action"]
    assert f.loc["DIP", "action"].startswith("watch")
    assert monitored.info["as_of"] == str(AS_OF)


def test_stock_left_and_remaining_demand_at_pace(planned, monitored):
    _, run_dir, _ = planned
    f = monitored.flags.set_index("sku")
    available = pd.read_csv(run_dir / "sku_summary.csv").set_index("sku")["available"]
    # run-up sales at the baseline rate are regular business: only HOT's 70 extra units
    # come out of the promo stock
    assert f.loc["STEADY", "stock_left"] == available["STEADY"]
    assert f.loc["HOT", "stock_left"] == max(0, available["HOT"] - 70)
    # pace 1.5: 1.5 × promo mean 100 + 0.5 × run-up plan left (10/day × 43 days)
    assert f.loc["HOT", "remaining_demand_at_pace"] == pytest.approx(150 + 0.5 * 430)
    assert f.loc["BEHIND", "remaining_demand_at_pace"] == pytest.approx(0.2 * 100)


def test_top_up_uses_fast_modes_within_the_remaining_budget(planned, monitored):
    _folder, _run_dir, plan_summary = planned
    out = monitored.out_dir
    plan = pd.read_csv(out / "plan.csv")
    assert len(plan) > 0 and set(plan["sku"]) == {"HOT"}
    assert set(plan["mode"]) <= {"air", "courier"}
    remaining = plan_summary.budget - plan_summary.spend
    summary = json.loads((out / "summary.json").read_text())
    assert summary["budget"] == pytest.approx(remaining)
    assert summary["planning_date"] == str(AS_OF)
    assert 0 < summary["spend"] <= remaining + 1e-6
    # the independent checker re-derives every SPEC §2 rule for the derived campaign
    # (planning date = as-of, fast lanes only, remaining budget, stock left)
    report = check_plan(out / "topup_campaign", out)
    report.assert_valid()
    assert report.spend <= remaining + 1e-6
    assert (out / "flags.csv").is_file() and (out / "pace.csv").is_file()
    flags = pd.read_csv(out / "flags.csv").set_index("sku")
    assert flags.loc["HOT", "topup_units"] == plan["units"].sum()
    assert flags.loc["HOT", "action"].startswith("top-up ")


def test_explicit_budget_and_late_lanes(planned, tmp_path):
    from optimizer.monitor import monitor_campaign

    folder, run_dir, _ = planned
    small = monitor_campaign(folder, run_dir, folder / "actuals.csv", budget=500.0,
                             out_dir=tmp_path / "a", progress=lambda m: None)
    assert 0 < small.topup.summary.spend <= 500 + 1e-6
    # 2026-11-10 + 5 production + 5 air + 2 buffer > cutoff 2026-11-20: only courier makes it
    actuals = pd.read_csv(folder / "actuals.csv")
    actuals["date"] = (pd.to_datetime(actuals["date"]) + pd.Timedelta(days=27)).dt.strftime("%Y-%m-%d")
    actuals.to_csv(tmp_path / "later.csv", index=False)
    late = monitor_campaign(folder, run_dir, tmp_path / "later.csv", out_dir=tmp_path / "b",
                            progress=lambda m: None)
    assert _status(late)["HOT"] == "running_ahead"
    assert set(late.topup.evaluation.lines["mode"]) == {"courier"}
    assert set(late.topup.instance.routes.index.get_level_values("mode")) == {"courier"}


def _main(args):
    from optimizer.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(args)
    return code, err.getvalue()


@pytest.mark.parametrize("edit, where", [
    (lambda t: t.replace("2026-10-14,HOT,W1,20", "2026-10-14,HOT,W1,-3"),
     "line 56, column 'units': must be a number >= 0, got '-3'"),
    (lambda t: t.replace("2026-10-14,HOT,W1,20", "2026-10-14,HOTT,W1,20"),
     "line 56, column 'sku': unknown sku 'HOTT'"),
    (lambda t: t.replace("2026-10-14,HOT,W1,20", "14/10/2026,HOT,W1,20"),
     "line 56, column 'date': must be a date YYYY-MM-DD"),
    (lambda t: t.replace("2026-10-14,HOT,W1,20", "2026-12-14,HOT,W1,20"),
     "line 56, column 'date': 2026-12-14 is after promo_end"),
    (lambda t: t.replace("2026-10-14,HOT,W1,20", "2026-10-13,HOT,W1,20"),
     "line 56, column 'date, sku, warehouse': duplicate"),
    (lambda t: t.replace("units", "sold"), "column 'units': required column is missing"),
])
def test_bad_actuals_exit_2_naming_file_row_column(planned, tmp_path, edit, where):
    folder, run_dir, _ = planned
    bad = tmp_path / "actuals.csv"
    bad.write_text(edit((folder / "actuals.csv").read_text()))
    code, err = _main(["monitor", str(folder), "--run", str(run_dir), "--actuals", str(bad),
                       "--out", str(tmp_path / "out")])
    assert code == 2, err
    assert f"{bad}, {where}" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def test_bad_options_and_run_folder_exit_2(planned, tmp_path):
    folder, run_dir, _ = planned
    base = ["monitor", str(folder), "--run", str(run_dir), "--actuals", str(folder / "actuals.csv")]
    code, err = _main(base + ["--modes", "rocket"])
    assert code == 2 and "option '--modes': no lane has mode 'rocket'" in err
    code, err = _main(base + ["--as-of", "2026-09-01"])
    assert code == 2 and "option '--as-of': 2026-09-01 is before the first date" in err
    code, err = _main(base + ["--as-of", "14.10.2026"])
    assert code == 2 and "--as-of '14.10.2026': expected a date YYYY-MM-DD" in err
    code, err = _main(["monitor", str(folder), "--run", str(tmp_path), "--actuals",
                       str(folder / "actuals.csv")])
    assert code == 2 and f"{tmp_path / 'summary.json'}: required file is missing" in err
    assert f"{tmp_path / 'plan.csv'}: required file is missing" in err


@pytest.mark.slow
def test_monitor_command_through_the_cli(planned, tmp_path):
    folder, run_dir, _ = planned
    out = tmp_path / "monitor"
    args = ["monitor", str(folder), "--run", str(run_dir), "--actuals", str(folder / "actuals.csv"),
            "--as-of", "2026-10-14", "--out", str(out)]
    proc = run_cli(args, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "1 stop loss, 1 running ahead, 1 behind 1 week, 1 on plan" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == str(out)
    flags = pd.read_csv(out / "flags.csv")
    assert dict(zip(flags["sku"], flags["status"]))["BEHIND"] == "stop_loss"
    info = json.loads((out / "monitor.json").read_text())
    assert info["modes"] == ["air", "courier"] and info["run_up_pace"].startswith("forecast_audit.csv")
    code, err = _main(args)  # a monitor run never overwrites another
    assert code == 2 and "already holds files" in err


def test_sample_actuals_match_the_generator(tmp_path):
    import importlib.util

    from samples.actuals import generate_actuals
    from samples.campaign import generate_campaign
    spec = importlib.util.spec_from_file_location("generate_sample", REPO / "scripts" / "generate_sample.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    folder = generate_campaign(tmp_path / "sample", **script.CAMPAIGNS["sample"])
    generate_actuals(folder, **script.ACTUALS)
    for name in ("actuals.csv", "forecast_audit.csv"):
        assert (folder / name).read_bytes() == (REPO / "data" / "sample" / name).read_bytes(), name
    assert (folder / "actuals.csv").stat().st_size < 1_000_000


@pytest.mark.notebook
def test_monitor_notebook_on_the_sample(tmp_path, one_stage_sample):
    """The notebook on the bundled sample: a short plan, then the sample's run-up actuals."""
    from optimizer.settings import Settings
    from optimizer.workflows.planner import plan_campaign

    sample = one_stage_sample  # its one-stage plan: the monitor's two-stage runs are tested on their own
    run = plan_campaign(sample, Settings(time_limit_s=8), out_dir=tmp_path / "run", progress=lambda m: None)
    out = tmp_path / "monitor"
    execute_notebook("monitor.ipynb", tmp_path / "monitor.ipynb",
                     {"campaign_dir": str(sample), "run_dir": str(run.out_dir), "out_dir": str(out),
                      "budget": 20_000.0},  # the short plan's leftover budget varies: fix it
                     timeout=300)
    flags = pd.read_csv(out / "flags.csv")
    counts = flags["status"].value_counts()
    assert counts.get("stop_loss", 0) >= 3 and counts.get("running_ahead", 0) >= 3
    plan = pd.read_csv(out / "plan.csv")
    assert len(plan) > 0 and set(plan["mode"]) <= {"air", "courier"}
    assert json.loads((out / "summary.json").read_text())["spend"] <= 20_000 + 1e-6
    text = (tmp_path / "monitor.ipynb").read_text()
    assert "Cumulative units: plan (dashed) and actual" in text and "Top-up order lines" in text


def test_default_modes_are_the_fast_modes_the_campaign_has(planned, tmp_path):
    # a campaign without a courier lane: the default must not ask for one
    folder, run_dir, _ = planned
    air_only = tmp_path / "camp"
    shutil.copytree(folder, air_only)
    lanes = pd.read_csv(air_only / "lanes.csv")
    lanes[lanes["mode"] != "courier"].to_csv(air_only / "lanes.csv", index=False)
    out = tmp_path / "out"
    code, err = _main(["monitor", str(air_only), "--run", str(run_dir), "--actuals",
                       str(air_only / "actuals.csv"), "--out", str(out)])
    assert code == 0, err
    assert json.loads((out / "monitor.json").read_text())["modes"] == ["air"]
    sea_only = tmp_path / "sea"
    shutil.copytree(folder, sea_only)
    lanes[lanes["mode"] == "sea"].to_csv(sea_only / "lanes.csv", index=False)
    code, err = _main(["monitor", str(sea_only), "--run", str(run_dir), "--actuals",
                       str(sea_only / "actuals.csv"), "--out", str(tmp_path / "out2")])
    assert code == 2 and "option '--modes': the campaign has no air or courier lane" in err


def test_absurd_daily_sales_are_bad_input(planned, tmp_path):
    folder, run_dir, _ = planned
    bad = tmp_path / "actuals.csv"
    bad.write_text((folder / "actuals.csv").read_text().replace("2026-10-14,HOT,W1,20", "2026-10-14,HOT,W1,1e9"))
    code, err = _main(["monitor", str(folder), "--run", str(run_dir), "--actuals", str(bad),
                       "--out", str(tmp_path / "out")])
    assert code == 2 and "column 'units': must be at most 1e+07, got '1e9'" in err


def test_every_actuals_problem_is_reported_at_once(planned, tmp_path):
    folder, run_dir, _ = planned
    text = (folder / "actuals.csv").read_text()
    text = text.replace("2026-10-14,HOT,W1,20", "2026-10-14,HOT,W1,-3")        # a bad cell ...
    text = text.replace("2026-10-14,DIP,W1,2", "2026-10-14,DIPP,W1,2")         # ... and an unknown sku
    bad = tmp_path / "actuals.csv"
    bad.write_text(text)
    code, err = _main(["monitor", str(folder), "--run", str(run_dir), "--actuals", str(bad),
                       "--out", str(tmp_path / "out")])
    assert code == 2 and "must be a number >= 0, got '-3'" in err and "unknown sku 'DIPP'" in err


# ---------------------------------------------------------------- robustness


def _monitor_args(folder, run_dir, *extra):
    return ["monitor", str(folder), "--run", str(run_dir), "--actuals", str(folder / "actuals.csv"), *extra]


@pytest.mark.parametrize("as_of, fragment", [
    ("2026-10-24", "option '--as-of': 2026-10-24 is after the last date in actuals.csv (2026-10-14)"),
    ("2026-12-05", "option '--as-of': 2026-12-05 is after the last date in actuals.csv (2026-10-14)"),
    ("2026-09-30", "option '--as-of': 2026-09-30 is before the first date in actuals.csv (2026-10-01)"),
    ("2026-07-01", "before planning_date (2026-08-01)"),
])
def test_as_of_outside_the_actuals_is_refused(planned, tmp_path, as_of, fragment):
    folder, run_dir, _ = planned
    code, err = _main(_monitor_args(folder, run_dir, "--as-of", as_of, "--out", str(tmp_path / "out")))
    assert code == 2, err
    assert fragment in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("out, code, fragment", [
    ("file", 2, "option '--out': {tmp}/file is a file, not a folder"),
    ("file/run", 2, "which is a file"),
    ("/proc/no-such/run", 2, "option '--out': cannot write to /proc/no-such/run"),
    ("full", 2, "already holds files"),
])
def test_unusable_out_is_refused_before_any_work(planned, tmp_path, out, code, fragment):
    folder, run_dir, _ = planned
    (tmp_path / "file").write_text("not a folder\n")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine\n")
    target = out if out.startswith("/") else str(tmp_path / out)
    got, err = _main(_monitor_args(folder, run_dir, "--out", target))
    assert got == code, err
    assert fragment.format(tmp=tmp_path) in err and "Traceback" not in err
    assert "read the plan" not in err  # refused before the actuals are read or anything solved
    assert (tmp_path / "full" / "notes.txt").read_text() == "mine\n"


@pytest.mark.slow
def test_a_failed_write_leaves_no_folder(planned, tmp_path, monkeypatch):
    from optimizer.io import run_folder
    from optimizer.monitor import monitor_campaign

    folder, run_dir, _ = planned

    def broken_publish(staging, final):
        raise OSError("disk full")

    monkeypatch.setattr(run_folder, "publish", broken_publish)
    with pytest.raises(OSError, match="disk full"):
        monitor_campaign(folder, run_dir, folder / "actuals.csv", out_dir=tmp_path / "out",
                         progress=lambda m: None)
    assert list(tmp_path.iterdir()) == []  # neither the folder nor a hidden staging copy


HOSTILE = {"HOT": "=cmd|' /C calc'!A0", "STEADY": '=HYPERLINK("http://evil.example")', "DIP": "'DIP",
           "BEHIND": "@BEHIND", "W1": "+W1", "S1": "-S1"}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The hand-made campaign with formula-like ids, planned and monitored through the CLI."""
    from optimizer.workflows.planner import plan_campaign

    root = tmp_path_factory.mktemp("hostile")
    folder = _campaign(root, HOSTILE)
    plan_campaign(folder, out_dir=root / "run", progress=lambda m: None)
    code, err = _main(_monitor_args(folder, root / "run", "--out", str(root / "out")))
    assert code == 0, err
    return folder, root / "out"


def _live_formulas(folder) -> list[tuple[str, str]]:
    """(file, cell) of every CSV cell under ``folder`` a spreadsheet would run as a formula."""
    import csv

    from optimizer.io.safe_text import FORMULA_PREFIXES, is_number_text

    live = []
    for path in sorted(folder.rglob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            live += [(str(path.relative_to(folder)), cell) for row in csv.reader(fh) for cell in row
                     if cell.startswith(FORMULA_PREFIXES) and not is_number_text(cell)]
    return live


@pytest.mark.slow
def test_formula_like_ids_are_inert_in_every_monitor_csv(hostile):
    from optimizer.io.run_folder import read_plan
    from optimizer.io.safe_text import plain_frame

    folder, out = hostile
    assert {p.name for p in (out / "topup_campaign").glob("*.csv")} >= {"skus.csv", "demand.csv", "lanes.csv"}
    assert _live_formulas(out) == []
    # the ids come back verbatim through the reversible prefix, and the top-up was
    # planned on the verbatim ids (the running-ahead pair got its units)
    flags = plain_frame(pd.read_csv(out / "flags.csv", dtype=str), ("sku", "warehouse")).set_index("sku")
    assert flags.loc[HOSTILE["HOT"], "status"] == "running_ahead"
    assert int(flags.loc[HOSTILE["HOT"], "topup_units"]) > 0
    assert set(read_plan(out)["sku"]) == {HOSTILE["HOT"]}
    assert set(read_plan(out)["warehouse"]) == {HOSTILE["W1"]}
    skus = plain_frame(pd.read_csv(out / "topup_campaign" / "skus.csv", dtype=str), ("sku", "supplier"))
    assert set(skus["sku"]) == {HOSTILE["HOT"]} and set(skus["supplier"]) == {HOSTILE["S1"]}
    check_plan(out / "topup_campaign", out).assert_valid()


@pytest.mark.slow
def test_the_loader_reads_the_derived_folder_ids_verbatim(hostile):
    from optimizer.io.campaign import load_campaign

    _, out = hostile
    campaign = load_campaign(out / "topup_campaign")
    assert set(campaign.skus["sku"]) == {HOSTILE["HOT"]}
    assert set(campaign.warehouses["warehouse"]) == {HOSTILE["W1"]}


@pytest.mark.slow
def test_control_characters_in_names_and_ids_survive_the_top_up(tmp_path):
    import tomllib

    from optimizer.io.run_folder import read_plan
    from optimizer.workflows.planner import plan_campaign

    name = "Monitor\x7f \x07 \x1b[31mtest"
    ids = {"HOT": "HOT\x1b[31m", "W1": "W\x07"}
    folder = _campaign(tmp_path, ids, name=name)
    plan_campaign(folder, out_dir=tmp_path / "run", progress=lambda m: None)
    code, err = _main(_monitor_args(folder, tmp_path / "run", "--out", str(tmp_path / "out")))
    assert code == 0, err
    config = tomllib.loads((tmp_path / "out" / "topup_campaign" / "campaign.toml").read_text(encoding="utf-8"))
    assert config["name"] == f"{name} top-up {AS_OF}"
    plan = read_plan(tmp_path / "out")
    assert set(plan["sku"]) == {ids["HOT"]} and set(plan["warehouse"]) == {ids["W1"]}


def test_a_problem_in_the_derived_top_up_names_the_campaign_not_a_temporary_folder(planned, tmp_path):
    # Ten million units a day of HOT from 50 days before the usual as-of date: the
    # remaining demand at that pace is beyond what a demand.csv may hold.
    folder, run_dir, _ = planned
    actuals = pd.read_csv(folder / "actuals.csv")
    actuals["date"] = (pd.to_datetime(actuals["date"]) - pd.Timedelta(days=50)).dt.strftime("%Y-%m-%d")
    actuals.loc[actuals["sku"] == "HOT", "units"] = 1e7
    actuals.to_csv(tmp_path / "actuals.csv", index=False)
    code, err = _main(["monitor", str(folder), "--run", str(run_dir), "--actuals", str(tmp_path / "actuals.csv"),
                       "--out", str(tmp_path / "out")])
    assert code == 2, err
    assert "topup-" not in err and "Traceback" not in err
    assert f"the top-up campaign derived from campaign folder {folder}" in err
    assert "demand.csv, line 2, column 'mean': must be at most 1e+09" in err
    assert not (tmp_path / "out").exists()


def test_any_campaign_name_round_trips_through_the_top_up_campaign_toml(planned):
    import tomllib

    from hypothesis import assume, given, settings
    from hypothesis import strategies as st

    from optimizer.io.campaign import CampaignConfig, load_campaign
    from optimizer.monitor.topup import topup_config_text

    config = load_campaign(planned[0]).config

    @settings(max_examples=200, deadline=None)
    @given(st.text(min_size=1, max_size=40))
    def round_trips(name):
        name = name.strip()
        assume(name)
        text = topup_config_text(config.model_copy(update={"name": name}), AS_OF, 1234.5)
        derived = CampaignConfig.model_validate(tomllib.loads(text))
        assert derived.name == f"{name} top-up {AS_OF}"
        assert (derived.planning_date, derived.budget, derived.min_fill_rate) == (AS_OF, 1234.5, None)

    round_trips()


def test_run_up_rates_read_the_forecasts_formula_safe_ids_verbatim(tmp_path):
    # forecast writes forecast_audit.csv formula-safe (a leading ' before a formula-like id)
    from optimizer.io.campaign import load_campaign
    from optimizer.io.safe_text import safe_frame
    from optimizer.monitor.actuals import read_run_up_rates

    folder = _campaign(tmp_path, HOSTILE)
    audit = pd.read_csv(folder / "forecast_audit.csv", dtype={"sku": str, "warehouse": str})
    safe_frame(audit).to_csv(folder / "forecast_audit.csv", index=False)
    rates, problems = read_run_up_rates(load_campaign(folder))
    assert problems == []
    assert set(rates.index) == {(HOSTILE[s], HOSTILE["W1"]) for s in DAILY}


def test_presale_csv_problems_name_the_row_and_column(tmp_path):
    import datetime as dt

    from test_two_stage import write_campaign

    from optimizer.io.campaign import load_campaign
    from optimizer.monitor.policy import read_presales

    folder = write_campaign(tmp_path / "c")
    (folder / "presale.csv").write_text("date,sku,warehouse,orders\n2026-10-01,A,FBA1,5\n2026-10-02,ZZ,FBA1,3\n"
                                        "2026-10-03,A,FBA1,-1\n2025-01-01,A,FBA1,2\n")
    orders, problems = read_presales(load_campaign(folder), dt.date(2026, 10, 5))
    assert orders is None
    found = {(p.file, p.row, p.column) for p in problems}
    assert {("presale.csv", 3, "sku"), ("presale.csv", 4, "orders"), ("presale.csv", 5, "date")} <= found
    (folder / "presale.csv").write_text("date,sku,warehouse,orders\n2026-10-01,A,FBA1,5\n2026-10-09,A,FBA1,7\n")
    orders, problems = read_presales(load_campaign(folder), dt.date(2026, 10, 5))
    assert not problems and orders[("A", "FBA1")] == 5  # the row after --as-of is left out
