"""Seeded daily sales history for an existing campaign folder (the forecast's sample input).

    >>> from samples.history import generate_history
    >>> generate_history("data/sample_history", seed=7)   # doctest: +SKIP

Writes ``sales_history.csv`` and ``factors.csv`` into the folder and appends
``[[past_promos]]`` and ``[forecast]`` to its ``campaign.toml``.  The folder's
``demand.csv`` is the *truth*: each pair's expected demand in the campaign's own
promo window (×the campaign factors written to factors.csv) equals its ``mean``,
so a forecast from the history should roughly recover demand.csv.

The picture: daily expected demand of (sku, warehouse) is
``base × trend(t) × yearly(category, t) × weekday(t) × lift(promo, sku)`` with
``units ~ Poisson(expected × Gamma(8, 1/8))`` (over-dispersed);

* history from 2024-05-01 to the day before ``planning_date``;
* past promos: Prime Day 2024/2025/2026 and Black Friday 2024/2025 (Fri–Tue, the
  same shape as the 2026 campaign), lifts per category × a SKU-specific factor;
* SKU trends (≈ +10 %/year ± 15 %), yearly seasonality per category, a weekday profile;
* stockout spells on about a third of the pairs (units 0, ``stockout = 1``: censored);
* new SKUs (≈ 8 %) launched in 2026 (short history, no past Black Friday), and
  two SKUs with no history at all;
* ``price`` (list price, the promo price on promo days) and a ``promo`` flag.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd

from optimizer.io.campaign import load_campaign

HISTORY_START = "2024-05-01"
PAST_PROMOS = (
    ("Prime Day 2024", "2024-07-16", "2024-07-17"),
    ("Black Friday 2024", "2024-11-29", "2024-12-03"),
    ("Prime Day 2025", "2025-07-08", "2025-07-11"),
    ("Black Friday 2025", "2025-11-28", "2025-12-02"),
    ("Prime Day 2026", "2026-07-14", "2026-07-17"),
)
# category: (Black Friday lift, Prime Day lift, yearly amplitude, peak day of year)
CATEGORY_SHAPE = {
    "electronics": (4.5, 3.0, 0.25, 350), "home": (3.0, 2.2, 0.15, 330),
    "pets": (2.4, 2.0, 0.08, 200), "outdoor": (2.2, 2.4, 0.35, 170),
    "beauty": (3.5, 2.6, 0.15, 345),
}
WEEKDAY = np.array([0.95, 0.93, 0.95, 0.98, 1.05, 1.12, 1.02])  # Mon..Sun
DISPERSION = 8.0


def _kind(name: str) -> str:
    return name.rsplit(" ", 1)[0]


def generate_history(folder, seed: int = 7) -> pathlib.Path:
    folder = pathlib.Path(folder)
    c = load_campaign(folder)
    rng = np.random.default_rng(seed)
    skus = c.skus.set_index("sku")
    cats = sorted(skus["category"].unique()) if "category" in skus else ["all"]
    sku_names = list(skus.index)
    n_sku = len(sku_names)

    # campaign factors (the plan's own assumptions; not learnable from history)
    growth = {cat: round(float(rng.uniform(0.97, 1.10)), 2) for cat in cats}
    comp = {cat: 1.0 for cat in cats}
    comp[cats[int(rng.integers(len(cats)))]] = 0.92
    ad_skus = [s for s in sku_names if rng.random() < 0.10]
    ad = {s: round(float(rng.uniform(1.10, 1.30)), 2) for s in ad_skus}

    # SKU traits
    sku_lift = dict(zip(sku_names, np.exp(rng.normal(0, 0.30, n_sku))))
    pd_noise = dict(zip(sku_names, np.exp(rng.normal(0, 0.15, n_sku))))
    trend = dict(zip(sku_names, rng.normal(0.10, 0.15, n_sku)))
    order = rng.permutation(n_sku)
    no_history = {sku_names[i] for i in order[:2]}
    new = {sku_names[i]: pd.Timestamp("2026-01-15") + pd.Timedelta(days=int(rng.integers(0, 150)))
           for i in order[2:2 + max(1, round(0.08 * n_sku))]}

    end = pd.Timestamp(c.config.planning_date) - pd.Timedelta(days=1)
    days = pd.date_range(HISTORY_START, end, freq="D")
    t_years = ((days - pd.Timestamp("2026-11-27")).days / 365.25).to_numpy()
    doy = days.day_of_year.to_numpy()
    wday = WEEKDAY[days.day_of_week.to_numpy()]
    windows = [(n, pd.Timestamp(s), pd.Timestamp(e)) for n, s, e in PAST_PROMOS]
    target = pd.date_range(pd.Timestamp(c.config.promo_start), pd.Timestamp(c.config.promo_end))
    t_tgt = ((target - pd.Timestamp("2026-11-27")).days / 365.25).to_numpy()

    def yearly(cat, d):
        amp, peak = CATEGORY_SHAPE.get(cat, (3, 2, 0.1, 300))[2:]
        return np.exp(amp * np.cos(2 * np.pi * (d - peak) / 365.25))

    def lift(cat, sku, kind):
        bf, pdl = CATEGORY_SHAPE.get(cat, (3.0, 2.0, 0.1, 300))[:2]
        return bf * sku_lift[sku] if kind == "Black Friday" else pdl * sku_lift[sku] ** 0.7 * pd_noise[sku]

    frames = []
    for row in c.demand.itertuples(index=False):
        sku, wh, mean = row.sku, row.warehouse, float(row.mean)
        if sku in no_history:
            continue
        cat = skus.at[sku, "category"] if "category" in skus else "all"
        factor = growth.get(cat, 1.0) * comp.get(cat, 1.0) * ad.get(sku, 1.0)
        shape_tgt = (np.exp(trend[sku] * t_tgt) * yearly(cat, target.day_of_year.to_numpy())
                     * WEEKDAY[target.day_of_week.to_numpy()] * lift(cat, sku, "Black Friday"))
        base = mean / factor / shape_tgt.sum()
        lam = base * np.exp(trend[sku] * t_years) * yearly(cat, doy) * wday
        promo = np.zeros(len(days), bool)
        for name, s, e in windows:
            m = (days >= s) & (days <= e)
            lam = np.where(m, lam * lift(cat, sku, _kind(name)), lam)
            promo |= m
        units = rng.poisson(lam * rng.gamma(DISPERSION, 1 / DISPERSION, len(days))).astype(float)
        stockout = np.zeros(len(days), bool)
        if rng.random() < 0.35:
            for _ in range(int(rng.integers(1, 4))):
                s = int(rng.integers(0, len(days)))
                stockout[s:s + int(rng.integers(3, 26))] = True
        units[stockout] = 0
        keep = days >= new.get(sku, days[0])
        list_price = float(skus.at[sku, "price"]) / 0.8
        frames.append(pd.DataFrame({
            "date": days[keep].strftime("%Y-%m-%d"), "sku": sku, "warehouse": wh,
            "units": units[keep].astype(np.int64),
            "price": np.where(promo, float(skus.at[sku, "price"]), list_price)[keep].round(2),
            "promo": promo[keep].astype(int), "stockout": stockout[keep].astype(int),
        }))
    sales = pd.concat(frames, ignore_index=True)
    sales["price"] = sales["price"].map(lambda v: f"{v:.2f}")
    sales.to_csv(folder / "sales_history.csv", index=False, lineterminator="\n")

    rows = [("category", cat, f"{growth[cat]:.2f}", "", f"{comp[cat]:.2f}") for cat in cats]
    rows += [("sku", s, "", f"{ad[s]:.2f}", "") for s in ad_skus]
    pd.DataFrame(rows, columns=["scope", "key", "growth", "ad_uplift", "competition"]).to_csv(
        folder / "factors.csv", index=False, lineterminator="\n")

    toml = (folder / "campaign.toml").read_text(encoding="utf-8")
    if "[[past_promos]]" not in toml:
        extra = ["", "[forecast]", 'promo = "Black Friday"', ""]
        for name, s, e in PAST_PROMOS:
            extra += ["[[past_promos]]", f'name = "{name}"', f"start = {s}", f"end = {e}", ""]
        (folder / "campaign.toml").write_text(toml.rstrip("\n") + "\n" + "\n".join(extra),
                                              encoding="utf-8", newline="\n")
    return folder


__all__ = ["generate_history", "PAST_PROMOS"]
