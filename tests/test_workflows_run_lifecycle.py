"""One run lifecycle (optimizer/workflows/run_lifecycle.py): built hidden, published whole,
indexed by absolute path; a failure indexed and kept hidden; Ctrl-C leaves nothing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from optimizer.io.run_index import read_history
from optimizer.workflows.run_lifecycle import FAILED_PREFIX, RunLifecycle

from conftest import REPO


def _visible(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if not any(part.startswith(".") for part in p.relative_to(root).parts))


def test_a_run_is_published_whole_and_indexed_by_its_absolute_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with RunLifecycle("reports", "Black Friday", command="frontier", parameters={"x": 1}) as run:
        (run.staging / "frontier.csv").write_text("budget\n1\n")
        assert _visible(tmp_path / "reports") == ["black-friday"]  # nothing visible while it runs
        run_dir = run.publish()
        run.index([{"parameters": {"x": 1}, "status": "optimal"}])
    assert run_dir.is_absolute() and (run_dir / "frontier.csv").is_file()
    (row,) = read_history(tmp_path / "reports" / "history.sqlite").to_dict("records")
    assert row["run_dir"] == str(run_dir) and row["campaign"] == "Black Friday" and row["run_id"] == run_dir.name


def test_a_failure_is_indexed_and_kept_hidden(tmp_path):
    with pytest.raises(RuntimeError, match="solver crashed"):
        with RunLifecycle(tmp_path, "tiny", command="report", parameters={"budget": 5}) as run:
            (run.staging / "campaign_plan.ipynb").write_text("{}")
            raise RuntimeError("solver crashed")
    assert _visible(tmp_path) == ["history.sqlite", "tiny"]
    (kept,) = (tmp_path / "tiny").iterdir()
    assert kept.name.startswith(FAILED_PREFIX) and (kept / "campaign_plan.ipynb").is_file()
    (row,) = read_history(tmp_path / "history.sqlite").to_dict("records")
    assert row["status"] == "failed" and row["message"] == "RuntimeError: solver crashed"
    assert row["run_dir"] == str(kept)


def test_ctrl_c_leaves_nothing_and_records_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with RunLifecycle(tmp_path, "tiny", command="frontier") as run:
            (run.staging / "frontier.csv").write_text("budget\n")
            raise KeyboardInterrupt
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.notebook
def test_frontier_then_report_then_report_with_a_delay_from_any_working_folder(tmp_path):
    """The report finds the frontier a default `frontier` recorded, wherever each command runs."""
    tiny = REPO / "data" / "tiny"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()

    def cli(cwd, *args):
        return subprocess.run([sys.executable, "-m", "optimizer", *args], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=600)

    frontier = cli(a, "frontier", str(tiny), "--budgets", "15000", "29000", "--time-limit", "10",
                   "--reports-dir", "reports")
    assert frontier.returncode == 0, frontier.stderr
    for args in ([], ["--delay", "sea_lcl=10"]):
        report = cli(b, "report", str(tiny), "--time-limit", "10", "--reports-dir", str(a / "reports"), *args)
        assert report.returncode == 0, report.stderr
        html = report.stdout.strip().splitlines()[-1]
        assert "15,000" in open(html, encoding="utf-8").read()  # the frontier's smaller budget is drawn
    assert not (b / "reports").exists()
