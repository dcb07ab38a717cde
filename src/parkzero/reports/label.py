"""The carbon label of a published product footprint: one printable page (100 x 150 mm) as PDF, with a QR code.

ISO 14067 §7 (communication of a CFP) asks that what is communicated be the verified study's figure with what
it refers to; so the label is made only of a footprint that went through review and was published
(`parkzero.footprint.records`: ``draft -> submitted -> verified -> published``), and it shows, read from the stored
record, its PACT document and its review trail and nothing else:

- the product (``productNameCompany``, ``productDescription``) and the company (``companyName``);
- the PCF excluding biogenic uptake (v2.3 ``pCfExcludingBiogenic``, v3 ``pcfExcludingBiogenicUptake``) per declared
  unit, to 3 significant digits, in tonnes from 1000 kg on;
- the declared unit, reference period, geography, standards (``crossSectoralStandards``, or the legacy
  ``crossSectoralStandardsUsed``), product category rules, IPCC characterization factors, the system boundary
  (cradle-to-gate, as every PACT footprint) and the primary data share;
- the verifier (the actor of the last ``verify`` event of the trail) and the verification date;
- the PACT footprint id, the publication date, and a QR code of the URL the caller gives (the footprint in the PACT
  API, ``/2/footprints/{pf_id}``, or a page about it).

A footprint that a later version replaced (PACT status ``Deprecated``) still gets its label, marked
"DEPRECATED / 已废止" and naming the successor where ``statusComment`` does.
"""

from __future__ import annotations

import base64
import io
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape

from parkzero.errors import Conflict, ValidationFailed
from parkzero.footprint import records
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store

LANGS = ("zh", "en")
TONNE_FROM_KG = 1000.0  # a PCF of at least this many kg CO2e per declared unit is shown in tonnes
QR_SCALE_PX = 10  # pixels per QR module in the embedded PNG
QR_BORDER_MODULES = 4  # the quiet zone ISO/IEC 18004 asks for
MAX_URL_CHARS = 1000
# longest texts shown, in columns (a CJK character is two): longer ones are cut with "…" to keep the label one page;
# the whole document is behind the QR code
MAX_COLUMNS = {"product": 84, "description": 170, "description_short": 80, "company": 90, "rule": 90}
COMPACT_LEVELS = 3  # 0: as designed; 1: smaller type; 2: also a one-line description (see `carbon_label_pdf`)
# PACT declared units (v2.3 §5.16, v3 §4.7.2): (English, Chinese)
UNIT_NAMES = {
    "liter": ("liter", "升"),
    "kilogram": ("kilogram", "千克"),
    "cubic meter": ("cubic meter", "立方米"),
    "kilowatt hour": ("kilowatt hour", "千瓦时"),
    "megajoule": ("megajoule", "兆焦"),
    "ton kilometer": ("ton kilometer", "吨公里"),
    "square meter": ("square meter", "平方米"),
    "piece": ("piece", "件"),
    "hour": ("hour", "小时"),
    "megabit second": ("megabit second", "兆比特秒"),
}
# crossSectoralStandards of v2.3 and v3, and the legacy crossSectoralStandardsUsed of v2, as they are written out
STANDARD_NAMES = {
    "ISO14067": "ISO 14067",
    "ISO Standard 14067": "ISO 14067",
    "ISO14083": "ISO 14083",
    "ISO14040-44": "ISO 14040/14044",
    "ISO Standard 14044": "ISO 14040/14044",
    "GHGP Product": "GHG Protocol Product Standard",
    "GHGP-Product": "GHG Protocol Product Standard",
    "GHG Protocol Product standard": "GHG Protocol Product Standard",
    "PEF": "PEF (EU Product Environmental Footprint)",
    "PAS2050": "PAS 2050",
    "PACT-1.0": "PACT Methodology 1.0",
    "PACT-2.0": "PACT Methodology 2.0",
    "PACT-3.0": "PACT Methodology 3.0",
}
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"]))


