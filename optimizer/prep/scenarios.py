"""Demand scenarios of the two-stage plan (SPEC §8).

A two-stage plan orders now (stage 1, on ``planning_date``) and tops up on the recourse
date R (stage 2), once a signal shows which SKUs are hot.  Its demand is a set of
scenarios k with probabilities ``π_k``: in each, every pair of demand.csv has the demand
known at R, a row of the pair's shape (SPEC §7) with a mean and an sd of its own.  The
scenarios are read from scenarios.csv when the campaign has one (:func:`read_scenarios`),
and generated from demand.csv otherwise (:func:`generate_scenarios`).

Generated scenarios
-------------------
For a pair with mean ``μ > 0`` and sd ``σ`` (a Poisson row's sd is its shape's, ``√μ``),
``cv² = σ²/μ²`` and ``L = ln(1 + cv²)``, the log-variance of a lognormal of that mean and sd.
By R the signal resolves the share ``ρ`` (``resolved_share``) of it: in scenario k the
pair's *heat* is

    h = exp(s·Z − s²/2),   s² = ρ·L,   Z = √γ·Z_cat + √(1 − γ)·Z_sku,

with ``Z_cat`` and ``Z_sku`` independent standard normals, one per category and one per
SKU, shared by the SKU's warehouses (``γ`` = ``category_share``; a SKU without a category
has ``Z = Z_sku``, its own group).  The scenario's row is

    mean_k = μ·h,   sd_k = σ_r·h,
    σ_r² = max(0, σ² − μ²·((1 + cv²)^ρ − 1)) / (1 + cv²)^ρ = μ²·((1 + cv²)^(1−ρ) − 1),

of the row's shape (a Poisson row: mean ``μ·h``).  ``E[h] = 1`` and ``E[h²] = e^{s²} =
(1 + cv²)^ρ``, so over the scenarios

    E[mean_k] = μ,    E[sd_k²] + Var(mean_k) = σ_r²·(1 + cv²)^ρ + μ²·((1 + cv²)^ρ − 1) = σ²:

the forecast's mean and variance are kept.  The ``max(0, ·)`` never binds, since
``(1 + cv²)^ρ ≤ 1 + ρ·cv²`` for ``ρ ∈ [0, 1]``.

* **lognormal** rows: a scenario's log-variance is ``ln(1 + σ_r²/μ²) = (1 − ρ)·L`` and the
  heat adds ``ρ·L``, with log-means adding up to ``ln μ − L/2``: over the scenarios demand
  is exactly demand.csv's lognormal, ``ρ`` the share of its log-variance known at R.
* **normal** rows: mean and variance are those of ``N(mean, sd)`` before truncation at
  zero; ``E[D] = E[max(0, N)]`` of the scenarios averages close to, not exactly, the
  forecast's where sd is large against the mean.
* **negative_binomial** rows: a scenario whose variance ``(σ_r·h)² ≤ μ·h`` is a Poisson
  (:func:`~optimizer.prep.expected_sales.distribution_codes`), with more variance than
  ``σ_r·h``; a row that is a Poisson in demand.csv already (``sd² ≤ mean``) is written
  ``poisson``.
* **poisson** rows: mean ``μ·h``, and the sd column holds the shape's sd, ``√(μ·h)``.  The
  within-scenario variance is the Poisson's, so the total variance is
  ``μ + μ²·((1 + 1/μ)^ρ − 1) ≥ μ``: the heat makes a Poisson row over-dispersed.
* ``μ = 0``: the row as in demand.csv, in every scenario (``h = 1``).
* ``ρ = 0``: ``h = 1``, every scenario is demand.csv; ``ρ = 1``: ``σ_r = 0``, demand is
  known exactly at R.

**Draw order** (results are reproducible from ``seed``): one
``numpy.random.default_rng(seed)``, one ``standard_normal((n, C + S))`` draw, row k the
scenario k: its first C columns are ``Z_cat`` of the categories of skus.csv in sorted
order, the next S columns ``Z_sku`` of every SKU of skus.csv (with demand or not) in
sorted order (Python's ``str`` order).  A run with more scenarios starts with the
scenarios of a run with fewer, and neither the rows' order in the files nor demand rows
added or removed change another SKU's heats.

scenarios.csv
-------------
``scenario`` (text), ``probability`` (> 0; one value per scenario, summing to 1),
``sku``, ``warehouse``, ``mean`` (≥ 0), ``sd`` (≥ 0): each pair's demand as known at R in
that scenario, of the shape of its demand.csv row.  Every pair of demand.csv is in every
scenario, no pair twice in one, and no pair without a demand.csv row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.io import checks
from optimizer.io.campaign import is_absent, read_cells
from optimizer.io.checks import Col
from optimizer.io.errors import Problem, limit_per_column
from optimizer.io.recourse import RecourseSettings
from optimizer.prep.expected_sales import DISTRIBUTIONS, POISSON, distribution_codes, spread

SCENARIOS_FILE = "scenarios.csv"
PROBABILITY_TOLERANCE = 1e-6  # |Σ π_k − 1| allowed in scenarios.csv
MEAN_TOLERANCE = 0.01         # a pair's probability-weighted mean this far off demand.csv's: a warning
LISTED = 10                   # scenarios named in one message

SCENARIO_COLUMNS: tuple[Col, ...] = (
    Col("scenario", "str"),
    Col("probability", "float", gt=0, le=1),
    Col("sku", "str"),
    Col("warehouse", "str"),
    Col("mean", "float", ge=0, cap=checks.UNITS_MAX),
    Col("sd", "float", ge=0, cap=checks.UNITS_MAX),
)
SCENARIO_KEY = ("scenario", "sku", "warehouse")


# ---------------------------------------------------------------- scenarios


@dataclass(frozen=True, eq=False)
class Scenarios:
    """The demand of the two-stage problem: scenario ids, their probabilities (same order)
    and ``demand``, one row per (scenario, pair) with columns ``scenario, sku, warehouse,
    mean, sd, distribution`` (a SPEC §7 shape name).

    Rows are scenario by scenario in ``ids`` order, and within a scenario in the order of
    demand.csv's pairs: :meth:`values` gives a column as a (scenario × pair) matrix.
    """

    ids: tuple[str, ...]
    probabilities: np.ndarray
    demand: pd.DataFrame

    def __len__(self) -> int:
        return len(self.ids)

    def values(self, column: str) -> np.ndarray:
        """``demand[column]`` as an array of shape (scenarios, pairs)."""
        return self.demand[column].to_numpy().reshape(len(self.ids), -1)


def _shape_names(demand: pd.DataFrame) -> pd.Series:
    """demand.csv's ``distribution`` column, lower case, blank (or absent) = normal."""
    if "distribution" not in demand:
        return pd.Series("normal", index=demand.index, dtype=object)
    names = demand["distribution"].fillna("").astype(str).str.strip().str.lower()
    return names.where(names != "", "normal")


