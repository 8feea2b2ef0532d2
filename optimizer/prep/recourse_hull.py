"""A tighter recourse sales curve: stage 2's case packs, MOQs and supplier minimums priced in,
pair by pair (SPEC §8).

The priced relaxation of :mod:`optimizer.prep.recourse_curve` lets a top-up be any amount at
any pair.  A real top-up comes in whole cases of ``cp``; when a SKU is topped up its order is
at least its MOQ ``μ_s``, and when a supplier is, its order is worth at least its minimum
``M_f`` (``Σ unit_cost·units``).  The last two tie a SKU's pairs and a supplier's SKUs
together, so they enter by Lagrangian prices that keep the curve pair by pair: in scenario
k, with ``η_ks ≥ 0`` per SKU, ``ζ_kf ≥ 0`` per supplier, and shares ``w_i ≥ 0`` summing to 1
over each SKU's stage-2 pairs and ``w'_i`` over each supplier's, a feasible top-up ``t``
earns

    Σ_i f_i(t_i) ≤ Σ_i f_i(t_i) + Σ_{s ordered} η_s (Σ_{i∈s} t_i − μ_s) + Σ_{f ordered} ζ_f (Σ_{i∈f} c_i t_i − M_f)
               ≤ Σ_i max(0, f_i(t_i) + (η_s + ζ_f c_i)·t_i − η_s μ_s w_i − ζ_f M_f w'_i),

(each pair of an ordered SKU carries a share of its fees; a pair of a SKU not ordered has
``t_i = 0`` and its term is ≥ 0), where ``f_i(t) = m_i (ES_k(a_i + t) − ES_k(a_i)) −
((1+λ_k)·c2_i − v_i)·t`` is the pair's top-up under the priced budget.  So each pair's
scenario value, in units of a sale, is

    V_k(a) = max( ES_k(a),  max_{n ≥ 1, n·cp ≤ cap} ES_k(a + n·cp) − r'_k·n·cp − F_k ),
    r'_k = ((1+λ_k)·c2 − v − η_s − ζ_f·c)/m,   F_k = (η_s μ_s w + ζ_f M_f w')/m,

a valid bound for *any* such prices and shares (at zero prices: whole cases only).  A pair
that cannot sell (no demand, or ``m ≤ 0``) has no curve; its prices are capped so that a unit
there earns nothing (``η_s + ζ_f·c ≤ (1+λ_k)·c2 − v``) and its term is 0.  The prices and
shares are chosen at a reference stage-1 stock (:func:`minimum_prices`): the shares follow the
continuous relaxation's top-ups there, and each SKU's ``η`` and then each supplier's ``ζ`` is
the grid value that makes the sum above smallest — where a scenario's top-ups are small
next to the MOQ or the minimum, that sum is what forcing the order up to it would earn, often
nothing.  The objective is concave in ``n``, so the best ``n`` is next to the continuous
optimum ``F_k⁻¹(1 − r'_k) − a``.

``V(a) = Σ_k π_k V_k(a)`` is nondecreasing but not concave (a case or a fee is a step), so the
curve put on the instance is its upper concave hull over the pair's stock lattice
``E + cp·j`` (stage 1's case pack is the SKU's, as stage 2's): ``V`` exactly at every lattice
point up to the largest scenario's :data:`REACH` quantile, or, for a pair with more than
:data:`HULL_POINTS` of them, at points where the scenarios' demand lies with a convex bound
on the rise between them (:func:`_top_up_values`); and past the last point ``V``'s rise
``S = Σ_k π_k P(D_k > a)`` up to the most stage 1 can stock.  The hull lies above ``V`` at
every lattice point up to there, so the relaxation stays valid and the chords of
:mod:`optimizer.model.demand` stay valid cuts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from optimizer.prep.expected_sales import expected_sales, quantile, stockout_probability
from optimizer.prep.instance import Instance
from optimizer.prep.recourse import ScenarioDemand, TwoStage

if TYPE_CHECKING:
    from optimizer.prep.recourse_curve import RecourseCurve

#: Lattice points per pair at which ``V`` is evaluated exactly (every one, up to this many).
HULL_POINTS = 128
#: Points × scenarios the hull's evaluation may take (about a second per 10⁷); where that
#: leaves a pair fewer than :data:`MIN_POINTS`, the continuous curve is kept (:func:`hull_points`).
HULL_WORK = 10_000_000
MIN_POINTS = 24
#: The largest scenario's quantile past which ``V`` is bounded by its rise alone.
REACH = 0.9999
#: The first lattice points from ``E`` always evaluated (a small pair's whole range).
FIRST_POINTS = 8
#: Where between two evaluated points the rise bound is evaluated (shares of the way).
BETWEEN = (0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0)
#: Each scenario's demand quantiles pooled into the mixture's spread the points follow.
SPREAD_LEVELS = (0.0001, 0.01, 0.05, 0.15, 0.3, 0.5, 0.7, 0.85, 0.95, 0.99, 0.9999)
#: The price grids of :func:`minimum_prices`: ``η`` as shares of the SKU's mean stage-2 landed
#: cost, ``ζ`` per unit of order value.
MOQ_PRICES = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.5, 2.5)
MINIMUM_PRICES = (0.0, 0.01, 0.03, 0.06, 0.1, 0.15, 0.25, 0.4, 0.6, 0.9, 1.4, 2.5)


@dataclass(frozen=True, eq=False)
class HullRecourseCurve:
    """The curve of the module docstring where a top-up can earn, ``base`` elsewhere."""

    base: RecourseCurve
    row: np.ndarray  # per instance pair: its row of ``x``/``y``, −1: the base curve
    x: np.ndarray  # (rows, points) hull vertices' stock, increasing (the last repeated as padding)
    y: np.ndarray  # (rows, points) hull values there
    slopes: np.ndarray  # (rows, points − 1) the hull's segment slopes, nonincreasing (0 on padding)
    top_ups: WholeCaseTopUps | None = None

    def __call__(self, stock: np.ndarray, at) -> np.ndarray:
        idx = np.arange(len(self.row))[at]
        stock = np.broadcast_to(np.asarray(stock, float), idx.shape)
        hull = self.row[idx] >= 0
        out = np.zeros(idx.shape)
        if not hull.all():
            out[~hull] = self.base(stock[~hull], idx[~hull])
        if hull.any():
            r, a = self.row[idx[hull]], stock[hull]
            x = self.x[r]
            seg = np.clip((x[:, 1:] <= a[:, None]).sum(axis=1), 0, x.shape[1] - 2)
            rows = np.arange(len(r))
            out[hull] = self.y[r, seg] + self.slopes[r, seg] * (a - x[rows, seg])
        return out

    def level(self, slope: np.ndarray, at) -> np.ndarray:
        idx = np.arange(len(self.row))[at]
        slope = np.broadcast_to(np.asarray(slope, float), idx.shape)
        hull = self.row[idx] >= 0
        out = np.zeros(idx.shape)
        if not hull.all():
            out[~hull] = self.base.level(slope[~hull], idx[~hull])
        if hull.any():
            r = self.row[idx[hull]]
            flat = self.slopes[r] <= slope[hull][:, None]
            first = np.where(flat.any(axis=1), np.argmax(flat, axis=1), self.slopes.shape[1])
            out[hull] = self.x[r, first]
        return out


@dataclass(frozen=True, eq=False)
class WholeCaseTopUps:
    """Each scenario's best whole-case top-up under the curve's MOQ and minimum prices (the
    ``n`` maximising ``V_k`` of the module docstring), at any reserve prices: what the
    relaxation spends, for :func:`~optimizer.prep.recourse_curve.reserve_prices`."""

    demand: ScenarioDemand
    pairs: StagePairs
    rows: np.ndarray  # the pairs a top-up may earn at
    bonus: np.ndarray  # (K, rows) dollars per unit
    fee: np.ndarray  # (K, rows) dollars

    def __call__(self, prices: np.ndarray, stock: np.ndarray) -> np.ndarray:
        """(K, n) units per pair of each scenario's best top-up at stage-1 ``stock`` with
        scenario k's reserve priced at ``prices[k]``."""
        sp, i, d = self.pairs, self.rows, self.demand
        out = np.zeros((len(d), len(sp.m)))
        if not len(i):
            return out
        cost = (1.0 + prices[:, None]) * sp.c2[i][None, :] - sp.v[i][None, :]
        col = sp.column[i]
        mean, sd, dist = d.mean[:, col], d.sd[:, col], d.dist[:, col]
        a = np.broadcast_to(stock[i], cost.shape)
        _, units = _best_whole_case(a, mean, sd, dist, (cost - self.bonus) / sp.m[i], self.fee / sp.m[i],
                                    np.broadcast_to(sp.cp[i], a.shape),
                                    np.broadcast_to(np.floor(sp.cap[i] / sp.cp[i]), a.shape),
                                    np.asarray(expected_sales(a, mean, sd, dist), float))
        out[:, i] = units
        return out


