"""Loading and validating a campaign folder (SPEC §1).

Bad campaigns are built in tmp_path from a small valid campaign (:func:`folder`)
with one edit each, and must report a Problem naming the right file, line
(header = line 1) and column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.io.campaign import Campaign, CampaignConfig, load_campaign
from optimizer.io.errors import InputError, Problem
from optimizer.prep.instance import build_instance
from optimizer.settings import Settings

from conftest import OWN_CAMPAIGNS, case_folders, conformance_cases

CASES = case_folders(OWN_CAMPAIGNS) + conformance_cases()

VALID = {
    "campaign.toml": (
        'name = "suppliers"\ncurrency = "USD"\nplanning_date = 2026-09-01\npromo_start = 2026-11-27\n'
        "promo_end = 2026-12-01\nbudget = 1000000.0\nbuffer_days = 0\nstockout_penalty = 0.0\n"),
    "skus.csv": (
        "sku,supplier,unit_cost,price,weight_kg,volume_m3,case_pack,moq,production_days,duty_rate,"
        "salvage_value,return_rate\n"
        "A,F1,10,30,0.5,0.002,1,0,10,0.0,4.0,0.0\n"
        "B,F1,6,18,0.5,0.002,1,0,10,0.0,4.0,0.0\n"
        "C,F2,4,9,0.5,0.002,1,0,10,0.0,1.0,0.0\n"),
    "suppliers.csv": "supplier,min_order_value,capacity_units\nF1,0,600.0\nF2,2500,\n",
    "warehouses.csv": "warehouse,market,capacity_m3,cutoff\nFBA1,US,1000.0,2026-11-01\n",
    "lanes.csv": (
        "warehouse,mode,transit_days,cost_per_kg,cost_per_m3,volumetric_kg_per_m3,shipment_cost,"
        "shipment_m3,capacity_m3\nFBA1,sea,30,0.0,100.0,0,0.0,,\n"),
    "demand.csv": "sku,warehouse,mean,sd\nA,FBA1,300,80\nB,FBA1,500,100\nC,FBA1,150,50\n",
    "inventory.csv": "sku,warehouse,on_hand,in_transit,in_transit_eta\nA,FBA1,5,0,\n",
}


# ---------------------------------------------------------------- helpers


@pytest.fixture
def folder(tmp_path) -> Path:
    """A valid campaign: skus A, B (F1), C (F2); suppliers F1, F2; warehouse FBA1;
    lane FBA1/sea; demand for A, B, C at FBA1; inventory of A at FBA1."""
    root = tmp_path / "campaign"
    root.mkdir()
    for name, text in VALID.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def write(root: Path, file: str, text: str) -> None:
    (root / file).write_text(text, encoding="utf-8")


def append(root: Path, file: str, line: str) -> None:
    with open(root / file, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def edit_cell(root: Path, file: str, line: int, column: str, value: str) -> None:
    """Set one cell; ``line`` as a spreadsheet shows it (header = line 1)."""
    rows = list(csv.reader(io.StringIO((root / file).read_text(encoding="utf-8"))))
    rows[line - 1][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    write(root, file, out.getvalue())


def drop_column(root: Path, file: str, column: str) -> None:
    frame = pd.read_csv(root / file, dtype=str, keep_default_na=False)
    frame.drop(columns=[column]).to_csv(root / file, index=False)


def problems_of(root: Path) -> list[Problem]:
    with pytest.raises(InputError) as caught:
        load_campaign(root)
    return caught.value.problems


def where(problems: list[Problem]) -> set[tuple]:
    return {(p.file, p.row, p.column) for p in problems}


def the_problem(problems: list[Problem], file: str, row: int | None, column: str | None) -> Problem:
    found = [p for p in problems if (p.file, p.row, p.column) == (file, row, column)]
    assert len(found) == 1, f"expected one problem at {file}/{row}/{column}, got:\n" + "\n".join(
        map(str, problems))
    return found[0]


# ---------------------------------------------------------------- valid campaigns


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_conformance_case_loads_with_typed_tables(case):
    c = load_campaign(case)
    assert isinstance(c, Campaign) and isinstance(c.config, CampaignConfig)
    assert c.config.name == case.name
    if c.inventory.empty:  # the columns below are typed even without rows
        c.inventory = c.inventory.astype({"on_hand": "int64", "in_transit": "int64"})

    def kinds(frame, columns, check):
        for col in columns:
            assert check(frame[col]), f"{col}: {frame[col].dtype}"

    is_str, is_float, is_int = (pd.api.types.is_string_dtype, pd.api.types.is_float_dtype,
                                lambda s: s.dtype == "int64")
    kinds(c.skus, ["sku", "supplier"], is_str)
    kinds(c.skus, ["unit_cost", "price", "weight_kg", "volume_m3", "duty_rate", "salvage_value",
                   "return_rate", "stockout_penalty"], is_float)
    kinds(c.skus, ["case_pack", "moq", "production_days"], is_int)
    kinds(c.suppliers, ["supplier"], is_str)
    kinds(c.suppliers, ["min_order_value", "capacity_units"], is_float)
    kinds(c.warehouses, ["warehouse", "market"], is_str)
    kinds(c.warehouses, ["capacity_m3"], is_float)
    assert all(type(d) is dt.date for d in c.warehouses["cutoff"])
    kinds(c.lanes, ["warehouse", "mode"], is_str)
    kinds(c.lanes, ["transit_days"], is_int)
    kinds(c.lanes, ["cost_per_kg", "cost_per_m3", "volumetric_kg_per_m3", "shipment_cost",
                    "shipment_m3", "capacity_m3"], is_float)
    kinds(c.demand, ["sku", "warehouse"], is_str)
    kinds(c.demand, ["mean", "sd"], is_float)
    kinds(c.inventory, ["sku", "warehouse"], is_str)
    kinds(c.inventory, ["on_hand", "in_transit"], is_int)
    assert c.inventory["in_transit_eta"].dtype == object
    assert set(c.skus["stockout_penalty"]) <= {c.config.stockout_penalty}
    assert set(c.skus["supplier"]) <= set(c.suppliers["supplier"])


def test_values_of_a_conformance_case(shared_conformance):
    c = load_campaign(shared_conformance / "c05_deadline")
    assert c.config.planning_date == dt.date(2026, 9, 1) and c.config.buffer_days == 5
    assert c.config.solver.mip_gap == 0.001 and c.config.solver.time_limit_s == 120
    assert c.config.min_fill_rate is None and c.config.max_sku_budget_share is None
    assert list(c.lanes["mode"]) == ["sea", "air"]
    assert c.lanes["shipment_m3"].isna().all() and c.lanes["capacity_m3"].isna().all()
    assert c.inventory.to_dict("records") == [
        {"sku": "A", "warehouse": "FBA1", "on_hand": 50, "in_transit": 200,
         "in_transit_eta": dt.date(2026, 10, 25)}]
    assert c.warehouses["cutoff"].tolist() == [dt.date(2026, 10, 20)]


def test_optional_files_absent(folder):
    (folder / "suppliers.csv").unlink()
    (folder / "inventory.csv").unlink()
    c = load_campaign(folder)
    assert c.suppliers["supplier"].tolist() == ["F1", "F2"]
    assert c.suppliers["min_order_value"].tolist() == [0.0, 0.0]
    assert c.suppliers["capacity_units"].isna().all()
    assert c.inventory.empty
    assert list(c.inventory.columns) == ["sku", "warehouse", "on_hand", "in_transit", "in_transit_eta"]
    assert c.inventory["on_hand"].dtype == "int64"


def test_unused_supplier_is_kept_and_blank_capacity_is_unlimited(folder):
    append(folder, "suppliers.csv", "F3,100,")
    c = load_campaign(folder)
    assert c.suppliers["supplier"].tolist() == ["F1", "F2", "F3"]
    assert c.suppliers["capacity_units"].tolist()[0] == 600.0
    assert math.isnan(c.suppliers["capacity_units"].tolist()[2])


def test_extra_columns_kept_and_sku_penalty_overrides_default(folder):
    write(folder, "campaign.toml", (folder / "campaign.toml").read_text().replace(
        "stockout_penalty = 0.0", "stockout_penalty = 2.5"))
    write(folder, "skus.csv", (
        "sku,supplier,unit_cost,price,weight_kg,volume_m3,case_pack,moq,production_days,"
        "duty_rate,salvage_value,return_rate,category,stockout_penalty,notes\n"
        "A,F1,10,30,0.5,0.002,1,0,10,0.0,4.0,0.0,toys,7,fragile\n"
        "B,F1,6,18,0.5,0.002,1,0,10,0.0,4.0,0.0,toys,,\n"
        "C,F2,4,9,0.5,0.002,1,0,10,0.0,1.0,0.0,,0,\n"))
    c = load_campaign(folder)
    assert c.skus["stockout_penalty"].tolist() == [7.0, 2.5, 0.0]
    assert c.skus["category"].tolist() == ["toys", "toys", ""]
    assert "notes" not in c.skus
    assert c.extra_columns["skus.csv"]["notes"].tolist() == ["fragile", "", ""]
    assert [str(w) for w in c.warnings] == ["skus.csv, column 'notes': unknown column: ignored"]


def test_extra_column_named_like_another_files_key_is_ignored(folder):
    """lanes.csv with a ``sku`` column must not stand in for skus.csv's when tables are joined."""
    lanes = (folder / "lanes.csv").read_text().splitlines()
    write(folder, "lanes.csv", "\n".join([lanes[0] + ",sku"] + [ln + ",1" for ln in lanes[1:]]) + "\n")
    c = load_campaign(folder)
    assert "sku" not in c.lanes
    assert build_instance(c, Settings()).routes.index.names == ["sku", "warehouse", "mode"]


