"""Batches of independent solves on Dask distributed: past one machine.

A batch is a list of :class:`SolveTask` — a campaign folder, a budget and what-if
overrides (delays, service target, time limit, gap).  :func:`run_batch` sends the
tasks (paths and overrides, never Pyomo models) to a ``dask.distributed`` client;
each worker loads the campaign, builds the instance and model, solves, and returns
one small row: the budget frontier's row for that point (same code:
:func:`optimizer.workflows.frontier.budget_frontier` on one budget) plus ``build_seconds``.
A task that raises (bad input, an unreachable service target, a worker that died)
gives a row with status ``failed`` and its ``error``; the other tasks go on.

Where it runs (:func:`dask_client`):

* ``"local"`` — a :class:`~dask.distributed.LocalCluster` sized to the machine:
  one worker **process** per core with **one thread** each, since HiGHS is
  CPU-bound and Pyomo's model building holds the GIL;
* ``"tcp://host:8786"`` (any scheduler address) — a real cluster.  Its workers
  need this package installed (same version) and must see the campaign folders at
  the same absolute paths (a shared file system): each task carries the client's
  checksum of the folder and fails if the worker reads different files.
* ``None`` (``run_batch(tasks, client=None)``) — the same tasks one after the other
  in this process: no cluster, same rows.

Trade-off against the single-process frontier (:func:`~optimizer.workflows.frontier.budget_frontier`):
that one builds **one** model and re-solves it per budget, keeping every
expected-sales chord added so far and warm-starting from the previous plan.  On
Dask every point is an independent cold solve: it builds its own model (with its
own, tighter per-route bounds), shares no chords and no start, and pays the model
build once per point plus the cluster's start-up (its worker processes import
Pyomo, HiGHS and pandas).  In exchange the points run in parallel, one per core or
per cluster worker.  When every point is solved to its gap the two frontiers
agree (tests/test_distributed.py checks it with ``mip_gap = 0``); on a time limit
each can stop at a different plan.
"""

from __future__ import annotations

import logging
import math
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from optimizer.io.errors import InputError, Problem
from optimizer.progress import set_status
from optimizer.settings import Settings
from optimizer.status import Status

log = logging.getLogger(__name__)

# Columns of a batch row: what was asked, then the frontier point (without the
# marginal profit, which only a sorted frontier has), then timings and the error.
TASK_COLUMNS = ["label", "campaign_dir"]
RESULT_COLUMNS = ["budget", "expected_profit", "spend", "expected_fill_rate",
                  "expected_leftover_units", "bound", "gap", "status", "build_seconds",
                  "solve_seconds", "error_type", "error"]


# Imported by every LocalCluster worker as it starts (Pyomo, HiGHS, pandas: seconds),
# so start-up pays it rather than the first task; `dask worker --preload
# optimizer.workflows.frontier` does the same on a real cluster.
PRELOAD = "optimizer.workflows.frontier"


class InputsDiffer(Exception):
    """A worker read a campaign folder whose files differ from the client's."""


@dataclass(frozen=True)
class SolveTask:
    """One independent solve: small and picklable, sent to a worker as is.

    ``budget`` None means the campaign's own budget.  ``input_sha256`` (the
    client's :func:`~optimizer.io.run_index.input_checksum` of the folder)
    is checked on the worker when set.
    """

    campaign_dir: str
    budget: float | None = None
    settings: Settings = field(default_factory=Settings)
    input_sha256: str | None = None
    label: str = ""


def solve_task(task: SolveTask) -> dict:
    """Load, build and solve one task (on a worker); its frontier row plus ``build_seconds``."""
    from optimizer.io.campaign import load_campaign
    from optimizer.io.run_index import input_checksum
    from optimizer.workflows.frontier import budget_frontier

    campaign = load_campaign(task.campaign_dir)
    if task.input_sha256 is not None and input_checksum(campaign.root) != task.input_sha256:
        raise InputsDiffer(f"{task.campaign_dir}: this worker reads different files than the "
                           "client (a stale copy?); workers must see the same campaign folders")
    budget = task.budget if task.budget is not None else campaign.config.budget
    table = budget_frontier(campaign, [budget], task.settings)
    row = table.iloc[0].to_dict()
    row.pop("marginal_profit_per_budget")
    row["build_seconds"] = table.attrs["build_seconds"]
    return row


def _guarded(task: SolveTask) -> dict:
    """:func:`solve_task`, with an exception turned into a ``failed`` row."""
    try:
        return {**solve_task(task), "error_type": None, "error": None}
    except Exception as e:  # noqa: BLE001 — reported per task: the batch goes on
        return _failed(task, e)


def _failed(task: SolveTask, e: BaseException) -> dict:
    return {"budget": task.budget, "status": Status.FAILED, "error_type": type(e).__name__,
            "error": str(e) or type(e).__name__}


def run_batch(tasks: list[SolveTask], client=None, progress=None) -> pd.DataFrame:
    """Solve every task (on ``client``'s workers, or here when None); one row per task, in order.

    Columns: ``TASK_COLUMNS + RESULT_COLUMNS``.  ``progress`` (a callable taking a
    string) hears about each task as it finishes.
    """
    say = progress or log.info
    tasks = [replace(t, campaign_dir=str(Path(t.campaign_dir).resolve())) for t in tasks]
    if client is None:
        results = []
        for t in tasks:
            results.append(_guarded(t))
            say(_describe(t, results[-1]))
    else:
        from dask.distributed import as_completed

        futures = client.map(_guarded, tasks, pure=False)
        task_of = {f.key: t for f, t in zip(futures, tasks)}
        done = {}
        for future in as_completed(futures):
            t = task_of[future.key]
            try:
                done[future.key] = future.result()
            except Exception as e:  # noqa: BLE001 — the worker died (KilledWorker), the task was lost
                done[future.key] = _failed(t, e)
            say(_describe(t, done[future.key]))
        results = [done[f.key] for f in futures]
    rows = [{"label": t.label, "campaign_dir": t.campaign_dir, **r} for t, r in zip(tasks, results)]
    table = pd.DataFrame(rows).reindex(columns=TASK_COLUMNS + RESULT_COLUMNS)
    numeric = [c for c in RESULT_COLUMNS if c not in ("status", "error_type", "error")]
    table[numeric] = table[numeric].astype(float)
    return table


