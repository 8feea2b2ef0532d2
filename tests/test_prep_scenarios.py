"""The scenarios of the two-stage plan (SPEC §8): the generated heats keep the forecast's
mean and variance (checked by simulation), share a category's signal as ``category_share``
says, are reproducible from the seed; scenarios.csv is read and checked with every message
naming its file, line and column; the shared conformance cases' scenarios read as written.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from optimizer.io import checks
from optimizer.io.campaign import read_checked_csv
from optimizer.io.recourse import SCENARIOS_MAX, RecourseSettings, recourse_settings
from optimizer.prep.scenarios import Scenarios, generate_scenarios, read_scenarios

from conftest import SHARED_CONFORMANCE_V3, case_folders

D = dt.date
R = D(2026, 10, 20)
N = 20_000


def _demand(cv: float, mean: float = 100.0, distribution: str = "normal") -> pd.DataFrame:
    """Six pairs: A (two warehouses) and B of category toys, C of home, D without a
    category, and E with no demand; every live pair with coefficient of variation ``cv``."""
    rows = [("A", "W1", mean), ("A", "W2", 2 * mean), ("B", "W1", 3 * mean), ("C", "W1", mean),
            ("D", "W2", 0.5 * mean), ("E", "W1", 0.0)]
    return pd.DataFrame({"sku": [r[0] for r in rows], "warehouse": [r[1] for r in rows],
                         "mean": [r[2] for r in rows], "sd": [cv * r[2] if r[2] else 7.0 for r in rows],
                         "distribution": distribution})


SKUS = pd.DataFrame({"sku": ["A", "B", "C", "D", "E"], "category": ["toys", "toys", "home", "", "home"]})


def _settings(**kw) -> RecourseSettings:
    return RecourseSettings(date=R, **kw)


def _heats(s: Scenarios, demand: pd.DataFrame) -> np.ndarray:
    """``h`` of each (scenario, pair) with demand: the scenario mean over the forecast's."""
    live = demand["mean"].to_numpy() > 0
    return s.values("mean")[:, live] / demand["mean"].to_numpy()[live]


def _signals(s: Scenarios, demand: pd.DataFrame, rho: float) -> np.ndarray:
    """``Z`` of each (scenario, pair) with demand, read back from its heat: ``(ln h + s²/2)/s``."""
    live = demand["mean"].to_numpy() > 0
    cv = demand["sd"].to_numpy()[live] / demand["mean"].to_numpy()[live]
    spread = np.sqrt(rho * np.log1p(cv * cv))
    return (np.log(_heats(s, demand)) + spread * spread / 2) / spread


# ------------------------------------------------------------ generated: the maths

GRID = [(0.0, 0.5, 0.8), (0.25, 0.0, 0.5), (0.5, 0.5, 1.0), (0.75, 1.0, 0.3), (1.0, 0.5, 0.8),
        (0.5, 0.3, 1.5)]


@pytest.mark.parametrize("distribution", ["normal", "lognormal"])
@pytest.mark.parametrize("rho,gamma,cv", GRID)
def test_scenario_means_average_to_the_forecast_mean(rho, gamma, cv, distribution):
    demand = _demand(cv, distribution=distribution)
    s = generate_scenarios(demand, SKUS, _settings(resolved_share=rho, category_share=gamma, scenarios=N))
    means = s.values("mean")
    for i, mu in enumerate(demand["mean"]):
        error = means[:, i].std(ddof=1) / math.sqrt(N)
        assert abs(means[:, i].mean() - mu) <= 3 * error + 1e-12 * mu, (i, means[:, i].mean(), mu, error)


@pytest.mark.parametrize("distribution", ["normal", "lognormal"])
@pytest.mark.parametrize("rho,gamma,cv", GRID)
def test_within_and_across_scenario_variance_add_up_to_the_forecast_variance(rho, gamma, cv, distribution):
    """``E[σ_r²·h²] + Var(μ·h) = σ²``, estimated per scenario by ``sd_k² + (mean_k − μ)²``."""
    demand = _demand(cv, distribution=distribution)
    s = generate_scenarios(demand, SKUS, _settings(resolved_share=rho, category_share=gamma, scenarios=N))
    means, sds = s.values("mean"), s.values("sd")
    for i, (mu, sigma) in enumerate(zip(demand["mean"], demand["sd"])):
        if mu == 0:
            continue
        total = sds[:, i] ** 2 + (means[:, i] - mu) ** 2
        error = total.std(ddof=1) / math.sqrt(N)
        assert abs(total.mean() - sigma**2) <= 4 * error + 1e-9 * sigma**2, (i, total.mean(), sigma**2, error)


