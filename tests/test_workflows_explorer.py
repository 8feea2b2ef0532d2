"""The what-if explorer (optimizer.workflows.explorer, optimizer.report.explorer_panel): a budget
change re-solves in place and a delay change rebuilds; a slider's request is answered first within a
time cap, then refined, and a newer request interrupts the solve in flight; "Budget used" is against
the budget asked for; an infeasible what-if carries the command line's explanation; the status line
and the KPI cards are one widget drawn from one answer in one update; the campaign picker lists the
campaign folders found and rebuilds the explorer for the one picked; the notebook runs under papermill
(widgets become static output).  The explorer in a real JupyterLab: tests/test_explorer_browser.py."""

from __future__ import annotations

import re
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from optimizer.report.explorer_panel import ExplorerPanel, what_if_kpis
from optimizer.settings import Settings
from optimizer.workflows.explorer import Explorer, find_campaigns
from optimizer.workflows.planner import plan_campaign

from conftest import REPO, execute_notebook, write_campaign

TINY = REPO / "data" / "tiny"
SAMPLE = REPO / "data" / "sample"
PLOTLY_MIME = "application/vnd.plotly.v1+json"


class Answers:
    """Collects a request's answers (called from the explorer's worker thread)."""

    def __init__(self):
        self.seen, self.at = [], []
        self.final = threading.Event()
        self.first = threading.Event()

    def __call__(self, w):
        self.seen.append(w)
        self.at.append(time.perf_counter())
        self.first.set()
        if w.final:
            self.final.set()


def kpi(df, name: str) -> str:
    return df.set_index("KPI").at[name, "value"]


def test_budget_moves_re_solve_in_place_and_delays_rebuild():
    e = Explorer(TINY, time_limit_s=10)
    first = e.solve(29_000)
    model = e.planner.model
    lower = e.solve(15_000)
    assert first.rebuilt and not lower.rebuilt and e.planner.model is model
    late = e.solve(15_000, {"sea_lcl": 7})
    assert late.rebuilt and e.planner.model is not model
    cold = plan_campaign(TINY, Settings(budget=15_000, delays={"sea_lcl": 7}, time_limit_s=10),
                         progress=lambda msg: None)
    assert late.evaluation.expected_profit == pytest.approx(cold.summary.expected_profit, rel=2e-3)
    table = what_if_kpis(e, lower)
    assert "persistent re-solve" in kpi(table, "Solved by")
    # against the budget asked for, not the instance's (built for the slider's largest budget)
    assert kpi(table, "Budget") == "15,000.00 USD"
    assert kpi(table, "Budget used") == f"{lower.evaluation.spend / 15_000:.1%}"
    assert list(table["KPI"]).count("Budget") == 1
    with pytest.raises(ValueError):
        e.solve(10 * e.max_budget)


def test_request_answers_within_its_cap_then_refines():
    e = Explorer(TINY, time_limit_s=10, first_answer_s=0.01)  # a cap too short for anything but the price start
    answers = Answers()
    number = e.request(20_000, {}, answers)
    assert answers.final.wait(60)
    first, refined = answers.seen
    assert first.request == refined.request == number and e.is_current(number)
    assert (first.stage, first.time_limit_s, first.final) == ("first answer", 0.01, False)
    assert refined.stage == "refined" and refined.status == "optimal" and refined.final
    assert refined.evaluation.expected_profit >= first.evaluation.expected_profit - 1e-6
    assert "refined within 10 s" in kpi(what_if_kpis(e, refined), "Solved by")


@pytest.mark.slow
def test_a_newer_request_interrupts_the_refinement_and_the_model_stays_usable():
    """On the 300-SKU sample: the second request's first answer comes within its cap (plus a
    second) although the first request was refining; no answer of the first comes after the
    second was made; and after the interrupt the loaded model still solves (HiGHS would
    otherwise answer every later run with kInterrupt)."""
    e = Explorer(SAMPLE, time_limit_s=20)
    budget = e.campaign.config.budget
    one, two = Answers(), Answers()
    e.request(budget, {}, one)
    assert one.first.wait(30) and not one.final.is_set()
    time.sleep(1.0)  # into the refinement
    asked = time.perf_counter()
    number = e.request(0.95 * budget, {}, two)
    assert two.first.wait(30)
    assert two.at[0] - asked <= e.first_answer_s + 1.5, two.at[0] - asked
    assert two.final.wait(60)
    assert all(t < asked for t in one.at)
    refined = two.seen[-1]
    assert refined.request == number and refined.stage == "refined"
    assert refined.result.outcome.lp_rounds > 0 and refined.status in ("optimal", "time_limit")
    assert refined.evaluation.expected_profit >= two.seen[0].evaluation.expected_profit - 1e-6


