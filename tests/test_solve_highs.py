"""Interruptible HiGHS runs (optimizer/solve/highs.py): an interrupt stops a run and
leaves the instance usable, and runs of two instances may overlap in one process."""

from __future__ import annotations

import ctypes
import threading
import time

import highspy
import numpy as np
import pytest

from optimizer.solve.highs import new_highs, run_interruptible, set_run_time_limit

pytestmark = pytest.mark.slow   # MIP runs of seconds


def _knapsack(n: int = 60, seed: int = 0) -> highspy.Highs:
    """A small integer knapsack-like model with several constraints (a MIP of some seconds)."""
    rng = np.random.default_rng(seed)
    h = new_highs(1, interruptible=True)
    inf = highspy.kHighsInf
    for value in rng.uniform(1, 10, n):
        h.addVar(0, 1)
        h.changeColCost(h.getNumCol() - 1, -float(value))
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.ones(n, dtype=np.int32))
    for _ in range(8):
        w = rng.uniform(1, 10, n)
        h.addRow(-inf, float(w.sum() / 3), n, np.arange(n, dtype=np.int32), w)
    return h


def test_two_instances_run_at_once():
    done = []

    def work(seed):
        h = _knapsack(seed=seed)
        h.setOptionValue("time_limit", 5.0)
        run_interruptible(h)
        done.append(h.getModelStatus())

    threads = [threading.Thread(target=work, args=(s,)) for s in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(done) == 2


def test_an_interrupt_stops_the_run_and_the_instance_runs_again():
    h = _knapsack(n=120, seed=3)
    h.setOptionValue("time_limit", 60.0)
    h.setOptionValue("mip_rel_gap", 0.0)
    caught = []

    def work():
        try:
            run_interruptible(h)
        except KeyboardInterrupt:
            caught.append(time.perf_counter())

    t = threading.Thread(target=work)
    t.start()
    time.sleep(0.5)
    asked = time.perf_counter()
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(t.ident), ctypes.py_object(KeyboardInterrupt))
    t.join(30)
    assert caught and caught[0] - asked < 5
    h.setOptionValue("time_limit", h.getRunTime() + 1.0)
    run_interruptible(h)      # no "already running", and not stopped by the old request
    assert h.getModelStatus() != highspy.HighsModelStatus.kInterrupt


def test_every_run_gets_its_own_time_limit_lp_and_mip():
    """HiGHS stops an LP on the model's run clock (which adds up runs) and a MIP on its own
    solve's clock; set_run_time_limit gives each run its seconds either way."""
    mip = _knapsack(n=200, seed=3)   # far from solved in a second
    for _ in range(4):
        set_run_time_limit(mip, 0.3, mip=True)
        began = time.perf_counter()
        run_interruptible(mip)
        assert time.perf_counter() - began < 1.5   # an offset by the run clock: 0.3 s more every run
    lp = _knapsack(n=60, seed=4)
    lp.changeColsIntegrality(60, np.arange(60, dtype=np.int32), np.zeros(60, dtype=np.int32))
    for _ in range(200):   # the run clock soon passes the limit: no offset, and the LP stops at once
        set_run_time_limit(lp, 0.02, mip=False)
        lp.clearSolver()
        run_interruptible(lp)
        assert lp.getModelStatus() == highspy.HighsModelStatus.kOptimal
    assert lp.getRunTime() > 0.02