@pytest.mark.parametrize("rho,gamma,cv", [g for g in GRID if g[0] > 0])
def test_demand_drawn_through_the_scenarios_is_the_forecast(rho, gamma, cv):
    """One demand drawn in each scenario: a normal row's draws have the forecast's mean
    and sd, a lognormal row's are demand.csv's lognormal (Kolmogorov–Smirnov)."""
    rng = np.random.default_rng(7)
    normal = _demand(cv)
    s = generate_scenarios(normal, SKUS, _settings(resolved_share=rho, category_share=gamma, scenarios=N))
    draws = rng.normal(s.values("mean")[:, 0], s.values("sd")[:, 0])
    mu, sigma = normal["mean"].iloc[0], normal["sd"].iloc[0]
    assert abs(draws.mean() - mu) <= 4 * sigma / math.sqrt(N)
    assert abs(draws.var(ddof=1) / sigma**2 - 1) <= 4 * math.sqrt(2 / N) * (1 + 2 * cv)

    lognormal = _demand(cv, distribution="lognormal")
    s = generate_scenarios(lognormal, SKUS, _settings(resolved_share=rho, category_share=gamma, scenarios=N))
    mean_k, sd_k = s.values("mean")[:, 0], s.values("sd")[:, 0]
    with np.errstate(divide="ignore"):
        log_var = np.log1p((sd_k / mean_k) ** 2)
    draws = np.exp(rng.normal(np.log(mean_k) - log_var / 2, np.sqrt(log_var)))
    log_var_0 = math.log1p(cv * cv)
    forecast = stats.lognorm(s=math.sqrt(log_var_0), scale=mu * math.exp(-log_var_0 / 2))
    assert stats.kstest(draws, forecast.cdf).pvalue > 1e-3


def test_scenario_sd_is_the_formula_of_spec_8():
    """``σ_r² = max(0, σ² − μ²·((1 + cv²)^ρ − 1)) / (1 + cv²)^ρ``, from ρ = 0 (σ_r = σ) to
    ρ = 1 (σ_r = 0, where the bracket is zero up to rounding and the max clips it)."""
    for cv in (0.05, 0.3, 1.0, 2.5):
        demand = _demand(cv)
        mu, sigma = demand["mean"].to_numpy(), demand["sd"].to_numpy()
        live = mu > 0
        for rho in (0.0, 0.1, 0.5, 0.9, 1.0):
            s = generate_scenarios(demand, SKUS, _settings(resolved_share=rho, scenarios=3))
            grow = (1 + cv * cv) ** rho
            expected = np.maximum(0.0, sigma[live] ** 2 - mu[live] ** 2 * (grow - 1)) / grow
            sd_r = s.values("sd")[:, live] / _heats(s, demand)
            # Squares: the formula's bracket cancels to rounding error at ρ = 1.
            np.testing.assert_allclose(sd_r**2, np.broadcast_to(expected, sd_r.shape), rtol=1e-9,
                                       atol=1e-12 * mu.max() ** 2)
            if rho == 1.0:
                assert (sd_r == 0).all()


def test_nothing_resolved_every_scenario_is_demand_csv():
    for distribution in ("normal", "lognormal", "negative_binomial"):
        demand = _demand(0.7, distribution=distribution)
        s = generate_scenarios(demand, SKUS, _settings(resolved_share=0.0, scenarios=50))
        assert (s.values("mean") == demand["mean"].to_numpy()).all()
        assert (s.values("sd") == demand["sd"].to_numpy()).all()
        assert (s.values("distribution") == distribution).all()


def test_everything_resolved_demand_is_known_at_the_recourse_date():
    demand = _demand(0.6)
    s = generate_scenarios(demand, SKUS, _settings(resolved_share=1.0, scenarios=N))
    live = demand["mean"].to_numpy() > 0
    assert (s.values("sd")[:, live] == 0).all()
    spread = s.values("mean")[:, live].std(ddof=1, axis=0)
    np.testing.assert_allclose(spread, demand["sd"].to_numpy()[live], rtol=0.06)


