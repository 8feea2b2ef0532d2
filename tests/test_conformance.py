"""Known-optimum campaigns through the real command line (the ``conformance`` layer).

Each case — the repo's own micro campaigns (tests/campaigns/) and the shared ones
of ../shared/conformance, ../shared/conformance-v2 and ../shared/conformance-v3 — is planned with
`python -m optimizer plan CASE --out DIR` in a subprocess; the exit code must be
expected.json's, a feasible plan must pass the independent checker and reach
expected_profit × (1 − tolerance_rel) with a reported bound no lower than
expected_profit, and an infeasible service target must
write nothing and explain itself.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from checker_two_stage import check_two_stage

from checker import check_plan
from conftest import OWN_CAMPAIGNS, known_optimum_cases, load_expected, plan_args, run_cli

pytestmark = pytest.mark.conformance
OUTPUT_FILES = ("plan.csv", "shipments.csv", "sku_summary.csv", "summary.json")


def _output(proc) -> str:
    return f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"


@pytest.mark.parametrize("case_dir", known_optimum_cases())
def test_conformance_case(case_dir, tmp_path):
    exp = load_expected(case_dir)
    out = tmp_path / "run"
    proc = run_cli(plan_args(case_dir, out))
    assert proc.returncode == exp["exit_code"], (
        f"{case_dir.name}: exit {proc.returncode}, expected {exp['exit_code']} "
        f"({exp['what_it_checks']})\n{_output(proc)}")
    assert "Traceback" not in proc.stderr, _output(proc)

    if exp["exit_code"] == 0 and "recourse" in exp:
        _check_two_stage_case(case_dir, out, exp)
        return
    if exp["exit_code"] == 0:
        rep = check_plan(case_dir, out)
        rep.assert_valid()   # every SPEC §2 rule, plus summary.json profit/spend = exact
        floor = exp["expected_profit"] * (1 - exp["tolerance_rel"])
        assert rep.exact_profit >= floor - 1e-9, (
            f"{case_dir.name}: exact profit {rep.exact_profit:.4f} < {floor:.4f} "
            f"(optimum {exp['expected_profit']}, one optimal plan {exp['units']}; "
            f"got {rep.units})")
        # The reported bound must be a valid upper bound on the known optimum.
        bound = json.loads((out / "summary.json").read_text())["best_bound"]
        assert bound is not None and bound >= exp["expected_profit"] * (1 - 1e-6) - 1e-4, (
            f"{case_dir.name}: bound {bound} below the known optimum {exp['expected_profit']}")
        return

    # Nothing half-done: the run folder is absent or holds none of the plan files.
    written = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert not [f for f in OUTPUT_FILES if f in written], (
        f"{case_dir.name}: exit {proc.returncode} but wrote {written}")
    message = proc.stdout + proc.stderr
    assert message.strip(), "a failing run must explain itself"
    if exp["exit_code"] == 3 and case_dir.name.startswith("c08"):
        # min_fill_rate cannot be met for A at FBA2: no lane reaches it before its cutoff.
        assert "FBA2" in message, _output(proc)
        assert "cutoff" in message.lower(), _output(proc)


def _check_two_stage_case(case_dir, out, exp) -> None:
    """SPEC §8: every rule in every scenario, the exact expected profit, the stage-1 plan, each
    scenario's top-up and the comparison profits as expected.json pins them."""
    rep = check_two_stage(case_dir, out)
    rep.assert_valid()
    tol = exp["tolerance_rel"]
    assert rep.exact_profit == pytest.approx(exp["expected_profit"], rel=tol)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["best_bound"] >= exp["expected_profit"] * (1 - 1e-6) - 1e-4
    assert rep.units == {tuple(k.split("|")): v for k, v in exp["units"].items()}
    recourse = pd.read_csv(out / "recourse.csv", dtype=str)
    for scenario, lines in exp["recourse"].items():
        mine = recourse[recourse["scenario"] == scenario]
        got = {f"{r.sku}|{r.warehouse}|{r.mode}": int(r.units) for r in mine.itertuples()}
        assert got == lines, f"{case_dir.name}: scenario {scenario} tops up {got}, expected {lines}"
    for key in ("spend", "reserve", "no_recourse_profit", "single_stage_profit", "value_of_flexibility",
                "perfect_information_profit"):
        assert summary[key] == pytest.approx(exp[key], rel=tol, abs=1e-6), key


def test_plan_refuses_non_empty_out_dir(tmp_path):
    case_dir = OWN_CAMPAIGNS / "m01_budget_by_margin_per_cost"
    out = tmp_path / "earlier_run"
    out.mkdir()
    before = {"plan.csv": "sku,warehouse\nkeep,me\n", "notes.txt": "an earlier run\n"}
    for name, text in before.items():
        (out / name).write_text(text)
    proc = run_cli(plan_args(case_dir, out))
    assert proc.returncode != 0, f"plan overwrote a non-empty folder\n{_output(proc)}"
    assert "Traceback" not in proc.stderr, _output(proc)
    after = {p.name: p.read_text() for p in out.iterdir()}
    assert after == before, "the existing run folder was modified"


def test_plan_into_existing_empty_out_dir(tmp_path):
    case_dir = OWN_CAMPAIGNS / "m01_budget_by_margin_per_cost"
    out = tmp_path / "empty"
    out.mkdir()
    proc = run_cli(plan_args(case_dir, out))
    assert proc.returncode == 0, _output(proc)
    check_plan(case_dir, out).assert_valid()


def test_budget_override_on_cli(tmp_path):
    # m01: budget 2,000 in the toml; at 1,000 all of it buys A (the better margin per $)
    case_dir = OWN_CAMPAIGNS / "m01_budget_by_margin_per_cost"
    out = tmp_path / "run"
    proc = run_cli(plan_args(case_dir, out, budget=1000.0))
    assert proc.returncode == 0, _output(proc)
    rep = check_plan(case_dir, out, budget=1000.0)
    rep.assert_valid()
    assert rep.units == {("A", "FBA1", "sea"): 100}, rep.units
    assert rep.spend == pytest.approx(1000.0)


def test_delay_override_on_cli(tmp_path):
    # m04: air is the only lane making the cutoff (09-01 + 10 + 5 + 5 = 09-21 <= 11-01);
    # 42 more days of air transit (arrival 11-02) leave no usable lane: nothing is ordered.
    case_dir = OWN_CAMPAIGNS / "m04_cheap_lane_misses_the_cutoff"
    out = tmp_path / "run"
    proc = run_cli(plan_args(case_dir, out, delays={"air": 42}))
    assert proc.returncode == 0, _output(proc)
    rep = check_plan(case_dir, out, delays={"air": 42})
    rep.assert_valid()
    assert rep.units == {}, f"ordered on a lane the delay closed: {rep.units}"
    # a delay on another mode (sea, already too slow) changes nothing
    out2 = tmp_path / "run2"
    proc = run_cli(plan_args(case_dir, out2, delays={"sea": 30}))
    assert proc.returncode == 0, _output(proc)
    rep2 = check_plan(case_dir, out2, delays={"sea": 30})
    rep2.assert_valid()
    assert rep2.exact_profit >= load_expected(case_dir)["expected_profit"] * (1 - 1e-3)
