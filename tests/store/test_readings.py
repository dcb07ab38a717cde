"""The readings merge on both engines: idempotence, revisions, rollups, counters, all-or-nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest

from parkzero.errors import ValidationFailed
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store.readings import merge_readings

T0 = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai


def cid(store, code: str) -> int:
    return repo.channel_index(store, Scope.system())[code].id


def batch(rows) -> pa.Table:
    ch, ts, val = zip(*rows, strict=True)
    return pa.table(
        {
            "channel_id": pa.array(ch, pa.int64()),
            "ts_start": pa.array(ts, pa.timestamp("us", "UTC")),
            "value": pa.array(val, pa.float64()),
        }
    )


def merge(store, rows, **kw):
    return merge_readings(store, batch(rows), source="test", actor="tester", **kw)


def count(store, sql, params=()):
    return store.db.fetchone(sql, params)[0]


def test_merge_is_idempotent(park):
    c = cid(park, "steel.main")
    rows = [(c, T0 + timedelta(minutes=15 * i), 10.0 + i) for i in range(8)]
    first = merge(park, rows)
    again = merge(park, rows)
    assert (first.inserted, first.unchanged, first.revised) == (8, 0, 0)
    assert (again.inserted, again.unchanged, again.revised) == (0, 8, 0)
    assert count(park, "SELECT count(*) FROM readings") == 8
    assert park.check() == []


def test_conflicting_value_is_kept_as_revision(park):
    c = cid(park, "steel.main")
    merge(park, [(c, T0, 10.0)])
    res = merge(park, [(c, T0, 12.5)])
    assert res.revised == 1
    assert park.db.fetchone("SELECT value, revision FROM readings WHERE channel_id = ?", (c,)) == (12.5, 2)
    history = park.db.fetchall(
        "SELECT revision, value, superseded_by FROM reading_revisions WHERE channel_id = ?", (c,)
    )
    assert history == [(1, 10.0, res.batch_id)]
    # the rollup follows the current value: 12.5 kWh in the 00:00 UTC hour
    assert count(park, "SELECT value_sum FROM rollup_hourly WHERE channel_id = ?", (c,)) == 12.5


def test_hourly_and_local_daily_rollups(park):
    c = cid(park, "office.main")
    # 2025-03-01 15:00 UTC .. 2025-03-01 17:45 UTC = 23:00 .. 01:45 Shanghai: crosses the local midnight
    start = datetime(2025, 3, 1, 15, 0, tzinfo=UTC)
    merge(park, [(c, start + timedelta(minutes=15 * i), 1.0) for i in range(12)])
    hourly = park.db.fetchall(
        "SELECT hour_start, value_sum, n_readings FROM rollup_hourly WHERE channel_id = ? ORDER BY 1", (c,)
    )
    assert [(h.hour, s, n) for h, s, n in hourly] == [(15, 4.0, 4), (16, 4.0, 4), (17, 4.0, 4)]
    daily = park.db.fetchall("SELECT day, value_sum FROM rollup_daily WHERE channel_id = ? ORDER BY 1", (c,))
    # 4 quarter hours of 1 kWh before local midnight, 8 after
    assert daily == [(date(2025, 3, 1), 4.0), (date(2025, 3, 2), 8.0)]


def test_counter_reset_never_gives_negative_energy(park):
    c = cid(park, "steel.gas")
    registers = [1000.0, 1010.0, 1025.0, 3.0, 10.0]  # the register restarted from 0 before the 4th reading
    merge(park, [(c, T0 + timedelta(minutes=15 * i), r) for i, r in enumerate(registers)])
    deltas = [r[0] for r in park.db.fetchall("SELECT delta FROM readings WHERE channel_id = ? ORDER BY ts_start", (c,))]
    # 1010-1000 = 10; 1025-1010 = 15; reset: 3 since restart; 10-3 = 7; last one unknown until the next reading
    assert deltas == [10.0, 15.0, 3.0, 7.0, None]
    sums = park.db.fetchall("SELECT value_sum FROM rollup_hourly WHERE channel_id = ? ORDER BY hour_start", (c,))
    assert [s for (s,) in sums] == [
        35.0,
        None,
    ]  # 10 + 15 + 3 + 7 in the first hour; the 01:00 delta is unknown


def test_counter_delta_follows_late_readings(park):
    c = cid(park, "steel.gas")
    merge(park, [(c, T0, 100.0)])
    merge(park, [(c, T0 + timedelta(minutes=15), 104.0)])
    assert park.db.fetchone("SELECT delta FROM readings WHERE channel_id = ? AND ts_start = ?", (c, T0))[0] == 4.0


def test_bad_batches_write_nothing(park):
    c = cid(park, "steel.main")
    before = count(park, "SELECT count(*) FROM ingest_batches")
    cases = {
        "unknown channel": [(c, T0, 1.0), (999999, T0, 1.0)],
        "not on the channel's interval grid": [(c, T0 + timedelta(minutes=7), 1.0)],
        "different values for the same channel and time": [(c, T0, 1.0), (c, T0, 2.0)],
        "not a finite number": [(c, T0, float("nan"))],
    }
    for reason, rows in cases.items():
        with pytest.raises(ValidationFailed) as err:
            merge(park, rows)
        assert reason.split()[0] in str(err.value)
    assert count(park, "SELECT count(*) FROM readings") == 0
    assert count(park, "SELECT count(*) FROM rollup_hourly") == 0
    assert count(park, "SELECT count(*) FROM ingest_batches") == before


def test_tenant_cannot_write_other_tenants_channel(park):
    steel, office = cid(park, "steel.main"), cid(park, "office.main")
    with pytest.raises(ValidationFailed, match="outside your scope"):
        merge(park, [(steel, T0, 1.0), (office, T0, 1.0)], allowed_channels={steel})
    assert count(park, "SELECT count(*) FROM readings") == 0


def test_naive_timestamps_are_refused(park):
    c = cid(park, "steel.main")
    table = pa.table(
        {
            "channel_id": pa.array([c], pa.int64()),
            "ts_start": pa.array([datetime(2025, 1, 1)], pa.timestamp("us")),
            "value": [1.0],
        }
    )
    with pytest.raises(ValidationFailed, match="time zone"):
        merge_readings(park, table, source="test", actor="t")


def test_every_merge_is_audited(park):
    c = cid(park, "steel.main")
    res = merge(park, [(c, T0, 1.0)])
    row = park.db.fetchone("SELECT actor, action, entity_id FROM audit_log WHERE action = 'readings.merge'")
    assert row == ("tester", "readings.merge", str(res.batch_id))


def test_schema_upgrade_is_idempotent_and_versioned(store):
    from parkzero.store import schema

    assert schema.upgrade(store.db) == []
    assert schema.current_version(store.db) == len(schema.MIGRATIONS)


@pytest.mark.postgres
def test_audit_log_is_append_only_on_postgres(pg_store):
    store = pg_store
    store.audit("tester", "create", "zones", 1, after={"code": "z"})
    with pytest.raises(Exception, match="append-only"):
        store.db.execute("UPDATE audit_log SET actor = 'mallory'")
    with pytest.raises(Exception, match="append-only"):
        store.db.execute("DELETE FROM audit_log")


def test_identical_repeats_in_one_batch_collapse(park):
    c, o = cid(park, "steel.main"), cid(park, "office.main")
    t1 = T0 + timedelta(minutes=15)
    # time-major and unsorted, with one exact repeat: 3 distinct keys
    res = merge(park, [(c, t1, 1.0), (o, T0, 2.0), (c, T0, 3.0), (c, t1, 1.0)])
    assert (res.received, res.inserted) == (4, 3)
    assert count(park, "SELECT count(*) FROM readings") == 3