def test_a_pair_without_demand_keeps_its_row():
    demand = _demand(0.5)
    s = generate_scenarios(demand, SKUS, _settings(resolved_share=0.8, scenarios=20))
    assert (s.values("mean")[:, 5] == 0).all() and (s.values("sd")[:, 5] == 7.0).all()


def test_a_poisson_row_moves_its_mean_and_keeps_its_shape():
    demand = pd.DataFrame({"sku": ["A", "B"], "warehouse": ["W1", "W1"], "mean": [4.0, 9.0], "sd": [0.0, 2.0],
                           "distribution": ["poisson", "negative_binomial"]})  # B: sd² ≤ mean, a Poisson
    s = generate_scenarios(demand, SKUS, _settings(resolved_share=0.6, category_share=0.0, scenarios=N))
    assert (s.values("distribution") == "poisson").all()
    means = s.values("mean")
    np.testing.assert_array_equal(s.values("sd"), np.sqrt(means))
    for i, mu in enumerate(demand["mean"]):
        # The heat's spread is the Poisson's own cv² = 1/μ, resolved in the share ρ.
        assert means[:, i].std() == pytest.approx(mu * math.sqrt((1 + 1 / mu) ** 0.6 - 1), rel=0.05)
        assert abs(means[:, i].mean() - mu) <= 3 * means[:, i].std(ddof=1) / math.sqrt(N)


def test_generated_scenarios_are_equally_likely_and_in_pair_order():
    demand = _demand(0.5)
    s = generate_scenarios(demand, SKUS, _settings(scenarios=12))
    assert s.ids == tuple(f"s{k:02d}" for k in range(1, 13)) and len(s) == 12
    assert s.probabilities.tolist() == [1 / 12] * 12 and not s.probabilities.flags.writeable
    assert list(s.demand.columns) == ["scenario", "sku", "warehouse", "mean", "sd", "distribution"]
    assert (s.values("scenario") == np.array(s.ids)[:, None]).all()
    assert (s.values("sku") == demand["sku"].to_numpy()).all()
    assert (s.values("warehouse") == demand["warehouse"].to_numpy()).all()


# ------------------------------------------------------------ generated: the signal


def test_one_sku_shares_its_heat_across_its_warehouses():
    demand = _demand(0.5)
    s = generate_scenarios(demand, SKUS, _settings(category_share=0.3, scenarios=100))
    heats = _heats(s, demand)
    np.testing.assert_allclose(heats[:, 0], heats[:, 1], rtol=1e-12)  # A at W1 and W2


def test_a_category_shares_its_signal_as_category_share_says():
    demand = _demand(0.5)
    live = demand["mean"].to_numpy() > 0
    a, b, c, d = 0, 2, 3, 4  # live pairs of A (toys), B (toys), C (home), D (no category)

    s = generate_scenarios(demand, SKUS, _settings(category_share=1.0, scenarios=N))
    np.testing.assert_allclose(_heats(s, demand)[:, a], _heats(s, demand)[:, b], rtol=1e-12)  # same cv
    z = _signals(s, demand, 0.5)
    np.testing.assert_allclose(z[:, a], z[:, b], atol=1e-9)
    for other in (c, d):  # another category, no category: independent
        assert abs(np.corrcoef(z[:, a], z[:, other])[0, 1]) < 4 / math.sqrt(N)

    s = generate_scenarios(demand, SKUS, _settings(category_share=0.0, scenarios=N))
    z = _signals(s, demand, 0.5)
    assert abs(np.corrcoef(z[:, a], z[:, b])[0, 1]) < 4 / math.sqrt(N)

    s = generate_scenarios(demand, SKUS, _settings(category_share=0.5, scenarios=N))
    z = _signals(s, demand, 0.5)
    assert np.corrcoef(z[:, a], z[:, b])[0, 1] == pytest.approx(0.5, abs=4 / math.sqrt(N))
    assert z.std(axis=0) == pytest.approx(np.ones(live.sum()), abs=0.03)


def test_same_seed_same_scenarios_another_seed_others():
    demand = _demand(0.5)
    first = generate_scenarios(demand, SKUS, _settings(seed=11, scenarios=30))
    again = generate_scenarios(demand, SKUS, _settings(seed=11, scenarios=30))
    other = generate_scenarios(demand, SKUS, _settings(seed=12, scenarios=30))
    pd.testing.assert_frame_equal(first.demand, again.demand)
    assert not np.allclose(first.values("mean"), other.values("mean"))


