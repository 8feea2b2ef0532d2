"""The launch curve: each launched SKU's own ramp-up, read against the catalogue's
spread of ramps, and the baseline of a listing still ramping up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.forecast.baseline import baseline
from optimizer.forecast.launch import launch_days, ramp
from optimizer.forecast.panel import Panel


def test_ramp_is_one_without_a_launch_curve_and_zero_before_the_launch():
    assert ramp(np.array([0.0, 10.0, 400.0]), 0.0).tolist() == [1.0, 1.0, 1.0]
    r = ramp(np.array([-5.0, 30.0, 3000.0]), 30.0)
    assert r[0] == 0.0 and r[1] == pytest.approx(1 - np.exp(-1)) and r[2] == pytest.approx(1.0)
    both = ramp(np.array([[30.0], [30.0]]), np.array([[0.0], [30.0]]))
    assert both[:, 0] == pytest.approx([1.0, 1 - np.exp(-1)])


def _launches(ks: dict[str, float], weeks: int = 30, level: float = 40.0, seed: int = 0):
    """Weekly rates of SKUs launched in week 0 (two series each) ramping up with their
    own time constant; ages are the week mid-points."""
    rng = np.random.default_rng(seed)
    age = np.tile(7.0 * np.arange(weeks) + 3.5, (2 * len(ks), 1))
    skus = np.repeat(list(ks), 2)
    k = np.repeat(list(ks.values()), 2)
    z = rng.poisson(level * ramp(age, k[:, None])).astype(float)
    return z, age, skus


def test_each_launched_sku_gets_its_own_ramp():
    ks = {**{f"SLOW{i}": 90.0 for i in range(6)}, **{f"FAST{i}": 10.0 for i in range(6)}}
    z, age, skus = _launches(ks)
    k = launch_days(z, age, np.ones(len(z), bool), skus)
    assert np.all((k[np.char.startswith(skus, "SLOW")] >= 75) & (k[np.char.startswith(skus, "SLOW")] <= 120))
    assert np.all(k[np.char.startswith(skus, "FAST")] <= 15)
    assert np.all(k[0::2] == k[1::2])                        # one ramp per SKU


def test_listings_that_do_not_ramp_get_no_curve_and_mature_series_none_at_all():
    z, age, skus = _launches({f"S{i}": 0.0 for i in range(10)})
    k = launch_days(z, age, np.ones(len(z), bool), skus)
    assert np.all(ramp(np.array([35.0]), k) >= 0.99)         # at most a first-days' dip
    assert np.all(launch_days(z, age, np.zeros(len(z), bool), skus) == 0.0)


def _panel(launch_day: int, k: float, T: int = 700, mature: int = 12, seed: int = 1) -> Panel:
    """Daily history: ``mature`` SKUs selling 20 a day from the first day, and six
    launched on days ``launch_day − 250, −200, …, launch_day`` ramping up with ``k``."""
    rng = np.random.default_rng(seed)
    rows, keys = [], []
    for i in range(mature):
        rows.append(rng.poisson(20.0, T).astype(float))
        keys.append((f"OLD{i}", "W1"))
    for j, day in enumerate(range(launch_day - 250, launch_day + 1, 50)):
        y = np.full(T, np.nan)
        y[day:] = rng.poisson(20.0 * ramp(np.arange(T - day) + 1.0, k)).astype(float)
        rows.append(y)
        keys.append((f"NEW{j}", "W1"))
    key_frame = pd.DataFrame(keys, columns=["sku", "location"]).assign(level="warehouse", category="C")
    y = np.array(rows)
    return Panel(key_frame, pd.Timestamp("2025-01-01"), y, np.zeros(y.shape, bool),
                 np.zeros(y.shape, bool), np.zeros(y.shape, bool))


@pytest.mark.slow   # a baseline fit of 18 daily series (statsforecast)
def test_a_listing_still_ramping_is_forecast_at_its_level_times_its_ramp_at_the_promo():
    T, k = 700, 60.0
    panel = _panel(launch_day=T - 42, k=k, T=T)
    target = panel.start + pd.Timedelta(days=T + 90)
    out = baseline(panel, target)
    youngest = out.index[-1]                               # six weeks old at the data's end
    age_at_pre = np.arange(T + 90 - 28, T + 90) - (T - 42) + 1.0
    truth = 20.0 * ramp(age_at_pre, k).mean()
    assert out.at[youngest, "launch_days"] > 0
    assert out.at[youngest, "baseline_rate"] == pytest.approx(truth, rel=0.2)
    # the last weeks sold well under that: a forecast at the latest level would be far too low
    assert np.nanmean(panel.y[youngest, -28:]) < 0.7 * truth
    assert np.all(out.loc[out.index[:12], "launch_ramp"] == 1.0)   # mature series: no ramp
