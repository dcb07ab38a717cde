"""Quantity kinds, canonical units and the conversions applied where data enters.

Inside parkzero every value is a plain float in the canonical unit of its quantity kind (kWh, kW, Nm3, t, GJ ...).
Files, MQTT payloads and API bodies may use other units, including the Chinese ones (万kWh = 10^4 kWh,
万Nm³ = 10^4 Nm³, 度 = kWh); `to_canonical` converts them at the boundary and refuses what it does not know.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from parkzero.errors import ValidationFailed


@dataclass(frozen=True)
class QuantityKind:
    name: str
    canonical_unit: str
    summable: bool  # True where the sum over intervals is meaningful (energy, volume, mass)
    label_zh: str


QUANTITY_KINDS: dict[str, QuantityKind] = {
    q.name: q
    for q in (
        QuantityKind("active_energy", "kWh", True, "有功电量"),
        QuantityKind("reactive_energy", "kvarh", True, "无功电量"),
        QuantityKind("active_power", "kW", False, "有功功率"),
        QuantityKind("gas_volume", "Nm3", True, "燃气量"),
        QuantityKind("water_volume", "m3", True, "用水量"),
        QuantityKind("steam_mass", "t", True, "蒸汽量"),
        QuantityKind("heat", "GJ", True, "热量"),
        QuantityKind("mass", "t", True, "质量"),
        QuantityKind("temperature", "degC", False, "温度"),
        QuantityKind("irradiance", "W/m2", False, "辐照度"),
        QuantityKind("state_of_charge", "%", False, "荷电状态"),
    )
}

# unit spelling (normalised) -> (canonical unit, factor). value_canonical = value * factor
_FACTORS: dict[str, tuple[str, float]] = {}


def _define(canonical: str, factor: float, *spellings: str) -> None:
    for s in spellings:
        _FACTORS[_normalise(s)] = (canonical, factor)


def _normalise(unit: str) -> str:
    text = unicodedata.normalize("NFKC", unit).strip()
    text = text.replace("³", "3").replace("²", "2").replace("·", "").replace(" ", "")
    return text.lower()


_define("kWh", 1.0, "kWh", "kW·h", "kW.h", "千瓦时", "度")
_define("kWh", 1e-3, "Wh", "瓦时")
_define("kWh", 1e3, "MWh", "兆瓦时")
_define("kWh", 1e6, "GWh", "吉瓦时")
_define("kWh", 1e4, "万kWh", "万千瓦时", "万度")
_define("kWh", 1e8, "亿kWh", "亿千瓦时")
_define("kvarh", 1.0, "kvarh", "千乏时")
_define("kvarh", 1e3, "Mvarh")
_define("kvarh", 1e-3, "varh")
_define("kW", 1.0, "kW", "千瓦")
_define("kW", 1e-3, "W", "瓦")
_define("kW", 1e3, "MW", "兆瓦")
_define("Nm3", 1.0, "Nm3", "Nm³", "标方", "标准立方米")
_define("Nm3", 1e4, "万Nm3", "万Nm³", "万标方")
_define("Nm3", 1e8, "亿Nm3", "亿Nm³")
_define("m3", 1.0, "m3", "m³", "立方米", "方")
_define("m3", 1e4, "万m3", "万m³", "万立方米", "万方")
_define("m3", 1e-3, "L", "升")
_define("t", 1.0, "t", "吨")
_define("t", 1e-3, "kg", "千克", "公斤")
_define("t", 1e4, "万t", "万吨")
_define("GJ", 1.0, "GJ", "吉焦")
_define("GJ", 1e-3, "MJ", "兆焦")
_define("GJ", 1e3, "TJ", "太焦")
_define("GJ", 3.6e-3, "kWh_th")
_define("degC", 1.0, "degC", "°C", "℃", "摄氏度", "C")
_define("W/m2", 1.0, "W/m2", "W/m²", "瓦/平方米")
_define("W/m2", 1e3, "kW/m2", "kW/m²")
_define("%", 1.0, "%", "percent")
# The register value of a gas meter is often labelled in plain m3 while the channel is Nm3 (already corrected
# by the volume converter). That identification is a deliberate choice of the mapping, never a guess here.

_UNIT_IN_HEADER = re.compile(r"^(?P<name>.*?)[\s]*[(（\[](?P<unit>[^)）\]]+)[)）\]]\s*$")


def split_header_unit(header: str) -> tuple[str, str | None]:
    """Split a header such as '电量(万kWh)' or 'value [MWh]' into ('电量', '万kWh')."""
    m = _UNIT_IN_HEADER.match(header.strip())
    if not m:
        return header.strip(), None
    return m.group("name").strip(), m.group("unit").strip()


def is_known_unit(unit: str) -> bool:
    return _normalise(unit) in _FACTORS


def conversion_factor(unit: str, canonical_unit: str) -> float:
    """Factor that turns a value in `unit` into `canonical_unit` [-].

    Raises ValidationFailed when the unit is unknown or measures another quantity.
    """
    found = _FACTORS.get(_normalise(unit))
    if found is None:
        raise ValidationFailed(f"unknown unit {unit!r}")
    target, factor = found
    if target != canonical_unit:
        raise ValidationFailed(f"unit {unit!r} measures {target}, but the channel's unit is {canonical_unit}")
    return factor


def to_canonical(value: float, unit: str, canonical_unit: str) -> float:
    """Convert one value, e.g. to_canonical(1.2, '万kWh', 'kWh') == 12000.0."""
    return value * conversion_factor(unit, canonical_unit)


def canonical_unit_of(quantity_kind: str) -> str:
    try:
        return QUANTITY_KINDS[quantity_kind].canonical_unit
    except KeyError:
        known = ", ".join(sorted(QUANTITY_KINDS))
        raise ValidationFailed(f"unknown quantity kind {quantity_kind!r}; known: {known}") from None


# Units of activity data that are not channel quantities (distances, transport work, money, nights); they
# convert within their own family only.
_define("km", 1.0, "km", "公里", "千米")
_define("tkm", 1.0, "tkm", "t·km", "吨公里")
_define("pkm", 1.0, "pkm", "p·km", "passenger-km", "人公里")
_define("CNY", 1.0, "CNY", "元", "RMB")
_define("CNY", 1e4, "万元", "10^4CNY")
_define("USD", 1.0, "USD", "美元")
_define("night", 1.0, "night", "nights", "间夜")
_define("kgce", 1.0, "kgce", "千克标准煤")
_define("kgce", 1e3, "tce", "吨标准煤")
_define("kgce", 1e7, "万tce", "万吨标准煤")