def scenario_ids(n: int) -> tuple[str, ...]:
    """Ids of ``n`` generated scenarios, zero-padded so they sort in order.

    >>> scenario_ids(3)
    ('s1', 's2', 's3')
    >>> scenario_ids(12)[:2]
    ('s01', 's02')
    """
    width = len(str(n))
    return tuple(f"s{k:0{width}d}" for k in range(1, n + 1))


def _signals(pair_skus: np.ndarray, skus: pd.DataFrame, n: int, gamma: float, seed: int) -> np.ndarray:
    """``Z`` of each (scenario, pair), shape (n, pairs): ``√γ·Z_cat + √(1 − γ)·Z_sku``
    (``Z_sku`` for a SKU without a category), drawn in the order of the module docstring."""
    ids = skus["sku"].astype(str).tolist()
    category = (skus["category"].fillna("").astype(str).tolist() if "category" in skus else [""] * len(ids))
    category_of = dict(zip(ids, category))
    unknown = sorted(set(pair_skus) - set(category_of))
    if unknown:
        raise ValueError(f"demand names SKUs that are not in skus: {unknown[:5]}")
    categories = sorted({c for c in category if c})
    column = {("category", c): i for i, c in enumerate(categories)}
    column |= {("sku", s): len(categories) + i for i, s in enumerate(sorted(set(ids)))}

    draws = np.random.default_rng(seed).standard_normal((n, len(column)))
    own = np.array([column[("sku", s)] for s in pair_skus], dtype=np.int64)
    common = np.array([column.get(("category", category_of[s]), -1) for s in pair_skus], dtype=np.int64)
    z = draws[:, own]
    grouped = common >= 0
    z[:, grouped] = math.sqrt(gamma) * draws[:, common[grouped]] + math.sqrt(1.0 - gamma) * z[:, grouped]
    return z


