"""Seeded generator of realistic Black Friday campaigns (SPEC §1 folder format).

Used for the bundled sample (``data/sample``), the tiny hand-readable demo
(``data/tiny``), quick demos in notebooks and the benchmarks (300 … 50,000 SKUs).

    >>> from samples.campaign import generate_campaign
    >>> generate_campaign("/tmp/bf", n_skus=300, seed=2026)   # doctest: +SKIP

The same ``(n_skus, seed, name, budget_fraction, network)`` always produces
byte-identical files: a single ``numpy.random.Generator`` is consumed in a fixed
order and every number is formatted explicitly before it is written.

The picture the generator paints (the *realism assumptions*) — a cross-border
seller shipping from China to Amazon FBA in the US, UK and DE for Black Friday:

* Timeline: purchase orders go out on 2026-08-20; the promo runs 2026-11-27 …
  2026-12-01; FBA check-in cutoffs are 2026-11-01 … 2026-11-10 (a 3PL in New
  Jersey takes stock until mid-November).  Sea freight therefore works for most
  SKUs but not for those with long production times; air and courier always work.
* Catalogue: five categories (home, electronics, pets, outdoor, beauty), each with
  a list of typical products whose size and factory cost drive volume, weight and
  unit cost.  Duty and return rates are set by category.
* Demand: heavy-tailed — a few hero SKUs sell thousands of units, the long tail
  sells tens.  Each SKU is sold in 1-3 markets and within a market spread over
  one or more fulfilment centres (small SKUs go to fewer centres).
* Constraints that bind: the budget is a fraction (default 45 %) of what it would
  cost to cover every forecast mean by the cheapest lane; one FBA centre per
  network has a tight Q4 capacity limit; some suppliers have minimum order values
  or limited capacity; some air / express lanes have limited space.
* Scale: suppliers (~1 per 15 SKUs), warehouse and lane capacities all grow with
  ``n_skus`` so a 50,000-SKU campaign has the same shape as the 300-SKU sample.
  Everything is vectorised with numpy: the code has no loop over SKUs.
"""

from __future__ import annotations

import json
import math
import pathlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from samples.economics import add_seller_economics

__all__ = ["generate_campaign", "write_demand", "cheapest_unit_cost", "CATEGORIES", "WAREHOUSES", "TINY_WAREHOUSES"]

# --------------------------------------------------------------------------------------
# Campaign calendar
# --------------------------------------------------------------------------------------
PLANNING_DATE = np.datetime64("2026-08-20")
PROMO_START = "2026-11-27"
PROMO_END = "2026-12-01"
CURRENCY = "USD"
STOCKOUT_PENALTY = 2.0  # campaign default, per unit of unmet demand
SOLVER = {"mip_gap": 0.001, "time_limit_s": 60}

# --------------------------------------------------------------------------------------
# Catalogue: per category the share of the assortment, packaging density (kg per m3 of
# shipping carton), duty rate (US-style tariffs incl. Section 301 on electronics),
# return rate, production time range, and typical products
# (name, typical volume m3 per unit, typical factory unit cost USD).
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    code: str
    share: float
    density_kg_m3: float
    duty_choices: tuple[float, ...]
    return_rate: float
    production_days: tuple[int, int]
    supplier_word: str
    products: tuple[tuple[str, float, float], ...]


