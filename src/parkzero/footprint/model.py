"""The product system of a footprint study: products, unit processes, exchanges and background factors.

Plain frozen dataclasses. Each class checks what it can see on its own when it is built (a product without a
declared unit, a process with co-products and no allocation, allocation factors that do not sum to 1);
`System` checks the whole: every technosphere flow is made by exactly one process, every product is made by
exactly one process, and the unit of every exchange converts to the unit of what it uses. A `System` that was
built is valid; the engine (`parkzero.footprint.engine`) turns it into matrices without asking again.

Units convert within their dimension only (g, kg, t; Wh, kWh, MWh, GWh, MJ, GJ; L, m3 ...), by the small
table `UNITS`, spelled as `parkzero.units` spells them. A unit the table does not know matches only itself,
so ``"pallet"`` works for a product declared per pallet and used per pallet.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from parkzero.errors import Issue, ValidationFailed

# spelling -> (dimension, factor to the dimension's base unit): 1 t = 1000 kg
UNITS: dict[str, tuple[str, float]] = {
    "g": ("mass", 1e-3),
    "kg": ("mass", 1.0),
    "t": ("mass", 1e3),
    "Wh": ("energy", 1e-3),
    "kWh": ("energy", 1.0),
    "MWh": ("energy", 1e3),
    "GWh": ("energy", 1e6),
    "MJ": ("energy", 1 / 3.6),
    "GJ": ("energy", 1e3 / 3.6),
    "L": ("volume", 1e-3),
    "m3": ("volume", 1.0),
    "Nm3": ("gas_volume", 1.0),
    "m2": ("area", 1.0),
    "km": ("distance", 1.0),
    "tkm": ("transport", 1.0),
    "piece": ("count", 1.0),
}
ALLOCATION_METHODS = ("physical", "mass", "economic", "system_expansion")
ALLOCATION_TOLERANCE = 1e-9


def unit_factor(unit: str, target: str) -> float | None:
    """Factor turning an amount in `unit` into `target` [target per unit]; None if they measure different things.

    >>> unit_factor("t", "kg")
    1000.0
    """
    if unit == target:
        return 1.0
    a, b = UNITS.get(unit), UNITS.get(target)
    if a is None or b is None or a[0] != b[0]:
        return None
    return a[1] / b[1]


def is_mass(unit: str) -> bool:
    return UNITS.get(unit, ("", 0.0))[0] == "mass"


def _blank(text: object) -> bool:
    return not isinstance(text, str) or not text.strip()


def _finite(value: object) -> bool:
    return isinstance(value, numbers.Real) and math.isfinite(value)


@dataclass(frozen=True)
class Product:
    """A product of the system, measured per its declared unit.

    Parameters
    ----------
    code : str
        Identifier, used as the flow of the exchanges that consume it.
    name : str
        Human name, e.g. "hot-rolled coil".
    declared_unit : str
        The unit every footprint of the product is per, such as "kg", "t", "kWh", "piece" or "m2".
    """

    code: str
    name: str
    declared_unit: str

    def __post_init__(self) -> None:
        if _blank(self.code):
            raise ValidationFailed(f"product {self.name!r}: code is missing")
        if _blank(self.declared_unit):
            raise ValidationFailed(
                f"product {self.code!r} ({self.name}): declared_unit is missing; give the unit its footprint is "
                "per, such as kg, t, kWh, piece or m2"
            )


@dataclass(frozen=True)
class Exchange:
    """An input of a process.

    Parameters
    ----------
    flow : str
        Code of a product of the system (technosphere) or of a `SecondaryFactor`.
    amount : float
        Amount per run of the process [`unit`], ≥ 0.
    unit : str
        Unit of `amount`; must convert to the declared unit of the product or to the unit of the factor.
    uncertainty : float, optional
        Geometric standard deviation of a lognormal amount whose median is `amount` [-], ≥ 1.
    """

    flow: str
    amount: float
    unit: str
    uncertainty: float | None = None


@dataclass(frozen=True)
class SecondaryFactor:
    """Background data: the footprint of a flow bought from outside the system.

    Parameters
    ----------
    code : str
        Flow code the exchanges use, e.g. "hrc-worldsteel".
    kgco2e_per_unit : float
        Cradle-to-gate footprint [kgCO2e per `unit`].
    unit : str
        The activity unit the factor is per, e.g. "kg" for a factor in kgCO2e/kg.
    source : str
        Where it comes from, e.g. "worldsteel 2023" or "supplier:XYZ" for a supplier's own footprint.
    year : int
        Reference year of the data.
    version : str
        Version of the dataset or of the supplier's declaration.
    primary : bool
        True for a supplier's primary-data product footprint (ISO 14067 §6.3.5), False for secondary data.
    """

    code: str
    kgco2e_per_unit: float
    unit: str
    source: str
    year: int
    version: str
    primary: bool = False

    def __post_init__(self) -> None:
        if _blank(self.code):
            raise ValidationFailed(f"secondary factor from {self.source!r}: code is missing")
        if not _finite(self.kgco2e_per_unit):
            raise ValidationFailed(f"secondary factor {self.code!r}: kgco2e_per_unit must be a finite number")
        if _blank(self.unit) or "/" in self.unit:
            raise ValidationFailed(
                f"secondary factor {self.code!r}: unit {self.unit!r} must be the activity unit, e.g. 'kg' for "
                "a factor in kgCO2e/kg"
            )

    @property
    def supplier(self) -> str | None:
        """The supplier named by a source "supplier:XYZ", else None."""
        return self.source.split(":", 1)[1].strip() if self.source.startswith("supplier:") else None


@dataclass(frozen=True)
class EnergyInput:
    """Electricity of a metered channel used by a process.

    Parameters
    ----------
    channel : str
        The tenant's measured channel, e.g. "steel.f03".
    amount_kwh : float
        Electricity per run of the process [kWh], from the meter data; ≥ 0.
    kgco2e_per_kwh : float
        Emission factor of that electricity [kgCO2e/kWh] (grid, residual mix or contracted supply).
    source : str
        Where the factor comes from.
    """

    channel: str
    amount_kwh: float
    kgco2e_per_kwh: float
    source: str


@dataclass(frozen=True)
class Process:
    """A unit process: one production line making one product, or several co-products.

    Parameters
    ----------
    code, name : str
        Identifier and human name.
    outputs : dict[str, float]
        Product code -> amount made per run [declared unit of the product], > 0.
    inputs : sequence of Exchange
        Technosphere and secondary inputs per run.
    energy : sequence of EnergyInput
        Metered electricity per run.
    direct_kgco2e : float
        Facility emissions allocated to this process per run (combustion, process emissions) [kgCO2e].
    allocation : str, optional
        How the burden is shared between co-products (ISO 14067 §6.4.6): "physical" (`allocation_factors`),
        "mass" (outputs in mass units), "economic" (output x `prices`) or "system_expansion" (`substitutions`).
        Required when there are several outputs.
    allocation_factors : dict[str, float], optional
        Co-product -> share of the burden from a physical relationship [-]; sums to 1.
    substitutions : dict[str, str], optional
        Co-product -> the product of the system or secondary factor it displaces, one for one in converted
        units. The one output without a substitution is the reference product and carries the whole burden,
        less a credit of the displaced footprint for each co-product.
    prices : dict[str, float], optional
        Co-product -> price [any currency per declared unit], ≥ 0, for economic allocation.
    """

    code: str
    name: str
    outputs: Mapping[str, float]
    inputs: Sequence[Exchange] = ()
    energy: Sequence[EnergyInput] = ()
    direct_kgco2e: float = 0.0
    allocation: str | None = None
    allocation_factors: Mapping[str, float] | None = None
    substitutions: Mapping[str, str] | None = None
    prices: Mapping[str, float] | None = None

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            issues = [Issue(p) for p in problems] if len(problems) > 1 else None
            raise ValidationFailed(f"process {self.code!r}: {problems[0]}", issues=issues)

    def _problems(self) -> list[str]:
        out = self.outputs
        if _blank(self.code):
            return [f"process {self.name!r} has no code"]
        if not out:
            return ["outputs is empty; a process makes at least one product"]
        problems = [f"output {p!r} amount {a!r} must be a finite number > 0" for p, a in out.items() if not _pos(a)]
        if not _finite(self.direct_kgco2e):
            problems.append("direct_kgco2e must be a finite number")
        for e in self.energy:
            if not (_finite(e.amount_kwh) and e.amount_kwh >= 0 and _finite(e.kgco2e_per_kwh)):
                problems.append(f"energy of channel {e.channel!r}: amount_kwh ≥ 0 and kgco2e_per_kwh must be finite")
        if self.allocation is None:
            if len(out) > 1:
                problems.append(
                    f"co-products {', '.join(out)} and no allocation; set allocation to one of "
                    f"{', '.join(ALLOCATION_METHODS)}"
                )
        elif self.allocation not in ALLOCATION_METHODS:
            problems.append(f"allocation {self.allocation!r} is unknown; known: {', '.join(ALLOCATION_METHODS)}")
        elif len(out) > 1 and self.allocation not in self.methods_with_data() and self.allocation != "mass":
            field_name = {"physical": "allocation_factors", "economic": "prices", "system_expansion": "substitutions"}
            problems.append(f"allocation {self.allocation!r} needs {field_name[self.allocation]}")
        problems += self._factor_problems() + self._price_problems() + self._substitution_problems()
        return problems

    def _factor_problems(self) -> list[str]:
        factors = self.allocation_factors
        if factors is None:
            return []
        if set(factors) != set(self.outputs):
            return [f"allocation_factors name {sorted(factors)} but the outputs are {sorted(self.outputs)}"]
        if not all(_finite(v) and v >= 0 for v in factors.values()):
            return ["allocation_factors must be finite numbers ≥ 0"]
        total = math.fsum(factors.values())
        if abs(total - 1.0) > ALLOCATION_TOLERANCE:
            return [f"allocation_factors sum to {total!r}, not 1 (tolerance {ALLOCATION_TOLERANCE:g})"]
        return []

    def _price_problems(self) -> list[str]:
        prices = self.prices
        if prices is None:
            return []
        if set(prices) != set(self.outputs):
            return [f"prices name {sorted(prices)} but the outputs are {sorted(self.outputs)}"]
        if not all(_finite(v) and v >= 0 for v in prices.values()):
            return ["prices must be finite numbers ≥ 0"]
        if not sum(prices[p] * a for p, a in self.outputs.items()) > 0:
            return ["prices give the outputs no value; economic allocation needs a value > 0"]
        return []

    def _substitution_problems(self) -> list[str]:
        subs = self.substitutions
        if subs is None:
            return []
        extra = sorted(set(subs) - set(self.outputs))
        if extra:
            return [f"substitutions name {extra}, which are not outputs"]
        if len(self.outputs) - len(subs) != 1:
            return ["substitutions must leave exactly one output (the reference product) without a substitution"]
        same = [c for c, d in subs.items() if c == d]
        return [f"co-product {c!r} cannot displace itself" for c in same]

    def methods_with_data(self) -> list[str]:
        """Allocation methods whose data this process carries ("mass" is decided by the `System`)."""
        given = {
            "physical": self.allocation_factors,
            "economic": self.prices,
            "system_expansion": self.substitutions,
        }
        return [m for m, data in given.items() if data is not None]

    @property
    def reference_product(self) -> str:
        """The output that carries the burden under system expansion (or the only output)."""
        subs = self.substitutions or {}
        return next(p for p in self.outputs if p not in subs)


def _pos(value: object) -> bool:
    return _finite(value) and value > 0


@dataclass(frozen=True)
class ExchangeTable:
    """The inputs of a `System` resolved into arrays, one row per exchange (built by `System`).

    `flow` is a product index where `is_product`, else an index into `System.secondary`; `amount` is in the
    declared unit of the product or the unit of the factor [that unit per process run]; `gsd` is 1 where the
    amount is certain.
    """

    process: np.ndarray
    flow: np.ndarray
    is_product: np.ndarray
    amount: np.ndarray
    gsd: np.ndarray


@dataclass(frozen=True)
class System:
    """A product system: its products, the processes that make them and the background factors they use.

    Parameters
    ----------
    products : sequence of Product
        Every product is made by exactly one process.
    processes : sequence of Process
        Cycles between them are allowed (scrap returning to the furnace).
    secondary : sequence of SecondaryFactor
        Background data for the flows the system buys.

    Raises
    ------
    ValidationFailed
        Naming the process, flow, product and field of every problem found (duplicate codes, a flow made by
        no process, a product made by no process or by several, a unit that does not convert, a co-product
        process whose allocation data does not fit).
    """

    products: Sequence[Product]
    processes: Sequence[Process]
    secondary: Sequence[SecondaryFactor] = ()
    product_index: dict[str, int] = field(init=False, repr=False, compare=False)
    secondary_index: dict[str, int] = field(init=False, repr=False, compare=False)
    producer: np.ndarray = field(init=False, repr=False, compare=False)
    exchanges: ExchangeTable = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        issues: list[Issue] = []
        product_index = _index("product", [p.code for p in self.products], issues)
        secondary_index = _index("secondary factor", [s.code for s in self.secondary], issues)
        _index("process", [p.code for p in self.processes], issues)
        for code in sorted(set(product_index) & set(secondary_index)):
            issues.append(Issue(f"{code!r} is both a product and a secondary factor; a flow must be one of them"))
        producer = np.full(len(self.products), -1)
        for k, proc in enumerate(self.processes):
            for code in proc.outputs:
                j = product_index.get(code)
                if j is None:
                    issues.append(Issue(f"process {proc.code!r} makes {code!r}, which is not a product of the system"))
                elif producer[j] >= 0:
                    first = self.processes[producer[j]].code
                    issues.append(Issue(f"product {code!r} is made by both process {first!r} and {proc.code!r}"))
                else:
                    producer[j] = k
        for j in np.flatnonzero(producer < 0):
            issues.append(Issue(f"product {self.products[j].code!r} is made by no process", column="outputs"))
        if issues:
            raise ValidationFailed(f"the product system is not valid: {issues[0].reason}", issues=issues)
        object.__setattr__(self, "product_index", product_index)
        object.__setattr__(self, "secondary_index", secondary_index)
        object.__setattr__(self, "producer", producer)
        object.__setattr__(self, "exchanges", self._resolve(issues))
        self._check_allocation(issues)
        if issues:
            raise ValidationFailed(f"the product system is not valid: {issues[0].reason}", issues=issues)

    def unit_of(self, flow: str) -> str:
        """Declared unit of a product or unit of a secondary factor."""
        if flow in self.product_index:
            return self.products[self.product_index[flow]].declared_unit
        return self.secondary[self.secondary_index[flow]].unit

    def _resolve(self, issues: list[Issue]) -> ExchangeTable:
        """One vectorised pass over all exchanges: flow indices, unit conversions, uncertainty."""
        procs = self.processes
        counts = np.fromiter((len(p.inputs) for p in procs), int, len(procs))
        flat = [e for p in procs for e in p.inputs]
        n = len(flat)
        process = np.repeat(np.arange(len(procs)), counts)
        amount = np.fromiter((e.amount for e in flat), float, n)
        gsd = np.fromiter((1.0 if e.uncertainty is None else e.uncertainty for e in flat), float, n)
        n_products = len(self.products)
        # flows: products first, then secondary factors, in one code -> position map
        position = self.product_index | {c: n_products + i for c, i in self.secondary_index.items()}
        where = np.fromiter((position.get(e.flow, -1) for e in flat), int, n)
        target_units = [p.declared_unit for p in self.products] + [s.unit for s in self.secondary]
        # unit conversions, computed once per distinct (unit, target unit) pair
        pairs: dict[tuple[str, str], float] = {}
        conv = np.fromiter(
            (_conversion(pairs, e.unit, w, target_units) for e, w in zip(flat, where.tolist(), strict=True)), float, n
        )
        bad = ~np.isfinite(amount) | (amount < 0) | ~np.isfinite(gsd) | (gsd < 1)
        for i in np.flatnonzero(bad | (where < 0) | np.isnan(conv)):
            e, proc = flat[i], procs[process[i]].code
            if where[i] < 0:
                issues.append(
                    Issue(
                        f"process {proc!r}: input flow {e.flow!r} is made by no process and has no secondary factor",
                        column="flow",
                        value=str(e.flow),
                    )
                )
            elif bad[i]:
                issues.append(
                    Issue(
                        f"process {proc!r}: input {e.flow!r} needs a finite amount ≥ 0 and uncertainty (GSD) ≥ 1",
                        column="amount",
                        value=f"{e.amount!r}, GSD {e.uncertainty!r}",
                    )
                )
            else:
                kind = "product" if where[i] < n_products else "secondary factor"
                issues.append(
                    Issue(
                        f"process {proc!r}: input {e.flow!r} is in {e.unit!r}, which does not convert to "
                        f"{target_units[where[i]]!r}, the unit of {kind} {e.flow!r}",
                        column="unit",
                        value=str(e.unit),
                    )
                )
        is_product = where < n_products
        return ExchangeTable(process, np.where(is_product, where, where - n_products), is_product, amount * conv, gsd)

    def _check_allocation(self, issues: list[Issue]) -> None:
        for proc in self.processes:
            if len(proc.outputs) < 2:
                continue
            if proc.allocation == "mass":
                for code in proc.outputs:
                    unit = self.unit_of(code)
                    if not is_mass(unit):
                        issues.append(
                            Issue(
                                f"process {proc.code!r}: mass allocation needs outputs in mass units, but product "
                                f"{code!r} is declared in {unit!r}",
                                column="allocation",
                            )
                        )
            for co, displaced in (proc.substitutions or {}).items():
                if displaced not in self.product_index and displaced not in self.secondary_index:
                    issues.append(
                        Issue(
                            f"process {proc.code!r}: co-product {co!r} displaces {displaced!r}, which is neither a "
                            "product nor a secondary factor",
                            column="substitutions",
                        )
                    )
                elif unit_factor(self.unit_of(co), self.unit_of(displaced)) is None:
                    issues.append(
                        Issue(
                            f"process {proc.code!r}: co-product {co!r} in {self.unit_of(co)!r} cannot displace "
                            f"{displaced!r} in {self.unit_of(displaced)!r}",
                            column="substitutions",
                        )
                    )


def _index(kind: str, codes: list[str], issues: list[Issue]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, code in enumerate(codes):
        if code in index:
            issues.append(Issue(f"{kind} code {code!r} appears twice"))
        index.setdefault(code, i)
    return index


def _conversion(cache: dict[tuple[str, str], float], unit: str, where: int, targets: list[str]) -> float:
    if where < 0:
        return math.nan
    key = (unit, targets[where])
    found = cache.get(key)
    if found is None:
        factor = unit_factor(*key)
        found = cache[key] = math.nan if factor is None else factor
    return found
