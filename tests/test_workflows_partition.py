"""Large catalogues as supplier groups (optimizer.workflows.partition).

* The split shares out the budget, space and SKUs exactly, and keeps each
  supplier whole; a priced plan of the whole campaign sets the shares.
* A partitioned plan passes the independent checker and has a proven bound for
  the whole campaign; on a Dask LocalCluster
  it is the same plan as in one process.
* The run's overrides reach the parts: the overridden budget is what is shared
  out, the other overrides pass through whole.
* Campaigns the split could break still plan: a supplier without demand, names
  with control characters (the part's campaign.toml round-trips through tomllib).
* A part that fails is named by the part and the campaign folder, never by the
  temporary folder it was planned in.
"""

from __future__ import annotations

import contextlib
import io
import json
import pickle
import shutil
import tempfile
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from optimizer.cli import main
from optimizer.io.campaign import load_campaign
from optimizer.io.errors import InputError, Problem
from optimizer.settings import Settings
from optimizer.solve.diagnose import ServiceInfeasible
from optimizer.workflows import partition
from optimizer.workflows.distributed import dask_client
from optimizer.workflows.partition import (
    PartInputError,
    PartServiceInfeasible,
    part_settings,
    plan_partitioned,
    split_campaign,
)
from optimizer.workflows.planner import SolveFailed
from samples.campaign import generate_campaign

from checker import check_plan
from conftest import run_cli


@pytest.fixture(scope="module")
def campaign_60(tmp_path_factory):
    folder = generate_campaign(tmp_path_factory.mktemp("c60") / "campaign", n_skus=60, seed=3)
    return load_campaign(folder)


def _read(part, name):
    return pd.read_csv(io.StringIO(part.files[name]))


def test_split_shares_out_budget_space_and_skus(campaign_60):
    parts = split_campaign(campaign_60, 3)
    assert len(parts) == 3
    skus = pd.concat([_read(p, "skus.csv") for p in parts])
    assert sorted(skus["sku"]) == sorted(campaign_60.skus["sku"])
    assert skus.groupby("supplier")["sku"].count().to_dict() == \
        campaign_60.skus.groupby("supplier")["sku"].count().to_dict()
    for p in parts:  # a supplier lives in one part only
        assert set(_read(p, "suppliers.csv")["supplier"]) == set(_read(p, "skus.csv")["supplier"])
    budgets = [tomllib.loads(p.files["campaign.toml"])["budget"] for p in parts]
    assert sum(budgets) == pytest.approx(campaign_60.config.budget, rel=1e-9)
    space = sum(_read(p, "warehouses.csv").set_index("warehouse")["capacity_m3"] for p in parts)
    original = campaign_60.warehouses.set_index("warehouse")["capacity_m3"]
    assert (space <= original * (1 + 1e-9)).all()
    assert space.sum() == pytest.approx(original.sum(), rel=1e-9)


def test_a_priced_plan_sets_the_shares_and_every_part_keeps_some(campaign_60):
    plain = split_campaign(campaign_60, 3)
    first = set(_read(plain[0], "skus.csv")["sku"])
    demand = campaign_60.demand
    # a plan that spends only on part 1's SKUs, all in one warehouse
    wh = campaign_60.warehouses["warehouse"].iloc[0]
    priced = pd.DataFrame({"sku": sorted(first), "warehouse": wh, "spend": 100.0, "volume": 2.0})
    parts = split_campaign(campaign_60, 3, priced=priced)
    budgets = [tomllib.loads(p.files["campaign.toml"])["budget"] for p in parts]
    forecast = [tomllib.loads(p.files["campaign.toml"])["budget"] for p in plain]
    total = campaign_60.config.budget
    assert sum(budgets) == pytest.approx(total, rel=1e-9)
    assert budgets[0] == pytest.approx(0.95 * total + 0.05 * forecast[0], rel=1e-9)
    assert all(b > 0 for b in budgets)
    space = [_read(p, "warehouses.csv").set_index("warehouse")["capacity_m3"] for p in parts]
    capacity = campaign_60.warehouses.set_index("warehouse")["capacity_m3"]
    assert space[0][wh] > 0.95 * capacity[wh] and sum(s[wh] for s in space) == pytest.approx(capacity[wh])
    other = [w for w in capacity.index if w != wh and demand["warehouse"].eq(w).any()]
    for w in other:   # no planned volume there: the forecast's shares
        assert [s[w] for s in space] == pytest.approx(
            [_read(p, "warehouses.csv").set_index("warehouse")["capacity_m3"][w] for p in plain])


