"""Hostile input, generated: hypothesis over the command line, run folders and the file system.

Four searches, each in the quick layer (replayed examples) and the slow layer (new ones):

* **options**: every command with every option, values extreme, non-finite and malformed
  (``nan``, ``1e400``, ``-1``, ``٣``, embedded NUL, path-like and empty strings);
* **run folders**: a real plan run, then its files deleted, emptied, cut short, replaced by
  garbage, by JSON of the wrong kind, by a folder or a dangling link, its ids set to
  ``NA``, extra columns added — read by ``diff``, ``index --rebuild`` and ``monitor``;
* **files**: a campaign whose files are folders, dangling or looping links, binary
  garbage, or carry ids that look like paths or NA markers, extreme dates and day counts,
  extra columns of any name; and value-preserving rewrites (CRLF, a BOM, quoted cells,
  shuffled rows, an extra column) that must give the same expected profit.

The quick layer replays 30 examples of the options search and fewer of the others (55 in
all); the slow layer draws 200 new ones per search (66 rewrites).  Every run must end with
exit code 0, 2, 3 or 130 — never a traceback — and a run that
fails leaves nothing visible behind.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.cli import main

from conftest import OWN_CAMPAIGNS

M01 = OWN_CAMPAIGNS / "m01_budget_by_margin_per_cost"
M03 = OWN_CAMPAIGNS / "m03_one_container_and_air_for_the_rest"
QUICK, SLOW = 30, 80
ALLOWED = {0, 2, 3, 130}


def _run(args: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, err.getvalue()


def _visible(root: Path) -> set[Path]:
    """Every path under ``root`` with no hidden part (a staging folder is hidden)."""
    return {p for p in root.rglob("*") if not any(part.startswith(".") for part in p.relative_to(root).parts)}


def _check(args: list[str], root: Path) -> int:
    before, here = _visible(root), set(os.listdir("."))
    code, err = _run(args)
    assert code in ALLOWED, (args, code, err)
    assert "Traceback" not in err, (args, err)
    assert set(os.listdir(".")) == here, (args, "wrote into the working folder")
    if code != 0:
        assert _visible(root) <= before, (args, code, sorted(map(str, _visible(root) - before)), err)
    return code


# ------------------------------------------------------------------ options

_NUMBERS = ["nan", "NaN", "inf", "-inf", "1e400", "1e300", "-1", "0", "1", "2", "0.5", "100000",
            "99999999999999999999", "", " ", "abc", "1,5", "0x10", "1_000", "−5", "٣", "1e-300", "7"]
_DATES = ["2026-10-01", "2026-13-01", "9999-12-31", "0001-01-01", "yesterday", ""]
_MODES = ["air", "sea", "sea_fcl", "AIR", "", "a/b", "NA", "∞"]


@st.composite
def _option_value(draw, kind: str):
    if kind == "number":
        return draw(st.one_of(st.sampled_from(_NUMBERS), st.floats(allow_nan=True).map(repr),
                              st.integers(-10**6, 10**12).map(str)))
    if kind == "delay":
        return f"{draw(st.sampled_from(_MODES))}={draw(st.sampled_from(_NUMBERS + ['3', '3,7', '0,nan']))}"
    if kind == "date":
        return draw(st.sampled_from(_DATES))
    if kind == "mode":
        return draw(st.sampled_from(_MODES))
    return draw(st.sampled_from(["local-typo", "bogus", "", "tcp://", "local "]))


# option → value kind; a path option is filled in from the workspace.
_OPTIONS = {
    "plan": {"--budget": "number", "--delay": "delay", "--time-limit": "number", "--parts": "number",
             "--workers": "number", "--scheduler": "scheduler", "--out": "path"},
    "frontier": {"--budgets": "number", "--steps": "number", "--delay": "delay", "--time-limit": "number",
                 "--reports-dir": "path", "--workers": "number", "--scheduler": "scheduler"},
    "scenarios": {"--budgets": "number", "--delay": "delay", "--time-limit": "number", "--reports-dir": "path"},
    "validate": {},
    "backtest": {"--lead-days": "number", "--promo": "mode"},
    "forecast": {"--out": "path"},
    "monitor": {"--as-of": "date", "--budget": "number", "--modes": "mode", "--time-limit": "number",
                "--out": "path"},
    "index": {"--last": "number", "--reports-dir": "path"},
    "diff": {},
}


@st.composite
def _command_lines(draw):
    command = draw(st.sampled_from(sorted(_OPTIONS)))
    options = draw(st.lists(st.sampled_from(sorted(_OPTIONS[command]) or ["--help-not"]), max_size=4,
                            unique=True))
    chosen = []
    for name in options:
        kind = _OPTIONS[command].get(name)
        if kind is None:
            continue
        chosen.append((name, kind, draw(_option_value(kind)) if kind != "path" else
                       draw(st.sampled_from(["new", "file", "nonempty", "deep/new", "dangling", "", "nul"]))))
    return command, chosen


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A campaign, a real plan run of it and an actuals file, shared by the examples."""
    root = tmp_path_factory.mktemp("fuzz-workspace")
    shutil.copytree(M01, root / "campaign", ignore=shutil.ignore_patterns("expected.json", "README.md"))
    code, err = _run(["plan", str(root / "campaign"), "--out", str(root / "run")])
    assert code == 0, err
    plan = json.loads((root / "run" / "summary.json").read_text())
    lines = (root / "run" / "plan.csv").read_text().splitlines()[1:]
    sku, warehouse = lines[0].split(",")[:2]
    (root / "actuals.csv").write_text(f"date,sku,warehouse,units\n{plan['planning_date']},{sku},{warehouse},3\n")
    return root


