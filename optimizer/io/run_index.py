"""Run history: ``reports/history.sqlite``, one row per report run or frontier/batch point.

Each row records what was run (campaign, parameters, a checksum of the input
folder) and what came out (status, expected profit, spend, timings, run folder),
so finance can find the run behind a number and see when inputs changed.
A frontier or scenario batch adds one row per point, all with the run folder's
name as ``run_id`` and ``"command": "frontier"`` or ``"scenarios"`` in ``parameters``
(report rows have no ``command``; only they leave a ``summary.json``).

Several reports may finish at once (a budget sweep in parallel), so the database
runs in WAL mode with a busy timeout, and each insert is one ``BEGIN IMMEDIATE``
transaction: concurrent writers wait their turn instead of failing.

The index never costs a run: when the database cannot be used (a corrupt or
foreign file, a disk error) the run is kept, a warning says so, and
:func:`rebuild_index` (``python -m optimizer index --rebuild``) recreates the rows
from the run folders, keeping the unusable file beside it.  Run files are read back
with their ids and names verbatim (``NA`` is a campaign name like any other).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import numbers
import secrets
import sqlite3
import time
from pathlib import Path

from optimizer.io.run_folder import is_run_folder, read_meta, read_run_csv, read_summary
from optimizer.io.summary import Overrides
from optimizer.status import Status

log = logging.getLogger(__name__)
ERROR_KEY = "error"  # a failed batch run's frontier.json / scenarios.json holds its error here

HISTORY_NAME = "history.sqlite"
BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at      TEXT NOT NULL,
    campaign         TEXT NOT NULL,
    run_id           TEXT NOT NULL,
    parameters       TEXT NOT NULL,   -- JSON: budget, delays, time_limit_s, campaign_dir
    input_sha256     TEXT,            -- over the campaign folder's files, sorted by name
    status           TEXT NOT NULL,   -- solver status, or 'failed'
    expected_profit  REAL,
    spend            REAL,
    build_seconds    REAL,
    solve_seconds    REAL,
    run_dir          TEXT NOT NULL,
    message          TEXT
);
CREATE INDEX IF NOT EXISTS runs_campaign ON runs (campaign, run_id);
"""

COLUMNS = ["campaign", "run_id", "parameters", "input_sha256", "status", "expected_profit",
           "spend", "build_seconds", "solve_seconds", "run_dir", "message"]


def input_checksum(folder: str | Path) -> str:
    """sha256 over the campaign folder's files, in sorted name order.

    Both the name and the bytes of every file go into the hash, so a renamed file
    changes it too.  Only the folder's own regular files count (a campaign's inputs sit
    at its top): hidden files, and folders inside it — a reports or runs folder kept
    there — are left out, so writing a run never changes the checksum of its inputs.
    """
    folder = Path(folder)
    h = hashlib.sha256()
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    for p in files:
        rel = p.relative_to(folder).as_posix().encode("utf-8")
        h.update(len(rel).to_bytes(8, "big") + rel)
        data = p.read_bytes()
        h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


def connect(db_path: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) the history database in WAL mode with a busy timeout."""
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(db_path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    _retry(lambda: con.execute("PRAGMA journal_mode = WAL"))
    _retry(lambda: con.executescript(_SCHEMA))
    return con


def record_run(db_path: str | Path, *, campaign: str, run_id: str, parameters: dict,
               input_sha256: str | None, status: str, run_dir: str | Path,
               expected_profit: float | None = None, spend: float | None = None,
               build_seconds: float | None = None, solve_seconds: float | None = None,
               message: str | None = None) -> int | None:
    """Insert one run in its own transaction; returns the row id (None: the index is unusable)."""
    ids = record_runs(db_path, [{
        "campaign": campaign, "run_id": run_id, "parameters": parameters, "input_sha256": input_sha256,
        "status": status, "run_dir": run_dir, "expected_profit": expected_profit, "spend": spend,
        "build_seconds": build_seconds, "solve_seconds": solve_seconds, "message": message}])
    return ids[-1] if ids else None


def record_runs(db_path: str | Path, runs: list[dict]) -> list[int]:
    """Insert several rows (keyword sets of :func:`record_run`) in one transaction.

    A frontier or a scenario batch records one row per point this way: all or none.
    Returns the row ids; none (and a warning) when the database cannot be used.
    """
    rows = [_row(run) for run in runs]
    try:
        return _insert(db_path, rows)
    except sqlite3.DatabaseError as e:
        _warn_unusable(db_path, e, "this run is kept but not indexed")
        return []


def _row(run: dict) -> list:
    """A run's values in :data:`COLUMNS` order, as SQLite stores them."""
    values = {c: _plain(run.get(c)) for c in COLUMNS}
    values["parameters"] = json.dumps(run["parameters"], sort_keys=True, default=str)
    values["run_dir"] = str(run["run_dir"])
    return [values[c] for c in COLUMNS]


