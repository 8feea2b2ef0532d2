"""Demand forecast from sales history: censoring, new SKUs, unseen promos, overrides,
and forecast -> plan on a small generated campaign (kept small: a few seconds each)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import shutil

import numpy as np
import pandas as pd
import pytest

from optimizer.cli import main
from optimizer.forecast.forecaster import (
    BacktestResult,
    Forecast,
    _sd_calibration,
    backtest,
    forecast_campaign,
    forecast_targets,
    write_forecast,
)
from optimizer.forecast.history import load_history
from optimizer.io.campaign import load_campaign
from optimizer.io.errors import InputError
from optimizer.io.safe_text import plain_cell
from samples.campaign import generate_campaign
from samples.history import PAST_PROMOS, generate_history

from conftest import run_cli

pytestmark = pytest.mark.slow

PROMOS_TOML = "\n".join(f'[[past_promos]]\nname = "{n}"\nstart = {s}\nend = {e}\n' for n, s, e in PAST_PROMOS)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = generate_campaign(tmp_path_factory.mktemp("c") / "small", 8, seed=3)
    return generate_history(folder, seed=5).folder


def _flat_history(folder, rate=10.0, lift=3.0, stockout_from=None, flag="stockout", seed=0,
                  start="2024-05-01", skus=None):
    """Constant daily demand (Poisson) with ``lift`` in every past promo window."""
    c = load_campaign(folder)
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, pd.Timestamp(c.config.planning_date) - pd.Timedelta(days=1))
    promo = np.zeros(len(days), bool)
    for _, s, e in PAST_PROMOS:
        promo |= (days >= s) & (days <= e)
    frames = []
    for r in c.demand.itertuples(index=False):
        if skus is not None and r.sku not in skus:
            continue
        units = rng.poisson(np.where(promo, rate * lift, rate)).astype(float)
        out = np.zeros(len(days), int)
        if stockout_from is not None:
            out = (days >= stockout_from).astype(int)
            units[out == 1] = 0
        df = pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "sku": r.sku, "warehouse": r.warehouse,
                           "units": units.astype(int), "promo": promo.astype(int)})
        if flag == "stockout":
            df["stockout"] = out
        elif flag == "on_hand":
            df["on_hand"] = np.where(out == 1, 0, 50)
        frames.append(df)
    pd.concat(frames).to_csv(folder / "sales_history.csv", index=False)


def _tiny(tmp_path, promo=None):
    folder = generate_campaign(tmp_path / "tiny", 6, seed=1)
    (folder / "demand.csv").write_text("sku,warehouse,mean,sd\n" + "".join(
        f"{r.sku},{r.warehouse},{r.mean},{r.sd}\n" for r in load_campaign(folder).demand.itertuples()))
    extra = (f'\n[forecast]\npromo = "{promo}"\n' if promo else "") + "\n" + PROMOS_TOML
    with open(folder / "campaign.toml", "a") as fh:
        fh.write(extra)
    return folder


def _run(folder):
    c = load_campaign(folder)
    return forecast_campaign(c, load_history(c))


@pytest.mark.parametrize("flag", ["stockout", "on_hand"])
def test_censored_stockout_days_are_not_zero_demand(tmp_path, flag):
    folder = _tiny(tmp_path, promo="Black Friday")
    _flat_history(folder, stockout_from="2026-07-25", flag=flag)   # last ~4 weeks sold out
    fc = _run(folder)
    rate = fc.audit["baseline_rate"]
    assert rate.between(8.5, 11.5).all(), rate.tolist()    # ~10/day, not dragged to 0
    assert fc.audit["lift"].between(2.6, 3.4).all()
    assert (fc.audit["censored_days"] >= 25).all()
    assert (fc.audit["inferred_stockout_days"] == 0).all()   # flags are never second-guessed


def test_unflagged_zero_run_is_inferred_as_a_stockout(tmp_path):
    """An export with no stockout / on_hand column: four weeks of zeros at ~10 a day are
    improbable, so they are censored like flagged days and counted in the audit."""
    folder = _tiny(tmp_path, promo="Black Friday")
    _flat_history(folder, stockout_from="2026-07-25", flag=None)
    fc = _run(folder)
    assert fc.audit["baseline_rate"].between(8.5, 11.5).all(), fc.audit["baseline_rate"].tolist()
    assert (fc.audit["inferred_stockout_days"] >= 25).all()
    assert (fc.audit["censored_days"] == fc.audit["inferred_stockout_days"]).all()
    assert any("inferred" in n and "stockout" in n for n in fc.notes)


def test_a_flag_column_wins_over_zero_runs(tmp_path):
    """The same zeros in an export that has a stockout column, unflagged: the seller says
    they were in stock, so they are real zero-sales days."""
    folder = _tiny(tmp_path, promo="Black Friday")
    _flat_history(folder, stockout_from="2026-07-25", flag="stockout")
    sales = pd.read_csv(folder / "sales_history.csv")
    sales["stockout"] = 0
    sales.to_csv(folder / "sales_history.csv", index=False)
    fc = _run(folder)
    assert (fc.audit["censored_days"] == 0).all() and (fc.audit["inferred_stockout_days"] == 0).all()
    assert fc.audit["baseline_rate"].mean() < 9.3        # the zeros count as demand
    assert not any("inferred as stockouts" in n for n in fc.notes)


def test_new_sku_takes_category_lift(tmp_path):
    folder = _tiny(tmp_path, promo="Black Friday")
    c = load_campaign(folder)
    new = c.demand["sku"].iloc[0]
    _flat_history(folder, skus=set(c.demand["sku"]) - {new}, seed=1)
    old = pd.read_csv(folder / "sales_history.csv")
    _flat_history(folder, skus={new}, start="2026-07-20", seed=2)   # 4 weeks, no past promo at all
    pd.concat([old, pd.read_csv(folder / "sales_history.csv")]).to_csv(folder / "sales_history.csv", index=False)
    a = _run(folder).audit.set_index("sku").loc[[new]]
    assert (a["n_past_promos"] == 0).all()
    assert np.allclose(a["lift"], a["lift_category"])
    assert a["lift_source"].str.contains("category lift").all()
    assert (a["distribution"] == "lognormal").all() or (a["mean"] < 30).all()


def test_new_sku_reads_its_lift_off_other_promos(tmp_path):
    """Every SKU responds to every promo by its own factor; a SKU launched before Prime
    Day 2026 that doubled its category there gets a Black Friday lift well above the
    category's, and a lift error no smaller than its category's SKUs with past Black Fridays."""
    folder = generate_campaign(tmp_path / "x", 24, seed=4)
    with open(folder / "campaign.toml", "a") as fh:
        fh.write('\n[forecast]\npromo = "Black Friday"\n\n' + PROMOS_TOML)
    c = load_campaign(folder)
    skus = sorted(c.demand["sku"].unique())
    new = skus[0]
    rng = np.random.default_rng(9)
    frames = []
    for i, sku in enumerate(skus):
        lift = 6.0 if sku == new else 3.0 * float(np.exp(rng.normal(0, 0.3)))
        _flat_history(folder, skus={sku}, lift=lift, seed=i, start="2026-04-01" if sku == new else "2024-05-01")
        frames.append(pd.read_csv(folder / "sales_history.csv"))
    pd.concat(frames).to_csv(folder / "sales_history.csv", index=False)
    a = _run(folder).audit
    row = a[a["sku"] == new]
    assert (row["n_past_promos"] == 0).all()
    assert (row["lift"] > 1.4 * row["lift_category"]).all(), row[["lift", "lift_category"]]
    assert row["lift_source"].str.contains("other promos").all()
    seen = a[(a["n_past_promos"] > 0) & (a["category"] == row["category"].iloc[0])]
    assert row["cv_l2"].min() >= seen["cv_l2"].max() > 0   # never narrower than its category's


def test_sku_without_any_history_keeps_demand_row(tmp_path):
    folder = _tiny(tmp_path, promo="Black Friday")
    c = load_campaign(folder)
    gone = c.demand["sku"].iloc[-1]
    _flat_history(folder, skus=set(c.demand["sku"]) - {gone})
    fc = _run(folder)
    row = fc.audit[fc.audit["sku"] == gone]
    assert (row["method"] == "no history: demand.csv kept").all()
    assert any("no sales history" in n for n in fc.notes)


def test_promo_with_no_past_occurrence(tmp_path):
    folder = _tiny(tmp_path, promo="Singles Day")
    _flat_history(folder)
    fc = _run(folder)
    assert fc.audit["lift_source"].str.contains("no past 'singles day'").all()
    assert fc.audit["lift"].between(2.5, 3.5).all()          # learned from every past promo
    assert any("singles day" in n for n in fc.notes)


def test_forecast_cli_never_overwrites_and_plans(small, tmp_path):
    before = (small / "demand.csv").read_bytes()
    r = run_cli(["forecast", str(small)], timeout=120)
    assert r.returncode == 0, r.stderr
    assert (small / "demand.csv").read_bytes() == before
    fc = pd.read_csv(small / "demand_forecast.csv")
    audit = pd.read_csv(small / "forecast_audit.csv")
    assert {"baseline", "lift", "growth", "ad_uplift", "competition", "mean", "sd", "method",
            "history_days"} <= set(audit.columns)
    truth = pd.read_csv(small / "demand.csv").merge(fc, on=["sku", "warehouse"])
    assert abs(truth["mean_y"].sum() / truth["mean_x"].sum() - 1) < 0.35
    assert (fc["sd"] > 0).all()

    plan_dir = tmp_path / "campaign"
    shutil.copytree(small, plan_dir)
    for name in ("demand_forecast.csv", "forecast_audit.csv"):   # the earlier forecast's files stay
        (plan_dir / name).unlink()                                 # with it: a forecast never overwrites
    shutil.copy(small / "demand_forecast.csv", plan_dir / "demand.csv")
    (plan_dir / "demand_overrides.csv").write_text(
        f"sku,warehouse,mean,sd,note\n{fc.sku[0]},{fc.warehouse[0]},123,,buyer says\n")
    (plan_dir / "demand.csv").unlink()
    r = run_cli(["forecast", str(plan_dir)], timeout=120)          # no demand.csv: it is written
    assert r.returncode == 0, r.stderr
    both = pd.read_csv(plan_dir / "demand.csv").merge(fc, on=["sku", "warehouse"])
    hit = (both["sku"] == fc.sku[0]) & (both["warehouse"] == fc.warehouse[0])
    assert (both.loc[hit, "mean_x"] == 123).all()                             # the override
    # SKUs without history have no demand.csv row to keep: left out, and said so
    unseen = set(audit.loc[audit["method"] == "no history: demand.csv kept", "sku"])
    assert unseen and set(fc["sku"]) - set(both["sku"]) == unseen
    assert "no sales history and no demand.csv" in r.stderr and all(u in r.stderr for u in unseen)
    assert (both.loc[~hit, "mean_x"] == both.loc[~hit, "mean_y"]).all()
    assert run_cli(["validate", str(plan_dir)], timeout=60).returncode == 0
    shutil.copy(small / "demand_forecast.csv", plan_dir / "demand.csv")
    r = run_cli(["forecast", str(plan_dir), "--out", str(tmp_path / "fc" / "demand.csv")], timeout=120)
    assert r.returncode == 0, r.stderr
    audit = pd.read_csv(tmp_path / "fc" / "forecast_audit.csv")
    hit = audit[audit["override"]]
    assert len(hit) == 1 and hit["mean"].iloc[0] == 123 and hit["note"].iloc[0] == "buyer says"
    shutil.copy(tmp_path / "fc" / "demand.csv", plan_dir / "demand.csv")
    r = run_cli(["plan", str(plan_dir), "--out", str(tmp_path / "run")], timeout=300)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "run" / "plan.csv").exists()


def test_backtest_cli(small):
    r = run_cli(["backtest", str(small)], timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Black Friday 2025" in r.stdout and "seasonal_naive" in r.stdout
    assert "same_promo_last_year" in r.stdout
    assert "new SKUs (no past occurrence of the promo)" in r.stdout
    for line in ("chosen per pair", "normal everywhere"):      # coverage and P10/P50/P90 pinball
        row = next(x for x in r.stdout.splitlines() if x.startswith(line)).split()
        assert row[-4].endswith("%") and all(0 <= float(v) < 1 for v in row[-3:])


def test_backtest_returns_a_frozen_typed_result(small):
    c = load_campaign(small)
    r = backtest(c, load_history(c))
    assert isinstance(r, BacktestResult)
    assert r.target.name == "Black Friday 2025" and r.previous is not None
    assert r.cutoff == r.target.start - dt.timedelta(days=r.lead_days)
    assert 0 < r.compared <= r.scored <= r.pairs == len(r.table)
    assert set(r.metrics) == {"method", "seasonal_naive", "same_promo_last_year"}
    assert r.coverage_80 == r.shapes["coverage_80"] and 0 <= r.coverage_80_uncalibrated <= 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.pairs = 0


def test_backtest_scores_the_skus_with_under_a_year_of_history_apart(tmp_path):
    folder = generate_campaign(tmp_path / "c", 12, seed=3)
    generate_history(folder, seed=3, export="launches")   # launches over the whole history
    c = load_campaign(folder)
    hist = load_history(c)
    r = backtest(c, hist)
    first = hist.sales.groupby(["sku", "location"])["date"].min()
    young = first[first > pd.Timestamp(r.cutoff) - pd.Timedelta(days=365)]
    scored = r.table.dropna(subset=["actual", "method"])
    expected = scored.set_index(["sku", "location"]).index.isin(young.index)
    assert r.young_skus["pairs"] == int(expected.sum()) > 0
    assert "young SKUs (under a year of history)" in r.text()


def test_forecast_writes_each_pairs_shape_and_why(small, tmp_path):
    out = tmp_path / "d" / "demand.csv"
    r = run_cli(["forecast", str(small), "--out", str(out)], timeout=120)
    assert r.returncode == 0, r.stderr
    demand = pd.read_csv(out, keep_default_na=False)
    assert list(demand.columns) == ["sku", "warehouse", "mean", "sd", "distribution"]
    assert set(demand["distribution"]) <= {"normal", "lognormal", "negative_binomial"}
    audit = pd.read_csv(out.parent / "forecast_audit.csv", keep_default_na=False)
    assert (audit["distribution_reason"] != "").all()
    forecast = audit[(audit["method"] != "no history: demand.csv kept") & (audit["override"].astype(str) == "False")]
    assert len(forecast) and (forecast.loc[forecast["mean"].astype(float) < 30, "distribution"]
                              == "negative_binomial").all()


# ------------------------------------------------------------------ sd calibration


def _noisy_promo_history(folder, sigma, seed=0):
    """Poisson days at a constant rate per pair; each past promo window × the SKU's lift
    (≈ 3) × exp(N(0, sigma)) drawn afresh per pair and promo: promo errors the
    lift model cannot explain, of known size."""
    c = load_campaign(folder)
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-05-01", pd.Timestamp(c.config.planning_date) - pd.Timedelta(days=1))
    skus = c.demand["sku"].unique()
    lift = dict(zip(skus, 3.0 * np.exp(rng.normal(0, 0.2, len(skus)))))
    frames = []
    for r in c.demand.itertuples(index=False):
        lam = np.full(len(days), max(r.mean / 15, 1.0))
        promo = np.zeros(len(days), bool)
        for _, s, e in PAST_PROMOS:
            m = (days >= s) & (days <= e)
            lam[m] *= lift[r.sku] * np.exp(rng.normal(0, sigma))
            promo |= m
        frames.append(pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "sku": r.sku, "warehouse": r.warehouse,
                                    "units": rng.poisson(lam), "promo": promo.astype(int)}))
    pd.concat(frames).to_csv(folder / "sales_history.csv", index=False)


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    folder = generate_campaign(tmp_path_factory.mktemp("n") / "noisy", 60, seed=3)   # 138 pairs
    with open(folder / "campaign.toml", "a") as fh:
        fh.write('\n[forecast]\npromo = "Black Friday"\n\n' + PROMOS_TOML)
    _noisy_promo_history(folder, sigma=0.3)
    c = load_campaign(folder)
    return c, load_history(c)


def test_sd_calibration_gives_80_percent_coverage_on_the_held_out_promo(noisy):
    """The composed sd (baseline and lift errors) is too narrow for promo noise of
    σ = 0.3 on the log scale; scaled by the earlier promos' out-of-sample errors, the
    80 % interval holds close to 80 % of the held-out Black Friday 2025."""
    c, h = noisy
    r = backtest(c, h)
    cal = r.calibration
    assert r.target.name == "Black Friday 2025" and r.compared >= 120
    assert cal.origins == ["Prime Day 2025 from 2025-03-31"]       # only promos before the cutoff
    assert cal.scale > 1.3 and cal.coverage_80_raw < 0.7
    assert r.coverage_80_uncalibrated < 0.65
    assert 0.72 <= r.coverage_80 <= 0.88, r.coverage_80
    t = r.table
    assert np.allclose(t["method_sd"], np.maximum(t["method_sd_uncalibrated"] * cal.scale,
                                                  np.sqrt(t["method"])))


def test_sd_calibration_never_reads_data_after_its_end(noisy):
    """No leakage: sales at or after ``end`` (the backtest's cutoff) cannot move the scale."""
    c, h = noisy
    end = pd.Timestamp("2025-08-21")
    before = _sd_calibration(h.sales, h.promos, c.skus, end, 99)
    sales = h.sales.copy()
    late = sales["date"] >= end
    sales.loc[late, "units"] = sales.loc[late, "units"] * 5 + 100
    after = _sd_calibration(sales, h.promos, c.skus, end, 99)
    assert before.pairs > 0 and before.scale == after.scale and before.origins == after.origins
    # too little history before every origin: no calibration, and the audit says so
    none = _sd_calibration(h.sales, h.promos, c.skus, pd.Timestamp("2025-01-01"), 99)
    assert none.scale == 1.0 and not none.origins and none.source.startswith("uncalibrated")


def test_a_declining_series_still_selling_is_never_forecast_zero(tmp_path):
    """Sales falling from 6 to under 1 a day: a trend model may extrapolate them to zero;
    a series that sold in its last weeks gets a positive baseline and sd."""
    folder = _tiny(tmp_path, promo="Black Friday")
    c = load_campaign(folder)
    rng = np.random.default_rng(4)
    days = pd.date_range("2024-05-01", pd.Timestamp(c.config.planning_date) - pd.Timedelta(days=1))
    rate = np.linspace(6.0, 0.3, len(days))
    frames = [pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "sku": r.sku, "warehouse": r.warehouse,
                            "units": rng.poisson(rate), "stockout": 0})
              for r in c.demand.itertuples(index=False)]
    pd.concat(frames).to_csv(folder / "sales_history.csv", index=False)
    fc = _run(folder)
    assert (fc.audit["baseline_rate"] > 0).all() and (fc.demand["sd"] > 0).all()


