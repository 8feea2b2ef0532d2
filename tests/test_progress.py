"""The library reports through logging and is silent unless asked; a Progress is its display."""

from __future__ import annotations

import io
import logging

from optimizer.progress import Progress
from optimizer.settings import Settings
from optimizer.workflows.planner import plan_campaign

from conftest import REPO

TINY = REPO / "data" / "tiny"


def test_a_library_call_is_silent_unless_asked(capfd):
    plan_campaign(TINY, Settings(time_limit_s=10))
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_the_solve_logs_its_stages(caplog):
    with caplog.at_level(logging.INFO, logger="optimizer"):
        plan_campaign(TINY, Settings(time_limit_s=10))
    stages = [r.getMessage() for r in caplog.records if r.name.startswith("optimizer.")]
    assert any(m.startswith("built model for 'Tiny demo'") for m in stages)
    assert any(m.startswith("LP round 1: relaxation") for m in stages)


def test_progress_is_the_display_of_the_package_logger_while_open():
    buf = io.StringIO()
    logger = logging.getLogger("optimizer")
    before = (logger.level, logger.propagate, list(logger.handlers))
    with Progress("plan", stream=buf, live=False):
        plan_campaign(TINY, Settings(time_limit_s=10))
        logging.getLogger("optimizer.io.run_index").warning("warning: the run index x cannot be used")
    lines = buf.getvalue().splitlines()
    assert any("LP round 1: relaxation" in line and "[best" in line for line in lines)
    assert any(line.startswith("plan ") and "warning: the run index x" in line for line in lines)
    assert (logger.level, logger.propagate, list(logger.handlers)) == before
