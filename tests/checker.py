"""Independent plan checker (docs/testing.md, layer 2).

Re-derives every rule of the specification (cited as SPEC §N) — §2 and the seller economics of §6 (fees,
storage, bonded warehouses, fx, deposits and cash limits) from the raw campaign
tables and the files a `plan` run wrote, and evaluates the exact expected
profit by numerical integration (SPEC §7's demand distributions: the normal's
and the lognormal's survival function integrated by quadrature, the Poisson's
and the negative binomial's summed term by term).  It deliberately imports nothing from `optimizer`: it reads the
CSVs with pandas and recomputes landed costs, deadlines, shipments and
expected sales on its own, so a bug shared by the engine's model and its
results code cannot hide itself.

    report = check_plan(campaign_dir, run_dir, budget=None, delays={"sea": 10})
    report.assert_valid()          # AssertionError listing every violation
    report.exact_profit, report.spend

Tolerances: money 1e-6 relative, volume 1e-9 relative (both with a floor of
1 on the scale, so tiny right-hand sides get an absolute tolerance).

The §6 outputs (summary.json `fees` ... `cash_limits`, cash.csv, plan.csv
`po_date`) are checked whenever they are present, and reported missing when the
campaign uses any §6 item (a §2 campaign plans, and is checked, exactly as before).
A deposit is paid on its line's PO date: the order-by date rounded down to the
campaign's `po_cycle_days`, counted from the planning date (1 day: the order-by date).
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import integrate
from scipy.stats import lognorm, nbinom, norm, poisson

MONEY_RTOL = 1e-6
VOLUME_RTOL = 1e-9
# summary.json's exact profit must equal ours within this (relative + absolute).
PROFIT_RTOL = 1e-6
PROFIT_ATOL = 1e-6
# Reported KPIs (spend, unit counts, ratios) may be rounded to 4-6 decimals.
KPI_RTOL = 1e-6
UNITS_ATOL = 1e-4
RATIO_ATOL = 1e-6

PLAN_COLUMNS = [
    "sku", "warehouse", "mode", "cases", "units", "unit_landed_cost",
    "line_cost", "order_by", "ship_by", "cutoff",
]
SHIPMENT_COLUMNS = ["warehouse", "mode", "shipments", "volume_m3", "shipment_cost"]
SKU_SUMMARY_COLUMNS = [
    "sku", "warehouse", "existing", "ordered", "available", "mean", "sd",
    "expected_sales", "expected_leftover", "fill_rate",
]
SUMMARY_KEYS = [
    "expected_profit", "spend", "budget", "expected_fill_rate",
    "expected_leftover_units", "status", "mip_gap", "build_seconds",
    "solve_seconds", "n_variables", "n_constraints",
]
# SPEC §6 outputs: summary.json money keys (plus `cash_limits`) and cash.csv.
ECONOMICS_KEYS = ["referral_fees", "fulfilment_fees", "fees", "storage_cost", "duty_deferred"]
CASH_COLUMNS = ["date", "kind", "supplier", "warehouse", "mode", "amount", "cumulative",
                "limit_until", "limit"]
CASH_KINDS = ("deposit", "balance", "freight", "shipments", "duty")
# §6 money in summary.json and cash.csv: relative + absolute.
ECON_RTOL = 1e-6
ECON_ATOL = 1e-4
DAYS_PER_MONTH = 30.0


# --------------------------------------------------------------------------
# Demand (SPEC §2, §7).  normal: D = max(0, N(mean, sd)); sd = 0 means D = mean
# exactly.  lognormal: mean and sd are D's own (sd = 0: D = mean).  poisson:
# mean λ, sd ignored.  negative_binomial: variance sd² > mean, else poisson.
# --------------------------------------------------------------------------

NORMAL = "normal"
DISTRIBUTIONS = (NORMAL, "lognormal", "negative_binomial", "poisson")
COUNT_DISTRIBUTIONS = ("negative_binomial", "poisson")


class Demand(NamedTuple):
    """One demand.csv row: D's parameters and its law (normalised; may be unknown)."""

    mean: float
    sd: float
    distribution: str = NORMAL


def parse_distribution(value) -> str:
    """demand.csv `distribution`: case-insensitive, stripped; blank / absent = normal.

    An unknown name is returned as it is (lower case) for check_plan to report.
    """
    text = "" if value is None else str(value).strip().lower()
    return text or NORMAL


def _law(distribution) -> str:
    dist = parse_distribution(distribution)
    if dist not in DISTRIBUTIONS:
        raise ValueError(f"unknown demand distribution {distribution!r} "
                         f"(SPEC §7: one of {', '.join(DISTRIBUTIONS)}; blank = normal)")
    return dist

def _tail_integral(mean: float, sd: float, lo: float, hi: float) -> float:
    """∫_lo^hi P(N(mean, sd) > x) dx for 0 <= lo <= hi, by adaptive quadrature."""
    if hi <= lo:
        return 0.0
    # Beyond mean + 40 sd the survival function underflows to 0: stop there.
    top = min(hi, mean + 40.0 * sd)
    if top <= lo:
        return 0.0
    breaks = sorted({lo, top, *(b for b in (mean - 8 * sd, mean - 2 * sd, mean,
                                            mean + 2 * sd, mean + 8 * sd)
                                if lo < b < top)})
    total = 0.0
    for a, b in zip(breaks[:-1], breaks[1:]):
        val, _err = integrate.quad(lambda x: norm.sf((x - mean) / sd), a, b,
                                   epsabs=1e-12, epsrel=1e-12, limit=200)
        total += val
    return total


def _lognormal_params(mean: float, sd: float) -> tuple[float, float]:
    """(μ, σ) of ln D for a lognormal D with E[D] = mean, sd(D) = sd:
    σ² = ln(1 + sd²/mean²), μ = ln(mean) − σ²/2."""
    sigma2 = math.log1p((sd / mean) ** 2)
    return math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)


def _lognormal_sales(mean: float, sd: float, a: float) -> float:
    """∫_0^A P(D > x) dx for the lognormal, by adaptive quadrature of scipy's lognorm.sf.

    Below x0 = e^(μ − 12σ) the survival function is 1 to double precision, so that
    piece is integrated as it is; above, in t = ln x (dx = e^t dt), where the
    integrand P(D > e^t)·e^t is smooth and Gaussian-like, split at μ + kσ and
    stopped at μ + 40σ, beyond which P(D > x) underflows to 0.
    """
    mu, sigma = _lognormal_params(mean, sd)
    law = lognorm(s=sigma, scale=math.exp(mu))
    x0 = math.exp(mu - 12.0 * sigma)
    low = min(a, x0)
    total, _err = integrate.quad(law.sf, 0.0, low, epsabs=1e-13, epsrel=1e-12, limit=200)
    if a <= x0:
        return total
    lo, top = math.log(x0), min(math.log(a), mu + 40.0 * sigma)
    if top <= lo:
        return total
    breaks = sorted({lo, top, *(b for b in (mu + k * sigma for k in (-8, -4, -2, 0, 2, 4, 8))
                                if lo < b < top),
                     *((mu + sigma * sigma,) if lo < mu + sigma * sigma < top else ())})
    for t0, t1 in zip(breaks[:-1], breaks[1:]):
        val, _err = integrate.quad(lambda t: law.sf(math.exp(t)) * math.exp(t), t0, t1,
                                   epsabs=1e-13, epsrel=1e-12, limit=200)
        total += val
    return total


