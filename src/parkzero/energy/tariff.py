"""Chinese electricity tariffs: time-of-use periods, energy prices and the monthly bill.

Pure functions over plain values, in the manner of pvlib's topic modules: a tariff is data
(`energy/data/tariffs.toml`, one table per province, voltage class and kind), parsed and checked once into a
frozen `Tariff`; everything else takes a tariff and a time index or a meter series and returns numbers.

- `period_labels(index, tariff)`: "sharp" 尖峰, "peak" 高峰, "flat" 平段, "valley" 低谷 or "deep_valley" 深谷
  for every interval start (park-local time, Asia/Shanghai);
- `energy_prices(index, tariff, flat_price_cny_per_kwh)`: CNY/kWh of every interval. Tariffs carry multiples of
  the month's flat price, never the flat price itself: that follows the monthly grid agency purchase price
  (电网企业代理购电价格) or the customer's market contract, so it is an input (one number, or one per month);
- `bill(import_kwh, tariff, flat_price_cny_per_kwh, ...)`: energy items per month and period, the basic charge
  (基本电费) of a two-part tariff on the month's maximum 15-minute demand or on the transformer rating, the
  contracted-demand penalty, and export income;
- `demand_charge_rate(tariff, demand_basis)`: the monthly rate an optimiser puts on the peak.

Rules the bill follows (sources are in the data file next to each figure):

- demand [kW] = the month's maximum of 15-minute energy / 0.25 h;
- basis ``"max_demand"`` without a contracted demand: the month's maximum demand is billed at the demand charge;
  with one (发改办价格〔2016〕1583号): the contracted demand is billed (raised to the tariff's floor, 40 % of
  the transformer rating, when `transformer_kva` is given), and the part of the maximum demand above
  contracted x (1 + tolerance, 5 %) is billed again as ``"demand_penalty"`` at factor (2) x the demand charge;
- basis ``"capacity"``: the transformer rating [kVA] at the capacity charge;
- demand and capacity charges are monthly: a month only partly covered by the series is charged in full
  (its maximum demand is the maximum over the intervals present);
- export income is the exported energy at the tariff's export price, a negative amount;
- a single-part tariff has energy and export items only (demand arguments are ignored).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from parkzero.calendar import holiday_mask, working_day_mask
from parkzero.errors import Issue, NotFound, ValidationFailed

__all__ = [
    "DEMAND_BASES",
    "INTERVAL_H",
    "KINDS",
    "PERIODS",
    "TARIFF_TZ",
    "Bill",
    "BillItem",
    "DeepValley",
    "ItemSource",
    "Season",
    "Tariff",
    "bill",
    "demand_charge_rate",
    "energy_prices",
    "get_tariff",
    "list_tariffs",
    "parse_tariffs",
    "period_labels",
]

TARIFF_TZ = "Asia/Shanghai"  # Chinese tariff periods are in Beijing time wherever the meter clock runs
PERIODS = ("sharp", "peak", "flat", "valley", "deep_valley")  # 尖峰, 高峰, 平段, 低谷, 深谷
TOU_PERIODS = PERIODS[:4]  # the ones a season gives hours for; deep_valley is a rule on top
KINDS = ("two_part", "single_part")  # 两部制, 单一制
DEMAND_BASES = ("max_demand", "capacity")  # 按最大需量, 按变压器容量
DAY_RULES = ("rest_days", "holidays")
INTERVAL_H = 0.25  # meter interval [h]
SLOT_MIN = 15
SLOTS_PER_DAY = 24 * 60 // SLOT_MIN
_DEEP = PERIODS.index("deep_valley")


# -- the tariff as data ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemSource:
    """Where one item of a tariff comes from.

    `item` is one of "tou", "deep_valley", "demand_charge", "capacity_charge", "demand_penalty", "export";
    a `note` starting with "unverified:" marks a figure not confirmed against a primary table.
    """

    item: str
    source: str
    url: str = ""
    note: str = ""

    @property
    def unverified(self) -> bool:
        return self.note.lower().startswith("unverified")


@dataclass(frozen=True)
class Season:
    """One month group of a time-of-use calendar.

    Parameters
    ----------
    name : str
        Label for people ("July-August, sharp peak at noon").
    months : tuple of int
        Calendar months 1-12 the group applies to.
    ranges : tuple of (str, str)
        (period, "HH:MM-HH:MM") pairs in park-local time; together they cover the day exactly once.
    multipliers : tuple of (str, float)
        (period, multiple of the flat price [-]) pairs; flat is 1.
    """

    name: str
    months: tuple[int, ...]
    ranges: tuple[tuple[str, str], ...]
    multipliers: tuple[tuple[str, float], ...]

    def multiplier(self, period: str) -> float:
        """Multiple of the flat price for `period` [-] (flat: 1)."""
        found = dict(self.multipliers)
        return found.get(period, 1.0 if period == "flat" else math.nan)


@dataclass(frozen=True)
class DeepValley:
    """Deep-valley rule: on `days` ("rest_days" or "holidays") of `months`, `hours` cost multiplier x flat."""

    multiplier: float
    months: tuple[int, ...]
    days: str
    hours: tuple[str, ...]


@dataclass(frozen=True)
class Tariff:
    """An electricity tariff of one province, customer kind and voltage class, as read from the data file.

    Parameters
    ----------
    code : str
        Identifier, e.g. ``"sh_large_industry_10kv"``.
    name, name_zh : str
        Names in English and Chinese.
    region : str
        ISO 3166-2 code of the province, e.g. ``"CN-SH"``.
    kind : str
        ``"two_part"`` (两部制: energy + basic charge) or ``"single_part"`` (单一制: energy only).
    voltage_class : str
        Supply voltage class, e.g. ``"1-10 kV"``.
    source : tuple of str
        Numbers of the documents the tariff rests on.
    seasons : tuple of Season
        Time-of-use calendar; every month is in exactly one season.
    deep_valley : DeepValley or None
        Deep-valley rule, if the tariff has one.
    demand_charge_cny_per_kw_month : float or None
        Demand charge on the month's maximum 15-minute demand [CNY/kW-month]; None for single-part.
    capacity_charge_cny_per_kva_month : float or None
        Capacity charge on the transformer rating [CNY/kVA-month]; None for single-part.
    penalty_factor : float or None
        Multiple of the demand charge for maximum demand above the contracted demand plus tolerance [-].
    penalty_tolerance_pct : float or None
        Tolerance above the contracted demand before the penalty applies [%].
    contract_floor_pct_of_kva : float or None
        Lowest contracted demand, as a share of the transformer rating [%] (kW counted against kVA).
    export_price_cny_per_kwh : float
        Price paid for energy fed into the grid [CNY/kWh].
    item_sources : tuple of ItemSource
        Source (and caveat) of every item.
    """

    code: str
    name: str
    name_zh: str
    region: str
    kind: str
    voltage_class: str
    source: tuple[str, ...]
    seasons: tuple[Season, ...]
    export_price_cny_per_kwh: float
    deep_valley: DeepValley | None = None
    demand_charge_cny_per_kw_month: float | None = None
    capacity_charge_cny_per_kva_month: float | None = None
    penalty_factor: float | None = None
    penalty_tolerance_pct: float | None = None
    contract_floor_pct_of_kva: float | None = None
    effective_from: str | None = None
    note: str = ""
    item_sources: tuple[ItemSource, ...] = ()
    # lookup tables built from the seasons: period code and multiplier per (month - 1, 15-minute slot)
    _labels: np.ndarray = field(init=False, repr=False, compare=False)
    _multipliers: np.ndarray = field(init=False, repr=False, compare=False)
    _deep_months: np.ndarray = field(init=False, repr=False, compare=False)
    _deep_slots: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        issues: list[Issue] = []
        labels, multipliers = _season_tables(self.seasons, self.code, None, issues)
        deep_months = np.zeros(13, dtype=bool)
        deep_slots = np.zeros(SLOTS_PER_DAY, dtype=bool)
        if self.deep_valley is not None:
            if self.deep_valley.days not in DAY_RULES:
                issues.append(_issue(self.code, "deep_valley.days", f"must be one of {', '.join(DAY_RULES)}"))
            for month in self.deep_valley.months:
                if isinstance(month, Integral) and 1 <= month <= 12:
                    deep_months[month] = True
                else:
                    issues.append(_issue(self.code, "deep_valley.months", "months are numbers 1-12", month))
            for text in self.deep_valley.hours:
                slots = _range_slots(text)
                if slots is None:
                    issues.append(_issue(self.code, "deep_valley.hours", f"not a range HH:MM-HH:MM: {text!r}"))
                else:
                    deep_slots[slots] = True
        if issues:
            raise ValidationFailed(f"tariff {self.code}: {len(issues)} problem(s)", issues=issues)
        object.__setattr__(self, "_labels", labels)
        object.__setattr__(self, "_multipliers", multipliers)
        object.__setattr__(self, "_deep_months", deep_months)
        object.__setattr__(self, "_deep_slots", deep_slots)

    @property
    def two_part(self) -> bool:
        return self.kind == "two_part"

    def item_source(self, item: str) -> ItemSource | None:
        """Source of one item ("tou", "deep_valley", "demand_charge", ...), or None if the tariff has none."""
        return next((s for s in self.item_sources if s.item == item), None)

    @property
    def unverified_items(self) -> tuple[str, ...]:
        """Items whose figures were not confirmed against a primary table (their note says "unverified")."""
        return tuple(s.item for s in self.item_sources if s.unverified)


# -- the packaged tariffs ----------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _packaged() -> tuple[Tariff, ...]:
    text = resources.files("parkzero.energy").joinpath("data", "tariffs.toml").read_text(encoding="utf-8")
    return tuple(parse_tariffs(text, "parkzero/energy/data/tariffs.toml"))


def list_tariffs() -> list[Tariff]:
    """All tariffs shipped with parkzero (`energy/data/tariffs.toml`), in file order."""
    return list(_packaged())


def get_tariff(code: str) -> Tariff:
    """The shipped tariff called `code`.

    Raises
    ------
    NotFound
        No tariff has that code (the message lists the known codes).
    """
    for tariff in _packaged():
        if tariff.code == code:
            return tariff
    known = ", ".join(t.code for t in _packaged())
    raise NotFound(f"unknown tariff {code!r}; known tariffs: {known}")


def demand_charge_rate(tariff: Tariff, demand_basis: str = "max_demand") -> float:
    """Monthly rate of the basic charge, for an optimiser that prices the month's peak.

    Parameters
    ----------
    tariff : Tariff
    demand_basis : {"max_demand", "capacity"}
        Basis the customer chose for the basic charge.

    Returns
    -------
    float
        [CNY/kW-month] on the maximum demand for ``"max_demand"``, [CNY/kVA-month] on the transformer rating
        for ``"capacity"`` (a fixed cost: peaks do not change it); 0.0 for a single-part tariff.
    """
    _check_basis(demand_basis)
    if not tariff.two_part:
        return 0.0
    rate = (
        tariff.demand_charge_cny_per_kw_month
        if demand_basis == "max_demand"
        else tariff.capacity_charge_cny_per_kva_month
    )
    return float(rate or 0.0)


# -- parsing and checking ------------------------------------------------------------------------------------------
_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_TARIFF_KEYS = {
    "code",
    "name",
    "name_zh",
    "region",
    "kind",
    "voltage_class",
    "source",
    "effective_from",
    "note",
    "tou",
    "deep_valley",
    "demand_charge",
    "capacity_charge",
    "demand_penalty",
    "export",
}
_TWO_PART_ITEMS = ("demand_charge", "capacity_charge", "demand_penalty")


def _issue(code: str, fld: str, reason: str, value: Any = None, where: str | None = None) -> Issue:
    return Issue(reason, file=where, column=f"{code}: {fld}", value=None if value is None else str(value))


def _range_slots(text: str) -> np.ndarray | None:
    """15-minute slots (0-95) of a park-local range "HH:MM-HH:MM" ("22:00-06:00" wraps); None if malformed."""
    m = _RANGE.match(text.strip()) if isinstance(text, str) else None
    if m is None:
        return None
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 24 or m1 % SLOT_MIN or m2 % SLOT_MIN or m1 > 45 or m2 > 45 or (h2 == 24 and m2):
        return None
    start, end = (h1 * 60 + m1) // SLOT_MIN, (h2 * 60 + m2) // SLOT_MIN
    if end == 0:
        end = SLOTS_PER_DAY
    if start < end:
        return np.arange(start, end)
    return np.concatenate([np.arange(start, SLOTS_PER_DAY), np.arange(0, end)])


def _slot_text(slots: np.ndarray) -> str:
    """Contiguous runs of slots as "HH:MM-HH:MM, ..." for messages."""
    runs: list[str] = []
    start = prev = None
    for s in [*sorted(int(x) for x in slots), None]:
        if start is not None and (s is None or s != prev + 1):
            a, b = start * SLOT_MIN, (prev + 1) * SLOT_MIN
            runs.append(f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}")
            start = None
        if s is not None and start is None:
            start = s
        prev = s
    return ", ".join(runs)


def _season_tables(
    seasons: tuple[Season, ...], code: str, where: str | None, issues: list[Issue]
) -> tuple[np.ndarray, np.ndarray]:
    """Period codes and multipliers per (month - 1, slot); problems (gaps, overlaps, months) go to `issues`."""
    labels = np.full((12, SLOTS_PER_DAY), -1, dtype=np.int8)
    multipliers = np.full((12, SLOTS_PER_DAY), np.nan)
    owner: dict[int, int] = {}
    for k, season in enumerate(seasons):
        fld = f"tou.season[{k}]"
        day = np.full(SLOTS_PER_DAY, -1, dtype=np.int8)
        count = np.zeros(SLOTS_PER_DAY, dtype=int)
        names: list[set[str]] = [set() for _ in range(SLOTS_PER_DAY)]
        if not season.ranges:
            issues.append(
                _issue(code, fld, "missing hours: give the ranges of sharp / peak / flat / valley", where=where)
            )
            continue
        for period, text in season.ranges:
            if period not in TOU_PERIODS:
                issues.append(
                    _issue(
                        code,
                        f"{fld}.{period}",
                        f"unknown period name {period!r} (known: {', '.join(TOU_PERIODS)})",
                        where=where,
                    )
                )
                continue
            slots = _range_slots(text)
            if slots is None:
                issues.append(
                    _issue(code, f"{fld}.{period}", "not a range HH:MM-HH:MM on 15-minute boundaries", text, where)
                )
                continue
            day[slots] = TOU_PERIODS.index(period)
            count[slots] += 1
            for s in slots:
                names[s].add(period)
        overlap = np.flatnonzero(count > 1)
        if overlap.size:
            both = " and ".join(sorted(set().union(*(names[s] for s in overlap))))
            issues.append(_issue(code, fld, f"hours overlap at {_slot_text(overlap)} ({both})", where=where))
        gaps = np.flatnonzero(count == 0)
        if gaps.size:
            issues.append(
                _issue(code, fld, f"no period covers {_slot_text(gaps)}: the ranges must cover 24 h", where=where)
            )
        mult = np.full(SLOTS_PER_DAY, np.nan)
        for p, period in enumerate(TOU_PERIODS):
            if (day == p).any():
                value = season.multiplier(period)
                if not math.isfinite(value):
                    issues.append(_issue(code, f"{fld}.multipliers", f"no multiplier for {period}", where=where))
                mult[day == p] = value
        for month in season.months:
            if not (isinstance(month, Integral) and 1 <= month <= 12):
                issues.append(_issue(code, f"{fld}.months", "months are numbers 1-12", month, where))
                continue
            if month in owner:
                issues.append(
                    _issue(
                        code, f"{fld}.months", f"month {month} is already in tou.season[{owner[month]}]", where=where
                    )
                )
                continue
            owner[int(month)] = k
            labels[month - 1] = day
            multipliers[month - 1] = mult
    missing = [m for m in range(1, 13) if m not in owner]
    if missing:
        issues.append(_issue(code, "tou.season", f"no season for month(s) {', '.join(map(str, missing))}", where=where))
    return labels, multipliers


class _Reader:
    """Reads one TOML table of a tariff, recording each problem with the tariff code and field."""

    def __init__(self, table: Mapping[str, Any], code: str, prefix: str, where: str, issues: list[Issue]):
        self.table, self.code, self.prefix, self.where, self.issues = table, code, prefix, where, issues

    def bad(self, key: str, reason: str, value: Any = None) -> None:
        self.issues.append(_issue(self.code, self.prefix + key, reason, value, self.where))

    def text(self, key: str, *, required: bool = True) -> str:
        value = self.table.get(key)
        if value is None:
            if required:
                self.bad(key, "missing")
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.bad(key, "must be a non-empty string", value)
            return ""
        return value

    def number(self, key: str, *, required: bool = True, minimum: float = 0.0) -> float | None:
        value = self.table.get(key)
        if value is None:
            if required:
                self.bad(key, "missing")
            return None
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
            self.bad(key, "must be a number", value)
            return None
        if value < minimum:
            self.bad(key, "must not be negative" if minimum == 0 else f"must be >= {minimum:g}", value)
            return None
        return float(value)

    def table_at(self, key: str, *, required: bool = True) -> _Reader | None:
        value = self.table.get(key)
        if value is None:
            if required:
                self.bad(key, "missing")
            return None
        if not isinstance(value, Mapping):
            self.bad(key, "must be a table", value)
            return None
        return _Reader(value, self.code, f"{self.prefix}{key}.", self.where, self.issues)

    def source(self, item: str) -> ItemSource:
        return ItemSource(
            item, self.text("source"), self.text("url", required=False), self.text("note", required=False)
        )


def _read_hours(r: _Reader, key: str) -> tuple[str, ...]:
    value = r.table.get(key)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        r.bad(key, "missing hours: give a list of ranges HH:MM-HH:MM", value)
        return ()
    for text in value:
        if _range_slots(text) is None:
            r.bad(key, "not a range HH:MM-HH:MM on 15-minute boundaries", text)
    return tuple(value)


def _read_months(r: _Reader, key: str) -> tuple[int, ...]:
    value = r.table.get(key)
    ok = isinstance(value, list) and value and all(isinstance(m, int) and not isinstance(m, bool) for m in value)
    if not ok or not all(1 <= m <= 12 for m in value):
        r.bad(key, "must be a list of months 1-12", value)
        return ()
    return tuple(value)


def _read_season(r: _Reader) -> Season:
    for key in r.table:
        if key not in {"name", "months", "multipliers", *TOU_PERIODS}:
            hint = " (the deep valley is set by [tariff.deep_valley])" if key == "deep_valley" else ""
            r.bad(key, f"unknown period name {key!r} (known: {', '.join(TOU_PERIODS)}){hint}")
    months = _read_months(r, "months")
    ranges = tuple((p, text) for p in TOU_PERIODS if p in r.table for text in _read_hours(r, p))
    multipliers: list[tuple[str, float]] = []
    m = r.table_at("multipliers")
    if m is not None:
        for key in m.table:
            if key not in TOU_PERIODS:
                m.bad(key, f"unknown period name {key!r} (known: {', '.join(TOU_PERIODS)})")
                continue
            value = m.number(key)
            if value is None:
                continue
            if key == "flat" and value != 1.0:
                m.bad(key, "the flat price is the reference: its multiplier is 1", value)
                continue
            multipliers.append((key, value))
    return Season(r.text("name", required=False), months, ranges, tuple(multipliers))


def _read_tariff(raw: Any, i: int, where: str, issues: list[Issue]) -> Tariff | None:
    if not isinstance(raw, Mapping):
        issues.append(Issue("each [[tariff]] must be a table", file=where, column=f"tariff[{i}]"))
        return None
    code = raw.get("code") if isinstance(raw.get("code"), str) else f"tariff[{i}]"
    n_before = len(issues)
    r = _Reader(raw, code, "", where, issues)
    if not _CODE.match(code):
        r.bad("code", "missing or not a code of lower-case letters, digits and _", raw.get("code"))
    for key in raw:
        if key not in _TARIFF_KEYS:
            r.bad(key, f"unknown field (known: {', '.join(sorted(_TARIFF_KEYS))})")
    kind = r.text("kind")
    if kind and kind not in KINDS:
        r.bad("kind", f"must be one of {', '.join(KINDS)}", kind)
    source = raw.get("source")
    if isinstance(source, str):
        source = [source]
    if not isinstance(source, list) or not source or not all(isinstance(s, str) and s.strip() for s in source):
        r.bad("source", "give the document numbers the tariff rests on (a list of strings)", source)
        source = []
    sources: list[ItemSource] = []

    seasons: list[Season] = []
    n_before_tou = len(issues)
    tou = r.table_at("tou")
    if tou is not None:
        sources.append(tou.source("tou"))
        raw_seasons = tou.table.get("season")
        if not isinstance(raw_seasons, list) or not raw_seasons:
            tou.bad("season", "missing: give one [[tariff.tou.season]] per month group")
        else:
            for k, s in enumerate(raw_seasons):
                if not isinstance(s, Mapping):
                    tou.bad(f"season[{k}]", "must be a table")
                    continue
                seasons.append(_read_season(_Reader(s, code, f"tou.season[{k}].", where, issues)))
    if seasons and len(issues) == n_before_tou:  # the day's coverage and the months, once every range reads
        _season_tables(tuple(seasons), code, where, issues)

    deep = None
    dv = r.table_at("deep_valley", required=False)
    if dv is not None:
        sources.append(dv.source("deep_valley"))
        days = dv.text("days")
        if days and days not in DAY_RULES:
            dv.bad("days", f"must be one of {', '.join(DAY_RULES)}", days)
        mult = dv.number("multiplier")
        deep = DeepValley(mult if mult is not None else 0.0, _read_months(dv, "months"), days, _read_hours(dv, "hours"))

    charges: dict[str, float | None] = {}
    if kind == "two_part":
        dc, cc, dp = (r.table_at(key) for key in _TWO_PART_ITEMS)
        if dc is not None:
            sources.append(dc.source("demand_charge"))
            charges["demand_charge_cny_per_kw_month"] = dc.number("cny_per_kw_month")
        if cc is not None:
            sources.append(cc.source("capacity_charge"))
            charges["capacity_charge_cny_per_kva_month"] = cc.number("cny_per_kva_month")
        if dp is not None:
            sources.append(dp.source("demand_penalty"))
            charges["penalty_factor"] = dp.number("factor", minimum=1.0)
            charges["penalty_tolerance_pct"] = dp.number("tolerance_pct")
            charges["contract_floor_pct_of_kva"] = dp.number("contract_floor_pct_of_kva", required=False)
    elif kind == "single_part":
        for key in _TWO_PART_ITEMS:
            if key in raw:
                r.bad(key, "a single-part tariff has no demand or capacity charge")

    export = r.table_at("export")
    export_price = None
    if export is not None:
        sources.append(export.source("export"))
        export_price = export.number("cny_per_kwh")

    effective = r.text("effective_from", required=False) or None
    texts = {key: r.text(key) for key in ("name", "name_zh", "region", "voltage_class")}
    note = r.text("note", required=False)
    if len(issues) > n_before:
        return None
    return Tariff(
        code=code,
        kind=kind,
        source=tuple(source),
        seasons=tuple(seasons),
        deep_valley=deep,
        export_price_cny_per_kwh=float(export_price or 0.0),
        effective_from=effective,
        note=note,
        item_sources=tuple(sources),
        **texts,
        **charges,
    )


def parse_tariffs(text: str, where: str = "tariffs.toml") -> list[Tariff]:
    """Parse and check tariffs written in the layout of `energy/data/tariffs.toml`.

    Parameters
    ----------
    text : str
        TOML text with one ``[[tariff]]`` table per tariff.
    where : str
        Name of the file (or other origin) for messages.

    Returns
    -------
    list of Tariff

    Raises
    ------
    ValidationFailed
        Not TOML, or any tariff is wrong: missing or malformed hours, a day's ranges overlapping or leaving a
        gap, unknown period names, months in no or two seasons, negative prices or multipliers, missing
        items of a two-part tariff, duplicate codes. Every issue names the tariff code and the field;
        nothing is returned unless all tariffs are right.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed(f"{where}: not valid TOML ({exc})") from None
    raw = doc.get("tariff")
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed(f"{where}: no [[tariff]] tables found")
    issues: list[Issue] = []
    tariffs: list[Tariff] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        tariff = _read_tariff(entry, i, where, issues)
        if tariff is None:
            continue
        if tariff.code in seen:
            issues.append(_issue(tariff.code, "code", "duplicate tariff code", where=where))
        seen.add(tariff.code)
        tariffs.append(tariff)
    if issues:
        raise ValidationFailed(f"{where}: {len(issues)} problem(s) in the tariffs; none was loaded", issues=issues)
    return tariffs