def test_the_draw_order_is_the_documented_one():
    """One ``default_rng(seed).standard_normal((n, C + S))``: categories then SKUs, each
    sorted; so more scenarios extend fewer, and the files' row order changes nothing."""
    demand = _demand(0.5)
    rho, gamma, n = 0.5, 0.3, 40
    s = generate_scenarios(demand, SKUS, _settings(resolved_share=rho, category_share=gamma, scenarios=n, seed=5))
    draws = np.random.default_rng(5).standard_normal((n, 2 + 5))  # home, toys | A, B, C, D, E
    expected = {0: math.sqrt(gamma) * draws[:, 1] + math.sqrt(1 - gamma) * draws[:, 2],   # A: toys
                3: math.sqrt(gamma) * draws[:, 0] + math.sqrt(1 - gamma) * draws[:, 4],   # C: home
                4: draws[:, 5]}                                                         # D: its own
    z = _signals(s, demand, rho)
    for pair, column in ((0, 0), (3, 3), (4, 4)):
        np.testing.assert_allclose(z[:, column], expected[pair], atol=1e-9)

    more = generate_scenarios(demand, SKUS, _settings(resolved_share=rho, category_share=gamma, scenarios=3 * n, seed=5))
    np.testing.assert_allclose(more.values("mean")[:n], s.values("mean"), rtol=1e-12)

    shuffled = generate_scenarios(demand.iloc[::-1].reset_index(drop=True), SKUS.iloc[::-1],
                                  _settings(resolved_share=rho, category_share=gamma, scenarios=n, seed=5))
    np.testing.assert_allclose(shuffled.values("mean")[:, ::-1], s.values("mean"), rtol=1e-12)


def test_demand_of_a_sku_not_in_skus_is_refused():
    demand = pd.DataFrame({"sku": ["Z"], "warehouse": ["W1"], "mean": [10.0], "sd": [3.0]})
    with pytest.raises(ValueError, match="not in skus"):
        generate_scenarios(demand, SKUS, _settings())


def test_skus_without_a_category_column_are_each_their_own_group():
    demand = _demand(0.5)
    s = generate_scenarios(demand, SKUS[["sku"]], _settings(category_share=1.0, scenarios=N))
    z = _signals(s, demand, 0.5)
    assert abs(np.corrcoef(z[:, 0], z[:, 2])[0, 1]) < 4 / math.sqrt(N)


# ------------------------------------------------------------ [recourse]


def test_recourse_settings_defaults_and_limits():
    s = _settings()
    assert (s.modes, s.resolved_share, s.category_share, s.scenarios, s.seed, s.presale_conversion) == \
        (None, 0.5, 0.5, 200, 1, 0.3)
    with pytest.raises(Exception, match="frozen"):
        s.seed = 2
    settings, problems = recourse_settings({"date": R, "resolved_share": 1.5, "scenarios": SCENARIOS_MAX + 1,
                                            "seed": True, "modes": [], "category_shar": 0.2})
    assert settings is None
    found = {p.column: p.message for p in problems}
    assert found["recourse.resolved_share"] == "must be ≤ 1, got 1.5"
    assert found["recourse.scenarios"] == "must be ≤ 100,000 (a sanity cap), got 100001"
    assert "recourse.seed" in found and "recourse.modes" in found
    assert found["recourse.category_shar"] == "unknown key: did you mean 'category_share'?"
    assert all(p.file == "campaign.toml" for p in problems)
    assert str(problems[0]).startswith("campaign.toml, key 'recourse.")
    _, problems = recourse_settings({"modes": ["air"]})
    assert [(p.column, p.message) for p in problems] == [("recourse.date", "required key is missing")]


def test_recourse_date_and_modes_against_the_campaign():
    planning, start = D(2026, 9, 1), D(2026, 11, 27)
    assert _settings(modes=["air"]).check(planning, start, ["sea", "air"]) == []
    for day in (planning, start, D(2026, 12, 5)):
        (problem,) = RecourseSettings(date=day).check(planning, start, ["sea", "air"])
        assert (problem.file, problem.column) == ("campaign.toml", "recourse.date")
        assert f"got {day}" in problem.message and "2026-09-01" in problem.message
    (problem,) = _settings(modes=["air", "rail"]).check(planning, start, ["sea", "air"])
    assert (problem.column, problem.message) == ("recourse.modes", "no lane has mode 'rail' (modes: air, sea)")


