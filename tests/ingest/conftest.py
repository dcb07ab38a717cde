"""Helpers for the ingestion tests: channel dicts without a store, file writers, reading counts."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest

from parkzero.registry.repo import ChannelInfo

DATA = Path(__file__).parent.parent / "data"


def info(
    code: str,
    id_: int,
    *,
    kind: str = "active_energy",
    unit: str = "kWh",
    interval_s: int = 900,
    behaviour: str = "interval",
) -> ChannelInfo:
    return ChannelInfo(id_, code, 1, kind, unit, interval_s, behaviour, None, "load")


@pytest.fixture
def channels() -> dict[str, ChannelInfo]:
    """Channels like the test park's, for parse tests that need no store."""
    return {
        c.code: c
        for c in (
            info("steel.main", 11),
            info("steel.eaf", 12),
            info("steel.gas", 13, kind="gas_volume", unit="Nm3", behaviour="counter"),
            info("office.main", 14),
            info("pv1.gen", 15),
            info("grid.hourly", 16, interval_s=3600),
        )
    }


def write(tmp_path: Path, name: str, text: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return path


def n_readings(store) -> int:
    return store.db.fetchone("SELECT count(*) FROM readings")[0]


def stored(store, code: str) -> list[tuple]:
    """(ts_start UTC iso, value, quality) of one channel, in time order."""
    rows = store.db.fetchall(
        "SELECT r.ts_start, r.value, r.quality FROM readings r JOIN channels c ON c.id = r.channel_id"
        " WHERE c.code = ? ORDER BY r.ts_start",
        (code,),
    )
    return [(ts.astimezone(UTC).isoformat(), v, q) for ts, v, q in rows]