def service_campaign(tmp_path):
    """Two SKUs with a 95 % fill-rate target, one sea lane 30 days from the cutoff."""
    return write_campaign(
        tmp_path / "service",
        config=dict(name="svc", currency="USD", planning_date=date(2026, 9, 1),
                    promo_start=date(2026, 11, 27), promo_end=date(2026, 12, 1),
                    budget=20_000.0, buffer_days=0, min_fill_rate=0.95),
        skus=[dict(sku=s, supplier="F1", unit_cost=10.0, price=30.0, weight_kg=0.5,
                   volume_m3=0.01, case_pack=1, moq=0, production_days=10, duty_rate=0.0,
                   salvage_value=2.0, return_rate=0.0) for s in ("A", "B")],
        suppliers=[dict(supplier="F1", min_order_value=0, capacity_units=None)],
        warehouses=[dict(warehouse="W1", market="US", capacity_m3=1000.0, cutoff="2026-11-01")],
        lanes=[dict(warehouse="W1", mode="sea", transit_days=30, cost_per_kg=0.0,
                    cost_per_m3=100.0, volumetric_kg_per_m3=0, shipment_cost=0.0,
                    shipment_m3=None, capacity_m3=None)],
        demand=[dict(sku="A", warehouse="W1", mean=400, sd=80),
                dict(sku="B", warehouse="W1", mean=200, sd=50)],
    )


def test_an_infeasible_what_if_says_why(tmp_path):
    e = Explorer(service_campaign(tmp_path), time_limit_s=10)
    short = e.solve(1_000)
    assert short.status == "infeasible" and short.evaluation is None
    assert "budget: meeting every target costs at least" in short.problem
    assert "the smallest budget that would do is" in short.problem
    late = Answers()
    e.request(20_000, {"sea": 40}, late)  # ordered after the planning date: no lane makes the cutoff
    assert late.final.wait(30)
    (w,) = late.seen
    assert w.status == "infeasible" and w.result is None
    assert "A at W1" in w.problem and "no lane makes the cutoff" in w.problem
    assert e.solve(20_000).status == "optimal"  # and back to a plan without the delay


def card(page: str, name: str) -> str | None:
    """The value of KPI card ``name`` in the panel's answer HTML (None: no such card)."""
    hit = re.search(rf'data-kpi="{re.escape(name)}"><span class="pso-card-name">[^<]*</span>'
                    r'<span class="pso-card-value">([^<]*)</span>', page)
    return hit and hit.group(1)


def status(page: str) -> str:
    return re.search(r'<div class="pso-status">([^<]*)</div>', page).group(1)


def test_panel_greys_out_stale_kpis_and_draws_the_chart_as_plotly_json():
    e = Explorer(TINY, time_limit_s=10)
    panel = ExplorerPanel(e)
    panel.changed()
    assert 'class="pso-kpis pso-stale"' in panel.answer.value and "solving…" in status(panel.answer.value)
    assert panel.wait_for_answer(60)
    page = panel.answer.value
    assert "pso-stale" not in page
    assert card(page, "Expected profit") and card(page, "Budget used")
    assert status(page).startswith("first answer")
    (out,) = panel.chart.outputs
    assert out["data"][PLOTLY_MIME]["layout"]["height"] == 380 and "Plotly.newPlot" in out["data"]["text/html"]
    panel.budget.value = 0.5 * panel.budget.value  # what a slider move does
    assert "pso-stale" in panel.answer.value
    assert panel.wait_for_answer(60) and card(panel.answer.value, "Budget") == "14,500.00 USD"


