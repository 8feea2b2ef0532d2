"""Golden model: the MILP built for data/tiny, one test per constraint family.

Each family's row and variable counts are pinned (a change in them is a change in
the model, to be reviewed), and one row per family is checked against numbers
worked out by hand from data/tiny's CSV files (SPEC §2):

* BEA-00001 (SUP01): unit_cost 2.67, duty 0, 0.334 kg, 0.00102 m³, case pack 48, MOQ 144;
* ONT8 sea_lcl: 142.38 per m³, shipment cost 250;  ONT8 air: 4.54 per kg, volumetric 167,
  shipment cost 100, lane space 2 m³;
* ELE-00004: unit_cost 11.93, duty 0.25, 1.245 kg, 0.00451 m³, production 45 days;
* warehouses: ONT8 16 m³ (cutoff 2026-11-03), DTM1 5 m³ (cutoff 2026-11-07);
  planning date 2026-08-20, buffer 6 days; SUP01 minimum 17,500 and capacity 2,000 units.
"""

from __future__ import annotations

import pyomo.environ as pyo
import pytest
from pyomo.repn import generate_standard_repn

from optimizer.io.campaign import load_campaign
from optimizer.model import build_model
from optimizer.prep.instance import build_instance

from conftest import REPO

TINY = REPO / "data" / "tiny"


@pytest.fixture(scope="module")
def tiny():
    inst = build_instance(load_campaign(TINY))
    return inst, build_model(inst)


def coefficients(con) -> dict[str, float]:
    """{variable name: coefficient} of a linear row's body (or an objective's expression)."""
    repn = generate_standard_repn(con.body if hasattr(con, "body") else con.expr)
    return {v.name: c for v, c in zip(repn.linear_vars, repn.linear_coefs)}


def count(m, kind) -> dict[str, int]:
    return {c.name: len(c) for c in m.component_objects(kind, descend_into=True)}


def test_pinned_sizes(tiny):
    _, m = tiny
    assert count(m, pyo.Var) == {"cases": 28, "shipments": 5, "order_placed": 5,
                                 "supplier_used": 1, "sales": 10}
    assert count(m, pyo.Constraint) == {
        "lane_capacity_limit": 1, "container_fill": 0, "lane_use": 28, "budget_limit": 1,
        "moq_lower": 4, "moq_upper": 5, "supplier_min_value": 1, "supplier_link": 4,
        "supplier_capacity_limit": 1, "space_limit": 2, "service_lower": 0, "sku_share_limit": 0,
        "sales_chord": 68, "cash_row": 0}


def test_orders_only_routes_that_make_the_cutoff(tiny):
    # ELE-00004 is made in 45 days: 08-20 + 45 + 6 leaves 24 transit days to ONT8 (11-03)
    # and 28 to DTM1 (11-07): air (8 d) to ONT8; air (10 d) and rail (22 d) to DTM1; no sea (38, 39 d).
    inst, m = tiny
    ele4 = sorted(k for k in m.ROUTES if k[0] == "ELE-00004")
    assert ele4 == [("ELE-00004", "DTM1", "air"), ("ELE-00004", "DTM1", "rail"), ("ELE-00004", "ONT8", "air")]
    assert len(inst.late_routes.loc["ELE-00004"]) == 2


def test_budget_row(tiny):
    # cases of BEA-00001 by ONT8 sea_lcl: 48 × (2.67 + 142.38 × 0.00102) = 48 × 2.8152276
    # by ONT8 air: 48 × (2.67 + 4.54 × max(0.334, 0.00102 × 167)) = 48 × 4.18636
    # ELE-00004 by ONT8 air: 20 × (11.93 × 1.25 + 4.54 × 1.245) = 20 × 20.5648
    _, m = tiny
    row = coefficients(m.budget_limit)
    assert row["cases[BEA-00001,ONT8,sea_lcl]"] == pytest.approx(48 * 2.8152276)
    assert row["cases[BEA-00001,ONT8,air]"] == pytest.approx(48 * 4.18636)
    assert row["cases[ELE-00004,ONT8,air]"] == pytest.approx(20 * 20.5648)
    assert row["shipments[ONT8,sea_lcl]"] == pytest.approx(250.0)
    assert pyo.value(m.budget_limit.upper) == pytest.approx(29_000.0)


def test_moq_rows(tiny):
    # 144 · y[BEA-00001] − 48 · Σ cases[BEA-00001, ·] ≤ 0
    _, m = tiny
    row = coefficients(m.moq_lower["BEA-00001"])
    assert pyo.value(m.moq_lower["BEA-00001"].upper) == 0
    assert row["order_placed[BEA-00001]"] == pytest.approx(144.0)
    assert {k: v for k, v in row.items() if k.startswith("cases")} == pytest.approx(
        {f"cases[BEA-00001,{w},{mode}]": -48.0 for w, mode in
         [("DTM1", "air"), ("DTM1", "rail"), ("DTM1", "sea_lcl"), ("ONT8", "air"), ("ONT8", "sea_lcl")]})