CATEGORIES: dict[str, Category] = {
    "home": Category(
        "HOM", 0.30, 200.0, (0.034, 0.04, 0.064, 0.10, 0.12), 0.05, (12, 35), "Homeware",
        (
            ("silicone baking mat", 0.0015, 3.2),
            ("bamboo drawer organizer", 0.006, 6.5),
            ("spice rack", 0.008, 7.5),
            ("under-sink organizer", 0.018, 11.0),
            ("vacuum storage bags", 0.004, 5.0),
            ("shower caddy", 0.007, 6.0),
            ("cutting board set", 0.005, 8.0),
            ("magnetic knife strip", 0.0015, 4.5),
            ("throw blanket", 0.012, 9.5),
            ("cushion covers", 0.002, 3.5),
            ("LED candles", 0.004, 6.0),
            ("airtight food containers", 0.015, 12.0),
            ("dish drying rack", 0.020, 10.5),
            ("laundry hamper", 0.030, 9.0),
            ("reusable produce bags", 0.001, 2.5),
        ),
    ),
    "electronics": Category(
        "ELE", 0.20, 280.0, (0.0, 0.075, 0.20, 0.25, 0.25), 0.08, (15, 45), "Electronics",
        (
            ("USB-C charging cable", 0.0006, 1.8),
            ("wireless charging pad", 0.0008, 5.5),
            ("Bluetooth earbuds", 0.0007, 11.0),
            ("power bank 10000mAh", 0.0008, 8.5),
            ("phone stand", 0.0010, 3.0),
            ("smart plug", 0.0009, 4.5),
            ("LED strip light 5m", 0.0015, 6.0),
            ("1080p webcam", 0.0015, 12.0),
            ("mechanical keyboard", 0.006, 24.0),
            ("wireless mouse", 0.0012, 5.5),
            ("car phone mount", 0.0012, 3.8),
            ("HDMI cable 2m", 0.0008, 2.0),
            ("7-port USB hub", 0.0012, 9.0),
            ("portable speaker", 0.003, 15.0),
            ("10in ring light", 0.009, 13.0),
        ),
    ),
    "pets": Category(
        "PET", 0.15, 220.0, (0.0, 0.024, 0.04, 0.05, 0.07), 0.04, (10, 30), "Pet Products",
        (
            ("dog chew toy", 0.0015, 2.2),
            ("cat scratching post", 0.025, 14.0),
            ("pet grooming glove", 0.0006, 1.9),
            ("slow feeder bowl", 0.003, 3.2),
            ("dog poop bags", 0.0012, 2.0),
            ("cat litter mat", 0.004, 5.0),
            ("pet hair remover roller", 0.0015, 3.5),
            ("dog harness", 0.0015, 4.8),
            ("cat tunnel", 0.008, 6.5),
            ("LED dog collar", 0.0006, 2.6),
            ("pet water fountain", 0.006, 11.0),
            ("dog training pads", 0.012, 7.5),
            ("interactive cat toy", 0.0015, 4.0),
            ("bolster pet bed", 0.040, 16.0),
            ("dog treat pouch", 0.0008, 2.8),
        ),
    ),
    "outdoor": Category(
        "OUT", 0.15, 170.0, (0.02, 0.05, 0.07, 0.10, 0.15), 0.06, (14, 40), "Outdoor Gear",
        (
            ("camping lantern", 0.003, 6.5),
            ("hammock with straps", 0.004, 9.0),
            ("insulated water bottle 1L", 0.0035, 5.5),
            ("folding camp chair", 0.030, 14.0),
            ("hiking backpack 30L", 0.012, 13.0),
            ("picnic blanket", 0.006, 8.0),
            ("solar garden lights", 0.008, 9.5),
            ("tent footprint", 0.004, 7.0),
            ("trekking poles", 0.005, 10.0),
            ("cooler bag 20L", 0.010, 8.5),
            ("headlamp", 0.0008, 3.5),
            ("dry bag 10L", 0.0015, 3.8),
            ("garden kneeler", 0.015, 12.0),
            ("bird feeder", 0.005, 4.5),
            ("bike phone mount", 0.0009, 3.0),
        ),
    ),
    "beauty": Category(
        "BEA", 0.20, 320.0, (0.0, 0.0, 0.026, 0.04, 0.06), 0.03, (10, 28), "Beauty Tools",
        (
            ("jade face roller", 0.0006, 2.4),
            ("makeup brush set", 0.0012, 3.8),
            ("silicone face scrubber", 0.0005, 1.6),
            ("hair claw clips", 0.0008, 1.8),
            ("satin pillowcase", 0.0015, 3.2),
            ("nail art kit", 0.0015, 4.5),
            ("heatless curling rod", 0.0012, 2.2),
            ("eyelash curler", 0.0005, 1.7),
            ("makeup organizer", 0.008, 7.5),
            ("facial steamer", 0.004, 11.0),
            ("microfiber hair towel", 0.0018, 2.3),
            ("scalp massager", 0.0006, 1.6),
            ("travel toiletry bottles", 0.0010, 2.4),
            ("LED vanity mirror", 0.006, 13.0),
            ("gua sha stone", 0.0005, 2.0),
        ),
    ),
}
CATEGORY_NAMES = tuple(CATEGORIES)

DESCRIPTORS = ("Premium", "Compact", "Heavy-duty", "Deluxe", "Eco", "Classic", "Pro",
               "Everyday", "Nordic", "Travel")
# pack suffix, volume multiplier, cost multiplier (weights favour single units)
PACKS = (("", 1.0, 1.0), ("", 1.0, 1.0), ("", 1.0, 1.0), (" 2-pack", 1.8, 1.8),
         (" 3-pack", 2.5, 2.5), (" set of 4", 3.2, 3.2), (" 6-pack", 4.5, 4.2),
         (" XL", 1.6, 1.5))
CASE_PACKS = np.array([1, 4, 6, 10, 12, 20, 24, 36, 48])
MOQ_CHOICES = np.array([100, 150, 200, 300, 500, 800, 1000, 1500])
CITIES = ("Shenzhen", "Ningbo", "Yiwu", "Guangzhou", "Dongguan", "Xiamen", "Hangzhou",
          "Suzhou", "Foshan", "Qingdao")
BRANDS = ("Bright", "Everway", "Sunrise", "Greenleaf", "Harbor", "Jade", "Golden",
          "Oriental", "Pacific", "Lotus", "Silverline", "Kingstar")

# Sales split between markets and the probability that a SKU is listed in 1/2/3 of them.
MARKET_WEIGHT = {"US": 0.60, "UK": 0.18, "DE": 0.22}
N_MARKETS_P = (0.40, 0.35, 0.25)

# --------------------------------------------------------------------------------------
# Network: warehouses and the lanes (modes) that serve them.
# cutoff_days: range of the check-in cutoff as day of November 2026.
# demand_weight: share of the market's demand the centre usually gets.
# capacity_ratio: free inbound space as a multiple of the volume of mean demand at the
#   centre.  Most centres have room; LGB8 has a tight Amazon Q4 capacity limit (about
#   0.4x its demand volume, so it binds even under the budget); the 3PL is roomy.
# zone: drives sea transit times and container prices.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Warehouse:
    code: str
    market: str
    kind: str
    zone: str
    cutoff_days: tuple[int, int]
    demand_weight: float
    capacity_ratio: tuple[float, float]
    modes: tuple[str, ...]


