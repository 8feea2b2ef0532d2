"""optimizer.evaluate.diff — the rerun diff: what changed between two runs after a lead-time change.

On data/tiny, delaying sea_lcl by 10 days, rail by 10 and air by 20 pushes the
sea_lcl routes of BEA-00006 past both cutoffs (slack 5 and 8 days) and leaves
ELE-00004 with no lane at all (its only usable routes were air and DTM1 rail).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from optimizer.cli import main
from optimizer.evaluate.diff import diff_runs
from optimizer.io.run_index import previous_run, record_run

from conftest import REPO, run_plan_in_process

TINY = REPO / "data" / "tiny"
LATE = {"sea_lcl": 10, "rail": 10, "air": 20}
DELAY_ARGS = [a for m, d in LATE.items() for a in ("--delay", f"{m}={d}")]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    a, b = root / "before", root / "after"
    code_a, out_a = run_plan_in_process(TINY, a)
    code_b, out_b = run_plan_in_process(TINY, b, delays=LATE)
    assert code_a == 0 and code_b == 0, out_a + out_b
    return a, b


def test_diff_names_moved_lines_and_newly_late_pairs(two_runs):
    a, b = two_runs
    d = diff_runs(a, b)
    assert set(d) == {"totals", "moved", "quantities", "newly_late", "lost_routes"}
    moved = d["moved"]
    bea = moved[(moved["sku"] == "BEA-00006") & (moved["change"] == "mode")]
    assert set(bea["warehouse"]) == {"ONT8", "DTM1"} and (bea["before"] == "sea_lcl").all()
    assert not bea["after"].str.contains("sea_lcl").any()
    q = d["quantities"].set_index(["sku", "warehouse", "mode"])
    assert q.loc[("BEA-00006", "ONT8", "sea_lcl"), "direction"] == "dropped"
    assert q.loc[("BEA-00006", "ONT8", "sea_lcl"), "units_after"] == 0
    plan_a, plan_b = (pd.read_csv(r / "plan.csv") for r in (a, b))
    assert q["units_change"].sum() == plan_b["units"].sum() - plan_a["units"].sum()
    late = d["newly_late"]
    assert set(zip(late["sku"], late["warehouse"])) == {("ELE-00004", "ONT8"), ("ELE-00004", "DTM1")}
    lost = set(zip(d["lost_routes"]["sku"], d["lost_routes"]["warehouse"], d["lost_routes"]["mode"]))
    assert ("BEA-00006", "ONT8", "sea_lcl") in lost and ("BEA-00001", "DTM1", "sea_lcl") not in lost
    totals = d["totals"].set_index("metric")
    sa, sb = (json.loads((r / "summary.json").read_text()) for r in (a, b))
    assert totals.at["expected_profit", "change"] == pytest.approx(sb["expected_profit"] - sa["expected_profit"])
    assert totals.at["spend", "change"] == pytest.approx(sb["spend"] - sa["spend"])


def test_diff_of_a_run_with_itself_is_empty(two_runs):
    a, _ = two_runs
    d = diff_runs(a, a)
    assert d["moved"].empty and d["quantities"].empty and d["newly_late"].empty
    assert (d["totals"]["change"].fillna(0) == 0).all()


def test_diff_command(two_runs, tmp_path):
    a, b = two_runs
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["diff", str(a), str(b)]) == 0
    text = out.getvalue()
    assert "switched mode or warehouse" in text and "BEA-00006" in text and "ELE-00004" in text
    with contextlib.redirect_stderr(io.StringIO()) as err:
        assert main(["diff", str(a), str(tmp_path)]) == 2
    assert "not a run folder" in err.getvalue()


def test_previous_run_is_latest_earlier_success_of_same_campaign(tmp_path):
    db = tmp_path / "history.sqlite"
    for i, (campaign, status) in enumerate([("Tiny demo", "optimal"), ("Tiny demo", "time_limit"),
                                            ("Other", "optimal"), ("Tiny demo", "failed")]):
        d = tmp_path / f"r{i}"
        d.mkdir()
        (d / "summary.json").write_text("{}")
        record_run(db, campaign=campaign, run_id=f"2026010{i}", parameters={}, input_sha256=None,
                   status=status, run_dir=d)
    assert previous_run(db, "Tiny demo") == tmp_path / "r1"
    assert previous_run(db, "Tiny demo", before_run_id="20260101") == tmp_path / "r0"
    assert previous_run(db, "Tiny demo", before_run_id="20260100") is None
    assert previous_run(tmp_path / "none.sqlite", "Tiny demo") is None


@pytest.mark.notebook
def test_report_shows_diff_against_previous_run(tmp_path):
    root = tmp_path / "reports"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["report", str(TINY), "--time-limit", "10", "--reports-dir", str(root)]) == 0
        assert main(["report", str(TINY), "--time-limit", "10", "--reports-dir", str(root),
                     *DELAY_ARGS]) == 0
    first, second = sorted((root / "tiny-demo").iterdir())
    assert (first / "coverage.csv").is_file() and (second / "coverage.csv").is_file()
    page1 = (first / "report.html").read_text(encoding="utf-8")
    page2 = (second / "report.html").read_text(encoding="utf-8")
    assert "Changes since the previous run" in page1 and "No earlier successful run" in page1
    assert f"Compared with run <code>{first.name}</code>" in page2
    start = page2.index("Changes since the previous run")
    section = page2[start:page2.index("Run and files", start)]
    assert "BEA-00006" in section and "ELE-00004" in section and "dropped" in section


# ---------------------------------------------------------------- ids, campaign folders, damaged runs

ODD_IDS = {"ONT8": "NA", "DTM1": "None", "BEA-00001": "NULL", "HOM-00002": "nan", "BEA-00003": "N/A"}


def _diff_cli(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["diff", *map(str, args)])
    return code, out.getvalue(), err.getvalue()


def _edit_summary(run, **changes):
    path = run / "summary.json"
    summary = json.loads(path.read_text())
    summary.update(changes)
    path.write_text(json.dumps(summary))


def test_ids_such_as_NA_and_None_are_compared_as_written(tmp_path):
    campaign = tmp_path / "odd"
    shutil.copytree(TINY, campaign)
    for f in campaign.glob("*.csv"):
        text = f.read_text()
        for old, new in ODD_IDS.items():
            text = text.replace(old, new)
        f.write_text(text)
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_plan_in_process(campaign, a)[0] == 0
    assert run_plan_in_process(campaign, b, delays=LATE)[0] == 0
    code, out, err = _diff_cli(a, b)
    assert code == 0, err
    d = diff_runs(a, b)
    for part in ("moved", "quantities", "newly_late", "lost_routes"):
        assert not d[part][["sku", "warehouse"]].isna().any().any(), part
    late = d["newly_late"]
    assert set(zip(late["sku"], late["warehouse"])) == {("ELE-00004", "NA"), ("ELE-00004", "None")}
    moved = d["moved"]
    assert set(moved.loc[moved["sku"] == "BEA-00006", "warehouse"]) == {"NA", "None"}
    assert ("N/A", "NA", "sea_lcl") in set(zip(*(d["quantities"][c] for c in ("sku", "warehouse", "mode"))))


@pytest.fixture
def relative_runs(tmp_path, monkeypatch):
    """Two plan runs of data/tiny made with a relative campaign path from ``tmp_path/work``."""
    work = tmp_path / "work"
    shutil.copytree(TINY, work / "data" / "tiny")
    monkeypatch.chdir(work)
    assert run_plan_in_process(Path("data/tiny"), Path("runs/a"))[0] == 0
    assert run_plan_in_process(Path("data/tiny"), Path("runs/b"), delays=LATE)[0] == 0
    return work, work / "runs" / "a", work / "runs" / "b"


def _other_tiny(folder, name=None):
    """A different campaign folder at ``folder/data/tiny``: no sea_lcl lane, maybe another name."""
    tiny = folder / "data" / "tiny"
    shutil.copytree(TINY, tiny)
    lanes = (tiny / "lanes.csv").read_text().splitlines()
    (tiny / "lanes.csv").write_text("\n".join(line for line in lanes if ",sea_lcl," not in line) + "\n")
    if name is not None:
        toml = (tiny / "campaign.toml").read_text().replace('name = "Tiny demo"', f'name = "{name}"')
        (tiny / "campaign.toml").write_text(toml)
    return folder


def _late_pairs(stdout: str) -> bool:
    part = stdout.split("newly miss their cutoff")[1].split("Routes that")[0]
    return "ELE-00004" in part


def test_a_plan_run_names_its_campaign_folder_absolutely_and_diffs_from_anywhere(relative_runs, tmp_path,
                                                                                  monkeypatch):
    work, a, b = relative_runs
    for run in (a, b):
        assert json.loads((run / "summary.json").read_text())["campaign_dir"] == str(work / "data" / "tiny")
    monkeypatch.chdir(_other_tiny(tmp_path / "elsewhere"))  # another data/tiny here: not the one planned
    code, out, err = _diff_cli(a, b)
    assert code == 0, err
    assert _late_pairs(out) and "note:" not in err


def test_an_old_relative_campaign_dir_is_used_only_where_it_names_the_run_s_campaign(relative_runs, tmp_path,
                                                                                      monkeypatch):
    work, a, b = relative_runs
    for run in (a, b):
        _edit_summary(run, campaign_dir="data/tiny")
    code, out, err = _diff_cli(a, b)  # from the folder the runs were made in
    assert code == 0, err
    assert _late_pairs(out) and "note:" in err and "relative path 'data/tiny'" in err
    for folder, fragment in ((tmp_path / "nowhere", "there is no"),
                             (_other_tiny(tmp_path / "other", name="Another promo"), "holds no campaign")):
        folder.mkdir(exist_ok=True)
        monkeypatch.chdir(folder)
        code, out, err = _diff_cli(a, b)
        assert code == 2 and out == "", err
        assert "summary.json" in err and "relative path" in err and fragment in err and "Traceback" not in err


def test_runs_of_different_campaigns_or_folders_get_a_note(two_runs, tmp_path):
    a, b = two_runs
    other = tmp_path / "other"
    shutil.copytree(b, other)
    _edit_summary(other, campaign="Another promo")
    code, _, err = _diff_cli(a, other)
    assert code == 0 and "note: the runs plan different campaigns: 'Tiny demo'" in err
    moved = tmp_path / "moved"
    shutil.copytree(TINY, moved / "tiny")
    shutil.copytree(b, moved / "run")
    _edit_summary(moved / "run", campaign_dir=str(moved / "tiny"))
    code, _, err = _diff_cli(a, moved / "run")
    assert code == 0 and "different campaign folders" in err and str(moved / "tiny") in err
    code, _, err = _diff_cli(a, b)
    assert code == 0 and "note:" not in err


def _damage(run, name, content=None):
    if content is None:
        (run / name).unlink()
    elif isinstance(content, dict):
        _edit_summary(run, **content)
    else:
        (run / name).write_bytes(content)


@pytest.mark.parametrize("name, content, fragment", [
    ("plan.csv", b"", "is empty"),
    ("plan.csv", b"\x00\xff\xfe garbage \xc3\x28\n\x01,\x02\n", "plan.csv"),
    ("plan.csv", b"sku,warehouse\nA,B\n", "has no column 'mode'"),
    ("plan.csv", None, "no plan.csv"),
    ("summary.json", b"", "is not valid JSON"),
    ("summary.json", b"{\"campaign\": ", "is not valid JSON"),
    ("summary.json", b"[1, 2, 3]", "must hold a JSON object"),
    ("summary.json", None, "no summary.json"),
    ("summary.json", {"campaign_dir": None}, "has no campaign_dir"),
    ("summary.json", {"campaign_dir": "/no/such/campaign"}, "does not exist"),
    ("summary.json", {"overrides": [1]}, "'overrides'"),
    ("coverage.csv", b"sku,warehouse,mode,usable\nA,B,air,True\n", "has no column 'slack_days'"),
])
def test_a_damaged_run_folder_exits_2_naming_the_file(two_runs, tmp_path, name, content, fragment):
    a, b = two_runs
    damaged = tmp_path / "damaged"
    shutil.copytree(b, damaged)
    _damage(damaged, name, content)
    for args in ((a, damaged), (damaged, a)):
        code, out, err = _diff_cli(*args)
        assert code == 2, err
        assert out == "" and "Traceback" not in err and fragment in err
        assert f"{damaged}/{name}" in err or str(damaged) in err
