"""Every notebook executed on the bundled 300-SKU sample campaign (issue 3: CI runs them).

Solver limits are short (the plans are time-limited, which the report says); what is
checked is that each notebook runs end to end on realistic data and that the
rendered campaign report holds its KPIs, tables and charts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO, execute_notebook, run_cli

SAMPLE = REPO / "data" / "sample"


def test_campaign_report_on_the_sample(tmp_path):
    proc = run_cli(["report", str(SAMPLE), "--time-limit", "20", "--reports-dir", str(tmp_path)],
                   timeout=600)
    assert proc.returncode == 0, proc.stderr
    page = Path(proc.stdout.strip().splitlines()[-1]).read_text(encoding="utf-8")
    for text in ("Expected profit", "Expected fill rate", "Purchase orders", "Shipping plan",
                 "Timeline", "Against the rule of thumb", "ABC classes and stock health"):
        assert text in page, text
    assert page.count("Plotly.newPlot(") >= 4
    assert page.count('class="dataframe report-table"') >= 8


@pytest.mark.parametrize("notebook, parameters", [
    ("budget_frontier.ipynb", {"steps": 2, "time_limit_s": 8}),
    ("explore.ipynb", {"time_limit_s": 8}),
])
def test_notebook_runs_on_the_sample(tmp_path, notebook, parameters):
    out = tmp_path / notebook
    execute_notebook(notebook, out, {"campaign_dir": str(SAMPLE), **parameters}, timeout=300)
    assert out.is_file()