def _count_law(mean: float, sd: float, distribution: str):
    """scipy law of an integer demand: nbinom(n = mean²/(sd² − mean), p = mean/sd²) when
    negative_binomial with sd² > mean, else poisson(mean)."""
    if distribution == "negative_binomial" and sd * sd > mean:
        return nbinom(mean * mean / (sd * sd - mean), mean / (sd * sd))
    return poisson(mean)


def _count_sales(law, a: float) -> float:
    """ES(A) = Σ_{k=0}^{⌊A⌋−1} P(D > k) + (A − ⌊A⌋)·P(D > ⌊A⌋): the sum term by term,
    in chunks until k reaches ⌊A⌋ or P(D > k) underflows to 0 (every later term is 0);
    for integer D, E[min(D, A)] is linear in A between consecutive integers."""
    whole = math.floor(a)
    frac = a - whole
    terms: list[float] = []
    lo, size = 0, 1024
    while lo < whole:
        hi = min(whole, lo + size)
        sf = law.sf(np.arange(lo, hi, dtype=float))
        terms.extend(sf.tolist())
        if sf[-1] == 0.0:
            return math.fsum(terms)
        lo, size = hi, size * 2
    if frac > 0:
        terms.append(frac * float(law.sf(whole)))
    return math.fsum(terms)


def expected_sales(mean: float, sd: float, available: float,
                   distribution: str = NORMAL) -> float:
    """ES(A) = E[min(D, A)] for D of the given SPEC §7 law (normal: D truncated at 0).

    normal and lognormal: ∫_0^A P(D > x) dx by quadrature (for x >= 0,
    P(max(D, 0) > x) = P(D > x)); poisson and negative_binomial: Σ_{k<A} P(D > k).
    Raises ValueError for an unknown distribution.
    """
    dist = _law(distribution)
    mean, sd = float(mean), float(sd)
    a = max(float(available), 0.0)
    if dist in COUNT_DISTRIBUTIONS:
        if mean <= 0:
            return 0.0
        if math.isinf(a):
            return mean
        return _count_sales(_count_law(mean, sd, dist), a)
    if sd <= 0 or (dist == "lognormal" and mean <= 0):
        return min(max(mean, 0.0), a)
    if dist == "lognormal":
        return mean if math.isinf(a) else _lognormal_sales(mean, sd, a)
    return _tail_integral(mean, sd, 0.0, a)


def expected_demand(mean: float, sd: float, distribution: str = NORMAL) -> float:
    """E[D]: ∫_0^∞ P(D > x) dx for the truncated normal, `mean` for the other laws."""
    dist = _law(distribution)
    if dist != NORMAL or sd <= 0:
        return max(float(mean), 0.0)
    return _tail_integral(float(mean), float(sd), 0.0, math.inf)


# --------------------------------------------------------------------------
# Campaign loading (independent of optimizer.io.campaign)
# --------------------------------------------------------------------------

def _read_csv(path: Path) -> pd.DataFrame:
    """Every cell as a stripped string; "" for empty cells (no NA guessing on keys)."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.columns = [c.strip() for c in df.columns]
    return df.apply(lambda col: col.str.strip())


def _num(value, default: float = math.nan) -> float:
    if value is None:
        return default
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return default
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(out) else out


def _to_date(value) -> date:
    if isinstance(value, date):
        return value if type(value) is date else value.date()
    return date.fromisoformat(str(value).strip())


_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


def _flag(value, where: str) -> bool:
    """A true/false cell (True/False/true/1/0/yes/no); blank = false."""
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{where}: {value!r} is not true/false")


def _fx_rate(currency: str, campaign_currency: str, fx: dict, where: str) -> float:
    """Campaign currency per unit of `currency`: 1 when blank or the campaign's own."""
    cur = str(currency).strip()
    if cur == "" or cur.upper() == str(campaign_currency).strip().upper():
        return 1.0
    rates = {str(k).strip().upper(): v for k, v in fx.items()}
    if cur.upper() not in rates:
        raise ValueError(f"{where}: cost_currency {cur!r} has no rate in campaign.toml [fx]")
    return float(rates[cur.upper()])


@dataclass(frozen=True)
class CashLimit:
    until: date
    limit: float


@dataclass(frozen=True)
class Payment:
    """One cash payment of the plan (SPEC §6 rule 8); blank keys are ""."""

    date: date
    kind: str
    supplier: str
    warehouse: str
    mode: str
    amount: float


