"""The rendered report opened in a real browser (STYLE: tests, layer 5).

Renders the data/tiny report with the real command line — after a budget frontier
of the same files, so the report has every chart — opens report.html in headless
Chromium with a fresh profile, and checks that the page logs no JavaScript errors,
that plotly drew its charts, that a screenshot is not blank, and (through
Playwright) that no two text labels of a chart overlap. Skipped only when
/usr/bin/chromium is missing (.ci/run installs it).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, run_cli

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Console messages are logged as `INFO:CONSOLE(line)] "text", source: url (line)`.
CONSOLE_ERROR = re.compile(r"CONSOLE.*(Uncaught|rror)")

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium not installed (apt-get install -y chromium)")]


def chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run headless Chromium on ``url`` with a fresh profile; stderr carries the console log."""
    return subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}",
                           "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
                           *extra, url], capture_output=True, text=True, timeout=120)


def console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if CONSOLE_ERROR.search(line)]


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> Path:
    """data/tiny's report, with the budget frontier of the same files in it."""
    root = tmp_path_factory.mktemp("reports")
    tiny = str(REPO / "data" / "tiny")
    proc = run_cli(["frontier", tiny, "--steps", "4", "--time-limit", "5", "--reports-dir", str(root)],
                   timeout=300)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli(["report", tiny, "--time-limit", "10", "--reports-dir", str(root)], timeout=300)
    assert proc.returncode == 0, proc.stderr
    return Path(proc.stdout.strip().splitlines()[-1])


