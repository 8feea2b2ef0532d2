"""The run folder: every file a run writes, how it is read back, and "never overwrite".

A plan run (SPEC §3) is one folder::

    plan.csv          one row per (sku, warehouse, mode) with units > 0
    shipments.csv     one row per used lane: shipments, volume, cost, container fill
    sku_summary.csv   one row per (sku, warehouse) with demand or stock
    cash.csv          the plan's payments by date and kind, running total and cash limit
    summary.json      exact expected profit, spend, KPIs, solver status, bound and gap
                      (its schema: :class:`optimizer.io.summary.RunSummary`)
    solver_log.txt    the solve's progress lines
    coverage.csv      (report runs) every route, usable or late, for later diffs

Batch runs (``frontier``, ``scenarios``) hold ``<stem>.csv`` and ``<stem>.json``.

Rules every writer here keeps:

* a folder that already holds files is refused: a run never overwrites another;
* a plan run is written to a hidden temporary sibling and renamed into place in
  one step, so a folder is complete or absent;
* text from users' files (SKU and warehouse ids, names) is written through
  :func:`optimizer.io.safe_text.safe_frame`, which neutralises spreadsheet formulas,
  and read back verbatim (:func:`read_run_csv`: ``NA`` or ``None`` is an id, not a
  missing value);
* nothing is created before a run is written: :func:`writable_problems` checks a
  destination without making folders.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from optimizer.io.campaign import read_checked_csv
from optimizer.io.checks import Col
from optimizer.io.errors import Problem
from optimizer.io.safe_text import plain_frame, safe_frame
from optimizer.io.summary import RunSummary, validation_problems

PLAN_FILE = "plan.csv"
SHIPMENTS_FILE = "shipments.csv"
SKU_SUMMARY_FILE = "sku_summary.csv"
SUMMARY_FILE = "summary.json"
SOLVER_LOG_FILE = "solver_log.txt"
COVERAGE_FILE = "coverage.csv"
CASH_FILE = "cash.csv"

PLAN_COLUMNS = ["sku", "warehouse", "mode", "cases", "units", "unit_landed_cost", "line_cost",
                "order_by", "po_date", "ship_by", "cutoff"]
SKU_SUMMARY_COLUMNS = ["sku", "warehouse", "existing", "ordered", "available", "mean", "sd",
                       "expected_sales", "expected_leftover", "fill_rate", "stockout_probability",
                       "distribution"]
SHIPMENT_COLUMNS = ["warehouse", "mode", "shipments", "volume_m3", "shipment_cost", "container_fill"]
CASH_COLUMNS = ["date", "kind", "supplier", "warehouse", "mode", "amount", "cumulative",
                "limit_until", "limit"]


# Columns of plan.csv / sku_summary.csv that a reader relies on, checked like input.
_PLAN_CHECKS = (Col("sku", "str"), Col("warehouse", "str"), Col("mode", "str"),
                Col("units", "int", ge=0), Col("ship_by", "date"))
_SKU_SUMMARY_CHECKS = (Col("sku", "str"), Col("warehouse", "str"), Col("existing", "int", ge=0),
                       Col("ordered", "int", ge=0), Col("available", "int", ge=0),
                       Col("mean", "float", ge=0), Col("sd", "float", ge=0))


class NotARunFolder(FileNotFoundError):
    """A folder given as a run folder lacks one of its files."""


class RunFileError(ValueError):
    """A run-folder file that is there but cannot be used; the message names the file."""

    def __init__(self, path: str | Path, reason: str):
        self.path, self.reason = Path(path), reason
        super().__init__(f"{path}: {reason}")


def refuse_nonempty(folder: str | Path) -> None:
    """Raise :class:`FileExistsError` if ``folder`` exists and holds anything."""
    folder = Path(folder)
    if folder.is_dir() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} already holds files; a run never overwrites another")


def refuse_existing(path: str | Path) -> None:
    """Raise :class:`FileExistsError` if the file ``path`` exists."""
    if Path(path).exists():
        raise FileExistsError(f"{path} already exists; a run never overwrites another")


def writable_problems(folder: str | Path, option: str) -> list[Problem]:
    """Whether a run can be written to ``folder`` (checked before any work, so a bad
    ``--out`` costs no solve): a Problem naming the option when it cannot.

    Creates nothing: the nearest folder on the way up that exists must be a folder a
    file can be created in (checked with a probe file, removed at once); the missing
    folders below it are created only when the run is written.  A symbolic link to a
    folder stands for that folder; a dangling one is refused.
    """
    folder = Path(folder)

    def problem(message: str) -> list[Problem]:
        return [Problem("command line", None, option, message)]

    existing = folder
    try:
        if folder.is_symlink() and not folder.exists():
            return problem(f"{folder} is a symbolic link to {os.readlink(folder)}, which does not exist")
        if folder.exists() and not folder.is_dir():
            return problem(f"{folder} is a file, not a folder")
        while not existing.exists() and existing.parent != existing:
            if existing.is_symlink():
                return problem(f"{folder} is under {existing}, a symbolic link to "
                               f"{os.readlink(existing)}, which does not exist")
            existing = existing.parent
        if not existing.is_dir():
            return problem(f"{folder} is under {existing}, which is a file")
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        where = "" if existing == folder else f" (no file can be created in {existing})"
        return problem(f"cannot write to {folder}{where}: {e.strerror or e}")
    return []


def new_folder_problems(folder: str | Path, option: str) -> list[Problem]:
    """:func:`writable_problems`, and a Problem when ``folder`` already holds files (a run
    folder is new or empty: a run never overwrites another)."""
    problems = writable_problems(folder, option)
    folder = Path(folder)
    try:
        holds_files = folder.is_dir() and any(folder.iterdir())
    except OSError as e:
        return problems or [Problem("command line", None, option, f"cannot read {folder}: {e.strerror or e}")]
    if not problems and holds_files:
        problems.append(Problem("command line", None, option, f"{folder} already holds files; a run never "
                                "overwrites another: name a new (or empty) folder"))
    return problems


def default_run_dir(campaign_name: str, root: str | Path = "runs", suffix: str = "") -> Path:
    """``root/<campaign-slug>/<UTC timestamp><suffix>``: unique per run, sortable."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", campaign_name).strip("-").lower() or "campaign"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S_%fZ")
    return Path(root) / slug / f"{stamp}{suffix}"


