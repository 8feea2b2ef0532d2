"""A SKU's own trend and season (the baseline's SKU-level index) and the lift of a
listing still ramping up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.forecast.baseline import RAMP_WEEKS, SKU_SEASON_WEEKS, _fourier, _sku_deviations, _years
from optimizer.forecast.history import PastPromo
from optimizer.forecast.lifts import occurrence_table
from optimizer.forecast.panel import Panel
from samples.history import FAMILIES


def _weekly(growth: dict[str, float], weeks: int = 130, rate: float = 200.0, seasons=None, seed=0):
    """Weekly rates of SKUs (three series each) growing at their own log rate a year,
    Poisson noise; ``seasons`` adds a SKU's own first-harmonic cosine amplitude."""
    rng = np.random.default_rng(seed)
    mids = pd.date_range("2024-01-04", periods=weeks, freq="7D")
    t = _years(mids, mids[0])
    doy = mids.day_of_year.to_numpy()
    rows, skus = [], []
    for sku, g in growth.items():
        amp = (seasons or {}).get(sku, 0.0)
        for _ in range(3):
            lam = rate * np.exp(g * t + amp * np.cos(2 * np.pi * doy / 365.25))
            rows.append(rng.poisson(lam).astype(float))
            skus.append(sku)
    return np.array(rows), mids, np.array(skus)


def test_a_growing_sku_gets_its_own_trend_and_flat_ones_keep_the_category():
    growth = {"GROW": 0.5, **{f"FLAT{i}": 0.0 for i in range(9)}}
    rate, mids, skus = _weekly(growth)
    dev = _sku_deviations(rate, np.ones_like(rate), mids, skus)
    grow = dev[skus == "GROW", 0]
    assert np.allclose(grow, grow[0])            # one trend per SKU, all its series
    assert 0.4 < grow[0] < 0.55                  # well measured: hardly shrunk
    assert np.all(np.abs(dev[skus != "GROW", 0]) < 0.05)


def test_a_sku_with_its_own_season_gets_it():
    growth = {f"S{i}": 0.0 for i in range(8)}
    rate, mids, skus = _weekly(growth, seasons={"S0": 0.4})
    dev = _sku_deviations(rate, np.ones_like(rate), mids, skus)
    # log index of S0 against the truth 0.4·cos(2π doy/365.25): the first cosine coefficient
    assert dev[skus == "S0", 1][0] == pytest.approx(0.4, abs=0.06)
    assert np.all(np.abs(dev[skus != "S0", 1]) < 0.05)
    assert _fourier(np.array([0]))[0, 0] == pytest.approx(1.0)


def test_under_a_year_of_history_keeps_the_category_index():
    rate, mids, skus = _weekly({"NEW": 0.8, "OLD": 0.0, "OLD2": 0.0}, weeks=130)
    rate[skus == "NEW", :130 - SKU_SEASON_WEEKS + RAMP_WEEKS] = np.nan   # launched late
    dev = _sku_deviations(rate, np.ones_like(rate), mids, skus)
    assert np.all(dev[skus == "NEW"] == 0.0)


def test_a_listing_ramping_up_before_a_promo_gives_no_lift_for_it():
    days = 400
    start = pd.Timestamp("2025-01-01")
    y = np.full((2, days), 10.0)
    launch = 250
    y[1, :launch] = np.nan                            # the second series starts on day 250
    y[1, launch:] = 10 * (1 - np.exp(-np.arange(days - launch) / 30))
    promo_day = launch + 40                           # its pre-promo window is in the ramp
    keys = pd.DataFrame({"sku": ["A", "B"], "location": ["W", "W"], "level": ["warehouse"] * 2,
                         "category": ["c", "c"]})
    promo = np.zeros((2, days), bool)
    promo[:, promo_day:promo_day + 3] = True
    y[:, promo_day:promo_day + 3] *= 3
    panel = Panel(keys, start, y, promo, np.zeros((2, days), bool), np.zeros((2, days), bool))
    when = (start + pd.Timedelta(days=promo_day)).date()
    occ = occurrence_table(panel, [PastPromo("Prime Day 2025", "prime day", when, when + pd.Timedelta(days=2))])
    assert list(occ["sku"]) == ["A"]


@pytest.mark.slow   # generated campaigns and three years of daily history each
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_benchmark_family_writes_a_history_the_forecast_reads(tmp_path, family):
    from optimizer.forecast.history import load_history
    from optimizer.io.campaign import load_campaign
    from samples.campaign import generate_campaign
    from samples.history import generate_history

    folder = generate_campaign(tmp_path / family, 12, seed=3)
    truth = generate_history(folder, seed=3, export=family).table
    hist = load_history(load_campaign(folder))
    demand = pd.read_csv(folder / "demand.csv")
    merged = truth.merge(demand, on=["sku", "warehouse"])
    assert len(merged) == len(truth) > 0
    assert np.allclose(merged["expected"], merged["mean"], atol=0.051)   # demand.csv is the truth
    assert hist.sales["units"].ge(0).all()