def _path(kind: str, scratch: Path) -> str:
    if kind == "file":
        (scratch / "a-file").write_text("x")
        return str(scratch / "a-file")
    if kind == "nonempty":
        (scratch / "full").mkdir(exist_ok=True)
        (scratch / "full" / "x").write_text("x")
        return str(scratch / "full")
    if kind == "dangling":
        link = scratch / "dangling"
        if not link.is_symlink():
            link.symlink_to(scratch / "nowhere")
        return str(link)
    if kind == "nul":
        return str(scratch / "a\x00b")
    return "" if kind == "" else str(scratch / kind)


def _argv(command: str, chosen, workspace: Path, scratch: Path) -> list[str]:
    positional = {
        "plan": [str(workspace / "campaign")], "frontier": [str(workspace / "campaign")],
        "scenarios": [str(workspace / "campaign")], "validate": [str(workspace / "campaign")],
        "backtest": [str(workspace / "campaign")], "forecast": [str(workspace / "campaign")],
        "monitor": [str(workspace / "campaign"), "--run", str(workspace / "run"),
                    "--actuals", str(workspace / "actuals.csv")],
        "index": [], "diff": [str(workspace / "run"), str(workspace / "run")],
    }[command]
    argv = [command, *positional]
    for name, kind, value in chosen:
        argv += [name, _path(value, scratch) if kind == "path" else value]
    if command in ("plan", "monitor") and "--out" not in argv:
        argv += ["--out", str(scratch / "out")]
    if command in ("frontier", "scenarios", "index") and "--reports-dir" not in argv:
        argv += ["--reports-dir", str(scratch / "reports")]
    if command == "frontier" and "--budgets" not in argv and "--steps" not in argv:
        argv += ["--steps", "2"]
    if command in ("plan", "frontier", "scenarios", "monitor") and "--time-limit" not in argv:
        argv += ["--time-limit", "5"]
    return argv


def _options_case(workspace, tmp_path_factory, command_line):
    scratch = tmp_path_factory.mktemp("fuzz-options")
    argv = _argv(*command_line, workspace, scratch)
    try:
        _check(argv, scratch)
    except ValueError as e:  # a NUL byte cannot reach a real command line: the OS refuses it first
        assert "\x00" in "".join(argv) and "null" in str(e), e
    assert not (workspace / "campaign" / "demand_forecast.csv").exists()