def new_run_dir(campaign_name: str, root: str | Path) -> Path:
    """Create and return a fresh, empty ``root/<slug>/<UTC timestamp>`` folder."""
    for _ in range(100):
        d = default_run_dir(campaign_name, root=root)
        try:
            d.mkdir(parents=True, exist_ok=False)
            return d
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a new run folder under {root}")


def _target(final: str | Path) -> Path:
    """``final``, or the folder it points to when it is a symbolic link (never a dangling one)."""
    final = Path(final)
    if not final.is_symlink():
        return final
    if not final.exists():
        raise NotADirectoryError(f"{final} is a symbolic link to {os.readlink(final)}, which does not exist")
    return final.resolve()


def staging_for(final: str | Path) -> Path:
    """A new hidden sibling of ``final`` to build a run in; :func:`publish` moves it in place.

    The folder is made with the permissions any new folder gets under the process
    umask (the published run opens for the same people as its neighbours).  When
    ``final`` is a symbolic link to a folder, the sibling is made beside that folder.
    """
    final = _target(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        staging = final.parent / f".{final.name}.{secrets.token_hex(4)}"
        try:
            staging.mkdir()
        except FileExistsError:
            continue
        return staging
    raise FileExistsError(f"could not create a staging folder beside {final}")


def publish(staging: str | Path, final: str | Path) -> Path:
    """Rename the complete ``staging`` folder to ``final`` in one step (never over a folder).

    ``final`` may be an empty folder, or a symbolic link to one: the run then takes the
    place of the folder it points to, and that folder's path is returned.
    """
    final = _target(final)
    refuse_nonempty(final)
    if final.exists():
        final.rmdir()  # empty, checked above
    os.replace(staging, final)
    return final


def write_run(out_dir: str | Path, evaluation, summary: RunSummary, *,
              extra_files: dict[str, str] | None = None) -> Path:
    """Write a plan run folder from an evaluated plan, completely or not at all.

    ``evaluation`` is a :class:`~optimizer.evaluate.plan.PlanEvaluation` (its
    ``lines``, ``shipments`` and ``pairs`` tables), ``summary`` the
    :class:`~optimizer.io.summary.RunSummary` written as ``summary.json``;
    ``extra_files`` maps a name — which may hold a subfolder, ``"a/b.csv"`` — to its
    text.  Files go to a hidden temporary sibling first, which then replaces
    ``out_dir`` in one rename.  A ``campaign_dir`` in ``summary`` is written as an
    absolute path, so the run folder names its campaign folder wherever it is read from.
    """
    if not isinstance(summary, RunSummary):
        raise TypeError(f"summary must be a RunSummary, not {type(summary).__name__}")
    out_dir = Path(out_dir)
    refuse_nonempty(out_dir)
    if summary.campaign_dir:
        summary = summary.updated(campaign_dir=str(Path(summary.campaign_dir).resolve()))
    tmp = staging_for(out_dir)
    try:
        safe_frame(evaluation.lines[PLAN_COLUMNS]).to_csv(tmp / PLAN_FILE, index=False)
        safe_frame(evaluation.shipments).to_csv(tmp / SHIPMENTS_FILE, index=False)
        safe_frame(evaluation.pairs.reset_index()[SKU_SUMMARY_COLUMNS]).to_csv(
            tmp / SKU_SUMMARY_FILE, index=False)
        cash = evaluation.payments
        cash = cash[CASH_COLUMNS] if len(cash) else pd.DataFrame(columns=CASH_COLUMNS)
        safe_frame(cash.round({"amount": 6, "cumulative": 6})).to_csv(tmp / CASH_FILE, index=False)
        (tmp / SUMMARY_FILE).write_text(summary.to_json())
        for name, text in (extra_files or {}).items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_text(text)
        publish(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def move_run_into(staging: str | Path, run_dir: str | Path) -> Path:
    """Move every file of the run folder ``staging`` up into ``run_dir`` (none may exist there)."""
    staging, run_dir = Path(staging), Path(run_dir)
    for f in sorted(staging.iterdir()):
        target = run_dir / f.name
        refuse_existing(target)
        os.replace(f, target)
    shutil.rmtree(staging, ignore_errors=True)
    return run_dir


def write_table_run(table: pd.DataFrame, run_dir: str | Path, stem: str,
                    meta: dict | None = None) -> Path:
    """``<stem>.csv`` (and ``<stem>.json`` with ``meta``) into a new or empty run folder.

    The CSV appears under its name only once complete; its text is formula-safe.
    """
    run_dir = Path(run_dir)
    refuse_nonempty(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = run_dir / f".{stem}.csv.tmp"
    safe_frame(table).to_csv(tmp, index=False)
    tmp.replace(run_dir / f"{stem}.csv")
    write_meta(run_dir, stem, meta or {})
    return run_dir / f"{stem}.csv"


def write_meta(run_dir: str | Path, stem: str, meta: dict) -> Path:
    """``<stem>.json`` with ``meta`` (a batch run's parameters, or its error)."""
    path = Path(run_dir) / f"{stem}.json"
    path.write_text(json.dumps(meta, indent=1, default=str) + "\n")
    return path


def write_coverage(table: pd.DataFrame, run_dir: str | Path) -> Path:
    """``coverage.csv`` (every route, usable or late) into a run folder, never over one."""
    path = Path(run_dir) / COVERAGE_FILE
    refuse_existing(path)
    safe_frame(table).to_csv(path, index=False)
    return path


def is_run_folder(run_dir: str | Path) -> bool:
    """Whether ``run_dir`` holds a plan run's ``summary.json``."""
    return (Path(run_dir) / SUMMARY_FILE).is_file()


def read_summary(run_dir: str | Path) -> RunSummary:
    """``summary.json`` of a run folder as a :class:`~optimizer.io.summary.RunSummary`
    (:class:`NotARunFolder` when it has none, :class:`RunFileError` when it is not a
    readable JSON object or does not fit the schema: an unknown key, a value of the
    wrong type)."""
    path = Path(run_dir) / SUMMARY_FILE
    if not path.is_file():
        raise NotARunFolder(f"{run_dir} is not a run folder: no {SUMMARY_FILE}")
    _json_object(path)
    return _summary(path, path.read_text(encoding="utf-8"))


def _summary(path: Path, text: str) -> RunSummary:
    """``text`` of the summary file ``path`` validated (:class:`RunFileError` naming each problem)."""
    try:
        return RunSummary.from_json(text)
    except ValidationError as e:
        problems = validation_problems(e)
        shown = "; ".join(f"{key!r}: {message}" for key, message in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise RunFileError(path, f"is not a valid run summary: {shown}{more}") from None


def read_meta(run_dir: str | Path, stem: str) -> dict:
    """``<stem>.json`` of a batch run folder (:class:`RunFileError` when it is not a readable
    JSON object; FileNotFoundError when it is missing)."""
    return _json_object(Path(run_dir) / f"{stem}.json")


def _json_object(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except OSError as e:
        raise RunFileError(path, f"cannot be read ({e.strerror or e})") from None
    except ValueError as e:  # invalid JSON, or not UTF-8
        raise RunFileError(path, f"is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise RunFileError(path, f"must hold a JSON object, not {_json_kind(data)}")
    return data


def _json_kind(value) -> str:
    kinds = {list: "an array", str: "a string", bool: "true or false", int: "a number",
             float: "a number", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


# Text columns of the run-folder tables: ids, names and statuses, read back verbatim.
TEXT_COLUMNS = ("sku", "warehouse", "mode", "supplier", "kind", "distribution", "campaign",
                "campaign_dir", "scenario", "status", "error", "error_type")


def read_run_csv(path: str | Path, *, text=TEXT_COLUMNS, required=(), numeric=()) -> pd.DataFrame:
    """A table the tool wrote into a run folder, read back as written.

    The ``text`` columns present are read verbatim as text — an id ``NA``, ``None``,
    ``N/A`` or ``nan`` is an id like any other — without the formula-safety prefix
    (see :mod:`optimizer.io.safe_text`).  In the other columns an empty cell is a
    missing value.  ``required`` columns must be there and every cell of the
    ``numeric`` ones must be a number; a file that is empty, not CSV or fails these
    raises :class:`RunFileError` naming the file (and the line and column).
    """
    path = Path(path)
    try:
        header = list(pd.read_csv(path, nrows=0).columns)
        names = [c for c in header if c in text]
        frame = pd.read_csv(path, dtype={c: str for c in names}, keep_default_na=False,
                            na_values={c: [""] for c in header if c not in names})
    except pd.errors.EmptyDataError:
        raise RunFileError(path, "is empty: expected a header row") from None
    except OSError as e:
        raise RunFileError(path, f"cannot be read ({e.strerror or e})") from None
    except (pd.errors.ParserError, ValueError) as e:  # UnicodeDecodeError is a ValueError
        raise RunFileError(path, f"cannot be read as CSV ({str(e).strip()})") from None
    if not isinstance(frame.index, pd.RangeIndex):  # pandas took the surplus values as an index
        raise RunFileError(path, f"cannot be read as CSV (its rows have more values than the "
                                 f"{len(header)} columns of its header)")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise RunFileError(path, f"has no column {', '.join(repr(c) for c in missing)} "
                                 f"(columns: {', '.join(map(str, header)) or 'none'})")
    for col in numeric:
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna()
        if bad.any():
            i = int(bad.to_numpy().argmax())
            raise RunFileError(path, f"line {i + 2}, column '{col}': {frame[col].iloc[i]!r} is not a number")
        frame[col] = values
    return plain_frame(frame, names)


def read_plan(run_dir: str | Path) -> pd.DataFrame:
    """``plan.csv`` of a run folder, ids as text (:class:`NotARunFolder` when it has none,
    :class:`RunFileError` when it is damaged: see :func:`read_run_csv`)."""
    path = Path(run_dir) / PLAN_FILE
    if not path.is_file():
        raise NotARunFolder(f"{run_dir} is not a run folder: no {PLAN_FILE}")
    return read_run_csv(path, required=("sku", "warehouse", "mode", "units", "line_cost"),
                        numeric=("units", "line_cost"))


def _ids(frame: pd.DataFrame) -> pd.DataFrame:
    """The id columns as written, without the formula-safety prefix (see safe_text)."""
    return plain_frame(frame, ("sku", "warehouse", "mode"))


def read_coverage(run_dir: str | Path) -> pd.DataFrame | None:
    """``coverage.csv`` of a run folder, ids as text, or None when the run did not write one
    (:class:`RunFileError` when it is damaged)."""
    path = Path(run_dir) / COVERAGE_FILE
    if not path.is_file():
        return None
    frame = read_run_csv(path, required=("sku", "warehouse", "mode", "usable", "slack_days", "demand_mean"),
                         numeric=("slack_days", "demand_mean"))
    usable = frame["usable"].map({True: True, False: False, "True": True, "False": False})
    if usable.isna().any():
        i = int(usable.isna().to_numpy().argmax())
        raise RunFileError(path, f"line {i + 2}, column 'usable': {frame['usable'].iloc[i]!r} "
                                 "is not True or False")
    frame["usable"] = usable.astype(bool)
    return frame


@dataclass
class PlanRunFiles:
    """A plan run folder as read back: its summary, plan lines and pair table."""

    folder: Path
    summary: RunSummary   # budget and spend are numbers (read_plan_run checks)
    lines: pd.DataFrame   # plan.csv: sku, warehouse, mode, units, ship_by
    pairs: pd.DataFrame   # sku_summary.csv, index (sku, warehouse)

    @property
    def budget(self) -> float:
        return float(self.summary.budget)

    @property
    def spend(self) -> float:
        return float(self.summary.spend)


def read_plan_run(folder: str | Path, campaign_name: str | None = None
                  ) -> tuple[PlanRunFiles | None, list[Problem]]:
    """A plan run folder read back and checked like input (the monitor's input).

    ``summary.json`` must fit :class:`~optimizer.io.summary.RunSummary` and hold a
    budget and spend (and, with ``campaign_name``, be that campaign's); ``plan.csv`` and
    ``sku_summary.csv`` go through the campaign files' column rules.  Returns the
    files, or None and every problem found.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return None, [Problem(str(folder), None, None, "run folder does not exist")]
    problems: list[Problem] = []
    summary_file = str(folder / SUMMARY_FILE)
    summary = None
    try:
        text = (folder / SUMMARY_FILE).read_text(encoding="utf-8")
        data = json.loads(text)
    except FileNotFoundError:
        problems.append(Problem(summary_file, None, None,
                                "required file is missing: is this a `python -m optimizer plan` run folder?"))
    except (OSError, ValueError) as e:
        problems.append(Problem(summary_file, None, None, f"cannot be read as JSON: {e}"))
    else:
        if not isinstance(data, dict):
            problems.append(Problem(summary_file, None, None, "must be a JSON object"))
        else:
            try:
                summary = RunSummary.from_json(text)
            except ValidationError as e:
                problems += [Problem(summary_file, None, key, message) for key, message in validation_problems(e)]
    if summary is not None:
        for key in ("budget", "spend"):
            if getattr(summary, key) is None:
                problems.append(Problem(summary_file, None, key, "must be a number"))
        if campaign_name is not None and summary.campaign not in (None, campaign_name):
            problems.append(Problem(summary_file, None, "campaign",
                                    f"this run planned {summary.campaign!r}, not {campaign_name!r}"))
    lines, found = read_checked_csv(folder / PLAN_FILE, str(folder / PLAN_FILE), _PLAN_CHECKS,
                                    ("sku", "warehouse", "mode"))
    problems += found
    pairs, found = read_checked_csv(folder / SKU_SUMMARY_FILE, str(folder / SKU_SUMMARY_FILE),
                                    _SKU_SUMMARY_CHECKS, ("sku", "warehouse"))
    problems += found
    if problems:
        return None, problems
    lines = _ids(lines[[c.name for c in _PLAN_CHECKS]].reset_index(drop=True))
    pairs = _ids(pairs[[c.name for c in _SKU_SUMMARY_CHECKS]].reset_index(drop=True))
    pairs = pairs.set_index(["sku", "warehouse"]).sort_index()
    return PlanRunFiles(folder, summary, lines, pairs), []


def list_files(run_dir: str | Path) -> list[Path]:
    """The run folder's visible files, sorted by name."""
    return sorted(p for p in Path(run_dir).iterdir() if p.is_file() and not p.name.startswith("."))


__all__ = [
    "COVERAGE_FILE", "PLAN_COLUMNS", "PLAN_FILE", "SHIPMENTS_FILE", "SHIPMENT_COLUMNS",
    "SKU_SUMMARY_COLUMNS", "SKU_SUMMARY_FILE", "SOLVER_LOG_FILE", "SUMMARY_FILE", "TEXT_COLUMNS", "NotARunFolder",
    "PlanRunFiles", "RunFileError",
    "default_run_dir", "is_run_folder", "publish", "staging_for", "writable_problems", "list_files", "move_run_into", "new_run_dir",
    "read_coverage", "read_plan", "read_meta", "read_plan_run", "read_run_csv",
    "new_folder_problems", "read_summary", "refuse_existing", "refuse_nonempty",
    "write_coverage", "write_meta", "write_run", "write_table_run",
]
