"""Batches on Dask distributed (optimizer.workflows.distributed) and frontier/batch runs in the run history.

One real ``LocalCluster`` (2 worker processes, one thread each) serves the whole
module; the command-line tests reach it through its scheduler address, the way a
real cluster is used.  data/tiny with ``mip_gap = 0``: every point is proven
optimal, so the Dask frontier (independent cold solves) and the single-process
frontier (one persistent model) must agree.  Timings are printed (``-s``).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import time

import pandas as pd
import pytest

from optimizer.cli import UsageError, main, parse_delay_lists
from optimizer.io.campaign import load_campaign
from optimizer.io.run_index import input_checksum, read_history
from optimizer.settings import Settings
from optimizer.workflows.distributed import (
    RESULT_COLUMNS,
    TASK_COLUMNS,
    SolveTask,
    dask_client,
    dask_frontier,
    run_batch,
)
from optimizer.workflows.frontier import COLUMNS, budget_frontier, budget_steps

from conftest import REPO

pytestmark = pytest.mark.distributed

TINY = REPO / "data" / "tiny"
EXACT = Settings(mip_gap=0.0, time_limit_s=30)


@pytest.fixture(scope="module")
def client():
    t0 = time.perf_counter()
    with dask_client("local", n_workers=2) as c:
        print(f"\nLocalCluster (2 workers) up in {time.perf_counter() - t0:.1f}s")
        yield c


@pytest.fixture(scope="module")
def budgets():
    return budget_steps(load_campaign(TINY).config.budget, 4)


@pytest.fixture(scope="module")
def single_process(budgets):
    t0 = time.perf_counter()
    table = budget_frontier(TINY, budgets, EXACT)
    return table, time.perf_counter() - t0


def test_dask_frontier_equals_single_process_frontier(client, budgets, single_process):
    single, single_s = single_process
    t0 = time.perf_counter()
    table = dask_frontier(TINY, list(reversed(budgets)), client, EXACT)
    dask_s = time.perf_counter() - t0
    print(f"\ndata/tiny frontier, {len(budgets)} budgets: single process {single_s:.2f}s, "
          f"Dask LocalCluster {dask_s:.2f}s")
    assert list(table.columns) == COLUMNS
    assert table["budget"].tolist() == sorted(budgets) == single["budget"].tolist()
    assert table.attrs["errors"] == {}
    assert table["status"].tolist() == single["status"].tolist() == ["optimal"] * len(budgets)
    assert table["expected_profit"].tolist() == pytest.approx(single["expected_profit"].tolist(), rel=1e-6)
    assert math.isnan(table["marginal_profit_per_budget"].iloc[0])
    assert table["marginal_profit_per_budget"].iloc[1:].tolist() == pytest.approx(
        single["marginal_profit_per_budget"].iloc[1:].tolist(), rel=1e-5, abs=1e-6)
    assert (table["spend"] <= table["budget"] + 1e-6).all()


def test_batch_reports_a_failed_task_and_keeps_the_others(client, single_process, tmp_path):
    single, _ = single_process
    b = float(single["budget"].iloc[2])
    tasks = [
        SolveTask(str(TINY), b, EXACT, label="good"),
        # β = 1 with uncertain demand: no finite stock meets it (diagnosed before solving)
        SolveTask(str(TINY), b, Settings(min_fill_rate=1.0), label="unreachable service"),
        SolveTask(str(tmp_path / "no-such-campaign"), label="missing folder"),
        SolveTask(str(TINY), b, EXACT, input_sha256="0" * 64, label="stale copy"),
        SolveTask(str(TINY), None, EXACT, label="campaign budget"),
    ]
    table = run_batch(tasks, client)
    assert list(table.columns) == TASK_COLUMNS + RESULT_COLUMNS
    assert table["label"].tolist() == [t.label for t in tasks]  # input order kept
    assert table["status"].tolist() == ["optimal", "failed", "failed", "failed", "optimal"]
    assert table["error_type"].iloc[1:4].tolist() == ["ServiceInfeasible", "InputError", "InputsDiffer"]
    assert "min_fill_rate = 1 cannot be met" in table["error"].iloc[1]
    assert "does not exist" in table["error"].iloc[2]
    assert table["expected_profit"].iloc[0] == pytest.approx(single["expected_profit"].iloc[2], rel=1e-6)
    assert table["budget"].iloc[4] == load_campaign(TINY).config.budget
    assert table["build_seconds"].iloc[0] > 0 and table["solve_seconds"].iloc[0] > 0
    # the same batch in this process, without a cluster, gives the same rows
    here = run_batch(tasks, client=None)
    assert here["status"].tolist() == table["status"].tolist()
    assert here["error_type"].tolist() == table["error_type"].tolist()
    assert here["expected_profit"].tolist() == pytest.approx(table["expected_profit"].tolist(),
                                                             rel=1e-6, nan_ok=True)


def _cli(args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def test_frontier_runs_are_recorded_in_the_history(client, tmp_path):
    address = client.scheduler.address
    base = ["frontier", str(TINY), "--budgets", "10000", "29000", "--time-limit", "30",
            "--reports-dir", str(tmp_path)]
    code, _, err = _cli(base)
    assert code == 0, err
    code, out, err = _cli([*base, "--scheduler", address])
    assert code == 0, err
    assert "2 workers" in err  # connected to the cluster by its address
    assert "frontier.csv" in out and "marginal_profit_per_budget" in out
    runs = sorted(tmp_path.glob("tiny-demo/*/frontier.csv"))
    assert len(runs) == 2
    single, dask = (pd.read_csv(p) for p in runs)
    assert dask["expected_profit"].tolist() == pytest.approx(single["expected_profit"].tolist(), rel=2e-3)

    h = read_history(tmp_path / "history.sqlite")
    assert len(h) == 4 and set(h["campaign"]) == {"Tiny demo"}
    assert h["run_id"].tolist() == [runs[0].parent.name] * 2 + [runs[1].parent.name] * 2
    assert (h["input_sha256"] == input_checksum(TINY)).all()
    assert h["status"].tolist() == single["status"].tolist() + dask["status"].tolist()
    assert h["expected_profit"].tolist() == pytest.approx(
        single["expected_profit"].tolist() + dask["expected_profit"].tolist())
    assert h["spend"].tolist() == pytest.approx(single["spend"].tolist() + dask["spend"].tolist())
    assert h["solve_seconds"].notna().all() and h["build_seconds"].iloc[[0, 2]].gt(0).all()
    params = [json.loads(p) for p in h["parameters"]]
    assert [p["command"] for p in params] == ["frontier"] * 4
    assert [p["budget"] for p in params] == [10000.0, 29000.0] * 2
    assert [p["scheduler"] for p in params] == ["single-process"] * 2 + [address] * 2
    assert all(p["time_limit_s"] == 30 and p["delays"] == {} for p in params)


def test_failed_frontier_run_is_recorded(tmp_path):
    campaign = tmp_path / "late"
    campaign.mkdir()
    for f in TINY.iterdir():
        (campaign / f.name).write_bytes(f.read_bytes())
    toml = campaign / "campaign.toml"
    toml.write_text(toml.read_text().replace("budget = 29000.0", "budget = 29000.0\nmin_fill_rate = 1.0"))
    code, _, err = _cli(["frontier", str(campaign), "--budgets", "10000", "--reports-dir",
                         str(tmp_path / "reports")])
    assert code == 3 and "cannot be met" in err
    h = read_history(tmp_path / "reports" / "history.sqlite")
    assert h["status"].tolist() == ["failed"]
    assert h["message"].iloc[0].startswith("ServiceInfeasible: The service target")
    assert (tmp_path / "reports" / h["run_id"].iloc[0]).parts[-1] == h["run_id"].iloc[0]


def test_scenarios_command_on_the_cluster(client, tmp_path):
    code, out, err = _cli(["scenarios", str(TINY), "--delay", "sea_lcl=0,20", "--delay", "air=0",
                           "--delay", "sea_lcl=10", "--scheduler", client.scheduler.address,
                           "--reports-dir", str(tmp_path)])
    assert code == 0, err
    [csv] = tmp_path.glob("tiny-demo/*/scenarios.csv")
    assert str(csv) in out and "sea_lcl +20" in out
    table = pd.read_csv(csv)
    assert table["scenario"].tolist() == ["no delay", "sea_lcl +20", "sea_lcl +10"]
    assert table["delay_sea_lcl"].tolist() == [0, 20, 10] and (table["delay_air"] == 0).all()
    assert (table["budget"] == 29000.0).all() and (table["status"] == "optimal").all()
    assert table["profit_vs_no_delay"].iloc[0] == 0
    # a later delivery only removes routes: it cannot raise the optimum (beyond the 0.1 % gap)
    assert (table["profit_vs_no_delay"] <= 1e-3 * table["expected_profit"].iloc[0]).all()
    assert table["profit_vs_no_delay"].iloc[1] < 0  # +20 days on the sea lanes does cost
    h = read_history(tmp_path / "history.sqlite")
    params = [json.loads(p) for p in h["parameters"]]
    assert [p["scenario"] for p in params] == table["scenario"].tolist()
    assert [p["delays"] for p in params] == [{"sea_lcl": d, "air": 0} for d in (0, 20, 10)]
    assert {p["command"] for p in params} == {"scenarios"}
    assert h["expected_profit"].tolist() == pytest.approx(table["expected_profit"].tolist())


def test_scenario_delay_lists_parse_and_reject_bad_values(tmp_path):
    assert parse_delay_lists(["sea=0,7", "air=0,3", "sea=14,7"]) == {"sea": [0, 7, 14], "air": [0, 3]}
    with pytest.raises(UsageError):
        parse_delay_lists(["sea=soon"])
    code, _, err = _cli(["scenarios", str(TINY), "--delay", "boat=5", "--reports-dir", str(tmp_path)])
    assert code == 2 and "no lane has mode 'boat'" in err
    assert not any(tmp_path.iterdir())
