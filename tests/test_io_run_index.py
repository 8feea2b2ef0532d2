"""reports/history.sqlite: one row per run, checksums of inputs, concurrent writers."""

from __future__ import annotations

import multiprocessing as mp
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
