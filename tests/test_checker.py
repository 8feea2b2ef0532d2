"""Tests of the independent plan checker itself (no engine needed).

Hand-written run folders for the conformance campaigns: the plan of expected.json
must pass and be worth expected_profit (this pins the checker's numerical
expected-sales integral to the known optima), and a plan breaking any rule of
SPEC §2 must be caught with a message naming that rule.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from scipy.stats import norm

from checker import check_plan, expected_demand, expected_sales, load_campaign, min_shipments
from conftest import OWN_CAMPAIGNS, SHARED_CONFORMANCE, case_folders, conformance_cases, load_expected

FEASIBLE_CASES = [c for c in case_folders(OWN_CAMPAIGNS) + conformance_cases()
                  if load_expected(c)["exit_code"] == 0]


def case(name: str) -> Path:
    path = SHARED_CONFORMANCE / name
    if not path.is_dir():
        pytest.skip(f"conformance case {name} not present")
    return path


def expected_units(case_dir: Path) -> dict[tuple[str, str, str], int]:
    units = load_expected(case_dir)["units"]
    return {tuple(k.split("|")): int(v) for k, v in units.items()}


def write_run(campaign_dir: Path, run_dir: Path, units: dict[tuple[str, str, str], int],
              *, budget: float | None = None, delays: dict[str, int] | None = None,
              summary: dict | None = None, cases: dict | None = None,
              shipments: dict | None = None, plan_edits: dict | None = None) -> Path:
    """Write a complete, self-consistent run folder for `units` by hand.

    `cases`, `shipments` and `plan_edits` override what would be written for a line
    / lane / cell, to build broken plans; `summary` overrides summary.json keys.
    """
    camp = load_campaign(campaign_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    header = "sku,warehouse,mode,cases,units,unit_landed_cost,line_cost,order_by,ship_by,cutoff"
    lines = [header]
    lane_vol: dict[tuple[str, str], float] = {}
    for (s, w, m), u in sorted(units.items()):
        pack = int(camp.skus[s]["case_pack"])
        row = {
            "sku": s, "warehouse": w, "mode": m,
            "cases": (cases or {}).get((s, w, m), u // pack if u % pack == 0 else u / pack),
            "units": u,
        }
        if (w, m) in camp.lanes:
            c = camp.landed_cost(s, w, m)
            row.update(unit_landed_cost=repr(c), line_cost=repr(c * u),
                       order_by=camp.order_by(s, w, m, delays).isoformat(),
                       ship_by=camp.ship_by(s, w, m, delays).isoformat(),
                       cutoff=camp.warehouses[w]["cutoff"].isoformat())
        else:
            row.update(unit_landed_cost="1.0", line_cost=repr(float(u)),
                       order_by="2026-01-01", ship_by="2026-01-01", cutoff="2026-01-01")
        row.update((plan_edits or {}).get((s, w, m), {}))
        lines.append(",".join(str(row[c]) for c in header.split(",")))
        lane_vol[(w, m)] = lane_vol.get((w, m), 0.0) + camp.skus[s]["volume_m3"] * u
    (run_dir / "plan.csv").write_text("\n".join(lines) + "\n")

    ship_lines = ["warehouse,mode,shipments,volume_m3,shipment_cost"]
    for (w, m), vol in sorted(lane_vol.items()):
        lane = camp.lanes.get((w, m))
        if lane is None:
            continue
        n = (shipments or {}).get((w, m), min_shipments(lane, vol))
        ship_lines.append(f"{w},{m},{n},{vol!r},{lane['shipment_cost'] * n!r}")
    (run_dir / "shipments.csv").write_text("\n".join(ship_lines) + "\n")

    # A first pass without summaries gives the per-pair numbers to write.
    rep = check_plan(campaign_dir, run_dir, budget=budget, delays=delays)
    sum_lines = ["sku,warehouse,existing,ordered,available,mean,sd,expected_sales,"
                 "expected_leftover,fill_rate"]
    for (s, w), p in sorted(rep.pairs.items()):
        fill = p.expected_sales / p.expected_demand if p.expected_demand > 0 else ""
        sum_lines.append(f"{s},{w},{p.existing!r},{p.ordered!r},{p.available!r},{p.mean!r},"
                         f"{p.sd!r},{p.expected_sales!r},{p.expected_leftover!r},{fill}")
    (run_dir / "sku_summary.csv").write_text("\n".join(sum_lines) + "\n")
    total_ed = sum(p.expected_demand for p in rep.pairs.values())
    body = {
        "expected_profit": rep.exact_profit,
        "spend": rep.spend,
        "budget": rep.budget,
        "expected_fill_rate": (sum(p.expected_sales for p in rep.pairs.values()) / total_ed
                               if total_ed else 1.0),
        "expected_leftover_units": sum(p.expected_leftover for p in rep.pairs.values()),
        "status": "optimal", "mip_gap": 0.0, "build_seconds": 0.0, "solve_seconds": 0.0,
        "n_variables": 0, "n_constraints": 0,
    }
    body.update(summary or {})
    (run_dir / "summary.json").write_text(json.dumps(body, indent=1))
    return run_dir


def violations_of(campaign_dir, tmp_path, units, **kw) -> list[str]:
    check_kw = {k: kw[k] for k in ("budget", "delays") if k in kw}
    run = write_run(campaign_dir, tmp_path / "run", units, **kw)
    return check_plan(campaign_dir, run, **check_kw).violations


def assert_caught(violations: list[str], *words: str) -> None:
    assert violations, "the checker accepted a broken plan"
    joined = "\n".join(violations).lower()
    for word in words:
        assert word.lower() in joined, f"no violation mentions {word!r}: {violations}"


# ---------------------------------------------------------------- expected sales

def loss(z: float) -> float:
    """Standard normal loss G(z) = φ(z) − z(1 − Φ(z)) (SPEC §2 closed form)."""
    return norm.pdf(z) - z * norm.sf(z)


@pytest.mark.parametrize("mean,sd,a", [
    (500, 120, 597), (20, 18, 37), (40, 36, 5), (100, 20, 0), (100, 20, 10_000),
    (6, 2, 48), (1, 5, 3), (1000, 300, 1000), (0, 4, 7),
])
def test_expected_sales_matches_closed_form(mean, sd, a):
    closed = mean - sd * loss((a - mean) / sd) + sd * loss(mean / sd)
    assert expected_sales(mean, sd, a) == pytest.approx(closed, rel=1e-9, abs=1e-9)
    assert expected_demand(mean, sd) == pytest.approx(mean + sd * loss(mean / sd), rel=1e-9,
                                                      abs=1e-9)


def test_expected_sales_deterministic_and_bounds():
    assert expected_sales(100, 0, 80) == 80
    assert expected_sales(100, 0, 130) == 100
    assert expected_demand(100, 0) == 100
    assert expected_sales(100, 30, 0) == 0
    # truncated at zero: E[max(D,0)] > mean when sd is large
    assert expected_demand(20, 18) > 20


# ---------------------------------------------------------------- known optima

@pytest.mark.parametrize("case_dir", FEASIBLE_CASES, ids=lambda p: p.name)
def test_expected_plan_passes_and_is_worth_expected_profit(case_dir, tmp_path):
    exp = load_expected(case_dir)
    run = write_run(case_dir, tmp_path / "run", expected_units(case_dir),
                    summary={"expected_profit": exp["expected_profit"], "spend": exp["spend"]})
    rep = check_plan(case_dir, run)
    rep.assert_valid()      # also checks summary.json's profit/spend = expected.json's
    assert rep.exact_profit == pytest.approx(exp["expected_profit"], rel=1e-4)
    assert rep.spend == pytest.approx(exp["spend"], rel=1e-6)


def test_empty_plan_is_valid_without_service_target(tmp_path):
    c = case("c03_budget")
    rep = check_plan(c, write_run(c, tmp_path / "run", {}))
    rep.assert_valid()
    assert rep.spend == 0
    assert rep.exact_profit == pytest.approx(0.0, abs=1e-9)   # no stock, no penalty


def test_existing_stock_counts_at_salvage_and_late_in_transit_is_ignored(tmp_path):
    c01 = case("c01_deterministic")          # 23 on hand, mean 100, sd 0
    rep = check_plan(c01, write_run(c01, tmp_path / "a", {}))
    assert rep.available("A", "FBA1") == 23
    assert rep.exact_profit == pytest.approx((30 - 4) * 23 + 4 * 23)
    c05 = case("c05_deadline")               # 50 on hand + 200 arriving after the cutoff
    rep = check_plan(c05, write_run(c05, tmp_path / "b", {}))
    assert rep.available("A", "FBA1") == 50


def test_summary_profit_and_spend_mismatch_caught(tmp_path):
    c = case("c02_newsvendor")
    v = violations_of(c, tmp_path, expected_units(c),
                      summary={"expected_profit": 10961.2223 * 1.001, "spend": 7000.0})
    assert_caught(v, "expected_profit", "spend")


def test_missing_files_caught(tmp_path):
    c = case("c02_newsvendor")
    run = write_run(c, tmp_path / "run", expected_units(c))
    (run / "summary.json").unlink()
    (run / "shipments.csv").unlink()
    assert_caught(check_plan(c, run).violations, "summary.json", "shipments.csv")


# ---------------------------------------------------------------- broken plans

def test_budget_caught(tmp_path):
    c = case("c03_budget")
    units = expected_units(c)
    units[("A", "FBA1", "sea")] += 100
    assert_caught(violations_of(c, tmp_path, units), "budget")


def test_budget_override_caught(tmp_path):
    c = case("c03_budget")                   # spend 8998.08 fits 9000, not 8000
    assert_caught(violations_of(c, tmp_path, expected_units(c), budget=8000.0), "budget")
    assert not violations_of(c, tmp_path / "ok", expected_units(c), budget=9000.0)


def test_container_cost_counts_in_budget(tmp_path):
    c = case("c06_containers")               # spend 82504.2 includes 2 containers
    assert_caught(violations_of(c, tmp_path, expected_units(c), budget=82504.2 - 100), "budget")


def test_moq_caught(tmp_path):
    c = case("c04_moq")                      # A has moq 2000
    units = expected_units(c) | {("A", "FBA1", "sea"): 100}
    assert_caught(violations_of(c, tmp_path, units), "moq")


def test_min_order_value_caught(tmp_path):
    c = case("c07_suppliers")                # F2 min_order_value 2500, C costs 4
    units = expected_units(c) | {("C", "FBA1", "sea"): 100}
    assert_caught(violations_of(c, tmp_path, units), "min_order_value")
    c12 = case("c12_bounds")                 # F2 needs 3000 of X at 10 each
    units = expected_units(c12) | {("X", "FBA1", "sea"): 299}
    assert_caught(violations_of(c12, tmp_path / "x", units), "min_order_value")


def test_supplier_capacity_caught(tmp_path):
    c = case("c07_suppliers")                # F1 makes at most 600 units
    units = expected_units(c)
    units[("A", "FBA1", "sea")] += 1
    assert_caught(violations_of(c, tmp_path, units), "capacity_units")


def test_warehouse_space_caught(tmp_path):
    c = case("c10_sku_share_and_capacity")   # 11.994 of 12 m3 used; B is 0.01 m3
    units = expected_units(c)
    units[("B", "FBA1", "sea")] += 10
    v = violations_of(c, tmp_path, units)
    assert_caught(v, "warehouse space")
    assert len(v) == 1, v


def test_existing_stock_does_not_use_space(tmp_path):
    c = case("c10_sku_share_and_capacity")
    cdir = tmp_path / "camp"
    shutil.copytree(c, cdir)
    (cdir / "inventory.csv").write_text(
        "sku,warehouse,on_hand,in_transit,in_transit_eta\nA,FBA1,5000,0,\n")
    assert not violations_of(cdir, tmp_path, expected_units(c))


def test_lane_not_usable_caught(tmp_path):
    c = case("c05_deadline")                 # sea: 9-01 + 20 + 35 + 5 > 10-20
    assert_caught(violations_of(c, tmp_path, {("A", "FBA1", "sea"): 589}), "not usable")


def test_lane_missing_from_lanes_csv_caught(tmp_path):
    c = case("c01_deterministic")            # only air exists
    assert_caught(violations_of(c, tmp_path, {("A", "FBA1", "sea"): 80}), "lanes.csv")


def test_delay_makes_lane_unusable(tmp_path):
    c = case("c01_deterministic")            # 9-01 + 10 + 8 = 9-19, cutoff 11-01: 43 days spare
    units = expected_units(c)
    assert not violations_of(c, tmp_path / "a", units, delays={"air": 43})
    assert_caught(violations_of(c, tmp_path / "b", units, delays={"air": 44}), "not usable")
    assert not violations_of(c, tmp_path / "c", units, delays={"sea": 44})  # other mode


def test_dates_checked(tmp_path):
    c = case("c01_deterministic")            # ship_by = 11-01 − 8 = 10-24, order_by = 10-14
    units = expected_units(c)
    run = write_run(c, tmp_path / "run", units)
    plan = (run / "plan.csv").read_text()
    assert "2026-10-14,2026-10-24,2026-11-01" in plan
    v = violations_of(c, tmp_path / "bad", units,
                      plan_edits={("A", "FBA1", "air"): {"ship_by": "2026-10-25",
                                                         "order_by": "2026-10-13"}})
    assert_caught(v, "ship_by", "order_by")
    v = violations_of(c, tmp_path / "delay", units, delays={"air": 3},
                      plan_edits={("A", "FBA1", "air"): {"ship_by": "2026-10-24"}})
    assert_caught(v, "ship_by")


def test_wrong_case_multiple_caught(tmp_path):
    c = case("c01_deterministic")            # case_pack 10
    assert_caught(violations_of(c, tmp_path / "a", {("A", "FBA1", "air"): 85}), "case_pack")
    v = violations_of(c, tmp_path / "b", {("A", "FBA1", "air"): 80},
                      cases={("A", "FBA1", "air"): 7})
    assert_caught(v, "case_pack")


def test_landed_cost_checked(tmp_path):
    c = case("c01_deterministic")
    v = violations_of(c, tmp_path, expected_units(c),
                      plan_edits={("A", "FBA1", "air"): {"unit_landed_cost": "11.67"}})
    assert_caught(v, "unit_landed_cost")


def test_fill_rate_caught(tmp_path):
    c = case("c09_fill_rate")                # β = 0.97 needs 636 units
    assert_caught(violations_of(c, tmp_path / "a", {("A", "FBA1", "sea"): 600}),
                  "min_fill_rate")
    c12 = case("c12_bounds")                 # Y needs its case of 48 at every warehouse
    units = {k: v for k, v in expected_units(c12).items() if k[1] != "FBA3"}
    assert_caught(violations_of(c12, tmp_path / "b", units), "min_fill_rate", "FBA3")


def test_sku_budget_share_caught(tmp_path):
    c = case("c10_sku_share_and_capacity")   # A costs 11 landed; 0.3 x 30000 = 9000
    units = expected_units(c) | {("A", "FBA1", "sea"): 900, ("C", "FBA1", "sea"): 400}
    v = violations_of(c, tmp_path, units)
    assert_caught(v, "max_sku_budget_share")
    assert len(v) == 1, v


def test_shipments_checked(tmp_path):
    c = case("c06_containers")               # FBA1 sea: 2888·0.02 + 3445·0.01 = 92.21 m3
    units = expected_units(c)
    assert_caught(violations_of(c, tmp_path / "a", units,
                                shipments={("FBA1", "sea"): 1}), "cannot carry")
    assert_caught(violations_of(c, tmp_path / "b", units,
                                shipments={("FBA1", "sea"): 3}), "shipment")


def test_lane_capacity_caught(tmp_path):
    c = case("c02_newsvendor")
    cdir = tmp_path / "camp"
    shutil.copytree(c, cdir)
    lanes = (cdir / "lanes.csv").read_text().splitlines()
    lanes[1] = lanes[1].rstrip(",") + ",,1.0"  # capacity_m3 = 1 m3 = 500 units of A
    (cdir / "lanes.csv").write_text("\n".join(lanes) + "\n")
    assert load_campaign(cdir).lanes[("FBA1", "sea")]["capacity_m3"] == 1.0
    assert not violations_of(cdir, tmp_path / "a", {("A", "FBA1", "sea"): 500})
    assert_caught(violations_of(cdir, tmp_path / "b", {("A", "FBA1", "sea"): 501}),
                  "lane capacity")


def test_per_sku_penalty_override(tmp_path):
    c = case("c02_newsvendor")               # campaign penalty 3
    base = check_plan(c, write_run(c, tmp_path / "a", expected_units(c))).exact_profit
    cdir = tmp_path / "camp"
    shutil.copytree(c, cdir)
    skus = (cdir / "skus.csv").read_text().splitlines()
    skus[0] += ",stockout_penalty"
    skus[1] += ",0"
    (cdir / "skus.csv").write_text("\n".join(skus) + "\n")
    rep = check_plan(cdir, write_run(cdir, tmp_path / "b", expected_units(c)))
    # with penalty 3 the profit lost 3·E[D] and gained 3·ES: the difference is 3·E[short]
    mean, sd, a = 500, 120, 597
    short = expected_demand(mean, sd) - expected_sales(mean, sd, a)
    assert rep.exact_profit - base == pytest.approx(3 * short, rel=1e-9)
    assert math.isfinite(rep.exact_profit)
