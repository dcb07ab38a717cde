"""Meter files into readings: CSV, Excel (.xlsx) and Green Button XML, validated as a whole.

A file is parsed completely, converted to each channel's canonical unit and checked before anything is
written; a file with any problem writes nothing and raises `ValidationFailed` listing up to 100 problems,
each with the file, the row (the line number in the file, header = line 1; for Excel the sheet row; for XML
the line of the element), the column (the header as written in the file) and the offending text.

Layouts (detected from the headers unless the column mapping names one)
----------------------------------------------------------------------
long
    One reading per row: timestamp, channel, value, optional unit, optional quality. Headers are
    recognised in English and Chinese (时间/时间戳/采集时间/日期时间 → timestamp; 表计/通道/测点/计量点 →
    channel; 数值/读数/电量/用量 → value; 单位 → unit; 质量 → quality); a separate date and time-of-day column
    (日期 + 时间) are joined. A unit may be written in the value header: '电量(万kWh)', 'value [MWh]'.
wide_time
    One row per (local date, channel) and one column per period of the day. Convention for the headers:
    clock labels mark the interval END when they run '00:15' .. '24:00' and its START when they run
    '00:00' .. '23:45' (so a file containing both 00:00 and 24:00 is refused, and one containing neither
    needs `time_label` in the mapping); ranges '00:00-00:15' give start and end; numbers '1' .. '96' or
    'P1' .. 'P96' (also H/Q/T prefixes) count periods from the start of the day, period k covering
    [(k-1) x step, k x step); '0' .. '95' count from zero. 96 columns are quarter hours, 24 are hours (any
    step that divides a day works); the step must equal the channel's interval. Dates are local dates in
    the file's time zone (`timezone` of the mapping or `default_timezone`), required; period k starts k x
    step seconds after local midnight.
wide_channel
    A timestamp column, then one column per channel (header = channel code or a name renamed by the
    mapping's channel_map; a unit may follow in brackets).
espi
    Green Button (NAESB ESPI) XML, see `ingest.espi`; each MeterReading is mapped to a channel through the
    mapping's channel_map (MeterReading title or href, UsagePoint title) or its default_channel.

Timestamps are ISO 8601 with an offset or Z; Chinese forms such as '2025/3/1 0:15', '2025-03-01 00:15:00'
and '2025年3月1日 00:15' are read too. A timestamp without a zone is an error unless the file's time zone
is given. In long and wide-by-channel files a timestamp marks the START of its interval unless the mapping
says time_label='end'. Timestamps must fall on the channel's interval grid.

CSV text may be UTF-8 (with or without BOM), GB18030/GBK (Chinese Excel exports) or UTF-16 with BOM; the
delimiter is ',', ';', tab or '|'. Lines before the header (report titles) are skipped by detection.

Speed: CSV files go first through a vectorised path (pyarrow's block-wise reader, each distinct timestamp
and channel string parsed once, numpy checks); only when that path meets anything it does not accept does
the file go through the row-by-row reader, which produces the list of problems with their rows (and reads
well-formed files that the fast path is too strict for, e.g. numbers with spaces around them).
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
import re
import time
import unicodedata
import warnings
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from datetime import time as clock_time
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from parkzero.config import Settings
from parkzero.errors import Issue, IssueCollector, ParkzeroError, PayloadTooLarge, ValidationFailed
from parkzero.ingest import espi
from parkzero.ingest.mapping import ColumnMapping
from parkzero.registry import repo
from parkzero.registry.repo import ChannelInfo
from parkzero.registry.scope import Scope
from parkzero.store import Store
from parkzero.store.readings import ESTIMATED, MEASURED, READING_SCHEMA, MergeResult, merge_readings
from parkzero.units import conversion_factor, split_header_unit

__all__ = ["ParsedFile", "IngestReport", "parse_file", "ingest_file", "LAYOUTS"]

LAYOUTS = ("long", "wide_time", "wide_channel", "espi")
NO_ZONE = "timestamp has no time zone; give an offset or choose the file's time zone (--timezone Asia/Shanghai)"
NOT_A_TIMESTAMP = "not a timestamp (expected e.g. 2025-03-01T00:15:00+08:00, 2025/3/1 0:15 or 2025年3月1日 00:15)"
_BLOCK_BYTES = 16 << 20
_HEAD_BYTES = 256 << 10
_REL_TOL = 1e-9  # same tolerance as the store uses to tell a revision from a repeat
_US = 1_000_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


# -- results ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParsedFile:
    """A validated file: readings in canonical units, ready for `merge_readings`.

    Attributes
    ----------
    table : pyarrow.Table
        channel_id int64, ts_start timestamp[us, UTC] (interval start), value float64 [channel's canonical
        unit], quality int16.
    layout : str
        'long', 'wide_time', 'wide_channel' or 'espi'.
    rows : int
        Data rows read (CSV/Excel) or interval readings (ESPI).
    channels : tuple of str
        Codes of the channels in the file.
    duplicates : int
        Repeated readings (same channel, time and value) collapsed into one.
    """

    table: pa.Table
    layout: str
    rows: int
    channels: tuple[str, ...]
    duplicates: int = 0
    filename: str = ""


@dataclass(frozen=True)
class IngestReport:
    file: str
    layout: str
    rows: int
    readings: int
    duplicates: int
    channels: tuple[str, ...]
    merge: MergeResult
    parse_s: float
    merge_s: float

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "layout": self.layout,
            "rows": self.rows,
            "readings": self.readings,
            "duplicates_collapsed": self.duplicates,
            "channels": len(self.channels),
            "batch_id": self.merge.batch_id,
            "inserted": self.merge.inserted,
            "unchanged": self.merge.unchanged,
            "revised": self.merge.revised,
            "parse_s": round(self.parse_s, 3),
            "merge_s": round(self.merge_s, 3),
        }


# -- public API ------------------------------------------------------------------------------------------
def ingest_file(
    store: Store,
    scope: Scope,
    path: Path | str,
    *,
    park_code: str,
    mapping: ColumnMapping | str | None = None,
    default_timezone: str | None = None,
    filename: str | None = None,
    max_bytes: int | None = None,
) -> IngestReport:
    """Parse a meter file and merge its readings into the park, all or nothing.

    Parameters
    ----------
    mapping : ColumnMapping or str, optional
        A mapping, or the name of one saved for the park.
    default_timezone : str, optional
        IANA zone of timestamps without offset (the mapping's own timezone wins).
    filename : str, optional
        Name to report and record (an upload's original name); default the path's name.
    max_bytes : int, optional
        Size limit [bytes]; default PARKZERO_MAX_UPLOAD_BYTES (256 MiB). Larger files raise PayloadTooLarge
        before anything is read.
    """
    scope.require_write()
    path = Path(path)
    name = filename or path.name
    limit = _default_max_bytes() if max_bytes is None else max_bytes
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ParkzeroError(f"{name}: cannot read the file ({exc.strerror})") from None
    if size > limit:
        raise PayloadTooLarge(
            f"{name} is {size:,} bytes; the limit is {limit:,} bytes (PARKZERO_MAX_UPLOAD_BYTES); nothing was written",
            issues=[Issue(f"file of {size:,} bytes exceeds the limit of {limit:,} bytes", file=name)],
        )
    if isinstance(mapping, str):
        from parkzero.ingest.mapping import get_mapping

        mapping = get_mapping(store, scope, park_code, mapping)
    pid = repo.park_id(store, scope, park_code)
    channels = repo.channel_index(store, scope, park_code)
    t0 = time.perf_counter()
    parsed = parse_file(path, channels, mapping=mapping, default_timezone=default_timezone, filename=name)
    t1 = time.perf_counter()
    result = merge_readings(
        store,
        parsed.table,
        source=f"file:{parsed.layout}",
        actor=scope.actor,
        filename=name,
        park_id=pid,
        enterprise_id=scope.enterprise_id if scope.is_tenant else None,
        allowed_channels={c.id for c in channels.values()},
    )
    t2 = time.perf_counter()
    return IngestReport(
        name,
        parsed.layout,
        parsed.rows,
        parsed.table.num_rows,
        parsed.duplicates,
        parsed.channels,
        result,
        t1 - t0,
        t2 - t1,
    )


def _default_max_bytes() -> int:
    return Settings.from_env().max_upload_bytes


def parse_file(
    path: Path | str,
    channels: dict[str, ChannelInfo],
    *,
    mapping: ColumnMapping | None = None,
    default_timezone: str | None = None,
    filename: str | None = None,
) -> ParsedFile:
    """Read and validate a meter file against the park's channels; write nothing.

    Parameters
    ----------
    channels : dict of str to ChannelInfo
        Channels the file may write, by code (`registry.repo.channel_index` in the caller's scope).

    Raises ValidationFailed with one Issue per problem (file, row, column, value) when anything is wrong.
    """
    return _parse(Path(path), channels, mapping, default_timezone, filename, fast=True)


def _parse(
    path: Path,
    channels: dict[str, ChannelInfo],
    mapping: ColumnMapping | None,
    default_timezone: str | None,
    filename: str | None,
    *,
    fast: bool,
) -> ParsedFile:
    name = filename or path.name
    mapping = mapping or ColumnMapping()
    ctx = _Context(channels, mapping, _zone(mapping.timezone or default_timezone, name), name)
    try:
        with open(path, "rb") as fh:
            head = fh.read(_HEAD_BYTES)
            size = os.fstat(fh.fileno()).st_size
    except OSError as exc:
        raise ParkzeroError(f"{name}: cannot read the file ({exc.strerror})") from None
    kind = _kind(head, path, mapping, ctx)
    if kind == "espi":
        return _parse_espi(path, ctx)
    if kind == "xlsx":
        return _parse_xlsx(path, ctx)
    return _parse_csv(path, head, size, ctx, fast=fast)


def _zone(name: str | None, filename: str) -> tzinfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"unknown time zone {name!r}",
            issues=[Issue(f"unknown time zone {name!r} (use an IANA name such as Asia/Shanghai)", file=filename)],
        ) from None


def _kind(head: bytes, path: Path, mapping: ColumnMapping, ctx: _Context) -> str:
    """'csv', 'xlsx' or 'espi', from the content (the extension only breaks ties)."""
    if not head.strip():
        ctx.fail("the file is empty")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        ctx.fail("old binary Excel files (.xls) are not supported; save the sheet as .xlsx or CSV")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        ctx.fail("not a valid .xlsx workbook (the file is not a ZIP package; truncated or renamed?)")
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if mapping.layout == "espi" or stripped.startswith(b"<"):
        return "espi"
    return "csv"


# -- cell parsing (shared by the fast and the row-by-row paths) -------------------------------------------
class _CellError(Exception):
    """A cell that cannot be read; the message is the reason shown to the user."""


_ZH_TRANSLATE = str.maketrans(
    {"年": "-", "月": "-", "日": " ", "号": " ", "时": ":", "點": ":", "点": ":", "分": ":", "秒": " "}
)
_TS_RE = re.compile(
    r"(?P<y>\d{4})(?P<sep>[-/.]?)(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
    r"(?:[T ]+(?P<H>\d{1,2})(?::(?P<M>\d{1,2})(?::(?P<S>\d{1,2})(?:[.,](?P<f>\d{1,9}))?)?)?:?)?"
    r" ?(?P<tz>Z|(?:UTC|GMT)? ?(?P<sign>[+-]) ?(?P<oh>\d{1,2})(?::?(?P<om>\d{2}))?|UTC|GMT)?",
    re.IGNORECASE | re.ASCII,
)
_TIME_OF_DAY_RE = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?", re.ASCII)


def _normalise_text(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).translate(_ZH_TRANSLATE).split())


def parse_timestamp(text: str, tz: tzinfo | None, *, date_only: bool = False) -> int:
    """Microseconds since 1970-01-01 UTC of a timestamp text [us].

    Accepts ISO 8601 (with 'T' or a space, optional seconds and fraction, offset 'Z', '+08:00', '+0800',
    '+08'), 'YYYY/M/D H:MM', 'YYYYMMDD HH:MM', and Chinese '2025年3月1日 0时15分'. '24:00' is the next
    midnight. Text without a zone is local time in `tz` (an error when `tz` is None). With `date_only` the
    text must be a date (or a date at 00:00) and the result is its local midnight.
    Raises _CellError with the reason.
    """
    norm = _normalise_text(text)
    m = _TS_RE.fullmatch(norm)
    if m is None:
        raise _CellError(NOT_A_TIMESTAMP)
    if m["sep"] == "" and (len(m["m"]) != 2 or len(m["d"]) != 2):
        raise _CellError(NOT_A_TIMESTAMP)
    try:
        day = date(int(m["y"]), int(m["m"]), int(m["d"]))
    except ValueError:
        raise _CellError("not a valid calendar date") from None
    hour, minute, second = int(m["H"] or 0), int(m["M"] or 0), int(m["S"] or 0)
    frac = m["f"] or ""
    micro = int(frac[:6].ljust(6, "0")) if frac else 0
    if frac[6:].strip("0"):
        raise _CellError("timestamp is finer than a microsecond")
    if date_only and (hour or minute or second or micro):
        raise _CellError("expected a date (the periods of the day are in the columns)")
    if hour == 24 and not (minute or second or micro):
        hour = 0
        day += timedelta(days=1)
    if hour > 23 or minute > 59 or second > 59:
        raise _CellError("not a valid time of day")
    seconds = (day.toordinal() - _EPOCH_ORDINAL) * 86400 + hour * 3600 + minute * 60 + second
    zone = m["tz"]
    if zone:
        if m["sign"]:
            oh, om = int(m["oh"]), int(m["om"] or 0)
            if oh > 18 or om > 59:
                raise _CellError("not a valid UTC offset")
            offset = (oh * 3600 + om * 60) * (1 if m["sign"] == "+" else -1)
        else:
            offset = 0
    elif tz is None:
        raise _CellError(NO_ZONE)
    else:
        local = datetime(day.year, day.month, day.day, hour, minute, second)
        offset = int(tz.utcoffset(local).total_seconds())  # type: ignore[union-attr]
    return (seconds - offset) * _US + micro


def _datetime_micros(value: datetime | date, tz: tzinfo | None, *, date_only: bool = False) -> int:
    """Microseconds since 1970 UTC of an Excel date/datetime cell (naive = local time in `tz`)."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if date_only and value.time() != datetime.min.time():
        raise _CellError("expected a date (the periods of the day are in the columns)")
    if value.tzinfo is None:
        if tz is None:
            raise _CellError(NO_ZONE)
        value = value.replace(tzinfo=tz)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * _US + delta.microseconds


_number_patterns: dict[tuple[str, str], tuple[re.Pattern, re.Pattern]] = {}


def _patterns(decimal: str, thousands: str) -> tuple[re.Pattern, re.Pattern]:
    key = (decimal, thousands)
    if key not in _number_patterns:
        d, t = re.escape(decimal), re.escape(thousands)
        plain = re.compile(rf"[+-]?(?:\d+(?:{d}\d*)?|{d}\d+)(?:[eE][+-]?\d+)?", re.ASCII)
        grouped = re.compile(rf"[+-]?\d{{1,3}}(?:{t}\d{{3}})+(?:{d}\d*)?", re.ASCII)
        _number_patterns[key] = (plain, grouped)
    return _number_patterns[key]


def parse_number(text: str, decimal: str = ".", thousands: str = ",") -> float:
    """A number written in a file: '1234.5', '-0.5', '1e3', '1,234.5' (groups of three digits only).

    Raises _CellError for an empty cell ('value is missing'), text that is not a number, and infinity.
    """
    s = text.strip()
    if not s.isascii():
        s = unicodedata.normalize("NFKC", s).strip()
    if not s:
        raise _CellError("value is missing")
    sep = unicodedata.normalize("NFKC", thousands)
    plain, grouped = _patterns(decimal, sep)
    if sep and sep in s:
        if not grouped.fullmatch(s):
            raise _CellError("not a number")
        s = s.replace(sep, "")
    if not plain.fullmatch(s):
        raise _CellError("not a number")
    if decimal != ".":
        s = s.replace(decimal, ".")
    number = float(s)
    if not math.isfinite(number):
        raise _CellError("value is not a finite number")
    return number


_QUALITY_WORDS = {
    "": MEASURED,
    "0": MEASURED,
    "1": ESTIMATED,
    "2": 2,
    "3": 3,
    "measured": MEASURED,
    "valid": MEASURED,
    "good": MEASURED,
    "ok": MEASURED,
    "actual": MEASURED,
    "estimated": ESTIMATED,
    "estimate": ESTIMATED,
    "filled": 2,
    "rejected": 3,
    "invalid": 3,
    "实测": MEASURED,
    "正常": MEASURED,
    "有效": MEASURED,
    "估算": ESTIMATED,
    "估计": ESTIMATED,
    "预估": ESTIMATED,
    "填补": 2,
    "补全": 2,
    "插补": 2,
    "剔除": 3,
    "无效": 3,
}


def parse_quality(text: str) -> int:
    code = _QUALITY_WORDS.get(unicodedata.normalize("NFKC", text).strip().casefold())
    if code is None:
        raise _CellError("unknown quality (use measured, estimated, filled, rejected or 0-3)")
    return code


def _cell_text(value: Any) -> str:
    """Text of a cell as a user would read it (Excel numbers without a spurious '.0')."""
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


# -- validation context ------------------------------------------------------------------------------------
class _Context:
    """Channels, caches and the issue list of one file; accumulates readings in the row-by-row path."""

    def __init__(self, channels: dict[str, ChannelInfo], mapping: ColumnMapping, tz: tzinfo | None, filename: str):
        self.channels = channels
        self.mapping = mapping
        self.tz = tz
        self.filename = filename
        self.issues = IssueCollector()
        self.shift_end = mapping.time_label == "end"
        self.decimal = mapping.decimal
        self.thousands = mapping.thousands_separator
        self.infos: list[ChannelInfo] = []
        self._ordinal_of_code: dict[str, int] = {}
        self._names: dict[str, int | None] = {}
        self._unknown: set[str] = set()
        self._ts: dict[str, int | str] = {}
        self._dates: dict[str, int | str] = {}
        self._factors: dict[tuple[str | None, int], float | str] = {}
        self._quality: dict[str, int | str] = {}
        self._arrays_for = -1
        # row-by-row accumulation
        self.r_ch = array("i")
        self.r_ts = array("q")
        self.r_val = array("d")
        self.r_q = array("h")
        self.r_row = array("q")
        self.r_col: list[str] = []

    # issues
    def issue(self, reason: str, *, row: int | None = None, column: str | None = None, value: Any = None) -> None:
        shown = None if value is None else (value if isinstance(value, str) else _cell_text(value))
        self.issues.add(Issue(reason, file=self.filename, row=row, column=column, value=shown))

    def fail(self, reason: str, *, row: int | None = None, column: str | None = None) -> NoReturn:
        self.issue(reason, row=row, column=column)
        self.raise_if_any()
        raise AssertionError("unreachable: an issue was just added")

    def raise_if_any(self) -> None:
        self.issues.raise_if_any(f"{self.filename} was rejected")

    # channels
    def channel_ordinal(self, name: str) -> int | None:
        """Ordinal of the channel a file calls `name` (renamed by the mapping), or None."""
        if name in self._names:
            return self._names[name]
        key = unicodedata.normalize("NFKC", name).strip()
        code = self.mapping.channel_map.get(key, self.mapping.channel_map.get(name, key))
        info = self.channels.get(code)
        ordinal = None
        if info is not None:
            ordinal = self._ordinal_of_code.get(code)
            if ordinal is None:
                ordinal = self._ordinal_of_code[code] = len(self.infos)
                self.infos.append(info)
        self._names[name] = ordinal
        return ordinal

    def channel_lookup(self, text: str) -> int | str:
        found = self.channel_ordinal(text)
        return "unknown channel" if found is None else found

    def channel(self, cell: Any, row: int, column: str | None) -> int | None:
        text = _cell_text(cell)
        if not text:
            self.issue("channel is missing", row=row, column=column)
            return None
        ordinal = self.channel_ordinal(text)
        if ordinal is None and text not in self._unknown:
            self._unknown.add(text)
            self.issue(self.unknown_channel_reason(text), row=row, column=column, value=text)
        return ordinal

    def unknown_channel_reason(self, text: str) -> str:
        key = unicodedata.normalize("NFKC", text).strip()
        renamed = self.mapping.channel_map.get(key)
        if renamed is not None:
            return (
                f"the column mapping renames {key!r} to channel {renamed!r}, which is not in this park "
                "(or not visible to you)"
            )
        return (
            f"unknown channel {key!r}: no channel with this code in the park (or not visible to you); "
            "add it to the registry or rename it in the column mapping (channel_map)"
        )

    def default_channel(self, row: int | None) -> int | None:
        code = self.mapping.default_channel
        if code is None:
            return None
        ordinal = self.channel_ordinal(code)
        if ordinal is None and code not in self._unknown:
            self._unknown.add(code)
            self.issue(f"the mapping's default_channel {code!r} is not a channel of this park (or not yours)", row=row)
        return ordinal

    # timestamps
    def ts_text(self, text: str) -> int | str:
        """Cached parse of one timestamp text: microseconds, or the reason it is wrong."""
        found = self._ts.get(text)
        if found is None:
            try:
                found = parse_timestamp(text, self.tz)
            except _CellError as exc:
                found = str(exc) if text.strip() else "timestamp is missing"
            self._ts[text] = found
        return found

    def date_text(self, text: str) -> int | str:
        found = self._dates.get(text)
        if found is None:
            try:
                found = parse_timestamp(text, self.tz, date_only=True)
            except _CellError as exc:
                found = str(exc) if text.strip() else "date is missing"
            self._dates[text] = found
        return found

    def timestamp(self, cell: Any, row: int, column: str | None, *, date_only: bool = False) -> int | None:
        if type(cell) is str and not date_only:
            found = self._ts.get(cell)
            if type(found) is int:
                return found
        if isinstance(cell, datetime | date):
            try:
                return _datetime_micros(cell, self.tz, date_only=date_only)
            except _CellError as exc:
                self.issue(str(exc), row=row, column=column, value=cell)
                return None
        text = _cell_text(cell)
        found = self.date_text(text) if date_only else self.ts_text(text)
        if isinstance(found, str):
            self.issue(found, row=row, column=column, value=text)
            return None
        return found

    # values, units, quality
    def number(self, cell: Any, row: int, column: str | None) -> float | None:
        if type(cell) is str:
            try:
                return parse_number(cell, self.decimal, self.thousands)
            except _CellError as exc:
                self.issue(str(exc), row=row, column=column, value=cell.strip())
                return None
        if isinstance(cell, bool):
            self.issue("not a number", row=row, column=column, value=str(cell))
            return None
        if isinstance(cell, int | float):
            if math.isfinite(cell):
                return float(cell)
            self.issue("value is not a finite number", row=row, column=column, value=str(cell))
            return None
        text = _cell_text(cell) if not isinstance(cell, str) else cell
        try:
            return parse_number(text, self.decimal, self.thousands)
        except _CellError as exc:
            self.issue(str(exc), row=row, column=column, value=text)
            return None

    def factor(self, unit: str | None, ordinal: int) -> float | str:
        """Factor from `unit` to the channel's canonical unit [-], or the reason it cannot be converted."""
        key = (unit, ordinal)
        found = self._factors.get(key)
        if found is None:
            info = self.infos[ordinal]
            if unit is None or not unit.strip():
                found = 1.0
            else:
                try:
                    found = conversion_factor(unit.strip(), info.unit)
                except ValidationFailed as exc:
                    found = f"channel {info.code}: {exc.detail}"
            self._factors[key] = found
        return found

    def unit_factor(self, unit: str | None, ordinal: int, row: int, column: str | None) -> float | None:
        found = self.factor(unit, ordinal)
        if isinstance(found, str):
            self.issue(found, row=row, column=column, value=unit)
            return None
        return found

    def quality_code(self, text: str) -> int | str:
        found = self._quality.get(text)
        if found is None:
            try:
                found = parse_quality(text)
            except _CellError as exc:
                found = str(exc)
            self._quality[text] = found
        return found

    def quality(self, cell: Any, row: int, column: str | None) -> int | None:
        text = _cell_text(cell)
        found = self.quality_code(text)
        if isinstance(found, str):
            self.issue(found, row=row, column=column, value=text)
            return None
        return found

    # per-ordinal arrays for the vectorised checks
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(channel ids int64, interval [us] int64, negative-forbidden bool) indexed by ordinal."""
        if self._arrays_for != len(self.infos):
            self._ids = np.array([c.id for c in self.infos], dtype=np.int64)
            self._interval_us = np.array([c.interval_s * _US for c in self.infos], dtype=np.int64)
            self._no_negative = np.array([_no_negative(c) for c in self.infos], dtype=bool)
            self._arrays_for = len(self.infos)
        return self._ids, self._interval_us, self._no_negative

    # row-by-row accumulation
    def add(
        self,
        row: int,
        ordinal: int,
        ts_us: int,
        value: float,
        quality: int,
        *,
        ts_column: str | None,
        value_column: str | None,
        value_text: Any,
        shift: bool,
    ) -> None:
        info = self.infos[ordinal]
        interval_us = info.interval_s * _US
        if shift and self.shift_end:
            ts_us -= interval_us
        if ts_us % interval_us:
            self.issue(
                f"{_iso(ts_us)} is not on the {info.interval_s} s interval grid of channel {info.code}",
                row=row,
                column=ts_column,
            )
            return
        if not math.isfinite(value):
            self.issue("value is not a finite number once converted", row=row, column=value_column, value=value_text)
            return
        if value < 0 and _no_negative(info):
            self.issue(
                f"negative energy for interval channel {info.code}", row=row, column=value_column, value=value_text
            )
            return
        self.r_ch.append(ordinal)
        self.r_ts.append(ts_us)
        self.r_val.append(value)
        self.r_q.append(quality)
        self.r_row.append(row)
        self.r_col.append(value_column or "")


def _no_negative(info: ChannelInfo) -> bool:
    return info.quantity_kind == "active_energy" and info.behaviour == "interval"


def _iso(us: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(us))).isoformat()


# -- columns and layouts -----------------------------------------------------------------------------------
def _norm(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).casefold()
    return re.sub(r"[\s_\-./#]+", "", text)


_ALIASES: dict[str, tuple[str, ...]] = {
    "timestamp": (
        "timestamp",
        "time",
        "datetime",
        "ts",
        "tsstart",
        "intervalstart",
        "start",
        "starttime",
        "readingtime",
        "时间",
        "时间戳",
        "采集时间",
        "日期时间",
        "数据时间",
        "抄表时间",
        "记录时间",
        "开始时间",
        "时刻",
        "时间点",
    ),
    "date": ("date", "day", "readingdate", "日期", "数据日期", "抄表日期", "采集日期", "统计日期"),
    "channel": (
        "channel",
        "channelcode",
        "channelid",
        "meter",
        "metercode",
        "meterid",
        "point",
        "tag",
        "通道",
        "测点",
        "计量点",
        "表计",
        "表计编号",
        "表号",
        "电表",
        "仪表",
        "点位",
        "测点编号",
        "通道编号",
        "计量点编号",
    ),
    "value": (
        "value",
        "reading",
        "energy",
        "consumption",
        "usage",
        "数值",
        "读数",
        "电量",
        "用量",
        "值",
        "用电量",
        "示数",
        "表码",
        "能耗",
        "用气量",
        "用水量",
    ),
    "unit": ("unit", "units", "uom", "单位", "计量单位"),
    "quality": ("quality", "qualityflag", "flag", "质量", "数据质量", "质量标志", "质量码"),
}
_ROLE_OF = {_norm(alias): role for role, aliases in _ALIASES.items() for alias in aliases}
_TOTALS = {_norm(t) for t in ("total", "sum", "daily total", "合计", "总计", "日合计", "小计", "总量", "日总量")}
_CLOCK_RE = re.compile(r"(\d{1,2}):(\d{2})(?::00)?", re.ASCII)
_RANGE_RE = re.compile(r"(\d{1,2}):(\d{2})(?::00)?\s*[-~–—至]\s*(\d{1,2}):(\d{2})(?::00)?", re.ASCII)
_PERIOD_RE = re.compile(r"(?:p|h|q|t|第)?(\d{1,3})(?:点|个点|时段)?", re.ASCII | re.IGNORECASE)


@dataclass
class _Columns:
    layout: str
    header: list[str]
    ts: int | None = None
    date: int | None = None
    join_date: bool = False
    channel: int | None = None
    value: int | None = None
    unit: int | None = None
    quality: int | None = None
    value_unit: str | None = None
    periods: list[tuple[int, int]] = field(default_factory=list)  # wide_time: (column, start [s] after midnight)
    step_s: int | None = None
    channel_cols: list[tuple[int, int, str | None]] = field(default_factory=list)  # (column, ordinal, unit)

    def used(self) -> list[int]:
        cols = [c for c in (self.ts, self.date, self.channel, self.value, self.unit, self.quality) if c is not None]
        cols += [c for c, _ in self.periods] + [c for c, _, _ in self.channel_cols]
        return sorted(set(cols))

    def timestamp_column(self) -> int:
        found = self.ts if self.ts is not None else self.date
        assert found is not None
        return found


class _NotRecognised(Exception):
    pass


def _classify(header: list[str], first_row: list[Any] | None, ctx: _Context, row: int) -> _Columns:
    """Roles of the header's columns and the layout; raises _NotRecognised with the reason."""
    mapping = ctx.mapping
    names = [split_header_unit(h) if h else ("", None) for h in header]
    ignored = {
        i
        for i, h in enumerate(header)
        if not h
        or h in mapping.ignore_columns
        or names[i][0] in mapping.ignore_columns
        or _norm(names[i][0]) in _TOTALS
    }
    taken: set[int] = set()

    def find(role: str, explicit: str | None) -> int | None:
        if explicit is not None:
            for i, h in enumerate(header):
                if explicit in (h, names[i][0]) or _norm(explicit) == _norm(h):
                    taken.add(i)
                    return i
            raise _NotRecognised(
                f"the column mapping names column {explicit!r} for the {role}, but the file has no such column"
                f" (columns: {', '.join(repr(h) for h in header)})"
            )
        for i, (name, _unit) in enumerate(names):
            if i not in taken and i not in ignored and _ROLE_OF.get(_norm(name)) == role:
                taken.add(i)
                return i
        return None

    cols = _Columns("", header)
    cols.ts = find("timestamp", mapping.timestamp_column)
    cols.date = find("date", mapping.date_column)
    cols.channel = find("channel", mapping.channel_column)
    cols.value = find("value", mapping.value_column)
    cols.unit = find("unit", mapping.unit_column)
    cols.quality = find("quality", mapping.quality_column)
    if cols.value is not None:
        cols.value_unit = names[cols.value][1]
    has_time = cols.ts is not None or cols.date is not None
    rest = [i for i in range(len(header)) if i not in taken and i not in ignored]
    periods = _periods(header, rest, mapping)
    layout = mapping.layout
    if layout == "auto":
        if isinstance(periods, tuple) and len(periods[0]) >= 4 and has_time:
            layout = "wide_time"
        elif has_time and cols.value is not None and (cols.channel is not None or mapping.default_channel):
            layout = "long"
        elif has_time and rest and cols.value is None:
            layout = "wide_channel"
        elif not has_time:
            raise _NotRecognised(
                "no timestamp column (expected a header such as timestamp, 时间, 采集时间 or 日期时间)"
            )
        elif cols.value is None:
            raise _NotRecognised("no value column (expected a header such as value, 数值, 读数 or 电量)")
        else:
            raise _NotRecognised(
                "no channel column (expected a header such as channel, 表计, 通道 or 测点), and the column"
                " mapping gives no default_channel"
            )
    cols.layout = layout
    if not has_time:
        raise _NotRecognised("no timestamp column (expected a header such as timestamp, 时间 or 日期时间)")
    if layout == "long":
        if cols.value is None:
            raise _NotRecognised("no value column (expected a header such as value, 数值, 读数 or 电量)")
        if cols.channel is None and not mapping.default_channel:
            raise _NotRecognised(
                "no channel column (expected a header such as channel, 表计, 通道 or 测点),"
                " and the column mapping gives no default_channel"
            )
        _date_and_time(cols, first_row)
    elif layout == "wide_time":
        if isinstance(periods, str):
            raise _NotRecognised(periods)
        cols.periods, cols.step_s = periods
        if cols.date is None:
            cols.date, cols.ts = cols.ts, None
        if cols.channel is None and not mapping.default_channel:
            raise _NotRecognised(
                "no channel column (表计/通道/测点/channel), and the column mapping gives no default_channel"
            )
    elif layout == "wide_channel":
        _date_and_time(cols, first_row)
        if cols.value is not None:
            rest.append(cols.value)
            cols.value = None
        for i in sorted(rest):
            ordinal = ctx.channel_ordinal(header[i])
            unit = None
            if ordinal is None:
                ordinal = ctx.channel_ordinal(names[i][0])
                unit = names[i][1]
            if ordinal is None:
                ctx.issue(ctx.unknown_channel_reason(header[i]), row=row, column=header[i], value=header[i])
                continue
            cols.channel_cols.append((i, ordinal, unit))
        if not cols.channel_cols and not ctx.issues:
            raise _NotRecognised("no channel columns after the timestamp column")
    elif layout == "espi":
        raise _NotRecognised("the column mapping says Green Button XML, but the file is not XML")
    return cols


def _date_and_time(cols: _Columns, first_row: list[Any] | None) -> None:
    """A date column and a time-of-day column are joined; a lone date column holds full timestamps."""
    if cols.ts is None:
        cols.ts, cols.date = cols.date, None
        return
    if cols.date is None or first_row is None:
        cols.date = None
        return
    cell = first_row[cols.ts] if cols.ts < len(first_row) else None
    if isinstance(cell, clock_time) or _TIME_OF_DAY_RE.fullmatch(_normalise_text(_cell_text(cell))):
        cols.join_date = True
    else:
        cols.date = None


def _periods(
    header: list[str], candidates: list[int], mapping: ColumnMapping
) -> tuple[list[tuple[int, int]], int] | str:
    """Period columns of a wide-by-time header: ([(column, start [s])], step [s]) or the reason they are not."""
    clocks: list[tuple[int, int]] = []
    ranges: list[tuple[int, int, int]] = []
    numbers: list[tuple[int, int]] = []
    for i in candidates:
        text = _normalise_text(header[i])
        if m := _RANGE_RE.fullmatch(text):
            start = int(m[1]) * 3600 + int(m[2]) * 60
            end = int(m[3]) * 3600 + int(m[4]) * 60
            ranges.append((i, start, end if end else 86400))
        elif m := _CLOCK_RE.fullmatch(text):
            clocks.append((i, int(m[1]) * 3600 + int(m[2]) * 60))
        elif m := _PERIOD_RE.fullmatch(text):
            numbers.append((i, int(m[1])))
    if len(ranges) >= 2:
        steps = {end - start for _, start, end in ranges}
        if len(steps) != 1 or (step := steps.pop()) <= 0:
            return "the period columns do not have one length"
        return _checked([(i, s) for i, s, _ in ranges], step)
    if len(clocks) >= 2:
        labels = sorted(s for _, s in clocks)
        if len(set(labels)) != len(labels):
            return "a period column is given twice"
        step = math.gcd(*(b - a for a, b in zip(labels, labels[1:], strict=False)))
        label = mapping.time_label
        if label == "auto":
            has0, has24 = labels[0] == 0, labels[-1] == 86400
            if has0 and has24:
                return "the period columns run from 00:00 to 24:00; cannot tell interval start from end"
            if not (has0 or has24):
                return (
                    "cannot tell whether the period columns mark interval starts or ends; set time_label"
                    " in the column mapping"
                )
            label = "start" if has0 else "end"
        shift = step if label == "end" else 0
        return _checked([(i, s - shift) for i, s in clocks], step)
    if len(numbers) >= 2:
        ks = sorted(k for _, k in numbers)
        lo, n = ks[0], len(ks)
        if lo not in (0, 1) or ks != list(range(lo, lo + n)) or 86400 % n:
            return "the numbered period columns are not 1..N (or 0..N-1) for N dividing a day"
        step = 86400 // n
        return _checked([(i, (k - lo) * step) for i, k in numbers], step)
    return "no period columns (expected 00:15..24:00, 00:00..23:45, 1..96 or P1..P96)"


def _checked(periods: list[tuple[int, int]], step: int) -> tuple[list[tuple[int, int]], int] | str:
    if step <= 0 or 86400 % step:
        return f"period columns {step} s apart do not divide a day"
    for _, start in periods:
        if start < 0 or start >= 86400 or start % step:
            return "the period columns are not on one grid within the day"
    return sorted(periods, key=lambda p: p[1]), step


def _find_header(rows: list[tuple[int, list[Any]]], ctx: _Context, header_texts) -> tuple[int, _Columns]:
    """Index (in `rows`) of the header and its columns; the first row recognised among the first 30."""
    explicit = ctx.mapping.skip_rows
    candidates = [(k, r) for k, r in enumerate(rows) if any(_cell_text(c) for c in r[1])]
    if not candidates:
        ctx.fail("the file has no rows")
    if explicit is not None:
        candidates = [(k, r) for k, r in candidates if r[0] > explicit][:1]
        if not candidates:
            ctx.fail(f"nothing after the {explicit} rows the column mapping skips")
    first_reason = None
    for k, (line, cells) in candidates[:30]:
        header = header_texts(cells)
        following = next((r[1] for r in rows[k + 1 :] if any(_cell_text(c) for c in r[1])), None)
        try:
            return k, _classify(header, following, ctx, line)
        except _NotRecognised as exc:
            if first_reason is None:
                first_reason = (line, str(exc))
    assert first_reason is not None
    ctx.fail(f"cannot read the header: {first_reason[1]}", row=first_reason[0])


# -- CSV ------------------------------------------------------------------------------------------------------
@dataclass
class _CsvFormat:
    encoding: str
    delimiter: str
    header_line: int
    columns: _Columns
    ends_with_newline: bool


def _detect_encoding(head: bytes, complete: bool) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=complete)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def _looks_binary(text: str) -> bool:
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n")
    return controls > max(2, len(text) // 200)


def _detect_delimiter(lines: list[str]) -> str:
    best, best_score = ",", (0, 0)
    sample = [ln for ln in lines if ln.strip()][:50]
    for delimiter in (",", ";", "\t", "|"):
        counts = [len(row) for row in csv.reader(sample, delimiter=delimiter)]
        if not counts:
            continue
        widths = [c for c in counts if c > 1]
        if not widths:
            continue
        modal = max(set(widths), key=widths.count)
        score = (widths.count(modal), modal)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _sniff_csv(head: bytes, size: int, ctx: _Context) -> tuple[_CsvFormat, list[tuple[int, list[str]]]]:
    complete = len(head) >= size
    encoding = ctx.mapping.encoding or _detect_encoding(head, complete)
    if encoding is None:
        ctx.fail("not a text file (binary content); expected CSV, Excel .xlsx or Green Button XML")
    assert encoding is not None
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(head, final=complete)
    except UnicodeDecodeError as exc:
        ctx.fail(f"the text is not valid {encoding} ({exc.reason})")
    if _looks_binary(text):
        ctx.fail("not a text file (binary content); expected CSV, Excel .xlsx or Green Button XML")
    lines = text.splitlines(keepends=True)
    if not complete and len(lines) > 1:
        lines = lines[:-1]  # the head ends in the middle of a line
    delimiter = ctx.mapping.delimiter or _detect_delimiter(lines[:60])
    rows = _csv_rows(lines, delimiter)
    sample = []
    try:
        for item in rows:
            sample.append(item)
            if len(sample) >= 60:
                break
    except csv.Error as exc:
        ctx.fail(f"not readable as CSV: {exc}", row=len(sample) + 1)
    k, cols = _find_header(sample, ctx, lambda cells: [c.strip() for c in cells])
    return _CsvFormat(encoding, delimiter, sample[k][0], cols, True), sample[k + 1 :]


def _csv_rows(lines: Iterable[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(first line number, cells) of each CSV record."""
    reader = csv.reader(lines, delimiter=delimiter)
    line = 0
    for cells in reader:
        yield line + 1, cells
        line = reader.line_num


def _parse_csv(path: Path, head: bytes, size: int, ctx: _Context, *, fast: bool) -> ParsedFile:
    fmt, _sample = _sniff_csv(head, size, ctx)
    ctx.raise_if_any()  # unknown channel columns of a wide-by-channel header
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 1))
        fmt.ends_with_newline = fh.read(1) in (b"\n", b"\r")
    if fast:
        parsed = _fast_csv(path, fmt, ctx)
        if parsed is not None:
            return parsed
        # start afresh: the row-by-row reader reports every problem with its row
        ctx = _Context(ctx.channels, ctx.mapping, ctx.tz, ctx.filename)
        fmt.columns = _sniff_csv(head, size, ctx)[0].columns
    return _slow_csv(path, fmt, ctx)


def _slow_csv(path: Path, fmt: _CsvFormat, ctx: _Context) -> ParsedFile:
    def records() -> Iterator[tuple[int, list[Any]]]:
        with open(path, "rb") as raw:
            text = io.TextIOWrapper(raw, encoding=fmt.encoding, errors="strict", newline="")
            reader = csv.reader(text, delimiter=fmt.delimiter)
            line = 0
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except UnicodeDecodeError as exc:
                    ctx.issue(
                        f"the text is not valid {fmt.encoding} ({exc.reason}); reading stopped here",
                        row=reader.line_num + 1,
                    )
                    return
                except csv.Error as exc:
                    ctx.issue(f"not readable as CSV ({exc}); reading stopped here", row=reader.line_num)
                    return
                start, line = line + 1, reader.line_num
                if start > fmt.header_line:
                    yield start, cells

    return _read_rows(
        records(),
        fmt.columns,
        ctx,
        strict_width=True,
        ends_with_newline=fmt.ends_with_newline,
        header_line=fmt.header_line,
    )


# -- the row-by-row path (CSV diagnosis and Excel) ------------------------------------------------------------
def _read_rows(
    records: Iterator[tuple[int, list[Any]]],
    cols: _Columns,
    ctx: _Context,
    *,
    strict_width: bool,
    ends_with_newline: bool,
    header_line: int,
) -> ParsedFile:
    header = cols.header
    width = len(header)
    used = cols.used()
    n_rows = 0
    default = ctx.default_channel(header_line) if cols.channel is None else None
    pending: tuple[int, list[Any]] | None = None

    def handle(line: int, cells: list[Any], is_last: bool) -> None:
        nonlocal n_rows
        if strict_width and len(cells) != width:
            if len(cells) < width or any(_cell_text(c) for c in cells[width:]):
                if not any(_cell_text(c) for c in cells):
                    return
                reason = f"the row has {len(cells)} fields, the header has {width}"
                if is_last and not ends_with_newline and len(cells) < width:
                    reason += "; the file ends in the middle of this row (truncated?)"
                ctx.issue(reason, row=line)
                n_rows += 1
                return
        if len(cells) < width:
            cells = list(cells) + [None] * (width - len(cells))
        if not any(_cell_text(cells[i]) for i in used):
            return
        n_rows += 1
        _row(line, cells, cols, ctx, default)

    for item in records:
        if pending is not None:
            handle(*pending, is_last=False)
        pending = item
    if pending is not None:
        handle(*pending, is_last=True)
    if n_rows == 0 and not ctx.issues:
        ctx.fail("the file has a header but no data rows", row=header_line)
    return _assemble_rows(ctx, cols.layout, n_rows)


def _row(line: int, cells: list[Any], cols: _Columns, ctx: _Context, default: int | None) -> None:
    header = cols.header
    mapping = ctx.mapping
    ordinal = default
    if cols.channel is not None:
        ordinal = ctx.channel(cells[cols.channel], line, header[cols.channel])
    unit_cell = _cell_text(cells[cols.unit]) if cols.unit is not None else ""
    if cols.layout == "wide_time":
        assert cols.date is not None and cols.step_s is not None
        day = ctx.timestamp(cells[cols.date], line, header[cols.date], date_only=True)
        if ordinal is None or day is None:
            return
        info = ctx.infos[ordinal]
        if info.interval_s != cols.step_s:
            ctx.issue(
                f"channel {info.code} has a {info.interval_s} s interval, but the file's columns are"
                f" {cols.step_s} s periods",
                row=line,
                column=header[cols.channel] if cols.channel is not None else None,
            )
            return
        factor = ctx.unit_factor(
            unit_cell or mapping.unit, ordinal, line, header[cols.unit] if cols.unit is not None else None
        )
        if factor is None:
            return
        for col, start in cols.periods:
            value = ctx.number(cells[col], line, header[col])
            if value is not None:
                ctx.add(
                    line,
                    ordinal,
                    day + start * _US,
                    value * factor if factor != 1.0 else value,
                    MEASURED,
                    ts_column=header[col],
                    value_column=header[col],
                    value_text=cells[col],
                    shift=False,
                )
        return
    ts_col = cols.timestamp_column()
    if cols.join_date and cols.date is not None:
        ts_cell: Any = _join_date_time(cells[cols.date], cells[cols.ts])  # type: ignore[index]
    else:
        ts_cell = cells[ts_col]
    ts = ctx.timestamp(ts_cell, line, header[ts_col])
    quality = MEASURED
    if cols.quality is not None:
        q = ctx.quality(cells[cols.quality], line, header[cols.quality])
        if q is None:
            return
        quality = q
    if cols.layout == "long":
        assert cols.value is not None
        value = ctx.number(cells[cols.value], line, header[cols.value])
        if ordinal is None or ts is None or value is None:
            return
        unit = unit_cell or mapping.unit or cols.value_unit
        factor = ctx.unit_factor(
            unit, ordinal, line, header[cols.unit] if unit_cell and cols.unit is not None else header[cols.value]
        )
        if factor is None:
            return
        ctx.add(
            line,
            ordinal,
            ts,
            value * factor if factor != 1.0 else value,
            quality,
            ts_column=header[ts_col],
            value_column=header[cols.value],
            value_text=cells[cols.value],
            shift=True,
        )
        return
    # wide_channel
    for col, ordinal, header_unit in cols.channel_cols:
        value = ctx.number(cells[col], line, header[col])
        if ts is None or value is None:
            continue
        unit = unit_cell or mapping.unit or header_unit
        factor = ctx.unit_factor(unit, ordinal, line, header[col])
        if factor is None:
            continue
        ctx.add(
            line,
            ordinal,
            ts,
            value * factor if factor != 1.0 else value,
            quality,
            ts_column=header[ts_col],
            value_column=header[col],
            value_text=cells[col],
            shift=True,
        )


def _join_date_time(day: Any, clock: Any) -> Any:
    if isinstance(day, datetime | date) and isinstance(clock, clock_time):
        base = day if isinstance(day, datetime) else datetime(day.year, day.month, day.day)
        return base.replace(hour=clock.hour, minute=clock.minute, second=clock.second, microsecond=clock.microsecond)
    day_text = (
        day.date().isoformat()
        if isinstance(day, datetime)
        else (day.isoformat() if isinstance(day, date) else _cell_text(day))
    )
    clock_text = clock.isoformat() if isinstance(clock, clock_time) else _cell_text(clock)
    return f"{day_text} {clock_text}"


def _assemble_rows(ctx: _Context, layout: str, n_rows: int) -> ParsedFile:
    ch = np.frombuffer(ctx.r_ch, dtype=np.intc).astype(np.int32)
    ts = np.frombuffer(ctx.r_ts, dtype=np.int64).copy()
    values = np.frombuffer(ctx.r_val, dtype=np.float64).copy()
    quality = np.frombuffer(ctx.r_q, dtype=np.int16).copy()
    used = _distinct(ch, ctx)
    keep, collapsed, conflicts = _duplicates(ctx, ch, ts, values, quality, used)
    rows, cols = ctx.r_row, ctx.r_col
    for first, other in conflicts:
        info = ctx.infos[ch[first]]
        ctx.issue(
            f"channel {info.code} at {_iso(ts[first])} is given twice with different values: row"
            f" {rows[first]} has {values[first]:g}, row {rows[other]} has {values[other]:g}",
            row=rows[other],
            column=cols[other],
        )
    ctx.raise_if_any()
    return _table(ctx, layout, n_rows, ch, ts, values, quality, keep, collapsed, used)


def _distinct(ch: np.ndarray, ctx: _Context) -> np.ndarray:
    """Distinct channel ordinals in `ch` (a bincount: linear, unlike np.unique's hashing or sorting)."""
    if len(ch) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.bincount(ch, minlength=len(ctx.infos)))


def _duplicates(
    ctx: _Context, ch: np.ndarray, ts: np.ndarray, values: np.ndarray, quality: np.ndarray, used: np.ndarray
) -> tuple[np.ndarray | None, int, list[tuple[int, int]]]:
    """Repeated (channel, time) keys: (rows to keep or None for all, repeats collapsed, conflicting pairs).

    `used` holds the distinct ordinals of `ch`. Every timestamp lies on its channel's grid, so the key
    (ordinal, (ts - t0) / gcd of the intervals) is dense and a bitmap finds repeats in linear time.
    """
    n = len(ch)
    if n < 2:
        return None, 0, []
    _, interval_us, _ = ctx.arrays()
    step = int(np.gcd.reduce(interval_us[used]))
    t0 = int(ts.min())
    span = (int(ts.max()) - t0) // step + 1
    n_ch = int(used.max()) + 1
    if n_ch * span <= max(8 * n, 1 << 24):
        key = (ts - t0) // step
        key += ch.astype(np.int64) * span
        seen = np.zeros(n_ch * span, dtype=np.bool_)
        seen[key] = True
        if int(np.count_nonzero(seen)) == n:
            return None, 0, []
        del seen
        counts = np.bincount(key, minlength=n_ch * span)
        dup = counts[key] > 1
        del counts, key
    else:
        order = np.lexsort((ts, ch))
        same = (ch[order][1:] == ch[order][:-1]) & (ts[order][1:] == ts[order][:-1])
        if not same.any():
            return None, 0, []
        dup = np.zeros(n, dtype=bool)
        dup[order[1:][same]] = True
        dup[order[:-1][same]] = True
    idx = np.flatnonzero(dup)
    idx = idx[np.lexsort((idx, ts[idx], ch[idx]))]
    new = np.ones(len(idx), dtype=bool)
    new[1:] = (ch[idx][1:] != ch[idx][:-1]) | (ts[idx][1:] != ts[idx][:-1])
    first = idx[np.maximum.accumulate(np.where(new, np.arange(len(idx)), 0))]
    others, firsts = idx[~new], first[~new]
    differ = (np.abs(values[others] - values[firsts]) > _REL_TOL * np.maximum(1.0, np.abs(values[firsts]))) | (
        quality[others] != quality[firsts]
    )
    keep = np.ones(n, dtype=bool)
    keep[others] = False
    conflicts = [(int(a), int(b)) for a, b in zip(firsts[differ], others[differ], strict=True)]
    return keep, int((~differ).sum()), conflicts


def _table(
    ctx: _Context,
    layout: str,
    n_rows: int,
    ch: np.ndarray,
    ts: np.ndarray,
    values: np.ndarray,
    quality: np.ndarray,
    keep: np.ndarray | None,
    collapsed: int,
    used: np.ndarray,
) -> ParsedFile:
    if keep is not None:
        ch, ts, values, quality = ch[keep], ts[keep], values[keep], quality[keep]
    ids, _, _ = ctx.arrays()
    table = pa.Table.from_arrays(
        [
            pa.array(ids[ch] if len(ids) else np.zeros(0, np.int64), type=pa.int64()),
            pa.array(ts, type=pa.timestamp("us", tz="UTC")),
            pa.array(values, type=pa.float64()),
            pa.array(quality, type=pa.int16()),
        ],
        schema=READING_SCHEMA,
    )
    codes = tuple(sorted(ctx.infos[int(o)].code for o in used))
    return ParsedFile(table, layout, n_rows, codes, collapsed, ctx.filename)


# -- the fast CSV path ----------------------------------------------------------------------------------------
@dataclass
class _Parts:
    ch: list[np.ndarray] = field(default_factory=list)
    ts: list[np.ndarray] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)
    quality: list[np.ndarray] = field(default_factory=list)
    used: set[int] = field(default_factory=set)
    rows: int = 0

    def extend(self, other: _Parts) -> None:
        self.ch += other.ch
        self.ts += other.ts
        self.values += other.values
        self.quality += other.quality
        self.used |= other.used
        self.rows += other.rows


_PYARROW_ENCODINGS = {"utf-8": "utf8", "utf-8-sig": "utf8"}


def _fast_csv(path: Path, fmt: _CsvFormat, ctx: _Context) -> ParsedFile | None:
    """The vectorised reader; None when anything needs the row-by-row path (which then reports it)."""
    cols = fmt.columns
    names = [f"c{i}" for i in range(len(cols.header))]
    used = cols.used()
    read = pacsv.ReadOptions(
        skip_rows=fmt.header_line,
        column_names=names,
        block_size=_BLOCK_BYTES,
        encoding=_PYARROW_ENCODINGS.get(codecs.lookup(fmt.encoding).name, fmt.encoding),
    )
    parse = pacsv.ParseOptions(delimiter=fmt.delimiter, newlines_in_values=False)
    convert = pacsv.ConvertOptions(
        column_types={names[i]: pa.string() for i in used},
        include_columns=[names[i] for i in used],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    parts = _Parts()
    default = ctx.default_channel(None) if cols.channel is None else None
    if cols.channel is None and default is None and cols.layout != "wide_channel":
        return None
    try:
        reader = pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)
        with _Prefetch(reader) as batches:
            for batch in batches:
                if not _fast_block(batch, names, cols, ctx, default, parts):
                    return None
    except (pa.ArrowException, ValueError, UnicodeError, OSError, LookupError):
        return None
    if parts.rows == 0 or not parts.ch:
        return None
    used_ordinals = np.array(sorted(parts.used), dtype=np.int64)
    if _repeats(ctx, parts, used_ordinals):
        ch = np.concatenate(parts.ch)
        ts = np.concatenate(parts.ts)
        values = np.concatenate(parts.values)
        quality = np.concatenate(parts.quality)
        keep, collapsed, conflicts = _duplicates(ctx, ch, ts, values, quality, used_ordinals)
        if conflicts:
            return None
        return _table(ctx, cols.layout, parts.rows, ch, ts, values, quality, keep, collapsed, used_ordinals)
    ids, _, _ = ctx.arrays()
    record_batches = [
        pa.RecordBatch.from_arrays(
            [pa.array(ids[c]), pa.array(t, type=pa.timestamp("us", tz="UTC")), pa.array(v), pa.array(q)],
            schema=READING_SCHEMA,
        )
        for c, t, v, q in zip(parts.ch, parts.ts, parts.values, parts.quality, strict=True)
    ]
    table = pa.Table.from_batches(record_batches, schema=READING_SCHEMA)
    codes = tuple(sorted(ctx.infos[int(o)].code for o in used_ordinals))
    return ParsedFile(table, cols.layout, parts.rows, codes, 0, ctx.filename)


def _repeats(ctx: _Context, parts: _Parts, used: np.ndarray) -> bool:
    """Whether any (channel, time) key occurs twice, block by block on a bitmap of the dense key space."""
    _, interval_us, _ = ctx.arrays()
    step = int(np.gcd.reduce(interval_us[used]))
    t0 = min(int(t.min()) for t in parts.ts if len(t))
    t1 = max(int(t.max()) for t in parts.ts if len(t))
    span = (t1 - t0) // step + 1
    n_ch = int(used.max()) + 1
    total = sum(len(c) for c in parts.ch)
    if n_ch * span > max(8 * total, 1 << 24):
        return True  # sparse keys: let _duplicates sort them
    seen = np.zeros(n_ch * span, dtype=np.bool_)
    for c, t in zip(parts.ch, parts.ts, strict=True):
        key = (t - t0) // step
        key += c * np.int64(span)
        seen[key] = True
    return int(np.count_nonzero(seen)) != total


class _Prefetch:
    """Iterate a pyarrow CSV stream with the next block parsed in a thread (pyarrow releases the GIL), so
    reading overlaps the numpy checks of the block before. Leaving the `with` early stops the thread."""

    _END = object()

    def __init__(self, reader: pacsv.CSVStreamingReader, depth: int = 2):
        import queue
        import threading

        self._reader = reader
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="parkzero-csv-prefetch", daemon=True)

    def _run(self) -> None:
        import queue

        item: object
        try:
            for batch in self._reader:
                item = batch
                while not self._stop.is_set():
                    try:
                        self._queue.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
            item = self._END
        except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread
            item = exc
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def __enter__(self) -> Iterator[pa.RecordBatch]:
        self._thread.start()
        return self._iterate()

    def _iterate(self) -> Iterator[pa.RecordBatch]:
        while True:
            item = self._queue.get()
            if item is self._END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._reader.close()


def _fast_block(
    batch: pa.RecordBatch, names: list[str], cols: _Columns, ctx: _Context, default: int | None, parts: _Parts
) -> bool:
    column = {i: batch.column(names[i]) for i in cols.used()}
    staged = _Parts()
    if _fast_columns(column, batch.num_rows, cols, ctx, default, staged):
        parts.extend(staged)
        return True
    # Rows where every cell the layout reads is empty are skipped, as on the row-by-row path. Looking for
    # them only when a block fails keeps the common case at one pass.
    blank = None
    for arr in column.values():
        empty = pc.equal(pc.utf8_length(arr), 0)
        blank = empty if blank is None else pc.and_(blank, empty)
    if blank is None or not pc.any(blank).as_py():
        return False
    keep_mask = pc.invert(blank)
    column = {i: pc.filter(a, keep_mask) for i, a in column.items()}
    n = len(next(iter(column.values())))
    staged = _Parts()
    if n and not _fast_columns(column, n, cols, ctx, default, staged):
        return False
    parts.extend(staged)
    return True


def _fast_columns(
    column: dict[int, pa.Array], n: int, cols: _Columns, ctx: _Context, default: int | None, parts: _Parts
) -> bool:
    parts.rows += n
    if n == 0:
        return True
    if cols.channel is not None:
        found = _fast_lookup(column[cols.channel], ctx.channel_lookup, np.int32)
        if found is None:
            return False
        ch, ch_distinct = found
    elif default is not None:
        ch, ch_distinct = np.full(n, default, dtype=np.int32), np.array([default])
    else:
        ch, ch_distinct = None, None
    unit_arr = column[cols.unit] if cols.unit is not None else None
    quality = np.zeros(n, dtype=np.int16)
    if cols.quality is not None:
        found = _fast_lookup(column[cols.quality], ctx.quality_code, np.int16)
        if found is None:
            return False
        quality = found[0]
    if cols.layout == "wide_time":
        assert cols.date is not None and cols.step_s is not None and ch is not None and ch_distinct is not None
        found = _fast_lookup(column[cols.date], ctx.date_text, np.int64)
        if found is None:
            return False
        day = found[0]
        _, interval_us, _ = ctx.arrays()
        if (interval_us[ch_distinct] != cols.step_s * _US).any():
            return False
        factor = _fast_factors(unit_arr, ctx.mapping.unit, ch, ch_distinct, ctx)
        if factor is None:
            return False
        for col, start in cols.periods:
            values = _fast_numbers(column[col], ctx)
            if values is None or not _fast_accept(
                ctx, parts, ch, ch_distinct, day + start * _US, _scaled(values, factor), quality, shift=False
            ):
                return False
        return True
    ts_col = cols.timestamp_column()
    if cols.join_date and cols.date is not None and cols.ts is not None:
        ts_text = pc.binary_join_element_wise(column[cols.date], column[cols.ts], " ")
    else:
        ts_text = column[ts_col]
    found = _fast_lookup(ts_text, ctx.ts_text, np.int64)
    if found is None:
        return False
    ts = found[0]
    if cols.layout == "long":
        assert cols.value is not None and ch is not None and ch_distinct is not None
        values = _fast_numbers(column[cols.value], ctx)
        if values is None:
            return False
        factor = _fast_factors(unit_arr, ctx.mapping.unit or cols.value_unit, ch, ch_distinct, ctx)
        if factor is None:
            return False
        return _fast_accept(ctx, parts, ch, ch_distinct, ts, _scaled(values, factor), quality, shift=True)
    for col, ordinal, header_unit in cols.channel_cols:
        values = _fast_numbers(column[col], ctx)
        if values is None:
            return False
        ch_col, distinct = np.full(n, ordinal, dtype=np.int32), np.array([ordinal])
        factor = _fast_factors(unit_arr, ctx.mapping.unit or header_unit, ch_col, distinct, ctx)
        if factor is None or not _fast_accept(
            ctx, parts, ch_col, distinct, ts, _scaled(values, factor), quality, shift=True
        ):
            return False
    return True


def _scaled(values: np.ndarray, factor: float | np.ndarray) -> np.ndarray:
    if isinstance(factor, float) and factor == 1.0:
        return values
    return values * factor


def _fast_lookup(arr: pa.Array, parse, dtype) -> tuple[np.ndarray, np.ndarray] | None:
    """Parse each distinct string once: (value per row, distinct values), or None if any is invalid."""
    encoded = pc.dictionary_encode(arr)
    distinct = encoded.dictionary.to_pylist()
    table = np.empty(len(distinct), dtype=dtype)
    for k, text in enumerate(distinct):
        found = parse(text)
        if isinstance(found, str):
            return None
        table[k] = found
    return table[encoded.indices.to_numpy(zero_copy_only=False)], table


def _fast_numbers(arr: pa.Array, ctx: _Context) -> np.ndarray | None:
    """float64 values of a string column; None where the row-by-row reader must decide."""
    if ctx.decimal == ".":
        try:
            return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:
            pass
    arr = pc.utf8_trim_whitespace(arr)
    sep = ctx.thousands
    if sep and pc.any(pc.match_substring(arr, sep)).as_py():
        d, t = re.escape(ctx.decimal), re.escape(sep)
        plain = rf"^[+-]?(?:\d+(?:{d}\d*)?|{d}\d+)(?:[eE][+-]?\d+)?$"
        grouped = rf"^[+-]?\d{{1,3}}(?:{t}\d{{3}})+(?:{d}\d*)?$"
        if not pc.all(pc.match_substring_regex(arr, f"{plain}|{grouped}")).as_py():
            return None
        arr = pc.replace_substring(arr, sep, "")
    if ctx.decimal != ".":
        if pc.any(pc.match_substring(arr, ".")).as_py():
            return None
        arr = pc.replace_substring(arr, ctx.decimal, ".")
    try:
        return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        return None


def _fast_factors(
    unit_arr: pa.Array | None, constant: str | None, ch: np.ndarray, distinct: np.ndarray, ctx: _Context
) -> float | np.ndarray | None:
    """One factor, or one per row, into canonical units; None if a unit cannot be converted."""
    if unit_arr is None:
        found = [ctx.factor(constant, int(o)) for o in distinct]
        if any(isinstance(f, str) for f in found):
            return None
        if all(f == found[0] for f in found):
            return float(found[0])
        factors = np.ones(len(ctx.infos), dtype=np.float64)
        factors[distinct] = found
        return factors[ch]
    encoded = pc.dictionary_encode(pc.utf8_trim_whitespace(unit_arr))
    units = encoded.dictionary.to_pylist()
    unit_idx = encoded.indices.to_numpy(zero_copy_only=False)
    width = len(ctx.infos)
    pairs = np.flatnonzero(np.bincount(unit_idx.astype(np.int64) * width + ch, minlength=len(units) * width))
    matrix = np.ones((len(units), width), dtype=np.float64)
    for pair in pairs:
        u, o = divmod(int(pair), width)
        f = ctx.factor(units[u] or constant, o)
        if isinstance(f, str):
            return None
        matrix[u, o] = f
    return matrix[unit_idx, ch]


def _fast_accept(
    ctx: _Context,
    parts: _Parts,
    ch: np.ndarray,
    distinct: np.ndarray,
    ts: np.ndarray,
    values: np.ndarray,
    quality: np.ndarray,
    *,
    shift: bool,
) -> bool:
    _, interval_us, no_negative = ctx.arrays()
    steps = interval_us[distinct]
    iv: np.ndarray | int = int(steps[0]) if (steps == steps[0]).all() else interval_us[ch]
    if shift and ctx.shift_end:
        ts = ts - iv
    if (ts % iv).any():
        return False
    if not np.isfinite(values).all():
        return False
    if no_negative[distinct].any():
        negative = values < 0
        if negative.any() and no_negative[ch[negative]].any():
            return False
    parts.ch.append(ch)
    parts.ts.append(ts)
    parts.values.append(values)
    parts.quality.append(quality)
    parts.used.update(int(o) for o in distinct)
    return True


# -- Excel ------------------------------------------------------------------------------------------------------
def _parse_xlsx(path: Path, ctx: _Context) -> ParsedFile:
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure of the library on a damaged file is the file's
        ctx.fail(f"not a readable .xlsx workbook ({type(exc).__name__}: {exc}); truncated or damaged?")
    try:
        sheet_name = ctx.mapping.sheet
        if sheet_name is not None and sheet_name not in workbook.sheetnames:
            ctx.fail(f"the workbook has no sheet {sheet_name!r} (sheets: {', '.join(workbook.sheetnames)})")
        sheet = workbook[sheet_name] if sheet_name else workbook.worksheets[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                sheet.reset_dimensions()  # do not trust the stated size; rows are numbered from 1 either way
                rows = (
                    (i, list(r)) for i, r in enumerate(sheet.iter_rows(min_row=1, min_col=1, values_only=True), start=1)
                )
                head = []
                for item in rows:
                    head.append(item)
                    if len(head) >= 60:
                        break
                k, cols = _find_header(head, ctx, lambda cells: [_header_text(c) for c in cells])
                ctx.raise_if_any()
                rest = head[k + 1 :]

                def records() -> Iterator[tuple[int, list[Any]]]:
                    yield from rest
                    yield from rows

                return _read_rows(
                    records(), cols, ctx, strict_width=False, ends_with_newline=True, header_line=head[k][0]
                )
            except ParkzeroError:
                raise
            except Exception as exc:  # noqa: BLE001 - as above: a damaged sheet, reported as such
                ctx.fail(f"the workbook is damaged ({type(exc).__name__}: {exc})")
    finally:
        workbook.close()


def _header_text(cell: Any) -> str:
    """Header text of an Excel cell; clock headers stored as times become 'HH:MM' (24:00 for 1.0)."""
    if isinstance(cell, clock_time):
        return f"{cell.hour:02d}:{cell.minute:02d}"
    if isinstance(cell, datetime) and cell.year < 1901:
        seconds = round((cell - datetime(1899, 12, 30)).total_seconds())
        if seconds <= 2 * 86400:
            seconds %= 86400 if seconds != 86400 else 86401
            return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    if isinstance(cell, timedelta):
        seconds = int(cell.total_seconds())
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    return _cell_text(cell)


# -- Green Button -----------------------------------------------------------------------------------------------
def _parse_espi(path: Path, ctx: _Context) -> ParsedFile:
    series = espi.read_espi(path, filename=ctx.filename, issues=ctx.issues)
    n_rows = 0
    mapping = ctx.mapping
    for s in series:
        n_rows += len(s.intervals)
        ordinal = next((o for o in (ctx.channel_ordinal(name) for name in s.names()) if o is not None), None)
        if ordinal is None and mapping.default_channel:
            ordinal = ctx.default_channel(s.line)
            if ordinal is None:
                continue
        if ordinal is None:
            ctx.issue(
                f"no channel for MeterReading {s.label!r}: name it in the column mapping's channel_map"
                f" (one of {', '.join(repr(n) for n in s.names()) or 'its title'}) or give default_channel",
                row=s.line,
                column="MeterReading",
            )
            continue
        info = ctx.infos[ordinal]
        rt = s.reading_type
        if rt is None:
            ctx.issue(
                f"MeterReading {s.label!r} has no ReadingType, so its unit is unknown", row=s.line, column="ReadingType"
            )
            continue
        if mapping.unit:
            unit, extra = mapping.unit, 1.0
        else:
            known = espi.uom_unit(rt.uom)
            if known is None:
                ctx.issue(
                    f"ReadingType uom {rt.uom} is not a unit parkzero knows (72 Wh, 73 varh, 38 W, 42 m3,"
                    " 119 ft3, 169 therm); give the unit in the column mapping",
                    row=rt.line,
                    column="uom",
                    value=str(rt.uom),
                )
                continue
            unit, extra = known
        factor = ctx.unit_factor(unit, ordinal, rt.line, "uom")
        if factor is None:
            continue
        if rt.accumulation_behaviour in espi.CUMULATIVE_ACCUMULATIONS and info.behaviour == "interval":
            ctx.issue(
                f"MeterReading {s.label!r} holds register readings (accumulationBehaviour"
                f" {rt.accumulation_behaviour}), but channel {info.code} takes interval values",
                row=rt.line,
                column="accumulationBehaviour",
            )
            continue
        scale = 10.0**rt.power_of_ten_multiplier * extra * factor
        for iv in s.intervals:
            if iv.duration != info.interval_s:
                ctx.issue(
                    f"interval of {iv.duration} s, but channel {info.code} has {info.interval_s} s intervals",
                    row=iv.line,
                    column="timePeriod/duration",
                    value=str(iv.duration),
                )
                continue
            quality = ESTIMATED if iv.quality in espi.ESTIMATED_QUALITIES else MEASURED
            ctx.add(
                iv.line,
                ordinal,
                iv.start * _US,
                iv.value * scale,
                quality,
                ts_column="timePeriod/start",
                value_column="value",
                value_text=str(iv.value),
                shift=False,
            )
    if n_rows == 0 and not ctx.issues:
        ctx.fail("the feed has no IntervalReadings")
    return _assemble_rows(ctx, "espi", n_rows)