@pytest.mark.slow
def test_partitioned_plan_passes_the_checker(campaign_60, tmp_path):
    out = tmp_path / "run"
    proc = run_cli(["plan", str(campaign_60.root), "--parts", "3", "--time-limit", "5",
                    "--out", str(out)])
    assert proc.returncode == 0, proc.stderr
    check_plan(campaign_60.root, out).assert_valid()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "partitioned"
    assert summary["best_bound"] >= summary["expected_profit"] and summary["bound_rounds"] >= 1
    assert "gap" in proc.stdout and "to the whole campaign's bound" in proc.stdout
    parts = pd.read_csv(out / "parts.csv")
    assert parts["skus"].sum() == 60 and len(parts) == 3
    # The merge never loses what the parts earned on their own shares.
    assert summary["expected_profit"] >= summary["merged_profit_before_polish"] - 1e-6


@pytest.fixture(scope="module")
def campaign_60_economics(tmp_path_factory):
    folder = generate_campaign(tmp_path_factory.mktemp("c60e") / "campaign", n_skus=60, seed=3,
                               economics=True)
    return load_campaign(folder)


def test_split_shares_out_cash_limits_and_keeps_seller_economics(campaign_60_economics):
    c = campaign_60_economics
    parts = split_campaign(c, 3)
    limits = [tomllib.loads(p.files["campaign.toml"])["cash_limits"] for p in parts]
    for j, limit in enumerate(c.config.cash_limits):
        assert sum(part[j]["limit"] for part in limits) == pytest.approx(limit.limit, rel=1e-9)
    skus = pd.concat([_read(p, "skus.csv") for p in parts]).set_index("sku")
    # costs are written as quoted, so the part converts them exactly once
    quoted = c.skus.set_index("sku")["quoted_unit_cost"]
    assert (skus["unit_cost"] == quoted.reindex(skus.index)).all()
    part_campaign = tomllib.loads(parts[0].files["campaign.toml"])
    assert part_campaign["fx"] == {"CNY": 0.14} and part_campaign["leftover_months"] == 2
    fees = pd.concat([_read(p, "fees.csv") for p in parts if "fees.csv" in p.files])
    assert len(fees) == len(c.fees)


@pytest.mark.slow
def test_partitioned_plan_with_seller_economics_passes_the_checker(campaign_60_economics, tmp_path):
    out = tmp_path / "run"
    proc = run_cli(["plan", str(campaign_60_economics.root), "--parts", "2", "--time-limit", "5",
                    "--out", str(out)])
    assert proc.returncode == 0, proc.stderr
    check_plan(campaign_60_economics.root, out).assert_valid()


@pytest.mark.distributed
def test_dask_partitioned_plan_equals_single_process(repo):
    tiny = load_campaign(repo / "data" / "tiny")
    exact = Settings(mip_gap=0.0, time_limit_s=30)
    ev_single, _, parts_single = plan_partitioned(tiny, 2, exact)
    with dask_client("local", 2) as client:
        ev_dask, _, parts_dask = plan_partitioned(tiny, 2, exact, client)
    pd.testing.assert_frame_equal(ev_single.lines, ev_dask.lines)
    assert ev_dask.expected_profit == pytest.approx(ev_single.expected_profit, rel=1e-12)
    assert parts_dask["status"].tolist() == parts_single["status"].tolist() == ["optimal"] * 2


# ------------------------------------------------------------ robustness of --parts
SUP01_SKUS = ("BEA-00001", "HOM-00002", "BEA-00003", "BEA-00006")  # data/tiny: SUP02 has the other two


def _tiny_copy(repo, tmp_path, name="tiny"):
    folder = tmp_path / name
    shutil.copytree(repo / "data" / "tiny", folder)
    return folder


def _without_sup02_demand(folder):
    demand = pd.read_csv(folder / "demand.csv")
    demand[demand["sku"].isin(SUP01_SKUS)].to_csv(folder / "demand.csv", index=False)
    return folder


def _with_control_characters(folder, name="Tiny\x07demo\x1b\x7f \"quoted\" \\ back"):
    toml = (folder / "campaign.toml").read_text()
    first, rest = toml.split("\n", 1)
    (folder / "campaign.toml").write_text(f"name = {_toml_basic_string(name)}\n{rest}")
    for file in ("skus.csv", "suppliers.csv"):
        table = pd.read_csv(folder / file, dtype=str, keep_default_na=False)
        table["supplier"] = table["supplier"].replace({"SUP02": "SUP\x0702"})
        table.to_csv(folder / file, index=False)
    return folder


def _toml_basic_string(text):
    """A TOML basic string written by hand here, so the test does not trust the writer it tests."""
    escaped = "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F or c in '"\\' else c
                      for c in text)
    return f'"{escaped}"'