# -- time-of-use periods and prices --------------------------------------------------------------------------------
def _local_index(index: Any, name: str = "index") -> pd.DatetimeIndex:
    if not isinstance(index, pd.DatetimeIndex):
        raise ValidationFailed(f"{name} must be a pandas.DatetimeIndex, not {type(index).__name__}")
    if index.tz is None:
        first = f" (first {index[0]})" if len(index) else ""
        raise ValidationFailed(
            f"{name} has naive timestamps{first}: give them a time zone, e.g. .tz_localize('{TARIFF_TZ}')"
        )
    return index.tz_convert(TARIFF_TZ)


def _month_slot(local: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    month0 = local.month.to_numpy(dtype=np.int64) - 1
    slot = (local.hour.to_numpy(dtype=np.int64) * 60 + local.minute.to_numpy(dtype=np.int64)) // SLOT_MIN
    return month0, slot


def _deep_mask(local: pd.DatetimeIndex, tariff: Tariff, month0: np.ndarray, slot: np.ndarray) -> np.ndarray:
    dv = tariff.deep_valley
    mask = np.zeros(len(local), dtype=bool)
    if dv is None or not len(local):
        return mask
    candidate = tariff._deep_months[month0 + 1] & tariff._deep_slots[slot]
    if candidate.any():
        sub = local[candidate]
        day_off = holiday_mask(sub) if dv.days == "holidays" else ~working_day_mask(sub)
        mask[np.flatnonzero(candidate)[day_off]] = True
    return mask


def _codes(local: pd.DatetimeIndex, tariff: Tariff) -> tuple[np.ndarray, np.ndarray]:
    """Period code (index into PERIODS) and multiplier of the flat price of every local timestamp."""
    month0, slot = _month_slot(local)
    codes = tariff._labels[month0, slot].astype(np.int64)
    mult = tariff._multipliers[month0, slot].copy()
    deep = _deep_mask(local, tariff, month0, slot)
    if tariff.deep_valley is not None:
        codes[deep] = _DEEP
        mult[deep] = tariff.deep_valley.multiplier
    return codes, mult


def period_labels(index: pd.DatetimeIndex, tariff: Tariff) -> np.ndarray:
    """Time-of-use period of every interval.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Interval start times, time-zone aware (any zone; periods are read in Asia/Shanghai time).
    tariff : Tariff

    Returns
    -------
    numpy.ndarray of str
        "sharp", "peak", "flat", "valley" or "deep_valley" per interval. The period of the 15-minute slot
        holding the start decides; the deep valley follows the local date of the start.

    Raises
    ------
    ValidationFailed
        `index` is not a DatetimeIndex or has no time zone.
    """
    codes, _ = _codes(_local_index(index), tariff)
    return np.asarray(PERIODS, dtype=str)[codes]


_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _flat_lookup(flat: float | Mapping[int | str, float]) -> tuple[float | None, dict[int, float], dict[str, float]]:
    """Split the flat price input into (one price, by month number, by "YYYY-MM"), checking every value."""

    def check(value: Any, what: str) -> float:
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
            raise ValidationFailed(f"flat_price_cny_per_kwh {what}: must be a number, not {value!r}")
        if value < 0:
            raise ValidationFailed(f"flat_price_cny_per_kwh {what}: must not be negative ({value!r})")
        return float(value)

    if not isinstance(flat, Mapping):
        return check(flat, "value"), {}, {}
    by_month: dict[int, float] = {}
    by_year_month: dict[str, float] = {}
    for key, value in flat.items():
        if isinstance(key, Integral) and not isinstance(key, bool) and 1 <= key <= 12:
            by_month[int(key)] = check(value, f"for month {key}")
            continue
        m = _YEAR_MONTH.match(key) if isinstance(key, str) else None
        if m is None or not 1 <= int(m.group(2)) <= 12:
            raise ValidationFailed(
                f"flat_price_cny_per_kwh: key {key!r} is neither a month number 1-12 nor a month 'YYYY-MM'"
            )
        by_year_month[key] = check(value, f"for {key}")
    return None, by_month, by_year_month


def _flat_by_month(year_months: np.ndarray, flat: float | Mapping[int | str, float]) -> dict[int, float]:
    """Flat price [CNY/kWh] of every month code (year * 100 + month); "YYYY-MM" keys win over month numbers."""
    single, by_month, by_year_month = _flat_lookup(flat)
    out: dict[int, float] = {}
    for ym in np.unique(year_months).tolist():
        label = f"{ym // 100:04d}-{ym % 100:02d}"
        if single is not None:
            out[ym] = single
        elif label in by_year_month:
            out[ym] = by_year_month[label]
        elif ym % 100 in by_month:
            out[ym] = by_month[ym % 100]
        else:
            raise ValidationFailed(
                f"missing flat price for {label}: give flat_price_cny_per_kwh['{label}'] or [{ym % 100}]"
            )
    return out


def _year_months(local: pd.DatetimeIndex) -> np.ndarray:
    return local.year.to_numpy(dtype=np.int64) * 100 + local.month.to_numpy(dtype=np.int64)


def energy_prices(
    index: pd.DatetimeIndex, tariff: Tariff, flat_price_cny_per_kwh: float | Mapping[int | str, float]
) -> np.ndarray:
    """Energy price of every interval.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Interval start times, time-zone aware.
    tariff : Tariff
    flat_price_cny_per_kwh : float or mapping
        The flat-period price [CNY/kWh]: one number for all months, or a mapping keyed by month number 1-12
        and/or "YYYY-MM" (the monthly grid agency purchase price); "YYYY-MM" wins over the month number.

    Returns
    -------
    numpy.ndarray of float
        Price per interval [CNY/kWh] = the period's multiplier x the month's flat price.

    Raises
    ------
    ValidationFailed
        Naive or wrong index; a month of the index missing from the mapping ("missing flat price for
        2025-03"); a negative or non-numeric price; a key that is neither 1-12 nor "YYYY-MM".
    """
    local = _local_index(index)
    _, mult = _codes(local, tariff)
    year_months = _year_months(local)
    flat = _flat_by_month(year_months, flat_price_cny_per_kwh)
    flat_per_interval = np.array([flat[ym] for ym in year_months.tolist()], dtype=float)
    return mult * flat_per_interval


# -- the bill ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BillItem:
    """One line of a bill.

    Parameters
    ----------
    month : str
        Billing month "YYYY-MM" (park-local calendar).
    item : str
        "energy", "demand", "capacity", "demand_penalty" or "export".
    period : str
        Time-of-use period of an energy item ("sharp" ... "deep_valley"), else "".
    quantity : float
        Amount in `unit` (kWh, kW or kVA).
    unit : str
    rate : float
        Price in `rate_unit` (CNY/kWh, CNY/kW-month, CNY/kVA-month).
    rate_unit : str
    amount_cny : float
        quantity x rate [CNY]; negative for export income.
    note : str
        How the quantity came about (e.g. the maximum demand and when it occurred).
    """

    month: str
    item: str
    period: str
    quantity: float
    unit: str
    rate: float
    rate_unit: str
    amount_cny: float
    note: str = ""


@dataclass
class Bill:
    """The bill of one meter series under one tariff, item by item.

    Parameters
    ----------
    tariff_code : str
    demand_basis : str
        "max_demand" or "capacity" (the basic charge of a two-part tariff).
    items : list of BillItem
    max_demand_kw : dict of str to float
        Maximum 15-minute demand of every month [kW].
    """

    tariff_code: str
    demand_basis: str
    items: list[BillItem]
    max_demand_kw: dict[str, float] = field(default_factory=dict)

    @property
    def total_cny(self) -> float:
        """Sum of all items [CNY] (export income counted negative)."""
        return math.fsum(i.amount_cny for i in self.items)

    @property
    def energy_kwh(self) -> float:
        """Imported energy billed [kWh]."""
        return math.fsum(i.quantity for i in self.items if i.item == "energy")

    def by_month(self) -> dict[str, float]:
        """Total of every month [CNY], in month order."""
        months: dict[str, list[float]] = {}
        for i in self.items:
            months.setdefault(i.month, []).append(i.amount_cny)
        return {m: math.fsum(v) for m, v in sorted(months.items())}

    def as_rows(self) -> list[dict[str, Any]]:
        """The items as plain dicts (for tables, CSV and JSON)."""
        return [asdict(i) for i in self.items]


def _when(ts: pd.Timestamp) -> str:
    return ts.isoformat(sep=" ", timespec="minutes")


def _check_series(series: Any, name: str) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Local index and values of an energy series per 15-minute interval, or ValidationFailed naming timestamps."""
    if not isinstance(series, pd.Series):
        raise ValidationFailed(
            f"{name} must be a pandas.Series of kWh per 15-minute interval, not {type(series).__name__}"
        )
    local = _local_index(series.index, f"{name}.index")
    if not len(series):
        raise ValidationFailed(f"{name} is empty: nothing to bill")
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    issues: list[Issue] = []
    total = 0

    def add(reason: str, value: Any = None) -> None:
        nonlocal total
        total += 1
        if len(issues) < 20:
            issues.append(Issue(reason, column=name, value=None if value is None else str(value)))

    raw = series.to_numpy()
    for k in np.flatnonzero(~np.isfinite(values)):
        add(f"no number at {_when(local[k])}", raw[k])
    for k in np.flatnonzero(values < 0):
        add(f"negative energy at {_when(local[k])}", values[k])
    off_grid = np.flatnonzero((local.minute.to_numpy() % SLOT_MIN != 0) | (local.second.to_numpy() != 0))
    for k in off_grid:
        add(f"{_when(local[k])} is not on a 15-minute boundary")
    step = pd.Timedelta(minutes=SLOT_MIN)
    deltas = local[1:] - local[:-1]
    for k in np.flatnonzero(np.asarray(deltas != step)):
        d, at = deltas[k], local[k + 1]
        if d == pd.Timedelta(0):
            add(f"duplicate timestamp {_when(at)}")
        elif d < pd.Timedelta(0):
            add(f"timestamps go back in time at {_when(at)} (after {_when(local[k])})")
        else:
            add(
                f"irregular interval: {_when(local[k])} is followed by {_when(at)} ({d.total_seconds() / 60:g} min); expected every 15 minutes"
            )
    if total:
        more = f" (first {len(issues)} shown)" if total > len(issues) else ""
        raise ValidationFailed(f"{name}: {total} problem(s){more}; nothing was billed", issues=issues)
    return local, values


def _check_basis(demand_basis: str) -> None:
    if demand_basis not in DEMAND_BASES:
        raise ValidationFailed(f"demand_basis must be one of {', '.join(DEMAND_BASES)}, not {demand_basis!r}")


def _positive(value: float | None, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)) or value <= 0:
        raise ValidationFailed(f"{name} must be a positive number, not {value!r}")
    return float(value)


def _month_label(ym: int) -> str:
    return f"{ym // 100:04d}-{ym % 100:02d}"


def bill(
    import_kwh: pd.Series,
    tariff: Tariff,
    flat_price_cny_per_kwh: float | Mapping[int | str, float],
    *,
    export_kwh: pd.Series | None = None,
    demand_basis: str = "max_demand",
    contracted_demand_kw: float | None = None,
    transformer_kva: float | None = None,
) -> Bill:
    """Bill a metered grid import (and export) under a tariff, month by month.

    Parameters
    ----------
    import_kwh : pandas.Series
        Energy taken from the grid per 15-minute interval [kWh], time-zone-aware index of interval starts,
        regular, no gaps, no NaN, no negative values.
    tariff : Tariff
    flat_price_cny_per_kwh : float or mapping
        Flat-period price [CNY/kWh]: one number, or per month (keys 1-12 and/or "YYYY-MM").
    export_kwh : pandas.Series, optional
        Energy fed into the grid per 15-minute interval [kWh], same rules as `import_kwh`.
    demand_basis : {"max_demand", "capacity"}
        Basis of the basic charge of a two-part tariff.
    contracted_demand_kw : float, optional
        Contracted maximum demand [kW] (basis "max_demand" only): billed instead of the actual maximum, with
        the penalty above contracted x (1 + tolerance).
    transformer_kva : float, optional
        Transformer rating [kVA]: required for basis "capacity"; with a contracted demand it sets the floor.

    Returns
    -------
    Bill
        Items per month: one "energy" item per period present, "demand" (and "demand_penalty") or "capacity"
        for two-part tariffs, "export" (negative amount) when export energy is given.

    Raises
    ------
    ValidationFailed
        Bad series (naming the timestamps), bad flat prices, an unknown demand basis, capacity basis without
        `transformer_kva`, a contracted demand with the capacity basis, non-positive demand or kVA.
    """
    _check_basis(demand_basis)
    contract = _positive(contracted_demand_kw, "contracted_demand_kw")
    kva = _positive(transformer_kva, "transformer_kva")
    if tariff.two_part:
        if demand_basis == "capacity" and kva is None:
            raise ValidationFailed("demand_basis 'capacity' needs transformer_kva (the transformer rating in kVA)")
        if demand_basis == "capacity" and contract is not None:
            raise ValidationFailed("contracted_demand_kw applies to demand_basis 'max_demand', not 'capacity'")
    local, kwh = _check_series(import_kwh, "import_kwh")
    codes, mult = _codes(local, tariff)
    year_months = _year_months(local)
    flat = _flat_by_month(year_months, flat_price_cny_per_kwh)
    export = None
    if export_kwh is not None:
        export = _check_series(export_kwh, "export_kwh")

    items: list[BillItem] = []
    peaks: dict[str, float] = {}
    for ym in np.unique(year_months).tolist():
        month = _month_label(ym)
        in_month = year_months == ym
        for p, period in enumerate(PERIODS):
            sel = in_month & (codes == p)
            if not sel.any():
                continue
            quantity = math.fsum(kwh[sel])
            rate = float(mult[sel][0]) * flat[ym]
            items.append(BillItem(month, "energy", period, quantity, "kWh", rate, "CNY/kWh", quantity * rate))
        k_peak = int(np.argmax(np.where(in_month, kwh, -np.inf)))
        peak_kw = float(kwh[k_peak]) / INTERVAL_H
        peaks[month] = peak_kw
        if tariff.two_part:
            items.extend(_basic_charge(tariff, month, peak_kw, _when(local[k_peak]), demand_basis, contract, kva))
    if export is not None:
        ex_local, ex_kwh = export
        ex_months = _year_months(ex_local)
        price = tariff.export_price_cny_per_kwh
        for ym in np.unique(ex_months).tolist():
            quantity = math.fsum(ex_kwh[ex_months == ym])
            if quantity > 0:
                items.append(
                    BillItem(_month_label(ym), "export", "", quantity, "kWh", price, "CNY/kWh", -quantity * price)
                )
        items.sort(key=lambda i: i.month)  # stable: a month's import items stay before its export item
    return Bill(tariff.code, demand_basis, items, peaks)


def _basic_charge(
    tariff: Tariff,
    month: str,
    peak_kw: float,
    peak_at: str,
    demand_basis: str,
    contract: float | None,
    kva: float | None,
) -> list[BillItem]:
    """Basic-charge items (基本电费) of one month of a two-part tariff."""
    if demand_basis == "capacity":
        rate = float(tariff.capacity_charge_cny_per_kva_month or 0.0)
        return [
            BillItem(
                month,
                "capacity",
                "",
                kva or 0.0,
                "kVA",
                rate,
                "CNY/kVA-month",
                (kva or 0.0) * rate,
                "transformer rating",
            )
        ]
    rate = float(tariff.demand_charge_cny_per_kw_month or 0.0)
    seen = f"maximum demand {peak_kw:.1f} kW at {peak_at}"
    if contract is None:
        return [BillItem(month, "demand", "", peak_kw, "kW", rate, "CNY/kW-month", peak_kw * rate, seen)]
    billed, why = contract, "contracted demand"
    floor_pct = tariff.contract_floor_pct_of_kva
    if kva is not None and floor_pct is not None and contract < kva * floor_pct / 100:
        billed, why = kva * floor_pct / 100, f"contracted demand raised to {floor_pct:g} % of {kva:g} kVA"
    out = [BillItem(month, "demand", "", billed, "kW", rate, "CNY/kW-month", billed * rate, f"{why}; {seen}")]
    tolerance = float(tariff.penalty_tolerance_pct or 0.0)
    limit = billed * (1 + tolerance / 100)
    excess = peak_kw - limit
    if excess > 0:
        factor = float(tariff.penalty_factor or 1.0)
        note = f"{seen} exceeds {billed:g} kW x {1 + tolerance / 100:g} = {limit:g} kW by {excess:.1f} kW"
        out.append(
            BillItem(
                month, "demand_penalty", "", excess, "kW", factor * rate, "CNY/kW-month", excess * factor * rate, note
            )
        )
    return out
