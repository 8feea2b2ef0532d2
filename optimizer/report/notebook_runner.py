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
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from traitlets import CaselessStrEnum, default

from optimizer.evaluate.diff import coverage_table
from optimizer.io.campaign import Campaign
from optimizer.io.run_folder import (
    NotARunFolder,
    move_run_into,
    new_run_dir,
    read_summary,
    write_coverage,
)
from optimizer.io.run_index import HISTORY_NAME, input_checksum, latest_frontier, previous_run
from optimizer.io.summary import RunSummary
from optimizer.progress import PROGRESS_FILE_ENV, file_progress, follow, set_status
from optimizer.settings import Settings
from optimizer.status import Status
from optimizer.workflows.run_lifecycle import RunLifecycle

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding optimizer/
NOTEBOOK = PACKAGE_ROOT / "notebooks" / "campaign_plan.ipynb"
EXECUTED_NAME = "campaign_plan.ipynb"
HTML_NAME = "report.html"


class ReportFailed(Exception):
    """The notebook failed; ``notebook`` is the executed (error) notebook (None when none could
    be kept), ``ename`` its error's class name and ``evalue`` its whole message (a service-target diagnosis runs
    over several lines)."""

    def __init__(self, message: str, notebook: Path | None, ename: str | None = None, evalue: str = ""):
        super().__init__(message)
        self.notebook = notebook
        self.ename = ename
        self.evalue = evalue


@dataclass
class ReportRun:
    run_dir: Path
    notebook: Path
    html: Path
    summary: RunSummary | None = None  # None when the run left no readable summary.json


class VenvKernelManager(AsyncKernelManager):
    """A kernel manager that always starts ``sys.executable -m ipykernel_launcher``,
    over IPC sockets in a private temporary folder (removed at shutdown)."""

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="tcp" if sys.platform == "win32" else "ipc",
                                config=True)
    extra_env: dict[str, str] = {}  # more environment for the kernel (a run's subclass sets it)
    cell_running = None  # a run's subclass: a callable saying whether a cell is executing
    _ipc_dir: str | None = None

    @default("ip")
    def _private_ipc_path(self) -> str:
        if self.transport != "ipc":
            return super()._ip_default()
        # A short path of our own: a socket path has a length limit (about 100 bytes),
        # and the default (beside the connection file, or the working folder) may be long.
        self._ipc_dir = tempfile.mkdtemp(prefix="promo-kernel-")
        return os.path.join(self._ipc_dir, "k")

    async def _async_interrupt_kernel(self) -> None:
        # jupyter_client interrupts the kernel before every shutdown, to stop a running
        # cell; with none running (``cell_running`` says, when known) the SIGINT only lands
        # in whatever the idle kernel is handling and it logs "KeyboardInterrupt caught in
        # kernel" to the terminal.
        if self.shutting_down and self.cell_running is not None and not self.cell_running():
            return
        await super()._async_interrupt_kernel()

    async def _async_pre_start_kernel(self, **kw):
        # The kernel process's own stderr holds only the kernel's internal log (a cell's output
        # reaches the notebook over its sockets): ipykernel's shutdown can log a ZMQ race
        # there, which must not reach the report command's terminal as a traceback.
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        kw.setdefault("stderr", subprocess.DEVNULL)
        return cmd, kw

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._ipc_dir is not None:
            shutil.rmtree(self._ipc_dir, ignore_errors=True)

    @property
    def kernel_spec(self) -> KernelSpec:
        if self._kernel_spec is None:
            path = os.environ.get("PYTHONPATH", "")
            self._kernel_spec = KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name="Python 3 (promo optimizer)", language="python",
                env={"PYTHONPATH": os.pathsep.join(p for p in (str(PACKAGE_ROOT), path) if p),
                     **self.extra_env},
            )
        return self._kernel_spec