WAREHOUSES: tuple[Warehouse, ...] = (
    Warehouse("ONT8", "US", "FBA", "us_west", (2, 4), 0.35, (1.20, 1.60),
              ("sea_fcl", "sea_lcl", "express_sea", "air", "courier")),
    Warehouse("LGB8", "US", "FBA", "us_west", (1, 3), 0.25, (0.30, 0.45),
              ("sea_fcl", "sea_lcl", "express_sea", "air")),
    Warehouse("BFI4", "US", "FBA", "us_west", (3, 6), 0.25, (1.20, 1.80),
              ("sea_fcl", "sea_lcl", "air", "courier")),
    Warehouse("US-3PL-NJ", "US", "3PL", "us_east", (12, 15), 0.15, (4.00, 6.00),
              ("sea_fcl", "sea_lcl", "air")),
    Warehouse("LTN1", "UK", "FBA", "uk", (4, 7), 0.60, (1.10, 1.50),
              ("sea_fcl", "sea_lcl", "air", "courier")),
    Warehouse("BHX4", "UK", "FBA", "uk", (3, 6), 0.40, (0.80, 1.10),
              ("sea_lcl", "air", "courier")),
    Warehouse("DTM1", "DE", "FBA", "eu", (4, 8), 0.55, (1.10, 1.50),
              ("sea_fcl", "sea_lcl", "rail", "air", "courier")),
    Warehouse("FRA3", "DE", "FBA", "eu", (6, 10), 0.45, (0.90, 1.20),
              ("sea_lcl", "rail", "air")),
)
TINY_WAREHOUSES: tuple[Warehouse, ...] = (
    Warehouse("ONT8", "US", "FBA", "us_west", (2, 4), 1.0, (0.75, 1.05), ("sea_lcl", "air")),
    Warehouse("DTM1", "DE", "FBA", "eu", (4, 8), 1.0, (0.80, 1.20), ("sea_lcl", "rail", "air")),
)

# Sea transit is longer to the US east coast and Europe than to the US west coast.
SEA_TRANSIT_OFFSET = {"us_west": 0, "us_east": 6, "uk": 5, "eu": 3}
FCL_PRICE = {"us_west": (3500, 4800), "us_east": (5200, 6500), "uk": (4500, 6000),
             "eu": (4000, 5500)}
CONTAINER_M3 = 60.0
LANE_COLUMNS = ("warehouse", "mode", "transit_days", "cost_per_kg", "cost_per_m3",
                "volumetric_kg_per_m3", "shipment_cost", "shipment_m3", "capacity_m3")


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------
def generate_campaign(
    out_dir,
    n_skus: int,
    seed: int = 0,
    name: str | None = None,
    budget_fraction: float = 0.45,
    *,
    network: str | None = None,
    economics: bool = False,
) -> pathlib.Path:
    """Write a complete campaign folder and return its path.

    Files: campaign.toml, skus.csv, suppliers.csv, warehouses.csv, lanes.csv,
    demand.csv, inventory.csv (SPEC §1).  Same arguments => byte-identical files.

    ``out_dir`` is the campaign folder itself (created if needed; the seven files in
    it are overwritten).  ``budget_fraction`` sets the budget as that share of the
    cost of covering every forecast mean by its cheapest on-time lane, rounded to
    1,000.  ``network`` is ``"full"`` (8 warehouses in US/UK/DE, 31 lanes) or
    ``"tiny"`` (ONT8 + DTM1, 5 lanes); by default campaigns under 20 SKUs use the
    tiny network.  ``economics=True`` adds the seller economics of SPEC §6
    (:mod:`samples.economics`: fees, fees.csv, storage, a bonded 3PL, deposits, CNY
    quotes, a monthly cash plan, weekly purchase orders) and leaves every other number
    as it was.
    """
    n_skus = int(n_skus)
    if n_skus < 1:
        raise ValueError("n_skus must be at least 1")
    if not budget_fraction > 0:
        raise ValueError("budget_fraction must be positive")
    if network is None:
        network = "tiny" if n_skus < 20 else "full"
    if network not in ("tiny", "full"):
        raise ValueError("network must be 'tiny' or 'full'")
    whs = TINY_WAREHOUSES if network == "tiny" else WAREHOUSES
    if name is None:
        name = f"Black Friday 2026 (synthetic, {n_skus} SKUs, seed {seed})"

    rng = np.random.default_rng(seed)
    buffer_days = int(rng.integers(5, 8))

    skus = _make_skus(rng, n_skus)
    warehouses = _make_warehouses(rng, whs)
    demand = _make_demand(rng, skus, whs)
    warehouses = _size_warehouses(rng, warehouses, whs, demand, skus)
    lanes = _make_lanes(rng, whs, demand, skus)
    suppliers = _make_suppliers(rng, skus, demand)
    _set_moq(rng, skus, demand)
    inventory = _make_inventory(rng, demand, skus)
    budget = _budget(skus, warehouses, lanes, demand, buffer_days, budget_fraction)

    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = {"skus.csv": _format_skus(skus), "suppliers.csv": _format_suppliers(suppliers),
              "warehouses.csv": _format_warehouses(warehouses)}
    extra = {}
    if economics:
        extra = add_seller_economics(seed, tables["skus.csv"], tables["suppliers.csv"],
                                     tables["warehouses.csv"], budget)
        _write_csv(out / "fees.csv", extra.pop("fees"))
    _write_toml(out / "campaign.toml", name, budget, buffer_days, **extra)
    for file, table in tables.items():
        _write_csv(out / file, table)
    _write_csv(out / "lanes.csv", _format_lanes(lanes))
    write_demand(out, demand)
    _write_csv(out / "inventory.csv", _format_inventory(inventory))
    return out


