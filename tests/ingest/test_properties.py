"""Property tests: timestamp and number parsing, unit conversion, and fast path == row-by-row path."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parkzero.errors import ValidationFailed
from parkzero.ingest.files import _CellError, _Context, _fast_numbers, _parse, parse_number, parse_timestamp
from parkzero.ingest.mapping import ColumnMapping
from parkzero.units import conversion_factor

from .conftest import info

SH = ZoneInfo("Asia/Shanghai")
moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2199, 12, 31))
offsets = st.sampled_from([0, 8 * 60, -5 * 60, 5 * 60 + 30, 9 * 60 + 45, -(3 * 60 + 30), 14 * 60])


def micros(dt: datetime) -> int:
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def offset_text(minutes: int, style: int) -> str:
    if minutes == 0 and style == 0:
        return "Z"
    sign = "+" if minutes >= 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return [f"{sign}{h:02d}:{m:02d}", f"{sign}{h:02d}{m:02d}", f" {sign}{h:02d}:{m:02d}"][style % 3]


@given(moments, offsets, st.integers(0, 2), st.sampled_from(["T", " "]))
def test_iso_timestamps_with_offsets(local, offset, style, sep):
    aware = local.replace(tzinfo=timezone(timedelta(minutes=offset)))
    text = local.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + (f".{local.microsecond:06d}" if local.microsecond else "")
    assert parse_timestamp(text + offset_text(offset, style), None) == micros(aware)


@given(moments.map(lambda d: d.replace(second=0, microsecond=0)), st.integers(0, 3))
def test_local_chinese_formats_in_shanghai(local, style):
    y, mo, d, h, mi = local.year, local.month, local.day, local.hour, local.minute
    text = [
        f"{y}/{mo}/{d} {h}:{mi:02d}",
        f"{y}年{mo}月{d}日 {h:02d}:{mi:02d}",
        f"{y}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:00",
        f"{y}年{mo}月{d}日{h}时{mi}分",
    ][style]
    assert parse_timestamp(text, SH) == micros(local.replace(tzinfo=SH))


@given(st.text(max_size=30))
def test_timestamp_parser_never_crashes(text):
    try:
        parse_timestamp(text, SH)
    except _CellError:
        pass


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15))
def test_numbers_round_trip_plain_and_grouped(x):
    assert parse_number(repr(x)) == x
    grouped = f"{x:,.6f}"
    assert parse_number(grouped) == pytest.approx(float(f"{x:.6f}"), rel=1e-15, abs=0)
    decimal_comma = grouped.replace(",", "_").replace(".", ",").replace("_", ".")
    assert parse_number(decimal_comma, ",", ".") == parse_number(grouped)


number_like = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.from_regex(r"\A[ +\-]?[0-9,.]{0,9}([eE][+-]?[0-9]{1,3})?[ ]?\Z"),
    st.text(alphabet="0123456789,.-+eE nafi１", max_size=12),
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(number_like, st.sampled_from([".", ","]))
def test_fast_numbers_agree_with_the_parser(text, decimal):
    """Whatever the vectorised cast accepts, the cell parser accepts with the same value."""
    ctx = _Context({}, ColumnMapping(decimal=decimal), None, "f.csv")
    fast = _fast_numbers(pa.array([text]), ctx)
    try:
        slow = parse_number(text, decimal, ctx.thousands)
    except _CellError:
        slow = None
    if fast is not None and abs(fast[0]) < float("inf"):  # the fast path hands inf and nan to the parser
        assert slow == fast[0]


KWH_UNITS = ["kWh", "Wh", "MWh", "GWh", "万kWh", "亿kWh", "度", "千瓦时", "万千瓦时", "兆瓦时"]
CHANNELS = {
    c.code: c
    for c in (
        info("a", 1),
        info("b", 2),
        info("h", 3, interval_s=3600),
        info("gas", 4, kind="gas_volume", unit="Nm3", behaviour="counter"),
    )
}


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False), st.sampled_from(KWH_UNITS)),
        min_size=1,
        max_size=20,
    )
)
def test_unit_conversion_into_kwh(cells):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "u.csv"
        start = datetime(2025, 3, 1, tzinfo=UTC)
        lines = [f"{(start + timedelta(minutes=15 * k)).isoformat()},a,{v},{u}" for k, (v, u) in enumerate(cells)]
        path.write_text("timestamp,channel,value,unit\n" + "\n".join(lines) + "\n", encoding="utf-8")
        parsed = _parse(path, CHANNELS, None, None, None, fast=True)
    got = parsed.table.column("value").to_pylist()
    assert got == [float(v) * conversion_factor(u, "kWh") for v, u in cells]


row = st.tuples(
    st.sampled_from(["a", "b", "h", "gas", "zz", " a", ""]),
    st.integers(0, 7).map(lambda k: 15 * k) | st.just(7),
    st.sampled_from(["1", "2.5", "-1", "", "x", "1,000", "1e3", " 3 ", "nan", "0"]),
    st.sampled_from(["", "kWh", "MWh", "Nm3", "??"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row, max_size=12), st.booleans())
def test_fast_and_row_by_row_paths_agree(rows, zoned):
    """On any small file, valid or not, both paths give the same table or the same problems."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.csv"
        lines = []
        for channel, minute, value, unit in rows:
            ts = f"2025-03-01 {minute // 60:02d}:{minute % 60:02d}:00" + ("+08:00" if zoned else "")
            quoted = f'"{value}"' if "," in value else value
            lines.append(f"{ts},{channel},{quoted},{unit}")
        path.write_text("timestamp,channel,value,unit\n" + "\n".join(lines) + "\n", encoding="utf-8")
        results = []
        for fast in (True, False):
            try:
                parsed = _parse(path, CHANNELS, None, None if zoned else "Asia/Shanghai", None, fast=fast)
                results.append(("ok", parsed.table.to_pydict(), parsed.rows, parsed.duplicates))
            except ValidationFailed as exc:
                results.append(("rejected", sorted(map(str, exc.issues))))
    fast_result, slow_result = results
    assert fast_result == slow_result
