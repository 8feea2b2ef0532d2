"""Tests of the independent plan checker itself (no engine needed).

Hand-written run folders for the conformance campaigns: the plan of expected.json
must pass and be worth expected_profit (this pins the checker's numerical
expected-sales integral to the known optima, the §6 cases c13–c17 and c23 its seller
economics and PO dates, and the §7 cases c18–c19 its demand distributions), and a plan
breaking any rule of SPEC §2 or §6 must be caught with a message naming that rule.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import nbinom, norm, poisson

from checker import (
    CASH_COLUMNS,
    DISTRIBUTIONS,
    cash_ledger,
    check_plan,
    expected_demand,
    expected_sales,
    load_campaign,
    min_shipments,
    parse_distribution,
)
from conftest import (
    OWN_CAMPAIGNS,
    SHARED_CONFORMANCE,
    SHARED_CONFORMANCE_V2,
    SHARED_CONFORMANCE_V3,
    V2_SECTION,
    V3_SECTION,
    case_folders,
    conformance_cases,
    load_expected,
)

FEASIBLE_CASES = [c for c in case_folders(OWN_CAMPAIGNS) + conformance_cases()
                  if load_expected(c)["exit_code"] == 0]
# The conformance-v2 and -v3 cases pinning SPEC §6 (c13–c17, c23), whatever the engine implements.
ECONOMICS_CASES = ([c for c in case_folders(SHARED_CONFORMANCE_V2) if V2_SECTION.get(c.name[:3]) == "§6"]
                   + [c for c in case_folders(SHARED_CONFORMANCE_V3) if V3_SECTION.get(c.name[:3]) == "§6"])
# The conformance-v2 cases pinning SPEC §7 (c18, c19), whatever the engine implements.
DISTRIBUTION_CASES = [c for c in case_folders(SHARED_CONFORMANCE_V2)
                      if V2_SECTION.get(c.name[:3]) == "§7"]


def case(name: str) -> Path:
    root = (SHARED_CONFORMANCE_V2 if V2_SECTION.get(name[:3])
            else SHARED_CONFORMANCE_V3 if V3_SECTION.get(name[:3]) else SHARED_CONFORMANCE)
    path = root / name
    if not path.is_dir():
        pytest.skip(f"conformance case {name} not present")
    return path


def expected_units(case_dir: Path) -> dict[tuple[str, str, str], int]:
    units = load_expected(case_dir)["units"]
    return {tuple(k.split("|")): int(v) for k, v in units.items()}


def write_run(campaign_dir: Path, run_dir: Path, units: dict[tuple[str, str, str], int],
              *, budget: float | None = None, delays: dict[str, int] | None = None,
              summary: dict | None = None, cases: dict | None = None,
              shipments: dict | None = None, plan_edits: dict | None = None,
              cash_edit=None) -> Path:
    """Write a complete, self-consistent run folder for `units` by hand.

    `cases`, `shipments` and `plan_edits` override what would be written for a line
    / lane / cell, to build broken plans; `summary` overrides summary.json keys;
    `cash_edit(rows) -> rows` rewrites cash.csv's rows (dicts of CASH_COLUMNS).
    cash.csv and summary.json's SPEC §6 keys are the checker's own (cash_ledger and
    the report's fees / storage / duty / cash-limit figures), as the engine writes
    them for every campaign.
    """
    camp = load_campaign(campaign_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    header = "sku,warehouse,mode,cases,units,unit_landed_cost,line_cost,order_by,po_date,ship_by,cutoff"
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
                       po_date=camp.po_date(s, w, m, delays).isoformat(),
                       ship_by=camp.ship_by(s, w, m, delays).isoformat(),
                       cutoff=camp.warehouses[w]["cutoff"].isoformat())
        else:
            row.update(unit_landed_cost="1.0", line_cost=repr(float(u)), order_by="2026-01-01",
                       po_date="2026-01-01", ship_by="2026-01-01", cutoff="2026-01-01")
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
    cash = cash_ledger(rep.payments, camp.cash_limits)
    if cash_edit is not None:
        cash = cash_edit(cash)
    write_cash(run_dir, cash)
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
        "referral_fees": rep.referral_fees, "fulfilment_fees": rep.fulfilment_fees,
        "fees": rep.fees, "storage_cost": rep.storage_cost, "duty_deferred": rep.duty_deferred,
        "cash_limits": rep.cash_limits,
    }
    body.update(summary or {})
    (run_dir / "summary.json").write_text(json.dumps(body, indent=1))
    return run_dir


def write_cash(run_dir: Path, rows: list[dict]) -> None:
    def cell(v):
        return repr(v) if isinstance(v, float) else str(v)
    lines = [",".join(CASH_COLUMNS)] + [",".join(cell(r[c]) for c in CASH_COLUMNS)
                                        for r in rows]
    (run_dir / "cash.csv").write_text("\n".join(lines) + "\n")


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


# ---------------------------------------------------------------- SPEC §6: seller economics

def copy_case(name: str, tmp_path: Path) -> Path:
    cdir = tmp_path / "camp"
    shutil.copytree(case(name), cdir)
    return cdir


def edit_csv_cell(path: Path, row: int, column: str, value: str) -> None:
    """Set `column` of data row `row` (0-based) of a CSV, adding the column if needed."""
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    if column not in header:
        header.append(column)
        lines = [lines[0] + "," + column] + [ln + "," for ln in lines[1:]]
    cells = lines[row + 1].split(",")
    cells[header.index(column)] = value
    lines[row + 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("case_dir", ECONOMICS_CASES or [
    pytest.param(None, marks=pytest.mark.skip(
        reason=f"no SPEC §6 conformance cases at {SHARED_CONFORMANCE_V2}"))],
    ids=lambda p: getattr(p, "name", "none"))
def test_economics_plan_passes_and_is_worth_expected_profit(case_dir, tmp_path):
    exp = load_expected(case_dir)
    run = write_run(case_dir, tmp_path / "run", expected_units(case_dir),
                    summary={"expected_profit": exp["expected_profit"], "spend": exp["spend"]})
    rep = check_plan(case_dir, run)
    rep.assert_valid()      # summary.json's profit/spend = expected.json's, cash.csv, §6 keys
    # expected.json rounds to 4 decimals: the exact §6 profit agrees far inside tolerance_rel.
    assert rep.exact_profit == pytest.approx(exp["expected_profit"], rel=1e-6)
    assert rep.exact_profit >= exp["expected_profit"] * (1 - exp["tolerance_rel"])
    assert rep.spend == pytest.approx(exp["spend"], rel=1e-9)


def test_section6_outputs_optional_without_section6_items(tmp_path):
    c = case("c02_newsvendor")
    assert not load_campaign(c).uses_economics()
    run = write_run(c, tmp_path / "run", expected_units(c))
    (run / "cash.csv").unlink()
    summary = json.loads((run / "summary.json").read_text())
    for key in ("referral_fees", "fulfilment_fees", "fees", "storage_cost", "duty_deferred",
                "cash_limits"):
        del summary[key]
    (run / "summary.json").write_text(json.dumps(summary))
    check_plan(c, run).assert_valid()


def test_section6_outputs_due_when_used(tmp_path):
    c = case("c13_marketplace_fees")
    assert load_campaign(c).uses_economics()
    run = write_run(c, tmp_path / "run", expected_units(c))
    (run / "cash.csv").unlink()
    summary = json.loads((run / "summary.json").read_text())
    del summary["storage_cost"]
    (run / "summary.json").write_text(json.dumps(summary))
    assert_caught(check_plan(c, run).violations, "cash.csv is missing", "storage_cost")


def test_fees_lower_the_sale_value(tmp_path):
    c = case("c13_marketplace_fees")         # A: 30, ρ 0.15, r 0.1, salvage 3, fee 5.2 / 2.4
    camp = load_campaign(c)
    assert camp.fulfilment_fee("A", "FBA1") == 5.2
    assert camp.fulfilment_fee("A", "3PL1") == 2.4      # fees.csv override
    assert camp.net_sale_value("A", "3PL1") == pytest.approx(0.85 * 30 * 0.9 + 0.3 - 2.4)
    assert camp.net_sale_value("A") == pytest.approx(30 * 0.9 + 0.3)   # §2 value
    rep = check_plan(c, write_run(c, tmp_path / "run", expected_units(c)))
    es = {k: p.expected_sales for k, p in rep.pairs.items()}
    referral = (0.15 * 30 * 0.9 * (es[("A", "FBA1")] + es[("A", "3PL1")])
                + 0.08 * 42 * (es[("B", "FBA1")] + es[("B", "3PL1")]))
    fulfil = (5.2 * es[("A", "FBA1")] + 2.4 * es[("A", "3PL1")]
              + 3.1 * es[("B", "FBA1")] + 1.8 * es[("B", "3PL1")])
    assert rep.referral_fees == pytest.approx(referral, rel=1e-12)
    assert rep.fulfilment_fees == pytest.approx(fulfil, rel=1e-12)


def test_storage_is_paid_by_existing_stock_and_leftovers(tmp_path):
    c = copy_case("c14_storage_and_leftovers", tmp_path)   # 40/m3/month, 52 days, L = 3
    (c / "inventory.csv").write_text(
        "sku,warehouse,on_hand,in_transit,in_transit_eta\nBULKY,FBA1,50,0,\n")
    camp = load_campaign(c)
    assert camp.months_in("FBA1") == pytest.approx(52 / 30)
    assert camp.leftover_value("BULKY", "FBA1") == pytest.approx(6 - 40 * 0.12 * 3)
    rep = check_plan(c, write_run(c, tmp_path / "run", {}))
    rep.assert_valid()
    es = expected_sales(300, 120, 50)
    k, v = 40 * 0.12 * 52 / 30, 6 - 40 * 0.12 * 3
    assert rep.exact_profit == pytest.approx((55 - v) * es + (v - k) * 50, rel=1e-12)
    assert rep.storage_cost == pytest.approx(40 * 0.12 * (52 / 30 * 50 + 3 * (50 - es)),
                                             rel=1e-12)


def test_wrong_landed_cost_at_bonded_warehouse_caught(tmp_path):
    c = case("c15_bonded")                   # unit 20, duty 0.3, freight 0.16
    camp = load_campaign(c)
    assert camp.landed_cost("A", "BOND1", "sea") == pytest.approx(20.16)
    assert camp.landed_cost("A", "GEN1", "sea") == pytest.approx(26.16)
    v = violations_of(c, tmp_path, expected_units(c),
                      plan_edits={("A", "BOND1", "sea"): {"unit_landed_cost": "26.16",
                                                          "line_cost": repr(26.16 * 399)}})
    assert_caught(v, "unit_landed_cost", "line_cost")


def test_bonded_flag_spellings(tmp_path):
    c = copy_case("c15_bonded", tmp_path)
    for text, want in (("yes", True), ("1", True), ("true", True), ("no", False),
                       ("0", False), ("", False), ("FALSE", False)):
        edit_csv_cell(c / "warehouses.csv", 0, "bonded", text)
        assert load_campaign(c).warehouses["BOND1"]["bonded"] is want, text
    edit_csv_cell(c / "warehouses.csv", 0, "bonded", "maybe")
    with pytest.raises(ValueError, match="bonded"):
        load_campaign(c)


def test_bonded_duty_is_deferred(tmp_path):
    c = case("c15_bonded")                   # duty paid on arrival at GEN1 only
    rep = check_plan(c, write_run(c, tmp_path / "run", expected_units(c)))
    duty = [p for p in rep.payments if p.kind == "duty"]
    assert [(p.warehouse, p.amount) for p in duty] == [("GEN1", pytest.approx(0.3 * 20 * 304))]
    es = rep.pairs[("A", "BOND1")].expected_sales
    assert rep.duty_deferred == pytest.approx(0.3 * 20 * 0.95 * es, rel=1e-12)


def test_fx_converts_unit_cost_first(tmp_path):
    c = case("c17_fx")                       # A: 58 CNY at 0.14 = 8.12 USD
    camp = load_campaign(c)
    assert camp.skus["A"]["unit_cost"] == pytest.approx(8.12)
    assert camp.skus["B"]["unit_cost"] == 9.0        # USD = the campaign currency
    assert camp.landed_cost("A", "FBA1", "sea") == pytest.approx(8.32)
    v = violations_of(c, tmp_path, expected_units(c),
                      plan_edits={("A", "FBA1", "sea"): {"unit_landed_cost": "58.2"}})
    assert_caught(v, "unit_landed_cost")


def test_fx_applies_to_min_order_value(tmp_path):
    c = copy_case("c17_fx", tmp_path)
    (c / "suppliers.csv").write_text("supplier,min_order_value,capacity_units\nF1,1000,\n")
    # 100 x 8.12 = 812 < 1000 (unconverted, 100 x 58 = 5800 would pass); 130 x 8.12 = 1055.6
    assert_caught(violations_of(c, tmp_path / "a", {("A", "FBA1", "sea"): 100}),
                  "min_order_value")
    assert not violations_of(c, tmp_path / "b", {("A", "FBA1", "sea"): 130})


def test_fx_without_rate_is_an_error(tmp_path):
    c = copy_case("c17_fx", tmp_path)
    edit_csv_cell(c / "skus.csv", 0, "cost_currency", "EUR")
    with pytest.raises(ValueError, match="EUR"):
        load_campaign(c)


def test_cash_limit_caught(tmp_path):
    c = case("c16_cash_limits")              # Sept: 30 % deposit of 833 x 10 = 2499 <= 2500
    rep = check_plan(c, write_run(c, tmp_path / "ok", expected_units(c)))
    rep.assert_valid()
    assert [(x["until"], x["paid"]) for x in rep.cash_limits] == [
        ("2026-09-30", pytest.approx(2499.0)), ("2026-10-31", pytest.approx(19794.44))]
    units = expected_units(c)
    units[("A", "FBA1", "sea")] += 1         # deposit 2502 > 2500
    v = violations_of(c, tmp_path / "bad", units)
    assert_caught(v, "cash limit", "2026-09-30")
    assert len(v) == 1, v


def test_deposit_is_paid_on_the_po_date(tmp_path):
    c = case("c23_po_cycle")  # weekly POs: A by sea, order-by 10-02, placed (and 30 % paid) 09-29
    camp = load_campaign(c)
    assert camp.po_cycle_days == 7 and camp.uses_economics()
    assert camp.order_by("A", "FBA1", "sea").isoformat() == "2026-10-02"
    assert camp.po_date("A", "FBA1", "sea").isoformat() == "2026-09-29"
    assert camp.po_date("B", "FBA1", "air").isoformat() == "2026-10-13"
    rep = check_plan(c, write_run(c, tmp_path / "ok", expected_units(c)))
    rep.assert_valid()
    assert rep.cash_limits[0]["paid"] == pytest.approx(2499.0)  # only A's deposit by 09-30
    units = expected_units(c)
    units[("A", "FBA1", "sea")] += 1         # deposit 2502.00 on 09-29 > 2500
    v = violations_of(c, tmp_path / "bad", units)
    assert_caught(v, "cash limit", "2026-09-30")
    # the same plan with each line ordered on its order-by date pays that deposit on 10-02
    daily = copy_case("c23_po_cycle", tmp_path / "daily")
    toml = (daily / "campaign.toml").read_text().replace("po_cycle_days = 7\n", "")
    (daily / "campaign.toml").write_text(toml)
    assert load_campaign(daily).po_cycle_days == 1
    assert violations_of(daily, tmp_path / "daily_run", units) == []


def test_wrong_or_missing_po_date_caught(tmp_path):
    c = case("c23_po_cycle")
    units = expected_units(c)
    v = violations_of(c, tmp_path / "wrong", units,
                      plan_edits={("A", "FBA1", "sea"): {"po_date": "2026-10-02"}})
    assert_caught(v, "po_date=2026-10-02 but expected 2026-09-29")
    run = write_run(c, tmp_path / "missing", units)
    plan = (run / "plan.csv").read_text().splitlines()
    drop = plan[0].split(",").index("po_date")
    (run / "plan.csv").write_text("\n".join(",".join(x for i, x in enumerate(line.split(",")) if i != drop)
                                            for line in plan) + "\n")
    assert_caught(check_plan(c, run).violations, "lacks column 'po_date'")
    # a SPEC §2 campaign's plan.csv may leave it out
    c02 = case("c02_newsvendor")
    run = write_run(c02, tmp_path / "c02", expected_units(c02))
    plan = (run / "plan.csv").read_text().splitlines()
    (run / "plan.csv").write_text("\n".join(",".join(x for i, x in enumerate(line.split(",")) if i != drop)
                                            for line in plan) + "\n")
    check_plan(c02, run).assert_valid()


def test_deposit_share_defaults_to_all_on_order_by(tmp_path):
    c = copy_case("c16_cash_limits", tmp_path)
    edit_csv_cell(c / "suppliers.csv", 0, "deposit_share", "")
    assert load_campaign(c).deposit_share("F1") == 1.0
    assert_caught(violations_of(c, tmp_path, expected_units(case("c16_cash_limits"))),
                  "cash limit")


def test_cash_limit_counts_every_kind_of_payment(tmp_path):
    c = copy_case("c16_cash_limits", tmp_path)
    toml = (c / "campaign.toml").read_text().replace("limit = 30000.0", "limit = 19794.0")
    (c / "campaign.toml").write_text(toml)   # October pays 19794.44 incl. freight
    assert_caught(violations_of(c, tmp_path, expected_units(case("c16_cash_limits"))),
                  "cash limit", "2026-10-31")


@pytest.mark.parametrize("name,key", [("c13_marketplace_fees", "fees"),
                                      ("c13_marketplace_fees", "referral_fees"),
                                      ("c14_storage_and_leftovers", "storage_cost"),
                                      ("c15_bonded", "duty_deferred")])
def test_wrong_economics_in_summary_caught(tmp_path, name, key):
    c = case(name)
    good = json.loads((write_run(c, tmp_path / "ok", expected_units(c))
                       / "summary.json").read_text())
    assert good[key] > 0
    v = violations_of(c, tmp_path, expected_units(c), summary={key: good[key] * 1.001})
    assert_caught(v, f"summary.json {key}")


def test_wrong_cash_limits_in_summary_caught(tmp_path):
    c = case("c16_cash_limits")
    units = expected_units(c)
    good = check_plan(c, write_run(c, tmp_path / "ok", units)).cash_limits
    wrong = [dict(good[0], paid=2400.0), good[1]]
    assert_caught(violations_of(c, tmp_path / "a", units, summary={"cash_limits": wrong}),
                  "cash_limits[0]", "paid")
    assert_caught(violations_of(c, tmp_path / "b", units, summary={"cash_limits": good[:1]}),
                  "cash_limits")


def _edit_row(index: int, **cells):
    def edit(rows):
        rows = [dict(r) for r in rows]
        rows[index].update(cells)
        return rows
    return edit


def test_wrong_cash_csv_caught(tmp_path):
    c = case("c16_cash_limits")              # rows: 9-07 deposit F1 2499, 10-02 balance F1, ...
    units = expected_units(c)

    def caught(sub, edit, *words):
        assert_caught(violations_of(c, tmp_path / sub, units, cash_edit=edit), "cash.csv", *words)

    caught("amount", _edit_row(0, amount=2000.0, cumulative=2000.0), "deposit")
    caught("cumulative", _edit_row(1, cumulative=1.0), "cumulative")
    caught("limit", _edit_row(0, limit_until="2026-10-31", limit=30000.0), "limit")
    caught("blank", _edit_row(6, limit_until="2026-10-31", limit=30000.0), "blank")
    caught("supplier", _edit_row(0, supplier="F2"), "supplier")
    caught("kind", _edit_row(2, kind="fees"), "kind")
    caught("order", lambda rows: [rows[1], rows[0], *rows[2:]], "sorted")
    caught("dropped", lambda rows: rows[:-1], "duty", "spend")
    # a duty payment at a bonded warehouse is not the plan's
    c15 = case("c15_bonded")
    extra = {"date": "2026-11-01", "kind": "duty", "supplier": "", "warehouse": "BOND1",
             "mode": "", "amount": 1.0, "cumulative": 15997.48, "limit_until": "", "limit": ""}
    v = violations_of(c15, tmp_path / "bonded", expected_units(c15),
                      cash_edit=lambda rows: [*rows, extra])
    assert_caught(v, "cash.csv", "duty")


def test_cash_ledger_binding_limit():
    from datetime import date

    from checker import CashLimit, Payment

    limits = [CashLimit(date(2026, 10, 31), 100.0), CashLimit(date(2026, 9, 30), 500.0)]
    pays = [Payment(date(2026, 9, 1), "deposit", "F", "", "", 10.0),
            Payment(date(2026, 9, 1), "deposit", "F", "", "", 5.0),
            Payment(date(2026, 11, 2), "duty", "", "W", "", 3.0),
            Payment(date(2026, 10, 5), "freight", "", "W", "air", 0.0)]
    rows = cash_ledger(pays, limits)
    assert [(r["date"], r["amount"], r["cumulative"], r["limit_until"], r["limit"])
            for r in rows] == [("2026-09-01", 15.0, 15.0, "2026-10-31", 100.0),
                               ("2026-11-02", 3.0, 18.0, "", "")]


# ---------------------------------------------------------------- SPEC §7: demand distributions

def lognormal_closed_form(mean: float, sd: float, a: float) -> float:
    """E[min(D, A)] for a lognormal D of that mean and sd — the closed form, here only,
    as a cross-check of the checker's quadrature: m·Φ((ln A − μ − σ²)/σ) + A·(1 − Φ((ln A − μ)/σ))."""
    s2 = math.log1p((sd / mean) ** 2)
    mu, s = math.log(mean) - s2 / 2, math.sqrt(s2)
    return (mean * norm.cdf((math.log(a) - mu - s2) / s)
            + a * norm.sf((math.log(a) - mu) / s))


def count_sales_by_pmf(law, a: float) -> float:
    """Σ_k min(k, A)·pmf(k), k up to where the pmf is negligible (a different sum than
    the checker's Σ_{k<A} P(D > k))."""
    # beyond mean + 60 sd (+ 200) the pmf is below 1e-30 for these laws
    k = np.arange(0, int(law.mean() + 60 * law.std()) + 200, dtype=float)
    return math.fsum((np.minimum(k, a) * law.pmf(k)).tolist())


@pytest.mark.parametrize("mean,sd,a", [
    (400, 600, 596), (400, 600, 1), (400, 600, 100_000), (400, 600, 0.25),
    (100, 30, 100), (100, 30, 37.5), (50, 200, 3000), (10, 1, 9), (5, 40, 1e7),
])
def test_lognormal_expected_sales_matches_closed_form(mean, sd, a):
    got = expected_sales(mean, sd, a, distribution="lognormal")
    assert got == pytest.approx(lognormal_closed_form(mean, sd, a), rel=1e-9, abs=1e-12)
    assert expected_demand(mean, sd, distribution="lognormal") == mean


def test_lognormal_edges():
    assert expected_sales(400, 600, 0, distribution="lognormal") == 0
    assert expected_sales(400, 0, 300, distribution="lognormal") == 300     # D = mean
    assert expected_sales(400, 0, 500, distribution="lognormal") == 400
    assert expected_sales(100, 30, 1e6, distribution="lognormal") == pytest.approx(100, rel=1e-9)
    # same mean and sd, heavier right tail: fewer sales than the normal at the mean
    assert (expected_sales(400, 600, 400, distribution="lognormal")
            != pytest.approx(expected_sales(400, 600, 400)))


@pytest.mark.parametrize("lam,a", [
    (3, 0), (3, 1), (3, 4), (3, 3.5), (0.5, 2), (1.2, 0.3), (50, 45), (50, 80), (400, 420),
])
def test_poisson_expected_sales_matches_pmf_sum(lam, a):
    want = count_sales_by_pmf(poisson(lam), a)
    assert expected_sales(lam, 0, a, distribution="poisson") == pytest.approx(want, rel=1e-12,
                                                                              abs=1e-12)
    # sd is ignored
    assert expected_sales(lam, 99, a, distribution="poisson") == pytest.approx(want, rel=1e-12,
                                                                               abs=1e-12)
    assert expected_demand(lam, 99, distribution="poisson") == lam


@pytest.mark.parametrize("mean,sd,a", [
    (1.2, 2.0, 1), (1.2, 2.0, 0), (1.2, 2.0, 7.5), (20, 15, 18), (20, 15, 17.25), (20, 15, 400),
    (300, 40, 310),
])
def test_negative_binomial_expected_sales_matches_pmf_sum(mean, sd, a):
    law = nbinom(mean ** 2 / (sd ** 2 - mean), mean / sd ** 2)
    assert law.mean() == pytest.approx(mean) and law.std() == pytest.approx(sd)
    got = expected_sales(mean, sd, a, distribution="negative_binomial")
    assert got == pytest.approx(count_sales_by_pmf(law, a), rel=1e-12, abs=1e-12)
    assert expected_demand(mean, sd, distribution="negative_binomial") == mean


@pytest.mark.parametrize("mean,sd", [(3, 1.5), (4, 2), (3, 0), (3, 1.7320508)])
def test_negative_binomial_without_overdispersion_is_poisson(mean, sd):
    for a in (0, 1, 2, 3, 4, 5.5, 8, 30):
        assert (expected_sales(mean, sd, a, distribution="negative_binomial")
                == expected_sales(mean, sd, a, distribution="poisson"))


def test_integer_demand_sales_sum_the_survival_function():
    # SPEC §7: ES(A) = Σ_{k=0}^{A−1} P(D > k), so ES(A + 1) − ES(A) = P(D > A)
    for a in range(6):
        step = (expected_sales(3, 0, a + 1, distribution="poisson")
                - expected_sales(3, 0, a, distribution="poisson"))
        assert step == pytest.approx(poisson(3).sf(a), rel=1e-12)


def test_distribution_names_and_default():
    assert parse_distribution(" LogNormal ") == "lognormal"
    assert parse_distribution("") == parse_distribution(None) == "normal"
    assert parse_distribution("Negative_Binomial") in DISTRIBUTIONS
    assert expected_sales(500, 120, 597) == expected_sales(500, 120, 597, distribution="NORMAL ")
    assert expected_demand(20, 18, distribution="") == expected_demand(20, 18)
    with pytest.raises(ValueError, match="weibull"):
        expected_sales(10, 2, 5, distribution="weibull")


def test_distribution_column_is_read(tmp_path):
    cdir = copy_case("c18_lognormal", tmp_path)
    edit_csv_cell(cdir / "demand.csv", 0, "distribution", " LogNormal ")
    edit_csv_cell(cdir / "demand.csv", 1, "distribution", "")
    camp = load_campaign(cdir)
    assert camp.demand[("VIRAL", "FBA1")] == (400.0, 600.0, "lognormal")
    assert camp.demand[("STEADY", "FBA1")].distribution == "normal"
    # without the column every pair is normal (SPEC §2)
    lines = (cdir / "demand.csv").read_text().splitlines()
    (cdir / "demand.csv").write_text("\n".join(ln.rsplit(",", 1)[0] for ln in lines) + "\n")
    assert {d.distribution for d in load_campaign(cdir).demand.values()} == {"normal"}


@pytest.mark.parametrize("case_dir", DISTRIBUTION_CASES or [
    pytest.param(None, marks=pytest.mark.skip(
        reason=f"no SPEC §7 conformance cases at {SHARED_CONFORMANCE_V2}"))],
    ids=lambda p: getattr(p, "name", "none"))
def test_distribution_plan_passes_and_is_worth_expected_profit(case_dir, tmp_path):
    exp = load_expected(case_dir)
    run = write_run(case_dir, tmp_path / "run", expected_units(case_dir),
                    summary={"expected_profit": exp["expected_profit"], "spend": exp["spend"]})
    rep = check_plan(case_dir, run)
    rep.assert_valid()      # summary.json's profit/spend = expected.json's
    # expected.json rounds to 4 decimals: the exact profit agrees far inside tolerance_rel.
    assert rep.exact_profit == pytest.approx(exp["expected_profit"], rel=1e-6)
    assert rep.spend == pytest.approx(exp["spend"], rel=1e-9)
    assert {p.distribution for p in rep.pairs.values()} == {
        parse_distribution(d.distribution) for d in load_campaign(case_dir).demand.values()}


def test_distribution_changes_the_profit(tmp_path):
    c = case("c18_lognormal")
    units = expected_units(c)
    lognormal = check_plan(c, write_run(c, tmp_path / "a", units)).exact_profit
    cdir = copy_case("c18_lognormal", tmp_path)
    edit_csv_cell(cdir / "demand.csv", 0, "distribution", "normal")
    normal = check_plan(cdir, write_run(cdir, tmp_path / "b", units))
    # VIRAL: (30 − 1)·(ES_lognormal − ES_normal) at its 596 units
    diff = 29 * (expected_sales(400, 600, 596, "lognormal") - expected_sales(400, 600, 596))
    assert lognormal - normal.exact_profit == pytest.approx(diff, rel=1e-9)
    # the plan written for the lognormal is wrong for the normal campaign and vice versa
    assert_caught(check_plan(cdir, tmp_path / "a").violations,
                  "expected_profit", "expected_sales", "fill_rate", "expected_fill_rate")


def test_fill_rate_uses_the_distribution(tmp_path):
    cdir = copy_case("c19_count_demand", tmp_path)
    with open(cdir / "campaign.toml", "a") as fh:
        fh.write("min_fill_rate = 0.9\n")
    # SLOW: 4 units of Poisson(3) fill 89.4 %; RARE and LUMPY get plenty (> 99 %)
    units = {("SLOW", "FBA1", "air"): 4, ("RARE", "FBA1", "air"): 20,
             ("LUMPY", "FBA1", "air"): 120}
    fill = count_sales_by_pmf(poisson(3.0), 4) / 3.0
    assert 0.88 < fill < 0.9
    v = violations_of(cdir, tmp_path / "a", units)
    assert_caught(v, "min_fill_rate", "SLOW", f"{fill:.6f}")
    assert len(v) == 1, v
    # 5 units fill ES(5)/3 = (ES(4) + P(D > 4))/3 = 95.5 %
    ok = violations_of(cdir, tmp_path / "b", units | {("SLOW", "FBA1", "air"): 5})
    assert not ok, ok


def test_unknown_distribution_is_reported(tmp_path):
    cdir = copy_case("c18_lognormal", tmp_path)
    edit_csv_cell(cdir / "demand.csv", 0, "distribution", "Weibull")
    rep = check_plan(cdir, write_run(cdir, tmp_path / "run", expected_units(cdir)))
    assert_caught(rep.violations, "demand.csv", "VIRAL", "distribution", "'weibull'",
                  "lognormal", "negative_binomial", "poisson")
    assert len(rep.violations) == 1, rep.violations      # one clear message, no noise
    assert math.isnan(rep.exact_profit)
    assert rep.pairs[("STEADY", "FBA1")].expected_sales > 0
