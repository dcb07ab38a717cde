"""The registry's entities: what each holds, what it refers to, and the checks on its values.

Park -> zones -> buildings -> enterprises (tenants) -> meters -> channels; assets and products. Records are
plain dicts whose references are codes within the park (`"meter": "m-101"`), the same in the API, the CLI
and the registry file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parkzero.errors import Issue, ValidationFailed
from parkzero.units import QUANTITY_KINDS


@dataclass(frozen=True)
class Entity:
    kind: str  # plural name, also the table
    fields: tuple[str, ...]
    required: tuple[str, ...]
    refs: dict[str, str] = field(default_factory=dict)  # reference name -> referenced kind
    owner: str | None = None  # column naming the enterprise that owns a row (tenant scoping)
    tenant_writable: bool = False  # an enterprise user may create/change its own rows

    @property
    def table(self) -> str:
        return self.kind


ASSET_KINDS = ("pv_array", "battery", "flexible_load", "ev_charger", "hvac", "chp", "generator", "grid_connection")
PURPOSES = (
    "grid_import",
    "grid_export",
    "pv_generation",
    "battery_charge",
    "battery_discharge",
    "battery_soc",
    "load",
    "it_load",
    "ev_charging",
    "gas",
    "water",
    "steam",
    "heat",
    "product_output",
    "weather",
)
BEHAVIOURS = ("interval", "counter")

ENTITIES: dict[str, Entity] = {
    e.kind: e
    for e in (
        Entity("zones", ("code", "name", "name_zh"), ("code", "name")),
        Entity(
            "buildings",
            ("code", "name", "name_zh", "floor_area_m2", "use", "year_built"),
            ("code", "name"),
            {"zone": "zones"},
        ),
        Entity(
            "enterprises",
            ("code", "name", "name_zh", "credit_code", "industry_code", "is_startup"),
            ("code", "name"),
            {"building": "buildings"},
            owner="id",
        ),
        Entity(
            "assets",
            ("code", "name", "kind", "params"),
            ("code", "name", "kind"),
            {"building": "buildings", "enterprise": "enterprises"},
            owner="enterprise_id",
        ),
        Entity(
            "meters",
            ("code", "name", "serial"),
            ("code", "name"),
            {"building": "buildings", "enterprise": "enterprises"},
            owner="enterprise_id",
        ),
        Entity(
            "channels",
            (
                "code",
                "name",
                "quantity_kind",
                "unit",
                "interval_s",
                "behaviour",
                "purpose",
                "counter_rollover",
            ),
            ("code", "name", "quantity_kind", "meter"),
            {
                "meter": "meters",
                "building": "buildings",
                "enterprise": "enterprises",
                "asset": "assets",
                "parent": "channels",
            },
            owner="enterprise_id",
        ),
        Entity(
            "products",
            ("code", "name", "declared_unit"),
            ("code", "name", "declared_unit", "enterprise"),
            {"enterprise": "enterprises"},
            owner="enterprise_id",
            tenant_writable=True,
        ),
    )
}
PARK_FIELDS = ("code", "name", "name_zh", "timezone", "latitude", "longitude")
KINDS = ("parks", *ENTITIES)

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: 31 characters, no I, O, Z, S, V
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3^(i-1) mod 31
_INDUSTRY = re.compile(r"^[A-T](\d{2}|\d{3}|\d{4})?$")


def credit_check_char(first17: str) -> str:
    """Check character (position 18) of a unified social credit code (GB 32100-2015)."""
    if len(first17) != 17:
        raise ValueError("the check character is computed over 17 characters")
    total = sum(CREDIT_ALPHABET.index(ch) * w for ch, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def credit_code_ok(code: str) -> bool:
    """Check an 18-character unified social credit code and its check character (GB 32100-2015)."""
    return len(code) == 18 and all(ch in CREDIT_ALPHABET for ch in code) and credit_check_char(code[:17]) == code[17]


def validate(kind: str, record: dict, *, where: str = "") -> list[Issue]:
    """Problems with one record's own values (references are checked against the database elsewhere)."""
    at = f"{kind[:-1]} {record.get('code', '?')}{where}"
    issues: list[Issue] = []

    def bad(col: str, reason: str) -> None:
        issues.append(
            Issue(f"{at}: {reason}", column=col, value=None if record.get(col) is None else str(record.get(col)))
        )

    required = ("code", "name", "timezone") if kind == "parks" else ENTITIES[kind].required
    for col in required:
        if record.get(col) in (None, ""):
            bad(col, f"{col} is required")
    code = record.get("code")
    if code and not _CODE.match(str(code)):
        bad("code", "code must be 1-64 letters, digits, '.', '_', ':' or '-'")
    if kind == "parks":
        tz = record.get("timezone")
        if tz:
            try:
                ZoneInfo(str(tz))
            except (ZoneInfoNotFoundError, ValueError):
                bad("timezone", "unknown IANA time zone")
        for col, lim in (("latitude", 90), ("longitude", 180)):
            v = record.get(col)
            if v is not None and not (isinstance(v, int | float) and -lim <= v <= lim):
                bad(col, f"{col} must be a number within ±{lim}")
    elif kind == "buildings":
        area = record.get("floor_area_m2")
        if area is not None and not (isinstance(area, int | float) and area > 0):
            bad("floor_area_m2", "floor area must be a positive number of m²")
        year = record.get("year_built")
        if year is not None and not (isinstance(year, int) and 1800 <= year <= 2100):
            bad("year_built", "year must be a whole year between 1800 and 2100")
    elif kind == "enterprises":
        cc = record.get("credit_code")
        if cc and not credit_code_ok(str(cc)):
            bad(
                "credit_code",
                "not a valid unified social credit code (GB 32100-2015: 18 characters, check digit)",
            )
        ic = record.get("industry_code")
        if ic and not _INDUSTRY.match(str(ic)):
            bad("industry_code", "industry code must be a GB/T 4754 code such as C3130")
    elif kind == "assets":
        if record.get("kind") and record["kind"] not in ASSET_KINDS:
            bad("kind", f"asset kind must be one of {', '.join(ASSET_KINDS)}")
        params = record.get("params")
        if params is not None and not isinstance(params, dict):
            bad("params", "params must be an object")
    elif kind == "channels":
        qk = record.get("quantity_kind")
        if qk and qk not in QUANTITY_KINDS:
            bad("quantity_kind", f"quantity kind must be one of {', '.join(QUANTITY_KINDS)}")
        elif qk:
            unit = record.get("unit")
            canonical = QUANTITY_KINDS[qk].canonical_unit
            if unit not in (None, canonical):
                bad("unit", f"the canonical unit of {qk} is {canonical}; other units are converted at ingest")
        iv = record.get("interval_s")
        if iv is not None and not (isinstance(iv, int) and iv > 0 and 86400 % iv == 0):
            bad("interval_s", "interval must be a whole number of seconds dividing a day (e.g. 900)")
        if record.get("behaviour") not in (None, *BEHAVIOURS):
            bad("behaviour", "behaviour must be 'interval' or 'counter'")
        if record.get("purpose") not in (None, *PURPOSES):
            bad("purpose", f"purpose must be one of {', '.join(PURPOSES)}")
        ro = record.get("counter_rollover")
        if ro is not None and not (isinstance(ro, int | float) and ro > 0):
            bad("counter_rollover", "rollover must be a positive register value")
    return issues


def normalise(kind: str, record: dict) -> dict:
    """Fill defaults and canonical forms before a record is written."""
    out = dict(record)
    if kind == "channels":
        qk = out.get("quantity_kind")
        if qk in QUANTITY_KINDS and not out.get("unit"):
            out["unit"] = QUANTITY_KINDS[qk].canonical_unit
        out.setdefault("interval_s", 900)
        out.setdefault("behaviour", "interval")
    if kind == "enterprises":
        out["is_startup"] = bool(out.get("is_startup", False))
    if kind == "assets":
        out["params"] = out.get("params") or {}
    return out


def to_column(kind: str, col: str, value: object) -> object:
    if kind == "assets" and col == "params":
        return json.dumps(value or {}, ensure_ascii=False, sort_keys=True)
    return value


def from_column(kind: str, col: str, value: object) -> object:
    if kind == "assets" and col == "params":
        return json.loads(value) if isinstance(value, str) else (value or {})
    return value


def require_valid(kind: str, record: dict) -> None:
    issues = validate(kind, record)
    if issues:
        raise ValidationFailed(f"invalid {kind[:-1]}", issues=issues)
