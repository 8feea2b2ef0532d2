"""The lift of a SKU with no past promo, read from its price band within its category."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.forecast.lifts import promo_lifts


def _catalogue(slope: float, n: int = 40, seed: int = 3):
    """``n`` SKUs of one category with two past Black Fridays each, whose lift is
    3 × (price / median) ** slope with SKU noise, and one new SKU at a fifth of the
    median price with no past promo."""
    rng = np.random.default_rng(seed)
    price = np.exp(rng.uniform(np.log(5), np.log(80), n))
    band = price / np.median(price)
    skus = pd.DataFrame({"sku": [f"S{i}" for i in range(n)] + ["NEW"], "category": "c",
                         "price": [*price, float(np.median(price)) / 5]})
    rows = []
    for i in range(n):
        lift = 3.0 * band[i] ** slope * np.exp(rng.normal(0, 0.15))
        for year in (2024, 2025):
            pre = 400.0
            rows.append({"sku": f"S{i}", "category": "c", "pre": pre, "act": rng.poisson(pre * lift),
                         "promo": f"Black Friday {year}", "kind": "Black Friday"})
    return pd.DataFrame(rows), skus


def test_a_new_sku_cheaper_than_its_category_gets_a_bigger_lift_where_price_tells():
    occ, skus = _catalogue(slope=-0.4)
    out, _ = promo_lifts(occ, "Black Friday", skus)
    new = out.loc["NEW"]
    assert "price band" in new["lift_source"]
    truth = 3.0 * 0.2 ** -0.4 * np.exp(0.15 ** 2 / 2)
    assert abs(np.log(new["lift"] / truth)) < 0.15
    assert new["lift"] > 1.5 * new["lift_category"]


def test_where_price_says_nothing_a_new_sku_takes_its_category_lift():
    occ, skus = _catalogue(slope=0.0)
    out, _ = promo_lifts(occ, "Black Friday", skus)
    new = out.loc["NEW"]
    assert new["lift_source"].endswith("category lift")
    assert np.isclose(new["lift"], new["lift_category"])