def _insert(db_path: str | Path, rows: list[list]) -> list[int]:
    con = connect(db_path)
    try:
        def insert():
            con.execute("BEGIN IMMEDIATE")
            try:
                ids = [con.execute(
                    f"INSERT INTO runs (recorded_at, {', '.join(COLUMNS)}) "
                    f"VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), {', '.join('?' * len(COLUMNS))})",
                    row).lastrowid for row in rows]
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            return ids
        return _retry(insert)
    finally:
        con.close()


def _plain(value):
    """A value as SQLite stores it: NaN (a point without a plan) becomes NULL, numpy numbers Python's."""
    if isinstance(value, numbers.Real) and not isinstance(value, int):
        value = float(value)
        return None if math.isnan(value) else value
    return value


def read_history(db_path: str | Path, campaign: str | None = None):
    """The history as a DataFrame (newest last), optionally for one campaign."""
    import pandas as pd

    con = connect(db_path)
    try:
        sql, args = "SELECT * FROM runs", ()
        if campaign is not None:
            sql, args = sql + " WHERE campaign = ?", (campaign,)
        return pd.read_sql_query(sql + " ORDER BY id", con, params=args)
    finally:
        con.close()


def _rows(db_path: str | Path, sql: str, args: tuple, consequence: str) -> list[tuple]:
    """The rows of a read-only query; none (after a warning saying ``consequence``) when the
    index is missing or unusable."""
    if not Path(db_path).is_file():
        return []
    try:
        con = connect(db_path)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        _warn_unusable(db_path, e, consequence)
        return []


def previous_run(db_path: str | Path, campaign: str, before_run_id: str | None = None) -> Path | None:
    """Folder of the latest earlier successful run of ``campaign`` (None if there is none).

    Successful = solver status ``optimal`` or ``time_limit`` with its summary.json
    still on disk; ``before_run_id`` excludes that run and later ones (run ids are
    UTC timestamps, so they sort in time).
    """
    rows = _rows(db_path, "SELECT run_id, run_dir FROM runs WHERE campaign = ? AND status IN "
                 "('optimal', 'time_limit') ORDER BY id DESC", (campaign,), "no earlier run to compare with")
    for run_id, run_dir in rows:
        if before_run_id is not None and run_id >= before_run_id:
            continue
        if is_run_folder(run_dir):
            return Path(run_dir)
    return None


def latest_frontier(db_path: str | Path, campaign: str, input_sha256: str | None = None) -> Path | None:
    """Folder of the latest ``frontier`` run of ``campaign`` whose frontier.csv is still on disk
    (with ``input_sha256``: only one made from the same campaign files); None if there is none."""
    rows = _rows(db_path, "SELECT run_dir, parameters, input_sha256 FROM runs WHERE campaign = ? "
                 "ORDER BY id DESC", (campaign,), "no budget frontier to show")
    for run_dir, parameters, checksum in rows:
        try:
            command = json.loads(parameters).get("command")
        except (ValueError, AttributeError):
            continue
        if command != "frontier" or (input_sha256 is not None and checksum != input_sha256):
            continue
        if (Path(run_dir) / "frontier.csv").is_file():
            return Path(run_dir)
    return None


def _warn_unusable(db_path: str | Path, error: Exception, consequence: str) -> None:
    root = Path(db_path).parent
    log.warning(f"warning: the run index {db_path} cannot be used ({error}): {consequence}; rebuild it "
                f"from the run folders with `python -m optimizer index --rebuild --reports-dir {root}`")