def test_messy_but_valid_export(folder):
    """BOM, CRLF, spaces, header case, quoted thousands, blank and trailing-comma lines."""
    skus = (
        "\ufeff SKU , Supplier,Unit_Cost,price,weight_kg,volume_m3,case_pack,MOQ,production_days,"
        "duty_rate,salvage_value,return_rate\r\n"
        " A , F1 ,\"1,234.5\",\"2,000\",0.5,0.002, 12.0 ,\"1,000\",10,0,4.0,0.0\r\n"
        "\r\n"
        "B,F1,6,18,0.5,0.002,1,0,10,0.0,4.0,0.0\r\n"
        "C,F2,4,9,0.5,0.002,1,0,10,0.0,1.0,0.0\r\n"
        ",,,,,,,,,,,\r\n"
        "\r\n\r\n"
    )
    (folder / "skus.csv").write_bytes(skus.encode("utf-8"))
    (folder / "warehouses.csv").write_bytes(
        b"\xef\xbb\xbfwarehouse,market,capacity_m3,cutoff\r\nFBA1 , US ,\"1,000\", 2026-11-01 \r\n")
    c = load_campaign(folder)
    assert list(c.skus.columns[:3]) == ["sku", "supplier", "unit_cost"]
    assert c.skus["sku"].tolist() == ["A", "B", "C"]
    assert c.skus.loc[0, "supplier"] == "F1"
    assert c.skus.loc[0, "unit_cost"] == 1234.5 and c.skus.loc[0, "price"] == 2000.0
    assert c.skus.loc[0, "case_pack"] == 12 and c.skus.loc[0, "moq"] == 1000
    assert c.skus["case_pack"].dtype == "int64"
    assert c.warehouses.to_dict("records") == [
        {"warehouse": "FBA1", "market": "US", "capacity_m3": 1000.0, "cutoff": dt.date(2026, 11, 1),
         "storage_cost_per_m3_month": 0.0, "bonded": False}]  # SPEC §6 defaults


def test_quoted_iso_date_in_toml_is_accepted(folder):
    text = (folder / "campaign.toml").read_text().replace(
        "planning_date = 2026-09-01", 'planning_date = "2026-09-01"')
    write(folder, "campaign.toml", text + "\n[solver]\nthreads = 2\ntime_limit_s = 30\n")
    c = load_campaign(folder)
    assert c.config.planning_date == dt.date(2026, 9, 1)
    assert (c.config.solver.threads, c.config.solver.time_limit_s) == (2, 30.0)


# ---------------------------------------------------------------- one bad cell, one problem