# ------------------------------------------------------------------ backtest lead


@pytest.mark.parametrize("lead, needle", [
    (0, "lead of 0 days: must be ≥ 1"),
    (-5, "lead of -5 days: must be ≥ 1"),
    (700, "leaves 0 day(s) of sales history before it"),
    (573, "leaves 3 day(s) of sales history before it"),
])
def test_backtest_lead_must_leave_a_week_of_history_before_the_cutoff(small, lead, needle):
    """The cutoff is before the promo it scores (a lead ≤ 0 would forecast from the
    promo's own days) and after a week of sales (a lead reaching before the history is
    a clear message, not a traceback)."""
    c = load_campaign(small)
    with pytest.raises(ValueError) as err:
        backtest(c, load_history(c), lead_days=lead)
    assert needle in str(err.value), str(err.value)
    if lead > 0:
        assert "use a lead of at most 569 days" in str(err.value), str(err.value)


def test_backtest_cli_refuses_a_lead_reaching_before_the_history(small):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["backtest", str(small), "--lead-days", "3000"])
    assert code == 2, err.getvalue()
    assert "Traceback" not in err.getvalue() and "sales history before it" in err.getvalue()
    assert out.getvalue() == ""


# ------------------------------------------------------------------ the files written


def _fake_forecast(sku="S1", warehouse="W1", note=""):
    demand = pd.DataFrame({"sku": [sku], "warehouse": [warehouse], "mean": [12.34], "sd": [5.0],
                           "distribution": ["normal"]})
    audit = demand.assign(method="recent_mean", baseline_rate=2.469, lift=1.0, override=False, note=note)
    return Forecast(demand, audit)