@dataclass(frozen=True, eq=False)
class StagePairs:
    """Stage 1's pairs as stage 2 sees them, in dollars (positions of the instance's pairs)."""

    column: np.ndarray  # the pair's column of the scenario matrices, −1 without demand
    m: np.ndarray  # value of a sale
    v: np.ndarray  # value of a unit held
    c2: np.ndarray  # cheapest landed cost from the recourse date (nan: no stage-2 route)
    cap: np.ndarray  # the most stage 2 may bring
    cp: np.ndarray  # case pack
    unit_cost: np.ndarray
    moq: np.ndarray  # the SKU's MOQ where it binds a top-up (> cp), else 0
    minimum: np.ndarray  # the supplier's minimum order value
    sku: np.ndarray  # group codes
    supplier: np.ndarray

    @property
    def routed(self) -> np.ndarray:
        return np.isfinite(self.c2) & (self.cap > 0)

    @property
    def selling(self) -> np.ndarray:
        """A stage-2 route and a sale worth something: the pairs with a curve."""
        return self.routed & (self.column >= 0) & (self.m > 0)

    def cost(self, prices: np.ndarray) -> np.ndarray:
        """(K, n) ``(1+λ_k)·c2 − v``: what a top-up unit costs net of holding it (inf: no route)."""
        return np.where(self.routed, (1.0 + prices[:, None]) * np.nan_to_num(self.c2) - self.v, np.inf)


