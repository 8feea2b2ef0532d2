"""The rendered report opened in a real browser (STYLE: tests, layer 5).

Renders the data/tiny report with the real command line, opens report.html in
headless Chromium with a fresh profile, and checks that the page logs no
JavaScript errors, that plotly drew its charts, and that a screenshot is not
blank. Skipped only when /usr/bin/chromium is missing (.ci/run installs it).
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
    root = tmp_path_factory.mktemp("reports")
    proc = run_cli(["report", str(REPO / "data" / "tiny"), "--time-limit", "10",
                    "--reports-dir", str(root)], timeout=300)
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