def generate_scenarios(demand: pd.DataFrame, skus: pd.DataFrame, settings: RecourseSettings) -> Scenarios:
    """``settings.scenarios`` equally likely scenarios of ``demand`` (SPEC §8; the maths and
    the draw order are in the module docstring).

    ``demand``: demand.csv's rows (``sku, warehouse, mean, sd``, optionally
    ``distribution``); ``skus``: skus.csv's (``sku``, optionally ``category``, blank = none).

    >>> demand = pd.DataFrame({"sku": ["A"], "warehouse": ["W"], "mean": [100.0], "sd": [50.0]})
    >>> skus = pd.DataFrame({"sku": ["A"]})
    >>> import datetime as dt
    >>> from optimizer.io.recourse import RecourseSettings
    >>> settings = RecourseSettings(date=dt.date(2026, 10, 20), scenarios=4, resolved_share=1.0)
    >>> s = generate_scenarios(demand, skus, settings)
    >>> s.ids, s.probabilities.tolist()
    (('s1', 's2', 's3', 's4'), [0.25, 0.25, 0.25, 0.25])
    >>> s.demand["sd"].tolist()   # ρ = 1: demand is known at R
    [0.0, 0.0, 0.0, 0.0]
    """
    n, rho, gamma = settings.scenarios, settings.resolved_share, settings.category_share
    mean = demand["mean"].to_numpy(float)
    row_sd = demand["sd"].to_numpy(float)
    codes = distribution_codes(_shape_names(demand).tolist(), mean, row_sd)
    sigma = spread(mean, row_sd, codes)
    live = mean > 0
    log_var = np.zeros(len(mean))
    log_var[live] = np.log1p((sigma[live] / mean[live]) ** 2)  # L = ln(1 + cv²)

    pair_skus = demand["sku"].astype(str).to_numpy(dtype=object)
    z = _signals(pair_skus, skus, n, gamma, settings.seed)
    s = np.sqrt(rho * log_var)
    heat = np.exp(s * z - 0.5 * s * s)  # exactly 1 where s = 0
    # σ_r = μ·√((1 + cv²)^(1−ρ) − 1); at ρ = 0 the row's own σ, at ρ = 1 zero.
    sd_r = sigma.copy() if rho == 0 else mean * np.sqrt(np.expm1((1.0 - rho) * log_var))
    scen_mean = mean * heat
    scen_sd = np.where(live, sd_r * heat, row_sd)
    poisson = (codes == POISSON) & live
    scen_sd[:, poisson] = np.sqrt(scen_mean[:, poisson])

    ids = scenario_ids(n)
    pairs = len(mean)
    frame = pd.DataFrame({
        "scenario": np.repeat(np.array(ids, dtype=object), pairs),
        "sku": np.tile(pair_skus, n),
        "warehouse": np.tile(demand["warehouse"].astype(str).to_numpy(dtype=object), n),
        "mean": scen_mean.ravel(),
        "sd": scen_sd.ravel(),
        "distribution": np.tile(np.array([DISTRIBUTIONS[c] for c in codes], dtype=object), n),
    })
    return Scenarios(ids, _read_only(np.full(n, 1.0 / n)), frame)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