def test_supplier_rows(tiny):
    # SUP01: 17,500 · z − Σ unit_cost · case_pack · cases ≤ 0;  Σ case_pack · cases ≤ 2,000
    _, m = tiny
    value = coefficients(m.supplier_min_value["SUP01"])
    assert value["cases[BEA-00001,ONT8,air]"] == pytest.approx(-2.67 * 48)
    assert value["cases[HOM-00002,DTM1,rail]"] == pytest.approx(-15.65 * 4)
    assert value["supplier_used[SUP01]"] == pytest.approx(17_500.0)
    cap = m.supplier_capacity_limit["SUP01"]
    assert coefficients(cap)["cases[BEA-00001,ONT8,air]"] == pytest.approx(48.0)
    assert pyo.value(cap.upper) == pytest.approx(2_000.0)
    assert "ELE-00004" not in {k[0] for k in m.supplier_link}  # SUP02 has no minimum


def test_space_and_lane_rows(tiny):
    # warehouse: Σ volume · case_pack · cases ≤ capacity; BEA-00001: 0.00102 × 48
    _, m = tiny
    dtm1 = m.space_limit["DTM1"]
    assert coefficients(dtm1)["cases[BEA-00001,DTM1,air]"] == pytest.approx(0.00102 * 48)
    assert pyo.value(dtm1.upper) == pytest.approx(5.0)
    (lane,) = list(m.lane_capacity_limit)
    assert lane == ("ONT8", "air")
    assert pyo.value(m.lane_capacity_limit[lane].upper) == pytest.approx(2.0)


def test_shipment_rows(tiny):
    # every route: 48 · cases ≤ U[s,l] · n[lane], U = the route's unit bound; no lane of
    # data/tiny has containers, so every n is a 0/1 use flag and there is no container_fill row
    inst, m = tiny
    k = ("BEA-00001", "ONT8", "sea_lcl")
    row = coefficients(m.lane_use[k])
    assert row["cases[BEA-00001,ONT8,sea_lcl]"] == pytest.approx(48.0)
    assert row["shipments[ONT8,sea_lcl]"] == pytest.approx(-float(inst.routes.at[k, "max_units"]))
    assert all(m.shipments[lane].bounds == (0, 1) for lane in m.shipments)


def test_expected_sales_chords_are_valid_and_tight(tiny):
    # sales[s,w] ≤ chord(A): every chord lies on or above the exact ES of SPEC §2 at every
    # stock level on the pair's case lattice (a valid over-estimate), and touches it where
    # it was placed.  BEA-00001 at DTM1: no stock there, case pack 48, mean 141.7, sd 88.5.
    from optimizer.prep.expected_sales import expected_sales

    inst, m = tiny
    assert len(m.sales) == int(inst.pairs["has_demand"].sum()) == 10
    chords = [m.sales_chord[k] for k in m.sales_chord if k[:2] == ("BEA-00001", "DTM1")]
    assert chords
    route = "cases[BEA-00001,DTM1,sea_lcl]"
    gaps = []
    for n_cases in range(0, 12):
        stock = 48.0 * n_cases
        # the chord's bound on sales when `n_cases` cases go by one route (order flag set)
        bounds = []
        for con in chords:
            row = coefficients(con)
            other = sum(c * (n_cases if name == route else 1.0 if name.startswith("order_placed") else 0.0)
                        for name, c in row.items() if not name.startswith("sales["))
            bounds.append((pyo.value(con.upper) - other) / row["sales[BEA-00001,DTM1]"])
        exact = float(expected_sales(stock, 141.7, 88.5))
        gaps.append(min(bounds) - exact)
    assert min(gaps) >= -1e-6
    assert min(abs(g) for g in gaps) <= 1e-6


def test_objective_sale_value(tiny):
    # net value of a sale of BEA-00006: 49.99 × (1 − 0.032) + 0.032 × 2.39 = 48.46680;
    # the objective weighs its sales by p − salvage + penalty = 48.4668 − 2.39 + 6.60
    inst, m = tiny
    coef = inst.pairs.xs("BEA-00006", level="sku")["sales_coef"]
    assert coef.to_numpy() == pytest.approx(48.4668 - 2.39 + 6.60)
    obj = coefficients(m.objective)
    sales = {k: v for k, v in obj.items() if k.startswith("sales[BEA-00006")}
    assert sales and all(v == pytest.approx(52.6768) for v in sales.values())


def _rows(m) -> dict[str, set]:
    """Every active row of ``m`` as (name, bounds, sorted coefficients), by component."""
    rows = {}
    for con in m.component_objects(pyo.Constraint, active=True):
        rows[con.name] = {(c.name, pyo.value(c.lower) if c.lower is not None else None,
                           pyo.value(c.upper) if c.upper is not None else None,
                           tuple(sorted((k, round(v, 9)) for k, v in coefficients(c).items())))
                          for c in con.values() if c.active}
    return rows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_families_build_the_same_model_in_any_order(tiny, seed):
    """Each family builds what it uses first and reads its numbers from the instance: the
    order of FAMILIES is no contract."""
    import random

    from optimizer.model import FAMILIES

    inst, model = tiny
    families = list(FAMILIES)
    random.Random(seed).shuffle(families)
    shuffled = build_model(inst, families=families)
    assert _rows(shuffled) == _rows(model)
    assert coefficients(shuffled.objective) == pytest.approx(coefficients(model.objective))


def test_no_data_lives_on_the_model(tiny):
    """The model holds Pyomo components only; numbers come from the instance (inst.index)."""
    _, model = tiny
    pyomo_own = set(vars(pyo.ConcreteModel()))
    plain = [name for name, value in vars(model).items()
             if name not in pyomo_own and not isinstance(value, pyo.Component)]
    assert plain == []
