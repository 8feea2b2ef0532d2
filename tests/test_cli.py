"""The command line (optimizer.cli): what it prints and how it refuses bad options before any work."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.cli import main, plan_line

from checker import check_plan
from conftest import OWN_CAMPAIGNS, REPO, write_campaign

M01 = OWN_CAMPAIGNS / "m01_budget_by_margin_per_cost"
M04 = OWN_CAMPAIGNS / "m04_cheap_lane_misses_the_cutoff"


def _main(args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def test_plan_line_says_when_no_bound_was_proven():
    summary = {"status": "time_limit", "expected_profit": 1234.5, "currency": "USD", "spend": 900.0,
               "budget": 1000.0, "expected_fill_rate": 0.5, "mip_gap": None, "best_bound": None}
    line = plan_line(summary, "runs/x")
    assert "no bound proven" in line and "gap" not in line
    line = plan_line({**summary, "mip_gap": 0.00123, "best_bound": 1236.0}, "runs/x")
    assert "gap 0.123% to bound 1,236.00" in line


@pytest.mark.parametrize("out, fragment", [
    ("file", "is a file, not a folder"),
    ("file/run", "which is a file"),
    ("/proc/no-such/run", "cannot write to /proc/no-such/run"),
])
def test_unwritable_out_exits_2_before_solving(tmp_path, out, fragment):
    (tmp_path / "file").write_text("not a folder\n")
    target = out if out.startswith("/") else str(tmp_path / out)
    code, stdout, err = _main(["plan", str(M01), "--out", target])
    assert code == 2, err
    assert "option '--out'" in err and fragment in err and "Traceback" not in err
    assert "built model" not in err  # refused before any work


def test_unwritable_reports_dir_exits_2(tmp_path):
    (tmp_path / "file").write_text("x")
    for command in (["report", str(M01)], ["frontier", str(M01), "--steps", "2"]):
        code, _, err = _main([*command, "--reports-dir", str(tmp_path / "file")])
        assert code == 2 and "option '--reports-dir'" in err, err


def test_empty_plan_says_why(tmp_path):
    code, _, err = _main(["plan", str(M04), "--delay", "air=42", "--out", str(tmp_path / "a")])
    assert code == 0 and "note: the plan orders nothing: no lane makes any cutoff" in err
    no_demand = write_campaign(
        tmp_path / "c", {"name": "empty", "currency": "USD", "planning_date": "2026-09-01",
                         "promo_start": "2026-11-27", "promo_end": "2026-12-01", "budget": 1000.0,
                         "buffer_days": 0},
        [{"sku": "A", "supplier": "F1", "unit_cost": 1.0, "price": 2.0, "weight_kg": 1.0, "volume_m3": 0.01,
          "case_pack": 1, "moq": 0, "production_days": 1, "duty_rate": 0.0, "salvage_value": 0.0,
          "return_rate": 0.0}],
        [{"warehouse": "W", "market": "US", "capacity_m3": 10.0, "cutoff": "2026-11-01"}],
        [{"warehouse": "W", "mode": "sea", "transit_days": 1, "cost_per_kg": 0.0, "cost_per_m3": 0.0,
          "volumetric_kg_per_m3": 0, "shipment_cost": 0.0}], [])
    code, _, err = _main(["plan", str(no_demand), "--out", str(tmp_path / "b")])
    assert code == 0 and "note: the plan orders nothing: demand.csv has no demand" in err


def _restore_sigint():
    # A test runner started in the background of a shell may ignore SIGINT, and a child
    # inherits that; the user's terminal does not, so the child gets the default back.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _plan_process(out, campaign=REPO / "data" / "sample"):
    return subprocess.Popen([sys.executable, "-m", "optimizer", "plan", str(campaign), "--out", str(out),
                             "--time-limit", "120"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_restore_sigint)


@pytest.mark.slow
def test_ctrl_c_keeps_the_best_plan_found(tmp_path):
    out = tmp_path / "run"
    proc = _plan_process(out)
    seen = []
    for line in proc.stderr:  # progress lines: interrupt once the first plans are in
        seen.append(line)
        if line.startswith("rounded LP plan"):
            proc.send_signal(signal.SIGINT)
            break
    stdout, rest = proc.communicate(timeout=120)
    err = "".join(seen) + rest
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "interrupted: keeping the best plan found" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["mip_gap"] is not None
    assert summary["solve_seconds"] < summary["time_limit_s"]
    check_plan(REPO / "data" / "sample", out).assert_valid()


@pytest.mark.slow
def test_ctrl_c_before_any_plan_writes_nothing(tmp_path):
    out = tmp_path / "run"
    proc = _plan_process(out)
    time.sleep(1.5)  # inside main, loading the campaign and importing the engine: no plan yet
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err and "interrupted" in err
    assert not out.exists()


def test_the_build_is_said_to_be_outside_the_time_limit(tmp_path):
    code, _, err = _main(["plan", str(M01), "--out", str(tmp_path / "run"), "--time-limit", "5"])
    assert code == 0 and "solving for up to 5s (the time limit counts the solve, not the build)" in err


def test_misspelt_scheduler_fails_at_once_before_any_folder(tmp_path):
    reports = tmp_path / "reports"
    for command in (["frontier", str(M01), "--steps", "2", "--reports-dir", str(reports)],
                    ["scenarios", str(M01), "--delay", "sea=0,5", "--reports-dir", str(reports)],
                    ["plan", str(M01), "--parts", "2", "--out", str(tmp_path / "run")]):
        code, _, err = _main([*command, "--scheduler", "lcoal"])
        assert code == 2 and "option '--scheduler': 'lcoal': expected 'local'" in err, err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 2
    assert not reports.exists() and not (tmp_path / "run").exists()


@pytest.mark.slow
def test_unreachable_scheduler_fails_within_seconds(tmp_path):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    began = time.perf_counter()
    code, _, err = _main(["frontier", str(M01), "--steps", "2", "--reports-dir", str(tmp_path / "r"),
                          "--scheduler", f"tcp://127.0.0.1:{port}"])
    assert code == 2 and f"no Dask scheduler at tcp://127.0.0.1:{port} answered within 5 s" in err
    assert time.perf_counter() - began < 15 and "Traceback" not in err


# ---------------------------------------------------------------- fuzz: mutated campaign folders

_FILES = ("campaign.toml", "skus.csv", "suppliers.csv", "warehouses.csv", "lanes.csv", "demand.csv",
          "inventory.csv")
_TEXT = st.one_of(st.sampled_from(["", "-1", "0", "1e308", "nan", "abc", "=1+2", "'", "2026-13-01",
                                   "1,000", " 5 ", "\t", "∞", "1e-300", "999999999999"]),
                  st.text(max_size=8))


@st.composite
def _mutations(draw):
    return draw(st.lists(st.tuples(st.sampled_from(_FILES),
                                   st.sampled_from(["cell", "drop_file", "drop_column", "duplicate_row",
                                                    "truncate", "blank_line", "extra_column"]),
                                   st.integers(0, 50), st.integers(0, 50), _TEXT),
                         min_size=1, max_size=3))


def _mutate(folder, file, how, i, j, text):
    path = folder / file
    if how == "drop_file":
        path.unlink(missing_ok=True)
        return
    if not path.exists():
        return
    raw = path.read_text(encoding="utf-8")
    if file.endswith(".toml"):
        lines = raw.splitlines()
        if lines:
            key = lines[i % len(lines)].split("=")[0].strip()
            lines[i % len(lines)] = f"{key} = {text!r}" if how == "cell" else ""
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return
    rows = [r.split(",") for r in raw.splitlines()]
    if how == "cell" and len(rows) > 1:
        r = rows[1 + i % (len(rows) - 1)]
        r[j % len(r)] = text.replace(",", ";").replace("\n", " ")
    elif how == "drop_column":
        col = j % len(rows[0])
        rows = [r[:col] + r[col + 1:] for r in rows]
    elif how == "duplicate_row" and len(rows) > 1:
        rows.append(list(rows[1 + i % (len(rows) - 1)]))
    elif how == "truncate":
        rows = rows[: i % (len(rows) + 1)]
    elif how == "blank_line":
        rows.insert(1 + i % len(rows), [""])
    elif how == "extra_column":
        rows = [r + ([text.replace(",", ";")] if k else ["extra"]) for k, r in enumerate(rows)]
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=st.sampled_from(sorted(p.name for p in OWN_CAMPAIGNS.iterdir() if p.is_dir())), mutations=_mutations())
def test_mutated_campaign_folders_exit_0_2_or_3_never_a_traceback(tmp_path_factory, case, mutations):
    root = tmp_path_factory.mktemp("fuzz")
    folder = root / "campaign"
    shutil.copytree(OWN_CAMPAIGNS / case, folder)
    (folder / "expected.json").unlink()
    (folder / "README.md").unlink()
    for mutation in mutations:
        _mutate(folder, *mutation)
    code, _, err = _main(["plan", str(folder), "--out", str(root / "run"), "--time-limit", "5"])
    assert code in (0, 2, 3), err
    assert "Traceback" not in err
    if code != 0:
        assert not (root / "run").exists() or not any((root / "run").iterdir())


def test_validate_lists_the_seller_economics_in_use(repo):
    code, out, _ = _main(["validate", str(repo / "data" / "sample")])
    assert code == 0
    assert "seller economics: referral fees on 300 SKUs" in out
    assert "bonded: US-3PL-NJ" in out and "3 cash limits (2026-08-31: 113,000" in out
    code, out, _ = _main(["validate", str(repo / "data" / "sample_v1")])
    assert code == 0 and "seller economics" not in out