BAD_CELLS = [
    # file, line, column, new value, column reported, message fragment
    ("skus.csv", 2, "unit_cost", "abc", "unit_cost", "must be a number > 0, got 'abc'"),
    ("skus.csv", 2, "unit_cost", "0", "unit_cost", "> 0"),
    ("skus.csv", 2, "price", "nan", "price", "got 'nan'"),
    ("skus.csv", 2, "weight_kg", "inf", "weight_kg", "got 'inf'"),
    ("skus.csv", 2, "volume_m3", "1e999", "volume_m3", "got '1e999'"),
    ("skus.csv", 2, "price", "1,5", "price", "got '1,5'"),
    ("skus.csv", 3, "case_pack", "12.5", "case_pack", "whole number >= 1, got '12.5'"),
    ("skus.csv", 3, "case_pack", "0", "case_pack", "whole number >= 1"),
    ("skus.csv", 3, "case_pack", "1e20", "case_pack", "must be at most 1e+06"),
    ("skus.csv", 3, "moq", "-1", "moq", ">= 0"),
    ("skus.csv", 3, "production_days", "", "production_days", "is empty"),
    ("skus.csv", 2, "duty_rate", "1.5", "duty_rate", "in [0, 1]"),
    ("skus.csv", 2, "duty_rate", "5%", "duty_rate", "0.05"),
    ("skus.csv", 2, "return_rate", "1", "return_rate", "in [0, 1)"),
    ("skus.csv", 2, "salvage_value", "31", "salvage_value", "can't be worth more than selling it"),
    ("skus.csv", 2, "supplier", "F9", "supplier", "unknown supplier 'F9': not in suppliers.csv"),
    ("skus.csv", 2, "supplier", "", "supplier", "is empty"),
    ("suppliers.csv", 2, "min_order_value", "-5", "min_order_value", ">= 0"),
    ("suppliers.csv", 3, "capacity_units", "-1", "capacity_units", ">= 0 or empty"),
    ("warehouses.csv", 2, "cutoff", "11/01/2026", "cutoff", "YYYY-MM-DD, got '11/01/2026'"),
    ("warehouses.csv", 2, "cutoff", "2026-02-30", "cutoff", "YYYY-MM-DD"),
    ("warehouses.csv", 2, "capacity_m3", "-1", "capacity_m3", ">= 0"),
    ("lanes.csv", 2, "transit_days", "3.5", "transit_days", "whole number"),
    ("lanes.csv", 2, "warehouse", "FBA9", "warehouse", "unknown warehouse 'FBA9'"),
    ("lanes.csv", 2, "shipment_m3", "0", "shipment_m3", "> 0 or empty"),
    ("lanes.csv", 2, "capacity_m3", "-1", "capacity_m3", ">= 0 or empty"),
    ("lanes.csv", 2, "cost_per_kg", "", "cost_per_kg", "is empty"),
    ("demand.csv", 2, "sku", "Z", "sku", "unknown sku 'Z': not in skus.csv"),
    ("demand.csv", 3, "warehouse", "FBA2", "warehouse", "unknown warehouse 'FBA2'"),
    ("demand.csv", 2, "mean", "-1", "mean", ">= 0"),
    ("demand.csv", 4, "sd", "", "sd", "is empty"),
    ("inventory.csv", 2, "in_transit", "5", "in_transit_eta", "required when in_transit > 0"),
    ("inventory.csv", 2, "on_hand", "2.5", "on_hand", "whole number"),
    ("inventory.csv", 2, "in_transit_eta", "25/10/2026", "in_transit_eta", "YYYY-MM-DD"),
    ("inventory.csv", 2, "sku", "Z", "sku", "unknown sku 'Z'"),
    ("inventory.csv", 2, "warehouse", "FBA9", "warehouse", "unknown warehouse 'FBA9'"),
]


@pytest.mark.parametrize("file, line, column, value, reported, fragment", BAD_CELLS,
                         ids=[f"{c[0]}:{c[2]}={c[3]!r}" for c in BAD_CELLS])
def test_bad_cell_is_one_problem_at_its_place(folder, file, line, column, value, reported, fragment):
    edit_cell(folder, file, line, column, value)
    problems = problems_of(folder)
    assert len(problems) == 1, "\n".join(map(str, problems))
    assert (problems[0].file, problems[0].row, problems[0].column) == (file, line, reported)
    assert fragment in problems[0].message


def test_problem_text_names_file_line_and_column(folder):
    edit_cell(folder, "skus.csv", 4, "unit_cost", "abc")
    (problem,) = problems_of(folder)
    assert str(problem) == "skus.csv, line 4, column 'unit_cost': must be a number > 0, got 'abc'"
    assert str(Problem("lanes.csv", None, None, "required file is missing")) == \
        "lanes.csv: required file is missing"
    assert str(Problem("campaign.toml", None, "budget", "must be > 0")) == \
        "campaign.toml, key 'budget': must be > 0"
    assert str(Problem("command line", None, "--budget", "must be > 0")) == \
        "command line, option '--budget': must be > 0"


# ---------------------------------------------------------------- keys, columns, files


@pytest.mark.parametrize("file, row, key, message", [
    ("skus.csv", "A,F1,10,30,0.5,0.002,1,0,10,0.0,4.0,0.0", "sku", "duplicate sku 'A': already on line 2"),
    ("suppliers.csv", "F2,0,", "supplier", "already on line 3"),
    ("warehouses.csv", "FBA1,US,5,2026-11-01", "warehouse", "already on line 2"),
    ("lanes.csv", "FBA1,sea,30,0,1,0,0,,", "warehouse, mode",
     "duplicate warehouse 'FBA1', mode 'sea': already on line 2"),
    ("demand.csv", "B,FBA1,1,1", "sku, warehouse", "already on line 3"),
    ("inventory.csv", "A,FBA1,1,0,", "sku, warehouse", "already on line 2"),
])
def test_duplicate_key_names_both_lines(folder, file, row, key, message):
    append(folder, file, row)
    last_line = len((folder / file).read_text().splitlines())
    problem = the_problem(problems_of(folder), file, last_line, key)
    assert message in problem.message


def test_missing_required_columns_one_problem_each(folder):
    drop_column(folder, "skus.csv", "moq")
    drop_column(folder, "skus.csv", "price")
    drop_column(folder, "lanes.csv", "shipment_m3")
    problems = problems_of(folder)
    assert where(problems) == {("skus.csv", None, "price"), ("skus.csv", None, "moq"),
                               ("lanes.csv", None, "shipment_m3")}
    assert all("required column is missing" in p.message for p in problems)