def test_forecast_targets_are_new_files(tmp_path):
    """Without --out: demand.csv if the folder has none, else demand_forecast.csv, and
    forecast_audit.csv beside it; with --out: the file and forecast_audit.csv beside it
    (not in the campaign folder).  An existing target is refused, naming it."""
    c = tmp_path / "c"
    c.mkdir()
    assert forecast_targets(c) == (c / "demand.csv", c / "forecast_audit.csv")
    (c / "demand.csv").write_text("analyst's\n")
    assert forecast_targets(c) == (c / "demand_forecast.csv", c / "forecast_audit.csv")
    out = tmp_path / "new" / "d.csv"
    assert forecast_targets(c, out) == (out, tmp_path / "new" / "forecast_audit.csv")
    (c / "forecast_audit.csv").write_text("earlier\n")
    with pytest.raises(InputError) as err:
        forecast_targets(c)
    assert "forecast_audit.csv: already exists" in str(err.value) and "--out" in str(err.value)
    (c / "demand_forecast.csv").write_text("earlier\n")
    with pytest.raises(InputError) as err:
        forecast_targets(c)
    assert "demand_forecast.csv: already exists" in str(err.value) and len(err.value.problems) == 2
    for target, needle in ((c / "demand.csv", "demand.csv already exists"),
                           (c / "x.csv", "forecast_audit.csv already exists"),
                           (c, "is a folder"), (tmp_path / "forecast_audit.csv", "the audit's name"),
                           (c / "demand.csv" / "d.csv", "cannot create the folder")):
        with pytest.raises(InputError) as err:
            forecast_targets(c, target)
        assert "option '--out'" in str(err.value) and needle in str(err.value), str(err.value)


