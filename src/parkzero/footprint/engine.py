"""The footprint engine: a validated `System` as sparse matrices, one LU factorisation, all footprints at once.

The matrices follow bw2calc (Heijungs & Suh): the square technosphere matrix ``A`` [declared unit per run] has
one row per product and one column per (process, product) after allocation, in the order of
`System.products`, so column ``j`` is the process column that makes product ``j``: its output on the
diagonal, its allocated inputs as negative entries. The characterised burden matrix ``Q`` [kgCO2e per run]
plays the part of bw2calc's ``C·B``: one row per burden (a secondary factor, an energy channel, the direct
emissions of a process), one column per process column. Its column sums are the burden vector ``b``.

bw2calc solves ``A x = d`` for one demand at a time and scores ``C B x``. Here the footprint of every product
per declared unit comes from one transposed solve, ``Aᵀ f = b`` (``f_j = bᵀ A⁻¹ e_j``), after one sparse LU
that also serves supplies and contributions. Before factorising, ``A`` is permuted to block upper triangular
form (the strongly connected components of the supply graph, suppliers first, loops ordered greedily
within their component) so that SuperLU keeps its natural order with next to no fill.

Allocation of a process with co-products (ISO 14067 §6.4.6) is a share matrix ``W`` (process x column): each
co-product column takes its share of the process's inputs and burdens, ``A = diag(output) - R W`` and
``Q = B W`` where ``R`` and ``B`` are per process run. Under system expansion the reference product's column
takes the whole process and, for each co-product, a credit: an extra output of the displaced product (a
positive entry, i.e. a negative input) or a negative burden of the displaced secondary factor. The
co-product's own column then stands for what it displaces (one unit of co-product = one unit of the
displaced product), so consuming it inside the system is accounted for consistently.

A system is only used when it is productive: every loop makes more than it needs of its own products. Without
credits ``A`` is a Z-matrix, and ``A x = r`` (``r > 0``) having a solution ``x >= D⁻¹ r`` is an exact test of
that (a nonsingular M-matrix); it costs one solve. With credits the same test runs on the system without them.
A system that fails is refused with the processes of the offending loop named; no number comes out of it.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import SuperLU, splu

from parkzero.errors import Issue, ValidationFailed
from parkzero.footprint.model import ALLOCATION_METHODS, Process, System, is_mass, unit_factor

MAX_CONDITION = 1e12  # beyond this the loop gain is so close to 1 that the results lose most of their digits
PIVOT_THRESHOLD = 0.1  # SuperLU's diag_pivot_thresh: keep the diagonal pivot unless it is 10x smaller


@dataclass(frozen=True)
class Burden:
    """One row of the burden matrix: what emits, and where its factor comes from.

    `kind` is "secondary", "supplier" (a factor from "supplier:XYZ"), "energy" (a metered channel) or "direct"
    (the facility emissions of a process).
    """

    kind: str
    code: str
    source: str
    primary: bool = False


@dataclass(frozen=True)
class Matrices:
    """The system as matrices (see the module docstring); `columns[j]` = (process, product) of column j."""

    columns: tuple[tuple[str, str], ...]
    technosphere: sp.csc_array  # A [declared unit per run]
    burden: sp.csr_array  # Q [kgCO2e per run]
    burdens: tuple[Burden, ...]  # row labels of Q
    b: np.ndarray  # [kgCO2e per run]
    credits: sp.csc_array  # the positive off-diagonal part of A (system expansion), empty without credits

    @property
    def products(self) -> list[str]:
        return [product for _, product in self.columns]

    @cached_property
    def index(self) -> dict[str, int]:
        return {product: j for j, (_, product) in enumerate(self.columns)}


@dataclass(frozen=True)
class Factorised:
    """A productive system's matrices with the LU of its permuted technosphere matrix."""

    matrices: Matrices
    order: np.ndarray  # A[order][:, order] is what `lu` factorised
    lu: SuperLU

    def solve(self, rhs: np.ndarray, transpose: bool = False) -> np.ndarray:
        """Solve ``A x = rhs`` (or ``Aᵀ x = rhs``); `rhs` may have one column per right-hand side."""
        out = np.empty_like(rhs, dtype=float)
        out[self.order] = self.lu.solve(
            np.ascontiguousarray(rhs[self.order], dtype=float), trans="T" if transpose else "N"
        )
        if not np.all(np.isfinite(out)):
            raise ValidationFailed("the solve gave non-finite values; the technosphere matrix is ill-conditioned")
        return out

    def index(self, product: str) -> int:
        """Row and column of `product`."""
        j = self.matrices.index.get(product)
        if j is None:
            raise ValidationFailed(f"product {product!r} is not in the system")
        return j