def test_misspelt_column_gets_a_hint(folder):
    write(folder, "demand.csv", "sku,warehouse,means,sd\nA,FBA1,1,1\n")
    problem = the_problem(problems_of(folder), "demand.csv", None, "mean")
    assert "'means'" in problem.message


@pytest.mark.parametrize("file", ["campaign.toml", "skus.csv", "warehouses.csv", "lanes.csv", "demand.csv"])
def test_missing_required_file(folder, file):
    (folder / file).unlink()
    problems = problems_of(folder)
    assert the_problem(problems, file, None, None).message.startswith("required file is missing")


def test_missing_file_hint_for_a_near_namesake(folder):
    (folder / "lanes.csv").rename(folder / "Lanes.CSV")
    assert "'Lanes.CSV'" in the_problem(problems_of(folder), "lanes.csv", None, None).message


def test_duplicate_header_column(folder):
    write(folder, "demand.csv", "sku,warehouse,mean,sd,Mean\nA,FBA1,1,1,2\n")
    the_problem(problems_of(folder), "demand.csv", 1, "mean")


def test_row_with_too_many_values(folder):
    write(folder, "demand.csv", "sku,warehouse,mean,sd\nA,FBA1,1,234,5\nB,FBA1,1,1,\n")
    problem = the_problem(problems_of(folder), "demand.csv", 2, None)
    assert "5 values but the header has 4 columns" in problem.message


def test_unclosed_quote_is_reported_where_it_opens(folder):
    write(folder, "demand.csv", 'sku,warehouse,mean,sd\nA,FBA1,"1,1\nB,FBA1,1,1\n')
    problem = the_problem(problems_of(folder), "demand.csv", 2, "mean")
    assert "got '1,1\\nB" in problem.message


def test_line_numbers_count_blank_lines(folder):
    write(folder, "demand.csv", "sku,warehouse,mean,sd\n\nA,FBA1,1,1\n\n\nB,FBA1,x,1\n")
    the_problem(problems_of(folder), "demand.csv", 6, "mean")


# ---------------------------------------------------------------- unreadable files


def test_non_utf8_file_is_a_problem_and_other_files_are_still_checked(folder):
    (folder / "skus.csv").write_bytes((folder / "skus.csv").read_bytes().replace(
        b"\nB,F1", "\nBé,F1".encode("latin-1")))
    edit_cell(folder, "demand.csv", 2, "mean", "-1")
    problems = problems_of(folder)
    assert where(problems) == {("skus.csv", 3, None), ("demand.csv", 2, "mean")}
    assert "not UTF-8" in problems[0].message


@pytest.mark.parametrize("content, fragment", [
    ("sku,warehouse,mean,sd\nA,FBA1,1,1\n".encode("utf-16"), "UTF-16"),
    (b"sku;warehouse;mean;sd\nA;FBA1;1;1\n", "separated by ';'"),
    (b"", "is empty"),
    (b"\n \n", "is empty"),
    (bytes(range(256)), "is not a text file"),
    (bytes(range(1, 256)), "not UTF-8"),
])
def test_unusable_csv_file(folder, content, fragment):
    (folder / "demand.csv").write_bytes(content)
    problems = problems_of(folder)
    assert len(problems) == 1 and problems[0].file == "demand.csv"
    assert fragment in problems[0].message


def test_no_sku_rows(folder):
    write(folder, "skus.csv", (folder / "skus.csv").read_text().splitlines()[0] + "\n")
    write(folder, "demand.csv", "sku,warehouse,mean,sd\n")
    write(folder, "inventory.csv", VALID["inventory.csv"].splitlines()[0] + "\n")
    assert where(problems_of(folder)) == {("skus.csv", None, None)}


def test_folder_not_found(tmp_path):
    with pytest.raises(InputError) as caught:
        load_campaign(tmp_path / "nope")
    assert "does not exist" in str(caught.value)


@settings(max_examples=40, deadline=None)
@given(file_and_column=st.sampled_from([("skus.csv", "case_pack"), ("skus.csv", "sku"),
                                        ("lanes.csv", "shipment_m3"), ("warehouses.csv", "cutoff"),
                                        ("demand.csv", "sd"), ("inventory.csv", "in_transit")]),
       value=st.text(max_size=12))
@pytest.mark.slow
def test_any_cell_text_loads_or_gives_input_error_never_a_crash(file_and_column, value):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "campaign"
        root.mkdir()
        for name, text in VALID.items():
            write(root, name, text)
        file, column = file_and_column
        edit_cell(root, file, 2, column, value)
        try:
            load_campaign(root)
        except InputError as err:
            assert err.problems and all(p.file for p in err.problems)


# ---------------------------------------------------------------- campaign.toml


def _toml(folder: Path, old: str, new: str) -> None:
    text = (folder / "campaign.toml").read_text()
    assert old in text
    write(folder, "campaign.toml", text.replace(old, new))


@pytest.mark.parametrize("old, new, key, fragment", [
    ("budget = 1000000.0", "budget = -1", "budget", "greater than 0, got -1"),
    ("budget = 1000000.0", "budget = nan", "budget", "finite"),
    ("budget = 1000000.0", 'budget = "lots"', "budget", "got 'lots'"),
    ("budget = 1000000.0", "budget = true", "budget", "valid number, got True"),
    ("buffer_days = 0", "buffer_days = 1.5", "buffer_days", "integer"),
    ("buffer_days = 0", 'buffer_days = "3"', "buffer_days", "integer"),
    ("buffer_days = 0", "buffer_days = -2", "buffer_days", "greater than or equal to 0"),
    ('currency = "USD"\n', "", "currency", "required key is missing"),
    ("planning_date = 2026-09-01", 'planning_date = "01/09/2026"', "planning_date", "YYYY-MM-DD"),
    ("planning_date = 2026-09-01", "planning_date = 2026-09-01T10:00:00", "planning_date", "without a time"),
    ("promo_end = 2026-12-01", "promo_end = 2026-11-01", "promo_end", "before promo_start"),
    ("stockout_penalty = 0.0", "stockout_penalty = -1", "stockout_penalty", "greater than or equal to 0"),
    ("stockout_penalty = 0.0", "min_fill_rate = 1.2", "min_fill_rate", "less than or equal to 1"),
    ("stockout_penalty = 0.0", "max_sku_budget_share = 0", "max_sku_budget_share", "greater than 0"),
    ("stockout_penalty = 0.0", "[solver]\nthreads = 0", "solver.threads", "greater than or equal to 1"),
    ("stockout_penalty = 0.0", "[solver]\ntime_limit_s = 0", "solver.time_limit_s", "greater than 0"),
    ("stockout_penalty = 0.0", "[solver]\nmip_gap = -0.1", "solver.mip_gap", "greater than or equal to 0"),
])
def test_bad_toml_value_names_the_key(folder, old, new, key, fragment):
    _toml(folder, old, new)
    problem = the_problem(problems_of(folder), "campaign.toml", None, key)
    assert fragment in problem.message