def test_status_line_and_kpis_change_together_from_one_answer():
    """Every value the answer widget takes has a status line and KPI cards of the same answer:
    the profit the status line states is the profit card's, and the budget card is the
    request's — so the two never disagree on screen, not even between two updates."""
    e = Explorer(TINY, time_limit_s=10, first_answer_s=0.01)  # first answer, then a refined one
    panel = ExplorerPanel(e)
    values = []
    panel.answer.observe(lambda change: values.append(change["new"]), names="value")
    panel.changed()
    assert panel.wait_for_answer(60)
    panel.budget.value = 20_000.0
    deadline = time.monotonic() + 60
    while "refined plan" not in status(panel.answer.value) or "solving" in status(panel.answer.value):
        assert time.monotonic() < deadline, panel.answer.value
        time.sleep(0.05)
    assert card(panel.answer.value, "Budget") == "20,000.00 USD"
    answered = [v for v in values if "expected profit" in status(v)]
    assert len(answered) >= 3  # first answer and refined plan of the second request included
    for page in answered:
        stated = re.search(r"expected profit ([\d,.-]+)", status(page)).group(1)
        assert card(page, "Expected profit") == f"{stated} USD", page
    for page in values:  # greyed out exactly while the first answer of a request is awaited
        assert ("pso-stale" in page) == ("the first answer" in status(page)), page


def _bundled() -> list:
    """The campaign folders under data/: sample, sample_v1, tiny, and whatever else a
    generator wrote there with a campaign.toml."""
    return sorted(p.parent for p in (REPO / "data").glob("*/campaign.toml"))


def test_find_campaigns_lists_folders_holding_a_campaign_toml(tmp_path):
    for folder in ("data/a", "data/b/c", "data/.hidden", "data/d/e/too_deep", "here/mine", "data"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    for folder in ("data/a", "data/b/c", "data/.hidden", "data/d/e/too_deep", "here/mine"):
        (tmp_path / folder / "campaign.toml").write_text('name = "x"\n')
    (tmp_path / "here" / "data").symlink_to(tmp_path / "data")  # the same folders again, through a link
    found = find_campaigns([tmp_path / "data", tmp_path / "here"])
    assert found == [tmp_path / "data/a", tmp_path / "data/b/c", tmp_path / "here/mine"]
    assert find_campaigns([tmp_path / "missing"]) == []
    # the bundled campaigns (and data/sample_history once generated, a campaign folder too)
    assert find_campaigns([REPO / "data"]) == _bundled()


def test_picking_a_campaign_rebuilds_the_explorer_for_it(tmp_path):
    other = service_campaign(tmp_path)  # one mode, "sea"; budget 20,000
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "campaign.toml").write_text("name = \n")
    e = Explorer(TINY, time_limit_s=10)
    panel = ExplorerPanel(e, campaigns=find_campaigns([REPO / "data", tmp_path]))
    values = [v for _, v in panel.picker.options]
    assert values == [str(p) for p in _bundled()] + [str(broken), str(other)]
    assert panel.picker.value == str(REPO / "data" / "tiny")  # the explorer's own campaign
    assert "Tiny demo" in dict((v, k) for k, v in panel.picker.options)[panel.picker.value]
    panel.changed()
    assert panel.wait_for_answer(60)
    number = e._request
    panel.picker.value = str(other)
    assert panel.explorer is not e and Path(panel.explorer.campaign.root) == other
    assert not e.is_current(number)  # the old campaign's request was cancelled
    assert list(panel.delay) == ["sea"] and panel.budget.max == pytest.approx(30_000)
    assert panel.wait_for_answer(60)
    page = panel.answer.value
    assert card(page, "Budget") == "20,000.00 USD" and "svc" in page and "pso-stale" not in page
    panel.picker.value = str(broken)  # cannot be loaded: the campaign on screen stays
    assert panel.picker.value == str(other) and Path(panel.explorer.campaign.root) == other
    assert "could not be loaded" in panel.answer.value
    assert panel.wait_for_answer(60) and card(panel.answer.value, "Budget") == "20,000.00 USD"
    panel.budget.value = 15_000.0  # a what-if of the campaign on screen: the load problem is gone
    assert panel.wait_for_answer(60) and "could not be loaded" not in panel.answer.value