# --------------------------------------------------------------------------------------
# Tables (numeric, unformatted).  Each returns a DataFrame; formatting is separate.
# --------------------------------------------------------------------------------------
def _make_skus(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """SKU master data.

    * category by assortment share; product drawn from the category's list; a
      descriptor on 60 % of names; pack variants multiply volume and cost (bulky
      products, >= 0.008 m3, only come single, 2-pack or XL).
    * unit_cost = typical product cost x lognormal(0, 0.35), clipped to 1.5-60.
    * price = unit_cost x U(2.2, 4.0), ending in .99 (kept at most 4x unit cost).
    * volume = typical volume x lognormal(0, 0.35), clipped to 0.0005-0.05 m3;
      weight = volume x category carton density x lognormal(0, 0.2), 0.05-8 kg.
    * case_pack: the standard pack closest to a ~0.06 m3 carton.
    * production_days in the category range, 10 % of SKUs slow (35-45 days).
    * salvage 10-40 % of unit cost; duty and return rates by category.
    * demand_total (internal, not written): heavy-tailed promo demand of the SKU —
      ~3 % heroes at 3,000-14,000 units, the rest Pareto(x_min 30, alpha 1.2).
    """
    cat_names = np.array(CATEGORY_NAMES)
    shares = np.array([CATEGORIES[c].share for c in CATEGORY_NAMES])
    cat_idx = rng.choice(len(cat_names), size=n, p=shares / shares.sum())
    category = cat_names[cat_idx]

    # product per SKU (15 products per category: vectorised lookup)
    n_prod = len(CATEGORIES["home"].products)
    prod_idx = rng.integers(0, n_prod, size=n)
    prod_name = np.array([[p[0] for p in CATEGORIES[c].products] for c in CATEGORY_NAMES])
    prod_vol = np.array([[p[1] for p in CATEGORIES[c].products] for c in CATEGORY_NAMES])
    prod_cost = np.array([[p[2] for p in CATEGORIES[c].products] for c in CATEGORY_NAMES])
    pack_idx = rng.integers(0, len(PACKS), size=n)
    # bulky products are not sold in 3/4/6-packs: those draws become single units
    bulky = prod_vol[cat_idx, prod_idx] >= 0.008
    pack_idx = np.where(bulky & np.isin(pack_idx, (4, 5, 6)), 0, pack_idx)
    pack_suffix = np.array([p[0] for p in PACKS])[pack_idx]
    pack_vol = np.array([p[1] for p in PACKS])[pack_idx]
    pack_cost = np.array([p[2] for p in PACKS])[pack_idx]
    has_desc = rng.random(n) < 0.6
    desc = np.array(DESCRIPTORS)[rng.integers(0, len(DESCRIPTORS), size=n)]

    base = pd.Series(prod_name[cat_idx, prod_idx])
    plain = base.str[:1].str.upper() + base.str[1:]
    names = pd.Series(np.where(has_desc, pd.Series(desc) + " " + base, plain)) + pd.Series(pack_suffix)

    unit_cost = prod_cost[cat_idx, prod_idx] * pack_cost * rng.lognormal(0.0, 0.35, n)
    unit_cost = np.round(np.clip(unit_cost, 1.5, 60.0), 2)
    target = unit_cost * rng.uniform(2.2, 4.0, n)
    price = np.floor(target) + 0.99                       # charm pricing: x.99
    price = np.where(price > 4.0 * unit_cost, price - 1.0, price)

    volume = prod_vol[cat_idx, prod_idx] * pack_vol * rng.lognormal(0.0, 0.35, n)
    volume = np.round(np.clip(volume, 0.0005, 0.05), 5)
    density = np.array([CATEGORIES[c].density_kg_m3 for c in CATEGORY_NAMES])[cat_idx]
    weight = np.round(np.clip(volume * density * rng.lognormal(0.0, 0.2, n), 0.05, 8.0), 3)

    target = 0.06 / volume * rng.lognormal(0.0, 0.3, n)
    case_pack = CASE_PACKS[np.abs(np.log(target)[:, None] - np.log(CASE_PACKS)[None, :]).argmin(axis=1)]

    lo = np.array([CATEGORIES[c].production_days[0] for c in CATEGORY_NAMES])[cat_idx]
    hi = np.array([CATEGORIES[c].production_days[1] for c in CATEGORY_NAMES])[cat_idx]
    typical_hi = np.minimum(hi, 30)
    production = np.floor(lo + rng.random(n) * (typical_hi - lo + 1)).astype(np.int64)
    slow = rng.random(n) < 0.10
    production = np.where(slow, rng.integers(35, 46, n), production)

    duty_tab = np.array([CATEGORIES[c].duty_choices for c in CATEGORY_NAMES])
    duty = duty_tab[cat_idx, rng.integers(0, duty_tab.shape[1], n)]
    rr_base = np.array([CATEGORIES[c].return_rate for c in CATEGORY_NAMES])[cat_idx]
    return_rate = np.round(np.clip(rr_base * rng.lognormal(0.0, 0.25, n), 0.005, 0.25), 3)
    salvage = np.round(unit_cost * rng.uniform(0.10, 0.40, n), 2)

    # heavy-tailed SKU-level demand (split over markets / warehouses in _make_demand)
    n_heroes = max(1, int(round(0.03 * n))) if n >= 5 else 0
    hero = np.zeros(n, dtype=bool)
    hero[rng.choice(n, size=n_heroes, replace=False)] = True
    tail = np.minimum(30.0 * (1.0 + rng.pareto(1.2, n)), 3000.0)
    hero_total = np.exp(rng.uniform(np.log(3000.0), np.log(14000.0), n))
    demand_total = np.where(hero, hero_total, tail)
    penalty = np.where(hero, np.round(rng.uniform(3.0, 8.0, n), 1), np.nan)

    width = max(5, len(str(n)))
    codes = np.array([CATEGORIES[c].code for c in CATEGORY_NAMES])[cat_idx]
    sku = pd.Series(codes) + "-" + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(width)

    return pd.DataFrame({
        "sku": sku.to_numpy(), "supplier": "", "unit_cost": unit_cost, "price": price,
        "weight_kg": weight, "volume_m3": volume, "case_pack": case_pack.astype(np.int64),
        "moq": np.zeros(n, dtype=np.int64), "production_days": production,
        "duty_rate": duty, "salvage_value": salvage, "return_rate": return_rate,
        "category": category, "name": names.to_numpy(), "stockout_penalty": penalty,
        "hero": hero, "demand_total": demand_total,
    })


def _make_warehouses(rng: np.random.Generator, whs: tuple[Warehouse, ...]) -> pd.DataFrame:
    """Warehouse master: cutoff drawn in the centre's November window (capacity later)."""
    lo = np.array([w.cutoff_days[0] for w in whs])
    hi = np.array([w.cutoff_days[1] for w in whs])
    day = rng.integers(lo, hi + 1)
    cutoff = np.datetime64("2026-10-31") + day.astype("timedelta64[D]")
    return pd.DataFrame({
        "warehouse": [w.code for w in whs], "market": [w.market for w in whs],
        "capacity_m3": np.zeros(len(whs)), "cutoff": cutoff, "kind": [w.kind for w in whs],
    })


def _make_demand(rng: np.random.Generator, skus: pd.DataFrame,
                 whs: tuple[Warehouse, ...]) -> pd.DataFrame:
    """Promo demand per (SKU, warehouse).

    * Each SKU is listed in 1-3 markets (40/35/25 %; heroes in at least 2), chosen
      by market weight (US 60 %, UK 18 %, DE 22 %).
    * Market split: market weight x Gamma(2) noise.  Within a market, small SKUs
      go to few centres (< 80 units: 1 centre, < 400: 2, else all), chosen and split
      by the centre's usual share x Gamma(3) noise.
    * Pairs under 2.5 units are dropped; mean rounded to 0.1.
    * sd = cv x mean with cv = 0.8 - 0.1 log10(mean) +/- noise, clipped to 0.25-0.8
      (low-volume pairs are relatively noisier).
    """
    n = len(skus)
    markets = [m for m in MARKET_WEIGHT if any(w.market == m for w in whs)]
    mw = np.array([MARKET_WEIGHT[m] for m in markets])
    n_mk = len(markets)

    k = rng.choice(np.arange(1, 4), size=n, p=np.array(N_MARKETS_P))
    k = np.where(skus["hero"].to_numpy(), np.maximum(k, 2), k)
    k = np.minimum(k, n_mk)
    keys = np.log(mw)[None, :] + rng.gumbel(size=(n, n_mk))      # Gumbel top-k sampling
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    in_market = rank < k[:, None]
    mshare = mw[None, :] * rng.gamma(2.0, 1.0, size=(n, n_mk)) * in_market
    mshare /= mshare.sum(axis=1, keepdims=True)
    market_demand = skus["demand_total"].to_numpy()[:, None] * mshare

    mean = np.zeros((n, len(whs)))
    for j, m in enumerate(markets):
        cols = [i for i, w in enumerate(whs) if w.market == m]
        ww = np.array([whs[i].demand_weight for i in cols])
        noisy = ww[None, :] * rng.gamma(3.0, 1.0, size=(n, len(cols)))
        dm = market_demand[:, j]
        n_keep = np.where(dm < 80, 1, np.where(dm < 400, 2, len(cols)))
        n_keep = np.minimum(n_keep, len(cols))
        wrank = np.argsort(np.argsort(-noisy, axis=1), axis=1)
        noisy = noisy * (wrank < n_keep[:, None])
        mean[:, cols] = dm[:, None] * noisy / noisy.sum(axis=1, keepdims=True)

    # always keep each SKU's largest pair so every SKU has demand somewhere
    keep = (mean >= 2.5) | (np.arange(len(whs))[None, :] == mean.argmax(axis=1)[:, None])
    si, wi = np.nonzero(keep)                                  # row-major: sku-major order
    mu = np.maximum(np.round(mean[si, wi], 1), 1.0)
    cv = np.clip(0.8 - 0.1 * np.log10(mu) + rng.normal(0.0, 0.06, len(mu)), 0.25, 0.8)
    sd = np.maximum(np.round(cv * mu, 1), 0.1)
    return pd.DataFrame({
        "sku": skus["sku"].to_numpy()[si], "warehouse": np.array([w.code for w in whs])[wi],
        "mean": mu, "sd": sd, "s_idx": si, "w_idx": wi,
    })


def _demand_volume(demand: pd.DataFrame, skus: pd.DataFrame, n_wh: int) -> np.ndarray:
    """Volume (m3) of mean demand per warehouse index."""
    vol = demand["mean"].to_numpy() * skus["volume_m3"].to_numpy()[demand["s_idx"].to_numpy()]
    return np.bincount(demand["w_idx"].to_numpy(), weights=vol, minlength=n_wh)


def _size_warehouses(rng: np.random.Generator, warehouses: pd.DataFrame,
                     whs: tuple[Warehouse, ...], demand: pd.DataFrame,
                     skus: pd.DataFrame) -> pd.DataFrame:
    """capacity_m3 = demand volume x the centre's capacity ratio (so it scales with n),
    rounded up to 10 m3 (1 m3 for small centres)."""
    vol = _demand_volume(demand, skus, len(whs))
    lo = np.array([w.capacity_ratio[0] for w in whs])
    hi = np.array([w.capacity_ratio[1] for w in whs])
    cap = vol * rng.uniform(lo, hi)
    step = np.where(cap > 100, 10.0, 1.0)
    warehouses = warehouses.copy()
    warehouses["capacity_m3"] = np.maximum(np.ceil(cap / step) * step, 1.0)
    return warehouses


def _make_lanes(rng: np.random.Generator,
                whs: tuple[Warehouse, ...], demand: pd.DataFrame,
                skus: pd.DataFrame) -> pd.DataFrame:
    """Lanes (origin: South China ports / airports) per warehouse and mode.

    * sea_fcl: 60 m3 container at 3,500-6,500 USD by destination zone, 5-15 USD/m3
      handling, 30-40 days.
    * sea_lcl: 90-160 USD/m3, 150-400 USD fees per use, 35-45 days.
    * express_sea (US west coast, Matson-like): 250-350 USD/m3, 18-25 days, space
      limited to 15-30 % of the centre's demand volume.
    * rail (EU only): 180-240 USD/m3, 100-250 USD fees per use, 20-28 days.
    * air: 4.5-7 USD/kg, volumetric 167 kg/m3, 0-100 USD fees, 7-10 days; half of
      the air lanes have space for only 4-12 % of the centre's demand volume.
    * courier: 7-11 USD/kg, volumetric 200 kg/m3 (5,000 cm3/kg), 0-50 USD, 4-7 days.
    """
    vol = _demand_volume(demand, skus, len(whs))
    rows = []
    for i, w in enumerate(whs):
        off = SEA_TRANSIT_OFFSET[w.zone]
        for mode in w.modes:
            r = {c: math.nan for c in LANE_COLUMNS}
            r.update(warehouse=w.code, mode=mode, cost_per_kg=0.0, cost_per_m3=0.0,
                     volumetric_kg_per_m3=0, shipment_cost=0.0)
            if mode == "sea_fcl":
                r.update(transit_days=min(40, int(rng.integers(30, 35)) + off),
                         cost_per_m3=round(rng.uniform(5, 15), 2),
                         shipment_cost=float(round(rng.uniform(*FCL_PRICE[w.zone]) / 50) * 50),
                         shipment_m3=CONTAINER_M3)
            elif mode == "sea_lcl":
                r.update(transit_days=min(45, int(rng.integers(35, 40)) + off),
                         cost_per_m3=round(rng.uniform(90, 160), 2),
                         shipment_cost=float(round(rng.uniform(150, 400) / 25) * 25))
            elif mode == "express_sea":
                r.update(transit_days=int(rng.integers(18, 26)),
                         cost_per_m3=round(rng.uniform(250, 350), 2),
                         shipment_cost=float(rng.choice([0, 50, 75])),
                         capacity_m3=max(1.0, math.ceil(vol[i] * rng.uniform(0.15, 0.30))))
            elif mode == "rail":
                r.update(transit_days=int(rng.integers(20, 29)),
                         cost_per_m3=round(rng.uniform(180, 240), 2),
                         shipment_cost=float(round(rng.uniform(100, 250) / 25) * 25))
            elif mode == "air":
                limited = rng.random() < 0.5
                cap = max(1.0, math.ceil(vol[i] * rng.uniform(0.04, 0.12)))
                r.update(transit_days=int(rng.integers(7, 11)),
                         cost_per_kg=round(rng.uniform(4.5, 7.0), 2), volumetric_kg_per_m3=167,
                         shipment_cost=float(rng.choice([0, 50, 75, 100])),
                         capacity_m3=cap if limited else math.nan)
            elif mode == "courier":
                r.update(transit_days=int(rng.integers(4, 8)),
                         cost_per_kg=round(rng.uniform(7.0, 11.0), 2), volumetric_kg_per_m3=200,
                         shipment_cost=float(round(rng.uniform(0, 50) / 5) * 5))
            else:  # pragma: no cover - table is static
                raise ValueError(mode)
            rows.append(r)
    return pd.DataFrame(rows, columns=list(LANE_COLUMNS))


def _make_suppliers(rng: np.random.Generator, skus: pd.DataFrame,
                    demand: pd.DataFrame) -> pd.DataFrame:
    """Suppliers (~1 per 15 SKUs, at least 2) and the SKU -> supplier assignment.

    * Each supplier specialises in one category (every category gets one once there
      are 5+ suppliers); 90 % of a category's SKUs come from its specialists, the
      rest from any supplier.
    * 45 % of suppliers (at least one) have a minimum order value of 3,000-20,000 USD, capped at
      60 % of the value (at unit cost) of their SKUs' mean demand so it is reachable.
    * 15 % (at least one) have a capacity of 50-85 % of their SKUs' mean demand.
    Fills ``skus['supplier']`` in place.
    """
    n = len(skus)
    n_sup = max(2, int(round(n / 15)))
    shares = np.array([CATEGORIES[c].share for c in CATEGORY_NAMES])
    if n_sup >= len(CATEGORY_NAMES):
        alloc = np.ones(len(shares), dtype=np.int64)
        extra = (n_sup - len(shares)) * shares / shares.sum()
        alloc += np.floor(extra).astype(np.int64)
        rem = n_sup - alloc.sum()
        alloc[np.argsort(-(extra - np.floor(extra)), kind="stable")[:rem]] += 1
        sup_cat = np.repeat(np.arange(len(shares)), alloc)
    else:  # tiny: specialise in the categories that actually occur most
        counts = pd.Series(skus["category"]).value_counts()
        top = [CATEGORY_NAMES.index(c) for c in counts.index[:n_sup]]
        sup_cat = np.array((top * n_sup)[:n_sup])
    width = max(2, len(str(n_sup)))
    sup_ids = np.array([f"SUP{i:0{width}d}" for i in range(1, n_sup + 1)])

    cat_idx = pd.Categorical(skus["category"], categories=CATEGORY_NAMES).codes
    any_sup = rng.integers(0, n_sup, size=n)
    chosen = any_sup.copy()
    u = rng.random(n)
    for c in range(len(CATEGORY_NAMES)):
        specialists = np.flatnonzero(sup_cat == c)
        members = np.flatnonzero(cat_idx == c)
        if len(specialists) == 0 or len(members) == 0:
            continue
        pick = specialists[rng.integers(0, len(specialists), size=len(members))]
        chosen[members] = np.where(u[members] < 0.9, pick, any_sup[members])
    skus["supplier"] = sup_ids[chosen]

    # demand per supplier (units and value at unit cost)
    s_idx = demand["s_idx"].to_numpy()
    units = np.bincount(chosen[s_idx], weights=demand["mean"].to_numpy(), minlength=n_sup)
    value = np.bincount(chosen[s_idx],
                        weights=demand["mean"].to_numpy() * skus["unit_cost"].to_numpy()[s_idx],
                        minlength=n_sup)

    has_mov = np.zeros(n_sup, dtype=bool)
    has_mov[rng.choice(n_sup, size=max(1, int(round(0.45 * n_sup))), replace=False)] = True
    mov = np.round(rng.uniform(3000, 20000, n_sup) / 500) * 500
    mov_cap = np.floor(0.6 * value / 500) * 500
    mov = np.where(has_mov, np.minimum(mov, mov_cap), 0.0)
    mov = np.where(mov < 1000, 0.0, mov)

    has_cap = np.zeros(n_sup, dtype=bool)
    has_cap[rng.choice(n_sup, size=max(1, int(round(0.15 * n_sup))), replace=False)] = True
    cap = np.maximum(100.0, np.round(units * rng.uniform(0.5, 0.85, n_sup) / 100) * 100)
    cap = np.where(has_cap, cap, np.nan)

    city = np.array(CITIES)[rng.integers(0, len(CITIES), n_sup)]
    brand = np.array(BRANDS)[rng.integers(0, len(BRANDS), n_sup)]
    word = np.array([CATEGORIES[c].supplier_word for c in CATEGORY_NAMES])[sup_cat]
    names = pd.Series(city) + " " + pd.Series(brand) + " " + pd.Series(word) + " Co. Ltd"
    return pd.DataFrame({
        "supplier": sup_ids, "min_order_value": mov, "capacity_units": cap,
        "name": names.to_numpy(), "category": np.array(CATEGORY_NAMES)[sup_cat],
    })


def _set_moq(rng: np.random.Generator, skus: pd.DataFrame, demand: pd.DataFrame) -> None:
    """MOQ: 25 % of SKUs have none; the rest 100-1,500 units, capped near 80 % of the
    SKU's total mean demand (never below 100 — so small SKUs face a real MOQ
    decision), rounded up to a whole number of cases.  Sets ``skus['moq']`` in place."""
    n = len(skus)
    total = np.bincount(demand["s_idx"].to_numpy(), weights=demand["mean"].to_numpy(), minlength=n)
    raw = MOQ_CHOICES[rng.integers(0, len(MOQ_CHOICES), n)]
    cap = np.maximum(100, np.floor(0.8 * total / 50) * 50)
    moq = np.minimum(raw, cap)
    cp = skus["case_pack"].to_numpy()
    moq = np.ceil(moq / cp) * cp
    skus["moq"] = np.where(rng.random(n) < 0.25, 0, moq).astype(np.int64)


def _make_inventory(rng: np.random.Generator, demand: pd.DataFrame,
                    skus: pd.DataFrame) -> pd.DataFrame:
    """Existing stock for demand pairs.

    * ~40 % of pairs hold some on_hand: 3-35 % of the mean (at least 1 unit).
    * ~15 % have a shipment in transit: 10-50 % of the mean in whole cases, ETA
      20-95 days after planning, so some arrive after the warehouse cutoff (that
      stock does not count for the promo).
    """
    p = len(demand)
    mean = demand["mean"].to_numpy()
    cp = skus["case_pack"].to_numpy()[demand["s_idx"].to_numpy()]
    has_oh = rng.random(p) < 0.40
    on_hand = np.where(has_oh, np.maximum(1, np.round(mean * rng.uniform(0.03, 0.35, p))), 0)
    has_it = rng.random(p) < 0.15
    in_transit = np.where(has_it, np.maximum(1, np.ceil(mean * rng.uniform(0.1, 0.5, p) / cp)) * cp, 0)
    eta = PLANNING_DATE + rng.integers(20, 96, p).astype("timedelta64[D]")
    keep = (on_hand > 0) | (in_transit > 0)
    return pd.DataFrame({
        "sku": demand["sku"].to_numpy()[keep], "warehouse": demand["warehouse"].to_numpy()[keep],
        "on_hand": on_hand[keep].astype(np.int64), "in_transit": in_transit[keep].astype(np.int64),
        "in_transit_eta": eta[keep],
    })


def cheapest_unit_cost(skus: pd.DataFrame, warehouses: pd.DataFrame, lanes: pd.DataFrame,
                       demand: pd.DataFrame, buffer_days: int) -> np.ndarray:
    """Per demand row: cheapest landed unit cost over lanes at its warehouse that make
    the cutoff (SPEC §2 landed cost, plus the container cost spread per m3 for lanes
    with ``shipment_m3``).  ``inf`` when no lane is on time."""
    sk = skus.set_index("sku")
    s = demand["sku"].to_numpy()
    uc = sk["unit_cost"].reindex(s).to_numpy(float)
    duty = sk["duty_rate"].reindex(s).to_numpy(float)
    wt = sk["weight_kg"].reindex(s).to_numpy(float)
    vol = sk["volume_m3"].reindex(s).to_numpy(float)
    prod = sk["production_days"].reindex(s).to_numpy(float)
    cutoff = pd.to_datetime(warehouses.set_index("warehouse")["cutoff"])
    slack = ((cutoff - pd.Timestamp(str(PLANNING_DATE))).dt.days).reindex(demand["warehouse"]).to_numpy()
    best = np.full(len(demand), np.inf)
    wh = demand["warehouse"].to_numpy()
    for lane in lanes.itertuples(index=False):
        at = wh == lane.warehouse
        ok = at & (prod + lane.transit_days + buffer_days <= slack)
        freight = (lane.cost_per_kg * np.maximum(wt, vol * lane.volumetric_kg_per_m3)
                   + lane.cost_per_m3 * vol)
        if lane.shipment_m3 == lane.shipment_m3 and lane.shipment_m3 > 0:  # not NaN
            freight = freight + lane.shipment_cost / lane.shipment_m3 * vol
        cost = uc * (1 + duty) + freight
        best = np.where(ok, np.minimum(best, cost), best)
    return best


def _budget(skus, warehouses, lanes, demand, buffer_days, fraction) -> float:
    """budget = fraction x cost of covering every pair's mean by its cheapest on-time
    lane, rounded to the nearest 1,000 (at least 1,000)."""
    c = cheapest_unit_cost(skus, warehouses, lanes, demand, buffer_days)
    ok = np.isfinite(c)
    total = float(np.sum(c[ok] * demand["mean"].to_numpy()[ok]))
    return max(1000.0, math.floor(fraction * total / 1000.0 + 0.5) * 1000.0)


# --------------------------------------------------------------------------------------
# Formatting and writing (explicit precision => byte-identical output)
# --------------------------------------------------------------------------------------
def _f(values, decimals: int) -> np.ndarray:
    """Fixed-point strings; NaN -> empty cell."""
    a = np.asarray(values, dtype=float)
    out = np.char.mod(f"%.{decimals}f", np.nan_to_num(a))
    return np.where(np.isnan(a), "", out)


def _i(values) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    out = np.char.mod("%d", np.nan_to_num(a).astype(np.int64))
    return np.where(np.isnan(a), "", out)


def _d(values) -> np.ndarray:
    return np.asarray(values).astype("datetime64[D]").astype(str)


def _format_skus(skus: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "sku": skus["sku"].to_numpy(), "supplier": skus["supplier"].to_numpy(),
        "unit_cost": _f(skus["unit_cost"], 2), "price": _f(skus["price"], 2),
        "weight_kg": _f(skus["weight_kg"], 3), "volume_m3": _f(skus["volume_m3"], 5),
        "case_pack": _i(skus["case_pack"]), "moq": _i(skus["moq"]),
        "production_days": _i(skus["production_days"]), "duty_rate": _f(skus["duty_rate"], 3),
        "salvage_value": _f(skus["salvage_value"], 2), "return_rate": _f(skus["return_rate"], 3),
        "category": skus["category"].to_numpy(), "name": skus["name"].to_numpy(),
        "stockout_penalty": _f(skus["stockout_penalty"], 2),
    })


