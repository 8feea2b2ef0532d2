"""Independent plan checker (STYLE.md, "Tests, in layers" 2).

Re-derives every rule of SPEC §2 from the raw campaign tables and the files a
`plan` run wrote, and evaluates the exact expected profit by numerical
integration.  It deliberately imports nothing from `optimizer`: it reads the
CSVs with pandas and recomputes landed costs, deadlines, shipments and
expected sales on its own, so a bug shared by the engine's model and its
results code cannot hide itself.

    report = check_plan(campaign_dir, run_dir, budget=None, delays={"sea": 10})
    report.assert_valid()          # AssertionError listing every violation
    report.exact_profit, report.spend

Tolerances: money 1e-6 relative, volume 1e-9 relative (both with a floor of
1 on the scale, so tiny right-hand sides get an absolute tolerance).
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from scipy import integrate
from scipy.stats import norm

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


# --------------------------------------------------------------------------
# Demand: D = max(0, N(mean, sd)); sd = 0 means D = mean exactly.
# --------------------------------------------------------------------------

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


def expected_sales(mean: float, sd: float, available: float) -> float:
    """E[min(max(D, 0), A)] = ∫_0^A P(D > x) dx (for x >= 0, P(max(D,0) > x) = P(D > x))."""
    a = max(float(available), 0.0)
    if sd <= 0:
        return min(max(float(mean), 0.0), a)
    return _tail_integral(float(mean), float(sd), 0.0, a)


def expected_demand(mean: float, sd: float) -> float:
    """E[max(D, 0)] = ∫_0^∞ P(D > x) dx."""
    if sd <= 0:
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
    demand: dict[tuple[str, str], tuple[float, float]]
    existing: dict[tuple[str, str], float]

    # -- derived per-unit quantities (SPEC §2) --------------------------------
    def landed_cost(self, sku: str, warehouse: str, mode: str) -> float:
        s, l = self.skus[sku], self.lanes[(warehouse, mode)]
        billable_kg = max(s["weight_kg"], s["volume_m3"] * l["volumetric_kg_per_m3"])
        freight = l["cost_per_kg"] * billable_kg + l["cost_per_m3"] * s["volume_m3"]
        return s["unit_cost"] * (1.0 + s["duty_rate"]) + freight

    def transit_days(self, warehouse: str, mode: str, delays: dict[str, int] | None) -> int:
        return int(self.lanes[(warehouse, mode)]["transit_days"]) + int((delays or {}).get(mode, 0))

    def ship_by(self, sku: str, warehouse: str, mode: str, delays=None) -> date:
        return (self.warehouses[warehouse]["cutoff"]
                - timedelta(days=self.transit_days(warehouse, mode, delays) + self.buffer_days))

    def order_by(self, sku: str, warehouse: str, mode: str, delays=None) -> date:
        return self.ship_by(sku, warehouse, mode, delays) - timedelta(
            days=int(self.skus[sku]["production_days"]))

    def usable(self, sku: str, warehouse: str, mode: str, delays=None) -> bool:
        """planning_date + production + transit (+ delay) + buffer <= cutoff."""
        if (warehouse, mode) not in self.lanes or sku not in self.skus:
            return False
        return self.planning_date <= self.order_by(sku, warehouse, mode, delays)

    def net_sale_value(self, sku: str) -> float:
        s = self.skus[sku]
        r = s["return_rate"]
        return s["price"] * (1.0 - r) + r * s["salvage_value"]

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
    for row in _read_csv(d / "skus.csv").to_dict("records"):
        rec = {k: _num(row[k]) for k in numeric}
        rec["supplier"] = row["supplier"]
        rec["stockout_penalty"] = _num(row.get("stockout_penalty", ""))
        skus[row["sku"]] = rec

    suppliers: dict[str, dict] = {}
    if (d / "suppliers.csv").exists():
        for row in _read_csv(d / "suppliers.csv").to_dict("records"):
            suppliers[row["supplier"]] = {
                "min_order_value": _num(row.get("min_order_value", ""), 0.0),
                "capacity_units": _num(row.get("capacity_units", ""), math.inf),
            }

    warehouses: dict[str, dict] = {}
    for row in _read_csv(d / "warehouses.csv").to_dict("records"):
        warehouses[row["warehouse"]] = {
            "capacity_m3": _num(row["capacity_m3"]),
            "cutoff": _to_date(row["cutoff"]),
        }

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

    demand: dict[tuple[str, str], tuple[float, float]] = {}
    for row in _read_csv(d / "demand.csv").to_dict("records"):
        demand[(row["sku"], row["warehouse"])] = (_num(row["mean"]), _num(row["sd"], 0.0))

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

    @property
    def ok(self) -> bool:
        return not self.violations

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


def check_plan(campaign_dir: str | Path, run_dir: str | Path,
               budget: float | None = None,
               delays: dict[str, int] | None = None) -> CheckReport:
    """Re-check a run folder against SPEC §2 and compute its exact expected profit.

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
        for col, want in (("cutoff", camp.warehouses[w]["cutoff"]),
                          ("ship_by", camp.ship_by(s, w, m, delays)),
                          ("order_by", camp.order_by(s, w, m, delays))):
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
    profit = -spend
    for key in sorted(pair_keys):
        s, w = key
        mean, sd = camp.demand.get(key, (0.0, 0.0))
        e = camp.existing.get(key, 0.0)
        o = ordered.get(key, 0)
        a = e + o
        es = expected_sales(mean, sd, a)
        ed = expected_demand(mean, sd)
        rep.pairs[key] = PairResult(e, o, a, mean, sd, es, ed)
        if s not in camp.skus:
            continue
        p, salv, pen = camp.net_sale_value(s), camp.skus[s]["salvage_value"], camp.penalty(s)
        profit += (p - salv + pen) * es + salv * a - pen * ed

    rep.exact_profit = profit

    # Rule 6: service target.
    beta = camp.min_fill_rate
    if beta is not None:
        for key, pr in rep.pairs.items():
            if pr.mean > 0 and not _le(beta * pr.expected_demand, pr.expected_sales, 1e-6):
                bad(f"min_fill_rate: {key} expected sales {pr.expected_sales:.6f} < "
                    f"{beta:g} x E[D] = {beta * pr.expected_demand:.6f} "
                    f"(fill rate {pr.expected_sales / pr.expected_demand:.6f})")

    _check_sku_summary(run, rep, bad)
    _check_summary(run, rep, bad)
    return rep


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
            got = _num(row[col])
            atol = RATIO_ATOL if col == "fill_rate" else UNITS_ATOL
            if not _close(got, want, KPI_RTOL, atol):
                bad(f"{where}: {col}={row[col]} but expected {want:.6f}")


