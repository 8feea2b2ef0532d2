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
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import sqlite3
import time
from pathlib import Path

from optimizer.io.run_folder import is_run_folder

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
    """sha256 over the folder's files (recursively), in sorted relative-path order.

    Both the relative path and the bytes of every file go into the hash, so a
    renamed or moved file changes it too. Hidden files are skipped.
    """
    folder = Path(folder)
    h = hashlib.sha256()
    files = sorted(p for p in folder.rglob("*")
                   if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))
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
               message: str | None = None) -> int:
    """Insert one run in its own transaction; returns the row id."""
    return record_runs(db_path, [{
        "campaign": campaign, "run_id": run_id, "parameters": parameters, "input_sha256": input_sha256,
        "status": status, "run_dir": run_dir, "expected_profit": expected_profit, "spend": spend,
        "build_seconds": build_seconds, "solve_seconds": solve_seconds, "message": message}])[-1]


def record_runs(db_path: str | Path, runs: list[dict]) -> list[int]:
    """Insert several rows (keyword sets of :func:`record_run`) in one transaction.

    A frontier or a scenario batch records one row per point this way: all or none.
    Returns the row ids.
    """
    rows = []
    for run in runs:
        values = {c: _plain(run.get(c)) for c in COLUMNS}
        values["parameters"] = json.dumps(run["parameters"], sort_keys=True, default=str)
        values["run_dir"] = str(run["run_dir"])
        rows.append([values[c] for c in COLUMNS])
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


def previous_run(db_path: str | Path, campaign: str, before_run_id: str | None = None) -> Path | None:
    """Folder of the latest earlier successful run of ``campaign`` (None if there is none).

    Successful = solver status ``optimal`` or ``time_limit`` with its summary.json
    still on disk; ``before_run_id`` excludes that run and later ones (run ids are
    UTC timestamps, so they sort in time).
    """
    if not Path(db_path).is_file():
        return None
    con = connect(db_path)
    try:
        rows = con.execute(
            "SELECT run_id, run_dir FROM runs WHERE campaign = ? AND status IN ('optimal', 'time_limit') "
            "ORDER BY id DESC", (campaign,)).fetchall()
    finally:
        con.close()
    for run_id, run_dir in rows:
        if before_run_id is not None and run_id >= before_run_id:
            continue
        if is_run_folder(run_dir):
            return Path(run_dir)
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