def _format_suppliers(sup: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "supplier": sup["supplier"].to_numpy(), "min_order_value": _f(sup["min_order_value"], 2),
        "capacity_units": _i(sup["capacity_units"]), "name": sup["name"].to_numpy(),
        "category": sup["category"].to_numpy(),
    })


def _format_warehouses(wh: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "warehouse": wh["warehouse"].to_numpy(), "market": wh["market"].to_numpy(),
        "capacity_m3": _f(wh["capacity_m3"], 1), "cutoff": _d(wh["cutoff"]),
        "kind": wh["kind"].to_numpy(),
    })


def _format_lanes(lanes: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "warehouse": lanes["warehouse"].to_numpy(), "mode": lanes["mode"].to_numpy(),
        "transit_days": _i(lanes["transit_days"]), "cost_per_kg": _f(lanes["cost_per_kg"], 2),
        "cost_per_m3": _f(lanes["cost_per_m3"], 2),
        "volumetric_kg_per_m3": _i(lanes["volumetric_kg_per_m3"]),
        "shipment_cost": _f(lanes["shipment_cost"], 2), "shipment_m3": _f(lanes["shipment_m3"], 1),
        "capacity_m3": _f(lanes["capacity_m3"], 1),
    })


def write_demand(folder: pathlib.Path, demand: pd.DataFrame) -> None:
    """Write ``demand.csv`` (sku, warehouse, mean, sd to one decimal) into ``folder``."""
    _write_csv(folder / "demand.csv", _format_demand(demand))