@dataclass(frozen=True)
class Contribution:
    """One row of a contribution analysis [kgCO2e per declared unit of the product, % of its footprint]."""

    kind: str
    code: str
    source: str
    kgco2e: float
    share_pct: float


@dataclass(frozen=True)
class Distribution:
    """Monte Carlo result of one product [kgCO2e per declared unit]."""

    mean: float
    std: float
    p2_5: float
    p50: float
    p97_5: float


# --- building -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Parts:
    """The pieces ``A = diag(output) - R W + X`` and ``b = Wᵀ β + x_b`` are assembled from."""

    output: np.ndarray  # [declared unit per run of each column]
    shares: sp.csc_array  # W, process x column [-]
    tech_row: np.ndarray  # R's entries: product, process, amount [declared unit per run]
    tech_col: np.ndarray
    tech_amount: np.ndarray
    tech_gsd: np.ndarray
    burden_row: np.ndarray  # B's entries: burden row, process, kgCO2e per run
    burden_col: np.ndarray
    burden_kgco2e: np.ndarray
    burden_gsd: np.ndarray
    burdens: tuple[Burden, ...]
    extra_tech: sp.csc_array  # X: credits and the columns that stand for what a co-product displaces
    extra_burden: sp.csr_array  # the same for displaced secondary factors [kgCO2e per run]
    columns: tuple[tuple[str, str], ...]

    def technosphere(self, tech_amount: np.ndarray | None = None) -> sp.csc_array:
        n = len(self.output)
        values = self.tech_amount if tech_amount is None else tech_amount
        inputs = sp.csc_array((values, (self.tech_row, self.tech_col)), shape=(n, self.shares.shape[0]))
        return (sp.diags_array(self.output, format="csc") - inputs @ self.shares + self.extra_tech).tocsc()

    def burden_vector(self, per_run: np.ndarray | None = None) -> np.ndarray:
        """``b`` [kgCO2e per column run]; `per_run` is β, one column per draw, if given."""
        if per_run is None:
            per_run = np.bincount(self.burden_col, self.burden_kgco2e, minlength=self.shares.shape[0])
        extra = np.asarray(self.extra_burden.sum(axis=0)).ravel()
        out = self.shares.T @ per_run
        return out + (extra[:, None] if out.ndim == 2 else extra)


def allocation_shares(system: System, process: Process, method: str | None) -> dict[str, float]:
    """Share of the process's burden each output's column takes under `method` [-] (system expansion: the
    reference product takes 1, the co-products 0)."""
    outputs = process.outputs
    if len(outputs) == 1:
        return {code: 1.0 for code in outputs}
    if method == "physical":
        return dict(process.allocation_factors)
    if method == "system_expansion":
        return {code: float(code == process.reference_product) for code in outputs}
    if method == "mass":
        weights = {c: a * unit_factor(system.unit_of(c), "kg") for c, a in outputs.items()}
    elif method == "economic":
        weights = {c: a * process.prices[c] for c, a in outputs.items()}
    else:
        raise ValidationFailed(f"process {process.code!r}: co-products {', '.join(outputs)} and no allocation")
    total = math.fsum(weights.values())
    return {c: w / total for c, w in weights.items()}


def applicable_methods(system: System, process: Process) -> list[str]:
    """The allocation methods the data of a co-product process supports."""
    methods = process.methods_with_data()
    if all(is_mass(system.unit_of(c)) for c in process.outputs):
        methods.append("mass")
    return [m for m in ALLOCATION_METHODS if m in methods]