def _main(args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def _budgets(parts):
    return [tomllib.loads(p.files["campaign.toml"])["budget"] for p in parts]


def test_split_shares_out_the_budget_it_is_given(campaign_60):
    parts = split_campaign(campaign_60, 3, budget=12_345.0)
    assert sum(_budgets(parts)) == pytest.approx(12_345.0, rel=1e-9)
    space = sum(_read(p, "warehouses.csv").set_index("warehouse")["capacity_m3"] for p in parts)
    assert space.sum() == pytest.approx(campaign_60.warehouses["capacity_m3"].sum(), rel=1e-9)


def test_cash_limits_are_split_from_the_campaign_under_a_budget_override(campaign_60_economics):
    c = campaign_60_economics
    parts = split_campaign(c, 3, budget=c.config.budget / 2)
    limits = [tomllib.loads(p.files["campaign.toml"])["cash_limits"] for p in parts]
    for j, limit in enumerate(c.config.cash_limits):
        assert sum(part[j]["limit"] for part in limits) == pytest.approx(limit.limit, rel=1e-9)


def test_parts_keep_every_override_but_the_budget():
    whole = Settings(budget=15_000.0, max_budget=30_000.0, delays={"sea_lcl": 7}, min_fill_rate=0.5,
                      time_limit_s=9.0, mip_gap=0.02, threads=3)
    part = part_settings(whole)
    assert part.solver == whole.solver and part.pipeline == whole.pipeline
    assert part.what_if.model_dump(exclude={"budget", "max_budget"}) == whole.what_if.model_dump(
        exclude={"budget", "max_budget"})
    assert part.what_if.budget is None and part.what_if.max_budget is None  # the part's folder carries its share


class _RecordingClient:
    """A stand-in Dask client: runs each task here and records its arguments."""

    def __init__(self):
        self.calls = []

    def map(self, fn, *iterables, pure=True):
        self.calls += [(fn.__name__, args) for args in zip(*iterables, strict=True)]
        return [fn(*args) for args in zip(*iterables, strict=True)]

    def gather(self, futures):
        return futures

    def scatter(self, data):
        return data

    def scheduler_info(self):
        return {"workers": {"here": {}}}


@pytest.mark.slow
def test_every_part_is_planned_with_the_overrides(repo):
    tiny = load_campaign(repo / "data" / "tiny")
    overrides = Settings(budget=15_000.0, delays={"sea_lcl": 2}, time_limit_s=7.0, threads=1)
    client = _RecordingClient()
    ev, summary, table = plan_partitioned(tiny, 2, overrides, client)
    planned = [args for fn, args in client.calls if fn == "plan_part"]
    assert [args[1] for args in planned] == [part_settings(overrides)] * 2
    priced = [args for fn, args in client.calls if fn == "part_term_values"]   # the bound's tasks
    assert priced and all(args[1] == part_settings(overrides) for args in priced)
    assert summary.best_bound >= summary.expected_profit
    assert summary.budget == 15_000.0 and summary.spend <= 15_000.0 * (1 + 1e-9)
    assert table["budget"].sum() == pytest.approx(15_000.0, rel=1e-9)


@pytest.mark.slow
def test_plan_parts_with_a_budget_override_spends_within_it(repo, tmp_path):
    tiny = repo / "data" / "tiny"
    out = tmp_path / "run"
    code, stdout, err = _main(["plan", str(tiny), "--parts", "2", "--budget", "15000", "--out", str(out)])
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["budget"] == 15_000.0 and summary["spend"] <= 15_000.0 * (1 + 1e-9)
    assert "of 15,000.00" in stdout
    assert pd.read_csv(out / "parts.csv")["budget"].sum() == pytest.approx(15_000.0, rel=1e-9)
    check_plan(tiny, out, budget=15_000.0).assert_valid()


def test_plan_partitioned_refuses_fewer_than_one_part(repo):
    tiny = load_campaign(repo / "data" / "tiny")
    for n in (0, -1):
        with pytest.raises(ValueError, match="at least 1"):
            plan_partitioned(tiny, n)
        with pytest.raises(ValueError, match="at least 1"):
            split_campaign(tiny, n)


def test_a_supplier_without_demand_takes_no_part_of_its_own(repo, tmp_path):
    campaign = load_campaign(_without_sup02_demand(_tiny_copy(repo, tmp_path)))
    parts = split_campaign(campaign, 2)
    assert all(b > 0 for b in _budgets(parts))
    assert sum(_budgets(parts)) == pytest.approx(campaign.config.budget, rel=1e-9)
    assert sum(p.skus for p in parts) == len(campaign.skus)  # its SKUs are still planned (for nothing)


def test_without_any_demand_the_whole_budget_goes_to_one_part(repo, tmp_path):
    folder = _tiny_copy(repo, tmp_path)
    demand = pd.read_csv(folder / "demand.csv")
    demand.assign(mean=0.0, sd=0.0).to_csv(folder / "demand.csv", index=False)
    parts = split_campaign(load_campaign(folder), 2)
    assert len(parts) == 1 and _budgets(parts) == [pytest.approx(29_000.0)]


@pytest.mark.slow
def test_plan_parts_with_a_supplier_without_demand(repo, tmp_path):
    folder = _without_sup02_demand(_tiny_copy(repo, tmp_path))
    out = tmp_path / "run"
    code, _, err = _main(["plan", str(folder), "--parts", "2", "--out", str(out)])
    assert code == 0 and "Traceback" not in err, err
    assert "split into 1 part by supplier (2 asked, but only 1 supplier has forecast demand)" in err
    check_plan(folder, out).assert_valid()


def test_parts_of_a_campaign_named_with_control_characters_load(repo, tmp_path):
    campaign = load_campaign(_with_control_characters(_tiny_copy(repo, tmp_path)))
    for k, part in enumerate(split_campaign(campaign, 2), start=1):
        folder = tmp_path / f"part{k}"
        folder.mkdir()
        for name, text in part.files.items():
            (folder / name).write_text(text, encoding="utf-8")
        assert load_campaign(folder).config.name == f"{campaign.config.name} (part {k} of 2)"


@pytest.mark.slow
def test_plan_parts_of_a_campaign_named_with_control_characters(repo, tmp_path):
    folder = _with_control_characters(_tiny_copy(repo, tmp_path))
    out = tmp_path / "run"
    code, _, err = _main(["plan", str(folder), "--parts", "2", "--out", str(out)])
    assert code == 0 and "Traceback" not in err, err
    check_plan(folder, out).assert_valid()


def _corrupt_first_part(monkeypatch):
    """Make the first part's skus.csv break a rule the campaign keeps (a derivation defect)."""
    real = partition.split_campaign

    def split(*args, **kwargs):
        parts = real(*args, **kwargs)
        skus = _read(parts[0], "skus.csv").assign(price=-1.0)
        parts[0].files["skus.csv"] = skus.to_csv(index=False)
        return parts

    monkeypatch.setattr(partition, "split_campaign", split)


def test_a_failing_part_is_named_by_the_part_and_the_campaign_folder(repo, tmp_path, monkeypatch):
    _corrupt_first_part(monkeypatch)
    tiny = repo / "data" / "tiny"
    code, _, err = _main(["plan", str(tiny), "--parts", "2", "--out", str(tmp_path / "run")])
    assert code == 2 and "Traceback" not in err, err
    assert "part 1 of 2 (supplier SUP01)" in err and str(tiny) in err and "price" in err
    assert "part-" not in err and str(Path(tempfile.gettempdir()) / "part-") not in err  # no temporary folder


def test_a_part_error_survives_pickling(repo):
    tiny = load_campaign(repo / "data" / "tiny")
    part = split_campaign(tiny, 2)[1]
    errors = [PartInputError([Problem("skus.csv", 3, "price", "must be > 0")], tiny.root, part.label),
              PartServiceInfeasible(0.9, ["not enough space"], tiny.root, part.label),
              SolveFailed("part 2 of 2: no plan")]
    for error in errors:
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and str(back) == str(error)
    assert isinstance(errors[0], InputError) and isinstance(errors[1], ServiceInfeasible)
    assert part.label == "part 2 of 2 (supplier SUP02)"


@pytest.mark.slow
def test_an_unreachable_service_target_in_a_part_names_the_part(repo, tmp_path):
    folder = _tiny_copy(repo, tmp_path)
    toml = (folder / "campaign.toml").read_text()
    (folder / "campaign.toml").write_text(toml.replace("[solver]", "min_fill_rate = 0.999\n\n[solver]"))
    code, _, err = _main(["plan", str(folder), "--parts", "2", "--out", str(tmp_path / "run")])
    assert code == 3 and "Traceback" not in err, err
    assert "part 1 of 2 (supplier SUP01)" in err and str(folder) in err
    assert "part-" not in err


@pytest.mark.parametrize("n", ["0", "-1"])
def test_plan_refuses_fewer_than_one_part_before_any_work(tmp_path, n, repo):
    out = tmp_path / "run"
    code, stdout, err = _main(["plan", str(repo / "data" / "tiny"), "--parts", n, "--out", str(out)])
    assert code == 2 and "--parts" in err and "Traceback" not in err, err
    assert not out.exists() and "split into" not in err and stdout == ""