# ------------------------------------------------------------ scenarios.csv

DEMAND = pd.DataFrame({"sku": ["A", "B"], "warehouse": ["W1", "W1"], "mean": [100.0, 40.0], "sd": [30.0, 10.0],
                       "distribution": ["normal", "poisson"]})
HEADER = "scenario,probability,sku,warehouse,mean,sd\n"


def _read(tmp_path, body: str, demand: pd.DataFrame = DEMAND):
    path = tmp_path / "scenarios.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return read_scenarios(path, demand)


def test_a_valid_file_gives_its_scenarios_in_demand_order(tmp_path):
    s, warnings = _read(tmp_path, "007,0.25,B,W1,30,5\n007,0.25,A,W1,160,10\n"
                                  "low,0.75,A,W1,80,20\nlow,0.75,B,W1,43.33333333,9\n")
    assert warnings == []
    assert s.ids == ("007", "low") and s.probabilities.tolist() == [0.25, 0.75]
    assert s.demand.to_dict("list") == {
        "scenario": ["007", "007", "low", "low"], "sku": ["A", "B", "A", "B"], "warehouse": ["W1"] * 4,
        "mean": [160.0, 30.0, 80.0, 43.33333333], "sd": [10.0, 5.0, 20.0, 9.0],
        "distribution": ["normal", "poisson", "normal", "poisson"]}


def test_no_file_is_no_scenarios(tmp_path):
    assert read_scenarios(tmp_path / "scenarios.csv", DEMAND) == (None, [])


def test_a_missing_pair_names_the_scenario_sku_and_warehouse(tmp_path):
    s, problems = _read(tmp_path, "hot,0.5,A,W1,150,0\nhot,0.5,B,W1,40,0\ncold,0.5,A,W1,50,0\n")
    assert s is None
    (p,) = problems
    assert (p.file, p.row, p.column) == ("scenarios.csv", None, "sku, warehouse")
    assert p.message.startswith("scenario 'cold' has no row for sku 'B', warehouse 'W1'")
    _, problems = _read(tmp_path, "hot,0.5,A,W1,150,0\ncold,0.5,A,W1,50,0\n")
    assert [p.message.split(":")[0] for p in problems] == ["sku 'B', warehouse 'W1' of demand.csv is in no scenario"]


def test_probabilities_must_sum_to_one(tmp_path):
    s, problems = _read(tmp_path, "hot,0.5,A,W1,150,0\nhot,0.5,B,W1,40,0\ncold,0.4,A,W1,50,0\ncold,0.4,B,W1,40,0\n")
    assert s is None
    (p,) = problems
    assert (p.file, p.column) == ("scenarios.csv", "probability")
    assert p.message == "the scenarios' probabilities sum to 0.9, not 1: 'hot' 0.5 (line 2), 'cold' 0.4 (line 4)"
    s, _ = _read(tmp_path, "a,0.3333333,A,W1,100,0\na,0.3333333,B,W1,40,0\nb,0.6666667,A,W1,100,0\n"
                           "b,0.6666667,B,W1,40,0\n")
    assert s is not None  # within 1e-6


def test_one_probability_per_scenario(tmp_path):
    _, problems = _read(tmp_path, "hot,0.5,A,W1,150,0\nhot,0.6,B,W1,40,0\ncold,0.5,A,W1,50,0\ncold,0.5,B,W1,40,0\n")
    (p,) = problems
    assert (p.file, p.row, p.column) == ("scenarios.csv", 3, "probability")
    assert "scenario 'hot' has probability 0.5 on line 2, here 0.6" in p.message


def test_a_pair_twice_in_a_scenario(tmp_path):
    _, problems = _read(tmp_path, "hot,1,A,W1,150,0\nhot,1,B,W1,40,0\nhot,1,A,W1,120,0\n")
    (p,) = problems
    assert (p.file, p.row, p.column) == ("scenarios.csv", 4, "scenario, sku, warehouse")
    assert p.message == "duplicate scenario 'hot', sku 'A', warehouse 'W1': already on line 2"


def test_bad_cells_name_their_line_and_column(tmp_path):
    _, problems = _read(tmp_path, "hot,1,A,W1,-5,0\nhot,1,B,W1,40,x\n,1,B,W1,40,1\nhot,0,A,W1,1,1\n")
    where = {(p.row, p.column) for p in problems}
    assert {(2, "mean"), (3, "sd"), (4, "scenario"), (5, "probability")} <= where
    negative = next(p for p in problems if (p.row, p.column) == (2, "mean"))
    assert str(negative) == "scenarios.csv, line 2, column 'mean': must be a number >= 0, got '-5'"


