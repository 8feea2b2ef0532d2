"""A proven bound for a campaign planned in parts: prices on what the parts share.

Each part's plan is optimal only for its shares of the budget, cash limits and
space; nothing in the parts' own bounds limits what the whole campaign could earn
with other shares.  The Lagrangian of the rows the parts share does
(:mod:`optimizer.solve.part_bound` has the maths): for any prices ``λ ≥ 0`` on the
budget, cash-limit, warehouse-space and lane-space rows,

    L(λ) = Σ_p L_p(λ) + λ·b   ≥   the whole campaign's best exact profit,

where ``L_p(λ)`` is part ``p``'s LP at those prices with its share rows dropped, built
on the whole campaign's budget, limits and space.  Each ``L_p`` is one task (on the
Dask client when there is one); the bound is the smallest ``L`` found.

The prices come in rounds, within ``partition_bound_seconds``:

1. from the parts' own plans: each part's LP duals on its share rows price what it
   shares; their share-weighted mean, their median, their largest and the mean
   scaled by ¾ and 5/4 are evaluated first;
2. then the minimiser of the cutting-plane model
   ``min_λ max_i L(λ_i) + g_iᵀ(λ − λ_i)`` (``g_i = b − Σ_p A_p x_p(λ_i)``, the parts'
   use of each shared row: a subgradient) within a box around the best prices, at two
   box sizes, until two rounds in a row lower the bound by less than 0.001 % or the time
   left is shorter than the last round took.

Where suppliers have minimum order values, every part's term also splits the
suppliers its LP orders below their minimum (:mod:`optimizer.solve.supplier_bound`).

A container lane is paid by the cubic metre at its priced container cost (what the
whole campaign's LP pays); a lane with a fee per use is paid by the parts in proportion
to the volume their plans put on it (a lane no plan uses: in equal shares), which keeps
the parts' shares of one fee at most the whole.  With a single budget row and thousands
of SKUs the gap between ``min_λ L(λ)`` and the best plan comes from the LP relaxation
of a few SKUs' cases and flags (Shapley–Folkman).
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from optimizer.io.campaign import Campaign, load_campaign
from optimizer.model import build_model
from optimizer.prep.instance import build_instance
from optimizer.settings import Settings
from optimizer.solve.part_bound import PartTerm

log = logging.getLogger(__name__)

FIRST_SCALES = (0.75, 1.25)        # the mean duals scaled, as first candidates
BOX_SIZES = (0.25, 1.0)            # the cutting plane's box, relative to each price's scale
RHS_TOLERANCE = 1e-9               # parts' right-hand sides of one shared row agree to this (relative)
MIN_EVALUATION_SECONDS = 10.0      # a part's LP at one price gets at least this long
IMPROVEMENT = 1e-5                 # a round that lowers the bound by less than this share of it has stalled
STALL_ROUNDS = 2                   # stop after this many stalled rounds in a row


@dataclass
class LagrangianBound:
    """The bound and how it was found."""

    bound: float | None          # None: no price vector was evaluated on every part
    prices: dict                 # key → λ at the bound
    evaluations: int             # price vectors evaluated on every part
    rounds: int
    seconds: float
    note: str = ""               # why there is no bound, when there is none


def part_term_values(files: dict[str, str], settings: Settings, candidates: list[dict],
                     lane_weights: dict, time_limit_s: float, split_suppliers: bool) -> dict:
    """Build one part on the whole campaign's resources and evaluate its term at each
    price vector (a task on a worker): ``{"rhs", "values", "activities"}``."""
    deadline = time.perf_counter() + time_limit_s
    with tempfile.TemporaryDirectory(prefix="part-bound-") as tmp:
        for name, text in files.items():
            (Path(tmp) / name).write_text(text, encoding="utf-8")
        inst = build_instance(load_campaign(tmp), settings)
    term = PartTerm(build_model(inst), inst, threads=settings.solver.threads)
    values, activities = [], []
    for i, prices in enumerate(candidates):
        left = max(MIN_EVALUATION_SECONDS, (deadline - time.perf_counter()) / (len(candidates) - i))
        got = term.evaluate(prices, lane_weights, time_limit_s=left, split_suppliers=split_suppliers)
        values.append(got.value)
        activities.append(got.activity)
    return {"rhs": term.rhs, "values": values, "activities": activities}


def lane_weights(campaign: Campaign, results: list[dict]) -> list[dict]:
    """Per part, each lane's share of its shipment counts: the part's share of the volume
    the parts' plans put on the lane (equal shares on a lane no plan uses)."""
    volume = campaign.skus.set_index("sku")["volume_m3"]
    per_part = []
    for r in results:
        lines = pd.DataFrame(r["lines"], columns=["sku", "warehouse", "mode", "units"])
        m3 = lines["units"].astype(float) * lines["sku"].map(volume).astype(float)
        per_part.append(m3.groupby([lines["warehouse"], lines["mode"]]).sum().to_dict())
    lanes = list(campaign.lanes.set_index(["warehouse", "mode"]).index)
    n = len(results)
    weights = [{} for _ in results]
    for lane in lanes:
        used = np.array([p.get(lane, 0.0) for p in per_part], float)
        share = used / used.sum() if used.sum() > 0 else np.full(n, 1.0 / n)
        for k in range(n):
            weights[k][lane] = float(share[k])
    return weights


