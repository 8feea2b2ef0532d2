"""Seeded daily sales history for an existing campaign folder (the forecast's sample input).

    >>> from samples.history import generate_history
    >>> generate_history("data/sample_history", seed=7)   # doctest: +SKIP
    >>> generate_history("/tmp/bf", seed=3, export="no_flag")   # doctest: +SKIP

Writes ``sales_history.csv`` and ``factors.csv`` into the folder and appends
``[[past_promos]]`` and ``[forecast]`` to its ``campaign.toml``.  The folder's
``demand.csv`` is the *truth*: each pair's expected demand in the campaign's own
promo window (×the campaign factors written to factors.csv) equals its ``mean``,
so a forecast from the history should roughly recover demand.csv.
:func:`generate_history` also returns that truth with one simulated outcome of the
campaign's promo per pair (:class:`PromoTruth`), to score a forecast against.

The picture: daily expected demand of (sku, warehouse) is
``base × trend(t) × yearly(category, t) × weekday(t) × lift(promo, sku) × viral(sku, t)``
with ``units ~ Poisson(expected × Gamma(8, 1/8))`` (over-dispersed);

* past promos: Prime Day and Black Friday (Fri–Tue, the same shape as the 2026
  campaign) of every year in the history, lifts per category × a SKU-specific
  factor (× a mean-one lognormal factor per occurrence in the harder exports);
* SKU trends (≈ +10 %/year ± 15 %), yearly seasonality per category, a weekday profile;
* stockout spells (units 0);
* new SKUs launched in the last year (short history, maybe no past Black Friday; in
  the harder exports their sales ramp up over their first weeks), and two SKUs with
  no history at all;
* ``price`` (list price, the promo price on promo days) and a ``promo`` flag.

Three exports (:data:`EXPORTS`, the ``export`` argument):

* ``flagged`` — from 2024-05-01; stockout spells of 3–25 days on about a third of the
  pairs, written with ``stockout = 1`` (censored); ≈ 8 % new SKUs launched in 2026.
* ``no_flag`` — what a Seller Central or ERP export looks like: three years of
  history, 0–2 stockout spells of 3–10 days on every series recorded as plain zero
  sales with **no** stockout column, a sixth of the SKUs new within the last year,
  and a promo lift that varies from one occurrence to the next.
* ``viral`` — ``no_flag`` plus TikTok-like viral spikes: a third of the SKUs are
  "viral-prone" and go viral about once a year (2–6 days at ×4–×40 of their normal
  rate, across their warehouses), also during a promo.

The forecast benchmark's generator families (:data:`FAMILIES`) are ``no_flag`` with one
property of a real catalogue each: SKU-level growth, SKU-level seasons, launches over
the whole history, recent launches still ramping up (``ramps``: a third of the SKUs
launched in the last eleven months, each reaching 1 − e⁻¹ of its level after its own
10–90 days), a promo lift that falls with the SKU's price against its category's
(``lift_price``: × (price / median) ** −0.4, with as many recent launches as ``ramps``),
stockouts in and just before past promos, viral spikes, slow movers,
list-price steps (per series: each marketplace listing has its own price); and
``catalogue`` with all of them at once.
"""

from __future__ import annotations

import math
import pathlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.io.campaign import load_campaign
from samples.campaign import write_demand

HISTORY_START = "2024-05-01"
PAST_PROMOS = (
    ("Prime Day 2024", "2024-07-16", "2024-07-17"),
    ("Black Friday 2024", "2024-11-29", "2024-12-03"),
    ("Prime Day 2025", "2025-07-08", "2025-07-11"),
    ("Black Friday 2025", "2025-11-28", "2025-12-02"),
    ("Prime Day 2026", "2026-07-14", "2026-07-17"),
)
#: Promos before HISTORY_START, used by exports that start earlier.
EARLIER_PROMOS = (
    ("Prime Day 2023", "2023-07-11", "2023-07-12"),
    ("Black Friday 2023", "2023-11-24", "2023-11-28"),
)
# category: (Black Friday lift, Prime Day lift, yearly amplitude, peak day of year)
CATEGORY_SHAPE = {
    "electronics": (4.5, 3.0, 0.25, 350), "home": (3.0, 2.2, 0.15, 330),
    "pets": (2.4, 2.0, 0.08, 200), "outdoor": (2.2, 2.4, 0.35, 170),
    "beauty": (3.5, 2.6, 0.15, 345),
}
WEEKDAY = np.array([0.95, 0.93, 0.95, 0.98, 1.05, 1.12, 1.02])  # Mon..Sun
DISPERSION = 8.0


