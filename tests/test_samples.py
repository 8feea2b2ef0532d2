"""The seeded campaign generator (samples/campaign.py) and the bundled data it writes.

SPEC §1 rules are checked with plain pandas, independently of the package's loader.
"""

from __future__ import annotations

import importlib.util
import math
import pathlib
import tomllib

import numpy as np
import pandas as pd
import pytest

from samples.campaign import generate_campaign

REPO = pathlib.Path(__file__).resolve().parents[1]
FILES = ("campaign.toml", "skus.csv", "suppliers.csv", "warehouses.csv", "lanes.csv",
         "demand.csv", "inventory.csv")
PLANNING = pd.Timestamp("2026-08-20")


def _load_script():
    spec = importlib.util.spec_from_file_location("generate_sample", REPO / "scripts" / "generate_sample.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _read(folder: pathlib.Path) -> dict:
    """Read a campaign folder; ids as strings, dates kept as text to check ISO format."""
    ids = {"sku": str, "supplier": str, "warehouse": str, "in_transit_eta": str, "cutoff": str}
    out = {name[:-4]: pd.read_csv(folder / name, dtype=ids, keep_default_na=True)
           for name in FILES if name.endswith(".csv")}
    with open(folder / "campaign.toml", "rb") as fh:
        out["campaign"] = tomllib.load(fh)
    return out


@pytest.fixture(scope="module")
def sample_300(tmp_path_factory):
    return generate_campaign(tmp_path_factory.mktemp("c") / "bf300", 300, seed=11)


@pytest.fixture(scope="module")
def camp_300(sample_300):
    return _read(sample_300)


# ---------------------------------------------------------------------- determinism
def test_same_seed_same_bytes(tmp_path, sample_300):
    again = generate_campaign(tmp_path / "again", 300, seed=11)
    for name in FILES:
        assert (again / name).read_bytes() == (sample_300 / name).read_bytes(), name


def test_different_seed_differs(tmp_path, sample_300):
    other = generate_campaign(tmp_path / "other", 300, seed=12)
    assert (other / "demand.csv").read_bytes() != (sample_300 / "demand.csv").read_bytes()


def test_returns_path_and_writes_all_files(sample_300):
    assert isinstance(sample_300, pathlib.Path)
    for name in FILES:
        assert (sample_300 / name).is_file(), name
        raw = (sample_300 / name).read_bytes()
        raw.decode("utf-8")
        assert b"\r" not in raw


def test_bundled_data_matches_script(tmp_path):
    """data/sample, data/sample_v1 and data/tiny are exactly what scripts/generate_sample.py writes."""
    paths = _load_script().generate_all(tmp_path)
    assert [p.name for p in paths] == ["sample", "sample_v1", "tiny"]
    for p in paths:
        for name in FILES + (("fees.csv",) if p.name == "sample" else ()):
            committed = REPO / "data" / p.name / name
            assert committed.is_file(), f"missing {committed}: run scripts/generate_sample.py"
            assert committed.read_bytes() == (p / name).read_bytes(), f"{committed} is stale"


# ---------------------------------------------------------------------- SPEC §1 rules
def _check_spec_rules(c: dict) -> None:
    camp, skus, sup, wh, lanes, dem, inv = (c["campaign"], c["skus"], c["suppliers"],
                                            c["warehouses"], c["lanes"], c["demand"],
                                            c["inventory"])
    # campaign.toml
    for key in ("name", "currency", "planning_date", "promo_start", "promo_end", "budget",
                "buffer_days"):
        assert key in camp, key
    assert isinstance(camp["name"], str) and camp["name"]
    assert camp["promo_start"] <= camp["promo_end"]
    assert camp["planning_date"] < camp["promo_start"]
    assert isinstance(camp["budget"], float) and camp["budget"] > 0
    assert camp["budget"] % 1000 == 0
    assert isinstance(camp["buffer_days"], int) and camp["buffer_days"] >= 0
    assert camp["stockout_penalty"] >= 0
    assert "min_fill_rate" not in camp and "max_sku_budget_share" not in camp
    assert camp["solver"]["mip_gap"] == 0.001 and camp["solver"]["time_limit_s"] == 60

    # skus.csv
    req = ["sku", "supplier", "unit_cost", "price", "weight_kg", "volume_m3", "case_pack", "moq",
           "production_days", "duty_rate", "salvage_value", "return_rate"]
    assert set(req) <= set(skus.columns)
    assert skus["sku"].is_unique and skus["sku"].notna().all()
    assert skus[req[2:]].notna().all().all()
    for col in ("case_pack", "moq", "production_days"):
        assert pd.api.types.is_integer_dtype(skus[col]), col
    assert (skus["unit_cost"] > 0).all() and (skus["price"] > 0).all()
    assert (skus["weight_kg"] > 0).all() and (skus["volume_m3"] > 0).all()
    assert (skus["case_pack"] >= 1).all() and (skus["moq"] >= 0).all()
    assert (skus["production_days"] >= 0).all()
    assert skus["duty_rate"].between(0, 1).all()
    assert ((skus["return_rate"] >= 0) & (skus["return_rate"] < 1)).all()
    assert (skus["salvage_value"] >= 0).all()
    assert (skus["salvage_value"] <= skus["price"]).all()
    assert (skus["stockout_penalty"].dropna() >= 0).all()

    # suppliers.csv
    assert sup["supplier"].is_unique
    assert (sup["min_order_value"] >= 0).all()
    cap = sup["capacity_units"].dropna()
    assert (cap >= 0).all() and (cap == np.floor(cap)).all()
    assert set(skus["supplier"]) <= set(sup["supplier"])

    # warehouses.csv
    assert wh["warehouse"].is_unique
    assert (wh["capacity_m3"] >= 0).all()
    assert wh["cutoff"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    pd.to_datetime(wh["cutoff"], format="%Y-%m-%d")

    # lanes.csv
    assert not lanes.duplicated(["warehouse", "mode"]).any()
    assert set(lanes["warehouse"]) <= set(wh["warehouse"])
    assert pd.api.types.is_integer_dtype(lanes["transit_days"]) and (lanes["transit_days"] >= 0).all()
    for col in ("cost_per_kg", "cost_per_m3", "volumetric_kg_per_m3", "shipment_cost"):
        assert lanes[col].notna().all() and (lanes[col] >= 0).all(), col
    assert (lanes["shipment_m3"].dropna() > 0).all()
    assert (lanes["capacity_m3"].dropna() >= 0).all()

    # demand.csv
    assert not dem.duplicated(["sku", "warehouse"]).any()
    assert set(dem["sku"]) <= set(skus["sku"])
    assert set(dem["warehouse"]) <= set(wh["warehouse"])
    assert (dem["mean"] >= 0).all() and (dem["sd"] >= 0).all()
    assert set(skus["sku"]) == set(dem["sku"]), "every SKU has demand somewhere"

    # inventory.csv
    assert not inv.duplicated(["sku", "warehouse"]).any()
    assert set(inv["sku"]) <= set(skus["sku"])
    assert set(inv["warehouse"]) <= set(wh["warehouse"])
    for col in ("on_hand", "in_transit"):
        assert pd.api.types.is_integer_dtype(inv[col]) and (inv[col] >= 0).all(), col
    moving = inv["in_transit"] > 0
    assert inv.loc[moving, "in_transit_eta"].notna().all()
    assert inv.loc[moving, "in_transit_eta"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert inv.loc[~moving, "in_transit_eta"].isna().all()


@pytest.mark.parametrize("n_skus, seed", [(300, 11), (6, 1), (1, 0), (40, 3), (1000, 5)])
def test_spec_rules(tmp_path, n_skus, seed):
    folder = generate_campaign(tmp_path / "c", n_skus, seed=seed)
    c = _read(folder)
    _check_spec_rules(c)
    assert len(c["skus"]) == n_skus


@pytest.mark.parametrize("folder", ["sample", "sample_v1", "tiny"])
def test_bundled_folders_follow_spec(folder):
    _check_spec_rules(_read(REPO / "data" / folder))


# ---------------------------------------------------------------------- realism
def test_sample_shape(camp_300):
    c = camp_300
    skus, sup, wh, lanes, dem, inv = (c["skus"], c["suppliers"], c["warehouses"], c["lanes"],
                                      c["demand"], c["inventory"])
    assert set(skus["category"]) == {"home", "electronics", "pets", "outdoor", "beauty"}
    assert skus["name"].notna().all()
    assert 15 <= len(sup) <= 25
    assert skus["unit_cost"].between(1.5, 60).all()
    ratio = skus["price"] / skus["unit_cost"]
    assert ratio.between(2.0, 4.0).all()
    assert np.allclose((skus["price"] * 100).round() % 100, 99)
    assert skus["weight_kg"].between(0.05, 8).all()
    assert skus["volume_m3"].between(0.0005, 0.05).all()
    assert set(skus["case_pack"]) <= {1, 4, 6, 10, 12, 20, 24, 36, 48}
    assert skus["production_days"].between(10, 45).all()
    assert skus["duty_rate"].between(0, 0.25).all()
    assert (skus["salvage_value"] <= 0.4 * skus["unit_cost"] + 0.01).all()
    assert (skus["moq"] == 0).any() and (skus["moq"] % skus["case_pack"] == 0).all()
    assert 0 < skus["stockout_penalty"].notna().sum() < 0.1 * len(skus)
    # each supplier mostly serves one category
    top_share = skus.groupby("supplier")["category"].agg(lambda s: s.value_counts(normalize=True).iloc[0])
    assert top_share.median() >= 0.8
    assert (sup["min_order_value"] > 0).any() and sup["capacity_units"].notna().any()
    assert sup["capacity_units"].isna().mean() > 0.5

    assert set(wh["market"]) == {"US", "UK", "DE"}
    assert {"ONT8", "LGB8", "BFI4", "LTN1", "BHX4", "DTM1", "FRA3", "US-3PL-NJ"} == set(wh["warehouse"])
    assert lanes.groupby("warehouse").size().between(3, 5).all()
    assert set(lanes.loc[lanes["mode"] == "rail", "warehouse"]) <= set(wh.loc[wh["market"] == "DE", "warehouse"])
    fcl = lanes[lanes["mode"] == "sea_fcl"]
    assert (fcl["shipment_m3"] == 60).all() and fcl["shipment_cost"].between(3500, 6500).all()
    assert lanes.loc[lanes["mode"] != "sea_fcl", "shipment_m3"].isna().all()
    assert (lanes.loc[lanes["mode"] == "air", "volumetric_kg_per_m3"] == 167).all()
    assert (lanes.loc[lanes["mode"] == "courier", "volumetric_kg_per_m3"] == 200).all()
    assert lanes["capacity_m3"].notna().any()

    # heavy-tailed demand, 1-3 markets per SKU, sd = cv * mean with cv in [0.25, 0.8]
    assert dem["mean"].max() >= 2000 and dem["mean"].median() <= 200
    markets = dem.merge(wh, on="warehouse").groupby("sku")["market"].nunique()
    assert markets.between(1, 3).all()
    cv = dem["sd"] / dem["mean"]
    assert cv.between(0.2, 0.85).all()

    # inventory: some on hand, some in transit, a few arriving after the cutoff
    pairs = len(dem)
    assert 0.3 * pairs <= (inv["on_hand"] > 0).sum() <= 0.5 * pairs
    assert 0.08 * pairs <= (inv["in_transit"] > 0).sum() <= 0.22 * pairs
    late = inv.merge(wh, on="warehouse")
    late = late[(late["in_transit"] > 0) & (late["in_transit_eta"] > late["cutoff"])]
    assert len(late) > 0


def _cheapest_cost(c: dict) -> float:
    """Independent re-computation: cost of every pair's mean by its cheapest on-time lane."""
    camp, skus, wh, lanes, dem = c["campaign"], c["skus"], c["warehouses"], c["lanes"], c["demand"]
    m = dem.merge(skus, on="sku").merge(wh, on="warehouse").merge(lanes, on="warehouse")
    slack = (pd.to_datetime(m["cutoff"]) - pd.Timestamp(camp["planning_date"])).dt.days
    m = m[m["production_days"] + m["transit_days"] + camp["buffer_days"] <= slack].copy()
    freight = (m["cost_per_kg"] * np.maximum(m["weight_kg"], m["volume_m3"] * m["volumetric_kg_per_m3"])
               + m["cost_per_m3"] * m["volume_m3"]
               + (m["shipment_cost"] / m["shipment_m3"]).fillna(0.0) * m["volume_m3"])
    m["c"] = m["unit_cost"] * (1 + m["duty_rate"]) + freight
    best = m.groupby(["sku", "warehouse"]).agg(c=("c", "min"), mean=("mean", "first"))
    assert len(best) == len(dem), "every demand pair has an on-time lane"
    return float((best["c"] * best["mean"]).sum())


def test_budget_binds(camp_300):
    full = _cheapest_cost(camp_300)
    budget = camp_300["campaign"]["budget"]
    assert budget < full
    assert math.isclose(budget, 0.45 * full, abs_tol=500.0 + 1e-6)


def test_budget_fraction(tmp_path):
    c = _read(generate_campaign(tmp_path / "b", 300, seed=11, budget_fraction=0.2))
    assert math.isclose(c["campaign"]["budget"], 0.2 * _cheapest_cost(c), abs_tol=500.0 + 1e-6)


def test_deadlines_make_sea_feasible_for_most_not_all(camp_300):
    c = camp_300
    m = (c["demand"].merge(c["skus"], on="sku").merge(c["warehouses"], on="warehouse")
         .merge(c["lanes"][c["lanes"]["mode"].str.startswith("sea")], on="warehouse"))
    slack = (pd.to_datetime(m["cutoff"]) - PLANNING).dt.days
    m["ok"] = m["production_days"] + m["transit_days"] + c["campaign"]["buffer_days"] <= slack
    share = m.groupby(["sku", "warehouse"])["ok"].any().mean()
    assert 0.6 <= share < 1.0
    cut = pd.to_datetime(c["warehouses"]["cutoff"])
    assert cut.min() >= pd.Timestamp("2026-11-01") and cut.max() <= pd.Timestamp("2026-11-15")
    assert str(c["campaign"]["planning_date"]) == "2026-08-20"
    assert 5 <= c["campaign"]["buffer_days"] <= 7


def test_name_and_tiny_network(tmp_path):
    c = _read(generate_campaign(tmp_path / "t", 6, seed=1, name='Tiny "demo"'))
    assert c["campaign"]["name"] == 'Tiny "demo"'
    assert len(c["warehouses"]) == 2 and len(c["lanes"]) <= 6
    full = _read(generate_campaign(tmp_path / "f", 6, seed=1, network="full"))
    assert len(full["warehouses"]) == 8
    with pytest.raises(ValueError):
        generate_campaign(tmp_path / "x", 0)


def test_bundled_sample_identity():
    c = _read(REPO / "data" / "sample")
    assert c["campaign"]["name"] == "Black Friday 2026 (sample)"
    assert len(c["skus"]) == 300
    t = _read(REPO / "data" / "tiny")
    assert t["campaign"]["name"] == "Tiny demo"
    assert len(t["skus"]) <= 10 and len(t["warehouses"]) == 2


# ---------------------------------------------------------------------- scale
def test_row_counts_scale(tmp_path, camp_300):
    big = _read(generate_campaign(tmp_path / "big", 5000, seed=11))
    _check_spec_rules(big)
    assert len(big["skus"]) == 5000
    assert len(big["suppliers"]) == round(5000 / 15)
    assert 15 * len(camp_300["demand"]) <= len(big["demand"]) <= 19 * len(camp_300["demand"])
    assert 12 * len(camp_300["inventory"]) <= len(big["inventory"]) <= 22 * len(camp_300["inventory"])
    assert len(big["lanes"]) == len(camp_300["lanes"]) and len(big["warehouses"]) == 8
    # capacities grow with the campaign so the problem keeps its shape
    cap_small = camp_300["warehouses"].set_index("warehouse")["capacity_m3"]
    cap_big = big["warehouses"].set_index("warehouse")["capacity_m3"]
    assert ((cap_big / cap_small).between(5, 40)).all()
    assert big["campaign"]["budget"] > 8 * camp_300["campaign"]["budget"]
    assert big["skus"]["sku"].is_unique


# ---------------------------------------------------------------------- seller economics
def test_seller_economics_leave_the_rest_unchanged(tmp_path):
    """economics=True adds the SPEC §6 inputs and changes no other number: the same
    demand, lanes, inventory and (USD-quoted) costs as the plain campaign."""
    from optimizer.io.campaign import load_campaign
    plain = generate_campaign(tmp_path / "plain", n_skus=60, seed=5)
    rich = generate_campaign(tmp_path / "rich", n_skus=60, seed=5, economics=True)
    for name in ("demand.csv", "lanes.csv", "inventory.csv"):
        assert (plain / name).read_bytes() == (rich / name).read_bytes(), name
    a, b = load_campaign(plain), load_campaign(rich)
    assert b.uses_seller_economics and not a.uses_seller_economics
    usd = (b.skus["cost_currency"] == "USD").to_numpy()
    assert 0 < usd.sum() < len(usd)  # some suppliers quote in CNY
    assert (b.skus["unit_cost"][usd] == a.skus["unit_cost"][usd]).all()
    # a CNY quote converts back to the USD cost within the rounding of 2 decimals of CNY
    assert np.allclose(b.skus["unit_cost"][~usd], a.skus["unit_cost"][~usd], atol=0.005 * 0.14 + 1e-9)
    assert b.warehouses.set_index("warehouse").at["US-3PL-NJ", "bonded"]
    assert set(b.fees["warehouse"]) == {"US-3PL-NJ"}
    assert [c.until.isoformat() for c in b.config.cash_limits] == ["2026-08-31", "2026-09-30", "2026-10-31"]
    assert b.config.leftover_months == 2 and b.config.fx == {"CNY": 0.14}
    assert b.config.po_cycle_days == 7 and a.config.po_cycle_days == 1  # weekly purchase orders


def test_fba_fee_tiers():
    from samples.economics import fba_fee
    assert fba_fee(np.array([0.2, 0.25, 0.3, 0.9, 1.5, 2.0, 4.5])).tolist() == [
        3.22, 3.22, 3.86, 4.75, 5.95, 5.95, 6.95]


# ------------------------------------------------------------------ sales-history exports


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """The no_flag and viral exports of one 30-SKU campaign."""
    from samples.history import generate_history

    out = {}
    for export in ("no_flag", "viral"):
        folder = generate_campaign(tmp_path_factory.mktemp(export) / "c", 30, seed=5)
        out[export] = (folder, generate_history(folder, seed=5, export=export).table)
    return out


@pytest.mark.slow
def test_no_flag_export_looks_like_a_seller_central_export(exports):
    folder, truth = exports["no_flag"]
    sales = pd.read_csv(folder / "sales_history.csv")
    assert "stockout" not in sales and "on_hand" not in sales
    assert sales["date"].min() == "2023-08-20" and sales["date"].max() == "2026-08-19"
    demand = pd.read_csv(folder / "demand.csv")
    with_history = demand[demand["sku"].isin(set(sales["sku"]))]
    merged = truth.merge(with_history, on=["sku", "warehouse"])
    assert len(merged) == len(with_history) == len(truth)
    assert np.allclose(merged["expected"], merged["mean"])        # the truth is demand.csv's mean
    # every series: 0-2 spells of 3-10 zero days; a sixth of the SKUs launched within the year
    assert truth["stockout_days"].between(0, 20).all() and truth["stockout_days"].gt(0).mean() > 0.4
    first = sales.groupby("sku")["date"].min()
    assert (first > "2025-08-19").sum() == round(30 / 6)
    assert truth.groupby("sku")["new"].first().sum() == round(30 / 6)
    toml = (folder / "campaign.toml").read_text()
    assert 'name = "Black Friday 2023"' in toml and "Prime Day 2023" not in toml


@pytest.mark.slow
def test_viral_export_has_spikes_the_no_flag_one_has_not(exports):
    def spiky_skus(folder):   # SKUs with a non-promo week above 4 x their median week
        s = pd.read_csv(folder / "sales_history.csv", parse_dates=["date"])
        s = s[s["promo"] == 0]
        weekly = s.groupby(["sku", pd.Grouper(key="date", freq="W")])["units"].sum()
        g = weekly.groupby(level="sku")
        return int((g.max() > 4 * g.median().clip(lower=5)).sum())
    assert spiky_skus(exports["viral"][0]) >= 5 > spiky_skus(exports["no_flag"][0])
    # the same catalogue and seed: the truths' expected demand is the same
    assert np.allclose(exports["viral"][1]["expected"], exports["no_flag"][1]["expected"])