def first_candidates(results: list[dict]) -> list[dict]:
    """Price vectors from the parts' own LP duals on their share rows."""
    shares = np.array([max(r["summary"].budget or 0.0, 0.0) for r in results], float)
    duals = [(w, r.get("duals")) for w, r in zip(shares, results) if r.get("duals")]
    keys = sorted({key for _, d in duals for key in d}, key=repr)
    if not keys:
        return [{}]
    matrix = np.array([[max(0.0, d.get(key, 0.0)) for key in keys] for _, d in duals])
    weight = np.array([w for w, _ in duals]) + 1e-12
    mean = weight @ matrix / weight.sum()
    vectors = [mean, np.median(matrix, axis=0), matrix.max(axis=0)] + [s * mean for s in FIRST_SCALES]
    return [dict(zip(keys, v.tolist())) for v in vectors]


def cutting_plane_candidates(history: list[tuple[dict, float, dict]], best: dict) -> list[dict]:
    """Minimisers of the cutting-plane model within boxes around ``best``.

    ``history``: (prices, L, subgradient) per evaluated price vector.
    """
    keys = sorted({key for prices, _, g in history for key in (*prices, *g)}, key=repr)
    if not keys:
        return []
    lam = np.array([[p.get(k, 0.0) for k in keys] for p, _, _ in history])
    grad = np.array([[g.get(k, 0.0) for k in keys] for _, _, g in history])
    value = np.array([v for _, v, _ in history])
    center = np.array([best.get(k, 0.0) for k in keys])
    # each price's scale: the largest it has been, else where it would move L by 0.1 %
    rhs_scale = np.abs(grad).max(axis=0) + 1e-9
    scale = np.maximum(lam.max(axis=0), 1e-3 * np.abs(value).min() / rhs_scale)
    n = len(keys)
    # variables (λ, t): min t s.t. L_i + g_i·(λ − λ_i) − t ≤ 0
    a = np.hstack([grad, -np.ones((len(history), 1))])
    b = -(value - np.einsum("ij,ij->i", grad, lam))
    c = np.zeros(n + 1)
    c[-1] = 1.0
    out = []
    for size in BOX_SIZES:
        lower = np.maximum(0.0, center - size * scale)
        upper = center + size * scale
        res = linprog(c, A_ub=a, b_ub=b, bounds=[*zip(lower, upper), (None, None)], method="highs")
        if res.status == 0:
            out.append(dict(zip(keys, res.x[:n].tolist())))
    return out


def partition_bound(parts: list, results: list[dict], campaign: Campaign, settings: Settings,
                    client=None, progress=None) -> LagrangianBound:
    """The Lagrangian bound of the whole campaign (module docstring) from its parts
    (:class:`~optimizer.workflows.partition.Part`) and their plans (``plan_part``'s results)."""
    from optimizer.workflows.partition import part_settings

    say = progress or log.info
    start = time.perf_counter()
    budget_s = settings.pipeline.partition_bound_seconds
    each = part_settings(settings)
    weights = lane_weights(campaign, results)
    workers = _workers(client)
    history: list[tuple[dict, float, dict]] = []
    best, best_prices, rhs, rounds, note, stalled = math.inf, {}, None, 0, "", 0
    candidates = first_candidates(results)
    split = bool((campaign.suppliers["min_order_value"].fillna(0) > 0).any())
    files = [p.bound_files for p in parts] if client is None else client.scatter([p.bound_files for p in parts])
    round_s = 0.0
    while candidates:
        began = time.perf_counter()
        left = budget_s - (began - start)
        if history and left < round_s:   # the next round would not finish within the time
            break
        task_s = max(MIN_EVALUATION_SECONDS, left * workers / len(parts))
        args = [(f, each, candidates, w, task_s, split) for f, w in zip(files, weights)]
        if client is None:
            got = [part_term_values(*a) for a in args]
        else:
            got = client.gather(client.map(part_term_values, *zip(*args), pure=False))
        rounds += 1
        round_s = time.perf_counter() - began
        rhs, note = _shared_rhs(got) if rhs is None else (rhs, note)
        if rhs is None:
            break
        before = best
        for i, prices in enumerate(candidates):
            values = [g["values"][i] for g in got]
            if any(v is None for v in values):
                continue
            total = float(sum(values)) + sum(prices.get(k, 0.0) * b for k, b in rhs.items())
            use = {k: sum(g["activities"][i].get(k, 0.0) for g in got) for k in rhs}
            history.append((prices, total, {k: rhs[k] - use[k] for k in rhs}))
            if total < best:
                best, best_prices = total, prices
        say(f"bound round {rounds}: {len(candidates)} price vectors on {len(parts)} parts, "
            f"best bound {best:,.2f}, {time.perf_counter() - start:.1f}s")
        stalled = stalled + 1 if best > before - IMPROVEMENT * abs(best) else 0
        if not history or stalled >= STALL_ROUNDS or time.perf_counter() - start >= budget_s:
            break
        candidates = cutting_plane_candidates(history, best_prices)
    if not history and not note:
        note = "no price vector was evaluated on every part within the time"
    return LagrangianBound(best if history else None, best_prices, len(history), rounds,
                           time.perf_counter() - start, note)


def _shared_rhs(got: list[dict]) -> tuple[dict | None, str]:
    """The whole campaign's right-hand side of each shared row, as every part has it."""
    rhs: dict = {}
    for g in got:
        for key, b in g["rhs"].items():
            if key in rhs and abs(rhs[key] - b) > RHS_TOLERANCE * max(1.0, abs(b)):
                return None, f"the parts disagree on the shared row {key}: {rhs[key]} and {b}"
            rhs.setdefault(key, b)
    return rhs, ""


def _workers(client) -> int:
    if client is None:
        return 1
    return max(1, len(client.scheduler_info()["workers"]))


__all__ = ["LagrangianBound", "cutting_plane_candidates", "first_candidates", "lane_weights",
           "part_term_values", "partition_bound"]