def _parts(system: System) -> _Parts:
    products, index = system.products, system.product_index
    n, n_proc = len(products), len(system.processes)
    table = system.exchanges
    output = np.empty(n)
    share_row, share_col, share_val = [], [], []
    extra_tech: list[tuple[int, int, float]] = []
    extra_burden: list[tuple[int, int, float]] = []
    columns: list[tuple[str, str]] = [("", "")] * n
    secondary_rows = len(system.secondary)
    for k, proc in enumerate(system.processes):
        shares = allocation_shares(system, proc, proc.allocation)
        for code, amount in proc.outputs.items():
            j = index[code]
            columns[j] = (proc.code, code)
            output[j] = amount
            if shares[code]:
                share_row.append(k)
                share_col.append(j)
                share_val.append(shares[code])
        if proc.allocation != "system_expansion" or len(proc.outputs) == 1:
            continue
        ref = index[proc.reference_product]
        for co, displaced in proc.substitutions.items():
            j, ratio = index[co], unit_factor(system.unit_of(co), system.unit_of(displaced))
            output[j] = 1.0  # the co-product's column: one unit of it stands for `ratio` of the displaced
            if displaced in index:
                extra_tech += [(index[displaced], ref, proc.outputs[co] * ratio), (index[displaced], j, -ratio)]
            else:
                factor = system.secondary[system.secondary_index[displaced]]
                per_unit = ratio * factor.kgco2e_per_unit
                extra_burden += [(system.secondary_index[displaced], ref, -proc.outputs[co] * per_unit)]
                extra_burden += [(system.secondary_index[displaced], j, per_unit)]
    # burdens: secondary factors, then energy channels, then the direct emissions of processes
    burdens = [Burden("supplier" if f.supplier else "secondary", f.code, f.source, f.primary) for f in system.secondary]
    sec = ~table.is_product
    factor = np.array([f.kgco2e_per_unit for f in system.secondary], dtype=float)
    rows = [table.flow[sec]]
    cols = [table.process[sec]]
    values = [table.amount[sec] * factor[table.flow[sec]]]
    gsd = [table.gsd[sec]]
    channel_row: dict[tuple[str, str], int] = {}
    e_rows, e_cols, e_vals = [], [], []
    for k, proc in enumerate(system.processes):
        for e in proc.energy:
            key = (e.channel, e.source)
            if key not in channel_row:
                channel_row[key] = secondary_rows + len(channel_row)
                burdens.append(Burden("energy", e.channel, e.source))
            e_rows.append(channel_row[key])
            e_cols.append(k)
            e_vals.append(e.amount_kwh * e.kgco2e_per_kwh)
    direct = np.array([p.direct_kgco2e for p in system.processes], dtype=float)
    emitting = np.flatnonzero(direct)
    burdens += [Burden("direct", system.processes[k].code, "facility") for k in emitting]
    rows += [np.array(e_rows, dtype=int), len(burdens) - len(emitting) + np.arange(len(emitting))]
    cols += [np.array(e_cols, dtype=int), emitting]
    values += [np.array(e_vals, dtype=float), direct[emitting]]
    gsd += [np.ones(len(e_vals)), np.ones(len(emitting))]
    tech = table.is_product
    return _Parts(
        output=output,
        shares=sp.csc_array((share_val, (share_row, share_col)), shape=(n_proc, n)),
        tech_row=table.flow[tech],
        tech_col=table.process[tech],
        tech_amount=table.amount[tech],
        tech_gsd=table.gsd[tech],
        burden_row=np.concatenate(rows),
        burden_col=np.concatenate(cols),
        burden_kgco2e=np.concatenate(values),
        burden_gsd=np.concatenate(gsd),
        burdens=tuple(burdens),
        extra_tech=_coo(extra_tech, (n, n)).tocsc(),
        extra_burden=_coo(extra_burden, (len(burdens), n)).tocsr(),
        columns=tuple(columns),
    )


def _coo(entries: list[tuple[int, int, float]], shape: tuple[int, int]) -> sp.coo_array:
    if not entries:
        return sp.coo_array(shape)
    r, c, v = zip(*entries, strict=True)
    return sp.coo_array((v, (r, c)), shape=shape)