def test_toml_syntax_error_gives_the_line(folder):
    _toml(folder, "budget = 1000000.0", "budget = 1,000,000")
    edit_cell(folder, "skus.csv", 2, "price", "-3")
    problems = problems_of(folder)
    assert where(problems) == {("campaign.toml", 6, None), ("skus.csv", 2, "price")}
    assert "not valid TOML" in problems[0].message


# ---------------------------------------------------------------- everything at once


def test_many_problems_across_files_in_one_error(folder):
    _toml(folder, "budget = 1000000.0", "budget = 0")
    edit_cell(folder, "skus.csv", 2, "unit_cost", "abc")
    edit_cell(folder, "skus.csv", 4, "return_rate", "1.2")
    append(folder, "skus.csv", "A,F1,10,30,0.5,0.002,1,0,10,0.0,4.0,0.0")
    edit_cell(folder, "warehouses.csv", 2, "cutoff", "11/01/2026")
    drop_column(folder, "lanes.csv", "transit_days")
    edit_cell(folder, "demand.csv", 3, "sku", "Z")
    edit_cell(folder, "inventory.csv", 2, "in_transit", "10")
    (folder / "suppliers.csv").write_bytes(b"supplier,min_order_value,capacity_units\nF1,0,\xff\n")

    with pytest.raises(InputError) as caught:
        load_campaign(folder)
    error = caught.value
    assert where(error.problems) == {
        ("campaign.toml", None, "budget"),
        ("skus.csv", 2, "unit_cost"),
        ("skus.csv", 4, "return_rate"),
        ("skus.csv", 5, "sku"),
        ("suppliers.csv", 2, None),
        ("warehouses.csv", 2, "cutoff"),
        ("lanes.csv", None, "transit_days"),
        ("demand.csv", 3, "sku"),
        ("inventory.csv", 2, "in_transit_eta"),
    }
    text = str(error).splitlines()
    assert text[0] == f"9 problems in campaign folder {folder}:"
    assert len(text) == 10
    assert [p.file for p in error.problems] == sorted(
        (p.file for p in error.problems),
        key=["campaign.toml", "skus.csv", "suppliers.csv", "warehouses.csv", "lanes.csv",
             "demand.csv", "inventory.csv"].index)


@pytest.mark.parametrize("toml, key, hint", [
    ("min_fil_rate = 0.99\n", "min_fil_rate", "did you mean 'min_fill_rate'?"),
    ("[solver]\ntime_limt_s = 5\n", "solver.time_limt_s", "did you mean 'time_limit_s'?"),
    ("[forecast]\ngrowht = 1.1\n", "forecast.growht", "did you mean 'growth'?"),
    ('[[past_promos]]\nname = "BF"\nstart = 2025-11-28\nend = 2025-12-01\nstrat = 1\n',
     "past_promos[1].strat", "did you mean 'start'?"),
    ("colour = 1\n", "colour", "unknown key (known keys:"),
])
def test_unknown_key_in_campaign_toml_is_an_error_with_a_hint(folder, toml, key, hint):
    # a mistyped optional key must not silently drop its setting
    append(folder, "campaign.toml", toml)
    problem = the_problem(problems_of(folder), "campaign.toml", None, key)
    assert problem.message.startswith("unknown key") and hint in problem.message


def test_mistyped_service_target_is_not_a_plan(folder, tmp_path):
    from optimizer.cli import main

    append(folder, "campaign.toml", "min_fil_rate = 0.99")
    assert main(["plan", str(folder), "--out", str(tmp_path / "run")]) == 2
    assert not (tmp_path / "run").exists()


def test_problems_are_capped_per_file_and_column(folder):
    rows = "".join(f"S{i},F1,abc,30,0.5,0.002,1,0,10,0.0,4.0,0.0\n" for i in range(60))
    write(folder, "skus.csv", VALID["skus.csv"] + rows)
    problems = problems_of(folder)
    unit_cost = [p for p in problems if p.column == "unit_cost"]
    assert len(unit_cost) == 21 and unit_cost[-1].message == "... and 40 more rows like these"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_file_is_named_as_such_with_or_without_bom(folder, encoding):
    (folder / "skus.csv").write_bytes(VALID["skus.csv"].encode(encoding))
    (problem,) = problems_of(folder)
    assert (problem.file, problem.row, problem.column) == ("skus.csv", None, None)
    assert "UTF-16" in problem.message


@pytest.mark.parametrize("file, line, column, value", [
    ("demand.csv", 2, "mean", "1e20"),          # would drop the SKU as worthless
    ("skus.csv", 2, "price", "1e308"),          # would write Infinity into summary.json
    ("skus.csv", 2, "unit_cost", "2e7"),
    ("lanes.csv", 2, "transit_days", "99999"),
    ("warehouses.csv", 2, "capacity_m3", "1e12"),
])
def test_absurd_magnitudes_are_bad_input(folder, file, line, column, value):
    edit_cell(folder, file, line, column, value)
    problem = the_problem(problems_of(folder), file, line, column)
    assert "must be at most" in problem.message and f"got {value!r}" in problem.message


def test_absurd_budget_is_bad_input(folder):
    write(folder, "campaign.toml", VALID["campaign.toml"].replace("budget = 1000000.0", "budget = 1e300"))
    the_problem(problems_of(folder), "campaign.toml", None, "budget")


# ---------------------------------------------------------------- seller economics (SPEC §6)


def add_column(root: Path, file: str, column: str, values: list[str]) -> None:
    frame = pd.read_csv(root / file, dtype=str, keep_default_na=False)
    frame[column] = values
    frame.to_csv(root / file, index=False)


