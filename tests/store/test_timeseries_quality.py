"""Series at every resolution, the quality report and explicit gap filling, on both engines."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from parkzero.errors import ValidationFailed
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store.quality import fill_gaps, quality_report
from parkzero.store.readings import merge_readings
from parkzero.store.timeseries import monthly_totals, series
from tests.conftest import enterprise_scope

SH = ZoneInfo("Asia/Shanghai")
SYSTEM = Scope.system("test")
DAY = datetime(2025, 3, 1, tzinfo=SH)


def load(store, code, start, values, quality=None):
    ch = repo.channel_index(store, SYSTEM)[code]
    ts = [start + timedelta(seconds=ch.interval_s * i) for i in range(len(values))]
    table = {
        "channel_id": pa.array([ch.id] * len(values), pa.int64()),
        "ts_start": pa.array(ts, pa.timestamp("us", "UTC")),
        "value": pa.array(values, pa.float64()),
    }
    if quality is not None:
        table["quality"] = pa.array(quality, pa.int16())
    return merge_readings(store, pa.table(table), source="test", actor="test")


def test_series_at_each_resolution(park):
    # two local days of 1.5 kWh every quarter hour on office.main
    load(park, "office.main", DAY, [1.5] * 192)
    (q,) = series(park, SYSTEM, "p1", ["office.main"], DAY, DAY + timedelta(hours=1), "PT15M")
    assert q.unit == "kWh" and q.values == [1.5] * 4
    (h,) = series(park, SYSTEM, "p1", ["office.main"], DAY, DAY + timedelta(days=1), "PT1H")
    assert len(h.values) == 24 and h.values[0] == 6.0  # 4 x 1.5 kWh
    (d,) = series(park, SYSTEM, "p1", ["office.main"], DAY, DAY + timedelta(days=2), "P1D")
    assert d.values == [144.0, 144.0]  # 96 x 1.5 kWh per local day
    assert d.timestamps[0] == DAY  # local midnight, not UTC
    (m,) = series(
        park, SYSTEM, "p1", ["office.main"], datetime(2025, 3, 1, tzinfo=SH), datetime(2025, 4, 1, tzinfo=SH), "P1M"
    )
    assert m.values == [288.0]
    assert monthly_totals(park, SYSTEM, "p1", 2025)["office.main"][2] == 288.0


def test_series_refuses_bad_ranges_and_foreign_channels(park):
    with pytest.raises(ValidationFailed, match="time zone"):
        series(park, SYSTEM, "p1", ["office.main"], datetime(2025, 3, 1), datetime(2025, 3, 2), "PT1H")
    with pytest.raises(ValidationFailed, match="before end"):
        series(park, SYSTEM, "p1", ["office.main"], DAY, DAY, "PT1H")
    with pytest.raises(ValidationFailed, match="resolution"):
        series(park, SYSTEM, "p1", ["office.main"], DAY, DAY + timedelta(days=1), "PT5M")
    with pytest.raises(ValidationFailed, match="steel.main"):
        series(park, enterprise_scope(park, "office"), "p1", ["steel.main"], DAY, DAY + timedelta(days=1), "PT1H")


def test_quality_report_counts_gaps_resets_and_outliers(park):
    values = [2.0] * 96
    values[10] = 500.0  # a spike
    load(park, "office.main", DAY, values[:40])
    load(park, "office.main", DAY + timedelta(minutes=15 * 50), values[50:])  # 10 quarter hours missing
    (r,) = quality_report(park, SYSTEM, "p1", DAY, DAY + timedelta(days=1), ["office.main"])
    assert (r.expected, r.present) == (96, 86)
    assert r.completeness_pct == pytest.approx(100 * 86 / 96, abs=1e-3)  # 89.583% < 90%: fails the rule
    assert r.meets_rule is False
    assert r.gaps == [
        {
            "start": (DAY + timedelta(minutes=600)).isoformat(),
            "end": (DAY + timedelta(minutes=750)).isoformat(),
            "missing_intervals": 10,
        }
    ]
    assert r.outliers == 1 and r.outlier_examples[0]["value"] == 500.0
    load(park, "steel.gas", DAY, [100.0, 110.0, 5.0, 20.0] + [20.0 + i for i in range(1, 20)])
    (g,) = quality_report(park, SYSTEM, "p1", DAY, DAY + timedelta(days=1), ["steel.gas"])
    assert g.counter_resets == 1


def test_gap_filling_is_explicit_and_flagged(park):
    load(park, "office.main", DAY, [2.0, 4.0])
    load(park, "office.main", DAY + timedelta(hours=1), [10.0])
    result = fill_gaps(park, SYSTEM, "p1", "office.main", DAY, DAY + timedelta(hours=1, minutes=15))
    assert result.inserted == 2
    rows = park.db.fetchall("SELECT value, quality FROM readings ORDER BY ts_start")
    # linear between 4.0 at 00:15 and 10.0 at 01:00: 00:30 -> 6.0, 00:45 -> 8.0, flagged filled (2)
    assert rows == [(2.0, 0), (4.0, 0), (6.0, 2), (8.0, 2), (10.0, 0)]
    (r,) = quality_report(park, SYSTEM, "p1", DAY, DAY + timedelta(hours=1, minutes=15), ["office.main"])
    assert r.filled == 2 and r.completeness_pct == 100.0


def test_intermittent_load_is_judged_by_its_running_values():
    import numpy as np

    from parkzero.store.quality import robust_outliers

    # an EV charger: off (0) most of the day, ~7 kWh per quarter hour while charging, one 70 kWh glitch
    values = np.zeros(96)
    values[30:50] = 7.0 + np.linspace(-0.5, 0.5, 20)
    values[40] = 70.0
    mask = robust_outliers(values)
    assert np.flatnonzero(mask).tolist() == [40]
