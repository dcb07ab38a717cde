"""Solve linopy models with HiGHS quietly, and re-solve them with new numbers without rebuilding them.

linopy's own direct interface builds the HiGHS instance before it sets any option, so HiGHS prints its banner
on stdout on every solve, which would corrupt a CLI's data output and the MQTT control loop's logs. `compile`
mirrors linopy's construction (`linopy.solvers.Highs._build_model`) with the options set first.

Building a model with linopy costs tenths of a second (xarray arithmetic); a controller that re-plans the same
structure thousands of times (a year of model predictive control) compiles it once and then only changes
costs, variable bounds and constraint right-hand sides (`CompiledModel.set_costs` ...), which HiGHS re-solves
warm from the previous basis.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np


@dataclass
class LpResult:
    """Outcome of one solve: ``optimal`` True only for a proven optimum; `values` per linopy variable name."""

    optimal: bool
    status: str
    objective: float
    values: dict[str, np.ndarray]
    solve_s: float


class CompiledModel:
    """A linopy model loaded into HiGHS once; numbers change in place, the structure never does.

    `cols(name)` / `rows(name)` give the HiGHS column / row positions of a linopy variable / constraint, shaped
    like its labels (-1 where a slot is absent).
    """

    def __init__(self, model):
        import highspy

        self._highspy = highspy
        self.model = model
        h = _quiet_highs(highspy)
        for key, value in (("output_flag", False), ("log_to_console", False)):
            h.setOptionValue(key, value)
        m = model.matrices
        self.n_cols = len(m.vlabels)
        h.addVars(self.n_cols, m.lb, m.ub)
        vtypes = m.vtypes
        integer = np.flatnonzero((vtypes == "B") | (vtypes == "I"))
        if integer.size:
            h.changeColsIntegrality(integer.size, integer.astype(np.int32), np.ones(integer.size, dtype=np.uint8))
        cost = m.c
        h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
        a = m.A
        self.n_rows = 0 if a is None else a.shape[0]
        if a is not None:
            a = a.tocsr()
            lower = np.where(m.sense != "<", m.b, -np.inf)
            upper = np.where(m.sense != ">", m.b, np.inf)
            h.addRows(a.shape[0], lower, upper, a.nnz, a.indptr, a.indices, a.data)
        if model.objective.sense == "max":
            h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.h = h
        self._col_of = _positions(m.vlabels)
        self._row_of = _positions(m.clabels)
        self._sense = {name: model.constraints[name].sign.values for name in model.constraints}
        self.constant = float(model.objective.expression.const)

    def cols(self, name: str) -> np.ndarray:
        labels = self.model.variables[name].labels.values
        return np.where(labels >= 0, self._col_of[np.clip(labels, 0, None)], -1)

    def rows(self, name: str) -> np.ndarray:
        labels = self.model.constraints[name].labels.values
        return np.where(labels >= 0, self._row_of[np.clip(labels, 0, None)], -1)

    def set_costs(self, cols: np.ndarray, costs: np.ndarray) -> None:
        cols, costs = _flat(cols, costs)
        self.h.changeColsCost(cols.size, cols, costs)

    def set_bounds(self, cols: np.ndarray, lower, upper) -> None:
        flat, lower = _flat(cols, lower)
        _, upper = _flat(cols, upper)
        self.h.changeColsBounds(flat.size, flat, lower, upper)

    def set_rhs(self, name: str, rhs: np.ndarray) -> None:
        """Right-hand side of constraint `name` (its sense kept: = sets both bounds, <= upper, >= lower)."""
        rows = self.rows(name)
        sense = np.broadcast_to(self._sense[name], rows.shape)
        keep = rows >= 0
        rows, rhs, sense = (
            rows[keep].astype(np.int32),
            np.broadcast_to(rhs, keep.shape)[keep].astype(float),
            sense[keep],
        )
        lower = np.where(sense != "<=", rhs, -np.inf)
        upper = np.where(sense != ">=", rhs, np.inf)
        self.h.changeRowsBounds(rows.size, rows, lower, upper)

    def solve(self, time_limit_s: float = 60.0, mip_rel_gap: float = 1e-6) -> LpResult:
        started = time.perf_counter()
        self.h.setOptionValue("time_limit", float(time_limit_s))
        self.h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
        self.h.run()
        status = self.h.getModelStatus()
        optimal = status == self._highspy.HighsModelStatus.kOptimal
        values: dict[str, np.ndarray] = {}
        objective = float("nan")
        if optimal:
            col_value = np.asarray(self.h.getSolution().col_value)
            for name in self.model.variables:
                cols = self.cols(name)
                values[name] = np.where(cols >= 0, col_value[np.clip(cols, 0, None)], np.nan)
            objective = float(self.h.getInfo().objective_function_value) + self.constant
        return LpResult(optimal, self.h.modelStatusToString(status), objective, values, time.perf_counter() - started)


def _positions(labels: np.ndarray) -> np.ndarray:
    out = np.full(int(labels.max()) + 1 if len(labels) else 0, -1, dtype=np.int64)
    out[labels] = np.arange(len(labels))
    return out


def _flat(cols: np.ndarray, values) -> tuple[np.ndarray, np.ndarray]:
    cols = np.asarray(cols)
    values = np.broadcast_to(np.asarray(values, dtype=float), cols.shape)
    keep = cols >= 0
    return cols[keep].astype(np.int32), values[keep].astype(float)


def _quiet_highs(highspy):
    """A new HiGHS instance. HiGHS 1.16 prints its banner on stdout when the first instance of a process is made,
    before any option can be set, so that construction runs with file descriptor 1 on the null device."""
    import os
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return h


def solve(model, *, time_limit_s: float = 60.0, mip_rel_gap: float = 1e-6) -> LpResult:
    """Solve `model` (a ``linopy.Model``) once with HiGHS; never prints, never raises on infeasibility."""
    return CompiledModel(model).solve(time_limit_s, mip_rel_gap)