_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                        HealthCheck.too_slow])
# The quick layer replays the same examples every run (a stable inner loop); the slow layer
# draws new ones.
_QUICK = dict(_SETTINGS, max_examples=QUICK, derandomize=True)
# The searches that plan or read whole run folders per example replay fewer in the quick layer.
_QUICK_FEW = dict(_QUICK, max_examples=QUICK // 3)


@settings(**_QUICK)
@given(command_line=_command_lines())
def test_options_quick(workspace, tmp_path_factory, command_line):
    _options_case(workspace, tmp_path_factory, command_line)


@pytest.mark.slow
@settings(max_examples=SLOW, **_SETTINGS)
@given(command_line=_command_lines())
def test_options(workspace, tmp_path_factory, command_line):
    _options_case(workspace, tmp_path_factory, command_line)


# ------------------------------------------------------------------ run folders

_RUN_FILES = ["summary.json", "plan.csv", "shipments.csv", "sku_summary.csv", "cash.csv"]
_DAMAGE = ["delete", "empty", "garbage", "half", "json_list", "json_number", "json_garbage", "na_ids",
           "extra_column", "folder", "dangling", "binary"]


def _damage(path: Path, how: str, seed: int) -> None:
    text = path.read_text() if path.is_file() else ""
    if how in ("delete", "folder", "dangling"):
        path.unlink(missing_ok=True)
        if how == "folder":
            path.mkdir()
        elif how == "dangling":
            path.symlink_to(path.parent / "nowhere")
    elif how == "empty":
        path.write_text("")
    elif how == "garbage":
        path.write_text(random.Random(seed).choice(["a,b\n1\n", "\"unclosed\n", "x" * 50, "sku\n\n\n"]))
    elif how == "half":
        path.write_text(text[: len(text) // 2])
    elif how == "json_list":
        path.write_text("[1, 2]")
    elif how == "json_number":
        path.write_text("42")
    elif how == "json_garbage":
        path.write_text("{\"status\": ")
    elif how == "binary":
        path.write_bytes(bytes(random.Random(seed).randrange(256) for _ in range(200)))
    elif how == "na_ids" and path.suffix == ".csv":
        lines = text.splitlines()
        path.write_text("\n".join([lines[0]] + ["NA," + ln.split(",", 1)[-1] for ln in lines[1:]]) + "\n")
    elif how == "extra_column" and path.suffix == ".csv":
        lines = text.splitlines()
        path.write_text("\n".join([lines[0] + ",=cmd|' /C calc'!A0"] + [ln + ",x" for ln in lines[1:]]) + "\n")


def _run_folder_case(workspace, tmp_path_factory, damage):
    scratch = tmp_path_factory.mktemp("fuzz-runs")
    reports = scratch / "reports"
    damaged = reports / "campaign" / "20260101T000000_000000Z"
    shutil.copytree(workspace / "run", damaged)
    for name, how, seed in damage:
        _damage(damaged / name, how, seed)
    good = str(workspace / "run")
    for argv in (["diff", good, str(damaged)], ["diff", str(damaged), good],
                 ["index", "--rebuild", "--reports-dir", str(reports)],
                 ["monitor", str(workspace / "campaign"), "--run", str(damaged), "--actuals",
                  str(workspace / "actuals.csv"), "--out", str(scratch / "monitor"), "--time-limit", "5"]):
        assert _check(argv, scratch) in (0, 2), argv


_DAMAGES = st.lists(st.tuples(st.sampled_from(_RUN_FILES), st.sampled_from(_DAMAGE), st.integers(0, 99)),
                    min_size=1, max_size=3, unique_by=lambda t: t[0])


@settings(**_QUICK_FEW)
@given(damage=_DAMAGES)
def test_run_folders_quick(workspace, tmp_path_factory, damage):
    _run_folder_case(workspace, tmp_path_factory, damage)


@pytest.mark.slow
@settings(max_examples=SLOW, **_SETTINGS)
@given(damage=_DAMAGES)
def test_run_folders(workspace, tmp_path_factory, damage):
    _run_folder_case(workspace, tmp_path_factory, damage)


# ------------------------------------------------------------------ files of a campaign

_CAMPAIGN_FILES = ["campaign.toml", "skus.csv", "suppliers.csv", "warehouses.csv", "lanes.csv", "demand.csv",
                   "inventory.csv"]
_NOT_A_FILE = ["folder", "dangling", "loop", "binary", "elf", "zip"]
_IDS = ["NA", "N/A", "None", "NULL", "nan", "../up", "a/b", "con", " ", "=1+2", "\x1b[31mred", "é", "ا"]
_EXTREME_DATES = ["0001-01-01", "9999-12-31", "1900-01-01", "2026-02-29"]
_EXTREME_DAYS = ["0", "3650", "3651", "-1", "100000"]


def _replace_file(path: Path, how: str) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    path.unlink(missing_ok=True)
    if how == "folder":
        path.mkdir()
    elif how == "dangling":
        path.symlink_to(path.parent / "nowhere.csv")
    elif how == "loop":
        path.symlink_to(path)
    elif how == "binary":
        path.write_bytes(bytes(range(256)) * 4)
    elif how == "elf":
        path.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(500))
    elif how == "zip":
        path.write_bytes(b"PK\x03\x04" + bytes(500))


def _text_lines(path: Path) -> list[str] | None:
    r"""The lines of a text file as a CSV reader sees them (split at ``\n``, ``\r\n`` or
    ``\r`` only: not at ``\x85`` or ``\u2028``, where ``str.splitlines`` also breaks), or
    None (a folder, a link to nowhere, binary garbage)."""
    try:
        text = path.read_text(encoding="utf-8") if path.is_file() else None
    except UnicodeDecodeError:
        return None
    if text is None:
        return None
    lines = text.split("\n")   # read_text has turned \r\n and \r into \n
    return lines[:-1] if lines and lines[-1] == "" else lines


def _set_cells(path: Path, column_hint: str, value: str, row: int) -> None:
    """Set one cell of a column whose name contains ``column_hint`` (no-op without one)."""
    lines = _text_lines(path)
    if not lines:
        return
    header = lines[0].split(",")
    cols = [i for i, name in enumerate(header) if column_hint in name]
    if not cols or len(lines) < 2:
        return
    r = 1 + row % (len(lines) - 1)
    cells = lines[r].split(",")
    if cols[0] >= len(cells):   # a short row (a quoted comma, a cut line): nothing to set
        return
    cells[cols[0]] = value
    lines[r] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@st.composite
def _file_mutations(draw):
    kind = draw(st.sampled_from(["not_a_file", "id", "date", "days", "extra_column"]))
    file = draw(st.sampled_from(_CAMPAIGN_FILES))
    row = draw(st.integers(0, 20))
    if kind == "not_a_file":
        return kind, file, draw(st.sampled_from(_NOT_A_FILE)), row
    if kind == "id":
        return kind, file, draw(st.sampled_from(_IDS)), row
    if kind == "date":
        return kind, file, draw(st.sampled_from(_EXTREME_DATES)), row
    if kind == "days":
        return kind, file, draw(st.sampled_from(_EXTREME_DAYS)), row
    return kind, file, draw(st.one_of(st.sampled_from(["", "sku", "Unnamed: 0", "=cmd", " ", "mean"]),
                                      st.text(alphabet=st.characters(blacklist_characters=",\n\r\"\x00"),
                                              max_size=6))), row


def _mutate_file(folder: Path, kind: str, file: str, value: str, row: int) -> None:
    path = folder / file
    if kind == "not_a_file":
        _replace_file(path, value)
    elif kind == "id":
        for hint in ("sku", "warehouse", "supplier"):
            _set_cells(path, hint, value, row)
    elif kind == "date":
        for hint in ("cutoff", "eta", "date"):
            _set_cells(path, hint, value, row)
    elif kind == "days":
        for hint in ("days",):
            _set_cells(path, hint, value, row)
    elif kind == "extra_column" and file.endswith(".csv") and (lines := _text_lines(path)):
        path.write_text("\n".join([lines[0] + f",{value}"] + [ln + ",1" for ln in lines[1:]]) + "\n",
                        encoding="utf-8")


def _files_case(tmp_path_factory, base: Path, mutations):
    scratch = tmp_path_factory.mktemp("fuzz-files")
    folder = scratch / "campaign"
    shutil.copytree(base, folder, ignore=shutil.ignore_patterns("expected.json", "README.md"))
    for mutation in mutations:
        _mutate_file(folder, *mutation)
    for argv in (["validate", str(folder)],
                 ["plan", str(folder), "--out", str(scratch / "run"), "--time-limit", "5"]):
        _check(argv, scratch)


_FILE_MUTATIONS = st.lists(_file_mutations(), min_size=1, max_size=3)


@settings(**_QUICK_FEW)
@given(mutations=_FILE_MUTATIONS)
def test_files_quick(tmp_path_factory, mutations):
    _files_case(tmp_path_factory, M01, mutations)


@pytest.mark.slow
@settings(max_examples=SLOW, **_SETTINGS)
@given(base=st.sampled_from([M01, M03]), mutations=_FILE_MUTATIONS)
def test_files(tmp_path_factory, base, mutations):
    _files_case(tmp_path_factory, base, mutations)


# ------------------------------------------------------------------ value-preserving rewrites

_REWRITES = ["crlf", "bom", "quoted", "shuffled", "extra_column", "trailing_newlines"]


def _rewrite(path: Path, how: str, seed: int) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    if how == "crlf":
        path.write_bytes(text.replace("\n", "\r\n").encode())
    elif how == "bom":
        path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    elif how == "quoted":
        path.write_text("\n".join(",".join(f'"{c}"' for c in ln.split(",")) for ln in lines) + "\n")
    elif how == "shuffled":
        body = lines[1:]
        random.Random(seed).shuffle(body)
        path.write_text("\n".join([lines[0], *body]) + "\n")
    elif how == "extra_column":
        path.write_text("\n".join([lines[0] + ",note"] + [ln + ",kept" for ln in lines[1:]]) + "\n")
    elif how == "trailing_newlines":
        path.write_text(text + "\n\n")


@pytest.fixture(scope="module")
def m03_profit(tmp_path_factory):
    out = tmp_path_factory.mktemp("baseline") / "run"
    code, err = _run(["plan", str(M03), "--out", str(out)])
    assert code == 0, err
    return json.loads((out / "summary.json").read_text())["expected_profit"]


def _same_profit_case(tmp_path_factory, m03_profit, rewrites):
    scratch = tmp_path_factory.mktemp("fuzz-rewrites")
    folder = scratch / "campaign"
    shutil.copytree(M03, folder, ignore=shutil.ignore_patterns("expected.json", "README.md"))
    # Rewrites of the rows first, then the line endings, then a BOM (a file's first bytes).
    order = ["shuffled", "quoted", "extra_column", "crlf", "trailing_newlines", "bom"]
    for file, how, seed in sorted(rewrites, key=lambda r: order.index(r[1])):
        if (folder / file).is_file():
            _rewrite(folder / file, how, seed)
    code, err = _run(["plan", str(folder), "--out", str(scratch / "run")])
    assert code == 0, (rewrites, err)
    profit = json.loads((scratch / "run" / "summary.json").read_text())["expected_profit"]
    assert profit == pytest.approx(m03_profit, rel=1e-9), rewrites


_REWRITE_LISTS = st.lists(st.tuples(st.sampled_from([f for f in _CAMPAIGN_FILES if f.endswith(".csv")]),
                                    st.sampled_from(_REWRITES), st.integers(0, 99)),
                          min_size=1, max_size=4, unique_by=lambda t: t[:2])


@settings(**{**_QUICK, "max_examples": QUICK // 6})
@given(rewrites=_REWRITE_LISTS)
def test_value_preserving_rewrites_quick(tmp_path_factory, m03_profit, rewrites):
    _same_profit_case(tmp_path_factory, m03_profit, rewrites)


@pytest.mark.slow
@settings(max_examples=SLOW // 3, **_SETTINGS)
@given(rewrites=_REWRITE_LISTS)
def test_value_preserving_rewrites(tmp_path_factory, m03_profit, rewrites):
    _same_profit_case(tmp_path_factory, m03_profit, rewrites)


def test_fifo_in_place_of_a_campaign_file_is_refused_without_blocking(tmp_path):
    folder = tmp_path / "campaign"
    shutil.copytree(M01, folder, ignore=shutil.ignore_patterns("expected.json", "README.md"))
    (folder / "demand.csv").unlink()
    os.mkfifo(folder / "demand.csv")
    code, err = _run(["validate", str(folder)])
    assert code == 2 and "demand.csv" in err and "Traceback" not in err, err


# ------------------------------------------------------------------ the report on hostile campaigns

@pytest.mark.notebook
@pytest.mark.parametrize("case", sorted(p.name for p in OWN_CAMPAIGNS.iterdir() if p.is_dir()))
def test_report_on_every_own_known_optimum_campaign_exits_0_2_or_3(tmp_path, case):
    from conftest import run_cli

    proc = run_cli(["report", str(OWN_CAMPAIGNS / case), "--time-limit", "10",
                    "--reports-dir", str(tmp_path / "reports")], timeout=600)
    assert proc.returncode in (0, 2, 3) and "Traceback" not in proc.stderr, proc.stderr


@pytest.mark.notebook
@settings(max_examples=3, derandomize=True, **_SETTINGS)
@given(mutations=_FILE_MUTATIONS)
def test_report_on_mutated_campaigns_exits_0_2_or_3(tmp_path_factory, mutations):
    from conftest import run_cli

    scratch = tmp_path_factory.mktemp("fuzz-report")
    folder = scratch / "campaign"
    shutil.copytree(M01, folder, ignore=shutil.ignore_patterns("expected.json", "README.md"))
    for mutation in mutations:
        _mutate_file(folder, *mutation)
    proc = run_cli(["report", str(folder), "--time-limit", "10", "--reports-dir", str(scratch / "reports")],
                   timeout=600)
    assert proc.returncode in (0, 2, 3) and "Traceback" not in proc.stderr, (mutations, proc.stderr)
    if proc.returncode != 0 and (scratch / "reports").exists():  # a failure is indexed, nothing visible kept
        assert {p.name for p in _visible(scratch / "reports") if p.is_file()} <= {"history.sqlite"}
