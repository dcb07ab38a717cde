"""Solve a linopy model with HiGHS quietly and read the solution back as plain arrays.

linopy's own direct interface builds the HiGHS instance before it sets any option, so HiGHS prints its banner
on stdout on every solve, which would corrupt a CLI's data output and the MQTT control loop's logs. This
function mirrors linopy's construction (`linopy.solvers.Highs._build_model`) with the options set first.
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


def solve(model, *, time_limit_s: float = 60.0, mip_rel_gap: float = 1e-6) -> LpResult:
    """Solve `model` (a ``linopy.Model``) with HiGHS; never prints, never raises on infeasibility.

    Parameters
    ----------
    model : linopy.Model
        A linear (mixed-integer) model with an objective.
    time_limit_s : float
        Wall-clock limit [s]; a solve that reaches it is not optimal.
    mip_rel_gap : float
        Relative optimality gap at which a MILP stops [-].
    """
    import highspy

    started = time.perf_counter()
    h = highspy.Highs()
    for key, value in (
        ("output_flag", False),
        ("log_to_console", False),
        ("time_limit", float(time_limit_s)),
        ("mip_rel_gap", float(mip_rel_gap)),
    ):
        h.setOptionValue(key, value)
    matrices = model.matrices
    h.addVars(len(matrices.vlabels), matrices.lb, matrices.ub)
    vtypes = matrices.vtypes
    integer = np.flatnonzero((vtypes == "B") | (vtypes == "I"))
    if integer.size:
        h.changeColsIntegrality(integer.size, integer.astype(np.int32), np.ones(integer.size, dtype=np.uint8))
    cost = matrices.c
    h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
    a = matrices.A
    if a is not None:
        a = a.tocsr()
        lower = np.where(matrices.sense != "<", matrices.b, -np.inf)
        upper = np.where(matrices.sense != ">", matrices.b, np.inf)
        h.addRows(a.shape[0], lower, upper, a.nnz, a.indptr, a.indices, a.data)
    if model.objective.sense == "max":
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    h.run()
    status = h.getModelStatus()
    optimal = status == highspy.HighsModelStatus.kOptimal
    values: dict[str, np.ndarray] = {}
    objective = float("nan")
    if optimal:
        by_label = np.full(int(matrices.vlabels.max()) + 1 if len(matrices.vlabels) else 0, np.nan)
        by_label[matrices.vlabels] = np.asarray(h.getSolution().col_value)
        for name in model.variables:
            labels = model.variables[name].labels.values
            values[name] = np.where(labels >= 0, by_label[np.clip(labels, 0, None)], np.nan)
        objective = float(h.getInfo().objective_function_value) + float(model.objective.expression.const)
    return LpResult(optimal, h.modelStatusToString(status), objective, values, time.perf_counter() - started)