# -- the QR code ------------------------------------------------------------------------------------------------
def _qr(url: str) -> segno.QRCode:
    return segno.make_qr(url, error="m")  # at least M (15 % restorable); segno raises it where the size allows


def qr_matrix(url: str) -> tuple[tuple[bool, ...], ...]:
    """The modules of the label's QR code of `url`, row by row, True where dark, without the quiet zone.

    Parameters
    ----------
    url : str
        The payload, exactly as encoded (byte mode, UTF-8).

    Returns
    -------
    tuple of tuple of bool
        A square matrix, one row per module row.
    """
    return tuple(tuple(bool(m) for m in row) for row in _qr(url).matrix)


def qr_png(url: str) -> bytes:
    """The label's QR code of `url` as a black-and-white PNG: `QR_SCALE_PX` pixels per module of `qr_matrix`,
    with a quiet zone of `QR_BORDER_MODULES` modules."""
    buf = io.BytesIO()
    _qr(url).save(buf, kind="png", scale=QR_SCALE_PX, border=QR_BORDER_MODULES, dark="#000", light="#fff")
    return buf.getvalue()


# -- formatting -------------------------------------------------------------------------------------------------
def significant(value: float, digits: int = 3) -> str:
    """`value` rounded half up to `digits` significant digits, trailing zeros kept, thousands separated:
    1.854 -> "1.85", 12 -> "12.0", 1234.5 -> "1,230", 0.012345 -> "0.0123"."""
    if value == 0:
        return "0"
    d = Decimal(repr(float(value)))
    q = d.quantize(Decimal(1).scaleb(d.adjusted() - digits + 1), rounding=ROUND_HALF_UP)
    if q.adjusted() > d.adjusted():  # 9.996 -> 10.0, one digit fewer after the point
        q = q.quantize(Decimal(1).scaleb(q.adjusted() - digits + 1), rounding=ROUND_HALF_UP)
    return f"{q:,f}"