@dataclass
class Campaign:
    """The raw campaign tables, keyed by their natural keys."""

    directory: Path
    config: dict
    planning_date: date
    buffer_days: int
    budget: float
    stockout_penalty: float
    min_fill_rate: float | None
    max_sku_budget_share: float | None
    skus: dict[str, dict]
    suppliers: dict[str, dict]
    warehouses: dict[str, dict]
    lanes: dict[tuple[str, str], dict]
    demand: dict[tuple[str, str], Demand]            # (mean, sd, distribution)
    existing: dict[tuple[str, str], float]
    # -- SPEC §6 (all optional; defaults = §2) ---------------------------------
    promo_end: date | None = None
    leftover_months: float = 0.0
    fees: dict[tuple[str, str], float] = field(default_factory=dict)   # fees.csv
    cash_limits: list[CashLimit] = field(default_factory=list)
    po_cycle_days: int = 1

    # -- derived per-unit quantities (SPEC §2, §6) ----------------------------
    def freight(self, sku: str, warehouse: str, mode: str) -> float:
        """cost_per_kg·max(weight, volume·volumetric_kg_per_m3) + cost_per_m3·volume."""
        s, l = self.skus[sku], self.lanes[(warehouse, mode)]
        billable_kg = max(s["weight_kg"], s["volume_m3"] * l["volumetric_kg_per_m3"])
        return l["cost_per_kg"] * billable_kg + l["cost_per_m3"] * s["volume_m3"]

    def bonded(self, warehouse: str) -> float:
        """b[w]: 1 for a bonded (duty-deferred) warehouse, else 0."""
        return 1.0 if self.warehouses.get(warehouse, {}).get("bonded", False) else 0.0

    def landed_cost(self, sku: str, warehouse: str, mode: str) -> float:
        """c[s,l] = unit_cost·(1 + duty_rate·(1 − b[w])) + freight[s,l] (unit_cost after fx)."""
        s = self.skus[sku]
        duty = s["duty_rate"] * (1.0 - self.bonded(warehouse))
        return s["unit_cost"] * (1.0 + duty) + self.freight(sku, warehouse, mode)

    def transit_days(self, warehouse: str, mode: str, delays: dict[str, int] | None) -> int:
        return int(self.lanes[(warehouse, mode)]["transit_days"]) + int((delays or {}).get(mode, 0))

    def lane_ship_by(self, warehouse: str, mode: str, delays=None) -> date:
        """cutoff − transit_days (+ delay) − buffer_days: the lane's latest departure."""
        return (self.warehouses[warehouse]["cutoff"]
                - timedelta(days=self.transit_days(warehouse, mode, delays) + self.buffer_days))

    def ship_by(self, sku: str, warehouse: str, mode: str, delays=None) -> date:
        return self.lane_ship_by(warehouse, mode, delays)

    def order_by(self, sku: str, warehouse: str, mode: str, delays=None) -> date:
        return self.ship_by(sku, warehouse, mode, delays) - timedelta(
            days=int(self.skus[sku]["production_days"]))

    def po_date(self, sku: str, warehouse: str, mode: str, delays=None) -> date:
        """planning_date + floor((order_by − planning_date) / cycle) · cycle: the day the
        line's purchase order is placed (and its deposit paid)."""
        days = (self.order_by(sku, warehouse, mode, delays) - self.planning_date).days
        cycle = self.po_cycle_days
        return self.planning_date + timedelta(days=math.floor(days / cycle) * cycle)

    def usable(self, sku: str, warehouse: str, mode: str, delays=None) -> bool:
        """planning_date + production + transit (+ delay) + buffer <= cutoff."""
        if (warehouse, mode) not in self.lanes or sku not in self.skus:
            return False
        return self.planning_date <= self.order_by(sku, warehouse, mode, delays)

    def fulfilment_fee(self, sku: str, warehouse: str) -> float:
        """f[s,w]: fees.csv's pair override, else skus.csv's fulfilment_fee (blank = 0)."""
        own = self.fees.get((sku, warehouse), math.nan)
        return self.skus[sku]["fulfilment_fee"] if math.isnan(own) else own

    def storage_rate(self, warehouse: str) -> float:
        """h[w]: storage_cost_per_m3_month (0 for an unknown warehouse)."""
        return self.warehouses.get(warehouse, {}).get("storage_cost_per_m3_month", 0.0)

    def months_in(self, warehouse: str) -> float:
        """months_in[w] = max(0, promo_end − cutoff[w]) / 30 (days)."""
        if self.promo_end is None or warehouse not in self.warehouses:
            return 0.0
        days = (self.promo_end - self.warehouses[warehouse]["cutoff"]).days
        return max(0, days) / DAYS_PER_MONTH

    def net_sale_value(self, sku: str, warehouse: str | None = None) -> float:
        """p[s,w] = (1 − ρ)·price·(1 − r) + r·salvage − f[s,w] − b[w]·duty_rate·unit_cost·(1 − r).

        Without a warehouse (or with no §6 item): §2's price·(1 − r) + r·salvage.
        """
        s = self.skus[sku]
        r = s["return_rate"]
        if warehouse is None:
            return s["price"] * (1.0 - r) + r * s["salvage_value"]
        return ((1.0 - s["referral_fee_rate"]) * s["price"] * (1.0 - r)
                + r * s["salvage_value"]
                - self.fulfilment_fee(sku, warehouse)
                - self.bonded(warehouse) * s["duty_rate"] * s["unit_cost"] * (1.0 - r))

    def leftover_value(self, sku: str, warehouse: str) -> float:
        """v[s,w] = salvage − h[w]·volume_m3·leftover_months (negative: clearing costs)."""
        s = self.skus[sku]
        return s["salvage_value"] - self.storage_rate(warehouse) * s["volume_m3"] * self.leftover_months

    def holding_cost(self, sku: str, warehouse: str) -> float:
        """k[s,w] = h[w]·volume_m3·months_in[w], paid by every available unit."""
        return self.storage_rate(warehouse) * self.skus[sku]["volume_m3"] * self.months_in(warehouse)

    def deposit_share(self, supplier: str) -> float:
        """suppliers.csv deposit_share (blank / absent = 1: all paid on the PO date)."""
        return self.suppliers.get(supplier, {}).get("deposit_share", 1.0)

    def arrival(self, warehouse: str) -> date:
        """The day duty is paid at a non-bonded warehouse: cutoff − buffer_days."""
        return self.warehouses[warehouse]["cutoff"] - timedelta(days=self.buffer_days)

    def uses_economics(self) -> bool:
        """Whether any SPEC §6 item has a non-default value (then its outputs are due)."""
        skus = self.skus.values()
        whs = self.warehouses.values()
        return bool(
            any(s["referral_fee_rate"] != 0 or s["fulfilment_fee"] != 0 or s["fx_rate"] != 1
                for s in skus)
            or self.fees
            or any(w["storage_cost_per_m3_month"] != 0 or w["bonded"] for w in whs)
            or self.leftover_months != 0
            or any(f["deposit_share"] != 1 for f in self.suppliers.values())
            or self.cash_limits
            or self.po_cycle_days != 1)

    def penalty(self, sku: str) -> float:
        own = self.skus[sku].get("stockout_penalty", math.nan)
        return self.stockout_penalty if math.isnan(own) else own