def run_report(campaign: Campaign, settings: Settings | None = None, *,
               reports_root: str | Path = "reports", notebook: str | Path = NOTEBOOK,
               start_timeout: float = 120, progress=None) -> ReportRun:
    """Execute ``notebook`` for a validated ``campaign`` and render its HTML report.

    ``progress``: a :class:`~optimizer.progress.Progress` (or any callable of one
    message) hears the solve's stage lines from the kernel; a ``Progress`` also
    shows the cell being executed.

    The run follows the :class:`~optimizer.workflows.run_lifecycle.RunLifecycle`: built in
    a hidden folder, renamed to ``reports/<campaign>/<run-id>`` once complete and indexed.
    Raises :class:`ReportFailed` when the notebook raises or the report cannot be
    written: nothing visible is left, the failure is indexed and the error notebook is
    kept in the hidden ``.failed-<run-id>`` folder the message names; an interrupted
    report leaves nothing.
    """
    settings = settings or Settings()
    reports_root = Path(reports_root).resolve()
    checksum = input_checksum(campaign.root)
    with RunLifecycle(reports_root, campaign.config.name, command="report",
                      input_sha256=checksum) as run:
        summary = _execute(run, campaign, settings, reports_root, checksum, notebook, start_timeout, progress)
        run_dir = run.publish()
        s = summary or RunSummary()
        run.index([{"parameters": run.parameters, "status": s.status or Status.UNKNOWN,
                    "expected_profit": s.expected_profit, "spend": s.spend,
                    "build_seconds": s.build_seconds, "solve_seconds": s.solve_seconds}])
    return ReportRun(run_dir, run_dir / EXECUTED_NAME, run_dir / HTML_NAME, summary)