@pytest.mark.notebook
def test_explore_notebook_runs_with_papermill(tmp_path):
    nb = execute_notebook("explore.ipynb", tmp_path / "explore.ipynb", {"time_limit_s": 10})
    assert "parameters" in nb.cells[0].metadata["tags"]
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    models = [v["model_name"] for v in state.values()]
    assert "FloatSliderModel" in models and models.count("IntSliderModel") == 3
    (picker,) = [v["state"] for v in state.values() if v["model_name"] == "DropdownModel"]
    assert picker["_options_labels"][picker["index"]] == "../data/tiny · Tiny demo"
    assert "../data/sample · Black Friday 2026 (sample)" in picker["_options_labels"]
    assert any('data-kpi="Expected profit"' in v["state"].get("value", "") for v in state.values()
               if v["model_name"] == "HTMLModel")
    (out,) = [v for v in state.values() if v["model_name"] == "OutputModel"]
    (chart,) = out["state"]["outputs"]
    assert PLOTLY_MIME in chart["data"] and "Plotly.newPlot" in chart["data"]["text/html"]


@pytest.mark.notebook
def test_budget_frontier_notebook_runs_with_papermill(tmp_path):
    nb = execute_notebook("budget_frontier.ipynb", tmp_path / "frontier.ipynb",
                  {"steps": 3, "time_limit_s": 10})
    html = " ".join(o.get("data", {}).get("text/html", "") for c in nb.cells if c.cell_type == "code"
                    for o in c.outputs)
    # the table is in the house style (optimizer.report.html.present): spaced names, the currency in money headers
    assert "marginal profit per budget" in html and html.count("Plotly.newPlot(") == 2


def test_a_request_keeps_the_run_time_limit_in_wall_time():
    """First answer plus refinement fit the run's limit (the build of a new model aside)."""
    import threading

    limit = 4.0
    ex = Explorer(TINY, time_limit_s=limit, first_answer_s=1.0)
    ex.solve(15_000)  # the model is built: later requests re-solve it
    answers, done = [], threading.Event()

    def on_answer(w):
        answers.append((time.perf_counter(), w))
        if w.final:
            done.set()

    began = time.perf_counter()
    ex.request(20_000, {}, on_answer)
    assert done.wait(60)
    finished, last = answers[-1]
    assert finished - began <= limit * 1.05 + 1.0, (finished - began, [w.stage for _, w in answers])
    assert last.stage in ("first answer", "refined") and last.result is not None


@pytest.mark.slow
def test_a_campaign_with_recourse_gets_a_two_stage_box_that_plans_at_the_picked_date(tmp_path):
    """The two-stage box (SPEC §8): weekly recourse dates between the planning date and the
    promotion plus the campaign's own; the button plans at the picked date and the sliders'
    budget, and the answer is the report's section on what is kept back."""
    import datetime as dt

    from test_two_stage import SMALL, write_campaign

    from optimizer.workflows.recourse_explorer import RecourseExplorer, recourse_dates

    folder = write_campaign(tmp_path / "c", scenarios=4)  # recourse on 2026-10-15, planned 2026-09-01
    e = Explorer(folder, time_limit_s=10)
    assert ExplorerPanel(Explorer(TINY)).two_stage is None  # a one-stage campaign has none
    panel = ExplorerPanel(e)
    box = panel.two_stage
    dates = recourse_dates(e.campaign)
    assert dates[0] == dt.date(2026, 9, 8) and dates[-1] < dt.date(2026, 11, 27)
    assert dt.date(2026, 10, 15) in dates and box.date.value == dt.date(2026, 10, 15)
    assert "press the button" in box.status.value
    box.date.value = dt.date(2026, 10, 6)
    panel.budget.value = 3000.0
    # fewer evaluation scenarios than a run's 1,000 (the extensive form tops up each exactly)
    box.recourse = RecourseExplorer(e.campaign, time_limit_s=10,
                                    settings=SMALL.update(evaluation_scenarios=20, perfect_information_scenarios=2))
    answers = []
    original = box._answered
    box._answered = lambda a: (original(a), answers.append(a))  # recorded once drawn
    box.plan()
    assert "planning two stages for top-ups on 2026-10-06" in box.status.value
    deadline = time.monotonic() + 120
    while not answers:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    (a,) = answers
    assert a.run is not None, a.problem
    s = a.run.summary
    assert str(s.recourse_date) == "2026-10-06" and s.budget == 3000.0
    assert "Kept back for the top-up" in box.answer.value and "pso-stale" not in box.answer.value
    assert "two-stage plan for top-ups on 2026-10-06 at a budget of 3,000 USD" in box.status.value