def test_console_capture_sees_errors(tmp_path):
    """The check below would notice an error: a page that throws is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<p>x</p><script>undefinedFunction();</script>")
    proc = chromium(bad.as_uri(), tmp_path / "profile", "--dump-dom")
    assert any("Uncaught ReferenceError" in line for line in console_errors(proc.stderr))


def test_report_opens_without_errors_and_draws_charts(report_html, tmp_path):
    proc = chromium(report_html.as_uri(), tmp_path / "profile-dom", "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert console_errors(proc.stderr) == []
    dom = proc.stdout
    assert "Headline KPIs" in dom and "Changes since the previous run" in dom
    assert dom.count('class="main-svg"') >= 3  # plotly drew every chart (offline, inlined js)


def test_report_screenshot_is_not_blank(report_html, tmp_path):
    from PIL import Image

    shot = tmp_path / "report.png"
    proc = chromium(report_html.as_uri(), tmp_path / "profile-shot", f"--screenshot={shot}",
                    "--window-size=1280,2000")
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    assert console_errors(proc.stderr) == []
    img = Image.open(shot).convert("RGB")
    assert img.size == (1280, 2000)
    colours = img.getcolors(maxcolors=1 << 20)
    non_white = sum(n for n, rgb in colours if min(rgb) < 245)
    assert len(colours) > 20, "screenshot has almost no colours: blank page?"
    assert non_white > 0.01 * img.size[0] * img.size[1], "screenshot is (nearly) all white"


# Per chart: its title (or first subplot title), the box of every annotation's text —
# the labels of the marked lines (budgets, P10/P50/P90, expected profit, planning date,
# hurdle) and the subplot titles — and the boxes of its bars and of its vertical lines.
_LABEL_BOXES = """() => Array.from(document.querySelectorAll('div.plotly-graph-div')).map(div => {
  const box = e => { const r = e.getBoundingClientRect();
                     return {x: r.x, y: r.y, w: r.width, h: r.height}; };
  const labels = Array.from(div.querySelectorAll('g.annotation')).map(a => {
    const text = a.querySelector('.annotation-text');
    return Object.assign(box(text), {text: text.textContent}); });
  const bars = Array.from(div.querySelectorAll('g.trace.bars g.point path')).map(box)
    .filter(b => b.w > 0 && b.h > 0);
  const lines = Array.from(div.querySelectorAll('.shapelayer path')).map(box).filter(b => b.w < 4 && b.h > 4);
  const title = div.querySelector('.gtitle');
  return {title: title ? title.textContent : (labels.length ? labels[0].text : ''),
          chart: box(div), labels: labels, bars: bars, lines: lines};
})"""


def _overlap(a: dict, b: dict, slack: float = 0.5) -> bool:
    return (a["x"] + slack < b["x"] + b["w"] and b["x"] + slack < a["x"] + a["w"]
            and a["y"] + slack < b["y"] + b["h"] and b["y"] + slack < a["y"] + a["h"])


def label_overlaps(charts: list[dict]) -> list[str]:
    """What a reader could not read, per chart: two labels whose text boxes overlap, a
    label outside its chart, on a bar, or crossed by a vertical line (a line touching a
    label's edge is the line it labels)."""
    found = []
    for c in charts:
        labels = c["labels"]
        for i, a in enumerate(labels):
            for b in labels[i + 1:]:
                if _overlap(a, b):
                    found.append(f"{c['title']!r}: {a['text']!r} overlaps {b['text']!r}")
            box = c["chart"]
            if not (box["x"] - 1 <= a["x"] and a["x"] + a["w"] <= box["x"] + box["w"] + 1
                    and box["y"] - 1 <= a["y"] and a["y"] + a["h"] <= box["y"] + box["h"] + 1):
                found.append(f"{c['title']!r}: {a['text']!r} is outside the chart")
            if any(_overlap(a, bar, slack=1.0) for bar in c.get("bars", [])):
                found.append(f"{c['title']!r}: {a['text']!r} sits on a bar")
            inner = {**a, "x": a["x"] + 1.5, "w": a["w"] - 3}
            if any(_overlap(inner, line) for line in c.get("lines", [])):
                found.append(f"{c['title']!r}: {a['text']!r} is crossed by a line")
    return found


def test_overlap_check_sees_overlapping_labels():
    """The check below would notice two labels on one another (the old frontier chart)."""
    chart = {"x": 0, "y": 0, "w": 500, "h": 300}
    labels = [{"x": 270, "y": 56, "w": 96, "h": 17, "text": "campaign budget"},
              {"x": 272, "y": 56, "w": 80, "h": 17, "text": "recommended"}]
    assert label_overlaps([{"title": "t", "chart": chart, "labels": labels}]) == [
        "'t': 'campaign budget' overlaps 'recommended'"]
    labels[1]["y"] = 74  # the next row of labels
    assert label_overlaps([{"title": "t", "chart": chart, "labels": labels}]) == []
    line = {"x": 300, "y": 50, "w": 2, "h": 200}  # the P50 label on the expected-profit line
    bar = {"x": 260, "y": 60, "w": 20, "h": 200}  # the planning-date label on the first bar
    assert label_overlaps([{"title": "t", "chart": chart, "labels": labels, "lines": [line], "bars": [bar]}]) == [
        "'t': 'campaign budget' sits on a bar", "'t': 'campaign budget' is crossed by a line",
        "'t': 'recommended' sits on a bar", "'t': 'recommended' is crossed by a line"]


def test_chart_labels_do_not_overlap(report_html, tmp_path):
    """Every chart of the report drawn in Chromium: no two annotation texts (line labels,
    subplot titles) overlap, none leaves its chart; the frontier, histogram and timeline
    are saved as screenshots."""
    from playwright.sync_api import sync_playwright

    errors = []

    def page_error(error) -> None:
        errors.append(str(error))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            for width in (1400, 1000):  # a wide and a narrow page
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.on("pageerror", page_error)
                page.goto(report_html.as_uri())
                page.wait_for_function("() => { const d = document.querySelectorAll('div.plotly-graph-div');"
                                       " return d.length > 0 && Array.from(d).every(e => e._fullLayout); }")
                charts = page.evaluate(_LABEL_BOXES)
                assert errors == []
                texts = [label["text"] for c in charts for label in c["labels"]]
                for expected in ("campaign budget", "recommended", "P10", "P50", "P90", "expected",
                                 "planning date"):
                    assert any(t.startswith(expected) for t in texts), (expected, texts)
                assert label_overlaps(charts) == []
                divs = page.query_selector_all("div.plotly-graph-div")
                for name, title in (("frontier", "Expected profit ("), ("histogram", "Simulated promo profit"),
                                    ("timeline", "Order-by and ship-by dates")):
                    (i,) = [k for k, c in enumerate(charts) if c["title"].startswith(title)]
                    shot = tmp_path / f"{name}-{width}.png"
                    divs[i].screenshot(path=str(shot))
                    assert shot.stat().st_size > 5_000
                page.close()
        finally:
            browser.close()