def load_campaign(campaign_dir: str | Path) -> Campaign:
    d = Path(campaign_dir)
    with open(d / "campaign.toml", "rb") as fh:
        cfg = tomllib.load(fh)

    skus: dict[str, dict] = {}
    numeric = ["unit_cost", "price", "weight_kg", "volume_m3", "case_pack", "moq",
               "production_days", "duty_rate", "salvage_value", "return_rate"]
    currency, fx = cfg.get("currency", ""), cfg.get("fx", {}) or {}
    for i, row in enumerate(_read_csv(d / "skus.csv").to_dict("records"), start=2):
        rec = {k: _num(row[k]) for k in numeric}
        rec["supplier"] = row["supplier"]
        rec["stockout_penalty"] = _num(row.get("stockout_penalty", ""))
        # SPEC §6: unit_cost is converted to the campaign currency before anything else.
        rec["cost_currency"] = row.get("cost_currency", "")
        rec["fx_rate"] = _fx_rate(rec["cost_currency"], currency, fx, f"skus.csv line {i}")
        rec["unit_cost_quoted"] = rec["unit_cost"]
        rec["unit_cost"] = rec["unit_cost_quoted"] * rec["fx_rate"]
        rec["referral_fee_rate"] = _num(row.get("referral_fee_rate", ""), 0.0)
        rec["fulfilment_fee"] = _num(row.get("fulfilment_fee", ""), 0.0)
        skus[row["sku"]] = rec

    suppliers: dict[str, dict] = {}
    if (d / "suppliers.csv").exists():
        for row in _read_csv(d / "suppliers.csv").to_dict("records"):
            suppliers[row["supplier"]] = {
                "min_order_value": _num(row.get("min_order_value", ""), 0.0),
                "capacity_units": _num(row.get("capacity_units", ""), math.inf),
                "deposit_share": _num(row.get("deposit_share", ""), 1.0),
            }

    warehouses: dict[str, dict] = {}
    for i, row in enumerate(_read_csv(d / "warehouses.csv").to_dict("records"), start=2):
        warehouses[row["warehouse"]] = {
            "capacity_m3": _num(row["capacity_m3"]),
            "cutoff": _to_date(row["cutoff"]),
            "storage_cost_per_m3_month": _num(row.get("storage_cost_per_m3_month", ""), 0.0),
            "bonded": _flag(row.get("bonded", ""), f"warehouses.csv line {i} bonded"),
        }

    fees: dict[tuple[str, str], float] = {}
    if (d / "fees.csv").exists():
        for row in _read_csv(d / "fees.csv").to_dict("records"):
            fee = _num(row.get("fulfilment_fee", ""))
            if not math.isnan(fee):               # a blank override keeps the SKU's fee
                fees[(row["sku"], row["warehouse"])] = fee

    cash_limits = [CashLimit(_to_date(e["until"]), float(e["limit"]))
                   for e in cfg.get("cash_limits", []) or []]

    lanes: dict[tuple[str, str], dict] = {}
    for row in _read_csv(d / "lanes.csv").to_dict("records"):
        lanes[(row["warehouse"], row["mode"])] = {
            "transit_days": int(_num(row["transit_days"])),
            "cost_per_kg": _num(row["cost_per_kg"]),
            "cost_per_m3": _num(row["cost_per_m3"]),
            "volumetric_kg_per_m3": _num(row["volumetric_kg_per_m3"], 0.0),
            "shipment_cost": _num(row["shipment_cost"], 0.0),
            "shipment_m3": _num(row.get("shipment_m3", "")),        # nan = no containers
            "capacity_m3": _num(row.get("capacity_m3", ""), math.inf),
        }

    demand: dict[tuple[str, str], Demand] = {}
    for row in _read_csv(d / "demand.csv").to_dict("records"):
        demand[(row["sku"], row["warehouse"])] = Demand(
            _num(row["mean"]), _num(row["sd"], 0.0),
            parse_distribution(row.get("distribution", "")))   # SPEC §7

    existing: dict[tuple[str, str], float] = {}
    if (d / "inventory.csv").exists():
        for row in _read_csv(d / "inventory.csv").to_dict("records"):
            key = (row["sku"], row["warehouse"])
            qty = _num(row.get("on_hand", ""), 0.0)
            in_transit = _num(row.get("in_transit", ""), 0.0)
            eta = row.get("in_transit_eta", "")
            if in_transit > 0 and eta and key[1] in warehouses:
                if _to_date(eta) <= warehouses[key[1]]["cutoff"]:
                    qty += in_transit
            existing[key] = existing.get(key, 0.0) + qty

    def opt(key):
        v = cfg.get(key)
        return None if v is None else float(v)

    return Campaign(
        directory=d,
        config=cfg,
        planning_date=_to_date(cfg["planning_date"]),
        buffer_days=int(cfg.get("buffer_days", 0)),
        budget=float(cfg["budget"]),
        stockout_penalty=float(cfg.get("stockout_penalty", 0.0)),
        min_fill_rate=opt("min_fill_rate"),
        max_sku_budget_share=opt("max_sku_budget_share"),
        skus=skus, suppliers=suppliers, warehouses=warehouses, lanes=lanes,
        demand=demand, existing=existing,
        promo_end=_to_date(cfg["promo_end"]) if cfg.get("promo_end") is not None else None,
        leftover_months=float(cfg.get("leftover_months", 0.0)),
        fees=fees, cash_limits=cash_limits,
        po_cycle_days=int(cfg.get("po_cycle_days", 1)),
    )


# --------------------------------------------------------------------------
# The check
# --------------------------------------------------------------------------

@dataclass
class PairResult:
    existing: float
    ordered: float
    available: float
    mean: float
    sd: float
    expected_sales: float
    expected_demand: float
    distribution: str = NORMAL

    @property
    def expected_leftover(self) -> float:
        return self.available - self.expected_sales


@dataclass
class CheckReport:
    violations: list[str] = field(default_factory=list)
    exact_profit: float = math.nan
    spend: float = math.nan
    budget: float = math.nan
    units: dict[tuple[str, str, str], int] = field(default_factory=dict)
    pairs: dict[tuple[str, str], PairResult] = field(default_factory=dict)
    shipments: dict[tuple[str, str], int] = field(default_factory=dict)
    # SPEC §6: the expected fee / storage / deferred-duty money of the plan ...
    referral_fees: float = 0.0
    fulfilment_fees: float = 0.0
    storage_cost: float = 0.0
    duty_deferred: float = 0.0
    # ... its dated payments, and per [[cash_limits]] entry (file order)
    # {"until": "YYYY-MM-DD", "limit", "paid", "headroom"} as summary.json has them.
    payments: list[Payment] = field(default_factory=list)
    cash_limits: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def fees(self) -> float:
        return self.referral_fees + self.fulfilment_fees

    def available(self, sku: str, warehouse: str) -> float:
        pr = self.pairs.get((sku, warehouse))
        return 0.0 if pr is None else pr.available

    def assert_valid(self) -> None:
        if self.violations:
            lines = "\n  - ".join(self.violations)
            raise AssertionError(f"{len(self.violations)} plan violation(s):\n  - {lines}")


def _le(lhs: float, rhs: float, rtol: float) -> bool:
    return lhs <= rhs + rtol * max(1.0, abs(rhs))


def _close(a: float, b: float, rtol: float, atol: float = 0.0) -> bool:
    return abs(a - b) <= rtol * max(abs(a), abs(b)) + atol


def _is_int(x: float) -> bool:
    return not math.isnan(x) and abs(x - round(x)) <= 1e-9


def min_shipments(lane: dict, volume: float) -> int:
    """Shipments a used lane needs: ceil(volume / shipment_m3) for containers, else 1."""
    if volume <= 0:
        return 0
    cap = lane["shipment_m3"]
    if math.isnan(cap):
        return 1
    return max(1, math.ceil(volume / cap - 1e-9))