def test_write_forecast_never_overwrites_and_leaves_no_partial_file(tmp_path, monkeypatch):
    c = tmp_path / "c"
    c.mkdir()
    demand, audit = write_forecast(_fake_forecast(), c)
    assert demand == c / "demand.csv" and demand.read_text() == "sku,warehouse,mean,sd,distribution\nS1,W1,12.3,5.0,normal\n"
    first = {p: p.read_bytes() for p in (demand, audit)}
    with pytest.raises(InputError, match="forecast_audit.csv: already exists"):
        write_forecast(_fake_forecast(), c)
    assert {p: p.read_bytes() for p in (demand, audit)} == first
    assert sorted(p.name for p in c.iterdir()) == ["demand.csv", "forecast_audit.csv"]   # no temp files

    import optimizer.forecast.forecaster as forecaster

    place, calls = forecaster._place, []

    def fail_second(tmp, path):   # the demand file is put in place, then the audit fails
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        place(tmp, path)
    monkeypatch.setattr(forecaster, "_place", fail_second)
    with pytest.raises(OSError, match="disk full"):
        write_forecast(_fake_forecast(), c, tmp_path / "d" / "demand.csv")
    assert not any((tmp_path / "d").iterdir())


def test_forecast_cli_refuses_to_overwrite_an_earlier_forecast(small, tmp_path):
    """--out at an existing file, or a campaign folder holding an earlier forecast's
    demand_forecast.csv / forecast_audit.csv: exit 2 naming the file, nothing changed."""
    folder = tmp_path / "c"
    shutil.copytree(small, folder)
    for name in ("demand_forecast.csv", "forecast_audit.csv"):
        (folder / name).unlink(missing_ok=True)
    (folder / "forecast_audit.csv").write_text("the monitor's input\n")
    out = tmp_path / "fc" / "demand.csv"
    out.parent.mkdir()
    out.write_text("earlier\n")
    for args, needle in ((["--out", str(out)], f"{out} already exists"),
                         ([], "forecast_audit.csv: already exists")):
        buf_out, buf_err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(buf_out), contextlib.redirect_stderr(buf_err):
            code = main(["forecast", str(folder), *args])
        assert code == 2, buf_err.getvalue()
        assert needle in buf_err.getvalue() and "Traceback" not in buf_err.getvalue(), buf_err.getvalue()
    assert out.read_text() == "earlier\n" and not (out.parent / "forecast_audit.csv").exists()
    assert (folder / "forecast_audit.csv").read_text() == "the monitor's input\n"
    assert not (folder / "demand_forecast.csv").exists()