def stage_pairs(inst: Instance, base: RecourseCurve, costs) -> StagePairs:
    """:class:`StagePairs` of ``inst``'s pairs; ``costs``: :func:`~optimizer.prep.recourse_curve.stage2_costs`."""
    pairs = inst.pairs
    sku = pairs.index.get_level_values("sku")
    skus = inst.skus.reindex(sku)
    cp = skus["case_pack"].to_numpy(float)
    moq = skus["moq"].to_numpy(float)
    minimum = inst.suppliers["min_order_value"].reindex(skus["supplier"]).fillna(0.0).to_numpy(float)
    return StagePairs(base.column, pairs["sales_coef"].to_numpy(float), pairs["stock_coef"].to_numpy(float),
                      costs[0], costs[1], cp, skus["unit_cost"].to_numpy(float), np.where(moq > cp, moq, 0.0),
                      minimum, np.unique(np.asarray(sku), return_inverse=True)[1],
                      np.unique(skus["supplier"].astype(str).to_numpy(), return_inverse=True)[1])


def hull_points(ts: TwoStage, base: RecourseCurve) -> int:
    """The lattice points per pair the hull may evaluate within :data:`HULL_WORK` (at most
    :data:`HULL_POINTS`; 0: too few, keep the continuous curve ``base``)."""
    rows = int(np.isfinite(base.ratio).any(axis=0).sum())
    points = min(HULL_POINTS, HULL_WORK // max(rows * len(ts.demand), 1))
    return points if points >= MIN_POINTS else 0


def hull_recourse_curve(ts: TwoStage, inst: Instance, base: RecourseCurve, prices: np.ndarray,
                        costs: tuple[np.ndarray, np.ndarray], reference: np.ndarray | None = None) -> HullRecourseCurve:
    """The curve of the module docstring for ``inst``'s pairs (stage 1's), from the continuous
    curve ``base`` at the reserve prices ``prices`` (λ_k per scenario); ``costs``: each pair's
    cheapest landed cost from the recourse date and the most stage 2 may bring
    (:func:`~optimizer.prep.recourse_curve.stage2_costs`); ``reference``: the stage-1 stock the
    MOQ and minimum prices are chosen at (None: no such prices, whole cases only)."""
    sp = stage_pairs(inst, base, costs)
    cost = sp.cost(prices)
    if reference is None:
        bonus, fee = np.zeros(cost.shape), np.zeros(cost.shape)
    else:
        bonus, fee = minimum_prices(ts, sp, cost, np.asarray(reference, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(sp.selling[None, :], (cost - bonus) / sp.m, np.inf)
        fee_per_sale = np.where(sp.selling[None, :], fee / sp.m, 0.0)
    earns = sp.selling & (ratio < 1.0).any(axis=0)
    rows_of = np.flatnonzero(earns)
    row = np.full(len(sp.m), -1)
    top_ups = WholeCaseTopUps(ts.demand, sp, rows_of, bonus[:, rows_of], fee[:, rows_of])
    if not len(rows_of):
        return HullRecourseCurve(base, row, np.zeros((0, 2)), np.zeros((0, 2)), np.zeros((0, 1)), top_ups)
    row[rows_of] = np.arange(len(rows_of))
    cp1 = sp.cp[rows_of]  # stage 1's lattice step: stage 2's case pack too
    owner, stock = _lattice_points(inst, base, rows_of, cp1, max(hull_points(ts, base), MIN_POINTS))
    values, rise, tail = _top_up_values(ts, base.column[rows_of], owner, stock, cp1, sp.cap[rows_of],
                                        ratio[:, rows_of], fee_per_sale[:, rows_of])
    reach = inst.routes.groupby(level=["sku", "warehouse"])["max_units"].sum() \
        .reindex(inst.pairs.index).fillna(0.0).to_numpy(float)
    most = inst.pairs["existing"].to_numpy(float)[rows_of] + reach[rows_of]
    x, y = _hulls(owner, stock, values, rise, tail, most, cp1)
    with np.errstate(divide="ignore", invalid="ignore"):
        slopes = np.where(x[:, 1:] > x[:, :-1], (y[:, 1:] - y[:, :-1]) / (x[:, 1:] - x[:, :-1]), 0.0)
    return HullRecourseCurve(base, row, x, y, slopes, top_ups)


def minimum_prices(ts: TwoStage, sp: StagePairs, cost: np.ndarray, stock: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(K, n) per pair the bonus ``η_s + ζ_f·c`` per unit and the fee ``η_s μ_s w + ζ_f M_f w'``
    (dollars) of the module docstring, chosen at stage-1 ``stock``: shares half in proportion
    to the continuous top-ups there, half to the scenario's demand (units for ``w``, order
    value for ``w'``; a pair that would top up at another stock carries its part of the fee
    there too), ``η`` per SKU then ``ζ`` per supplier the grid value with the smallest sum."""
    d = ts.demand
    k_count, n = cost.shape
    selling = np.flatnonzero(sp.selling)
    col = sp.column[selling]
    # a pair that cannot sell must earn nothing from a bonus: the prices stay below its unit cost
    barren = sp.routed & ~sp.selling
    scale = _group_mean(np.where(sp.routed, np.nan_to_num(sp.c2), np.nan), sp.sku)
    eta_grid = np.asarray(MOQ_PRICES)[:, None] * scale[None, :]
    zeta_grid = np.asarray(MINIMUM_PRICES)[:, None] * np.ones(sp.supplier.max() + 1)[None, :]
    bonus, fee = np.zeros((k_count, n)), np.zeros((k_count, n))
    for k in range(k_count):
        earned = partial(_continuous_top_ups, sp, selling, cost[k], stock, d.mean[k, col], d.sd[k, col], d.dist[k, col])
        t0, _ = earned(np.zeros((1, n)))
        demand = np.zeros(n)
        demand[selling] = d.mean[k, col]
        w = 0.5 * (_shares(t0[0], sp.sku, sp.routed) + _shares(demand, sp.sku, sp.routed))
        w_value = 0.5 * (_shares(t0[0] * sp.unit_cost, sp.supplier, sp.routed)
                         + _shares(demand * sp.unit_cost, sp.supplier, sp.routed))
        sku_room = _group_min(np.where(barren, cost[k], np.inf), sp.sku)
        eta = _best_price(earned, sp.sku, sp.moq > 0, np.minimum(eta_grid, sku_room[None, :]),
                          per_unit=np.ones(n), per_fee=sp.moq * w)
        extra_s = eta[sp.sku]
        sku_fee = extra_s * sp.moq * w
        sup_room = _group_min(np.where(barren, (cost[k] - extra_s) / np.maximum(sp.unit_cost, 1e-9), np.inf),
                              sp.supplier)
        zeta = _best_price(partial(_shifted, earned, extra_s), sp.supplier, sp.minimum > 0,
                           np.minimum(zeta_grid, sup_room[None, :]), per_unit=sp.unit_cost,
                           per_fee=sp.minimum * w_value, base_fee=sku_fee)
        bonus[k] = extra_s + zeta[sp.supplier] * sp.unit_cost
        fee[k] = sku_fee + zeta[sp.supplier] * sp.minimum * w_value
    return bonus, fee


def _continuous_top_ups(sp: StagePairs, selling: np.ndarray, cost: np.ndarray, stock: np.ndarray, mean, sd, dist,
                        extra: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(G, n) one scenario's best continuous top-up per pair (units, earnings) at each row of
    bonuses ``extra``; ``selling``: the pairs with a curve, ``mean``/``sd``/``dist`` their demand."""
    g, n = extra.shape
    t, gain = np.zeros((g, n)), np.zeros((g, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (cost[selling][None, :] - extra[:, selling]) / sp.m[selling][None, :]
    gi, pi = np.nonzero(r < 1.0)
    if not len(gi):
        return t, gain
    i, rr = selling[pi], r[gi, pi]
    q = np.asarray(quantile(np.clip(1.0 - np.maximum(rr, 0.0), 1e-12, 1 - 1e-12), mean[pi], sd[pi], dist[pi]), float)
    units = np.clip(np.where(rr <= 0, np.inf, q - stock[i]), 0.0, sp.cap[i])
    es = np.asarray(expected_sales(np.concatenate([stock[i] + units, stock[i]]), np.tile(mean[pi], 2),
                                   np.tile(sd[pi], 2), np.tile(dist[pi], 2)), float)
    t[gi, i] = units
    gain[gi, i] = sp.m[i] * (es[:len(i)] - es[len(i):]) - (cost[i] - extra[gi, i]) * units
    return t, gain


def _shifted(earned, extra: np.ndarray, bonus: np.ndarray):
    """``earned`` at ``extra`` more bonus per unit at every pair."""
    return earned(extra[None, :] + bonus)


def _best_price(earned, group: np.ndarray, binds: np.ndarray, grid: np.ndarray, *, per_unit: np.ndarray,
                per_fee: np.ndarray, base_fee: np.ndarray | float = 0.0) -> np.ndarray:
    """Per group the price among ``grid``'s rows (each a price per group) with the smallest
    ``Σ_{i in group} max(0, earned_i − base_fee_i − price·per_fee_i)``, ``earned`` at a bonus
    of ``price·per_unit_i`` per unit; 0 where the rule does not bind in the group."""
    groups = grid.shape[1]
    bound = np.bincount(group, weights=binds.astype(float), minlength=groups) > 0
    prices = np.where(bound[None, :], np.maximum(grid, 0.0), 0.0)
    at_pair = prices[:, group]
    _, gain = earned(at_pair * per_unit[None, :])
    net = np.maximum(gain - base_fee - at_pair * per_fee[None, :], 0.0)
    totals = np.stack([np.bincount(group, weights=row, minlength=groups) for row in net])
    return prices[np.argmin(totals, axis=0), np.arange(groups)]


def _shares(amount: np.ndarray, group: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Per pair its share of its group's ``amount`` (equal shares over members where it is 0)."""
    groups = group.max() + 1 if len(group) else 0
    amount = np.where(member, amount, 0.0)
    total = np.bincount(group, weights=amount, minlength=groups)
    count = np.bincount(group, weights=member.astype(float), minlength=groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(total[group] > 0, amount / total[group], np.where(member, 1.0 / count[group], 0.0))
    return np.nan_to_num(out)


def _group_mean(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    groups = group.max() + 1 if len(group) else 0
    ok = np.isfinite(values)
    total = np.bincount(group, weights=np.where(ok, values, 0.0), minlength=groups)
    count = np.bincount(group, weights=ok.astype(float), minlength=groups)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def _group_min(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    groups = group.max() + 1 if len(group) else 0
    out = np.full(groups, np.inf)
    np.minimum.at(out, group, values)
    return np.maximum(out, 0.0)


def _lattice_points(inst: Instance, base: RecourseCurve, rows_of: np.ndarray, cp: np.ndarray, points: int) \
        -> tuple[np.ndarray, np.ndarray]:
    """The stage-1 lattice points ``E + cp·j`` ``V`` is evaluated at, as (row, stock) sorted by
    row then stock: every one from ``E`` to one past the largest scenario's :data:`REACH`
    quantile where that is at most ``points``; else the first :data:`FIRST_POINTS`, those
    nearest ``points`` quantiles of the scenarios' mixture (each scenario's
    quantiles at :data:`SPREAD_LEVELS`, pooled and weighed) and the last."""
    existing = inst.pairs["existing"].to_numpy(float)[rows_of]
    c = base.column[rows_of]
    mean, sd, dist = base.mean[:, c], base.sd[:, c], base.dist[:, c]
    far = np.nanmax(np.asarray(quantile(np.full(mean.shape, REACH), mean, sd, dist), float), axis=0)
    last = np.ceil(np.maximum(far - existing, 0.0) / cp) + 1.0
    wide = np.flatnonzero(last + 1 > points)
    picks = {}
    if len(wide):
        pooled = np.concatenate([np.asarray(quantile(np.full(mean[:, wide].shape, p), mean[:, wide], sd[:, wide],
                                                     dist[:, wide]), float) for p in SPREAD_LEVELS])
        weights = np.tile(base.probabilities, len(SPREAD_LEVELS))
        levels = np.linspace(0.0, 1.0, points - FIRST_POINTS)
        for j, r in enumerate(wide):
            order = np.argsort(pooled[:, j])
            cumulative = np.cumsum(weights[order]) / weights.sum()
            at = pooled[order, j][np.minimum(np.searchsorted(cumulative, levels), len(order) - 1)]
            picks[r] = np.unique(np.concatenate([np.arange(FIRST_POINTS, dtype=float),
                                                 np.round(np.maximum(at - existing[r], 0.0) / cp[r]), [last[r]]]))
    steps = [picks[r] if r in picks else np.arange(last[r] + 1.0) for r in range(len(rows_of))]
    owner = np.repeat(np.arange(len(rows_of)), [len(j) for j in steps])
    return owner, existing[owner] + cp[owner] * np.concatenate(steps)


def _top_up_values(ts, column, owner, stock, cp, cap, ratio, fee) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At each lattice point (``owner`` its row, ``stock``): ``V``, each scenario's best
    whole-case top-up, weighed; the rise bound ``U(δ)`` towards the row's next point at
    :data:`BETWEEN` of the way (points, len(BETWEEN)); and ``S = Σ_k π_k P(D_k > a)``.

    From a point ``a``, scenario k's value at ``a + δ`` (δ a multiple of the case pack) is at
    most ``max(ES_k(a) + P_k·δ, V_k(a) + ρ_k·δ)``: selling from stock rises by at most
    ``P_k = P(D_k > a)`` per unit, a top-up's value by at most ``ρ_k = max(r'_k, P(D_k > a +
    cap))`` (more stock buys the same level for less, up to the top-up's cap).  Their weighed
    sum ``U`` is convex in δ, so its chords bound it between the points it is evaluated at."""
    d = ts.demand
    col = column[owner]
    cap_cases = np.floor(cap / cp)[owner]
    step = cp[owner]
    same = np.concatenate([owner[1:] == owner[:-1], [False]])
    gap = np.where(same, np.diff(stock, append=stock[-1]), 0.0)
    delta = gap[:, None] * np.asarray(BETWEEN)[None, :]
    total, tail, rise = np.zeros(len(stock)), np.zeros(len(stock)), np.zeros(delta.shape)
    for k in range(len(d)):
        mean, sd, dist = d.mean[k, col], d.sd[k, col], d.dist[k, col]
        stock_only = np.asarray(expected_sales(stock, mean, sd, dist), float)
        selling = np.asarray(stockout_probability(stock, mean, sd, dist), float)
        best, topping = stock_only, selling
        r = ratio[k][owner]
        e = np.flatnonzero((r < 1.0) & (cap_cases >= 1))
        if len(e):
            a, re = stock[e], r[e]
            best, topping = stock_only.copy(), selling.copy()
            best[e], _ = _best_whole_case(a, mean[e], sd[e], dist[e], re, fee[k][owner[e]], step[e], cap_cases[e],
                                          stock_only[e])
            capped = np.asarray(stockout_probability(a + step[e] * cap_cases[e], mean[e], sd[e], dist[e]), float)
            topping[e] = np.maximum(np.maximum(re, 0.0), capped)
        total += d.probabilities[k] * best
        tail += d.probabilities[k] * selling
        rise += d.probabilities[k] * np.maximum(stock_only[:, None] + selling[:, None] * delta,
                                                best[:, None] + topping[:, None] * delta)
    return total, rise, tail


def _best_whole_case(a, mean, sd, dist, r, fee, cp, cap_cases, stock_only) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise: the best of selling from stock ``a`` alone (``stock_only``, its ES) and
    topping it up by ``n ≥ 1`` cases of ``cp`` (at most ``cap_cases``) at ``r`` per unit and
    ``fee`` (units of a sale), with the ``n`` (in units; 0: no top-up).  The top-up's value is
    concave in ``n``, so the best is next to the continuous optimum ``F⁻¹(1 − r) − a``: the
    floor and the ceiling, and a case either side for the quantile's rounding."""
    earning = (r < 1.0) & (cap_cases >= 1)
    best, units = stock_only, np.zeros(np.shape(a))
    rr = np.where(earning, np.maximum(r, 0.0), 0.5)
    q = np.asarray(quantile(np.clip(1.0 - rr, 1e-12, 1 - 1e-12), mean, sd, dist), float)
    low = np.floor(np.clip(np.where(r <= 0, np.inf, q - a), 0.0, cp * cap_cases) / cp)
    for cases in (low - 1.0, low, low + 1.0, low + 2.0):
        t = np.clip(cases, 1.0, cap_cases) * cp
        value = np.asarray(expected_sales(a + t, mean, sd, dist), float) - r * t - fee
        better = earning & (value > best)
        best, units = np.where(better, value, best), np.where(better, t, units)
    return best, units


def _hulls(owner, stock, values, rise, tail, most, step) -> tuple[np.ndarray, np.ndarray]:
    """Per row the upper concave hull of: its evaluated points; between two of them that skip
    lattice points, the bound ``min(U(δ), V_next)`` at :data:`BETWEEN` of the way (and where
    its chords cross ``V_next``); and ``(most, V_last + S_last·(most − a_last))``.  Padded
    with the last vertex.  ``step``: each row's lattice step (stage 1's case pack)."""
    hulls = []
    fractions = np.concatenate([[0.0], BETWEEN])
    bounds = np.searchsorted(owner, np.arange(len(step) + 1))
    for r in range(len(step)):
        lo, hi = bounds[r], bounds[r + 1]
        a, v, u = stock[lo:hi], values[lo:hi], rise[lo:hi]
        xs, ys = [a], [v]
        for j in np.flatnonzero(np.diff(a) > step[r] * 1.5):
            ux = a[j] + fractions * (a[j + 1] - a[j])
            uy = np.concatenate([[v[j]], u[j]])
            cap = v[j + 1]
            xs.append(ux[1:])
            ys.append(np.minimum(uy[1:], cap))
            cross = np.flatnonzero((uy[:-1] < cap) & (uy[1:] > cap))
            if len(cross):
                l = cross[0]
                xs.append([ux[l] + (cap - uy[l]) / (uy[l + 1] - uy[l]) * (ux[l + 1] - ux[l])])
                ys.append([cap])
        far = max(most[r], a[-1])
        xs.append([far])
        ys.append([v[-1] + tail[hi - 1] * (far - a[-1])])
        xs, ys = np.concatenate(xs), np.concatenate(ys)
        order = np.lexsort((-ys, xs))
        hulls.append(_upper_hull(xs[order], ys[order]))
    width = max(2, max(len(h[0]) for h in hulls))
    x = np.array([np.pad(h[0], (0, width - len(h[0])), mode="edge") for h in hulls])
    y = np.array([np.pad(h[1], (0, width - len(h[1])), mode="edge") for h in hulls])
    return x, y


def _upper_hull(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The upper concave hull of points sorted by x (the highest first at equal x)."""
    hx: list[float] = []
    hy: list[float] = []
    for x, y in zip(xs.tolist(), ys.tolist()):
        if hx and x == hx[-1]:
            continue  # a lower point at the same stock
        while len(hx) >= 2 and (hy[-1] - hy[-2]) * (x - hx[-1]) <= (y - hy[-1]) * (hx[-1] - hx[-2]):
            hx.pop()
            hy.pop()
        hx.append(x)
        hy.append(y)
    return np.array(hx), np.array(hy)


__all__ = ["HULL_POINTS", "HullRecourseCurve", "hull_points", "hull_recourse_curve", "minimum_prices"]
