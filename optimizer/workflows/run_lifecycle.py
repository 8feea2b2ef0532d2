"""One lifecycle for every run that lands in a reports folder (report, frontier, scenarios).

::

    with RunLifecycle(reports_dir, campaign_name, command="frontier", parameters=meta,
                      input_sha256=checksum) as run:
        write_frontier(table, run.staging, meta)    # files go to a hidden staging folder
        run.publish()                               # renamed to reports/<campaign>/<run id> whole
        run.index(rows)                             # one row per run or point in history.sqlite

* **Create**: the run id is the UTC time; the files are written to a hidden sibling of
  the final folder (:func:`~optimizer.io.run_folder.staging_for`), so a run killed
  half-way leaves nothing visible.
* **Publish**: one rename, never over another run.
* **Index**: rows of ``reports/history.sqlite`` (:mod:`optimizer.io.run_index`) naming the
  published folder by its absolute path, so a later command finds it from any working
  folder.
* **Failure**: an exception raised inside the block is recorded in the index (status
  ``failed``, the error as the message) and what was written is kept as a hidden
  ``.failed-<run id>`` folder beside the runs (the report's error notebook, say), then the
  exception goes on; Ctrl-C removes the staging folder and records nothing.  Either way no
  visible folder is left.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from optimizer.io.run_folder import default_run_dir, publish, staging_for
from optimizer.io.run_index import HISTORY_NAME, record_run, record_runs
from optimizer.status import Status

FAILED_PREFIX = ".failed-"


class RunLifecycle:
    """A run folder under ``reports_dir`` from creation to publication (module docstring)."""

    def __init__(self, reports_dir: str | Path, campaign_name: str, *, command: str,
                 parameters: dict | None = None, input_sha256: str | None = None):
        self.reports_dir = Path(reports_dir).resolve()
        self.final = default_run_dir(campaign_name, self.reports_dir)
        self.campaign = campaign_name
        self.command = command
        self.parameters = dict(parameters or {})
        self.input_sha256 = input_sha256
        self.staging: Path | None = None
        self.published = False

    @property
    def run_id(self) -> str:
        return self.final.name

    @property
    def failed_dir(self) -> Path:
        """Where a failed run's files are kept (hidden, beside the runs)."""
        return self.final.with_name(FAILED_PREFIX + self.run_id)

    @property
    def db_path(self) -> Path:
        return self.reports_dir / HISTORY_NAME

    def __enter__(self) -> RunLifecycle:
        self.staging = staging_for(self.final)
        return self

    def publish(self) -> Path:
        """Rename the complete staging folder to the run folder; returns it."""
        publish(self.staging, self.final)
        self.published = True
        return self.final

    def index(self, rows: list[dict]) -> list[int]:
        """Index the published run: one row per run or point (the keys of
        :func:`~optimizer.io.run_index.record_run`; campaign, run id and folder filled in)."""
        base = {"campaign": self.campaign, "run_id": self.run_id, "run_dir": self.final,
                "input_sha256": self.input_sha256}
        return record_runs(self.db_path, [{**base, **row} for row in rows])

    def __exit__(self, kind, error, traceback) -> None:
        if kind is None:
            if not self.published:
                self.publish()
            return
        if self.published:
            return
        if not issubclass(kind, Exception):  # Ctrl-C, SystemExit: nothing to keep
            shutil.rmtree(self.staging, ignore_errors=True)
            return
        kept = self._keep_failed()
        record_run(self.db_path, campaign=self.campaign, run_id=self.run_id,
                   parameters={**self.parameters, "command": self.command},
                   input_sha256=self.input_sha256, status=Status.FAILED, run_dir=kept or self.final,
                   message=f"{kind.__name__}: {error}"[:2000])

    def _keep_failed(self) -> Path | None:
        """The failed run's files, hidden beside the runs (None when there were none)."""
        if self.staging is None or not self.staging.is_dir():
            return None
        if not any(self.staging.iterdir()):
            self.staging.rmdir()
            return None
        kept = self.failed_dir
        try:
            os.replace(self.staging, kept)
        except OSError:
            shutil.rmtree(self.staging, ignore_errors=True)
            return None
        return kept


__all__ = ["FAILED_PREFIX", "RunLifecycle"]