@pytest.mark.parametrize("file, column, values, line, fragment", [
    ("skus.csv", "referral_fee_rate", ["0.15", "1", "0.08"], 3, "in [0, 1)"),
    ("skus.csv", "referral_fee_rate", ["15%", "", ""], 2, "as a fraction"),
    ("skus.csv", "fulfilment_fee", ["-1", "", ""], 2, ">= 0"),
    ("skus.csv", "cost_currency", ["CNY", "", "USD"], 2, "no exchange rate for 'CNY'"),
    ("suppliers.csv", "deposit_share", ["0.3", "1.5"], 3, "in [0, 1]"),
    ("warehouses.csv", "bonded", ["maybe"], 2, "true or false"),
    ("warehouses.csv", "storage_cost_per_m3_month", ["-40"], 2, ">= 0"),
])
def test_bad_seller_economics_cell_names_file_line_and_column(folder, file, column, values, line, fragment):
    add_column(folder, file, column, values)
    problem = the_problem(problems_of(folder), file, line, column)
    assert fragment in problem.message


def test_fees_csv_must_name_known_pairs(folder):
    write(folder, "fees.csv", "sku,warehouse,fulfilment_fee\nA,FBA1,2.4\nZ,FBA1,1.0\nB,FBA9,1.0\nA,FBA1,3\n")
    problems = problems_of(folder)
    assert where(problems) == {("fees.csv", 3, "sku"), ("fees.csv", 4, "warehouse"),
                               ("fees.csv", 5, "sku, warehouse")}


@pytest.mark.parametrize("toml, key, fragment", [
    ("[[cash_limits]]\nuntil = 2026-08-31\nlimit = 1000.0\n", "cash_limits", "before planning_date"),
    ("[[cash_limits]]\nuntil = 2026-10-31\nlimit = -1.0\n", "cash_limits[1].limit", "greater than or equal to 0"),
    ("[[cash_limits]]\nuntil = 2026-10-31\n", "cash_limits[1].limit", "required key is missing"),
    ("[[cash_limits]]\nuntill = 2026-10-31\nlimit = 5.0\n", "cash_limits[1].untill", "did you mean 'until'?"),
    ("leftover_months = -1\n", "leftover_months", "greater than or equal to 0"),
    ("[fx]\nCNY = 0\n", "fx.CNY", "greater than 0"),
])
def test_bad_seller_economics_in_campaign_toml_names_the_key(folder, toml, key, fragment):
    text = (folder / "campaign.toml").read_text()
    write(folder, "campaign.toml", toml + text if toml.startswith("leftover") else text + toml)
    problem = the_problem(problems_of(folder), "campaign.toml", None, key)
    assert fragment in problem.message


def test_seller_economics_are_read_with_defaults_and_costs_converted(folder):
    add_column(folder, "skus.csv", "cost_currency", ["cny", "", "USD"])
    add_column(folder, "warehouses.csv", "bonded", ["True"])
    write(folder, "campaign.toml", (folder / "campaign.toml").read_text()
          + "\n[fx]\nCNY = 0.14\n\n[[cash_limits]]\nuntil = 2026-10-31\nlimit = 5000.0\n")
    c = load_campaign(folder)
    assert c.uses_seller_economics
    assert c.skus["cost_currency"].tolist() == ["CNY", "USD", "USD"]
    assert c.skus["unit_cost"].tolist() == pytest.approx([1.4, 6, 4])
    assert c.skus["quoted_unit_cost"].tolist() == [10, 6, 4]
    assert c.skus["referral_fee_rate"].tolist() == [0, 0, 0]
    assert c.suppliers["deposit_share"].tolist() == [1, 1]
    assert c.warehouses["bonded"].tolist() == [True]
    assert [(x.until, x.limit) for x in c.config.cash_limits] == [(dt.date(2026, 10, 31), 5000.0)]


# ---------------------------------------------------------------- demand shapes (SPEC §7)


def test_demand_distribution_is_read_and_checked(folder):
    add_column(folder, "demand.csv", "distribution", ["LogNormal", "", "poisson"])
    c = load_campaign(folder)
    assert c.demand["distribution"].tolist() == ["lognormal", "normal", "poisson"]
    add_column(folder, "demand.csv", "distribution", ["weibull", "normal", "negative_binomial"])
    problem = the_problem(problems_of(folder), "demand.csv", 2, "distribution")
    assert "must be one of normal, lognormal, negative_binomial, poisson" in problem.message


# ---------------------------------------------------------------- the currency and [fx]


def test_currency_must_be_a_three_letter_code(folder):
    _toml(folder, 'currency = "USD"', 'currency = "<img src=x onerror=alert(1)>"')
    problem = the_problem(problems_of(folder), "campaign.toml", None, "currency")
    assert "three-letter currency code" in problem.message


def test_currency_code_is_read_in_upper_case(folder):
    _toml(folder, 'currency = "USD"', 'currency = " usd "')
    assert load_campaign(folder).config.currency == "USD"


@pytest.mark.parametrize("fx, key, fragments", [
    ("CNY = 0.14\ncny = 0.15\n", "fx", ["'CNY' and 'cny'", "keep one"]),
    ("USD = 0.9\n", "fx", ["USD is the campaign currency"]),
    ("C1Y = 0.1\n", "fx.C1Y", ["must be a three-letter currency code", "'C1Y'"]),
    ("'' = 0.1\n", "fx.", ["must be a three-letter currency code"]),
])
def test_bad_fx_table_names_the_keys(folder, fx, key, fragments):
    append(folder, "campaign.toml", "[fx]\n" + fx)
    problems = problems_of(folder)
    problem = the_problem(problems, "campaign.toml", None, key)
    assert all(f in problem.message for f in fragments), problem.message
    assert "Input should" not in problem.message and "Value error" not in problem.message


def test_fx_rate_of_one_for_the_own_currency_is_accepted(folder):
    append(folder, "campaign.toml", "[fx]\nusd = 1\ncny = 0.14\n")
    assert load_campaign(folder).config.rate("CNY") == 0.14


# ---------------------------------------------------------------- what is at a file's path


def _lines(problems):
    return "\n".join(map(str, problems))