def rebuild_index(reports_root: str | Path) -> tuple[Path, int, Path | None, list[tuple[Path, str]]]:
    """Recreate ``reports_root/history.sqlite`` from the run folders under ``reports_root``.

    A report run gives one row from its ``summary.json``; a frontier or scenario run one
    row per line of its ``frontier.csv`` / ``scenarios.csv`` (a failed one, one row from
    its ``.json``).  Rows are inserted in run-id (time) order; the input checksums of
    rebuilt rows are unknown (None).  Hidden folders — a report still being built, or
    the staging folder of a killed one — are not run folders and are passed over; a run
    folder whose files cannot be read is left out and listed in ``skipped`` with the
    reason.  The new database is written to a hidden file beside the old one and only
    then renamed into place; an existing database is moved aside to
    ``history.sqlite.replaced-<UTC time>`` (with its ``-wal`` file), never deleted.
    Returns (database, rows, old file or None, skipped).
    """
    root = Path(reports_root)
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a folder")
    rows: list[dict] = []
    skipped: list[tuple[Path, str]] = []
    for run_dir in sorted(_run_folders(root, skipped), key=lambda p: p.name):
        try:
            rows += _rebuilt_rows(run_dir)
        except (OSError, ValueError) as e:  # RunFileError is a ValueError
            skipped.append((run_dir, str(e)))
    db = root / HISTORY_NAME
    new = root / f".{HISTORY_NAME}.rebuild-{secrets.token_hex(4)}"
    old = None
    try:
        _insert(new, [_row(r) for r in rows])
        if db.exists():
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            old = db.with_name(f"{HISTORY_NAME}.replaced-{stamp}")
            db.replace(old)
            wal = db.with_name(HISTORY_NAME + "-wal")
            if wal.exists():
                wal.replace(old.with_name(old.name + "-wal"))
            db.with_name(HISTORY_NAME + "-shm").unlink(missing_ok=True)
        new.replace(db)
    finally:
        for leftover in (new, new.with_name(new.name + "-wal"), new.with_name(new.name + "-shm")):
            leftover.unlink(missing_ok=True)
    return db, len(rows), old, skipped


def _run_folders(root: Path, skipped: list[tuple[Path, str]]) -> list[Path]:
    """The visible ``<campaign>/<run id>`` folders under ``root`` (hidden ones are never runs)."""
    def visible_folders(folder: Path) -> list[Path]:
        try:
            return [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
        except OSError as e:
            skipped.append((folder, f"cannot be listed ({e.strerror or e})"))
            return []

    return [run for campaign in visible_folders(root) for run in visible_folders(campaign)]


def _rebuilt_rows(run_dir: Path) -> list[dict]:
    """The index rows of one run folder (none when it holds no run's files)."""
    if is_run_folder(run_dir):
        s = read_summary(run_dir)
        o = s.overrides or Overrides()
        return [{"campaign": s.campaign or run_dir.parent.name, "run_id": run_dir.name,
                 "run_dir": run_dir, "input_sha256": None, "status": s.status or Status.UNKNOWN,
                 "parameters": {"budget": o.budget, "delays": o.delays, "time_limit_s": s.time_limit_s,
                                "campaign_dir": s.campaign_dir, "rebuilt": True},
                 "expected_profit": s.expected_profit, "spend": s.spend,
                 "build_seconds": s.build_seconds, "solve_seconds": s.solve_seconds}]
    rows = []
    for command in ("frontier", "scenarios"):
        if not (run_dir / f"{command}.json").is_file():
            continue
        meta = read_meta(run_dir, command)
        base = {"run_id": run_dir.name, "run_dir": run_dir, "input_sha256": None,
                "campaign": _text(meta.get("campaign")) or run_dir.parent.name}
        params = {k: v for k, v in meta.items() if k != ERROR_KEY} | {"command": command, "rebuilt": True}
        table_file = run_dir / f"{command}.csv"
        if not table_file.is_file():
            error = meta.get("error")
            rows.append({**base, "status": Status.FAILED, "parameters": params,
                         "message": None if error is None else str(error)})
            continue
        table = read_run_csv(table_file, required=("status", "budget"))
        for r in table.to_dict("records"):
            rows.append({**base, "campaign": _text(r.get("campaign")) or base["campaign"],
                         "status": _text(r["status"]) or Status.UNKNOWN,
                         "parameters": params | {"budget": _number(r["budget"])},
                         **{k: _number(r.get(k)) for k in ("expected_profit", "spend", "build_seconds",
                                                           "solve_seconds")}})
    return rows


def _text(value) -> str | None:
    """A text field of a run file as stored (None when it is not text)."""
    return value if isinstance(value, str) else None


def _number(value) -> float | None:
    """A numeric field of a run file as stored (None when it is missing or not a number)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = float(value)
        return None if math.isnan(value) else value
    return None


def _retry(fn, attempts: int = 5):
    """Run ``fn``, retrying briefly on 'database is locked' beyond the busy timeout."""
    for i in range(attempts):
        try:
            return fn()
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e) or i == attempts - 1:
                raise
            time.sleep(0.05 * (i + 1))