@dataclass(frozen=True)
class Export:
    """How a generated sales export looks (see the module docstring)."""

    start: str = HISTORY_START
    stockout_flag: bool = True          # write the stockout column (else zeros only)
    stockout_share: float = 0.35        # share of series with stockout spells
    spells: tuple[int, int] = (1, 4)    # spells per such series: integers(lo, hi)
    spell_days: tuple[int, int] = (3, 26)  # spell length: integers(lo, hi)
    new_share: float = 0.08             # share of SKUs launched late
    new_launch: tuple[str, int] = ("2026-01-15", 150)  # first launch day, spread (days)
    occurrence_sigma: float = 0.0       # log-sd of a promo lift from one occurrence to the next
    viral: bool = False                 # TikTok-like viral spikes
    ramp_days: float | tuple[float, float] = 0.0  # a new SKU's sales reach 1 − e⁻¹ of their level after this
                                        # many days (a pair: each SKU its own, ~ uniform(lo, hi))
    growth: tuple[float, float] | None = None  # SKU log growth a year ~ uniform(lo, hi); None: N(0.10, 0.15)
    peak_shift_days: float = 0.0        # sd of a SKU's seasonal peak around its category's (days)
    amplitude: tuple[float, float] | None = None  # a SKU's seasonal amplitude ~ uniform(lo, hi); None: its category's
    promo_stockouts: float = 0.0        # chance a past promo, or the 28 days before it, has a spell on a series
    slow_share: float = 0.0             # share of SKUs that are slow movers (promo mean 1-12 units a pair)
    price_steps: int = 0                # list-price changes per series (each listing its own price): ±10-30 %, elasticity −1.5
    lift_price_slope: float = 0.0       # a SKU's promo lifts × (its price / its category's median price) ** slope


#: ``viral`` spikes: share of viral-prone SKUs, spikes a year, days, multiplier range.
VIRAL_SHARE, VIRAL_PER_YEAR, VIRAL_DAYS, VIRAL_PEAK = 1 / 3, 1.0, (2, 7), (4.0, 40.0)

EXPORTS = {
    "flagged": Export(),
    "no_flag": Export(start="2023-08-20", stockout_flag=False, stockout_share=1.0, spells=(0, 3),
                      spell_days=(3, 11), new_share=1 / 6, new_launch=("2025-08-20", 300),
                      occurrence_sigma=0.15, ramp_days=30.0),
}
EXPORTS["viral"] = Export(**{**EXPORTS["no_flag"].__dict__, "viral": True})


def _like(base: str, **changes) -> Export:
    return Export(**{**EXPORTS[base].__dict__, **changes})


#: Generator families of the forecast benchmark: ``no_flag`` with one property a
#: seller's catalogue has and the plain export does not, and ``catalogue`` with all of
#: them at once (from January 2024: two past Black Fridays, three Prime Days).
FAMILIES = {
    "sku_trend": _like("no_flag", growth=(math.log(0.65), math.log(1.65))),
    "sku_season": _like("no_flag", peak_shift_days=60.0, amplitude=(0.0, 0.5)),
    "launches": _like("no_flag", new_share=0.3, new_launch=("2024-03-01", 780)),
    "stockouts": _like("no_flag", promo_stockouts=0.3),
    "viral": EXPORTS["viral"],
    "slow": _like("no_flag", slow_share=0.5),
    "price": _like("no_flag", price_steps=2),
    "lift_price": _like("no_flag", lift_price_slope=-0.4, new_share=0.3, new_launch=("2025-10-01", 290)),
    "ramps": _like("no_flag", new_share=0.3, new_launch=("2025-10-01", 290), ramp_days=(10.0, 90.0)),
}
FAMILIES["catalogue"] = _like(
    "no_flag", start="2024-01-01", growth=(math.log(0.65), math.log(1.65)), peak_shift_days=60.0,
    amplitude=(0.0, 0.5), new_share=0.25, new_launch=("2024-03-01", 780), promo_stockouts=0.2,
    slow_share=0.2, price_steps=1)
