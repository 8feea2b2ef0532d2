"""A tighter proven bound: branch and bound over the container counts alone.

Why: the LP relaxation pays for containers by the cubic metre (``n`` fractional),
and that is where almost all of its excess over the best plan comes from:
keeping only the MOQ and supplier flags integer, or only the per-use lane flags,
barely moves the LP bound, while keeping only the **container counts** integer
closes most of its gap to the best known plan.  HiGHS's own branch and bound on
the full model moves its bound slowly because every node carries thousands of
integer cases and flags.

What: the relaxation in which only the shipment counts ``n[l]`` are integer
(containers, and the 0/1 flags of per-use lanes), and cases, order and supplier
flags are continuous, is solved by a small best-first branch and bound whose
nodes are LPs of the loaded model with changed bounds on the ``n`` columns,
branching on containers first.  (Branching on the lane flags as well tightens
the bound further, but takes longer.)  Its optimum is a valid upper bound on the
best plan's exact profit: it relaxes the integer model, whose expected-sales
chords over-estimate ES.
Stopped early, the largest LP value among the open nodes and the solved leaves
is still a valid bound; a node whose LP value is no better than a known plan is
pruned (the bound is then ``max(plan, …)``, still valid).

**Rows added later.**  Chords added to the model after the search started (at
the restricted start's plan, say) are valid cuts at every node; ``add_rows``
gives them to the search, and a queued node solved before them is re-solved
when it is taken from the queue.

**Resumable.**  :class:`ShipmentSearch` keeps its queue between calls, so a
second call (after the restricted start has found a better plan) continues the
same tree instead of starting again.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass

import numpy as np

from optimizer.settings import PipelineKnobs
from optimizer.solve.highs import NodeRelaxation, Rows
from optimizer.status import Status

TOLERANCE = PipelineKnobs().integrality_tolerance  # the default of the knob


@dataclass
class ContainerBound:
    bound: float | None  # valid upper bound (None when not even the root LP solved)
    proven: bool  # the search finished: bound is the relaxation's optimum
    nodes: int
    seconds: float
    best_counts: np.ndarray | None = None  # shipment counts of the best integral leaf
    cuts: int = 0  # rows added to the search after it started


def container_bound(lp, columns: list[int], *, incumbent: float | None,
                    time_limit_s: float, branch_first: list[bool] | None = None,
                    threads: int | None = None, tolerance: float = TOLERANCE) -> ContainerBound:
    """One search of :class:`ShipmentSearch` without cuts (see there)."""
    search = ShipmentSearch(lp, columns, branch_first=branch_first, threads=threads, tolerance=tolerance)
    return search.search(incumbent=incumbent, time_limit_s=time_limit_s)


class ShipmentSearch:
    """Best-first branch and bound over ``columns`` (shipment counts) of ``lp``.

    ``lp`` is the maximisation model as loaded in HiGHS (it is copied and all its
    integrality dropped; ``columns`` are branched on, those marked in
    ``branch_first`` — the containers — before the others).  A count within
    ``tolerance`` of a whole number is whole (``PipelineKnobs.integrality_tolerance``).
    """

    def __init__(self, lp, columns: list[int], *, branch_first: list[bool] | None = None,
                 threads: int | None = None, tolerance: float = TOLERANCE):
        self.tolerance = tolerance
        self.lp = NodeRelaxation(lp, threads=threads)
        self.cols = np.asarray(columns, dtype=np.int32)
        self.first = (np.ones(len(self.cols), bool) if branch_first is None
                      else np.asarray(branch_first, bool))
        self.lower0 = self.lp.col_lower[self.cols]
        self.upper0 = self.lp.col_upper[self.cols]
        self.heap: list | None = None  # (−value, tie, cut version, lower, upper, values)
        self.best_leaf, self.best_counts = -math.inf, None
        self.floor = -math.inf  # exact profit of the best known plan
        self.nodes = self.version = self.cuts = self._tie = 0
        self._deadline = 0.0

    def add_rows(self, rows: Rows | None) -> None:
        """Add valid rows (cuts) to the search's LP; queued nodes are re-solved when taken."""
        if rows is None or not len(rows):
            return
        self.lp.add_rows(rows)
        self.version += 1
        self.cuts += len(rows)

    def search(self, *, incumbent: float | None, time_limit_s: float) -> ContainerBound:
        """Search (or go on searching) for ``time_limit_s``; ``incumbent`` prunes."""
        start = time.perf_counter()
        self._deadline = start + time_limit_s
        if incumbent is not None:
            self.floor = max(self.floor, float(incumbent))
        if self.heap is None:
            root = self._solve(self.lower0, self.upper0)
            if root is None:
                return ContainerBound(None, False, 0, time.perf_counter() - start)
            self.heap = []
            self._push(root, self.lower0, self.upper0)
        heap = self.heap
        while heap:
            top = -heap[0][0]
            if top <= max(self.floor, self.best_leaf):  # nothing open can beat what is known
                heap.clear()
                break
            entry = heapq.heappop(heap)
            _, _, version, lower, upper, x = entry
            if version < self.version:  # cuts came since this node was solved
                result = self._solve(lower, upper)
                if result is None:
                    heapq.heappush(heap, entry)
                    return self._result(start, proven=False)
                value, x, version = result
                if not self._open(value, x) or (heap and value < -heap[0][0]):
                    self._push(result, lower, upper)  # a leaf, pruned, or no longer the best
                    continue
                top = value
            j = self._branch_column(x)
            children = []
            down_upper, up_lower = upper.copy(), lower.copy()
            down_upper[j], up_lower[j] = math.floor(x[j]), math.ceil(x[j])
            for lo, up in ((lower, down_upper), (up_lower, upper)):
                result = self._solve(lo, up)
                if result is None:  # out of time: this node stays open at its value
                    heapq.heappush(heap, (-top, self._next_tie(), version, lower, upper, x))
                    return self._result(start, proven=False)
                children.append((result, lo, up))
            for result, lo, up in children:
                self._push(result, lo, up)
        return self._result(start, proven=True)

    def good_leaf(self, candidates: list[np.ndarray] = (), *, time_limit_s: float) -> np.ndarray | None:
        """Shipment counts with the best LP value among the best leaf so far, a dive
        from the top open node, and ``candidates`` (e.g. a rounded plan's counts),
        each solved as a leaf.

        The dive fixes the top node's most fractional container at its ceiling
        (its floor if that is infeasible) and re-solves until every count is whole.
        A search stopped early may hold no leaf or a poor one.  The top open node
        has the best LP value of the open nodes, so the dive's leaf usually has a
        better LP value than a rounded plan's counts, and the restricted MIP
        started from it usually finds the better plan.
        """
        self._deadline = time.perf_counter() + time_limit_s
        if self.heap:  # the dive first: it is what usually wins
            _, _, _, lower, upper, x = self.heap[0]
            self._dive(lower.copy(), upper.copy(), x)
        for counts in candidates:
            counts = np.clip(np.asarray(counts, float), self.lower0, self.upper0)
            result = self._solve(counts, counts)
            if result is None:
                break
            self._push(result, counts, counts)
        return self.best_counts

    def _dive(self, lower: np.ndarray, upper: np.ndarray, x: np.ndarray) -> None:
        """Fix fractional counts one at a time (containers first) down to a leaf."""
        result = None  # the queue holds fractional nodes only, so the loop runs
        while self._fractional(x).any():
            j = self._branch_column(x)
            for value in (math.ceil(x[j]), math.floor(x[j])):
                lo, up = lower.copy(), upper.copy()
                lo[j] = up[j] = value
                result = self._solve(lo, up)
                if result is None:  # out of time
                    return
                if result[1] is not None:  # feasible: go on from here
                    break
            else:
                return  # both sides infeasible
            lower, upper, x = lo, up, result[1]
        if result is not None:
            self._push(result, lower, upper)  # a leaf

    # ---------------------------------------------------------------- nodes
    def _solve(self, lower, upper):
        """(LP value, shipment values, row version) of a node; None when out of time."""
        remaining = self._deadline - time.perf_counter()
        if remaining <= 0:
            return None
        status, value, x = self.lp.solve(self.cols, lower, upper, remaining)
        self.nodes += 1
        if status == Status.INFEASIBLE:
            return -math.inf, None, self.version
        if status != Status.OPTIMAL:
            return None
        return value, x, self.version

    def _open(self, value: float, x) -> bool:
        """A node worth branching: fractional and above what is known."""
        if x is None or value <= max(self.floor, self.best_leaf):
            return False
        return bool(self._fractional(x).any())

    def _push(self, result, lower, upper) -> None:
        value, x, version = result
        if x is None or value <= self.best_leaf:
            return
        if not self._fractional(x).any():
            self.best_leaf, self.best_counts = value, np.round(x)
            return
        if value <= self.floor:
            return
        heapq.heappush(self.heap, (-value, self._next_tie(), version, lower, upper, x))

    def _branch_column(self, x) -> int:
        """Most fractional container; else the most fractional lane flag."""
        frac = np.abs(x - np.round(x))
        if self._fractional(x[self.first]).any():
            return int(np.argmax(np.where(self.first, frac, 0.0)))
        return int(np.argmax(frac))

    def _next_tie(self) -> int:
        self._tie += 1
        return self._tie

    def _fractional(self, x: np.ndarray) -> np.ndarray:
        """Which shipment counts are not whole."""
        return np.abs(x - np.round(x)) > self.tolerance

    def _result(self, start: float, *, proven: bool) -> ContainerBound:
        open_best = -self.heap[0][0] if self.heap else -math.inf
        bound = max(open_best, self.best_leaf, self.floor)
        return ContainerBound(None if bound == -math.inf else bound, proven, self.nodes,
                              time.perf_counter() - start, self.best_counts, self.cuts)
