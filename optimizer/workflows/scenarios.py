"""Lead-time and budget scenarios: re-plan every combination in one batch.

"Everyone reruns the report when lead times change": instead of one report per
guess, ``python -m optimizer scenarios data/sample --delay sea_fcl=0,7,14
--delay air=0,3`` solves every combination of the per-mode delays (× each
``--budgets`` value, × each campaign folder) as independent tasks of one
:func:`optimizer.workflows.distributed.run_batch` — in this process, on a Dask LocalCluster
or on a real cluster — and returns one row per scenario::

    campaign, campaign_dir, scenario, delay_<mode>..., budget, expected_profit, spend,
    expected_fill_rate, expected_leftover_units, bound, gap, status,
    build_seconds, solve_seconds, profit_vs_no_delay, error_type, error

``profit_vs_no_delay`` is the scenario's profit minus that of the all-zero-delay
scenario of the same campaign folder and budget (empty when the grid has none): what the
delay costs.  A scenario that fails (e.g. its service target becomes unreachable)
has status ``failed`` and its error; the others are kept.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd

from optimizer.io.campaign import Campaign
from optimizer.io.run_folder import write_table_run
from optimizer.progress import point_done, set_status
from optimizer.settings import Settings
from optimizer.status import Status
from optimizer.workflows.distributed import RESULT_COLUMNS, SolveTask, run_batch


def delay_grid(delays: dict[str, list[int]]) -> list[dict[str, int]]:
    """Every combination of the per-mode delay lists, first mode slowest-changing."""
    modes = list(delays)
    return [dict(zip(modes, combo)) for combo in itertools.product(*(delays[m] for m in modes))]


def scenario_label(delays: dict[str, int]) -> str:
    """The non-zero delays, ``"sea_fcl +7, air -2"``, or ``"no delay"``."""
    return ", ".join(f"{m} {d:+d}" for m, d in delays.items() if d) or "no delay"


def run_scenarios(campaigns: list[Campaign], delays: dict[str, list[int]],
                  budgets: list[float] | None = None, settings: Settings | None = None,
                  client=None, progress=None) -> pd.DataFrame:
    """Solve campaigns × delay combinations × budgets (default: each campaign's budget).

    ``settings`` (time limit, gap, threads, service target, pipeline knobs) apply to every
    scenario, whose delays replace theirs;
    ``client`` is a ``dask.distributed`` Client, or None to solve here in turn.
    ``progress`` hears one line per finished scenario (a :class:`~optimizer.progress.Progress`
    also counts them and says which one runs).
    """
    from optimizer.io.run_index import input_checksum

    settings = settings or Settings()
    grid = delay_grid(delays) if delays else [{}]
    tasks, meta = [], []
    for c in campaigns:
        checksum = input_checksum(c.root)
        for b in budgets or [c.config.budget]:
            for d in grid:
                tasks.append(SolveTask(str(c.root), float(b), settings.update(delays=d), checksum, label=f"{c.config.name}: {scenario_label(d)} @ {float(b):,.2f}"))
                meta.append({"campaign": c.config.name, "campaign_dir": str(Path(c.root).resolve()),
                             "scenario": scenario_label(d),
                             **{f"delay_{m}": days for m, days in d.items()}})
    n = len(tasks)
    set_status(progress, f"{n} scenario{'s' if n != 1 else ''}", done=0, total=n)
    if client is None:  # one at a time, so that each scenario's line can give its gap
        parts = []
        for k, task in enumerate(tasks, 1):
            set_status(progress, f"scenario {k}/{n}: {task.label}", done=k - 1)
            parts.append(run_batch([task]))
            point_done(progress, scenario_line(f"scenario {k}/{n}", task.label, parts[-1].iloc[0]))
        batch = pd.concat(parts, ignore_index=True)
    else:
        batch = run_batch(tasks, client, None if progress is None else partial(point_done, progress))
    table = pd.concat([pd.DataFrame(meta), batch[RESULT_COLUMNS]], axis=1)
    table["profit_vs_no_delay"] = _versus_no_delay(table)
    delay_cols = [c for c in table.columns if c.startswith("delay_")]
    first = ["campaign", "campaign_dir", "scenario", *delay_cols]
    last = ["error_type", "error"]
    middle = [c for c in RESULT_COLUMNS if c not in last] + ["profit_vs_no_delay"]
    return table[first + middle + last]


def scenario_line(name: str, label: str, row) -> str:
    """One finished scenario for the progress lines: budget, profit, gap, status and solve seconds."""
    if row["status"] == Status.FAILED:
        return f"{name} {label}: failed — {row['error_type']}: {str(row['error']).splitlines()[0]}"
    if pd.isna(row["expected_profit"]):
        return f"{name} {label}: no plan ({row['status']}, {row['solve_seconds']:.1f}s)"
    gap = "no bound proven" if pd.isna(row["gap"]) else f"gap {row['gap']:.3%}"
    return (f"{name} {label}: profit {row['expected_profit']:,.2f}, {gap} "
            f"({row['status']}, {row['solve_seconds']:.1f}s)")


def _versus_no_delay(table: pd.DataFrame) -> pd.Series:
    base = (table[table["scenario"] == "no delay"]
            .set_index(["campaign_dir", "budget"])["expected_profit"])
    base = base[~base.index.duplicated()]
    keys = pd.MultiIndex.from_frame(table[["campaign_dir", "budget"]])
    return table["expected_profit"] - base.reindex(keys).to_numpy()


def write_scenarios(table: pd.DataFrame, run_dir: str | Path, meta: dict) -> Path:
    """``scenarios.csv`` (and ``scenarios.json`` with ``meta``) into an empty run folder."""
    return write_table_run(table, run_dir, "scenarios", meta)


def scenario_rows(table: pd.DataFrame, parameters: dict) -> list[dict]:
    """The run index rows of a scenario batch: one per scenario.

    ``parameters`` plus ``command = "scenarios"``, the scenario's name, delays and
    budget; the input checksum of the scenario's campaign folder; a failed scenario's
    error as the message.
    """
    from optimizer.io.run_index import input_checksum

    sums = {d: input_checksum(d) for d in table["campaign_dir"].unique()}
    delay_cols = [c for c in table.columns if c.startswith("delay_")]
    rows = []
    for r in table.to_dict("records"):
        delays = {c.removeprefix("delay_"): int(r[c]) for c in delay_cols if pd.notna(r[c])}
        error = None if r["status"] != Status.FAILED else f"{r['error_type']}: {r['error']}"[:2000]
        rows.append({
            "campaign": r["campaign"],
            "parameters": {**parameters, "command": "scenarios", "scenario": r["scenario"],
                           "delays": delays, "budget": r["budget"], "campaign_dir": r["campaign_dir"]},
            "input_sha256": sums[r["campaign_dir"]], "status": r["status"],
            "expected_profit": r["expected_profit"], "spend": r["spend"],
            "build_seconds": r["build_seconds"], "solve_seconds": r["solve_seconds"],
            "message": error})
    return rows


@dataclass
class ScenariosRun:
    """A scenario batch in its published folder."""

    table: pd.DataFrame
    run_dir: Path
    csv: Path


def scenarios_run(campaigns: list[Campaign], delays: dict[str, list[int]], budgets: list[float] | None = None,
                  settings: Settings | None = None, *, reports_dir: str | Path = "reports",
                  scheduler: str | None = None, workers: int | None = None, progress=None) -> ScenariosRun:
    """Solve the scenarios (:func:`run_scenarios`) and write the run: ``scenarios.csv`` and
    ``scenarios.json`` in a new folder under ``reports_dir`` (``<campaign>`` or ``batch``
    for several folders), indexed one row per scenario
    (:class:`~optimizer.workflows.run_lifecycle.RunLifecycle`)."""
    from optimizer.workflows.distributed import batch_client
    from optimizer.workflows.run_lifecycle import RunLifecycle

    settings = settings or Settings()
    name = campaigns[0].config.name if len(campaigns) == 1 else "batch"
    meta = {"campaign_dirs": [str(Path(c.root).resolve()) for c in campaigns], "delays": delays,
            "budgets": budgets, "time_limit_s": settings.solver.time_limit_s,
            "scheduler": scheduler or "single-process"}
    with RunLifecycle(reports_dir, name, command="scenarios", parameters=meta) as run:
        with batch_client(scheduler, workers, progress) as client:
            table = run_scenarios(campaigns, delays, budgets, settings, client, progress=progress)
        csv = write_scenarios(table, run.staging, meta)
        run_dir = run.publish()
        run.index(scenario_rows(table, {k: v for k, v in meta.items() if k not in ("campaign_dirs", "delays")}))
    return ScenariosRun(table, run_dir, run_dir / csv.name)


__all__ = ["ScenariosRun", "delay_grid", "run_scenarios", "scenario_label", "scenario_line", "scenario_rows",
           "scenarios_run", "write_scenarios"]
