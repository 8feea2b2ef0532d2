"""Execute the campaign notebook with papermill and render the HTML report (SPEC §3, §4).

``python -m optimizer report CAMPAIGN_DIR`` lands here after the campaign has been
validated. One report run is one new folder ``reports/<campaign-slug>/<run-id>/``
(run-id = UTC timestamp; an existing folder is never reused) holding:

* ``campaign_plan.ipynb`` — the executed notebook (also when it failed: papermill
  marks the failing cell, so the error is there to read);
* the run's plan files (plan.csv, shipments.csv, sku_summary.csv, summary.json, …)
  and ``purchase_orders.xlsx``, written by the notebook through the package;
* ``report.html`` — self-contained (plotly.js inlined once, code hidden).
* ``coverage.csv`` — which routes meet the cutoff, so a later run can be diffed
  against this one (:mod:`optimizer.evaluate.diff`); the report shows the diff against
  the latest earlier successful run of the same campaign in the history.

Every run, good or failed, adds a row to ``reports/history.sqlite``.

The kernel is always the interpreter running this code (``sys.executable``) with
the package importable: nothing is registered with Jupyter, and a ``python3``
kernel spec installed elsewhere on the machine cannot hijack the run.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager

from optimizer.evaluate.diff import coverage_table
from optimizer.io.campaign import Campaign
from optimizer.io.run_folder import (
    NotARunFolder,
    default_run_dir,
    move_run_into,
    new_run_dir,
    publish,
    read_summary,
    staging_for,
    write_coverage,
)
from optimizer.io.run_index import HISTORY_NAME, input_checksum, previous_run, record_run
from optimizer.prep.instance import Overrides

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding optimizer/
NOTEBOOK = PACKAGE_ROOT / "notebooks" / "campaign_plan.ipynb"
EXECUTED_NAME = "campaign_plan.ipynb"
HTML_NAME = "report.html"


class ReportFailed(Exception):
    """The notebook failed; ``notebook`` is the executed (error) notebook, ``ename`` its error."""

    def __init__(self, message: str, notebook: Path, ename: str | None = None):
        super().__init__(message)
        self.notebook = notebook
        self.ename = ename


@dataclass
class ReportRun:
    run_dir: Path
    notebook: Path
    html: Path
    summary: dict = field(default_factory=dict)


class VenvKernelManager(AsyncKernelManager):
    """A kernel manager that always starts ``sys.executable -m ipykernel_launcher``."""

    @property
    def kernel_spec(self) -> KernelSpec:
        if self._kernel_spec is None:
            path = os.environ.get("PYTHONPATH", "")
            self._kernel_spec = KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name="Python 3 (promo optimizer)", language="python",
                env={"PYTHONPATH": os.pathsep.join(p for p in (str(PACKAGE_ROOT), path) if p)},
            )
        return self._kernel_spec


def run_report(campaign: Campaign, overrides: Overrides | None = None, *,
               reports_root: str | Path = "reports", notebook: str | Path = NOTEBOOK,
               start_timeout: float = 120) -> ReportRun:
    """Execute ``notebook`` for a validated ``campaign`` and render its HTML report.

    Raises :class:`ReportFailed` (after recording the failure in the history) when
    the notebook raises; the error notebook is kept in the run folder.  The run is
    built in a hidden folder and renamed to ``reports/<campaign>/<run-id>`` once
    complete (or failed with its error notebook): an interrupted report leaves nothing.
    """
    overrides = overrides or Overrides()
    reports_root = Path(reports_root).resolve()
    final = default_run_dir(campaign.config.name, reports_root)
    run_dir = staging_for(final)
    try:
        return _run_in(run_dir, final, campaign, overrides, reports_root, notebook, start_timeout)
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)  # published runs are gone from here already
        raise


def _run_in(run_dir: Path, final: Path, campaign: Campaign, overrides: Overrides, reports_root: Path,
            notebook, start_timeout: float) -> ReportRun:
    """Execute and render the report in ``run_dir``, then publish it as ``final``."""
    import papermill as pm

    executed = run_dir / EXECUTED_NAME
    # The report shows what changed since the last good run of this campaign.
    previous = previous_run(reports_root / HISTORY_NAME, campaign.config.name, final.name)
    parameters = {
        "campaign_dir": str(Path(campaign.root).resolve()),
        "budget": overrides.budget,
        "delays": dict(overrides.delays),
        "time_limit_s": overrides.time_limit_s,
        "run_dir": str(run_dir),
        "previous_run_dir": None if previous is None else str(previous),
    }
    history = dict(db_path=reports_root / HISTORY_NAME, campaign=campaign.config.name,
                   run_id=final.name, parameters=parameters,
                   input_sha256=input_checksum(campaign.root), run_dir=final)
    # papermill cannot parse `float | None` annotations of the parameters cell and
    # warns about every parameter; the names are ours, so its warnings are noise.
    pm_log = logging.getLogger("papermill")
    level = pm_log.level
    pm_log.setLevel(logging.ERROR)
    try:
        pm.execute_notebook(
            str(notebook), str(executed), parameters=parameters, kernel_name="python3",
            language="python", cwd=str(run_dir), progress_bar=False, log_output=False,
            start_timeout=start_timeout, kernel_manager_class=VenvKernelManager,
        )
    except Exception as e:  # papermill's execution error, a dead kernel, a timeout
        ename = getattr(e, "ename", type(e).__name__)
        evalue = getattr(e, "evalue", str(e))
        first = (str(evalue).strip().splitlines() or [""])[0]
        publish(run_dir, final)  # the error notebook is the run's record
        executed = final / EXECUTED_NAME
        message = f"the report notebook failed ({ename}: {first}); see {executed}"
        record_run(**history, status="failed", message=f"{ename}: {evalue}"[:2000])
        raise ReportFailed(message, executed, ename) from e
    finally:
        pm_log.setLevel(level)

    render_html(executed, run_dir / HTML_NAME, title=f"{campaign.config.name} — campaign plan")
    try:
        summary = read_summary(run_dir)
    except (NotARunFolder, OSError, ValueError):
        summary = {}
    run_dir = publish(run_dir, final)
    record_run(**history, status=summary.get("status", "unknown"),
               expected_profit=summary.get("expected_profit"), spend=summary.get("spend"),
               build_seconds=summary.get("build_seconds"), solve_seconds=summary.get("solve_seconds"))
    return ReportRun(run_dir, run_dir / EXECUTED_NAME, run_dir / HTML_NAME, summary)


def render_html(notebook: str | Path, out: str | Path, *, title: str) -> Path:
    """Render an executed notebook to one self-contained HTML file, code hidden."""
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook), as_version=4)
    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
        extra_loaders=[jinja2.DictLoader({"offline_report.html.j2": _OFFLINE_TEMPLATE})],
        template_file="offline_report.html.j2")
    # The lab template escapes the <title>; the campaign name in it is untrusted.
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    out = Path(out)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(body, encoding="utf-8")
    os.replace(tmp, out)
    return out


# The lab template minus what it loads from CDNs (require.js, MathJax): the report
# needs neither, and must open offline. plotly.js is inlined by the notebook itself.
_OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
"""