def plan_payments(camp: Campaign, units: dict[tuple[str, str, str], int],
                  shipments: dict[tuple[str, str], int],
                  delays: dict[str, int] | None = None) -> list[Payment]:
    """The plan's payments (SPEC §6 rule 8), on the dates plan.csv must print.

    Per line (s, w, m) of u units, with d = deposit_share of the SKU's supplier:
    deposit d·unit_cost·u on its PO date; balance (1 − d)·unit_cost·u and freight·u on
    ship_by; duty_rate·unit_cost·u on arrival = cutoff − buffer_days unless w is
    bonded.  Per used lane: shipment_cost·n on its ship_by.  Existing stock costs
    nothing.  Zero amounts are left out; the amounts add up to the spend.
    """
    out: list[Payment] = []
    for (s, w, m), u in sorted(units.items()):
        if s not in camp.skus or (w, m) not in camp.lanes:
            continue
        sku = camp.skus[s]
        f, share = sku["supplier"], camp.deposit_share(sku["supplier"])
        purchase = sku["unit_cost"] * u
        ship_by = camp.ship_by(s, w, m, delays)
        out += [Payment(camp.po_date(s, w, m, delays), "deposit", f, "", "", share * purchase),
                Payment(ship_by, "balance", f, "", "", (1.0 - share) * purchase),
                Payment(ship_by, "freight", "", w, m, camp.freight(s, w, m) * u)]
        if not camp.bonded(w):
            out.append(Payment(camp.arrival(w), "duty", "", w, "", sku["duty_rate"] * purchase))
    for (w, m), n in sorted(shipments.items()):
        out.append(Payment(camp.lane_ship_by(w, m, delays), "shipments", "", w, m,
                           camp.lanes[(w, m)]["shipment_cost"] * n))
    return [p for p in out if p.amount != 0]


def binding_limit(limits: list[CashLimit], day: date) -> CashLimit | None:
    """The smallest limit among those with until >= day (None when there is none)."""
    live = [lim for lim in limits if lim.until >= day]
    return min(live, key=lambda lim: (lim.limit, lim.until)) if live else None


def cash_ledger(payments: list[Payment], limits: list[CashLimit]) -> list[dict]:
    """The rows cash.csv must hold (SPEC §6): payments summed per (date, kind, supplier,
    warehouse, mode) — deposit/balance per supplier, freight/shipments per lane, duty
    per warehouse — sorted by date, with the running total and the binding limit."""
    total: dict[tuple, float] = {}
    for p in payments:
        key = (p.date, p.kind, p.supplier, p.warehouse, p.mode)
        total[key] = total.get(key, 0.0) + p.amount
    rows, running = [], 0.0
    for (day, kind, f, w, m), amount in sorted(
            total.items(), key=lambda kv: (kv[0][0], CASH_KINDS.index(kv[0][1]), *kv[0][2:])):
        if amount == 0:
            continue
        running += amount
        lim = binding_limit(limits, day)
        rows.append({"date": day.isoformat(), "kind": kind, "supplier": f, "warehouse": w,
                     "mode": m, "amount": amount, "cumulative": running,
                     "limit_until": "" if lim is None else lim.until.isoformat(),
                     "limit": "" if lim is None else lim.limit})
    return rows