def _columns(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cut(text: str, max_columns: int) -> str:
    """`text` if it fits in `max_columns` columns (a CJK character takes two), else its start and "…"."""
    if sum(map(_columns, text)) <= max_columns:
        return text
    used, out = 1, []
    for char in text:
        used += _columns(char)
        if used > max_columns:
            break
        out.append(char)
    return "".join(out).rstrip(" ,;，；、。") + "…"


def _amount_text(amount: Decimal) -> str:
    return f"{amount.normalize():,f}"


def per_unit_text(unit: str, amount: Decimal, lang: str) -> str:
    """ "per kilogram", "per 1,000 kilograms", "每千克", "每 1,000 千克"."""
    en, zh = UNIT_NAMES.get(unit, (unit, unit))
    if lang == "zh":
        return f"每{zh}" if amount == 1 else f"每 {_amount_text(amount)} {zh}"
    return f"per {en}" if amount == 1 else f"per {_amount_text(amount)} {en}s"


def pcf_text(kgco2e: float, unit: str, amount: Decimal, lang: str) -> dict:
    """The PCF as the label writes it: ``value`` and ``unit`` (kg CO₂e, or t CO₂e from `TONNE_FROM_KG` on),
    ``per`` (the declared unit), ``kg`` (the figure in kg when it is shown in tonnes) and ``line``, all in one."""
    per = per_unit_text(unit, amount, lang)
    if abs(kgco2e) >= TONNE_FROM_KG:
        shown = {"value": significant(kgco2e / 1000.0), "unit": "t CO₂e", "kg": f"{significant(kgco2e)} kg CO₂e"}
    else:
        shown = {"value": significant(kgco2e), "unit": "kg CO₂e", "kg": None}
    return {**shown, "per": per, "line": f"{shown['value']} {shown['unit']} {per}"}


def _when(value, tz: ZoneInfo) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(tz)


def _day(value, tz: ZoneInfo) -> str:
    when = _when(value, tz)
    return when.date().isoformat() if when else "–"


def _period(pcf: dict) -> tuple[str, str]:
    """The reference period as inclusive dates (PACT's ``referencePeriodEnd`` is exclusive), in UTC as given."""
    start = _when(pcf.get("referencePeriodStart"), ZoneInfo("UTC"))
    end = _when(pcf.get("referencePeriodEnd"), ZoneInfo("UTC"))
    if start is None or end is None:
        return "–", "–"
    last = end - timedelta(days=1) if end.time() == datetime.min.time() else end
    return start.date().isoformat(), last.date().isoformat()


def _standards(pcf: dict) -> list[str]:
    names = pcf.get("crossSectoralStandards") or pcf.get("crossSectoralStandardsUsed") or []
    return list(dict.fromkeys(STANDARD_NAMES.get(n, n) for n in names))


def _rules(pcf: dict) -> list[str]:
    out = []
    for rule in pcf.get("productOrSectorSpecificRules") or []:
        operator = rule.get("otherOperatorName") or rule.get("operator") or ""
        text = f"{operator}: {', '.join(rule.get('ruleNames') or [])}".strip(": ")
        out.append(cut(text, MAX_COLUMNS["rule"]))
    return out


def _factors(pcf: dict) -> list[str]:
    reports = (
        pcf.get("ipccCharacterizationFactors")
        or pcf.get("ipccCharacterizationFactorsSources")
        or ([pcf["characterizationFactors"]] if pcf.get("characterizationFactors") else [])
    )
    return [f"IPCC {r} GWP100" for r in reports]


def _geography(pcf: dict, lang: str) -> str:
    parts = [pcf.get(k) for k in ("geographyCountrySubdivision", "geographyCountry", "geographyRegionOrSubregion")]
    shown = [p for p in parts if p]
    return " / ".join(shown) if shown else ("全球" if lang == "zh" else "Global")


# -- the label --------------------------------------------------------------------------------------------------
def label_model(
    store: Store, scope: Scope, park_code: str, footprint_id: int, *, footprint_url: str, lang: str = "zh"
) -> dict:
    """Everything the label shows, read from the stored footprint, its document and its review trail.

    Parameters
    ----------
    store, scope, park_code, footprint_id
        As for `parkzero.footprint.records.get`: a footprint the caller may not see is NotFound.
    footprint_url : str
        The absolute http(s) URL the QR code encodes, as given.
    lang : {"zh", "en"}
        The language of the label's words.

    Returns
    -------
    dict
        The template's model.

    Raises
    ------
    Conflict
        If the footprint is not published.
    ValidationFailed
        If `lang` or `footprint_url` is not acceptable.
    """
    if lang not in LANGS:
        raise ValidationFailed(f"label language must be one of {', '.join(LANGS)}, not {lang!r}")
    if not re.match(r"^https?://[^\s/]+\S*$", footprint_url or "") or len(footprint_url) > MAX_URL_CHARS:
        raise ValidationFailed(
            f"the QR code needs an absolute http(s) URL of at most {MAX_URL_CHARS} characters, not {footprint_url!r}"
        )
    rec = records.get(store, scope, park_code, footprint_id)
    if rec["status"] != "published":
        raise Conflict(
            f"footprint {footprint_id} is {rec['status']}: a carbon label needs a footprint that was verified and"
            " published first"
        )
    trail = records.events(store, scope, park_code, footprint_id)
    verify = next((e for e in reversed(trail) if e["action"] == "verify"), None)
    park = repo.get_park(store, scope, park_code)
    tz = ZoneInfo(park["timezone"])
    doc = rec["document"]
    pcf = doc.get("pcf") or {}
    v3 = str(doc.get("specVersion", "")).startswith("3")
    amount = Decimal(str(pcf.get("declaredUnitAmount", "1"))) if v3 else Decimal(1)
    product_amount = None if v3 else Decimal(str(pcf.get("unitaryProductAmount", "1")))
    unit = rec["declared_unit"]
    start, end = _period(pcf)
    deprecated = rec["pact_status"] == "Deprecated"
    successor = _UUID.search(doc.get("statusComment") or "") if deprecated else None
    share = rec["primary_data_share_pct"]
    return {
        "lang": lang,
        "pf_id": rec["pf_id"],
        "spec_version": doc.get("specVersion"),
        "product": cut(doc.get("productNameCompany") or "–", MAX_COLUMNS["product"]),
        "description": cut(doc.get("productDescription") or "", MAX_COLUMNS["description"]),
        "description_short": cut(doc.get("productDescription") or "", MAX_COLUMNS["description_short"]),
        "company": cut(doc.get("companyName") or "–", MAX_COLUMNS["company"]),
        "product_ids": list(doc.get("productIds") or []),
        "pcf": pcf_text(rec["pcf_kgco2e"], unit, amount, lang),
        "pcf_kgco2e": rec["pcf_kgco2e"],
        "declared_unit": {
            "amount": _amount_text(amount),
            "name": UNIT_NAMES.get(unit, (unit, unit))[1 if lang == "zh" else 0],
            "pact": unit,
            "product_amount": None if product_amount in (None, 1) else _amount_text(product_amount),
        },
        "period": {"start": start, "end": end},
        "geography": _geography(pcf, lang),
        "standards": _standards(pcf),
        "rules": _rules(pcf),
        "factors": _factors(pcf),
        "boundary": "从摇篮到大门（cradle-to-gate）" if lang == "zh" else "cradle-to-gate",
        "primary_share": None if share is None else significant(share),
        "verifier": None
        if verify is None
        else {
            "actor": verify["actor"],
            "role": verify["role"],
            "date": _day(verify["logged_at"], tz),
            "comment": verify["body"],
        },
        "published": _day(rec["published_at"], tz),
        "deprecated": deprecated,
        "status_comment": doc.get("statusComment") if deprecated else None,
        "successor": successor.group(0) if successor else None,
        "url": footprint_url,
        "qr_data_uri": "data:image/png;base64," + base64.b64encode(qr_png(footprint_url)).decode("ascii"),
        "park": park["name_zh"] if lang == "zh" and park.get("name_zh") else park["name"],
    }


def carbon_label_html(
    store: Store,
    scope: Scope,
    park_code: str,
    footprint_id: int,
    *,
    footprint_url: str,
    lang: str = "zh",
    compact: int = 0,
) -> str:
    """The label as one HTML page (see `carbon_label_pdf`); the QR code is a PNG data URI (`qr_png`) in it.
    `compact` (0 to ``COMPACT_LEVELS - 1``) sets smaller type for footprints with long texts."""
    model = label_model(store, scope, park_code, footprint_id, footprint_url=footprint_url, lang=lang)
    return _render(model, compact)


def _render(model: dict, compact: int) -> str:
    return _env.get_template("carbon_label.html").render(m=model, zh=model["lang"] == "zh", compact=compact)


def carbon_label_pdf(
    store: Store, scope: Scope, park_code: str, footprint_id: int, *, footprint_url: str, lang: str = "zh"
) -> bytes:
    """The carbon label of a published footprint as a one-page PDF (100 x 150 mm), rendered by WeasyPrint.

    A label whose texts do not fit one page at the designed type size is set smaller (`COMPACT_LEVELS`).

    Parameters
    ----------
    store : Store
    scope : Scope
        The caller; a footprint it may not see is NotFound, as in `parkzero.footprint.records.get`.
    park_code : str
    footprint_id : int
        The record id (not the PACT id).
    footprint_url : str
        The absolute URL the QR code encodes, exactly: e.g. ``https://host/2/footprints/{pf_id}`` or a page URL.
    lang : {"zh", "en"}
        Chinese or English words.

    Returns
    -------
    bytes
        The PDF.

    Raises
    ------
    Conflict
        If the footprint is not published (it must be verified and published first).
    NotFound
        If there is no such footprint or it is not the caller's to see.
    ValidationFailed
        If `lang` or `footprint_url` is not acceptable.
    """
    from weasyprint import HTML

    model = label_model(store, scope, park_code, footprint_id, footprint_url=footprint_url, lang=lang)
    for level in range(COMPACT_LEVELS):
        document = HTML(string=_render(model, level)).render()
        if len(document.pages) == 1:
            break
    return document.write_pdf()
