"""parse_file without a store: every layout, Chinese headers and encodings, units, Excel and Green Button.

Each CSV case is read twice, by the vectorised path and by the row-by-row path, and both must agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import openpyxl
import pyarrow as pa
import pytest

from parkzero.errors import ValidationFailed
from parkzero.ingest.files import _parse, parse_file
from parkzero.ingest.mapping import ColumnMapping

from .conftest import DATA, write

SH = "Asia/Shanghai"
# 2025-03-01 00:00 in Shanghai (UTC+8) is 2025-02-28 16:00 UTC
T0 = datetime(2025, 2, 28, 16, 0, tzinfo=UTC)


def rows(table: pa.Table) -> list[tuple]:
    """(channel_id, ts_start UTC, value, quality), sorted: the fast path may order wide files differently."""
    d = table.to_pydict()
    return sorted(zip(d["channel_id"], d["ts_start"], d["value"], d["quality"], strict=True))


def both(path, channels, *, mapping=None, tz=None):
    """Parse with the fast and the row-by-row path; assert they agree; return the fast result."""
    fast = _parse(path, channels, mapping, tz, None, fast=True)
    slow = _parse(path, channels, mapping, tz, None, fast=False)
    assert rows(fast.table) == rows(slow.table)
    assert (fast.layout, fast.rows, fast.channels, fast.duplicates) == (
        slow.layout,
        slow.rows,
        slow.channels,
        slow.duplicates,
    )
    return fast


def minutes(n: int) -> datetime:
    from datetime import timedelta

    return T0 + timedelta(minutes=n)


# -- CSV long ------------------------------------------------------------------------------------------------
def test_long_csv_english(tmp_path, channels):
    path = write(
        tmp_path,
        "m.csv",
        "timestamp,channel,value\n"
        "2025-03-01T00:00:00+08:00,steel.main,10.5\n"
        "2025-03-01T00:15:00+08:00,steel.main,11\n"
        "2025-02-28T16:00:00Z,office.main,2.25\n",
    )
    parsed = both(path, channels)
    assert parsed.layout == "long" and parsed.rows == 3
    assert parsed.channels == ("office.main", "steel.main")
    assert parsed.table.schema.field("ts_start").type == pa.timestamp("us", tz="UTC")
    assert rows(parsed.table) == [(11, T0, 10.5, 0), (11, minutes(15), 11.0, 0), (14, T0, 2.25, 0)]


def test_long_csv_gbk_chinese_headers_and_wan_kwh(channels):
    """The sample export: GBK, CRLF, 采集时间/计量点/电量(万kWh)/质量, meter names renamed by the mapping."""
    mapping = ColumnMapping(channel_map={"1#主变": "steel.main", "2#主变": "office.main"})
    parsed = both(DATA / "meter_long_gbk.csv", channels, mapping=mapping, tz=SH)
    assert parsed.rows == 8
    got = rows(parsed.table)
    # 0.0125 万kWh x 10^4 kWh/万kWh = 125 kWh at 2025/3/1 0:00 Shanghai = 2025-02-28 16:00 UTC
    assert got[0] == (11, T0, pytest.approx(125.0), 0)
    # 0.0121 万kWh = 121 kWh at 0:45, marked 估算 = estimated (1)
    assert got[3] == (11, minutes(45), pytest.approx(121.0), 1)
    # 2#主变: 0.0040 万kWh = 40 kWh
    assert got[4] == (14, T0, pytest.approx(40.0), 0)


def test_long_csv_bom_semicolon_and_unit_column(tmp_path, channels):
    text = (
        "\ufeff时间戳;测点;读数;单位\n"
        "2025-03-01 00:00:00+08:00;steel.main;1.5;MWh\n"
        "2025-03-01 00:15:00+08:00;steel.main;2500;Wh\n"
        "2025-03-01 00:30:00+08:00;steel.main;3;kWh\n"
        "2025-03-01 00:45:00+08:00;steel.main;0.0001;万kWh\n"
    )
    parsed = both(write(tmp_path, "m.csv", text), channels)
    values = [r[2] for r in rows(parsed.table)]
    # 1.5 MWh x 1000 = 1500 kWh; 2500 Wh x 0.001 = 2.5 kWh; 3 kWh; 0.0001 万kWh x 10^4 = 1 kWh
    assert values == pytest.approx([1500.0, 2.5, 3.0, 1.0])


def test_long_csv_tab_delimited_with_unit_in_english_header(tmp_path, channels):
    text = "time\tmeter\tvalue [MWh]\n2025-03-01T00:00Z\tsteel.main\t0.25\n2025-03-01T00:15Z\tsteel.main\t0.5\n"
    parsed = both(write(tmp_path, "m.tsv", text), channels)
    # 0.25 MWh x 1000 kWh/MWh = 250 kWh
    assert [r[2] for r in rows(parsed.table)] == pytest.approx([250.0, 500.0])


@pytest.mark.parametrize(
    "stamp",
    [
        "2025/3/1 0:15",
        "2025-03-01 00:15:00",
        "2025年3月1日 00:15",
        "2025年3月1日0时15分",
        "20250301 00:15",
        "2025-03-01T00:15",
        "2025.3.1 0:15",
    ],
)
def test_chinese_and_local_date_formats(tmp_path, channels, stamp):
    path = write(tmp_path, "m.csv", f"日期时间,通道,数值\n{stamp},steel.main,1\n", "gb18030")
    parsed = both(path, channels, tz=SH)
    assert rows(parsed.table) == [(11, minutes(15), 1.0, 0)]


def test_quoted_thousands_separators(tmp_path, channels):
    path = write(
        tmp_path,
        "m.csv",
        'timestamp,channel,value\n2025-03-01T00:00+08:00,steel.main,"1,234.5"\n'
        '2025-03-01T00:15+08:00,steel.main,"12,345,678"\n',
    )
    assert [r[2] for r in rows(both(path, channels).table)] == [1234.5, 12345678.0]


def test_decimal_comma_mapping(tmp_path, channels):
    path = write(
        tmp_path,
        "m.csv",
        'timestamp;channel;value\n2025-03-01T00:00+08:00;steel.main;"1.234,5"\n'
        "2025-03-01T00:15+08:00;steel.main;0,25\n",
    )
    parsed = both(path, channels, mapping=ColumnMapping(decimal=","))
    assert [r[2] for r in rows(parsed.table)] == [1234.5, 0.25]


def test_separate_date_and_time_columns(tmp_path, channels):
    path = write(
        tmp_path, "m.csv", "日期,时间,表计,电量\n2025-03-01,00:15,steel.main,4\n2025-03-01,00:30,steel.main,5\n"
    )
    parsed = both(path, channels, tz=SH)
    assert [r[1] for r in rows(parsed.table)] == [minutes(15), minutes(30)]


def test_time_label_end_shifts_to_interval_start(tmp_path, channels):
    path = write(tmp_path, "m.csv", "timestamp,channel,value\n2025-03-01T00:15+08:00,steel.main,4\n")
    parsed = both(path, channels, mapping=ColumnMapping(time_label="end"))
    # the reading labelled 00:15 covers [00:00, 00:15)
    assert rows(parsed.table) == [(11, T0, 4.0, 0)]


def test_custom_column_names_and_default_channel(tmp_path, channels):
    path = write(tmp_path, "m.csv", "Zeit,Wert\n2025-03-01T00:00+08:00,7\n")
    mapping = ColumnMapping(timestamp_column="Zeit", value_column="Wert", default_channel="pv1.gen")
    assert rows(both(path, channels, mapping=mapping).table) == [(15, T0, 7.0, 0)]


def test_quality_words_and_codes(tmp_path, channels):
    path = write(
        tmp_path,
        "m.csv",
        "timestamp,channel,value,quality\n2025-03-01T00:00+08:00,steel.main,1,measured\n"
        "2025-03-01T00:15+08:00,steel.main,1,estimated\n2025-03-01T00:30+08:00,steel.main,1,2\n"
        "2025-03-01T00:45+08:00,steel.main,1,\n",
    )
    assert [r[3] for r in rows(both(path, channels).table)] == [0, 1, 2, 0]


def test_identical_duplicates_are_collapsed(tmp_path, channels):
    line = "2025-03-01T00:00+08:00,steel.main,1.5\n"
    path = write(
        tmp_path, "m.csv", "timestamp,channel,value\n" + line + line + "2025-03-01T00:00+08:00,steel.main,1.50\n"
    )
    parsed = both(path, channels)
    assert parsed.rows == 3 and parsed.duplicates == 2 and parsed.table.num_rows == 1


def test_blank_lines_and_empty_trailing_rows_are_skipped(tmp_path, channels):
    path = write(tmp_path, "m.csv", "timestamp,channel,value\n\n2025-03-01T00:00+08:00,steel.main,1\n,,\n\n")
    parsed = both(path, channels)
    assert parsed.rows == 1 and parsed.table.num_rows == 1


def test_title_rows_before_the_header_are_skipped(tmp_path, channels):
    path = write(
        tmp_path, "m.csv", "XX园区电量报表\n导出时间: 2025-03-02\n时间,表计,电量\n2025-03-01T00:00+08:00,steel.main,1\n"
    )
    assert rows(both(path, channels).table) == [(11, T0, 1.0, 0)]


# -- CSV wide by time --------------------------------------------------------------------------------------------
def test_wide_time_sample_end_labels(channels):
    """meter_wide_time.csv: 00:15..24:00 = interval END; 2 days x 2 meters x 96; the 合计 column is ignored."""
    parsed = both(DATA / "meter_wide_time.csv", channels, tz=SH)
    assert parsed.layout == "wide_time" and parsed.rows == 4 and parsed.table.num_rows == 4 * 96
    got = [r for r in rows(parsed.table) if r[0] == 11]
    # column 00:15 of 2025-03-01 is [00:00, 00:15) Shanghai: 100.0 kWh from 2025-02-28 16:00 UTC
    assert got[0] == (11, T0, 100.0, 0)
    # column 24:00 of 2025-03-02 is [23:45, 24:00) on 3-2: 100 + (95 % 8) x 0.5 = 103.5 kWh at 3-2 15:45 UTC
    assert got[-1] == (11, datetime(2025, 3, 2, 15, 45, tzinfo=UTC), 103.5, 0)


def wide_header(labels):
    return "日期,表计," + ",".join(labels) + "\n"


@pytest.mark.parametrize(
    "labels",
    [
        [f"{k * 15 // 60:02d}:{k * 15 % 60:02d}" for k in range(96)],  # 00:00 .. 23:45 = start
        [str(k) for k in range(1, 97)],  # 1 .. 96
        [f"P{k}" for k in range(1, 97)],  # P1 .. P96
        [f"{k * 15 // 60:02d}:{k * 15 % 60:02d}-{(k + 1) * 15 // 60:02d}:{(k + 1) * 15 % 60:02d}" for k in range(96)],
    ],
)
def test_wide_time_start_conventions(tmp_path, channels, labels):
    body = "2025-03-01,office.main," + ",".join(str(k) for k in range(96)) + "\n"
    parsed = both(write(tmp_path, "w.csv", wide_header(labels) + body), channels, tz=SH)
    got = rows(parsed.table)
    # the first column is the quarter hour starting at local midnight, value 0; the last starts at 23:45
    assert got[0] == (14, T0, 0.0, 0)
    assert got[-1] == (14, minutes(23 * 60 + 45), 95.0, 0)


def test_wide_time_hourly_columns_for_an_hourly_channel(tmp_path, channels):
    labels = [f"{h:02d}:00" for h in range(1, 25)]  # 01:00 .. 24:00 = hour ENDS
    body = "2025/3/1,grid.hourly," + ",".join(str(h) for h in range(24)) + "\n"
    parsed = both(write(tmp_path, "w.csv", wide_header(labels) + body), channels, tz=SH)
    got = rows(parsed.table)
    assert len(got) == 24 and got[1] == (16, minutes(60), 1.0, 0)


def test_wide_time_columns_must_match_the_channel_interval(tmp_path, channels):
    labels = [f"{h:02d}:00" for h in range(1, 25)]
    body = "2025-03-01,steel.main," + ",".join("1" for _ in range(24)) + "\n"
    with pytest.raises(ValidationFailed) as err:
        parse_file(write(tmp_path, "w.csv", wide_header(labels) + body), channels, default_timezone=SH)
    (issue,) = err.value.issues
    assert issue.row == 2 and "900 s interval" in issue.reason and "3600 s periods" in issue.reason


def test_wide_time_needs_a_time_zone(tmp_path, channels):
    labels = [str(k) for k in range(1, 97)]
    body = "2025-03-01,steel.main," + ",".join("1" for _ in range(96)) + "\n"
    with pytest.raises(ValidationFailed) as err:
        parse_file(write(tmp_path, "w.csv", wide_header(labels) + body), channels)
    (issue,) = err.value.issues
    assert (issue.row, issue.column, issue.value) == (2, "日期", "2025-03-01")
    assert "no time zone" in issue.reason


# -- CSV wide by channel ----------------------------------------------------------------------------------------
def test_wide_channel_with_units_in_headers_and_renames(tmp_path, channels):
    text = (
        "时间,steel.main (kWh),1#主变 [MWh],pv1.gen（Wh）\n"
        "2025-03-01 00:00,1,0.002,500\n2025-03-01 00:15,2,0.003,1500\n"
    )
    mapping = ColumnMapping(channel_map={"1#主变": "office.main"}, timezone=SH)
    parsed = both(write(tmp_path, "w.csv", text), channels, mapping=mapping)
    assert parsed.layout == "wide_channel" and parsed.channels == ("office.main", "pv1.gen", "steel.main")
    got = rows(parsed.table)
    # 0.002 MWh = 2 kWh; 500 Wh = 0.5 kWh
    assert got == [
        (11, T0, 1.0, 0),
        (11, minutes(15), 2.0, 0),
        (14, T0, pytest.approx(2.0), 0),
        (14, minutes(15), pytest.approx(3.0), 0),
        (15, T0, 0.5, 0),
        (15, minutes(15), 1.5, 0),
    ]


# -- Excel -------------------------------------------------------------------------------------------------------
def save_xlsx(path, sheets: dict[str, list[list]]):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, data in sheets.items():
        ws = wb.create_sheet(name)
        for row in data:
            ws.append(row)
    wb.save(path)
    return path


def test_excel_long_with_title_row_and_naive_datetimes(tmp_path, channels):
    path = save_xlsx(
        tmp_path / "export.xlsx",
        {
            "电量": [
                ["2025年3月 园区分项计量"],
                ["采集时间", "表计", "电量(MWh)"],
                [datetime(2025, 3, 1, 0, 0), "steel.main", 0.5],
                [datetime(2025, 3, 1, 0, 15), "steel.main", 0.25],
                ["2025/3/1 0:30", "office.main", "1,250"],
            ]
        },
    )
    parsed = parse_file(path, channels, default_timezone=SH)
    # 0.5 MWh = 500 kWh; "1,250" MWh = 1,250,000 kWh
    assert rows(parsed.table) == [(11, T0, 500.0, 0), (11, minutes(15), 250.0, 0), (14, minutes(30), 1_250_000.0, 0)]
    assert parsed.rows == 3


def test_excel_wide_time_with_clock_headers_and_named_sheet(tmp_path, channels):
    header = ["日期", "表计"] + [time(k * 15 // 60, k * 15 % 60) for k in range(96)]
    path = save_xlsx(
        tmp_path / "wide.xlsx",
        {
            "说明": [["this sheet is a note"]],
            "数据": [header, [date(2025, 3, 1), "pv1.gen"] + [float(k) for k in range(96)]],
        },
    )
    parsed = parse_file(path, channels, mapping=ColumnMapping(sheet="数据", timezone=SH))
    got = rows(parsed.table)
    assert parsed.layout == "wide_time" and len(got) == 96
    assert got[4] == (15, minutes(60), 4.0, 0)


def test_excel_errors_name_the_sheet_row(tmp_path, channels):
    path = save_xlsx(
        tmp_path / "bad.xlsx",
        {
            "S": [
                ["时间", "表计", "电量"],
                [datetime(2025, 3, 1, 0, 0), "steel.main", None],
                [datetime(2025, 3, 1, 0, 15), "steel.main", "n/a"],
            ]
        },
    )
    with pytest.raises(ValidationFailed) as err:
        parse_file(path, channels, default_timezone=SH)
    assert [(i.file, i.row, i.column, i.reason) for i in err.value.issues] == [
        ("bad.xlsx", 2, "电量", "value is missing"),
        ("bad.xlsx", 3, "电量", "not a number"),
    ]


# -- Green Button ------------------------------------------------------------------------------------------------
def test_green_button_sample(channels):
    mapping = ColumnMapping(channel_map={"Main incomer": "steel.main", "Rooftop PV": "pv1.gen"})
    parsed = parse_file(DATA / "green_button_sample.xml", channels, mapping=mapping)
    assert parsed.layout == "espi" and parsed.rows == 8
    got = rows(parsed.table)
    # Main incomer: 12500 Wh x 10^0 = 12.5 kWh from 1740758400 s = 2025-02-28T16:00Z; quality 8 -> estimated
    assert got[:4] == [
        (11, T0, 12.5, 0),
        (11, minutes(15), 13.0, 0),
        (11, minutes(30), 12.8, 0),
        (11, minutes(45), 12.1, 1),
    ]
    # Rooftop PV: value 2 x 10^3 Wh = 2 kWh
    assert [r[2] for r in got[4:]] == [0.0, 0.0, 1.0, 2.0]


def test_green_button_needs_a_channel_for_each_meter_reading(channels):
    with pytest.raises(ValidationFailed) as err:
        parse_file(DATA / "green_button_sample.xml", channels)
    issues = err.value.issues
    assert len(issues) == 2
    assert issues[0].column == "MeterReading" and "Main incomer" in issues[0].reason
    assert issues[0].file == "green_button_sample.xml" and issues[0].row is not None


def test_green_button_meter_reading_title_and_default_channel(tmp_path, channels):
    text = (DATA / "green_button_sample.xml").read_text()
    one = text[: text.index("  <entry>\n    <id>urn:uuid:00000002-0001")] + "</feed>\n"
    path = write(tmp_path, "one.xml", one)
    parsed = parse_file(path, channels, mapping=ColumnMapping(default_channel="office.main"))
    assert parsed.channels == ("office.main",) and parsed.table.num_rows == 4
    by_title = ColumnMapping(channel_map={"Main incomer 15-minute energy": "steel.main"})
    assert parse_file(path, channels, mapping=by_title).channels == ("steel.main",)


def test_green_button_malformed_xml_names_the_line(tmp_path, channels):
    text = (DATA / "green_button_sample.xml").read_text()
    path = write(tmp_path, "cut.xml", text[: len(text) // 2])
    with pytest.raises(ValidationFailed) as err:
        parse_file(path, channels)
    (issue,) = err.value.issues
    assert "not well-formed XML" in issue.reason and issue.row and issue.row > 1


def test_green_button_bad_value_names_line_and_element(tmp_path, channels):
    text = (DATA / "green_button_sample.xml").read_text().replace("<value>13000</value>", "<value>13k</value>", 1)
    path = write(tmp_path, "bad.xml", text)
    lines = text.splitlines()
    line = next(i for i, ln in enumerate(lines, start=1) if "<value>13k</value>" in ln)
    mapping = ColumnMapping(channel_map={"Main incomer": "steel.main", "Rooftop PV": "pv1.gen"})
    with pytest.raises(ValidationFailed) as err:
        parse_file(path, channels, mapping=mapping)
    (issue,) = err.value.issues
    assert (issue.row, issue.column, issue.value) == (line, "value", "13k")


def test_green_button_refuses_doctype(tmp_path, channels):
    path = write(
        tmp_path,
        "x.xml",
        '<?xml version="1.0"?>\n<!DOCTYPE feed [<!ENTITY a "aaaa">]>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">&a;</feed>\n',
    )
    with pytest.raises(ValidationFailed, match="problem"):
        parse_file(path, channels)


def test_utf16_tab_separated_unicode_text(tmp_path, channels):
    """Excel's "Unicode text" export: UTF-16 with BOM, tab-delimited."""
    text = "时间\t表计\t电量\r\n2025-03-01 00:00\tsteel.main\t8\r\n"
    path = write(tmp_path, "unicode.txt", text, "utf-16")
    assert rows(both(path, channels, tz=SH).table) == [(11, T0, 8.0, 0)]


def test_ignored_columns_of_a_wide_channel_file(tmp_path, channels):
    path = write(tmp_path, "w.csv", "timestamp,steel.main,备注,合计\n2025-03-01T00:00+08:00,3,checked,3\n")
    parsed = both(path, channels, mapping=ColumnMapping(ignore_columns=["备注"]))
    assert parsed.channels == ("steel.main",) and rows(parsed.table) == [(11, T0, 3.0, 0)]


def test_excel_table_not_in_the_top_left_corner(tmp_path, channels):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["B3"], ws["C3"], ws["D3"] = "时间", "表计", "电量"
    ws["B5"], ws["C5"], ws["D5"] = "2025-03-01T00:00:00+08:00", "steel.main", "bad"
    wb.save(tmp_path / "offset.xlsx")
    with pytest.raises(ValidationFailed) as err:
        parse_file(tmp_path / "offset.xlsx", channels)
    (issue,) = err.value.issues
    assert (issue.row, issue.column, issue.value) == (5, "电量", "bad")