# ---------------------------------------------------------------- scenarios.csv


def read_scenarios(path: str | Path, demand: pd.DataFrame,
                   file: str = SCENARIOS_FILE) -> tuple[Scenarios | None, list[Problem]]:
    """scenarios.csv read and checked against ``demand`` (demand.csv's rows).

    Returns ``(scenarios, warnings)`` for a valid file — a warning for each pair whose
    probability-weighted mean is more than 1 % off demand.csv's — ``(None, problems)``
    for an invalid one, and ``(None, [])`` when there is no file (it is optional).
    Every problem names the file, and the line and column where there is one; ids are
    read verbatim as text, as the campaign files' are.  Scenarios come in the order of
    their first row; each pair keeps its demand.csv shape.
    """
    path = Path(path)
    if is_absent(path):
        return None, []
    raw, problems = read_cells(path, file)
    if raw is None:
        return None, problems
    checked, found = checks.check_table(checks.Table(file, SCENARIO_COLUMNS, key=SCENARIO_KEY, min_rows=1), raw)
    problems += found
    if any(col.name not in checked.frame for col in SCENARIO_COLUMNS):
        return None, limit_per_column(problems)
    names = [col.name for col in SCENARIO_COLUMNS]
    frame = checked.frame[names]
    pairs = pd.MultiIndex.from_arrays([demand["sku"].astype(str), demand["warehouse"].astype(str)])
    frame = frame.assign(_pair=pairs.get_indexer(pd.MultiIndex.from_arrays([frame["sku"], frame["warehouse"]])))

    problems += _row_problems(frame[checked.ok[names].all(axis=1)], file)
    if problems:
        return None, limit_per_column(problems)
    firsts = frame.drop_duplicates("scenario")
    ids = firsts["scenario"].tolist()
    problems += _sum_problem(firsts, file)
    problems += _missing_pairs(frame, ids, pairs, file)
    if problems:
        return None, limit_per_column(problems)

    frame = frame.assign(_scenario=frame["scenario"].map({k: i for i, k in enumerate(ids)}))
    frame = frame.sort_values(["_scenario", "_pair"], kind="stable")
    shapes = _shape_names(demand).to_numpy(dtype=object)
    out = pd.DataFrame({
        "scenario": frame["scenario"].to_numpy(dtype=object),
        "sku": frame["sku"].to_numpy(dtype=object),
        "warehouse": frame["warehouse"].to_numpy(dtype=object),
        "mean": frame["mean"].to_numpy(float),
        "sd": frame["sd"].to_numpy(float),
        "distribution": shapes[frame["_pair"].to_numpy()],
    })
    scenarios = Scenarios(tuple(ids), _read_only(firsts["probability"].to_numpy(float)), out)
    return scenarios, limit_per_column(_mean_warnings(scenarios, demand, frame, file))


def _row_problems(rows: pd.DataFrame, file: str) -> list[Problem]:
    """Rules on single valid rows: a pair demand.csv does not have (``_pair`` = −1); a
    scenario's probability differing from the one on its first row."""
    problems = [
        Problem(file, line, "sku, warehouse",
                f"sku '{sku}', warehouse '{warehouse}' has no row in demand.csv: the scenarios refine "
                "demand.csv's forecast, so each of their pairs needs a demand.csv row")
        for line, sku, warehouse in zip(rows.index[rows["_pair"] < 0], rows.loc[rows["_pair"] < 0, "sku"],
                                        rows.loc[rows["_pair"] < 0, "warehouse"])]
    by_scenario = rows.groupby("scenario", sort=False)["probability"]
    first = by_scenario.transform("first")
    first_line = pd.Series(rows.index, index=rows.index).groupby(rows["scenario"], sort=False).transform("first")
    differs = ~np.isclose(rows["probability"], first, rtol=1e-12, atol=1e-15)
    problems += [
        Problem(file, line, "probability",
                f"scenario '{scenario}' has probability {p0:g} on line {line0}, here {p:g}: give one "
                "probability per scenario, the same on each of its rows")
        for line, scenario, p, p0, line0 in zip(rows.index[differs], rows.loc[differs, "scenario"],
                                                rows.loc[differs, "probability"], first[differs],
                                                first_line[differs])]
    return sorted(problems, key=lambda p: p.row)


