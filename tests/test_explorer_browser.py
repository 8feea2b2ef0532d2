"""The what-if explorer in a real JupyterLab, driven by Playwright (STYLE: tests, layer 5).

Starts ``jupyter lab`` on a free port with a token in a temporary folder holding a
copy of notebooks/explore.ipynb parameterised to data/sample (300 SKUs, the default
60 s time limit) with the repository's data/ as ``campaigns_root``, opens it in
headless Chromium — the system's /usr/bin/chromium, no browser download — runs every
cell, and then:

* moves the budget slider five times with the keyboard (an arrow key on the slider
  handle) and times each move until the KPI cards show the new budget, not greyed
  out: the median must be at most 5 s (the issue's target);
* waits for the refined plan of the last move and times it;
* watches every change of the page's answer (a MutationObserver) meanwhile: whenever the
  KPIs are not greyed out, the expected profit the status line states is the one on the
  profit card — the two are drawn together and never disagree;
* checks that the KPI cards sit on one line, that the delay sliders and the allocation
  chart have a real size at a 1400 px wide window;
* picks data/tiny in the campaign picker: the explorer is rebuilt for it (its three
  modes' delay sliders, its budget on the cards); and that the page logged no console error.

The timings are printed (``pytest -s``) and screenshots are kept in the test's
temporary folder (their paths printed too; ``EXPLORER_SCREENSHOT=/tmp/x.png`` copies the
sample's to that path and the one after the pick beside it, ``x-tiny.png``).  Skipped
where /usr/bin/chromium or the playwright package is missing.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
SAMPLE = REPO / "data" / "sample"
MOVES = 5
ANSWER_WITHIN_S = 5.0  # the target for a budget move on the sample (median)
VIEWPORT = {"width": 1400, "height": 1000}

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium not installed (apt-get install -y chromium)")]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install -e .[test])")

# The value on the explorer's KPI card `name` (None while there is none).
KPI_ROW = """name => {
  const card = document.querySelector(`.pso-kpis .pso-card[data-kpi="${name}"] .pso-card-value`);
  return card ? card.textContent.trim() : null;
}"""
# The KPIs show a budget other than `old` and are not greyed out as stale.
NEW_KPIS = """old => {
  const k = document.querySelector('.pso-kpis');
  const card = k && k.querySelector('.pso-card[data-kpi="Budget"] .pso-card-value');
  return !!card && card.textContent.trim() !== old && !k.classList.contains('pso-stale');
}"""
# Record, at every change of the answer, whether the status line and the KPI cards disagree:
# the status line's "expected profit X" against the profit card, while the KPIs are not stale.
WATCH_AGREEMENT = """() => {
  window.psoChecks = 0;
  window.psoDisagree = [];
  const check = () => {
    const status = document.querySelector('.pso-status');
    const kpis = document.querySelector('.pso-kpis');
    if (!status || !kpis || kpis.classList.contains('pso-stale')) return;
    const stated = status.textContent.match(/expected profit ([-\\d,.]+)/);
    const card = kpis.querySelector('.pso-card[data-kpi="Expected profit"] .pso-card-value');
    if (!stated || !card) return;
    window.psoChecks += 1;
    if (card.textContent.trim() !== stated[1] + ' USD') {
      window.psoDisagree.push([status.textContent, card.textContent]);
    }
  };
  new MutationObserver(check).observe(document.querySelector('.pso-answer'),
                                      {subtree: true, childList: true, characterData: true});
}"""

STALE = """() => document.querySelector('.pso-kpis').classList.contains('pso-stale')
  && document.querySelector('.pso-status').innerText.includes('solving…')"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def notebook_copy(folder: Path, campaign: Path) -> Path:
    """notebooks/explore.ipynb with papermill's kind of injected-parameters cell: ``campaign``
    first, the repository's data/ as the picker's campaigns root."""
    import nbformat

    nb = nbformat.read(REPO / "notebooks" / "explore.ipynb", as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])) + 1
    nb.cells.insert(at, nbformat.v4.new_code_cell(
        f"campaign_dir = {str(campaign)!r}\ncampaigns_root = {str(REPO / 'data')!r}",
        metadata={"tags": ["injected-parameters"]}))
    path = folder / "explore.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on the explorer notebook: (url of the notebook, folder)."""
    root = tmp_path_factory.mktemp("lab")
    notebook_copy(root, SAMPLE)
    settings = root / ".jupyter" / "lab-settings" / "@jupyterlab"
    for plugin, values in (("apputils-extension/notification", {"fetchNews": "false", "checkForUpdates": False}),
                           ("notebook-extension/tracker", {"autoStartDefaultKernel": True})):
        # no "official Jupyter news?" toast and no kernel dialog over the page
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(root / ".jupyter" / "config"),
               JUPYTER_DATA_DIR=str(root / ".jupyter" / "data"),
               JUPYTER_RUNTIME_DIR=str(root / ".jupyter" / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(root / ".jupyter" / "lab-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(root / ".jupyter" / "workspaces"))
    log = open(root / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--allow-root",
         "--LabApp.expose_app_in_browser=True", "--LabApp.extension_manager=readonly"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("jupyter lab did not start:\n" + (root / "server.log").read_text()[-3000:])
                time.sleep(0.3)
        yield f"{base}/lab/tree/explore.ipynb?token={token}", root
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture
def page(lab):
    url, _ = lab
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            pg = browser.new_page(viewport=VIEWPORT)
            pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            pg.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
            pg.errors = errors
            pg.goto(url)
            pg.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            yield pg
        finally:
            browser.close()


def run_all(page) -> None:
    """Run every cell once the notebook's kernel is up."""
    page.wait_for_function("""() => {
      const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
      const kernel = panel && panel.sessionContext && panel.sessionContext.session && panel.sessionContext.session.kernel;
      return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
    }""", timeout=60_000)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")


def box(page, selector: str) -> list[dict]:
    return [b for b in (e.bounding_box() for e in page.query_selector_all(selector)) if b]


def test_budget_moves_answer_within_seconds_in_jupyterlab(page, tmp_path):
    t0 = time.perf_counter()
    run_all(page)
    try:
        page.wait_for_selector(".pso-budget .noUi-handle", timeout=120_000)
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"))
        raise
    sliders_s = time.perf_counter() - t0
    page.wait_for_function(NEW_KPIS, arg="", timeout=120_000)
    first_kpis_s = time.perf_counter() - t0

    # six delay sliders, stacked, each wide enough to use, labelled with its mode
    delays = box(page, ".pso-delays .widget-slider")
    assert len(delays) == 6 and all(b["width"] >= 400 for b in delays), delays
    assert len({round(b["y"]) for b in delays}) == 6, "delay sliders share a row"
    tracks = box(page, ".pso-delays .noUi-target")
    assert len(tracks) == 6 and all(b["width"] >= 200 for b in tracks), tracks
    labels = [e.inner_text().strip() for e in page.query_selector_all(".pso-delays .widget-label")]
    assert labels == ["air", "courier", "express_sea", "rail", "sea_fcl", "sea_lcl"], labels

    page.evaluate(WATCH_AGREEMENT)
    page.evaluate("() => document.querySelector('.pso-budget').scrollIntoView({block: 'start'})")
    handle = page.locator(".pso-budget .noUi-handle")
    moves, greyed = [], []
    for i in range(MOVES):
        old = page.evaluate(KPI_ROW, "Budget")
        handle.focus()
        pressed = time.perf_counter()
        page.keyboard.press("ArrowLeft")
        # the stale KPIs are greyed out and the status counts the seconds
        page.wait_for_function(STALE, timeout=10_000, polling=50)
        greyed.append(time.perf_counter() - pressed)
        if i == 0:
            page.screenshot(path=str(tmp_path / "explorer-solving.png"))
        page.wait_for_function(NEW_KPIS, arg=old, timeout=30_000, polling=50)
        moves.append(time.perf_counter() - pressed)
    last_move = pressed
    page.wait_for_function("() => document.querySelector('.pso-status').innerText.trim().startsWith('refined plan')",
                           timeout=90_000, polling=200)
    refined_s = time.perf_counter() - last_move
    refined_status = page.inner_text(".pso-status")

    chart = box(page, ".pso-chart .js-plotly-plot")
    assert len(chart) == 1 and chart[0]["width"] >= 400 and chart[0]["height"] >= 300, chart
    assert page.query_selector(".pso-chart .main-svg"), "plotly drew no chart"

    # the status line and the KPIs never disagreed; the KPIs are one line of small cards
    checks, disagree = page.evaluate("() => [window.psoChecks, window.psoDisagree]")
    assert checks >= MOVES and disagree == [], (checks, disagree)
    cards = box(page, ".pso-kpis .pso-card")
    assert len(cards) >= 6 and len({round(b["y"]) for b in cards}) == 1, cards
    strip = box(page, ".pso-kpis")
    assert strip[0]["height"] <= 80, strip

    page.evaluate("() => document.querySelector('.pso-campaign').scrollIntoView({block: 'start'})")
    time.sleep(0.5)
    shot = tmp_path / "explorer-jupyterlab-1400px.png"
    page.screenshot(path=str(shot))
    target = os.environ.get("EXPLORER_SCREENSHOT")
    if target:
        shutil.copy(shot, target)

    # the picker: data/tiny rebuilds the explorer for it
    labels = page.eval_on_selector_all(".pso-campaign select option",
                                       "os => os.map(o => o.textContent.replace(/\\u00a0/g, ' '))")
    tiny = f"{REPO / 'data' / 'tiny'} · Tiny demo"
    assert f"{SAMPLE} · Black Friday 2026 (sample)" in labels and tiny in labels, labels
    picked = time.perf_counter()
    page.select_option(".pso-campaign select", index=labels.index(tiny))
    page.wait_for_function(NEW_KPIS, arg=page.evaluate(KPI_ROW, "Budget"), timeout=60_000, polling=100)
    switch_s = time.perf_counter() - picked
    assert page.evaluate(KPI_ROW, "Budget") == "29,000.00 USD"
    labels = [e.inner_text().strip() for e in page.query_selector_all(".pso-delays .widget-label")]
    assert labels == ["air", "rail", "sea_lcl"], labels
    assert "Tiny demo" in page.inner_text(".pso-facts")
    time.sleep(0.5)
    shot_tiny = tmp_path / "explorer-jupyterlab-1400px-tiny.png"
    page.screenshot(path=str(shot_tiny))
    if target:
        shutil.copy(shot_tiny, Path(target).with_name(Path(target).stem + "-tiny.png"))

    median = statistics.median(moves)
    print(f"\nexplorer on data/sample in JupyterLab: sliders after {sliders_s:.1f} s, first KPIs after "
          f"{first_kpis_s:.1f} s of run-all; budget move → new KPIs: median {median:.2f} s "
          f"({', '.join(f'{m:.2f}' for m in moves)}), greyed out after {', '.join(f'{g:.2f}' for g in greyed)} s; "
          f"last move → refined plan {refined_s:.1f} s "
          f"(refined: {refined_status!r}); status and KPIs agreed at {checks} changes; "
          f"picking data/tiny → its KPIs after {switch_s:.1f} s; screenshots {shot}, {shot_tiny}")
    assert page.errors == [], page.errors
    assert median <= ANSWER_WITHIN_S, moves
