"""Units of factors: ``<numerator>/<denominator>`` such as ``tCO2/MWh``, ``GJ/万Nm3``, ``tC/TJ`` or ``1``.

The numerator is a mass (of the gas named on the row, or of carbon), an energy (GJ) or standard coal (kgce);
the denominator is a unit of activity known to `parkzero.units`. `per_activity` gives the factor that turns an
activity amount in its canonical unit into the numerator's canonical unit, so a unit mismatch along the chain
(a factor per tonne applied to Nm3) is an error, never a wrong number.
"""

from __future__ import annotations

from dataclasses import dataclass

from parkzero.errors import ValidationFailed
from parkzero.units import conversion_factor, is_known_unit

# numerator spelling -> (what it measures, factor to its canonical unit)
NUMERATORS: dict[str, tuple[str, float]] = {
    "t": ("mass_t", 1.0),
    "kg": ("mass_t", 1e-3),
    "g": ("mass_t", 1e-6),
    "tCO2": ("mass_t", 1.0),
    "kgCO2": ("mass_t", 1e-3),
    "tCO2e": ("mass_t", 1.0),
    "kgCO2e": ("mass_t", 1e-3),
    "tC": ("carbon_t", 1.0),
    "GJ": ("energy_gj", 1.0),
    "TJ": ("energy_gj", 1e3),
    "MJ": ("energy_gj", 1e-3),
    "kgce": ("coal_kgce", 1.0),
    "tce": ("coal_kgce", 1e3),
}
# canonical unit of each activity family, reached through `parkzero.units`
ACTIVITY_CANONICAL = {
    "kWh": "kWh",
    "MWh": "kWh",
    "万kWh": "kWh",
    "GWh": "kWh",
    "GJ": "GJ",
    "TJ": "GJ",
    "MJ": "GJ",
    "t": "t",
    "kg": "t",
    "万t": "t",
    "Nm3": "Nm3",
    "万Nm3": "Nm3",
    "m3": "m3",
    "L": "m3",
    "km": "km",
    "tkm": "tkm",
    "pkm": "pkm",
    "CNY": "CNY",
    "万元": "CNY",
    "USD": "USD",
    "night": "night",
}


@dataclass(frozen=True)
class FactorUnit:
    numerator: str | None  # None for a dimensionless factor ("1")
    denominator: str | None
    measures: str  # mass_t, carbon_t, energy_gj, coal_kgce or ratio
    to_canonical: float  # numerator -> canonical numerator unit

    @property
    def activity_canonical(self) -> str | None:
        return None if self.denominator is None else ACTIVITY_CANONICAL[self.denominator]

    def per_canonical_activity(self) -> float:
        """Multiplier from (factor value) to (canonical numerator per canonical activity unit)."""
        if self.denominator is None:
            return self.to_canonical
        per = conversion_factor(self.denominator, ACTIVITY_CANONICAL[self.denominator])
        return self.to_canonical / per


def parse_factor_unit(unit: str) -> FactorUnit:
    """Parse a factor's unit; raise ValidationFailed naming what is not understood."""
    text = (unit or "").strip()
    if text == "1":
        return FactorUnit(None, None, "ratio", 1.0)
    if "/" not in text:
        raise ValidationFailed(f"factor unit {unit!r} must be '<numerator>/<denominator>' (e.g. tCO2/MWh) or '1'")
    num, den = (p.strip() for p in text.split("/", 1))
    if num not in NUMERATORS:
        raise ValidationFailed(f"factor unit {unit!r}: unknown numerator {num!r}; known: {', '.join(NUMERATORS)}")
    if den not in ACTIVITY_CANONICAL or not is_known_unit(den):
        raise ValidationFailed(
            f"factor unit {unit!r}: unknown activity unit {den!r}; known: {', '.join(ACTIVITY_CANONICAL)}"
        )
    measures, to_canonical = NUMERATORS[num]
    return FactorUnit(num, den, measures, to_canonical)


def activity_family(unit: str) -> str:
    """Canonical unit of an activity unit (万Nm3 -> Nm3); ValidationFailed if unknown."""
    if unit not in ACTIVITY_CANONICAL:
        raise ValidationFailed(f"unknown activity unit {unit!r}; known: {', '.join(ACTIVITY_CANONICAL)}")
    return ACTIVITY_CANONICAL[unit]