FORMULA_SKU = '=HYPERLINK("x")'


def _formula_campaign(tmp_path):
    """The tiny campaign with its first SKU renamed to a spreadsheet formula, a flat
    history and an override whose note is a formula too."""
    folder = _tiny(tmp_path, promo="Black Friday")
    first = load_campaign(folder).skus["sku"].iloc[0]
    for name in ("skus.csv", "demand.csv", "inventory.csv"):
        frame = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        frame["sku"] = frame["sku"].replace(first, FORMULA_SKU)
        frame.to_csv(folder / name, index=False)
    _flat_history(folder)
    wh = pd.read_csv(folder / "demand.csv", dtype=str).query("sku == @FORMULA_SKU")["warehouse"].iloc[0]
    pd.DataFrame({"sku": [FORMULA_SKU], "warehouse": [wh], "mean": [50], "sd": [""],
                  "note": ["=cmd|' /C calc'!A0"]}).to_csv(folder / "demand_overrides.csv", index=False)
    return folder


def test_forecast_files_are_formula_safe(tmp_path):
    """A SKU id or note that is a formula is written with the reversible quote prefix in
    the demand file and the audit; plain_cell gives it back verbatim."""
    folder = _formula_campaign(tmp_path)
    out = tmp_path / "fc" / "demand.csv"
    code = main(["forecast", str(folder), "--out", str(out)])
    assert code == 0
    for path in (out, out.parent / "forecast_audit.csv"):
        cells = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert not cells.map(lambda v: v.startswith(("=", "@", "+"))).any().any(), path
        assert "'" + FORMULA_SKU in set(cells["sku"])
        assert FORMULA_SKU in set(cells["sku"].map(plain_cell))
    audit = pd.read_csv(out.parent / "forecast_audit.csv", dtype=str, keep_default_na=False)
    assert "'=cmd|' /C calc'!A0" in set(audit["note"])