@pytest.mark.parametrize("file", ["inventory.csv", "suppliers.csv", "fees.csv", "skus.csv", "campaign.toml"])
def test_broken_symlink_is_named_not_read_as_no_file(folder, file):
    (folder / file).unlink(missing_ok=True)
    (folder / file).symlink_to(folder / "gone.csv")
    problem = the_problem(problems_of(folder), file, None, None)
    assert "broken symbolic link" in problem.message and "gone.csv" in problem.message


@pytest.mark.parametrize("file", ["inventory.csv", "suppliers.csv", "warehouses.csv"])
def test_symlink_loop_is_named(folder, file):
    (folder / file).unlink()
    (folder / file).symlink_to(folder / "loop.csv")
    (folder / "loop.csv").symlink_to(folder / file)
    problem = the_problem(problems_of(folder), file, None, None)
    assert "loops" in problem.message


def test_symlink_to_a_file_is_read(folder, tmp_path):
    elsewhere = tmp_path / "stock.csv"
    (folder / "inventory.csv").rename(elsewhere)
    (folder / "inventory.csv").symlink_to(elsewhere)
    assert load_campaign(folder).inventory["on_hand"].tolist() == [5]


@pytest.mark.parametrize("make, fragment", [
    (lambda p: p.mkdir(), "is a folder, not a file"),
    (lambda p: os.mkfifo(p), "is a named pipe (FIFO), not a file"),
    (lambda p: p.symlink_to("/dev/null"), "is a device, not a file"),
])
@pytest.mark.parametrize("file", ["fees.csv", "skus.csv"])
def test_what_is_there_instead_of_a_file_is_named(folder, file, make, fragment):
    (folder / file).unlink(missing_ok=True)
    make(folder / file)
    problem = the_problem(problems_of(folder), file, None, None)  # a FIFO is never opened: no hang
    assert problem.message == fragment


def test_unreadable_file_is_named(folder, monkeypatch):
    read_bytes = Path.read_bytes

    def denied(self):
        if self.name == "inventory.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    problem = the_problem(problems_of(folder), "inventory.csv", None, None)
    assert problem.message == "cannot be read: permission denied"


def test_checked_csv_names_a_broken_symlink(tmp_path):
    from optimizer.io.campaign import read_checked_csv
    from optimizer.io.checks import Col

    (tmp_path / "actuals.csv").symlink_to(tmp_path / "nowhere.csv")
    frame, problems = read_checked_csv(tmp_path / "actuals.csv", "actuals.csv", (Col("sku", "str"),), ("sku",))
    assert frame is None and "broken symbolic link" in problems[0].message
    frame, problems = read_checked_csv(tmp_path / "absent.csv", "absent.csv", (Col("sku", "str"),), ("sku",))
    assert frame is None and problems[0].message == "required file is missing"


@pytest.mark.parametrize("file", ["factors.csv", "demand_overrides.csv"])
def test_forecast_inputs_name_a_broken_symlink(folder, file):
    from optimizer.forecast.history import read_factors, read_overrides

    campaign = load_campaign(folder)
    read = read_factors if file == "factors.csv" else read_overrides
    assert read(folder, campaign)[1] == []  # absent: no factors, no overrides
    (folder / file).symlink_to(folder / "gone.csv")
    problems = read(folder, campaign)[1]
    assert [(p.file, p.row) for p in problems] == [(file, None)]
    assert "broken symbolic link" in problems[0].message


# ---------------------------------------------------------------- not text, Excel's sep= line


@pytest.mark.parametrize("data, fragment", [
    (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8, "it looks like a program (ELF executable)"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "it looks like a PDF document"),
    (b"\x00\x01\x02garbage\xff" * 100, "it holds binary data (NUL bytes)"),
])
def test_binary_file_is_not_called_utf16(folder, data, fragment):
    (folder / "skus.csv").write_bytes(data)
    problem = the_problem(problems_of(folder), "skus.csv", None, None)
    assert problem.message.startswith("is not a text file") and fragment in problem.message
    assert "UTF-16" not in problem.message


def test_workbook_saved_as_csv_is_named(folder):
    import zipfile

    with zipfile.ZipFile(folder / "skus.csv", "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook/>")
    problem = the_problem(problems_of(folder), "skus.csv", None, None)
    assert problem.message == ("is not a text file: it looks like an Excel workbook (zip); "
                               "save it as CSV UTF-8 ('CSV UTF-8' in Excel)")


@pytest.mark.parametrize("hint", ["sep=,\n", "sep=,\r\n", '"sep=,"\n', "\ufeffsep=,\n"])
def test_excel_separator_line_is_accepted(folder, hint):
    (folder / "skus.csv").write_bytes((hint + VALID["skus.csv"]).encode("utf-8"))
    assert load_campaign(folder).skus["sku"].tolist() == ["A", "B", "C"]


def test_excel_separator_line_keeps_lines_as_excel_shows_them(folder):
    edit_cell(folder, "skus.csv", 3, "price", "-3")  # line 3: the second SKU, header = line 1
    write(folder, "skus.csv", "sep=,\n" + (folder / "skus.csv").read_text())
    problem = the_problem(problems_of(folder), "skus.csv", 3, "price")
    assert "got '-3'" in problem.message


def test_excel_separator_line_names_the_separator(folder):
    text = VALID["demand.csv"].replace(",", ";")
    write(folder, "demand.csv", "sep=;\n" + text)
    assert load_campaign(folder).demand["mean"].tolist() == [300, 500, 150]
    write(folder, "demand.csv", "sep=;\n" + text.replace("500;100", "1,234;100"))
    problem = the_problem(problems_of(folder), "demand.csv", 3, "mean")  # not read as 1234
    assert "decimal comma" in problem.message
    write(folder, "demand.csv", text)  # without the hint a ';' file is still refused
    assert "looks separated by ';'" in the_problem(problems_of(folder), "demand.csv", 1, None).message


# ---------------------------------------------------------------- dates against the planning date


def test_planning_date_after_promo_end_is_an_error(folder):
    _toml(folder, "planning_date = 2026-09-01", "planning_date = 2026-12-02")
    problem = the_problem(problems_of(folder), "campaign.toml", None, "promo_end")
    assert "before planning_date (2026-12-02)" in problem.message


