"""reports/history.sqlite: one row per run, checksums of inputs, concurrent writers."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import sqlite3

import pytest

from optimizer.io.run_index import input_checksum, read_history, record_run

from conftest import REPO

TINY = REPO / "data" / "tiny"


def _row(db, i=0, **kw):
    values = dict(campaign="Tiny demo", run_id=f"run{i}", parameters={"budget": None, "delays": {}},
                  input_sha256="0" * 64, status="optimal", run_dir=f"/tmp/run{i}",
                  expected_profit=100.0 + i, spend=50.0, build_seconds=0.1, solve_seconds=0.2)
    values.update(kw)
    return record_run(db, **values)


def test_input_checksum_covers_names_and_bytes(tmp_path):
    a = tmp_path / "a"
    shutil.copytree(TINY, a)
    base = input_checksum(a)
    assert base == input_checksum(TINY) and len(base) == 64
    (a / "demand.csv").write_text((a / "demand.csv").read_text().replace("56.2", "56.3"))
    assert input_checksum(a) != base
    b = tmp_path / "b"
    shutil.copytree(TINY, b)
    (b / "lanes.csv").rename(b / "lanes_old.csv")
    assert input_checksum(b) != base


def test_a_reports_folder_inside_the_campaign_leaves_its_checksum_alone(tmp_path):
    campaign = tmp_path / "campaign"
    shutil.copytree(TINY, campaign)
    base = input_checksum(campaign)
    (campaign / "reports" / "tiny-demo" / "run1").mkdir(parents=True)
    (campaign / "reports" / "tiny-demo" / "run1" / "plan.csv").write_text("sku\nA\n")
    (campaign / "reports" / "history.sqlite").write_bytes(b"x")
    assert input_checksum(campaign) == base


def test_record_and_read(tmp_path):
    db = tmp_path / "reports" / "history.sqlite"
    _row(db, 1)
    _row(db, 2, status="failed", expected_profit=None, spend=None, message="RuntimeError: x")
    h = read_history(db)
    assert list(h["run_id"]) == ["run1", "run2"]
    assert list(h["status"]) == ["optimal", "failed"]
    assert h.loc[0, "expected_profit"] == 101.0 and h.loc[1, "message"] == "RuntimeError: x"
    assert read_history(db, campaign="other").empty
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _writer(db, who, n, barrier):
    barrier.wait()  # both processes start inserting at the same moment
    for i in range(n):
        _row(db, i, campaign=f"writer{who}", run_id=f"{who}-{i}")


@pytest.mark.slow
def test_two_processes_write_at_the_same_time(tmp_path):
    db = tmp_path / "history.sqlite"
    n = 25
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(db, who, n, barrier)) for who in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    h = read_history(db)
    assert len(h) == 2 * n
    assert h.groupby("campaign").size().to_dict() == {"writer1": n, "writer2": n}
    assert h["run_id"].is_unique


@pytest.mark.notebook
def test_a_corrupt_index_never_costs_a_run(tmp_path):
    import contextlib
    import io

    from optimizer.cli import main

    from conftest import OWN_CAMPAIGNS

    case = OWN_CAMPAIGNS / "m01_budget_by_margin_per_cost"
    reports = tmp_path / "reports"
    reports.mkdir()
    junk = b"not a database " * 200
    (reports / "history.sqlite").write_bytes(junk)

    def run(*args):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main([*args, "--reports-dir", str(reports)])
        return code, err.getvalue()

    code, err = run("report", str(case))
    assert code == 0 and "warning: the run index" in err and "index --rebuild" in err
    assert len(list(reports.glob("*/*/report.html"))) == 1  # the run is kept
    code, err = run("frontier", str(case), "--steps", "2")
    assert code == 0 and "warning: the run index" in err
    assert len(list(reports.glob("*/*/frontier.csv"))) == 1
    code, err = run("index", "--rebuild")
    assert code == 0, err
    history = read_history(reports / "history.sqlite")
    assert sorted(history["status"].value_counts().index) == ["optimal"]
    (frontier_csv,) = reports.glob("*/*/frontier.csv")
    points = len(frontier_csv.read_text().strip().splitlines()) - 1  # --steps 2, and on while money earns
    assert len(history) == 1 + points  # the report run and the frontier's points
    (kept,) = reports.glob("history.sqlite.replaced-*")
    assert kept.read_bytes() == junk  # never deleted


def test_index_command_on_a_corrupt_index_says_how_to_rebuild(tmp_path, capsys):
    from optimizer.cli import main

    (tmp_path / "history.sqlite").write_bytes(b"not a database " * 100)
    assert main(["index", "--reports-dir", str(tmp_path)]) == 2
    assert "index --rebuild" in capsys.readouterr().err


# ---------------------------------------------------------------- index --rebuild


def _index(*args) -> tuple[int, str, str]:
    import contextlib
    import io

    from optimizer.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["index", *map(str, args)])
    return code, out.getvalue(), err.getvalue()


def _report_run(root, run_id, status="optimal", campaign="Tiny demo", **extra):
    run = root / "tiny-demo" / run_id
    run.mkdir(parents=True)
    summary = {"campaign": campaign, "status": status, "expected_profit": 100.0, "spend": 50.0,
               "overrides": {"budget": None, "delays": {}}, **extra}
    (run / "summary.json").write_text(json.dumps(summary))
    return run


def test_rebuild_passes_over_hidden_folders_and_reports_unreadable_runs(tmp_path):
    reports = tmp_path / "reports"
    good = _report_run(reports, "20260101T000000Z")
    _report_run(reports, ".20260102T000000Z.k1ll3d", status="optimal")  # a killed report's staging folder
    _report_run(reports / ".trash", "20260103T000000Z")                 # under a hidden campaign folder
    broken = _report_run(reports, "20260104T000000Z")
    (broken / "summary.json").write_text("{not json")
    listed = _report_run(reports, "20260105T000000Z")
    (listed / "summary.json").write_text("[1, 2]")
    batch = reports / "batch" / "20260106T000000Z"
    batch.mkdir(parents=True)
    (batch / "scenarios.json").write_text(json.dumps({"budgets": None}))
    (batch / "scenarios.csv").write_text("campaign,campaign_dir,scenario,budget,expected_profit,spend,status\n"
                                         "NA,/x,None,100,5.0,4.0,optimal\nnan,/y,NULL,200,,,failed\n")
    damaged_batch = reports / "batch" / "20260107T000000Z"
    damaged_batch.mkdir()
    (damaged_batch / "frontier.json").write_text("{}")
    (damaged_batch / "frontier.csv").write_bytes(b"")
    _row(reports / "history.sqlite", 9, run_id="old-row")

    code, out, err = _index("--rebuild", "--reports-dir", reports)
    assert code == 0, err
    assert "Traceback" not in err
    for run, fragment in ((broken, "is not valid JSON"), (listed, "must hold a JSON object"),
                          (damaged_batch, "frontier.csv: is empty")):
        assert f"warning: {run} is not indexed" in err and fragment in err
    assert "3 unreadable run folder(s) left out" in out
    h = read_history(reports / "history.sqlite")
    assert list(h["run_id"]) == [good.name, batch.name, batch.name]  # no hidden folder, no old row
    assert list(h["campaign"]) == ["Tiny demo", "NA", "nan"]  # ids verbatim
    assert list(h["status"]) == ["optimal", "optimal", "failed"]
    (kept,) = reports.glob("history.sqlite.replaced-*")
    assert list(read_history(kept)["run_id"]) == ["old-row"]
    assert sorted(p.name for p in reports.iterdir() if p.name.startswith(".history")) == []


def test_rebuild_writes_the_new_index_aside_and_keeps_the_old_one_when_it_fails(tmp_path, monkeypatch):
    from optimizer.io import run_index

    reports = tmp_path / "reports"
    _report_run(reports, "20260101T000000Z")
    db = reports / "history.sqlite"
    _row(db, 1, run_id="old-row")
    before = db.read_bytes()

    def disk_full(path, rows):
        sqlite3.connect(path).close()  # the new file exists, then writing it fails
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(run_index, "_insert", disk_full)
    code, _, err = _index("--rebuild", "--reports-dir", reports)
    assert code == 1 and "could not rebuild" in err and "disk is full" in err and "Traceback" not in err
    assert db.read_bytes() == before and not list(reports.glob("history.sqlite.replaced-*"))
    assert sorted(p.name for p in reports.iterdir()) == ["history.sqlite", "tiny-demo"]


def test_rebuild_of_a_missing_folder_creates_nothing(tmp_path):
    typo = tmp_path / "reprots"
    code, _, err = _index("--rebuild", "--reports-dir", typo)
    assert code == 2 and "--reports-dir" in err and "does not exist" in err
    assert not typo.exists()
    (tmp_path / "file").write_text("x")
    code, _, err = _index("--rebuild", "--reports-dir", tmp_path / "file")
    assert code == 2 and "is not a folder" in err


def test_rebuild_in_a_folder_that_cannot_be_written_exits_2(tmp_path, monkeypatch):
    from optimizer.io import run_folder

    reports = tmp_path / "reports"
    _report_run(reports, "20260101T000000Z")

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(run_folder.tempfile, "mkstemp", read_only)
    code, _, err = _index("--rebuild", "--reports-dir", reports)
    assert code == 2 and "option '--reports-dir'" in err and "Read-only file system" in err
    assert "Traceback" not in err and not (reports / "history.sqlite").exists()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_rebuild_in_a_read_only_folder_exits_2(tmp_path):
    reports = tmp_path / "reports"
    _report_run(reports, "20260101T000000Z")
    reports.chmod(0o555)
    try:
        code, _, err = _index("--rebuild", "--reports-dir", reports)
    finally:
        reports.chmod(0o755)
    assert code == 2 and "option '--reports-dir'" in err and "Traceback" not in err