def test_formula_safe_forecast_files_read_back_verbatim(tmp_path):
    """The planner (demand.csv through load_campaign) and the monitor (forecast_audit.csv)
    read the forecast's ids as they were."""
    from optimizer.monitor.actuals import read_run_up_rates

    folder = _formula_campaign(tmp_path)
    (folder / "demand.csv").unlink()
    assert main(["forecast", str(folder)]) == 0
    c = load_campaign(folder)
    assert FORMULA_SKU in set(c.demand["sku"])
    rates, problems = read_run_up_rates(c)
    assert not problems and FORMULA_SKU in set(rates.index.get_level_values("sku"))


# ---------------------------------------------------------------- resolved share (SPEC §8 ρ)


def _scored(n, slope, noise, seed=0):
    rng = np.random.default_rng(seed)
    pace = rng.normal(0.0, 0.3, n)
    delta = slope * pace + rng.normal(0.0, noise, n)
    runup_expected = np.full(n, 400.0)
    mean = np.full(n, 200.0)
    return pd.DataFrame({"actual": (mean + 1) * np.exp(delta) - 1, "mean": mean,
                         "runup": (runup_expected + 1) * np.exp(pace) - 1, "runup_expected": runup_expected})


def test_resolved_share_is_the_share_of_the_deviation_the_run_up_predicts():
    from optimizer.forecast.forecaster import _resolved_share

    # δ = s + noise with var(s) = var(noise): the run-up explains half of δ's variance
    rho, pairs = _resolved_share(_scored(4000, 1.0, 0.3))
    assert pairs == 4000 and rho == pytest.approx(0.5, abs=0.04)
    assert _resolved_share(_scored(4000, 1.0, 0.0))[0] == pytest.approx(1.0, abs=1e-6)
    assert _resolved_share(_scored(4000, -1.0, 0.3))[0] == 0.0  # a run-up pointing the wrong way resolves nothing
    assert _resolved_share(_scored(10, 1.0, 0.3)) == (None, 10)  # too few pairs: no estimate
    small = _scored(4000, 1.0, 0.3).assign(mean=2.0)  # count noise only: not used
    assert _resolved_share(small) == (None, 0)


def test_two_stage_reads_resolved_share_from_the_forecast_audit_unless_the_campaign_sets_it(tmp_path):
    from test_two_stage import write_campaign

    from optimizer.io.campaign import load_campaign
    from optimizer.prep.recourse import effective_recourse

    folder = write_campaign(tmp_path / "c")  # [recourse] resolved_share = 0.6
    assert effective_recourse(load_campaign(folder)) == (load_campaign(folder).config.recourse,
                                                         "campaign.toml [recourse]")
    text = (folder / "campaign.toml").read_text().replace("resolved_share = 0.6\n", "")
    (folder / "campaign.toml").write_text(text)
    recourse, source = effective_recourse(load_campaign(folder))
    assert (recourse.resolved_share, source) == (0.5, "the default")
    (folder / "forecast_audit.csv").write_text("sku,warehouse,mean,resolved_share\nA,FBA1,120,0.27\n")
    recourse, source = effective_recourse(load_campaign(folder))
    assert (recourse.resolved_share, source) == (0.27, "forecast_audit.csv")
