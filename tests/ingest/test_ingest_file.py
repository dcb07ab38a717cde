"""ingest_file into a real store (DuckDB and PostgreSQL): good files land, bad files write nothing."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest

from parkzero.errors import Forbidden, PayloadTooLarge, ValidationFailed
from parkzero.ingest.files import ingest_file
from parkzero.ingest.mapping import ColumnMapping, save_mapping
from parkzero.registry.scope import Scope
from tests.conftest import enterprise_scope

from .conftest import DATA, n_readings, stored, write

SYSTEM = Scope.system("tester")
HEADER = "timestamp,channel,value\n"


def ok_rows(n: int = 4, code: str = "steel.main") -> str:
    return "".join(f"2025-03-01T00:{15 * k:02d}:00+08:00,{code},{10 + k}\n" for k in range(n))


def rejected(store, path, **kw) -> list:
    """Ingest `path`, expect a rejection that writes nothing; return the issues."""
    before = n_readings(store)
    batches = store.db.fetchone("SELECT count(*) FROM ingest_batches")[0]
    with pytest.raises(ValidationFailed) as err:
        ingest_file(store, kw.pop("scope", SYSTEM), path, park_code="p1", **kw)
    assert n_readings(store) == before
    assert store.db.fetchone("SELECT count(*) FROM ingest_batches")[0] == batches
    assert "nothing was written" in str(err.value)
    assert all(i.file == path.name for i in err.value.issues)
    return err.value.issues


# -- good files -------------------------------------------------------------------------------------------------
def test_long_csv_lands_and_repeats_are_no_ops(park, tmp_path):
    path = write(tmp_path, "meter.csv", HEADER + ok_rows())
    report = ingest_file(park, SYSTEM, path, park_code="p1")
    assert (report.layout, report.rows, report.readings, report.merge.inserted) == ("long", 4, 4, 4)
    assert report.as_dict()["inserted"] == 4 and report.channels == ("steel.main",)
    assert stored(park, "steel.main")[0] == ("2025-02-28T16:00:00+00:00", 10.0, 0)
    again = ingest_file(park, SYSTEM, path, park_code="p1")
    assert (again.merge.inserted, again.merge.unchanged) == (0, 4)
    assert park.db.fetchone("SELECT filename, source FROM ingest_batches WHERE id = ?", (report.merge.batch_id,)) == (
        "meter.csv",
        "file:long",
    )


def test_gbk_sample_with_saved_mapping(park):
    save_mapping(
        park,
        SYSTEM,
        "p1",
        ColumnMapping(
            name="scada", timezone="Asia/Shanghai", channel_map={"1#主变": "steel.main", "2#主变": "office.main"}
        ),
    )
    report = ingest_file(park, SYSTEM, DATA / "meter_long_gbk.csv", park_code="p1", mapping="scada")
    assert report.readings == 8
    got = stored(park, "steel.main")
    # 0.0125 万kWh x 10^4 kWh/万kWh = 125 kWh; 0.0121 万kWh = 121 kWh (估算 = estimated)
    assert got[0][:2] == ("2025-02-28T16:00:00+00:00", pytest.approx(125.0))
    assert got[3][1:] == (pytest.approx(121.0), 1)
    # the hourly rollup follows: 125 + 130 + 128 + 121 = 504 kWh in the 16:00 UTC hour
    total = park.db.fetchone(
        "SELECT value_sum FROM rollup_hourly h JOIN channels c ON c.id = h.channel_id WHERE c.code = 'steel.main'"
    )[0]
    assert total == pytest.approx(504.0)


def test_wide_time_and_green_button_land(park):
    report = ingest_file(park, SYSTEM, DATA / "meter_wide_time.csv", park_code="p1", default_timezone="Asia/Shanghai")
    assert (report.layout, report.readings) == ("wide_time", 384)
    mapping = ColumnMapping(channel_map={"Main incomer": "steel.main", "Rooftop PV": "pv1.gen"})
    gb = ingest_file(park, SYSTEM, DATA / "green_button_sample.xml", park_code="p1", mapping=mapping)
    # the ESPI main incomer overlaps the first hour of the wide file: 4 revisions, 4 new PV readings
    assert (gb.layout, gb.merge.inserted, gb.merge.revised) == ("espi", 4, 4)
    assert [v for _, v, _ in stored(park, "pv1.gen")] == [0.0, 0.0, 1.0, 2.0]


def test_excel_wide_channel_lands(park, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["时间", "steel.main", "office.main(MWh)"])
    ws.append(["2025-03-01 00:00:00+08:00", 5, 0.001])
    ws.append(["2025-03-01 00:15:00+08:00", 6, 0.002])
    wb.save(tmp_path / "wide.xlsx")
    report = ingest_file(park, SYSTEM, tmp_path / "wide.xlsx", park_code="p1")
    assert (report.layout, report.readings) == ("wide_channel", 4)
    # 0.001 MWh x 1000 = 1 kWh
    assert [v for _, v, _ in stored(park, "office.main")] == pytest.approx([1.0, 2.0])


def test_identical_duplicates_are_counted(park, tmp_path):
    path = write(tmp_path, "dup.csv", HEADER + ok_rows(2) + ok_rows(2))
    report = ingest_file(park, SYSTEM, path, park_code="p1")
    assert (report.rows, report.readings, report.duplicates) == (4, 2, 2)
    assert report.as_dict()["duplicates_collapsed"] == 2


# -- bad files: each names file, row and column, and writes nothing -------------------------------------------------
def test_ragged_row(park, tmp_path):
    path = write(tmp_path, "ragged.csv", HEADER + ok_rows(2) + "2025-03-01T00:30:00+08:00,steel.main\n" + ok_rows(1))
    (issue,) = rejected(park, path)
    assert issue.row == 4 and "2 fields, the header has 3" in issue.reason


def test_truncated_final_line(park, tmp_path):
    path = write(tmp_path, "cut.csv", HEADER + ok_rows(3) + "2025-03-01T00:45:00+08")
    (issue,) = rejected(park, path)
    assert issue.row == 5 and "truncated" in issue.reason


def test_truncated_value_on_the_last_line(park, tmp_path):
    path = write(tmp_path, "cut2.csv", HEADER + ok_rows(3) + "2025-03-01T00:4")
    issues = rejected(park, path)
    assert issues[0].row == 5


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("blank.csv", b"\n\n  \n", "the file is empty"),
        ("header.csv", b"timestamp,channel,value\n", "header but no data rows"),
        ("garbage.csv", bytes(range(256)) * 8, "binary content"),
        ("notes.txt", b"just some notes\nnothing tabular here\n", "cannot read the header"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ".xls"),
        ("fake.xlsx", b"timestamp,channel,value\n", "not a valid .xlsx"),
        ("not-espi.xml", b"<?xml version='1.0'?><html><body/></html>", "not a Green Button"),
    ],
)
def test_malformed_files(park, tmp_path, name, content, reason):
    path = write(tmp_path, name, content)
    issues = rejected(park, path)
    assert reason in issues[0].reason


def test_truncated_xlsx(park, tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["时间", "表计", "电量"])
    wb.save(tmp_path / "full.xlsx")
    data = (tmp_path / "full.xlsx").read_bytes()
    path = write(tmp_path, "cut.xlsx", data[: len(data) // 2])
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(path)
    issues = rejected(park, path)
    assert "xlsx" in issues[0].reason


def test_wrong_and_unknown_units(park, tmp_path):
    path = write(
        tmp_path,
        "units.csv",
        "timestamp,channel,value,unit\n"
        "2025-03-01T00:00:00+08:00,steel.main,1,Nm3\n"
        "2025-03-01T00:15:00+08:00,steel.main,1,furlong\n"
        "2025-03-01T00:30:00+08:00,steel.gas,1,kWh\n"
        "2025-03-01T00:45:00+08:00,steel.main,1,kWh\n",
    )
    issues = rejected(park, path)
    assert [(i.row, i.column, i.value) for i in issues] == [
        (2, "unit", "Nm3"),
        (3, "unit", "furlong"),
        (4, "unit", "kWh"),
    ]
    assert "measures Nm3" in issues[0].reason and "kWh" in issues[0].reason
    assert "unknown unit" in issues[1].reason


def test_wrong_unit_in_header(park, tmp_path):
    path = write(tmp_path, "h.csv", "时间,表计,用量(万Nm3)\n2025-03-01T00:00:00+08:00,steel.main,1\n")
    (issue,) = rejected(park, path)
    assert (issue.row, issue.column, issue.value) == (2, "用量(万Nm3)", "万Nm3")


def test_conflicting_duplicates_name_both_rows(park, tmp_path):
    path = write(tmp_path, "conflict.csv", HEADER + ok_rows(2) + "2025-03-01T00:15:00+08:00,steel.main,99\n")
    (issue,) = rejected(park, path)
    assert (issue.row, issue.column) == (4, "value")
    assert "row 3 has 11, row 4 has 99" in issue.reason


def test_timestamp_without_zone(park, tmp_path):
    path = write(tmp_path, "naive.csv", HEADER + "2025-03-01 00:15:00,steel.main,1\n")
    (issue,) = rejected(park, path)
    assert (issue.row, issue.column, issue.value) == (2, "timestamp", "2025-03-01 00:15:00")
    assert issue.reason == (
        "timestamp has no time zone; give an offset or choose the file's time zone (--timezone Asia/Shanghai)"
    )
    # the same file with a time zone is fine
    assert ingest_file(park, SYSTEM, path, park_code="p1", default_timezone="Asia/Shanghai").readings == 1


def test_off_grid_timestamp(park, tmp_path):
    path = write(tmp_path, "grid.csv", HEADER + "2025-03-01T00:07:00+08:00,steel.main,1\n")
    (issue,) = rejected(park, path)
    assert (issue.row, issue.column) == (2, "timestamp") and "900 s interval grid" in issue.reason


def test_unknown_channels_reported_once_at_first_row(park, tmp_path):
    path = write(tmp_path, "unknown.csv", HEADER + ok_rows(1) + ok_rows(3, "ghost.meter") + ok_rows(2, "other"))
    issues = rejected(park, path)
    assert [(i.row, i.column, i.value) for i in issues] == [(3, "channel", "ghost.meter"), (6, "channel", "other")]
    assert "unknown channel 'ghost.meter'" in issues[0].reason


def test_unknown_channel_column_of_a_wide_file(park, tmp_path):
    path = write(tmp_path, "wide.csv", "timestamp,steel.main,ghost\n2025-03-01T00:00:00+08:00,1,2\n")
    (issue,) = rejected(park, path)
    assert (issue.row, issue.column) == (1, "ghost")


def test_empty_and_non_numeric_values(park, tmp_path):
    path = write(
        tmp_path,
        "values.csv",
        HEADER + "2025-03-01T00:00:00+08:00,steel.main,\n"
        "2025-03-01T00:15:00+08:00,steel.main,n/a\n2025-03-01T00:30:00+08:00,steel.main,1e999\n"
        '2025-03-01T00:45:00+08:00,steel.main,"1,23"\n',
    )
    issues = rejected(park, path)
    assert [(i.row, i.column, i.reason) for i in issues] == [
        (2, "value", "value is missing"),
        (3, "value", "not a number"),
        (4, "value", "value is not a finite number"),
        (5, "value", "not a number"),
    ]


def test_negative_interval_energy(park, tmp_path):
    path = write(tmp_path, "neg.csv", HEADER + "2025-03-01T00:00:00+08:00,steel.main,-5\n")
    (issue,) = rejected(park, path)
    assert (issue.row, issue.column, issue.value) == (2, "value", "-5")
    assert "negative energy" in issue.reason


def test_many_problems_are_collected(park, tmp_path):
    path = write(
        tmp_path, "many.csv", HEADER + "".join(f"2025-03-01T00:00:00+08:00,steel.main,x{k}\n" for k in range(150))
    )
    with pytest.raises(ValidationFailed) as err:
        ingest_file(park, SYSTEM, path, park_code="p1")
    assert len(err.value.issues) == 100 and "150 problem(s)" in str(err.value)
    assert n_readings(park) == 0


def test_oversize_is_refused_before_reading(park, tmp_path, monkeypatch):
    path = write(tmp_path, "big.csv", HEADER + ok_rows(4))
    size = path.stat().st_size
    with pytest.raises(PayloadTooLarge) as err:
        ingest_file(park, SYSTEM, path, park_code="p1", max_bytes=size - 1)
    assert err.value.status == 413 and err.value.issues[0].file == "big.csv"
    monkeypatch.setenv("PARKZERO_MAX_UPLOAD_BYTES", "10")
    with pytest.raises(PayloadTooLarge):
        ingest_file(park, SYSTEM, path, park_code="p1")
    assert n_readings(park) == 0


# -- tenancy ------------------------------------------------------------------------------------------------------
def test_tenant_cannot_write_another_tenants_channel(park, tmp_path):
    office = enterprise_scope(park, "office")
    path = write(tmp_path, "steel.csv", HEADER + ok_rows(1, "steel.main"))
    (issue,) = rejected(park, path, scope=office)
    assert "not visible to you" in issue.reason
    own = write(tmp_path, "own.csv", HEADER + ok_rows(2, "office.main"))
    assert ingest_file(park, office, own, park_code="p1").merge.inserted == 2
    enterprise = park.db.fetchone("SELECT enterprise_id FROM ingest_batches ORDER BY id DESC LIMIT 1")[0]
    assert enterprise == office.enterprise_id


def test_read_only_roles_cannot_ingest(park, tmp_path):
    path = write(tmp_path, "m.csv", HEADER + ok_rows(1))
    with pytest.raises(Forbidden):
        ingest_file(park, Scope("v", "verifier", park_id=1), path, park_code="p1")
