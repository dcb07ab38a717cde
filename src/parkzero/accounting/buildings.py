"""Building and data-centre carbon: GB/T 51366 operation-stage emissions, PUE, CUE and WUE.

Pure functions first (plain floats in, a small frozen result out, with the formula and its numbers as text for
the audit trace), then the services that read a year of a building's or a data centre's channels from the daily
rollups, scoped by the caller's `Scope`.

Building operation (GB/T 51366-2019 §4.1)::

    C_M = [Σ_i (E_i × EF_i) − C_p] × y / A        E_i = Σ_j (E_ij − ER_ij)

C_M emissions per m² of floor area over y years [kgCO2/m²], E_i the building's yearly use of energy carrier i,
ER_ij what on-site renewable systems supply of it (on-site PV is subtracted from electricity), EF_i the carrier's
emission factor, C_p the yearly uptake of the building's green space [kgCO2/yr], y the years [yr], A the floor
area [m²].

Data centre: PUE = facility energy / IT energy (ISO/IEC 30134-2); CUE = CO2 of the facility energy / IT energy
[kgCO2/kWh] (The Green Grid); WUE = site water / IT energy [L/kWh] (ISO/IEC 30134-9, The Green Grid).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources

from parkzero.errors import Issue, NotFound, ValidationFailed
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store


@dataclass(frozen=True)
class Carrier:
    """An energy carrier of GB/T 51366: its canonical unit and the unit its emission factor is given in."""

    name: str
    unit: str  # canonical unit of the amount (parkzero.units)
    factor_unit: str
    t_per_unit_factor: float  # tCO2 = amount [unit] x factor [factor_unit] x t_per_unit_factor


CARRIERS: dict[str, Carrier] = {
    c.name: c
    for c in (
        Carrier("electricity", "kWh", "tCO2/MWh", 1e-3),
        Carrier("gas", "Nm3", "tCO2/10^4 Nm3", 1e-4),
        Carrier("heat", "GJ", "tCO2/GJ", 1.0),
        Carrier("steam", "t", "tCO2/t", 1.0),
    )
}
# channel quantity kind -> carrier
CARRIER_OF_KIND = {"active_energy": "electricity", "gas_volume": "gas", "heat": "heat", "steam_mass": "steam"}
# top-level channels with these purposes measure what a building uses (EV charging is transport, not building
# operation: GB/T 51366 §4 covers HVAC, hot water, lighting and lifts)
USE_PURPOSES = ("load", "gas", "heat", "steam")
BASIS = "GB/T 51366-2019 §4.1"


def _n(x: float) -> str:
    """A number for the audit trace: up to 10 significant digits, no exponent for ordinary magnitudes."""
    return f"{x:.10g}"


def _finite(name: str, value: float, *, positive: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{name} must be a number (got {value!r})") from None
    if not math.isfinite(v) or v < 0 or (positive and v == 0):
        need = "a positive number" if positive else "a number >= 0"
        raise ValidationFailed(
            f"{name} must be {need} (got {value!r})", issues=[Issue(f"{name} must be {need}", value=str(value))]
        )
    return v


# -- building operation (GB/T 51366) ---------------------------------------------------------------
@dataclass(frozen=True)
class CarrierLine:
    """One carrier's share of a building's operation emissions."""

    carrier: str
    gross: float  # E_ij summed over systems [unit]
    renewable: float  # ER subtracted [unit] (electricity only: on-site generation used by the building)
    net: float  # E_i [unit]
    unit: str
    factor: float  # EF_i [factor_unit]
    factor_unit: str
    tco2_per_yr: float  # E_i x EF_i [tCO2/yr]


@dataclass(frozen=True)
class BuildingEmissions:
    """Operation-stage emissions of one building (GB/T 51366-2019 §4.1)."""

    floor_area_m2: float
    years: float
    lines: tuple[CarrierLine, ...]
    green_sink_kgco2: float  # C_p [kgCO2/yr]
    renewable_surplus_kwh: float  # on-site generation beyond the building's electricity use, not credited
    tco2_per_yr: float  # Σ E_i EF_i − C_p [tCO2/yr]
    tco2: float  # over `years` [tCO2]
    kgco2_per_m2: float  # C_M over `years` [kgCO2/m²]
    kgco2_per_m2_yr: float  # C_M / y [kgCO2/(m²·yr)]
    formula: str
    basis: str = BASIS

    def by_carrier(self) -> dict[str, float]:
        """tCO2 per year by carrier."""
        return {line.carrier: line.tco2_per_yr for line in self.lines}


def building_operation_emissions(
    energy_by_carrier: Mapping[str, float],
    factors_by_carrier: Mapping[str, float],
    floor_area_m2: float,
    years: float = 1.0,
    onsite_renewable_kwh: float = 0.0,
    green_sink_kgco2: float = 0.0,
) -> BuildingEmissions:
    """Operation-stage emissions of a building per GB/T 51366-2019 §4.1.

    C_M = [Σ_i (E_i × EF_i) − C_p] × y / A, with E_i = Σ_j (E_ij − ER_ij): on-site renewable generation is
    subtracted from the building's electricity. Generation beyond the building's electricity use leaves the
    building and is not credited (it is reported as ``renewable_surplus_kwh``); electricity never goes below zero.

    Parameters
    ----------
    energy_by_carrier : mapping of str to float
        Yearly use by carrier, summed over the building's systems, in canonical units: ``electricity`` [kWh],
        ``gas`` [Nm3], ``heat`` [GJ], ``steam`` [t].
    factors_by_carrier : mapping of str to float
        Emission factors EF_i: ``electricity`` [tCO2/MWh], ``gas`` [tCO2/10^4 Nm3], ``heat`` [tCO2/GJ],
        ``steam`` [tCO2/t]. A carrier with use needs a factor.
    floor_area_m2 : float
        Floor area A [m²], > 0.
    years : float, default 1.0
        Years y the yearly emissions are counted over [yr] (1 for one year's intensity; the design life for a
        life-cycle figure), > 0.
    onsite_renewable_kwh : float, default 0.0
        Yearly on-site renewable electricity supplied to the building, ER [kWh], >= 0.
    green_sink_kgco2 : float, default 0.0
        Yearly CO2 uptake of the building's green space, C_p [kgCO2/yr], >= 0.

    Returns
    -------
    BuildingEmissions
        ``tco2_per_yr`` [tCO2/yr], ``tco2`` over `years` [tCO2], ``kgco2_per_m2`` (C_M) [kgCO2/m²],
        ``kgco2_per_m2_yr`` [kgCO2/(m²·yr)], the lines per carrier and the formula with its numbers.

    Raises
    ------
    ValidationFailed
        Unknown carrier, a negative or non-finite amount, no factor for a carrier in use, floor area or years
        not positive.
    """
    area = _finite("floor area (floor_area_m2)", floor_area_m2, positive=True)
    y = _finite("years", years, positive=True)
    renewable = _finite("on-site renewable electricity (onsite_renewable_kwh)", onsite_renewable_kwh)
    sink = _finite("green-space carbon sink (green_sink_kgco2)", green_sink_kgco2)
    for name in (*energy_by_carrier, *factors_by_carrier):
        if name not in CARRIERS:
            raise ValidationFailed(f"unknown energy carrier {name!r}; carriers: {', '.join(CARRIERS)}")
    energy = {k: _finite(f"{k} use", v) for k, v in energy_by_carrier.items()}
    factors = {k: _finite(f"{k} emission factor", v) for k, v in factors_by_carrier.items()}
    if renewable > 0 and "electricity" not in energy:
        energy["electricity"] = 0.0

    lines: list[CarrierLine] = []
    surplus = 0.0
    for name, carrier in CARRIERS.items():
        if name not in energy:
            continue
        gross = energy[name]
        used_renewable = 0.0
        if name == "electricity":
            used_renewable = min(renewable, gross)
            surplus = renewable - used_renewable
        net = gross - used_renewable
        if net > 0 and name not in factors:
            raise ValidationFailed(
                f"no emission factor for {name} ({_n(net)} {carrier.unit} used); give it in {carrier.factor_unit}",
                issues=[Issue(f"missing factor for {name}", column=name)],
            )
        factor = factors.get(name, 0.0)
        lines.append(
            CarrierLine(
                name,
                gross,
                used_renewable,
                net,
                carrier.unit,
                factor,
                carrier.factor_unit,
                net * factor * carrier.t_per_unit_factor,
            )
        )

    per_yr_t = sum(line.tco2_per_yr for line in lines) - sink / 1000.0
    total_t = per_yr_t * y
    c_m = per_yr_t * 1000.0 * y / area
    terms = "; ".join(
        f"{line.carrier}: E = {_n(line.gross)} − {_n(line.renewable)} = {_n(line.net)} {line.unit}"
        f" × {_n(line.factor)} {line.factor_unit} = {_n(line.tco2_per_yr)} tCO2/yr"
        if line.renewable
        else f"{line.carrier}: {_n(line.net)} {line.unit} × {_n(line.factor)} {line.factor_unit}"
        f" = {_n(line.tco2_per_yr)} tCO2/yr"
        for line in lines
    )
    sum_t = " + ".join(_n(line.tco2_per_yr) for line in lines) or "0"
    formula = (
        f"{BASIS}: C_M = [Σ_i(E_i × EF_i) − C_p] × y / A, E_i = Σ_j(E_ij − ER_ij). {terms or 'no energy use'}."
        f" C_M = [({sum_t}) tCO2/yr × 1000 kgCO2/t − {_n(sink)} kgCO2/yr] × {_n(y)} yr / {_n(area)} m²"
        f" = {_n(c_m)} kgCO2/m² ({_n(c_m / y)} kgCO2/(m²·yr); {_n(total_t)} tCO2 over {_n(y)} yr)"
    )
    if surplus > 0:
        formula += f". On-site generation beyond the building's electricity use ({_n(surplus)} kWh) is not credited"
    return BuildingEmissions(
        floor_area_m2=area,
        years=y,
        lines=tuple(lines),
        green_sink_kgco2=sink,
        renewable_surplus_kwh=surplus,
        tco2_per_yr=per_yr_t,
        tco2=total_t,
        kgco2_per_m2=c_m,
        kgco2_per_m2_yr=c_m / y,
        formula=formula,
    )


# -- data-centre metrics ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DataCentreMetrics:
    """PUE, CUE and WUE of a data centre over one period."""

    facility_kwh: float
    it_kwh: float
    co2_t: float
    water_m3: float | None
    pue: float  # [-]
    cue_kgco2_per_kwh: float  # [kgCO2/kWh IT]
    wue_l_per_kwh: float | None  # [L/kWh IT]; None without a water figure
    formula: str


def datacentre_metrics(
    facility_kwh: float, it_kwh: float, co2_t: float, water_m3: float | None = None
) -> DataCentreMetrics:
    """PUE, CUE and WUE of a data centre from its energy, CO2 and water over the same period.

    PUE = facility energy / IT energy (ISO/IEC 30134-2); CUE = CO2 of the facility energy / IT energy
    (The Green Grid); WUE = site water / IT energy (ISO/IEC 30134-9, The Green Grid).

    Parameters
    ----------
    facility_kwh : float
        Total energy of the data centre (its incoming supply) [kWh], >= `it_kwh`.
    it_kwh : float
        Energy of the IT equipment (UPS output or PDUs) [kWh], > 0.
    co2_t : float
        CO2 emitted for the facility energy [tCO2], >= 0.
    water_m3 : float or None, default None
        Site water use (cooling-tower make-up, humidification) [m3], >= 0; None when not metered.

    Returns
    -------
    DataCentreMetrics
        ``pue`` [-], ``cue_kgco2_per_kwh`` [kgCO2/kWh], ``wue_l_per_kwh`` [L/kWh] (None without water) and the
        formulas with their numbers.

    Raises
    ------
    ValidationFailed
        IT energy not positive, facility energy below IT energy, or a negative or non-finite figure.
    """
    it = _finite("IT energy (it_kwh)", it_kwh)
    if it <= 0:
        raise ValidationFailed(
            f"IT energy (it_kwh) must be positive to compute PUE, CUE and WUE (got {_n(it)} kWh)",
            issues=[Issue("IT energy must be > 0", column="it_kwh", value=str(it_kwh))],
        )
    facility = _finite("facility energy (facility_kwh)", facility_kwh)
    if facility < it:
        raise ValidationFailed(
            f"facility energy (facility_kwh = {_n(facility)} kWh) is less than IT energy (it_kwh = {_n(it)} kWh);"
            " PUE would be below 1: check which channels measure the incoming supply and the IT load",
            issues=[Issue("facility energy < IT energy", column="facility_kwh", value=str(facility_kwh))],
        )
    co2 = _finite("CO2 (co2_t)", co2_t)
    water = None if water_m3 is None else _finite("water (water_m3)", water_m3)
    pue = facility / it
    cue = co2 * 1000.0 / it
    wue = None if water is None else water * 1000.0 / it
    formula = (
        f"PUE = {_n(facility)} kWh / {_n(it)} kWh = {_n(pue)} (ISO/IEC 30134-2); "
        f"CUE = {_n(co2)} tCO2 × 1000 kg/t / {_n(it)} kWh = {_n(cue)} kgCO2/kWh (The Green Grid); "
        + (
            f"WUE = {_n(water)} m3 × 1000 L/m3 / {_n(it)} kWh = {_n(wue)} L/kWh (ISO/IEC 30134-9)"
            if water is not None and wue is not None
            else "WUE not computed (no water figure)"
        )
    )
    return DataCentreMetrics(facility, it, co2, water, pue, cue, wue, formula)


# -- thresholds --------------------------------------------------------------------------------------
METRICS = ("pue", "cue", "wue")
_COMPARE = {"le": lambda v, lim: v <= lim, "lt": lambda v, lim: v < lim}


@dataclass(frozen=True)
class Threshold:
    """One cited efficiency threshold (see ``accounting/data/dc_thresholds.toml``)."""

    code: str
    metric: str  # pue, cue or wue
    limit: float
    comparison: str  # "le" or "lt": the value passes when value <= / < limit
    applies_to: str  # new, existing or all
    kind: str  # limit, target or criterion
    scope: str
    document: str
    issuer: str
    year: int
    document_zh: str | None = None
    read_at: str | None = None
    conditions: str | None = None

    @property
    def source(self) -> str:
        zh = f" 《{self.document_zh}》" if self.document_zh else ""
        return f"{self.issuer}, {self.document}{zh} ({self.year})"


@dataclass(frozen=True)
class DcThresholds:
    thresholds: tuple[Threshold, ...]
    notes: str  # what could not be confirmed and is left out


def load_dc_thresholds() -> DcThresholds:
    """The thresholds shipped in ``accounting/data/dc_thresholds.toml``, each with its source."""
    text = (resources.files("parkzero.accounting") / "data" / "dc_thresholds.toml").read_text(encoding="utf-8")
    return parse_dc_thresholds(tomllib.loads(text))


def parse_dc_thresholds(doc: Mapping) -> DcThresholds:
    """Check and read a thresholds document (the parsed TOML)."""
    if doc.get("format") != "parkzero-dc-thresholds" or doc.get("version") != 1:
        raise ValidationFailed("not a parkzero-dc-thresholds document of version 1")
    out = []
    for i, raw in enumerate(doc.get("thresholds", []), start=1):
        where = f"threshold {i} ({raw.get('code', '?')})"
        try:
            t = Threshold(**raw)
        except TypeError as exc:
            raise ValidationFailed(f"{where}: {exc}") from None
        if t.metric not in METRICS or t.comparison not in _COMPARE or t.applies_to not in ("new", "existing", "all"):
            raise ValidationFailed(f"{where}: metric, comparison or applies_to not understood")
        if not (isinstance(t.limit, int | float) and t.limit > 0):
            raise ValidationFailed(f"{where}: limit must be a positive number")
        out.append(t)
    return DcThresholds(tuple(out), str(doc.get("notes", "")).strip())


@dataclass(frozen=True)
class ThresholdCheck:
    code: str
    metric: str
    value: float | None
    limit: float
    comparison: str
    passed: bool | None  # None where the metric could not be computed
    kind: str
    scope: str
    source: str
    conditions: str | None


def dc_threshold_checks(
    metrics: DataCentreMetrics, thresholds: DcThresholds | Sequence[Threshold], new_build: bool
) -> list[ThresholdCheck]:
    """The data centre's metrics against each threshold that applies to a new (or an existing) data centre.

    Parameters
    ----------
    metrics : DataCentreMetrics
        From `datacentre_metrics`.
    thresholds : DcThresholds or sequence of Threshold
        Usually `load_dc_thresholds()`.
    new_build : bool
        True for a new, rebuilt or extended data centre (thresholds with ``applies_to`` "new" or "all"),
        False for one in operation ("existing" or "all").

    Returns
    -------
    list of ThresholdCheck
        Per threshold: the value, the limit, pass/fail (None where the metric is not available, e.g. WUE without
        water metering), the kind (limit, target, criterion), its scope and its source.
    """
    items = thresholds.thresholds if isinstance(thresholds, DcThresholds) else tuple(thresholds)
    values = {"pue": metrics.pue, "cue": metrics.cue_kgco2_per_kwh, "wue": metrics.wue_l_per_kwh}
    wanted = ("new", "all") if new_build else ("existing", "all")
    out = []
    for t in items:
        if t.applies_to not in wanted:
            continue
        value = values[t.metric]
        passed = None if value is None else bool(_COMPARE[t.comparison](value, t.limit))
        out.append(
            ThresholdCheck(
                t.code, t.metric, value, t.limit, t.comparison, passed, t.kind, t.scope, t.source, t.conditions
            )
        )
    return out


# -- services: a year of a building or a data centre from the store ----------------------------------
@dataclass(frozen=True)
class BuildingYear:
    park: str
    building: str
    year: int
    use: str | None
    energy_by_carrier: dict[str, float]  # gross use per carrier [canonical unit]
    onsite_renewable_kwh: float
    factors_by_carrier: dict[str, float]
    channels: tuple[str, ...]  # codes of the channels summed as use
    pv_channels: tuple[str, ...]  # codes of the on-site generation subtracted
    emissions: BuildingEmissions
    notes: tuple[str, ...]


@dataclass(frozen=True)
class DataCentreYear:
    park: str
    enterprise: str
    year: int
    electricity_factor_tco2_per_mwh: float
    facility_channels: tuple[str, ...]
    it_channels: tuple[str, ...]
    water_channels: tuple[str, ...]
    metrics: DataCentreMetrics
    wue_reason: str | None  # why WUE is None
    notes: tuple[str, ...]


def _year_sums(store: Store, channel_ids: Sequence[int], year: int) -> dict[int, float]:
    """Sum per channel over the park-local days of `year` (daily rollups; counters give their deltas)."""
    if not channel_ids:
        return {}
    marks = ", ".join("?" * len(channel_ids))
    rows = store.db.fetchall(
        f"SELECT channel_id, sum(value_sum) FROM rollup_daily WHERE channel_id IN ({marks}) AND day >= ? AND day < ?"
        " GROUP BY channel_id",
        [*(int(i) for i in channel_ids), date(year, 1, 1), date(year + 1, 1, 1)],
    )
    return {int(cid): float(total or 0.0) for cid, total in rows}


def building_year(
    store: Store,
    scope: Scope,
    park_code: str,
    building_code: str,
    year: int,
    electricity_factor_tco2_per_mwh: float,
    other_factors: Mapping[str, float] | None = None,
) -> BuildingYear:
    """GB/T 51366 operation emissions of one building over one park-local calendar year, from its meters.

    Use is the sum of the building's top-level channels (no parent) whose purpose is a use of energy (``load``,
    ``gas``, ``heat``, ``steam``) and whose quantity kind is an energy carrier (active_energy → electricity,
    gas_volume → gas, heat → heat, steam_mass → steam); the building's top-level ``pv_generation`` channels are
    subtracted from electricity. The floor area is the building's ``floor_area_m2``.

    The figure covers the whole building, so an enterprise user sees it only for a building whose use is all
    metered on its own channels; on-site generation metered by someone else is then not visible to it and not
    subtracted (a note says so).

    Parameters
    ----------
    electricity_factor_tco2_per_mwh : float
        Grid emission factor [tCO2/MWh] (e.g. 0.5306, national average 2023).
    other_factors : mapping, optional
        ``gas`` [tCO2/10^4 Nm3], ``heat`` [tCO2/GJ], ``steam`` [tCO2/t], needed where the building uses them.

    Raises
    ------
    NotFound
        No such park or building visible in `scope`.
    ValidationFailed
        The building has no floor area, or a carrier in use has no factor.
    """
    pid = repo.park_id(store, scope, park_code)
    row = store.db.fetchone(
        "SELECT id, floor_area_m2, use FROM buildings WHERE park_id = ? AND code = ?", (pid, building_code)
    )
    if row is None:
        raise NotFound(f"no building {building_code!r} in park {park_code!r} (or not visible to you)")
    building_id, area, use = int(row[0]), row[1], row[2]

    kinds = ", ".join("?" * len(CARRIER_OF_KIND))
    rows = store.db.fetchall(
        "SELECT id, code, quantity_kind, purpose, enterprise_id FROM channels"
        f" WHERE park_id = ? AND building_id = ? AND parent_id IS NULL AND quantity_kind IN ({kinds}) ORDER BY code",
        [pid, building_id, *CARRIER_OF_KIND],
    )
    use_rows = [r for r in rows if r[3] in USE_PURPOSES]
    pv_rows = [r for r in rows if r[3] == "pv_generation" and r[2] == "active_energy"]
    if scope.is_tenant and (not use_rows or not all(scope.can_see(pid, r[4]) for r in use_rows)):
        # the building's figure includes other tenants' use
        raise NotFound(f"no building {building_code!r} in park {park_code!r} (or not visible to you)")
    if area is None:
        raise ValidationFailed(
            f"building {building_code!r} has no floor area (floor_area_m2); GB/T 51366 intensity needs it",
            issues=[Issue("floor area missing", column="floor_area_m2")],
        )

    notes = []
    hidden_pv = [r for r in pv_rows if not scope.can_see(pid, r[4])]
    pv_rows = [r for r in pv_rows if scope.can_see(pid, r[4])]
    if hidden_pv:
        notes.append("on-site generation metered by others is not visible to you and was not subtracted")
    skipped = [r[1] for r in rows if r[3] not in (*USE_PURPOSES, "pv_generation") and r[3] in ("ev_charging", None)]
    if skipped:
        notes.append(
            "not counted (EV charging is transport energy; channels without a purpose have no role): "
            + ", ".join(skipped)
        )
    sums = _year_sums(store, [r[0] for r in use_rows + pv_rows], year)
    energy: dict[str, float] = {}
    for r in use_rows:
        carrier = CARRIER_OF_KIND[r[2]]
        energy[carrier] = energy.get(carrier, 0.0) + sums.get(int(r[0]), 0.0)
    pv_kwh = sum(sums.get(int(r[0]), 0.0) for r in pv_rows)
    factors = {"electricity": electricity_factor_tco2_per_mwh, **dict(other_factors or {})}
    emissions = building_operation_emissions(energy, factors, float(area), 1.0, pv_kwh)
    return BuildingYear(
        park=park_code,
        building=building_code,
        year=year,
        use=use,
        energy_by_carrier=energy,
        onsite_renewable_kwh=pv_kwh,
        factors_by_carrier=factors,
        channels=tuple(r[1] for r in use_rows),
        pv_channels=tuple(r[1] for r in pv_rows),
        emissions=emissions,
        notes=tuple(notes),
    )


def datacentre_year(
    store: Store,
    scope: Scope,
    park_code: str,
    enterprise_code: str,
    year: int,
    electricity_factor_tco2_per_mwh: float,
) -> DataCentreYear:
    """PUE, CUE and WUE of a data-centre enterprise over one park-local calendar year, from its meters.

    Facility energy is the enterprise's incoming electricity: its top-level channels (no parent) with purpose
    ``load``. IT energy is its channels with purpose ``it_load`` (the UPS output or the PDUs; an ``it_load``
    channel below another one is not counted twice). Water is its top-level ``water_volume`` channels. CO2 is the
    facility energy at the grid factor (location-based: on-site PV and green-power instruments are credited in
    the inventory, not here).

    Parameters
    ----------
    electricity_factor_tco2_per_mwh : float
        Grid emission factor [tCO2/MWh].

    Raises
    ------
    NotFound
        No such park or enterprise visible in `scope`.
    ValidationFailed
        No incoming or no IT channel, no IT energy, or facility energy below IT energy.
    """
    pid = repo.park_id(store, scope, park_code)
    enterprise = repo.get_entity(store, scope, "enterprises", park_code, enterprise_code)
    where, params = scope.sql_filter("park_id", "enterprise_id")
    rows = store.db.fetchall(
        "SELECT id, code, quantity_kind, purpose, parent_id FROM channels"
        f" WHERE park_id = ? AND enterprise_id = ?{where} ORDER BY code",
        [pid, int(enterprise["id"]), *params],
    )
    facility = [r for r in rows if r[3] == "load" and r[2] == "active_energy" and r[4] is None]
    it_ids = {int(r[0]) for r in rows if r[3] == "it_load" and r[2] == "active_energy"}
    parent_of = {int(r[0]): (None if r[4] is None else int(r[4])) for r in rows}

    def under_it(cid: int) -> bool:
        seen, cur = set(), parent_of.get(cid)
        while cur is not None and cur not in seen:
            if cur in it_ids:
                return True
            seen.add(cur)
            cur = parent_of.get(cur)
        return False

    it = [r for r in rows if int(r[0]) in it_ids and not under_it(int(r[0]))]
    water = [r for r in rows if r[2] == "water_volume" and r[4] is None]
    if not facility:
        raise ValidationFailed(
            f"enterprise {enterprise_code!r} has no incoming electricity channel (purpose 'load', no parent)"
        )
    if not it:
        raise ValidationFailed(
            f"enterprise {enterprise_code!r} has no IT-load channel: give the UPS-output or PDU channels"
            " the purpose 'it_load'"
        )
    sums = _year_sums(store, [r[0] for r in facility + it + water], year)
    facility_kwh = sum(sums.get(int(r[0]), 0.0) for r in facility)
    it_kwh = sum(sums.get(int(r[0]), 0.0) for r in it)
    if it_kwh <= 0:
        raise ValidationFailed(
            f"no IT energy recorded for {enterprise_code!r} in {year} on {', '.join(r[1] for r in it)}:"
            " PUE, CUE and WUE need IT energy > 0"
        )
    factor = _finite("electricity factor", electricity_factor_tco2_per_mwh)
    co2_t = facility_kwh * factor / 1000.0
    water_m3 = sum(sums.get(int(r[0]), 0.0) for r in water) if water else None
    metrics = datacentre_metrics(facility_kwh, it_kwh, co2_t, water_m3)
    return DataCentreYear(
        park=park_code,
        enterprise=enterprise_code,
        year=year,
        electricity_factor_tco2_per_mwh=factor,
        facility_channels=tuple(r[1] for r in facility),
        it_channels=tuple(r[1] for r in it),
        water_channels=tuple(r[1] for r in water),
        metrics=metrics,
        wue_reason=None if water else f"enterprise {enterprise_code!r} has no water_volume channel",
        notes=(f"CO2 = {_n(facility_kwh)} kWh × {_n(factor)} tCO2/MWh / 1000 = {_n(co2_t)} tCO2 (location-based)",),
    )


def regime_carrier_factors(store: Store, scope: Scope, park_code: str, year: int, regime_code: str) -> dict:
    """Factors per carrier for `building_year`/`datacentre_year` from a regime and the factor library.

    electricity [tCO2/MWh] = the regime's grid factor; gas [tCO2/10^4 Nm3] = natural gas combustion of
    10^4 Nm3 (NCV x carbon content x oxidation x 44/12); heat [tCO2/GJ] = the regime's heat factor; steam
    [tCO2/t] = saturated-steam enthalpy x heat factor. Returns {"electricity": ..., "other": {...}, "factors": refs}.
    """
    from parkzero.accounting import rules
    from parkzero.factors import library

    pid = repo.park_id(store, scope, park_code)
    regime = rules.get_regime(regime_code)
    r = rules.Resolver(library.load_factors(store, Scope(actor="system", role="operator", park_id=pid)), regime, year)
    elec = rules.electricity(1000.0, r.get(regime.electricity, what="building electricity"))  # 1 MWh
    heat_f = r.get(regime.heat, what="building heat")
    gas = rules.combustion(
        10_000.0,
        "Nm3",
        *(r.get("fuel.natural_gas", p, what="building gas") for p in ("ncv", "carbon_content", "oxidation")),
    )
    steam = rules.steam(1.0, r.get("steam.saturated", "enthalpy", what="building steam"), heat_f)
    return {
        "electricity": elec.tco2e,
        "other": {"gas": gas.tco2e, "heat": rules.heat(1.0, heat_f).tco2e, "steam": steam.tco2e},
        "factors": [f.ref() for f in r.used.values()],
    }