def _describe(task: SolveTask, row: dict) -> str:
    name = task.label or Path(task.campaign_dir).name
    if row["status"] == Status.FAILED:
        return f"{name}: failed — {row['error_type']}: {row['error'].splitlines()[0]}"
    profit = row.get("expected_profit")
    shown = "no plan" if profit is None or math.isnan(profit) else f"profit {profit:,.2f}"
    return (f"{name}: budget {row['budget']:,.2f}, {shown} "
            f"({row['status']}, {row.get('solve_seconds', 0):.1f}s)")


def dask_frontier(campaign_dir: str | Path, budgets: list[float], client,
                  settings: Settings | None = None, time_limit_s: float | None = None,
                  progress=None) -> pd.DataFrame:
    """The budget frontier with one independent task per budget, on ``client``.

    Same table as :func:`~optimizer.workflows.frontier.budget_frontier` (built by the same
    :func:`~optimizer.workflows.frontier.frontier_table`): ``COLUMNS``, ascending budgets,
    marginal profit between neighbours.  A failed point has status ``failed``
    and empty KPIs; ``table.attrs["errors"]`` maps its budget to
    ``(error_type, message)``.  ``table.attrs["build_seconds"]`` is the total over
    the points (each builds its own model).
    """
    from optimizer.io.run_index import input_checksum
    from optimizer.workflows.frontier import carry_forward, frontier_table

    budgets = sorted({float(b) for b in budgets})
    if not budgets or budgets[0] <= 0:
        raise ValueError("budgets must be a non-empty list of positive numbers")
    settings = (settings or Settings()).update(budget=None, max_budget=None)
    if time_limit_s is not None:
        settings = settings.update(time_limit_s=time_limit_s)
    checksum = input_checksum(campaign_dir)
    tasks = [SolveTask(str(campaign_dir), b, settings, checksum, label=Path(campaign_dir).name)
             for b in budgets]
    batch = run_batch(tasks, client, progress)
    table = carry_forward(frontier_table(batch.to_dict("records")))
    failed = batch[batch["status"] == Status.FAILED]
    table.attrs["errors"] = {float(b): (t, e) for b, t, e in
                             zip(failed["budget"], failed["error_type"], failed["error"])}
    table.attrs["build_seconds"] = float(batch["build_seconds"].sum())
    return table


def default_workers() -> int:
    """Worker processes for a LocalCluster: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def dask_client(scheduler: str = "local", n_workers: int | None = None):
    """A ``dask.distributed`` Client for ``"local"`` (a new LocalCluster) or a scheduler address.

    The LocalCluster has ``n_workers`` (default: :func:`default_workers`) worker
    processes of one thread each and no dashboard; it is shut down on exit.
    """
    import logging

    from dask.distributed import Client, LocalCluster

    check_scheduler(scheduler)
    if scheduler == "local":
        with LocalCluster(n_workers=n_workers or default_workers(), threads_per_worker=1,
                          processes=True, dashboard_address=None, preload=[PRELOAD],
                          silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            yield client
    else:
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError) as e:
            raise _bad_scheduler(f"no Dask scheduler at {scheduler} answered within {CONNECT_TIMEOUT_S:g} s "
                                 f"({type(e).__name__}): is it running, and is the address right?") from None
        with client:
            yield client


CONNECT_TIMEOUT_S = 5.0
SCHEDULER_ADDRESS = re.compile(r"(tcp|tls|ws|wss|ucx|inproc)://[^\s/:]+(:\d+)?/?")


def _bad_scheduler(message: str) -> InputError:
    """A --scheduler that is misspelt or does not answer: bad input (exit 2), one line."""
    return InputError([Problem("command line", None, "--scheduler", message)])


def check_scheduler(scheduler: str) -> None:
    """``"local"`` or a scheduler address such as ``tcp://host:8786``; anything else is refused."""
    if scheduler != "local" and not SCHEDULER_ADDRESS.fullmatch(scheduler.strip()):
        raise _bad_scheduler(f"{scheduler!r}: expected 'local' or a scheduler address such as "
                             "tcp://host:8786")


@contextmanager
def batch_client(scheduler: str | None, n_workers: int | None = None, progress=None):
    """The Dask client a batch runs on (None: in this process, one task after the other).

    ``progress`` hears the cluster's description; a :class:`~optimizer.progress.Progress`
    also says the cluster is starting.
    """
    if scheduler is None:
        yield None
        return
    set_status(progress, "starting the Dask cluster")
    with dask_client(scheduler, n_workers) as client:
        (progress or log.info)(describe_client(client))
        yield client


def describe_client(client) -> str:
    """One line: the scheduler address and its workers' count and threads."""
    info = client.scheduler_info()
    workers = info.get("workers", {})
    threads = sum(w.get("nthreads", 0) for w in workers.values())
    return f"dask scheduler {info.get('address', '?')}: {len(workers)} workers, {threads} threads"


__all__ = [
    "RESULT_COLUMNS",
    "batch_client",
    "TASK_COLUMNS",
    "InputsDiffer",
    "SolveTask",
    "dask_client",
    "dask_frontier",
    "default_workers",
    "describe_client",
    "run_batch",
    "solve_task",
]
