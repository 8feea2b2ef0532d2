"""The two-stage plan (SPEC §8) end to end on small generated campaigns.

Each campaign has a few SKUs in two categories with lognormal demand, a sea lane usable
only now and an air lane usable now and from the recourse date; scenarios are generated
(no scenarios.csv).  Every run is checked by the independent checker of
:mod:`checker_two_stage` (every §8 rule in every scenario, the exact expected profit), and
the properties SPEC §8 implies are asserted: without a stage-2 route the plan is §2's,
with ``resolved_share = 0`` flexibility is worth nothing, a larger budget never earns less.
"""

from __future__ import annotations

import json

import pytest
from checker_two_stage import check_two_stage

from optimizer.io.campaign import load_campaign
from optimizer.settings import Settings
from optimizer.workflows.planner import plan_campaign
from optimizer.workflows.two_stage import plan_two_stage

pytestmark = pytest.mark.slow

SKUS = [  # sku, category, unit_cost, price, mean, sd, moq
    ("A", "toys", 8.0, 25.0, 120, 90, 0),
    ("B", "toys", 12.0, 30.0, 80, 70, 0),
    ("C", "home", 5.0, 14.0, 200, 120, 0),
    ("D", "home", 20.0, 45.0, 40, 35, 60),
]
SMALL = Settings(time_limit_s=60, evaluation_scenarios=60, perfect_information_scenarios=6)


def write_campaign(folder, *, budget=4000.0, rho=0.6, air_later=True, scenarios=12, cash=None, minimum=None):
    """``minimum``: supplier F1's minimum order value (none without)."""
    folder.mkdir(parents=True, exist_ok=True)
    if minimum is not None:
        (folder / "suppliers.csv").write_text(f"supplier,min_order_value,capacity_units\nF1,{minimum},\n")
    recourse = (f'\n[recourse]\ndate = 2026-10-15\nmodes = ["air"]\nresolved_share = {rho}\n'
                f"scenarios = {scenarios}\nseed = 3\n")
    cash_text = "" if cash is None else f"\n[[cash_limits]]\nuntil = 2026-09-30\nlimit = {cash}\n"
    (folder / "campaign.toml").write_text(
        'name = "two-stage test"\ncurrency = "USD"\nplanning_date = 2026-09-01\npromo_start = 2026-11-27\n'
        f"promo_end = 2026-12-01\nbuffer_days = 0\nbudget = {budget}\n" + cash_text + recourse)
    (folder / "skus.csv").write_text(
        "sku,supplier,unit_cost,price,weight_kg,volume_m3,case_pack,moq,production_days,duty_rate,"
        "salvage_value,return_rate,category\n"
        + "".join(f"{s},F1,{c},{p},0.5,0.002,10,{moq},10,0.0,{c / 4},0.0,{cat}\n"
                  for s, cat, c, p, _, _, moq in SKUS))
    (folder / "demand.csv").write_text(
        "sku,warehouse,mean,sd,distribution\n" + "".join(f"{s},FBA1,{mu},{sd},lognormal\n"
                                                         for s, _, _, _, mu, sd, _ in SKUS))
    (folder / "warehouses.csv").write_text("warehouse,market,capacity_m3,cutoff\nFBA1,US,1000.0,2026-11-20\n")
    air_days = 20 if air_later else 40  # from 2026-10-15: 10 + 20 days reach the cutoff, 10 + 40 do not
    (folder / "lanes.csv").write_text(
        "warehouse,mode,transit_days,cost_per_kg,cost_per_m3,volumetric_kg_per_m3,shipment_cost,"
        "shipment_m3,capacity_m3\n"
        "FBA1,sea,35,0.5,0.0,0,0.0,,\n"
        f"FBA1,air,{air_days},4.0,0.0,0,0.0,,\n")
    return folder