def _sum_problem(firsts: pd.DataFrame, file: str) -> list[Problem]:
    """``Σ π_k = 1`` within :data:`PROBABILITY_TOLERANCE` (``firsts``: each scenario's first row)."""
    total = math.fsum(firsts["probability"])
    if abs(total - 1.0) <= PROBABILITY_TOLERANCE:
        return []
    listed = ", ".join(f"'{k}' {p:g} (line {line})" for line, k, p in
                       zip(firsts.index[:LISTED], firsts["scenario"][:LISTED], firsts["probability"][:LISTED]))
    more = f" and {len(firsts) - LISTED} more" if len(firsts) > LISTED else ""
    return [Problem(file, None, "probability",
                    f"the scenarios' probabilities sum to {total:.10g}, not 1: {listed}{more}")]


def _missing_pairs(frame: pd.DataFrame, ids: list[str], pairs: pd.MultiIndex, file: str) -> list[Problem]:
    """Each demand.csv pair must be in every scenario: one problem per missing (scenario,
    pair), or one per pair that is in no scenario at all.  (Called on a file with every
    row a known pair and no pair twice in a scenario: a scenario with as many rows as
    demand.csv has pairs misses none.)"""
    counts = frame.groupby("scenario", sort=False).size()
    short = [k for k in ids if counts[k] < len(pairs)]
    if not short:
        return []
    present = {k: set(frame.loc[frame["scenario"] == k, "_pair"]) for k in short}
    everywhere_missing = len(short) == len(ids) > 1
    problems = []
    for i, (sku, warehouse) in enumerate(pairs):
        missing = [k for k in short if i not in present[k]]
        if everywhere_missing and len(missing) == len(ids):
            problems.append(Problem(
                file, None, "sku, warehouse",
                f"sku '{sku}', warehouse '{warehouse}' of demand.csv is in no scenario: every pair of "
                "demand.csv must be in every scenario (its demand as known at the recourse date)"))
            continue
        problems += [Problem(file, None, "sku, warehouse",
                             f"scenario '{k}' has no row for sku '{sku}', warehouse '{warehouse}': every pair "
                             "of demand.csv must be in every scenario (its demand as known at the recourse date)")
                     for k in missing]
    return problems


def _mean_warnings(scenarios: Scenarios, demand: pd.DataFrame, rows: pd.DataFrame, file: str) -> list[Problem]:
    """A warning per pair whose probability-weighted mean ``Σ π_k·mean_k`` is more than
    :data:`MEAN_TOLERANCE` of demand.csv's mean away from it."""
    weighted = scenarios.probabilities @ scenarios.values("mean")
    forecast = demand["mean"].to_numpy(float)
    off = np.abs(weighted - forecast) > MEAN_TOLERANCE * forecast + 1e-9
    first_line = pd.Series(rows.index, index=rows["_pair"]).groupby(level=0).min()
    warnings = []
    for i in np.flatnonzero(off):
        sku, warehouse = str(demand["sku"].iloc[i]), str(demand["warehouse"].iloc[i])
        change = f" ({(weighted[i] / forecast[i] - 1) * 100:+.1f} %)" if forecast[i] > 0 else ""
        warnings.append(Problem(
            file, None, "mean",
            f"sku '{sku}', warehouse '{warehouse}' (first on line {first_line[i]}): the scenarios' "
            f"probability-weighted mean is {weighted[i]:.6g}, demand.csv's mean {forecast[i]:g}{change}: "
            "the scenarios should refine the forecast, not move it"))
    return warnings
