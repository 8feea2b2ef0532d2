"""Campaign kinds unlike the plain generator's, for the solver benchmark.

:func:`samples.campaign.generate_campaign` writes one kind of catalogue: 45 % of its
suppliers with a minimum order value, roomy warehouses, a lane mix where LCL and
express lanes compete with containers, SKUs selling hundreds of units, normal demand.
A planner tuned on it can meet its targets there and miss them elsewhere.  Each kind
here rewrites a generated campaign folder in place to be hard in one other way:

* ``minimums`` — every supplier split in three, each with a minimum order value
  (3,000–20,000, at most 60 % of what covering its forecast would cost): many more
  all-or-nothing supplier decisions;
* ``scarce_space`` — every warehouse at 45 % of its capacity: space binds everywhere;
* ``containers`` — LCL at three times its rate and per-use fee and no express sea or
  rail: freight goes by the 60 m³ container, an integer decision per lane;
* ``small_skus`` — every SKU's demand, the warehouses' and lanes' space, supplier
  capacities and the budget at a sixth: MOQs and case packs decide most lines;
* ``cash`` — the seller economics of SPEC §6 (fees, storage, deposits, CNY quotes and
  monthly cash limits; ``generate_campaign(economics=True)``);
* ``lognormal`` — every demand row lognormal (SPEC §7) with its sd × 1.5.

:func:`generate_kind` writes a campaign of a kind; the draws of a kind come from
their own stream, so the plain campaign under it is the same for every kind.
"""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pandas as pd

from samples.campaign import _f, _i, generate_campaign

SMALL = 6.0   # small_skus: demand and space at 1 / SMALL


def _read(folder: pathlib.Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def _write(folder: pathlib.Path, name: str, frame: pd.DataFrame) -> None:
    frame.to_csv(folder / name, index=False, lineterminator="\n")


def _num(col: pd.Series) -> pd.Series:
    return pd.to_numeric(col.replace("", np.nan), errors="coerce")


def _scale_capacity(sup: pd.DataFrame, divisor: float) -> None:
    """Supplier capacities (``capacity_units``, blank: none) at ``1 / divisor``, at least 100."""
    units = _num(sup["capacity_units"])
    sup["capacity_units"] = _i(np.where(units.notna(), np.maximum(100, np.ceil(units / divisor)), np.nan))


def _minimums(folder: pathlib.Path, rng: np.random.Generator) -> None:
    skus, sup, demand = _read(folder, "skus.csv"), _read(folder, "suppliers.csv"), _read(folder, "demand.csv")
    skus["supplier"] = [f"{s}-{'abc'[i % 3]}" for i, s in enumerate(skus["supplier"])]
    rows = []
    for s in sup.itertuples(index=False):
        for tag in "abc":
            rows.append({**s._asdict(), "supplier": f"{s.supplier}-{tag}"})
    sup = pd.DataFrame(rows, columns=sup.columns)
    sup = sup[sup["supplier"].isin(set(skus["supplier"]))].reset_index(drop=True)
    cost = _num(skus.set_index("sku")["unit_cost"])
    value = (_num(demand["mean"]) * demand["sku"].map(cost).to_numpy()).groupby(
        demand["sku"].map(skus.set_index("sku")["supplier"])).sum()
    mov = np.round(rng.uniform(3000, 20000, len(sup)) / 500) * 500
    cap = np.floor(0.6 * sup["supplier"].map(value).fillna(0.0).to_numpy() / 500) * 500
    sup["min_order_value"] = _f(np.where(cap >= 1000, np.minimum(mov, cap), 0.0), 2)
    _scale_capacity(sup, 3)
    _write(folder, "skus.csv", skus)
    _write(folder, "suppliers.csv", sup)


def _scarce_space(folder: pathlib.Path, rng: np.random.Generator) -> None:
    wh = _read(folder, "warehouses.csv")
    wh["capacity_m3"] = _f(np.maximum(np.ceil(_num(wh["capacity_m3"]) * 0.45), 1.0), 1)
    _write(folder, "warehouses.csv", wh)


def _containers(folder: pathlib.Path, rng: np.random.Generator) -> None:
    lanes = _read(folder, "lanes.csv")
    lanes = lanes[~lanes["mode"].isin(["express_sea", "rail"])].reset_index(drop=True)
    lcl = lanes["mode"] == "sea_lcl"
    lanes.loc[lcl, "cost_per_m3"] = _f(_num(lanes.loc[lcl, "cost_per_m3"]) * 3, 2)
    lanes.loc[lcl, "shipment_cost"] = _f(_num(lanes.loc[lcl, "shipment_cost"]) * 3, 2)
    _write(folder, "lanes.csv", lanes)


def _small_skus(folder: pathlib.Path, rng: np.random.Generator) -> None:
    demand = _read(folder, "demand.csv")
    demand["mean"] = _f(np.maximum(_num(demand["mean"]) / SMALL, 0.1), 1)
    demand["sd"] = _f(np.maximum(_num(demand["sd"]) / SMALL, 0.1), 1)
    _write(folder, "demand.csv", demand)
    wh = _read(folder, "warehouses.csv")
    wh["capacity_m3"] = _f(np.maximum(np.ceil(_num(wh["capacity_m3"]) / SMALL), 1.0), 1)
    _write(folder, "warehouses.csv", wh)
    lanes = _read(folder, "lanes.csv")
    lanes["capacity_m3"] = _f(np.maximum(np.ceil(_num(lanes["capacity_m3"]) / SMALL), 1.0), 1)
    _write(folder, "lanes.csv", lanes)
    sup = _read(folder, "suppliers.csv")
    _scale_capacity(sup, SMALL)
    _write(folder, "suppliers.csv", sup)
    toml = (folder / "campaign.toml").read_text(encoding="utf-8")
    toml = re.sub(r"(?m)^budget = ([0-9.]+)$",
                  lambda m: f"budget = {round(float(m.group(1)) / SMALL / 1000) * 1000:.1f}", toml)
    toml = re.sub(r"(?m)^limit = ([0-9.]+)$", lambda m: f"limit = {float(m.group(1)) / SMALL:.2f}", toml)
    (folder / "campaign.toml").write_text(toml, encoding="utf-8", newline="\n")


def _lognormal(folder: pathlib.Path, rng: np.random.Generator) -> None:
    demand = _read(folder, "demand.csv")
    demand["sd"] = _f(_num(demand["sd"]) * 1.5, 1)
    demand["distribution"] = "lognormal"
    _write(folder, "demand.csv", demand)


KINDS = {"minimums": _minimums, "scarce_space": _scarce_space, "containers": _containers,
         "small_skus": _small_skus, "cash": None, "lognormal": _lognormal}


def generate_kind(out_dir, n_skus: int, kind: str | None, seed: int = 7) -> pathlib.Path:
    """A generated campaign (``generate_campaign(out_dir, n_skus, seed)``) made ``kind``
    (None or "plain": as generated)."""
    if kind not in (None, "plain", *KINDS):
        raise ValueError(f"unknown kind {kind!r}: one of plain, {', '.join(KINDS)}")
    folder = generate_campaign(out_dir, n_skus, seed=seed, economics=kind == "cash")
    if KINDS.get(kind):
        KINDS[kind](folder, np.random.default_rng([seed, 3]))
    return folder


__all__ = ["KINDS", "generate_kind"]