def _plan(folder, tmp_path, name="run", settings=SMALL):
    run = plan_two_stage(load_campaign(folder), settings, out_dir=tmp_path / name)
    rep = check_two_stage(folder, run.out_dir)
    rep.assert_valid()
    assert rep.exact_profit == pytest.approx(run.evaluation.expected_profit, rel=1e-6, abs=1e-4)
    return run, json.loads((run.out_dir / "summary.json").read_text())


def test_two_stage_plan_is_valid_and_keeps_back_what_pays(tmp_path):
    folder = write_campaign(tmp_path / "campaign")
    run, summary = _plan(folder, tmp_path)
    assert summary["status"] == "optimal"
    assert summary["best_bound"] >= summary["expected_profit"] - 1e-6
    assert summary["reserve"] == pytest.approx(summary["budget"] - summary["spend"])
    assert (run.out_dir / "recourse.csv").exists()
    # Out of sample the plan made for two stages is worth at least the one-stage plan topped up.
    assert summary["value_of_flexibility"] >= -2 * summary["value_of_flexibility_se"] - 1e-6
    assert summary["perfect_information_profit"] >= summary["two_stage_profit"] - 3 * (
        summary["perfect_information_profit_se"] + summary["two_stage_profit_se"])
    assert summary["single_stage_profit"] >= summary["no_recourse_profit"] - 1e-6


def test_without_a_stage_two_route_the_plan_is_the_single_stage_plan(tmp_path):
    folder = write_campaign(tmp_path / "campaign", air_later=False)
    run, summary = _plan(folder, tmp_path)
    assert run.evaluation.recourse.empty
    single = tmp_path / "single"
    single.mkdir()
    for f in folder.iterdir():
        text = f.read_text()
        (single / f.name).write_text(text.split("\n[recourse]")[0] + "\n" if f.name == "campaign.toml" else text)
    plain = plan_campaign(single, SMALL)
    # Stage 1 alone facing the scenarios' mixture: the §2 plan's profit under demand.csv's
    # lognormal is the same problem up to the sampling of the heat.
    assert summary["value_of_flexibility"] == pytest.approx(0.0, abs=1e-6)
    assert plain.summary.spend == pytest.approx(summary["spend"], rel=0.25)


def test_nothing_resolved_means_flexibility_is_worth_nothing(tmp_path):
    folder = write_campaign(tmp_path / "campaign", rho=0.0)
    _, summary = _plan(folder, tmp_path)
    gap = summary["mip_gap_target"] * abs(summary["expected_profit"])
    assert abs(summary["value_of_flexibility"]) <= 2 * gap + 1e-6


def test_a_larger_budget_never_lowers_the_two_stage_profit(tmp_path):
    profits = []
    for budget in (1500.0, 3000.0, 6000.0):
        folder = write_campaign(tmp_path / f"campaign-{budget:g}", budget=budget)
        _, summary = _plan(folder, tmp_path, name=f"run-{budget:g}")
        profits.append(summary["expected_profit"])
    assert all(b >= a * (1 - 2e-3) for a, b in zip(profits, profits[1:]))


def test_cash_limit_holds_in_every_scenario(tmp_path):
    folder = write_campaign(tmp_path / "campaign", cash=1200.0)
    _, summary = _plan(folder, tmp_path)
    assert all(limit["paid"] <= limit["limit"] + 1e-6 for limit in summary["cash_limits"])


def test_the_checker_catches_a_top_up_over_the_budget(tmp_path):
    folder = write_campaign(tmp_path / "campaign", budget=2000.0)
    run, _ = _plan(folder, tmp_path)
    recourse = run.out_dir / "recourse.csv"
    lines = recourse.read_text().splitlines()
    first = lines[1].split(",") if len(lines) > 1 else None
    scenario = first[0] if first else run.problem.demand.ids[0]
    landed = 12.0 + 4.0 * 0.5  # B by air: unit cost + cost_per_kg·weight
    lines.append(f"{scenario},B,FBA1,air,500,5000,{landed},{5000 * landed},2026-10-15,2026-10-31")
    recourse.write_text("\n".join(lines) + "\n")
    rep = check_two_stage(folder, run.out_dir)
    assert any("budget" in v for v in rep.violations)