def check_plan(campaign_dir: str | Path, run_dir: str | Path,
               budget: float | None = None,
               delays: dict[str, int] | None = None) -> CheckReport:
    """Re-check a run folder against SPEC §2 and §6 and compute its exact expected profit.

    `budget` and `delays` are the overrides the run was made with
    (`--budget X`, `--delay MODE=DAYS`).
    """
    camp = load_campaign(campaign_dir)
    run = Path(run_dir)
    delays = {str(k): int(v) for k, v in (delays or {}).items()}
    rep = CheckReport()
    bad = rep.violations.append
    budget_cap = camp.budget if budget is None else float(budget)
    rep.budget = budget_cap

    # ---- plan.csv: structure, per-line rules --------------------------------
    plan = _read_output(run, "plan.csv", PLAN_COLUMNS, bad)
    if plan is None:
        plan = pd.DataFrame(columns=PLAN_COLUMNS)
    elif "po_date" not in plan.columns and camp.uses_economics():
        bad("plan.csv lacks column 'po_date' (the campaign uses SPEC §6 items)")

    units: dict[tuple[str, str, str], int] = {}
    cost_of: dict[tuple[str, str, str], float] = {}
    for i, row in enumerate(plan.to_dict("records"), start=2):   # line 1 is the header
        s, w, m = row["sku"], row["warehouse"], row["mode"]
        where = f"plan.csv line {i} ({s}, {w}, {m})"
        key = (s, w, m)
        if key in units:
            bad(f"{where}: duplicate line for the same (sku, warehouse, mode)")
        cases, n_units = _num(row["cases"]), _num(row["units"])
        if not _is_int(cases) or cases < 0:
            bad(f"{where}: cases={row['cases']!r} is not an integer >= 0")
        if not _is_int(n_units) or n_units <= 0:
            bad(f"{where}: units={row['units']!r} is not a positive integer "
                "(plan.csv lists only lines with units > 0)")
        if s not in camp.skus:
            bad(f"{where}: unknown sku {s!r}")
            continue
        if math.isnan(n_units):
            continue
        pack = camp.skus[s]["case_pack"]
        if not math.isnan(cases) and abs(n_units - pack * cases) > 1e-9:
            bad(f"{where}: units={n_units:g} != case_pack {pack:g} x cases {cases:g}")
        if _is_int(n_units) and abs(n_units / pack - round(n_units / pack)) > 1e-9:
            bad(f"{where}: units={n_units:g} is not a multiple of case_pack {pack:g}")
        units[key] = units.get(key, 0) + int(round(n_units))

        if (w, m) not in camp.lanes:
            bad(f"{where}: no lane ({w}, {m}) in lanes.csv")
            c = _num(row["unit_landed_cost"], 0.0)     # best effort for the profit
            cost_of[key] = c
            continue
        c = camp.landed_cost(s, w, m)
        cost_of[key] = c
        if not camp.usable(s, w, m, delays):
            arrive = (camp.planning_date
                      + timedelta(days=int(camp.skus[s]["production_days"])
                                  + camp.transit_days(w, m, delays) + camp.buffer_days))
            bad(f"{where}: lane not usable: planning_date + production + transit"
                f"{' + delay' if m in delays else ''} + buffer = {arrive} > cutoff "
                f"{camp.warehouses[w]['cutoff']}")
        stated_c = _num(row["unit_landed_cost"])
        if not _close(stated_c, c, MONEY_RTOL, 1e-9):
            bad(f"{where}: unit_landed_cost {row['unit_landed_cost']} != {c:.6f}")
        stated_line = _num(row["line_cost"])
        if not _close(stated_line, c * n_units, MONEY_RTOL, 1e-6):
            bad(f"{where}: line_cost {row['line_cost']} != unit landed cost x units "
                f"= {c * n_units:.6f}")
        dates = [("cutoff", camp.warehouses[w]["cutoff"]),
                 ("ship_by", camp.ship_by(s, w, m, delays)),
                 ("order_by", camp.order_by(s, w, m, delays))]
        if "po_date" in plan.columns:           # SPEC §6: printed when any §6 item is used
            dates.append(("po_date", camp.po_date(s, w, m, delays)))
        for col, want in dates:
            try:
                got = date.fromisoformat(row[col])
            except ValueError:
                bad(f"{where}: {col}={row[col]!r} is not an ISO date")
                continue
            if got != want:
                bad(f"{where}: {col}={got} but expected {want}")
    rep.units = units

    # ---- per-SKU / per-supplier / per-warehouse / per-lane aggregates -------
    sku_units: dict[str, int] = {}
    sku_cost: dict[str, float] = {}
    wh_volume: dict[str, float] = {}
    lane_volume: dict[tuple[str, str], float] = {}
    for (s, w, m), u in units.items():
        sku_units[s] = sku_units.get(s, 0) + u
        sku_cost[s] = sku_cost.get(s, 0.0) + cost_of[(s, w, m)] * u
        vol = camp.skus[s]["volume_m3"] * u
        wh_volume[w] = wh_volume.get(w, 0.0) + vol
        lane_volume[(w, m)] = lane_volume.get((w, m), 0.0) + vol

    # Rule 2: MOQ.
    for s, u in sku_units.items():
        moq = camp.skus[s]["moq"]
        if 0 < u < moq:
            bad(f"MOQ: sku {s} orders {u} units, below its moq {moq:g}")

    # Rule 3: supplier minimum order value and capacity.
    sup_value: dict[str, float] = {}
    sup_units: dict[str, int] = {}
    for s, u in sku_units.items():
        f = camp.skus[s]["supplier"]
        sup_value[f] = sup_value.get(f, 0.0) + camp.skus[s]["unit_cost"] * u
        sup_units[f] = sup_units.get(f, 0) + u
    for f, value in sup_value.items():
        rules = camp.suppliers.get(f, {"min_order_value": 0.0, "capacity_units": math.inf})
        mov = rules["min_order_value"]
        if sup_units[f] > 0 and not _le(mov, value, MONEY_RTOL):
            bad(f"supplier {f}: order value {value:.4f} at unit cost is below its "
                f"min_order_value {mov:g}")
        if sup_units[f] > rules["capacity_units"]:
            bad(f"supplier {f}: {sup_units[f]} units exceed capacity_units "
                f"{rules['capacity_units']:g}")

    # Rule 4: warehouse space (ordered units only).
    for w, vol in wh_volume.items():
        if w not in camp.warehouses:
            bad(f"warehouse {w} is not in warehouses.csv")
            continue
        cap = camp.warehouses[w]["capacity_m3"]
        if not _le(vol, cap, VOLUME_RTOL):
            bad(f"warehouse space: {w} receives {vol:.6f} m3 > capacity_m3 {cap:g}")

    # Rule 5: lane capacity and shipments.
    need: dict[tuple[str, str], int] = {}
    for lane_key, vol in lane_volume.items():
        lane = camp.lanes.get(lane_key)
        if lane is None:
            continue
        if not _le(vol, lane["capacity_m3"], VOLUME_RTOL):
            bad(f"lane capacity: {lane_key} carries {vol:.6f} m3 > capacity_m3 "
                f"{lane['capacity_m3']:g}")
        need[lane_key] = min_shipments(lane, vol)
    rep.shipments = need
    shipment_spend = sum(camp.lanes[k]["shipment_cost"] * n for k, n in need.items())
    _check_shipments(camp, run, lane_volume, need, bad)

    # Rule 1: budget.
    purchase = sum(cost_of[k] * u for k, u in units.items())
    spend = purchase + shipment_spend
    rep.spend = spend
    if not _le(spend, budget_cap, MONEY_RTOL):
        bad(f"budget: spend {spend:.4f} (purchase+duty+freight {purchase:.4f} + "
            f"shipments {shipment_spend:.4f}) > budget {budget_cap:g}")

    # Rule 8 (SPEC §6): cash paid by each `until` within its limit.
    rep.payments = plan_payments(camp, units, need, delays)
    for lim in camp.cash_limits:
        paid = sum(p.amount for p in rep.payments if p.date <= lim.until)
        rep.cash_limits.append({"until": lim.until.isoformat(), "limit": lim.limit,
                                "paid": paid, "headroom": lim.limit - paid})
        if not _le(paid, lim.limit, MONEY_RTOL):
            bad(f"cash limit: {paid:.4f} paid up to {lim.until} > limit {lim.limit:g}")

    # Rule 7: concentration.
    alpha = camp.max_sku_budget_share
    if alpha is not None:
        for s, cost in sku_cost.items():
            if not _le(cost, alpha * budget_cap, MONEY_RTOL):
                bad(f"max_sku_budget_share: sku {s} costs {cost:.4f} > "
                    f"{alpha:g} x budget = {alpha * budget_cap:.4f}")

    # ---- expected sales and exact profit ------------------------------------
    pair_keys = set(camp.demand) | {k for k, v in camp.existing.items() if v > 0}
    pair_keys |= {(s, w) for (s, w, _m) in units}
    ordered: dict[tuple[str, str], int] = {}
    for (s, w, _m), u in units.items():
        ordered[(s, w)] = ordered.get((s, w), 0) + u
    # SPEC §7: an unknown law is reported once; its pair's ES and E[D] (and so the
    # profit and every figure built on them) are NaN and not compared further.
    for (s, w), dem in sorted(camp.demand.items()):
        if dem.distribution not in DISTRIBUTIONS:
            bad(f"demand.csv ({s}, {w}): distribution {dem.distribution!r} is not one of "
                f"{', '.join(DISTRIBUTIONS)} (SPEC §7; blank = normal): its expected "
                "sales and the expected profit cannot be evaluated")
    profit = -spend
    for key in sorted(pair_keys):
        s, w = key
        mean, sd, dist = camp.demand.get(key, Demand(0.0, 0.0))
        e = camp.existing.get(key, 0.0)
        o = ordered.get(key, 0)
        a = e + o
        if dist in DISTRIBUTIONS:
            es = expected_sales(mean, sd, a, distribution=dist)
            ed = expected_demand(mean, sd, distribution=dist)
        else:
            es = ed = math.nan
        rep.pairs[key] = PairResult(e, o, a, mean, sd, es, ed, dist)
        if s not in camp.skus:
            continue
        profit += _pair_profit(camp, s, w, a, es, ed)
        _add_economics(camp, rep, s, w, a, es)

    rep.exact_profit = profit

    # Rule 6: service target.
    beta = camp.min_fill_rate
    if beta is not None:
        for key, pr in rep.pairs.items():
            if math.isnan(pr.expected_sales):
                continue                       # unknown distribution, reported above
            if pr.mean > 0 and not _le(beta * pr.expected_demand, pr.expected_sales, 1e-6):
                bad(f"min_fill_rate: {key} expected sales {pr.expected_sales:.6f} < "
                    f"{beta:g} x E[D] = {beta * pr.expected_demand:.6f} "
                    f"(fill rate {pr.expected_sales / pr.expected_demand:.6f})")

    _check_sku_summary(run, rep, bad)
    _check_summary(run, camp, rep, bad)
    _check_cash(run, camp, rep, bad)
    return rep