ELASTICITY = -1.5


@dataclass
class PromoTruth:
    """Per (sku, warehouse) of the history: the expected demand of the campaign's promo
    (``expected``, demand.csv's mean), one simulated outcome of it (``outcome``), and
    whether the SKU is new (launched within the year before the planning date), how
    many of its history's days were out of stock, and its expected daily demand in the
    28 days before the promo (``pre_rate``, the forecast's baseline rate)."""

    table: pd.DataFrame   # sku, warehouse, expected, outcome, new, stockout_days, pre_rate
    folder: pathlib.Path


def _kind(name: str) -> str:
    return name.rsplit(" ", 1)[0]


def _viral_multiplier(rng, n_days: int) -> np.ndarray:
    """Daily multiplier of one viral-prone SKU: spikes starting at a daily hazard, each
    ``VIRAL_DAYS`` long, peaking at a log-uniform multiple and halving day by day."""
    out = np.ones(n_days)
    starts = np.flatnonzero(rng.random(n_days) < VIRAL_PER_YEAR / 365.25)
    for s in starts:
        days = int(rng.integers(*VIRAL_DAYS))
        peak = float(np.exp(rng.uniform(*np.log(VIRAL_PEAK))))
        shape = 1 + (peak - 1) * 0.5 ** np.arange(days)
        out[s:s + days] *= shape[:max(0, min(days, n_days - s))]
    return out


def _viral_mean_multiplier() -> float:
    """E[viral multiplier] on a day of a viral-prone SKU (hazard × Σ mean excess)."""
    lo, hi = np.log(VIRAL_PEAK)
    mean_peak = (VIRAL_PEAK[1] - VIRAL_PEAK[0]) / (hi - lo)   # mean of a log-uniform
    days = np.arange(*VIRAL_DAYS)
    excess = np.mean([(mean_peak - 1) * (0.5 ** np.arange(d)).sum() for d in days])
    return 1 + VIRAL_PER_YEAR / 365.25 * excess