def _format_demand(demand: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "sku": demand["sku"].to_numpy(), "warehouse": demand["warehouse"].to_numpy(),
        "mean": _f(demand["mean"], 1), "sd": _f(demand["sd"], 1),
    })


def _format_inventory(inv: pd.DataFrame) -> pd.DataFrame:
    it = inv["in_transit"].to_numpy()
    return pd.DataFrame({
        "sku": inv["sku"].to_numpy(), "warehouse": inv["warehouse"].to_numpy(),
        "on_hand": _i(inv["on_hand"]), "in_transit": _i(it),
        "in_transit_eta": np.where(it > 0, _d(inv["in_transit_eta"]), ""),
    })


def _write_csv(path: pathlib.Path, df: pd.DataFrame) -> None:
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def _write_toml(path: pathlib.Path, name: str, budget: float, buffer_days: int, *,
                leftover_months: float | None = None, fx: dict | None = None,
                cash_limits: list | None = None, po_cycle_days: int | None = None) -> None:
    lines = [
        f"name = {json.dumps(name, ensure_ascii=False)}",
        f'currency = "{CURRENCY}"',
        f"planning_date = {PLANNING_DATE}",
        f"promo_start = {PROMO_START}",
        f"promo_end = {PROMO_END}",
        f"budget = {budget:.1f}",
        f"buffer_days = {buffer_days}",
        f"stockout_penalty = {STOCKOUT_PENALTY:.1f}",
    ]
    if leftover_months is not None:
        lines.append(f"leftover_months = {leftover_months}")
    if po_cycle_days is not None:
        lines.append(f"po_cycle_days = {int(po_cycle_days)}")
    lines += ["", "[solver]", f"mip_gap = {SOLVER['mip_gap']}", f"time_limit_s = {SOLVER['time_limit_s']}", ""]
    if fx:
        lines += ["[fx]"] + [f"{code} = {rate}" for code, rate in fx.items()] + [""]
    for until, limit in cash_limits or []:
        lines += ["[[cash_limits]]", f"until = {until.isoformat()}", f"limit = {limit:.1f}", ""]
    path.write_text("\n".join(lines), encoding="utf-8", newline="\n")
