"""Bad forecasting inputs: exit code 2, each problem naming file, line and column."""

from __future__ import annotations

import contextlib
import io
from types import SimpleNamespace

import pandas as pd
import pytest

from optimizer.cli import main
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


def _forecast(folder, *extra):
    """``optimizer.cli.main(["forecast", ...])`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["forecast", str(folder), *extra])
    return code, out.getvalue(), err.getvalue()


def _daily(folder, days, skus=None, units=3):
    """A sales history of ``days`` consecutive days ending the day before planning_date,
    for every demand.csv pair (or those of ``skus``)."""
    pairs = [line.split(",")[:2] for line in (folder.path / "demand.csv").read_text().splitlines()[1:]]
    dates = pd.date_range(end=pd.Timestamp("2026-08-19"), periods=days).strftime("%Y-%m-%d")
    rows = [f"{d},{s},{w},{units},0\n" for s, w in pairs if skus is None or s in skus for d in dates]
    (folder.path / "sales_history.csv").write_text("date,sku,warehouse,units,stockout\n" + "".join(rows))


@pytest.mark.parametrize("days", [1, 2, 6])
def test_a_history_shorter_than_a_week_is_named(folder, days):
    """One row, two rows or six days of sales: too short for a weekly rate, said as an
    input problem of sales_history.csv (exit 2), never an IndexError."""
    if days == 2:   # two rows: one day apart
        (folder.path / "sales_history.csv").write_text(
            GOOD.format(d="2026-01-05", s=folder.sku, w=folder.wh) + f"2026-01-06,{folder.sku},{folder.wh},4,0\n")
    elif days == 6:
        _daily(folder, 6)
    code, _, err = _forecast(folder.path, "--out", str(folder.path / "out" / "demand.csv"))
    assert code == 2, err
    assert "Traceback" not in err
    assert "sales_history.csv" in err and "column 'date'" in err and "at least 7 days" in err, err
    if days == 1:
        assert "sales_history.csv, line 2, column 'date'" in err, err


def test_a_history_of_unknown_skus_only_is_named(folder):
    (folder.path / "sales_history.csv").write_text(GOOD.format(d="2026-01-05", s="NOT-A-SKU", w=folder.wh))
    code, _, err = _forecast(folder.path)
    assert code == 2 and "Traceback" not in err, err
    assert "sales_history.csv, column 'sku'" in err and "NOT-A-SKU" in err, err


def test_a_week_of_one_skus_history_is_forecast(folder):
    """Seven days of one SKU: a forecast of what there is (its recent mean), the other
    pairs keep their demand.csv rows, and the missing promo lift is said."""
    _daily(folder, 7, skus={folder.sku})
    out = folder.path / "out" / "demand.csv"
    code, stdout, err = _forecast(folder.path, "--out", str(out))
    assert code == 0, err
    demand = pd.read_csv(out)
    mine = demand[demand["sku"] == folder.sku]
    assert len(mine) and (mine["mean"] > 0).all()
    assert "note: no past promo gives a promo lift: campaign.toml lists no [[past_promos]]" in err, err
    assert "lift 1" in err


def test_past_promos_none_of_them_usable_is_said(folder):
    """Past promos listed, but none inside the history with the 28 days before it: the
    forecast says it uses lift 1, and why."""
    _daily(folder, 60)
    _add_promo(folder, "Spring Sale 2026", "2026-05-01", "2026-05-03")   # before the history
    _add_promo(folder, "Summer Sale 2026", "2026-07-01", "2026-07-03")   # 10 days after its start
    code, _, err = _forecast(folder.path, "--out", str(folder.path / "out" / "demand.csv"))
    assert code == 0, err
    assert ("note: no past promo gives a promo lift: none of the 2 [[past_promos]] of campaign.toml "
            "has its whole window and the 28 days before it") in err, err
    assert "(2026-06-21 .. 2026-08-19)" in err, err


def _add_promo(folder, name, start, end):
    with open(folder.path / "campaign.toml", "a") as fh:
        fh.write(f'\n[[past_promos]]\nname = "{name}"\nstart = {start}\nend = {end}\n')


def test_a_past_promo_after_the_planning_date_is_named(folder):
    _daily(folder, 60)
    _add_promo(folder, "Prime Day 2026", "2026-07-14", "2026-07-17")
    _add_promo(folder, "Black Friday 2026", "2026-11-27", "2026-12-01")
    code, _, err = _forecast(folder.path)
    assert code == 2 and "Traceback" not in err, err
    assert "campaign.toml, key 'past_promos[2].start'" in err and "Black Friday 2026" in err, err
    assert "planning_date (2026-08-20)" in err and "past_promos[1]" not in err, err


def test_a_past_promo_after_the_history_is_named(folder):
    """History that ends before a past promo starts has no day of it: named, not silently
    a promo without data."""
    _daily(folder, 60)
    text = (folder.path / "sales_history.csv").read_text().splitlines(keepends=True)
    (folder.path / "sales_history.csv").write_text(
        "".join(line for line in text if line < "2026-07-01" or line.startswith("date")))
    _add_promo(folder, "Prime Day 2026", "2026-07-14", "2026-07-17")
    code, _, err = _forecast(folder.path)
    assert code == 2 and "Traceback" not in err, err
    assert "campaign.toml, key 'past_promos[1].start'" in err and "Prime Day 2026" in err, err
    assert "last day of sales_history.csv (2026-06-30)" in err, err


def test_a_promo_starting_on_the_planning_date_is_named(folder):
    """The forecast and the backtest's default lead are made before the promo: promo_start
    on planning_date (a lead of 0 days) is an input problem of campaign.toml."""
    _daily(folder, 60)
    toml = folder.path / "campaign.toml"
    toml.write_text(toml.read_text().replace("promo_start = 2026-11-27", "promo_start = 2026-08-20"))
    code, _, err = _forecast(folder.path)
    assert code == 2 and "Traceback" not in err, err
    assert "campaign.toml, key 'promo_start': 2026-08-20 is not after planning_date (2026-08-20)" in err, err