def generate_history(folder, seed: int = 7, export: str | Export = "flagged") -> PromoTruth:
    """Write the sales history of ``folder``'s campaign; return the promo's truth."""
    shape = {**EXPORTS, **FAMILIES}[export] if isinstance(export, str) else export
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
    first_launch, spread = pd.Timestamp(shape.new_launch[0]), shape.new_launch[1]
    new = {sku_names[i]: first_launch + pd.Timedelta(days=int(rng.integers(0, spread)))
           for i in order[2:2 + max(1, round(shape.new_share * n_sku))]}
    viral_prone = ({s for s in sku_names if rng.random() < VIRAL_SHARE} if shape.viral else set())
    # the catalogue's own traits draw from their own stream: the plain exports stay as they were
    traits = np.random.default_rng([seed, 2])
    if shape.growth:
        trend = dict(zip(sku_names, traits.uniform(*shape.growth, n_sku)))
    peak_shift = dict(zip(sku_names, traits.normal(0, shape.peak_shift_days, n_sku)))
    amplitude = (dict(zip(sku_names, traits.uniform(*shape.amplitude, n_sku))) if shape.amplitude else {})
    slow = {s for s in sku_names if traits.random() < shape.slow_share}
    ramp_days = (dict(zip(sku_names, traits.uniform(*shape.ramp_days, n_sku)))
                 if isinstance(shape.ramp_days, tuple) else dict.fromkeys(sku_names, shape.ramp_days))

    end = pd.Timestamp(c.config.planning_date) - pd.Timedelta(days=1)
    days = pd.date_range(shape.start, end, freq="D")
    t_years = ((days - pd.Timestamp("2026-11-27")).days / 365.25).to_numpy()
    doy = days.day_of_year.to_numpy()
    wday = WEEKDAY[days.day_of_week.to_numpy()]
    promos = tuple(p for p in EARLIER_PROMOS + PAST_PROMOS if pd.Timestamp(p[1]) >= days[0])
    windows = [(n, pd.Timestamp(s), pd.Timestamp(e)) for n, s, e in promos]
    target = pd.date_range(pd.Timestamp(c.config.promo_start), pd.Timestamp(c.config.promo_end))
    t_tgt = ((target - pd.Timestamp("2026-11-27")).days / 365.25).to_numpy()
    run_up = pd.date_range(target[0] - pd.Timedelta(days=28), target[0] - pd.Timedelta(days=1))
    t_run_up = ((run_up - pd.Timestamp("2026-11-27")).days / 365.25).to_numpy()
    viral_mean = _viral_mean_multiplier()

    def yearly(cat, sku, d):
        amp, peak = CATEGORY_SHAPE.get(cat, (3, 2, 0.1, 300))[2:]
        amp = amplitude.get(sku, amp)
        return np.exp(amp * np.cos(2 * np.pi * (d - peak - peak_shift[sku]) / 365.25))

    def price_level(n_days: int) -> np.ndarray:
        """List price over the history relative to today's: ``price_steps`` steps of ±10-30 %."""
        level = np.ones(n_days)
        for at in np.sort(traits.integers(0, n_days, shape.price_steps)):
            level[:at] *= float(np.exp(traits.choice((-1, 1)) * traits.uniform(np.log(1.1), np.log(1.3))))
        return level

    if shape.lift_price_slope:   # cheaper than its category's usual: a bigger promo response
        price = skus["price"].astype(float)
        band = price / price.groupby(skus.get("category", pd.Series("all", index=skus.index))).transform("median")
        sku_lift = {s: v * float(band[s]) ** shape.lift_price_slope for s, v in sku_lift.items()}

    def lift(cat, sku, kind):
        bf, pdl = CATEGORY_SHAPE.get(cat, (3.0, 2.0, 0.1, 300))[:2]
        return bf * sku_lift[sku] if kind == "Black Friday" else pdl * sku_lift[sku] ** 0.7 * pd_noise[sku]

    def occurrence(gen):   # a mean-one lognormal factor of one promo occurrence's lift
        sigma = shape.occurrence_sigma
        return float(np.exp(gen.normal(-sigma * sigma / 2, sigma))) if sigma else 1.0

    target_offset = (target[0] - days[0]).days
    viral_days = {s: _viral_multiplier(rng, target_offset + len(target)) for s in sorted(viral_prone)}
    outcome_rng = np.random.default_rng([seed, 1])   # the truth's draws leave the history's alone
    frames, truth = [], []
    planning = pd.Timestamp(c.config.planning_date)
    demand = c.demand.copy()
    if slow:   # a slow mover sells 1-12 units a pair in the promo (the truth, so demand.csv too)
        is_slow = demand["sku"].isin(slow).to_numpy()
        slow_mean = traits.uniform(1.0, 12.0, int(is_slow.sum()))
        demand.loc[is_slow, "sd"] = demand.loc[is_slow, "sd"].astype(float) * slow_mean / demand.loc[is_slow, "mean"].astype(float)
        demand.loc[is_slow, "mean"] = slow_mean
        write_demand(folder, demand)
    for row in demand.itertuples(index=False):
        sku, wh, mean = row.sku, row.warehouse, float(row.mean)
        if sku in no_history:
            continue
        cat = skus.at[sku, "category"] if "category" in skus else "all"
        factor = growth.get(cat, 1.0) * comp.get(cat, 1.0) * ad.get(sku, 1.0)
        vm = viral_mean if sku in viral_prone else 1.0
        shape_tgt = (np.exp(trend[sku] * t_tgt) * yearly(cat, sku, target.day_of_year.to_numpy())
                     * WEEKDAY[target.day_of_week.to_numpy()] * lift(cat, sku, "Black Friday"))
        launch = new.get(sku)
        if launch is not None and ramp_days[sku]:
            ramp = 1 - np.exp(-np.maximum((days - launch).days.to_numpy() + 1, 0) / ramp_days[sku])
            shape_tgt = shape_tgt * (1 - np.exp(-((target - launch).days.to_numpy() + 1) / ramp_days[sku]))
            ramp_run_up = 1 - np.exp(-((run_up - launch).days.to_numpy() + 1) / ramp_days[sku])
        else:
            ramp, ramp_run_up = 1.0, 1.0
        base = mean / factor / vm / shape_tgt.sum()
        pre_rate = float(np.mean(base * vm * np.exp(trend[sku] * t_run_up)
                                 * yearly(cat, sku, run_up.day_of_year.to_numpy())
                                 * WEEKDAY[run_up.day_of_week.to_numpy()] * ramp_run_up))
        lam = base * np.exp(trend[sku] * t_years) * yearly(cat, sku, doy) * wday * ramp
        promo = np.zeros(len(days), bool)
        for name, s, e in windows:
            m = (days >= s) & (days <= e)
            lam = np.where(m, lam * lift(cat, sku, _kind(name)) * occurrence(rng), lam)
            promo |= m
        if sku in viral_prone:
            lam = lam * viral_days[sku][:len(days)]
        level = price_level(len(days)) if shape.price_steps else np.ones(len(days))
        lam = lam * level ** ELASTICITY
        units = rng.poisson(lam * rng.gamma(DISPERSION, 1 / DISPERSION, len(days))).astype(float)
        stockout = np.zeros(len(days), bool)
        if rng.random() < shape.stockout_share:
            for _ in range(int(rng.integers(*shape.spells))):
                s = int(rng.integers(0, len(days)))
                stockout[s:s + int(rng.integers(*shape.spell_days))] = True
        for _, s, e in (windows if shape.promo_stockouts else ()):
            if traits.random() < shape.promo_stockouts:
                a = max(0, (s - days[0]).days - 28 + int(traits.integers(0, 28 + (e - s).days + 1)))
                stockout[a:a + int(traits.integers(3, 11))] = True
        units[stockout] = 0
        keep = days >= new.get(sku, days[0])
        list_price = float(skus.at[sku, "price"]) / 0.8
        frame = pd.DataFrame({
            "date": days[keep].strftime("%Y-%m-%d"), "sku": sku, "warehouse": wh,
            "units": units[keep].astype(np.int64),
            "price": (np.where(promo, float(skus.at[sku, "price"]), list_price) * level)[keep].round(2),
            "promo": promo[keep].astype(int)})
        if shape.stockout_flag:
            frame["stockout"] = stockout[keep].astype(int)
        frames.append(frame)
        # one outcome of the campaign's promo (the truth's mean is demand.csv's)
        lam_t = shape_tgt * base * factor * occurrence(outcome_rng)
        if sku in viral_prone:
            lam_t = lam_t * viral_days[sku][target_offset:]
        outcome = outcome_rng.poisson(lam_t * outcome_rng.gamma(DISPERSION, 1 / DISPERSION, len(target))).sum()
        is_new = sku in new and new[sku] > planning - pd.Timedelta(days=365)
        truth.append((sku, wh, mean, float(outcome), is_new, int(stockout[keep].sum()), pre_rate))
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
        for name, s, e in promos:
            extra += ["[[past_promos]]", f'name = "{name}"', f"start = {s}", f"end = {e}", ""]
        (folder / "campaign.toml").write_text(toml.rstrip("\n") + "\n" + "\n".join(extra),
                                              encoding="utf-8", newline="\n")
    table = pd.DataFrame(truth, columns=["sku", "warehouse", "expected", "outcome", "new",
                                         "stockout_days", "pre_rate"])
    return PromoTruth(table, folder)


__all__ = ["generate_history", "EXPORTS", "FAMILIES", "Export", "PromoTruth", "PAST_PROMOS"]