def _check_summary(run: Path, rep: CheckReport, bad) -> None:
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

    if "expected_profit" in summary and not _close(num("expected_profit"), rep.exact_profit,
                                                   PROFIT_RTOL, PROFIT_ATOL):
        bad(f"summary.json expected_profit {summary['expected_profit']} != exact "
            f"expected profit {rep.exact_profit:.6f}")
    if "spend" in summary and not _close(num("spend"), rep.spend, MONEY_RTOL, UNITS_ATOL):
        bad(f"summary.json spend {summary['spend']} != {rep.spend:.6f}")
    if "budget" in summary and not _close(num("budget"), rep.budget, 1e-9, 1e-9):
        bad(f"summary.json budget {summary['budget']} != {rep.budget:g}")
    total_es = sum(p.expected_sales for p in rep.pairs.values())
    total_ed = sum(p.expected_demand for p in rep.pairs.values())
    if "expected_fill_rate" in summary and total_ed > 0:
        want = total_es / total_ed
        if not _close(num("expected_fill_rate"), want, KPI_RTOL, RATIO_ATOL):
            bad(f"summary.json expected_fill_rate {summary['expected_fill_rate']} != "
                f"Σ ES / Σ E[D] = {want:.9f}")
    if "expected_leftover_units" in summary:
        want = sum(p.expected_leftover for p in rep.pairs.values())
        if not _close(num("expected_leftover_units"), want, KPI_RTOL, UNITS_ATOL):
            bad(f"summary.json expected_leftover_units {summary['expected_leftover_units']}"
                f" != Σ (A − ES) = {want:.6f}")