def plan_into(campaign_dir, run_dir, *, budget: float | None = None,
              delays: dict | None = None, time_limit_s: float | None = None):
    """Plan the campaign and put the run's §3 files straight into ``run_dir``.

    ``run_dir`` may already hold the notebook being executed, so the engine writes
    its folder to a fresh hidden folder inside ``run_dir`` (complete or not at
    all), whose files are then moved up. ``run_dir=None`` makes a new folder
    ``reports/<campaign>/<UTC time>`` in the repository. (The engine already writes
    formula-safe CSVs.)
    """
    from optimizer.io.campaign import load_campaign
    from optimizer.workflows.planner import plan_campaign

    campaign = load_campaign(campaign_dir)
    if run_dir is None:  # an interactive session: a new folder under the repository's reports/
        run_dir = new_run_dir(campaign.config.name, PACKAGE_ROOT / "reports")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    staging = run_dir / ".plan"
    overrides = Overrides(budget=budget, delays=dict(delays or {}), time_limit_s=time_limit_s)
    run = plan_campaign(campaign, overrides, out_dir=staging, progress=lambda msg: None)
    move_run_into(staging, run_dir)
    write_coverage(coverage_table(run.instance), run_dir)  # lets a later run's diff name newly late pairs
    run.out_dir = run_dir
    return run
