"""Bad forecasting inputs: exit code 2, each problem naming file, line and column."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from samples.campaign import generate_campaign

from conftest import run_cli

pytestmark = pytest.mark.slow

GOOD = "date,sku,warehouse,units,stockout\n{d},{s},{w},3,0\n"


@pytest.fixture
def folder(tmp_path):
    f = generate_campaign(tmp_path / "c", 6, seed=1)
    demand = (f / "demand.csv").read_text().splitlines()[1].split(",")
    (f / "sales_history.csv").write_text(GOOD.format(d="2026-01-05", s=demand[0], w=demand[1]))
    return SimpleNamespace(path=f, sku=demand[0], wh=demand[1])


def _fails(folder, *needles):
    r = run_cli(["forecast", str(folder.path)], timeout=60)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in r.stderr, (n, r.stderr)
    return r.stderr


def test_bad_cells_are_named(folder):
    s, w = folder.sku, folder.wh
    (folder.path / "sales_history.csv").write_text(
        "date,sku,warehouse,units,stockout\n"
        f"2026-01-05,{s},{w},3,0\n"
        f"2026-13-01,{s},{w},3,0\n"
        f"2026-01-07,{s},{w},-3,0\n"
        f"2026-01-08,{s},NOPE,3,0\n"
        f"2026-01-09,{s},{w},3,2\n"
        f"2026-01-05,{s},{w},4,0\n"
        f"2027-01-05,{s},{w},4,0\n")
    _fails(folder, "sales_history.csv, line 3, column 'date'", "line 4, column 'units'",
           "line 5, column 'warehouse': unknown warehouse 'NOPE'", "line 6, column 'stockout'",
           "line 7", "duplicate day 2026-01-05", "already on line 2",
           "line 8, column 'date'", "not before planning_date")


def test_missing_file_and_columns(folder):
    (folder.path / "sales_history.csv").unlink()
    _fails(folder, "sales_history.csv: required file is missing")
    (folder.path / "sales_history.csv").write_text("day,sku,qty\n2026-01-05,X,3\n")
    _fails(folder, "column 'date': required column is missing", "column 'units'", "column 'warehouse'")
    (folder.path / "sales_history.csv").write_text("date;sku;warehouse;units\n")
    _fails(folder, "comma-separated")


def test_bad_promos_and_factors(folder):
    with open(folder.path / "campaign.toml", "a") as fh:
        fh.write('\n[forecast]\ngrowth = -1\n\n[[past_promos]]\nname = "Black Friday 2025"\n'
                 "start = 2025-11-28\nend = 2025-11-01\n\n[[past_promos]]\nstart = 2025-07-01\n")
    (folder.path / "factors.csv").write_text("scope,key,growth,ad_uplift,competition\n"
                                        "brand,x,1.1,,\nsku,NOPE,,1.2,\ncategory,home,0,,\n")
    _fails(folder, "key 'forecast.growth'", "key 'past_promos[1].end'", "must not be before start",
           "key 'past_promos[2].name'", "key 'past_promos[2].end': required key is missing",
           "factors.csv, line 2, column 'scope'", "line 3, column 'key': unknown sku 'NOPE'",
           "line 4, column 'growth'")


def test_bad_overrides(folder):
    (folder.path / "demand_overrides.csv").write_text(f"sku,warehouse,mean,sd\n{folder.sku},{folder.wh},-1,\n")
    _fails(folder, "demand_overrides.csv, line 2, column 'mean'")


def test_market_level_history_is_accepted(folder):
    (folder.path / "sales_history.csv").write_text(GOOD.replace("warehouse", "market").format(
        d="2026-01-05", s=folder.sku, w="MARS"))
    _fails(folder, "line 2, column 'market': unknown market 'MARS'")