def _pair_profit(camp: Campaign, s: str, w: str, a: float, es: float, ed: float) -> float:
    """(p[s,w] − v[s,w] + penalty)·ES(A) + (v[s,w] − k[s,w])·A − penalty·E[D] (SPEC §6;
    = §2's term when no §6 item is set: p = price·(1 − r) + r·salvage, v = salvage, k = 0)."""
    p, v, k = camp.net_sale_value(s, w), camp.leftover_value(s, w), camp.holding_cost(s, w)
    pen = camp.penalty(s)
    return (p - v + pen) * es + (v - k) * a - pen * ed


def _add_economics(camp: Campaign, rep: CheckReport, s: str, w: str, a: float,
                   es: float) -> None:
    """Add one pair's §6 money to the report:
    referral ρ·price·(1 − r)·ES, fulfilment f·ES, storage h·vol·(months_in·A + L·(A − ES)),
    deferred duty b·duty_rate·unit_cost·(1 − r)·ES."""
    sku = camp.skus[s]
    kept = sku["price"] * (1.0 - sku["return_rate"])
    rep.referral_fees += sku["referral_fee_rate"] * kept * es
    rep.fulfilment_fees += camp.fulfilment_fee(s, w) * es
    rep.storage_cost += (camp.storage_rate(w) * sku["volume_m3"]
                         * (camp.months_in(w) * a + camp.leftover_months * (a - es)))
    rep.duty_deferred += (camp.bonded(w) * sku["duty_rate"] * sku["unit_cost"]
                          * (1.0 - sku["return_rate"]) * es)


def _read_output(run: Path, name: str, columns: list[str], bad) -> pd.DataFrame | None:
    """An output CSV of the run, or None (after reporting) when missing or incomplete."""
    path = run / name
    if not path.exists():
        bad(f"{name} is missing")
        return None
    df = _read_csv(path)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        bad(f"{name} lacks columns {missing}")
        return None
    return df


def _check_shipments(camp: Campaign, run: Path, lane_volume, need, bad) -> None:
    df = _read_output(run, "shipments.csv", SHIPMENT_COLUMNS, bad)
    if df is None:
        return
    seen = set()
    for i, row in enumerate(df.to_dict("records"), start=2):
        key = (row["warehouse"], row["mode"])
        where = f"shipments.csv line {i} {key}"
        if key in seen:
            bad(f"{where}: duplicate lane")
        seen.add(key)
        n = _num(row["shipments"])
        if not _is_int(n) or n < 0:
            bad(f"{where}: shipments={row['shipments']!r} is not an integer >= 0")
            continue
        lane = camp.lanes.get(key)
        if lane is None:
            bad(f"{where}: no such lane in lanes.csv")
            continue
        vol = lane_volume.get(key, 0.0)
        want = need.get(key, 0)
        if want == 0 and n > 0:
            bad(f"{where}: {n:g} shipment(s) on a lane plan.csv does not use")
        elif n < want:
            bad(f"{where}: {n:g} shipment(s) cannot carry {vol:.6f} m3 "
                f"(needs {want})")
        elif n > want and lane["shipment_cost"] > 0:
            bad(f"{where}: {n:g} shipment(s) where {want} carry {vol:.6f} m3")
        if not _close(_num(row["volume_m3"]), vol, VOLUME_RTOL, 1e-9):
            bad(f"{where}: volume_m3 {row['volume_m3']} != {vol:.9f}")
        if not _close(_num(row["shipment_cost"]), lane["shipment_cost"] * n, MONEY_RTOL, 1e-6):
            bad(f"{where}: shipment_cost {row['shipment_cost']} != "
                f"{n:g} x {lane['shipment_cost']:g}")
    for key in need:
        if key not in seen:
            bad(f"shipments.csv has no row for used lane {key}")


def _check_sku_summary(run: Path, rep: CheckReport, bad) -> None:
    df = _read_output(run, "sku_summary.csv", SKU_SUMMARY_COLUMNS, bad)
    if df is None:
        return
    rows = {}
    for i, row in enumerate(df.to_dict("records"), start=2):
        rows[(row["sku"], row["warehouse"])] = (i, row)
    for key, pr in rep.pairs.items():
        if key not in rows:
            if pr.mean > 0 or pr.available > 0:
                bad(f"sku_summary.csv has no row for {key}")
            continue
        i, row = rows[key]
        where = f"sku_summary.csv line {i} {key}"
        checks = [("existing", pr.existing), ("ordered", pr.ordered),
                  ("available", pr.available), ("mean", pr.mean), ("sd", pr.sd),
                  ("expected_sales", pr.expected_sales),
                  ("expected_leftover", pr.expected_leftover)]
        if pr.expected_demand > 0:
            checks.append(("fill_rate", pr.expected_sales / pr.expected_demand))
        for col, want in checks:
            if math.isnan(want):
                continue                       # unknown distribution, reported above
            got = _num(row[col])
            atol = RATIO_ATOL if col == "fill_rate" else UNITS_ATOL
            if not _close(got, want, KPI_RTOL, atol):
                bad(f"{where}: {col}={row[col]} but expected {want:.6f}")


def _check_summary(run: Path, camp: Campaign, rep: CheckReport, bad) -> None:
    path = run / "summary.json"
    if not path.exists():
        bad("summary.json is missing")
        return
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        bad(f"summary.json is not JSON: {exc}")
        return
    missing = [k for k in SUMMARY_KEYS if k not in summary]
    if missing:
        bad(f"summary.json lacks keys {missing}")

    def num(k):
        return _num(summary.get(k))

    if ("expected_profit" in summary and not math.isnan(rep.exact_profit)
            and not _close(num("expected_profit"), rep.exact_profit,
                           PROFIT_RTOL, PROFIT_ATOL)):
        bad(f"summary.json expected_profit {summary['expected_profit']} != exact "
            f"expected profit {rep.exact_profit:.6f}")
    if "spend" in summary and not _close(num("spend"), rep.spend, MONEY_RTOL, UNITS_ATOL):
        bad(f"summary.json spend {summary['spend']} != {rep.spend:.6f}")
    if "budget" in summary and not _close(num("budget"), rep.budget, 1e-9, 1e-9):
        bad(f"summary.json budget {summary['budget']} != {rep.budget:g}")
    total_es = sum(p.expected_sales for p in rep.pairs.values())
    total_ed = sum(p.expected_demand for p in rep.pairs.values())
    if "expected_fill_rate" in summary and total_ed > 0 and not math.isnan(total_es):
        want = total_es / total_ed
        if not _close(num("expected_fill_rate"), want, KPI_RTOL, RATIO_ATOL):
            bad(f"summary.json expected_fill_rate {summary['expected_fill_rate']} != "
                f"Σ ES / Σ E[D] = {want:.9f}")
    if "expected_leftover_units" in summary:
        want = sum(p.expected_leftover for p in rep.pairs.values())
        if not math.isnan(want) and not _close(num("expected_leftover_units"), want, KPI_RTOL, UNITS_ATOL):
            bad(f"summary.json expected_leftover_units {summary['expected_leftover_units']}"
                f" != Σ (A − ES) = {want:.6f}")
    _check_summary_economics(summary, camp, rep, bad)


