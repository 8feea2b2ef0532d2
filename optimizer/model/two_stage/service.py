"""Service in every scenario (SPEC §8 rule 6): ``ES_k(A[k]) ≥ β·E_k[D]`` for each pair with
demand in scenario k, i.e. ``A[k] ≥ A_β,k``, the smallest lattice stock meeting it
(:attr:`~optimizer.prep.recourse.ScenarioDemand.service_stock`; the workflow refuses a
target no finite stock meets before the model is built)."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from optimizer.model.family import family
from optimizer.model.linear import combine
from optimizer.model.two_stage.stock import add_scenario_stock
from optimizer.prep.recourse import TwoStage


@family("scenario_service")
def add_scenario_service(m: pyo.ConcreteModel, ts: TwoStage) -> None:
    add_scenario_stock(m, ts)
    d = ts.demand
    existing = ts.stage1.pairs["existing"].reindex(d.pairs).to_numpy(float)
    k_of, j_of = np.nonzero(np.isfinite(d.service_stock) & (d.service_stock > existing))
    target = {(int(k),) + d.pairs[j]: float(d.service_stock[k, j]) for k, j in zip(k_of, j_of)}
    m.scenario_service = pyo.Constraint(
        list(target), rule=lambda m, k, s, w: combine((1, m.scenario_stock[k, s, w])) >= target[(k, s, w)],
        doc="A[k] ≥ A_β,k")