def _execute(run: RunLifecycle, campaign: Campaign, settings: Settings, reports_root: Path, checksum: str,
             notebook, start_timeout: float, progress) -> RunSummary | None:
    """Execute and render the report in the run's staging folder; the plan's summary."""
    import papermill as pm
    from nbformat.validator import MissingIDFieldWarning

    run_dir = run.staging
    executed = run_dir / EXECUTED_NAME
    # The report shows what changed since the last good run of this campaign.
    previous = previous_run(reports_root / HISTORY_NAME, campaign.config.name, run.run_id)
    parameters = {
        "campaign_dir": str(Path(campaign.root).resolve()),
        "budget": settings.what_if.budget,
        "delays": dict(settings.what_if.delays),
        "time_limit_s": settings.solver.time_limit_s,
        "run_dir": str(run_dir),
        "previous_run_dir": None if previous is None else str(previous),
    }
    # The latest budget frontier of these very campaign files (`python -m optimizer frontier`).
    frontier = latest_frontier(reports_root / HISTORY_NAME, campaign.config.name, checksum)
    parameters["frontier_dir"] = None if frontier is None else str(frontier)
    run.parameters = parameters
    # papermill warns about parameters it cannot match to the parameters cell's lines;
    # the names are ours, so its warnings are noise.
    pm_log = logging.getLogger("papermill")
    level = pm_log.level
    pm_log.setLevel(logging.ERROR)
    set_status(progress, "starting the notebook kernel")
    try:
        with ExitStack() as stack, warnings.catch_warnings():
            # The notebooks are stored without cell ids; nbformat adds them and warns
            # each time one is read, which tells the analyst nothing.
            warnings.simplefilter("ignore", MissingIDFieldWarning)
            hooks, running = _cell_hooks(progress)
            extra_env = {}
            if progress is not None:
                lines = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="promo-progress-")))
                extra_env[PROGRESS_FILE_ENV] = str(lines / "solve.log")
                stack.enter_context(follow(extra_env[PROGRESS_FILE_ENV], progress))
            kernel = type("ReportKernelManager", (VenvKernelManager,),
                          {"extra_env": extra_env, "cell_running": staticmethod(running)})
            pm.execute_notebook(
                str(notebook), str(executed), parameters=parameters, kernel_name="python3",
                language="python", cwd=str(run_dir), progress_bar=False, log_output=False,
                start_timeout=start_timeout, kernel_manager_class=kernel, **hooks,
            )
    except Exception as e:  # papermill's execution error, a dead kernel, a timeout
        ename = getattr(e, "ename", type(e).__name__)
        evalue = getattr(e, "evalue", str(e))
        first = (str(evalue).strip().splitlines() or [""])[0]
        if not _is_notebook(executed):  # no record to keep (a full disk, say)
            raise ReportFailed(f"the report notebook failed ({ename}: {first}) and its record could not be "
                               f"written in {run.final.parent}; nothing was published", None, ename,
                               str(evalue)) from e
        kept = run.failed_dir / EXECUTED_NAME
        raise ReportFailed(f"the report notebook failed ({ename}: {first}); nothing was published; the "
                           f"error notebook is {kept}", kept, ename, str(evalue)) from e
    finally:
        pm_log.setLevel(level)

    set_status(progress, f"rendering {HTML_NAME}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingIDFieldWarning)
            render_html(executed, run_dir / HTML_NAME, title=f"{campaign.config.name} — campaign plan")
    except OSError as e:  # a full disk, a quota: the report is incomplete, so it is not published
        raise ReportFailed(f"could not write {HTML_NAME} in {run.final.parent}: {e.strerror or e}; nothing was "
                           "published", None, "OSError", str(e)) from e
    try:
        return read_summary(run_dir)
    except (NotARunFolder, OSError, ValueError):
        return None


def _is_notebook(path: Path) -> bool:
    """Whether ``path`` reads back as a whole notebook (a write cut short by a full disk does not)."""
    import nbformat

    try:
        nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 — missing, truncated or not JSON: not a notebook
        return False
    return True


def _cell_hooks(progress):
    """nbclient hooks telling ``progress`` which code cell runs (``cell 3/17 (Profit risk)``),
    and a callable saying whether one is running now."""
    labels: dict[int, str] = {}
    running = [False]

    def on_notebook_start(notebook, **_):
        labels.clear()
        labels.update(cell_labels(notebook))
        set_status(progress, "kernel started", done=0, total=len(labels))

    def on_cell_execute(cell, cell_index, **_):
        running[0] = True
        if cell_index in labels:
            k = list(labels).index(cell_index)
            set_status(progress, f"cell {k + 1}/{len(labels)} ({labels[cell_index]})", done=k)

    def on_cell_executed(**_):
        running[0] = False

    hooks = {"on_notebook_start": on_notebook_start, "on_cell_execute": on_cell_execute,
             "on_cell_executed": on_cell_executed}
    return hooks, lambda: running[0]


def cell_labels(notebook) -> dict[int, str]:
    """Each code cell's index → what it is about: the heading of its section, or (before
    the first heading) its first comment, or the function its first statement calls."""
    labels, heading = {}, None
    for i, cell in enumerate(notebook.cells):
        lines = [line.strip() for line in cell.source.splitlines() if line.strip()]
        if cell.cell_type == "markdown":
            heading = next((line.lstrip("#").strip() for line in lines if line.startswith("#")), heading)
        elif cell.cell_type == "code" and lines:
            tags = cell.get("metadata", {}).get("tags", [])
            if "parameters" in tags or "injected-parameters" in tags:
                labels[i] = "parameters"
            elif heading is not None:
                labels[i] = heading
            else:
                comment = next((line for line in lines if line.startswith("#")), None)
                statement = next((line for line in lines if not line.startswith(("#", "import ", "from "))),
                                 lines[0])
                call = re.match(r"(?:[\w, ]+=\s*)?([\w.]+)\(", statement)  # run = report.plan_into(...)
                text = comment.lstrip("#").strip() if comment else f"{call[1]}(…)" if call else statement
                labels[i] = text if len(text) <= 48 else text[:47] + "…"
    return labels


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
    all), whose files are then moved up. ``run_dir=None`` (an interactive session)
    makes a new folder ``reports/<campaign>/<UTC time>`` under the working folder, never
    inside the installed package. (The engine already writes formula-safe CSVs.)
    """
    from optimizer.io.campaign import load_campaign
    from optimizer.workflows.planner import plan_campaign

    campaign = load_campaign(campaign_dir)
    if run_dir is None:  # an interactive session: a new folder under the working folder's reports/
        run_dir = new_run_dir(campaign.config.name, Path("reports"))
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    staging = run_dir / ".plan"
    settings = Settings(budget=budget, delays=dict(delays or {}), time_limit_s=time_limit_s)
    # The stage lines go to the report command when it asked for them, never into the notebook.
    run = plan_campaign(campaign, settings, out_dir=staging, progress=file_progress())
    move_run_into(staging, run_dir)
    write_coverage(coverage_table(run.instance), run_dir)  # lets a later run's diff name newly late pairs
    run.out_dir = run_dir
    return run