def test_report_of_a_two_stage_plan_shows_the_reserve_and_the_policy(tmp_path):
    """``report`` on a [recourse] campaign: the section after the action list, policy.csv beside."""
    import subprocess
    import sys

    from optimizer.prep.recourse import campaign_scenarios

    folder = write_campaign(tmp_path / "campaign", scenarios=8)
    # its generated scenarios as scenarios.csv: the profits are then evaluated on them exactly
    campaign = load_campaign(folder)
    scenarios, _ = campaign_scenarios(campaign, campaign.config.recourse)
    rows = scenarios.demand.assign(probability=scenarios.demand["scenario"].map(
        dict(zip(scenarios.ids, scenarios.probabilities))))
    rows[["scenario", "probability", "sku", "warehouse", "mean", "sd", "distribution"]].to_csv(
        folder / "scenarios.csv", index=False)
    reports = tmp_path / "reports"
    done = subprocess.run([sys.executable, "-m", "optimizer", "report", str(folder), "--reports-dir", str(reports),
                           "--time-limit", "30"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    page = next(reports.rglob("report.html")).read_text()
    assert "Kept back for the top-up" in page and "Value of flexibility" in page
    assert page.index("What to order, and by when") < page.index("Kept back for the top-up")
    policy = next(reports.rglob("policy.csv")).read_text().splitlines()
    assert policy[0].split(",")[:4] == ["sku", "warehouse", "mode", "pace_from"]
    if len(policy) > 1:
        assert "order" in policy[1] and "by air" in policy[1]


def test_monitor_reads_the_policy_at_each_pairs_heat(tmp_path):
    """A two-stage run monitored on the recourse date: sales plus converted presales over the
    plan give each pair's heat, and the policy's row at that heat is the proposed top-up."""
    import datetime as dt

    from optimizer.monitor.campaign_monitor import monitor_campaign

    folder = write_campaign(tmp_path / "campaign", scenarios=12)
    run, _ = _plan(folder, tmp_path)
    policy = run.policy
    assert not policy.empty
    hot = policy.sort_values("expected_units").iloc[-1]
    rate = 2.0  # the run-up plan: 2 units a day for every pair
    (folder / "forecast_audit.csv").write_text(
        "sku,warehouse,baseline_rate\n" + "".join(f"{s},FBA1,{rate}\n" for s, *_ in SKUS))
    days = [dt.date(2026, 9, 1) + dt.timedelta(days=i) for i in range(45)]  # to 2026-10-15
    heat = float(hot["pace_from"]) + 0.5
    sales = {s: rate for s, *_ in SKUS} | {hot["sku"]: rate * (heat - 0.2)}
    (folder / "actuals.csv").write_text("date,sku,warehouse,units\n" + "".join(
        f"{d},{s},FBA1,{u:.4f}\n" for d in days for s, u in sales.items()))
    # presales make up the rest of the hot pair's heat: 0.2 × plan / conversion 0.3
    orders = 0.2 * rate * len(days) / 0.3
    (folder / "presale.csv").write_text(f"date,sku,warehouse,orders\n2026-10-10,{hot['sku']},FBA1,{orders:.4f}\n")
    result = monitor_campaign(folder, run.out_dir, folder / "actuals.csv", time_limit_s=20)
    flags = result.flags.set_index("sku")
    assert flags.at[hot["sku"], "heat"] == pytest.approx(heat, rel=1e-3)
    reached = policy[(policy["sku"] == hot["sku"]) & (policy["pace_from"] <= heat)].sort_values("pace_from")
    assert flags.at[hot["sku"], "policy_units"] == int(reached.iloc[-1]["units"])
    assert flags.at[hot["sku"], "policy_mode"] == "air"
    cold = [s for s, *_ in SKUS if s != hot["sku"]]
    assert all(flags.at[s, "heat"] == pytest.approx(1.0) for s in cold)
    assert any("policy.csv of the run" in n for n in result.notes)

