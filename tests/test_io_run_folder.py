"""optimizer.io.run_folder: where a run may be written, how its folder is made, how its files read back."""

from __future__ import annotations

import os
import stat

import pytest

from optimizer.io import run_folder
from optimizer.io.run_folder import (
    NotARunFolder,
    RunFileError,
    publish,
    read_coverage,
    read_plan,
    read_run_csv,
    read_summary,
    staging_for,
    writable_problems,
)

ODD_IDS = ["NA", "N/A", "None", "NULL", "nan", "''quoted"]


# ---------------------------------------------------------------- writable_problems


def test_checking_a_destination_creates_nothing(tmp_path):
    target = tmp_path / "runs" / "tiny-demo" / "20260101T000000Z"
    assert writable_problems(target, "--out") == []
    assert list(tmp_path.iterdir()) == []  # no folder, no probe file left behind


def test_a_dangling_symlink_is_refused_and_one_to_an_empty_folder_is_fine(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "empty")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert writable_problems(tmp_path / "link", "--out") == []
    (problem,) = writable_problems(tmp_path / "dangling", "--out")
    assert problem.column == "--out" and "symbolic link" in problem.message and "does not exist" in problem.message
    (problem,) = writable_problems(tmp_path / "dangling" / "run", "--out")
    assert "under" in problem.message and "does not exist" in problem.message
    assert not (tmp_path / "nowhere").exists()


def test_a_file_on_the_way_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    (problem,) = writable_problems(tmp_path / "file", "--out")
    assert "is a file, not a folder" in problem.message
    (problem,) = writable_problems(tmp_path / "file" / "a" / "b", "--out")
    assert "which is a file" in problem.message


def test_an_unwritable_ancestor_is_refused_without_creating_anything(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(run_folder.tempfile, "mkstemp", refuse)
    (problem,) = writable_problems(locked / "a" / "b", "--reports-dir")
    assert "cannot write to" in problem.message and "Permission denied" in problem.message
    assert str(locked) in problem.message
    assert list(locked.iterdir()) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        (problem,) = writable_problems(locked / "a" / "b", "--out")
        assert "cannot write to" in problem.message
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


# ---------------------------------------------------------------- staging and publishing


@pytest.fixture
def umask():
    """Set the process umask for a test, restoring it afterwards."""
    saved = os.umask(0o022)
    os.umask(saved)
    yield os.umask
    os.umask(saved)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_a_published_run_folder_has_the_permissions_of_any_new_folder(tmp_path, umask, mask):
    umask(mask)
    final = tmp_path / "reports" / "tiny-demo" / "run"
    staging = staging_for(final)
    assert staging.parent == final.parent and staging.name.startswith(".")
    (staging / "summary.json").write_text("{}")
    publish(staging, final)
    assert stat.S_IMODE(final.stat().st_mode) == 0o777 & ~mask
    plain = tmp_path / "plain"
    plain.mkdir()
    assert stat.S_IMODE(final.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_a_run_is_published_into_the_empty_folder_a_symlink_points_to(tmp_path):
    target = tmp_path / "shared" / "empty"
    target.mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(target)
    staging = staging_for(link)
    assert staging.parent == target.parent  # beside the real folder: the rename stays on its disk
    (staging / "plan.csv").write_text("sku\n")
    publish(staging, link)
    assert link.is_symlink() and (target / "plan.csv").is_file()
    assert [p.name for p in target.parent.iterdir()] == ["empty"]  # no staging folder left


def test_publishing_to_a_dangling_symlink_is_refused(tmp_path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(NotADirectoryError, match="does not exist"):
        staging_for(link)
    assert not (tmp_path / "nowhere").exists()


# ---------------------------------------------------------------- reading back


def _plan_csv(rows: list[str]) -> str:
    return "sku,warehouse,mode,cases,units,unit_landed_cost,line_cost,order_by,ship_by,cutoff\n" + "".join(
        f"{r},1,6,2.5,15.0,2026-09-01,2026-09-20,2026-11-03\n" for r in rows)


def test_ids_such_as_NA_and_None_are_read_verbatim(tmp_path):
    rows = [f"{sku},{wh},sea" for sku, wh in zip(ODD_IDS, reversed(ODD_IDS))]
    (tmp_path / "plan.csv").write_text(_plan_csv(rows))
    plan = read_plan(tmp_path)
    assert list(plan["sku"]) == ["NA", "N/A", "None", "NULL", "nan", "'quoted"]
    assert list(plan["warehouse"]) == ["'quoted", "nan", "NULL", "None", "N/A", "NA"]
    assert plan["units"].dtype.kind in "if" and plan["units"].sum() == 36
    (tmp_path / "coverage.csv").write_text(
        "sku,warehouse,mode,usable,slack_days,transit_days,demand_mean\n"
        "NA,None,air,True,4,8,1.5\nnan,NULL,sea,False,-3,40,0.0\n")
    cov = read_coverage(tmp_path)
    assert list(cov["sku"]) == ["NA", "nan"] and list(cov["warehouse"]) == ["None", "NULL"]
    assert list(cov["usable"]) == [True, False]


def test_an_empty_number_is_missing_and_an_empty_id_is_empty_text(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("campaign,status,budget,expected_profit\n,optimal,100,\nNA,,200,5\n")
    table = read_run_csv(path)
    assert list(table["campaign"]) == ["", "NA"] and list(table["status"]) == ["optimal", ""]
    assert table["expected_profit"].isna().tolist() == [True, False]


@pytest.mark.parametrize("content, fragment", [
    (b"", "is empty"),
    (b"\xff\xfe\x00garbage\x00\xff", "cannot be read as CSV"),
    (b"hello world\nnot a plan\n", "has no column 'sku'"),
    (b"sku,warehouse,mode,units,line_cost\nA,W,sea,many,1.0\n", "line 2, column 'units'"),
    (b"sku,warehouse,mode,units,line_cost\nA,W,sea,1,2,3,4\n", "cannot be read as CSV"),
])
def test_a_damaged_plan_csv_is_named(tmp_path, content, fragment):
    (tmp_path / "plan.csv").write_bytes(content)
    with pytest.raises(RunFileError, match=fragment) as e:
        read_plan(tmp_path)
    assert str(tmp_path / "plan.csv") in str(e.value)


def test_a_damaged_coverage_csv_is_named(tmp_path):
    (tmp_path / "coverage.csv").write_text(
        "sku,warehouse,mode,usable,slack_days,transit_days,demand_mean\nA,W,air,maybe,4,8,1.5\n")
    with pytest.raises(RunFileError, match="column 'usable'"):
        read_coverage(tmp_path)


@pytest.mark.parametrize("content, fragment", [
    ("{not json", "is not valid JSON"),
    ("[1, 2]", "must hold a JSON object, not an array"),
    ("", "is not valid JSON"),
])
def test_a_damaged_summary_is_named(tmp_path, content, fragment):
    (tmp_path / "summary.json").write_text(content)
    with pytest.raises(RunFileError, match=fragment) as e:
        read_summary(tmp_path)
    assert str(tmp_path / "summary.json") in str(e.value)
    assert isinstance(e.value, ValueError)  # callers that catch ValueError keep working


def test_a_missing_file_is_not_a_run_folder(tmp_path):
    with pytest.raises(NotARunFolder):
        read_summary(tmp_path)
    with pytest.raises(NotARunFolder):
        read_plan(tmp_path)
    assert read_coverage(tmp_path) is None