def test_a_pair_demand_csv_does_not_have(tmp_path):
    _, problems = _read(tmp_path, "hot,1,A,W1,150,0\nhot,1,B,W1,40,0\nhot,1,A,W9,3,0\n")
    (p,) = problems
    assert (p.file, p.row, p.column) == ("scenarios.csv", 4, "sku, warehouse")
    assert p.message.startswith("sku 'A', warehouse 'W9' has no row in demand.csv")


def test_a_missing_column_and_an_empty_file(tmp_path):
    path = tmp_path / "scenarios.csv"
    path.write_text("scenario,sku,warehouse,mean,sd\nhot,A,W1,1,1\n", encoding="utf-8")
    s, problems = read_scenarios(path, DEMAND)
    assert s is None and [(p.row, p.column, p.message) for p in problems] == \
        [(None, "probability", "required column is missing")]
    s, problems = _read(tmp_path, "")
    assert s is None and [p.message for p in problems] == ["has no data rows"]


def test_a_weighted_mean_off_the_forecast_is_a_warning(tmp_path):
    s, warnings = _read(tmp_path, "hot,0.5,A,W1,150,0\nhot,0.5,B,W1,40.3,0\ncold,0.5,A,W1,53,0\n"
                                  "cold,0.5,B,W1,40.3,0\n")
    assert s is not None  # B is 0.75 % off: no warning
    (w,) = warnings
    assert (w.file, w.column) == ("scenarios.csv", "mean")
    assert w.message.startswith("sku 'A', warehouse 'W1' (first on line 2): the scenarios' probability-weighted "
                                "mean is 101.5, demand.csv's mean 100 (+1.5 %)")


def test_many_problems_are_counted_not_listed(tmp_path):
    demand = pd.DataFrame({"sku": [f"S{i}" for i in range(30)], "warehouse": "W1", "mean": 1.0, "sd": 0.0})
    _, problems = _read(tmp_path, "a,0.5,S0,W1,1,0\nb,0.5,S0,W1,1,0\n", demand)
    assert len(problems) == 21 and problems[-1].message == "... and 9 more rows like these"


# ------------------------------------------------------------ the shared cases

V3_CASES = [c for c in case_folders(SHARED_CONFORMANCE_V3) if (c / "scenarios.csv").exists()]


@pytest.mark.skipif(not V3_CASES, reason=f"no conformance-v3 cases with scenarios.csv at {SHARED_CONFORMANCE_V3}")
@pytest.mark.parametrize("case", V3_CASES, ids=[c.name for c in V3_CASES])
def test_conformance_cases_scenarios_read_as_written(case):
    table = checks.TABLE["demand.csv"]
    demand, problems = read_checked_csv(case / "demand.csv", "demand.csv", table.columns, table.key)
    assert problems == []
    s, warnings = read_scenarios(case / "scenarios.csv", demand.reset_index(drop=True))
    assert warnings == []
    rows = pd.read_csv(case / "scenarios.csv", dtype={"scenario": str, "sku": str, "warehouse": str})
    assert s.ids == tuple(pd.unique(rows["scenario"]))
    assert s.probabilities.tolist() == rows.drop_duplicates("scenario")["probability"].tolist()
    assert math.isclose(s.probabilities.sum(), 1.0)
    for k, scenario in enumerate(s.ids):
        mine = rows[rows["scenario"] == scenario].set_index(["sku", "warehouse"])
        for (sku, warehouse), mean, sd in zip(zip(s.values("sku")[k], s.values("warehouse")[k]),
                                              s.values("mean")[k], s.values("sd")[k]):
            assert (mean, sd) == (mine.loc[(sku, warehouse), "mean"], mine.loc[(sku, warehouse), "sd"])

    config = tomllib.loads((case / "campaign.toml").read_text(encoding="utf-8"))
    settings, problems = recourse_settings(config["recourse"])
    assert problems == []
    lanes, _ = read_checked_csv(case / "lanes.csv", "lanes.csv", checks.TABLE["lanes.csv"].columns, ("warehouse", "mode"))
    assert settings.check(config["planning_date"], config["promo_start"], lanes["mode"]) == []
