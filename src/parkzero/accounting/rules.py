"""Emission rules: pure functions from an activity amount and factors to emissions per gas, with the formula.

Every function takes the activity in its canonical unit (kWh, Nm3, t, GJ, tkm, CNY ...) and `Factor` rows from
the library, checks that the factor's unit fits the activity (a unit mismatch is an error, never a wrong
number), and returns a `Calculation`: tonnes of each gas, their CO2e, and the formula with the numbers in it.

Chinese method (GB/T 32150-2015 §6, MEE guidelines): combustion CO2 = activity × NCV × carbon content ×
oxidation × 44/12. IPCC 2006 Vol. 2 defaults add CH4 and N2O per TJ where the regime reports them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources

from parkzero.errors import ValidationFailed
from parkzero.factors.library import Factor
from parkzero.factors.units import parse_factor_unit

C_TO_CO2 = 44.0 / 12.0  # molar mass ratio CO2 / C [-]

# Chinese fuel names (cn-fuels) -> IPCC 2006 stationary-combustion names (ipcc-2006-combustion)
IPCC_FUEL = {
    "natural_gas": "natural_gas",
    "diesel": "diesel",
    "gasoline": "gasoline",
    "fuel_oil": "residual_fuel_oil",
    "lpg": "lpg",
    "anthracite": "anthracite",
    "bituminous_coal": "other_bituminous_coal",
    "lignite": "lignite",
    "coke": "coke_oven_coke",
    "coke_oven_gas": "coke_oven_gas",
    "blast_furnace_gas": "blast_furnace_gas",
    "converter_gas": "oxygen_steel_furnace_gas",
}


class MissingFactor(ValidationFailed):
    """No factor for the regime and year."""


# -- regimes ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Regime:
    code: str
    title: str
    title_zh: str
    basis: str
    scopes: tuple[int, ...]
    gwp: str
    scope2_methods: tuple[str, ...]
    electricity: str
    heat: str
    electricity_residual: str | None = None
    combustion_non_co2: bool = False
    process: bool = True
    zero_instruments: tuple[str, ...] = ()
    factor_years: str = "exact"
    intensity_per_tce: bool = False

    def as_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def regimes() -> dict[str, Regime]:
    """The regimes defined in ``accounting/data/regimes.toml``."""
    text = (resources.files("parkzero.accounting") / "data" / "regimes.toml").read_text(encoding="utf-8")
    out = {}
    for code, spec in tomllib.loads(text).items():
        spec = {k: (tuple(v) if isinstance(v, list) else v) for k, v in spec.items()}
        out[code] = Regime(code=code, **spec)
    return out


def get_regime(code: str) -> Regime:
    known = regimes()
    if code not in known:
        raise ValidationFailed(f"unknown regime {code!r}; known: {', '.join(known)}")
    return known[code]


# -- factor lookup ---------------------------------------------------------------------------------
@dataclass
class Resolver:
    """Finds the factor a regime uses for a reporting year, and remembers every factor it handed out."""

    factors: list[Factor]
    regime: Regime
    year: int
    used: dict[tuple, Factor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index: dict[tuple[str, str], list[Factor]] = {}
        for f in self.factors:
            self._index.setdefault((f.factor_id, f.parameter), []).append(f)

    def has(self, factor_id: str, parameter: str = "ef") -> bool:
        return (factor_id, parameter) in self._index

    def get(self, factor_id: str, parameter: str = "ef", gas: str | None = None, *, what: str = "") -> Factor:
        """The factor row for the year (exact, or the newest earlier one where the regime allows a proxy)."""
        rows = [f for f in self._index.get((factor_id, parameter), []) if gas is None or f.gas == gas]
        for_whom = f" for {what}" if what else ""
        if not rows:
            raise MissingFactor(
                f"no factor {factor_id!r} ({parameter}{', ' + gas if gas else ''}) in the factor library{for_whom}"
            )
        exact = [f for f in rows if f.applies_to(self.year)]
        if exact:
            chosen = max(exact, key=lambda f: (self._near(f), f.year_from or 0))
        elif self.regime.factor_years == "latest":
            earlier = [f for f in rows if f.year_to is not None and f.year_to < self.year]
            if not earlier:
                raise MissingFactor(
                    f"no factor {factor_id!r} for {self.year} or earlier under regime {self.regime.code}{for_whom}"
                )
            chosen = max(earlier, key=lambda f: (self._near(f), f.year_to or 0))
        else:
            years = sorted({y for f in rows for y in (f.year_from, f.year_to) if y is not None})
            raise MissingFactor(
                f"no factor {factor_id!r} published for {self.year}, and regime {self.regime.code} needs the"
                f" reporting year's own factor{for_whom} (the library has years {years})"
            )
        self.used[(chosen.set_code, chosen.set_version, chosen.factor_id, chosen.parameter, chosen.gas)] = chosen
        return chosen

    def _near(self, f: Factor) -> int:
        """Preference for a factor's region: the park's own (Shanghai, East China, China), then global, then
        anywhere else (a UK or US factor is used only where nothing closer exists)."""
        order = ("CN-SH", "CN-East", "CN", "GLOBAL", None)
        return len(order) - order.index(f.region) if f.region in order else 0

    def gwp(self, gas: str) -> float:
        if gas in ("CO2", "CO2e"):
            return 1.0
        return self.get(self.regime.gwp, "gwp", gas, what=f"the GWP of {gas}").value

    def is_proxy(self, f: Factor) -> bool:
        return not f.applies_to(self.year)


# -- calculations ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class GasAmount:
    gas: str
    emissions_t: float  # mass of the gas [t]
    gwp: float  # [tCO2e/t]

    @property
    def tco2e(self) -> float:
        return self.emissions_t * self.gwp


@dataclass(frozen=True)
class Calculation:
    gases: tuple[GasAmount, ...]
    formula: str
    factors: tuple[Factor, ...]

    @property
    def tco2e(self) -> float:
        return sum(g.tco2e for g in self.gases)


def _num(x: float) -> str:
    return f"{x:,.6g}" if abs(x) < 1e6 else f"{x:,.0f}"


def _per_activity(f: Factor, activity_unit: str, measures: str, *, what: str) -> float:
    """Factor value in (canonical numerator) per (canonical activity unit); refuses a unit mismatch."""
    fu = parse_factor_unit(f.unit)
    if fu.measures != measures:
        raise ValidationFailed(f"{what}: factor {f.factor_id} is in {f.unit}, which does not measure {measures}")
    if fu.activity_canonical != activity_unit:
        raise ValidationFailed(
            f"{what}: unit mismatch: the activity is in {activity_unit} but factor {f.factor_id} is per"
            f" {fu.denominator} ({f.unit})"
        )
    return f.value * fu.per_canonical_activity()


def electricity(kwh: float, ef: Factor, *, what: str = "electricity") -> Calculation:
    """CO2 of electricity [t] = kWh × factor (tCO2/MWh ÷ 1000, or tCO2/万kWh ÷ 10^4)."""
    per = _per_activity(ef, "kWh", "mass_t", what=what)
    t = kwh * per
    return Calculation(
        (GasAmount(ef.gas or "CO2", t, 1.0),),
        f"{_num(kwh)} kWh × {ef.value:g} {ef.unit} = {_num(t)} t{ef.gas or 'CO2'}",
        (ef,),
    )


def heat(gj: float, ef: Factor, *, what: str = "heat") -> Calculation:
    """CO2 of purchased heat [t] = GJ × factor (tCO2/GJ)."""
    t = gj * _per_activity(ef, "GJ", "mass_t", what=what)
    return Calculation((GasAmount("CO2", t, 1.0),), f"{_num(gj)} GJ × {ef.value:g} {ef.unit} = {_num(t)} tCO2", (ef,))


def steam(tonnes: float, enthalpy: Factor, ef: Factor, *, what: str = "steam") -> Calculation:
    """CO2 of purchased steam [t] = t × enthalpy (GJ/t) × heat factor (tCO2/GJ)."""
    gj = tonnes * _per_activity(enthalpy, "t", "energy_gj", what=what)
    t = gj * _per_activity(ef, "GJ", "mass_t", what=what)
    return Calculation(
        (GasAmount("CO2", t, 1.0),),
        f"{_num(tonnes)} t × {enthalpy.value:g} {enthalpy.unit} × {ef.value:g} {ef.unit} = {_num(t)} tCO2",
        (enthalpy, ef),
    )


def combustion(
    amount: float,
    activity_unit: str,
    ncv: Factor,
    carbon_content: Factor,
    oxidation: Factor,
    non_co2: dict[str, tuple[Factor, float]] | None = None,
    *,
    what: str = "combustion",
) -> Calculation:
    """Fuel combustion (GB/T 32150-2015 §6.2).

    CO2 [t] = amount × NCV [GJ/unit] × carbon content [tC/TJ] / 1000 × oxidation [-] × 44/12.
    `non_co2` maps a gas to (IPCC factor per TJ, GWP) and adds amount × NCV / 1000 × factor.
    """
    gj = amount * _per_activity(ncv, activity_unit, "energy_gj", what=what)
    cc_fu = parse_factor_unit(carbon_content.unit)
    if cc_fu.measures != "carbon_t" or cc_fu.activity_canonical != "GJ":
        raise ValidationFailed(f"{what}: carbon content must be per unit of energy (tC/TJ), not {carbon_content.unit}")
    tc_per_gj = carbon_content.value * cc_fu.per_canonical_activity()
    ox = oxidation.value
    if not 0 < ox <= 1:
        raise ValidationFailed(f"{what}: oxidation rate {ox} of {oxidation.factor_id} is not a fraction in (0, 1]")
    co2 = gj * tc_per_gj * ox * C_TO_CO2
    gases = [GasAmount("CO2", co2, 1.0)]
    used = [ncv, carbon_content, oxidation]
    formula = (
        f"{_num(amount)} {activity_unit} × {ncv.value:g} {ncv.unit} × {carbon_content.value:g} {carbon_content.unit}"
        f" × {ox:g} × 44/12 = {_num(co2)} tCO2"
    )
    for gas, (f, gwp) in sorted((non_co2 or {}).items()):
        t = gj * _per_activity(f, "GJ", "mass_t", what=what)
        gases.append(GasAmount(gas, t, gwp))
        used.append(f)
        formula += f"; {_num(gj / 1000)} TJ × {f.value:g} {f.unit} = {_num(t)} t{gas}"
    return Calculation(tuple(gases), formula, tuple(used))


def activity_factor(amount: float, activity_unit: str, ef: Factor, gwp: float, *, what: str) -> Calculation:
    """Generic activity × factor (process emissions, transport, travel, waste, materials) [t of the gas]."""
    t = amount * _per_activity(ef, activity_unit, "mass_t", what=what)
    gas = ef.gas or "CO2e"
    return Calculation(
        (GasAmount(gas, t, gwp),),
        f"{_num(amount)} {activity_unit} × {ef.value:g} {ef.unit} = {_num(t)} t{gas}",
        (ef,),
    )


def refrigerant(
    leak_t: float, shares: list[Factor], gwps: dict[str, float], *, what: str = "refrigerant"
) -> Calculation:
    """Fugitive refrigerant: each component's mass = leak × mass share; CO2e = Σ mass × GWP."""
    total = sum(f.value for f in shares)
    if abs(total - 1.0) > 1e-6:
        raise ValidationFailed(f"{what}: the blend's mass shares sum to {total:g}, not 1")
    gases = tuple(GasAmount(f.gas or "?", leak_t * f.value, gwps[f.gas or "?"]) for f in shares)
    parts = " + ".join(f"{_num(leak_t)} t × {f.value:g} × GWP {gwps[f.gas or '?']:g} ({f.gas})" for f in shares)
    return Calculation(gases, f"{parts} = {_num(sum(g.tco2e for g in gases))} tCO2e", tuple(shares))