def _check_summary_economics(summary: dict, camp: Campaign, rep: CheckReport, bad) -> None:
    """SPEC §6 keys: checked when present, due when the campaign uses any §6 item."""
    want = {"referral_fees": (rep.referral_fees, "Σ ρ·price·(1 − r)·ES"),
            "fulfilment_fees": (rep.fulfilment_fees, "Σ f·ES"),
            "fees": (rep.fees, "referral_fees + fulfilment_fees"),
            "storage_cost": (rep.storage_cost, "Σ h·vol·(months_in·A + L·(A − ES))"),
            "duty_deferred": (rep.duty_deferred, "Σ b·duty_rate·unit_cost·(1 − r)·ES")}
    missing = [k for k in [*want, "cash_limits"] if k not in summary]
    if missing and camp.uses_economics():
        bad(f"summary.json lacks SPEC §6 keys {missing}")
    for key, (value, formula) in want.items():
        if (key in summary and not math.isnan(value)
                and not _close(_num(summary[key]), value, ECON_RTOL, ECON_ATOL)):
            bad(f"summary.json {key} {summary[key]} != {formula} = {value:.6f}")
    if "cash_limits" not in summary:
        return
    got = summary["cash_limits"]
    if not isinstance(got, list) or len(got) != len(rep.cash_limits):
        bad(f"summary.json cash_limits {got!r} is not a list of {len(rep.cash_limits)} "
            "entries, one per [[cash_limits]]")
        return
    for i, (entry, want_entry) in enumerate(zip(got, rep.cash_limits)):
        where = f"summary.json cash_limits[{i}]"
        if not isinstance(entry, dict):
            bad(f"{where} is not an object: {entry!r}")
            continue
        if str(entry.get("until", "")) != want_entry["until"]:
            bad(f"{where} until {entry.get('until')!r} != {want_entry['until']}")
        for key in ("limit", "paid", "headroom"):
            if not _close(_num(entry.get(key)), want_entry[key], ECON_RTOL, ECON_ATOL):
                bad(f"{where} (cash limit until {want_entry['until']}) {key} "
                    f"{entry.get(key)!r} != {want_entry[key]:.6f}")


def _check_cash(run: Path, camp: Campaign, rep: CheckReport, bad) -> None:
    """cash.csv (SPEC §6): per (kind, date) the amounts equal the plan's payments, per
    row the keys follow the kind (deposit/balance: supplier; freight/shipments:
    warehouse + mode; duty: warehouse), dates ascend, `cumulative` is the running
    total, `limit_until`/`limit` the binding limit, and the amounts add up to spend."""
    if not (run / "cash.csv").exists():
        if camp.uses_economics():
            bad("cash.csv is missing (the campaign uses SPEC §6 items)")
        return
    df = _read_output(run, "cash.csv", CASH_COLUMNS, bad)
    if df is None:
        return
    by_day: dict[tuple[str, date], float] = {}
    by_key: dict[tuple, float] = {}
    running, last_day = 0.0, None
    for i, row in enumerate(df.to_dict("records"), start=2):
        where = f"cash.csv line {i}"
        try:
            day = date.fromisoformat(row["date"])
        except ValueError:
            bad(f"{where}: date={row['date']!r} is not an ISO date")
            continue
        kind, amount = row["kind"], _num(row["amount"])
        if math.isnan(amount):
            bad(f"{where}: amount={row['amount']!r} is not a number")
            continue
        if last_day is not None and day < last_day:
            bad(f"{where}: date {day} comes after {last_day}: cash.csv is not sorted by date")
        last_day = day
        running += amount
        if not _close(_num(row["cumulative"]), running, ECON_RTOL, ECON_ATOL):
            bad(f"{where}: cumulative {row['cumulative']} != running total {running:.6f}")
        _check_cash_limit_cells(where, row, day, camp.cash_limits, bad)
        if kind not in CASH_KINDS:
            bad(f"{where}: kind={kind!r} is not one of {list(CASH_KINDS)}")
        by_day[(kind, day)] = by_day.get((kind, day), 0.0) + amount
        key = (day, kind, row["supplier"], row["warehouse"], row["mode"])
        by_key[key] = by_key.get(key, 0.0) + amount

    want_day: dict[tuple[str, date], float] = {}
    want_key: dict[tuple, float] = {}
    for p in rep.payments:
        want_day[(p.kind, p.date)] = want_day.get((p.kind, p.date), 0.0) + p.amount
        key = (p.date, p.kind, p.supplier, p.warehouse, p.mode)
        want_key[key] = want_key.get(key, 0.0) + p.amount
    agreed = set()
    for kd in sorted(set(by_day) | set(want_day), key=lambda kd: (kd[1], kd[0])):
        got, want = by_day.get(kd, 0.0), want_day.get(kd, 0.0)
        if _close(got, want, ECON_RTOL, ECON_ATOL):
            agreed.add(kd)
        else:
            bad(f"cash.csv: {kd[0]} paid on {kd[1]} totals {got:.6f}, the plan pays {want:.6f}")
    for key in sorted(set(by_key) | set(want_key), key=lambda k: (k[0], k[1], *k[2:])):
        got, want = by_key.get(key, 0.0), want_key.get(key, 0.0)
        if (key[1], key[0]) in agreed and not _close(got, want, ECON_RTOL, ECON_ATOL):
            day, kind, f, w, m = key
            bad(f"cash.csv: {kind} on {day} for (supplier={f!r}, warehouse={w!r}, "
                f"mode={m!r}) is {got:.6f}, the plan pays {want:.6f}")
    total = sum(by_day.values())
    if not _close(total, rep.spend, ECON_RTOL, ECON_ATOL):
        bad(f"cash.csv: the amounts total {total:.6f} != spend {rep.spend:.6f}")


def _check_cash_limit_cells(where: str, row: dict, day: date, limits: list[CashLimit],
                            bad) -> None:
    """limit_until / limit: the smallest limit among those with until >= date, or blank."""
    lim = binding_limit(limits, day)
    if lim is None:
        if row["limit_until"] != "" or row["limit"] != "":
            bad(f"{where}: limit_until/limit {row['limit_until']!r}/{row['limit']!r} "
                f"should be blank (no cash limit runs to {day} or later)")
        return
    ok_untils = {x.until.isoformat() for x in limits
                 if x.until >= day and x.limit == lim.limit}
    if row["limit_until"] not in ok_untils or not _close(_num(row["limit"]), lim.limit,
                                                         ECON_RTOL, ECON_ATOL):
        bad(f"{where}: limit_until/limit {row['limit_until']!r}/{row['limit']!r} != "
            f"{lim.until}/{lim.limit:g}, the binding cash limit on {day}")