def test_cutoff_before_the_planning_date_is_a_warning(folder):
    assert load_campaign(folder).warnings == []
    edit_cell(folder, "warehouses.csv", 2, "cutoff", "2026-08-15")
    (warning,) = load_campaign(folder).warnings  # the warehouse can receive nothing: not an error
    assert (warning.file, warning.row, warning.column) == ("warehouses.csv", 2, "cutoff")
    assert "before planning_date (2026-09-01): this warehouse can receive nothing" in warning.message


def test_validate_and_plan_print_the_warnings(folder, tmp_path):
    import contextlib
    import io

    from optimizer.cli import main

    edit_cell(folder, "warehouses.csv", 2, "cutoff", "2026-08-15")
    for command in (["validate", str(folder)], ["plan", str(folder), "--out", str(tmp_path / "run")]):
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            main(command)
        assert "warning: warehouses.csv, line 2, column 'cutoff'" in err.getvalue(), err.getvalue()


@pytest.mark.parametrize("file, column, value", [
    ("inventory.csv", "in_transit_eta", "1900-01-01"),
    ("inventory.csv", "in_transit_eta", "2036-01-01"),
    ("warehouses.csv", "cutoff", "1900-01-01"),
])
def test_date_years_from_the_planning_date_is_bad_input(folder, file, column, value):
    edit_cell(folder, file, 2, column, value)
    if file == "inventory.csv":
        edit_cell(folder, file, 2, "in_transit", "10")
    problems = problems_of(folder)
    problem = the_problem(problems, file, 2, column)
    assert "within five years of planning_date" in problem.message and value in problem.message


# ---------------------------------------------------------------- control characters in messages


def test_control_characters_in_ids_are_escaped_in_messages(folder):
    edit_cell(folder, "demand.csv", 2, "sku", "A\x1b[2J\u202e")
    error = pytest.raises(InputError, load_campaign, folder).value
    assert error.problems[0].message == "unknown sku 'A\x1b[2J\u202e': not in skus.csv"  # kept as read
    text = str(error)
    assert "\x1b" not in text and "\u202e" not in text
    assert "unknown sku 'A\\x1b[2J\\u202e'" in text
    assert str(Problem("skus.csv", 2, "name", "café 中 ok")) == "skus.csv, line 2, column 'name': café 中 ok"


def test_seller_economics_facts_escape_warehouse_ids(folder):
    edit_cell(folder, "warehouses.csv", 2, "warehouse", "FBA1\x1b[2J")
    for file in ("lanes.csv", "demand.csv", "inventory.csv"):
        write(folder, file, (folder / file).read_text().replace("FBA1,", "FBA1\x1b[2J,"))
    add_column(folder, "warehouses.csv", "bonded", ["yes"])
    facts = load_campaign(folder).seller_economics_facts()
    assert "bonded: FBA1\\x1b[2J" in facts and not any("\x1b" in f for f in facts)


# ---------------------------------------------------------------- purchase orders (SPEC §6)


def test_po_cycle_days_defaults_to_one_and_is_read(folder):
    assert load_campaign(folder).config.po_cycle_days == 1
    _toml(folder, "buffer_days = 0\n", "buffer_days = 0\npo_cycle_days = 7\n")
    c = load_campaign(folder)
    assert c.config.po_cycle_days == 7
    assert c.uses_seller_economics and "purchase orders every 7 days" in c.seller_economics_facts()


@pytest.mark.parametrize("value, fragment", [
    ("0", "greater than or equal to 1"),
    ("-7", "greater than or equal to 1"),
    ("7.0", "valid integer"),
    ('"7"', "valid integer"),
    ("true", "valid integer"),
    ("100000", "less than or equal to 3650"),
])
def test_bad_po_cycle_days_names_the_key(folder, value, fragment):
    _toml(folder, "buffer_days = 0\n", f"buffer_days = 0\npo_cycle_days = {value}\n")
    problem = the_problem(problems_of(folder), "campaign.toml", None, "po_cycle_days")
    assert fragment in problem.message


def test_buyer_table_is_read_and_incoterms_default_to_fob(folder):
    buyer = load_campaign(folder).config.buyer
    assert (buyer.company, buyer.address, buyer.contact, buyer.incoterms) == (None, None, None, "FOB")
    append(folder, "campaign.toml", '[buyer]\ncompany = " Acme Trading LLC "\n'
           'address = """\n1 Main St\nReno NV 89501"""\ncontact = "Jane Doe"\nincoterms = "fob  Yantian port"\n')
    buyer = load_campaign(folder).config.buyer
    assert buyer.company == "Acme Trading LLC" and buyer.address == "1 Main St\nReno NV 89501"
    assert buyer.contact == "Jane Doe" and buyer.incoterms == "FOB Yantian port"


@pytest.mark.parametrize("toml, key, fragment", [
    ('[buyer]\ncompnay = "Acme"\n', "buyer.compnay", "did you mean 'company'?"),
    ('[buyer]\ncompany = "  "\n', "buyer.company", "is blank"),
    ("[buyer]\ncompany = 3\n", "buyer.company", "valid string"),
    ('[buyer]\ncontact = "Jane\\tDoe"\n', "buyer.contact", "control character"),
    (f'[buyer]\naddress = "{"x" * 201}"\n', "buyer.address", "at most 200"),
    ('[buyer]\nincoterms = "FOBB"\n', "buyer.incoterms", "Incoterms 2020 rule"),
    ('[buyer]\nincoterms = "free on board"\n', "buyer.incoterms", "e.g. 'FOB Shenzhen'"),
    ('buyer = "Acme"\n', "buyer", "valid dictionary"),
])
def test_bad_buyer_table_names_the_key(folder, toml, key, fragment):
    text = (folder / "campaign.toml").read_text()
    write(folder, "campaign.toml", toml + text if not toml.startswith("[") else text + toml)
    problem = the_problem(problems_of(folder), "campaign.toml", None, key)
    assert fragment in problem.message


def test_supplier_address_and_contact_are_kept_as_text(folder):
    add_column(folder, "suppliers.csv", "address", ["88 Harbour Rd, Ningbo", ""])
    add_column(folder, "suppliers.csv", "contact", ["=Mr Li", "00123"])
    s = load_campaign(folder).suppliers.set_index("supplier")
    assert s.at["F1", "address"] == "88 Harbour Rd, Ningbo" and s.at["F2", "address"] == ""
    assert s.at["F1", "contact"] == "=Mr Li" and s.at["F2", "contact"] == "00123"  # not a number