def build(system: System) -> Matrices:
    """The technosphere matrix ``A``, the burden matrix ``Q`` and ``b`` of a validated system."""
    return _matrices(_parts(system))


def _matrices(parts: _Parts) -> Matrices:
    a = parts.technosphere()
    per_run = sp.csr_array(
        (parts.burden_kgco2e, (parts.burden_row, parts.burden_col)), shape=(len(parts.burdens), parts.shares.shape[0])
    )
    burden = (per_run @ parts.shares + parts.extra_burden).tocsr()
    return Matrices(parts.columns, a, burden, parts.burdens, parts.burden_vector(), _credits(a))


def _credits(a: sp.csc_array) -> sp.csc_array:
    coo = a.tocoo()
    keep = (coo.row != coo.col) & (coo.data > 0)
    return sp.csc_array((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=a.shape)


# --- factorising ----------------------------------------------------------------------------------------------


def factorise(system: System) -> Factorised:
    """Build the matrices of `system` and factorise ``A`` once; refuse a singular or non-productive system.

    Raises
    ------
    ValidationFailed
        Naming the processes and products of the loop (strongly connected component) that is singular, needs
        at least as much of its own products as it makes (loop gain ≥ 1), or is so close to that the numbers
        would lose their accuracy.
    """
    return _factorise(build(system))


def _factorise(m: Matrices, order: np.ndarray | None = None) -> Factorised:
    a = m.technosphere
    order = block_triangular_order(a) if order is None else order
    try:
        lu = splu(a[order][:, order].tocsc(), permc_spec="NATURAL", diag_pivot_thresh=PIVOT_THRESHOLD)
    except RuntimeError:  # "Factor is exactly singular"
        _refuse(a, m.columns, "singular")
    fact = Factorised(m, order, lu)
    if m.credits.nnz:  # productivity is a property of the physical system: judged without the credits
        physical = (a - m.credits).tocsc()
        _factorise(replace(m, technosphere=physical, credits=sp.csc_array(a.shape)))
    else:
        _check_productive(fact)
    return fact


def _check_productive(fact: Factorised) -> None:
    """Exact test of a Z-matrix being a nonsingular M-matrix: ``A x = r`` (r > 0) gives ``x >= D⁻¹ r``."""
    a, columns = fact.matrices.technosphere, fact.matrices.columns
    diagonal = a.diagonal()
    if np.any(diagonal <= 0):
        _refuse(a, columns, "not productive")
    r = abs(a).max(axis=1).toarray().ravel()  # row scale: insensitive to the unit of each product
    try:
        runs = fact.solve(r) * diagonal / r  # ≥ 1 for a productive system
    except ValidationFailed:
        _refuse(a, columns, "ill-conditioned")
    if np.any(runs < 1 - 1e-9):
        _refuse(a, columns, "not productive")
    if _condition(a, diagonal, r, runs) > MAX_CONDITION:
        _refuse(a, columns, "ill-conditioned")


def _condition(a: sp.csc_array, diagonal: np.ndarray, r: np.ndarray, runs: np.ndarray) -> float:
    """∞-norm condition number of the scaled M-matrix ``R⁻¹ A D⁻¹``, whose inverse is ≥ 0 with row sums `runs`."""
    scaled = sp.diags_array(1 / r) @ abs(a) @ sp.diags_array(1 / diagonal)
    return float(np.max(scaled.sum(axis=1)) * np.max(runs))


REASONS = {
    "singular": "the system is singular",
    "not productive": "the system is not productive",
    "ill-conditioned": "the system is too close to singular for accurate footprints",
}


def _refuse(a: sp.csc_array, columns: tuple[tuple[str, str], ...], why: str) -> None:
    """Raise ValidationFailed naming the loops (strongly connected components) whose block is at fault.

    ``A`` in block triangular form is singular, or not an M-matrix, exactly when one of its diagonal blocks is.
    """
    n_comp, label = connected_components(_graph(a), directed=True, connection="strong")
    sizes = np.bincount(label, minlength=n_comp)
    diagonal = a.diagonal()
    issues = []
    for comp in range(n_comp):
        members = np.flatnonzero(label == comp)
        productive = why != "singular"  # the productivity of a system with credits is not asked here
        if sizes[comp] == 1 and (diagonal[members[0]] > 0 or (diagonal[members[0]] < 0 and not productive)):
            continue  # a process alone, not in a loop: fine unless it uses all its own product (or more)
        fault = _block_fault(a[members][:, members].tocsc(), productive)
        if fault:
            processes = ", ".join(sorted({columns[j][0] for j in members}))
            products = ", ".join(sorted(columns[j][1] for j in members))
            issues.append(Issue(f"{fault}: process(es) {processes} (product(s) {products})"))
    if not issues:
        issues.append(Issue("no single loop is at fault; the matrix as a whole is ill-conditioned"))
    raise ValidationFailed(f"{REASONS[why]}; {issues[0].reason}", issues=issues if len(issues) > 1 else None)


def _block_fault(block: sp.csc_array, productive: bool) -> str | None:
    """Why one diagonal block (one loop) spoils the system, or None; `productive` also tests its gain."""
    diagonal = block.diagonal()
    if block.shape[0] == 1:
        return "a process consumes all it makes" if diagonal[0] == 0 else "a process consumes more than it makes"
    try:
        lu = splu(block, permc_spec="COLAMD")
    except RuntimeError:
        return "a singular loop (it needs exactly what it makes)"
    if not productive:
        return None
    r = abs(block).max(axis=1).toarray().ravel()
    runs = lu.solve(r) * diagonal / r
    if np.any(diagonal <= 0) or not np.all(np.isfinite(runs)) or np.any(runs < 1 - 1e-9):
        return "a loop with gain ≥ 1 (it needs more of its products than it makes)"
    if _condition(block, diagonal, r, runs) > MAX_CONDITION:
        return "a loop with gain so close to 1 that the footprints would be inaccurate"
    return None


def _graph(a: sp.csc_array) -> sp.csr_array:
    """Supply graph: edge i -> j where column j uses product i (diagonal dropped)."""
    coo = a.tocoo()
    keep = (coo.row != coo.col) & (coo.data != 0)
    return sp.csr_array((np.ones(keep.sum()), (coo.row[keep], coo.col[keep])), shape=a.shape)


def block_triangular_order(a: sp.csc_array) -> np.ndarray:
    """A symmetric permutation making ``A[p][:, p]`` block upper triangular, suppliers before users.

    The blocks are the strongly connected components of the supply graph in topological order (scipy labels
    them in reverse topological order, checked here); within a block the nodes follow a greedy feedback-arc
    order (Eades, Lin & Smyth 1993), so that loops leave few entries below the diagonal.
    """
    g = _graph(a)
    n_comp, label = connected_components(g, directed=True, connection="strong")
    rank = (n_comp - 1 - label).astype(float)
    src, dst = g.nonzero()
    across = label[src] != label[dst]
    if np.any(rank[src[across]] > rank[dst[across]]):  # labels not in reverse topological order: order it all
        return np.argsort(_greedy_order(g), kind="stable")
    sizes = np.bincount(label, minlength=n_comp)
    for comp in np.flatnonzero(sizes > 2):
        members = np.flatnonzero(label == comp)
        within = _greedy_order(g[members][:, members])
        rank[members] += within / len(members)
    return np.argsort(rank, kind="stable")


def _greedy_order(g: sp.csr_array) -> np.ndarray:
    """Position of each node in a greedy order with few backward edges: sources first, sinks last, else the node
    with the most outgoing minus incoming edges (Eades, Lin & Smyth)."""
    n = g.shape[0]
    gt = g.T.tocsr()
    succ = [g.indices[g.indptr[v] : g.indptr[v + 1]].tolist() for v in range(n)]
    pred = [gt.indices[gt.indptr[v] : gt.indptr[v + 1]].tolist() for v in range(n)]
    out_deg, in_deg = np.diff(g.indptr).tolist(), np.diff(gt.indptr).tolist()
    alive = [True] * n
    heap = [(in_deg[v] - out_deg[v], v) for v in range(n)]
    heapq.heapify(heap)
    front, back = [], []
    sources = [v for v in range(n) if in_deg[v] == 0]
    sinks = [v for v in range(n) if out_deg[v] == 0]

    def remove(v: int) -> None:
        alive[v] = False
        for w in succ[v]:
            if alive[w]:
                in_deg[w] -= 1
                heapq.heappush(heap, (in_deg[w] - out_deg[w], w))
                if in_deg[w] == 0:
                    sources.append(w)
        for w in pred[v]:
            if alive[w]:
                out_deg[w] -= 1
                heapq.heappush(heap, (in_deg[w] - out_deg[w], w))
                if out_deg[w] == 0:
                    sinks.append(w)

    left = n
    while left:
        if sinks:
            v = sinks.pop()
            if not alive[v]:
                continue
            back.append(v)
        elif sources:
            v = sources.pop()
            if not alive[v]:
                continue
            front.append(v)
        else:
            key, v = heapq.heappop(heap)
            if not alive[v] or key != in_deg[v] - out_deg[v]:
                continue
            front.append(v)
        remove(v)
        left -= 1
    position = np.empty(n)
    position[np.array(front + back[::-1], dtype=int)] = np.arange(n)
    return position


# --- results --------------------------------------------------------------------------------------------------


def footprints(fact: Factorised) -> dict[str, float]:
    """Footprint of every product [kgCO2e per declared unit], from one transposed solve ``Aᵀ f = b``."""
    f = fact.solve(fact.matrices.b, transpose=True)
    return dict(zip(fact.matrices.products, f.tolist(), strict=True))


def supply(fact: Factorised, product: str, amount: float = 1.0) -> dict[tuple[str, str], float]:
    """Runs of each process column to deliver `amount` of `product` [runs]: ``A x = demand``.

    Keys are (process, product) of the column; columns that do not run are left out.
    """
    demand = np.zeros(len(fact.matrices.columns))
    demand[fact.index(product)] = amount
    x = fact.solve(demand)
    return {fact.matrices.columns[j]: float(x[j]) for j in np.flatnonzero(x)}


def contributions(fact: Factorised, product: str, by: str = "input") -> list[Contribution]:
    """What makes up the footprint of one declared unit of `product`, largest first by magnitude.

    Parameters
    ----------
    by : {"input", "process"}
        "input": one row per secondary factor (kind "secondary" or "supplier"), energy channel and the direct
        emissions of each process; "process": one row per process column of the supply chain.

    The rows sum to the footprint (to rounding); `share_pct` is each row's part of it [%] (credits negative).
    """
    m = fact.matrices
    demand = np.zeros(len(m.columns))
    demand[fact.index(product)] = 1.0
    x = fact.solve(demand)
    if by == "input":
        values = m.burden @ x
        labels = [(b.kind, b.code, b.source) for b in m.burdens]
    elif by == "process":
        values = m.b * x
        labels = [("process", process, code) for process, code in m.columns]
    else:
        raise ValidationFailed(f"contributions by {by!r}: choose 'input' or 'process'")
    total = math.fsum(values.tolist())
    rows = [(labels[i], float(values[i])) for i in np.flatnonzero(values)]
    rows.sort(key=lambda row: (-abs(row[1]), row[0]))
    return [Contribution(*label, v, 100.0 * v / total if total else 0.0) for label, v in rows]


def allocation_sensitivity(system: System, product: str) -> dict[str, dict[str, float]]:
    """The footprint of `product` [kgCO2e per declared unit] under each allocation method the data supports,
    for each co-product process of its supply chain, the others kept as declared.

    Returns ``{process code: {method: footprint}}``; the declared method is among them.
    """
    base = factorise(system)
    chain = {process for process, _ in supply(base, product)}
    out: dict[str, dict[str, float]] = {}
    for k, proc in enumerate(system.processes):
        if len(proc.outputs) < 2 or proc.code not in chain:
            continue
        out[proc.code] = {}
        for method in applicable_methods(system, proc):
            processes = list(system.processes)
            processes[k] = replace(proc, allocation=method)
            try:
                variant = factorise(replace(system, processes=processes))
            except ValidationFailed as exc:
                raise ValidationFailed(f"under {method} allocation of process {proc.code!r}: {exc.detail}") from exc
            out[proc.code][method] = footprints(variant)[product]
    return out


def monte_carlo(system: System, n: int = 1000, seed: int | None = None) -> dict[str, Distribution]:
    """Footprints of every product under lognormal amounts of the exchanges that carry a GSD.

    Each uncertain amount is drawn as ``amount * exp(ln(GSD) z)``, z standard normal (median = the amount).
    Uncertain secondary inputs only change ``b``: all draws are solved at once with the one factorisation.
    Uncertain technosphere inputs change ``A``: each draw is factorised (and checked productive) on its own.

    Returns
    -------
    dict[str, Distribution]
        Per product: mean, std, 2.5th, 50th and 97.5th percentiles [kgCO2e per declared unit].
    """
    if n < 1:
        raise ValidationFailed(f"monte_carlo needs n ≥ 1 draws, not {n}")
    parts = _parts(system)
    base = _factorise(_matrices(parts))
    tech = np.flatnonzero(parts.tech_gsd > 1)
    burden = np.flatnonzero(parts.burden_gsd > 1)
    rng = np.random.default_rng(seed)
    n_proc = parts.shares.shape[0]
    draws = np.empty((n, len(parts.columns)))
    chunk = 256
    for start in range(0, n, chunk):
        k = min(chunk, n - start)
        z = rng.standard_normal((k, len(tech) + len(burden)))
        scale_tech = np.exp(np.log(parts.tech_gsd[tech]) * z[:, : len(tech)])
        scale_burden = np.exp(np.log(parts.burden_gsd[burden]) * z[:, len(tech) :])
        per_run = np.bincount(parts.burden_col, parts.burden_kgco2e, minlength=n_proc)[:, None].repeat(k, axis=1)
        if len(burden):  # β of each draw: the certain part plus the drawn uncertain entries
            delta = parts.burden_kgco2e[burden] * (scale_burden - 1.0)
            per_run += (
                sp.csr_array(
                    (np.ones(len(burden)), (parts.burden_col[burden], np.arange(len(burden)))),
                    shape=(n_proc, len(burden)),
                )
                @ delta.T
            )
        b = parts.burden_vector(per_run)
        if not len(tech):
            draws[start : start + k] = base.solve(b, transpose=True).T
            continue
        for i in range(k):
            amount = parts.tech_amount.copy()
            amount[tech] *= scale_tech[i]
            m = replace(base.matrices, technosphere=parts.technosphere(amount))
            m = replace(m, credits=_credits(m.technosphere))
            try:
                fact = _factorise(m, base.order)  # the same pattern: the same block order
            except ValidationFailed as exc:
                raise ValidationFailed(f"Monte Carlo draw {start + i}: {exc.detail}", issues=exc.issues) from exc
            draws[start + i] = fact.solve(b[:, i], transpose=True)
    p2_5, p50, p97_5 = np.percentile(draws, [2.5, 50.0, 97.5], axis=0)
    mean = draws.mean(axis=0)
    std = draws.std(axis=0, ddof=1) if n > 1 else np.zeros(draws.shape[1])
    return {
        code: Distribution(float(mean[j]), float(std[j]), float(p2_5[j]), float(p50[j]), float(p97_5[j]))
        for j, (_, code) in enumerate(parts.columns)
    }


def dense_footprints(system: System) -> dict[str, float]:
    """The footprints by a dense solve (``numpy.linalg.solve``) of the same matrices: a check of the sparse
    ordering, factorisation and solve on small systems."""
    m = build(system)
    f = np.linalg.solve(m.technosphere.toarray().T, m.b)
    return dict(zip(m.products, f.tolist(), strict=True))


__all__ = [
    "Burden",
    "Contribution",
    "Distribution",
    "Factorised",
    "Matrices",
    "allocation_sensitivity",
    "applicable_methods",
    "build",
    "contributions",
    "dense_footprints",
    "factorise",
    "footprints",
    "monte_carlo",
    "supply",
]
