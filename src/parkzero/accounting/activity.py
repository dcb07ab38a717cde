"""Activity data for an inventory: the relational core that turns readings into amounts per source.

The meter data reach the accounting through two aggregations written once in Ibis
(`parkzero.accounting.engines`): monthly sums per channel and hourly sums per group of channels. This module
holds their result types, the hour grid of a park-local year, the manual entries, and the arithmetic of the
park's on-site supply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from parkzero.store import Store

SUPPLY_PURPOSES = ("grid_import", "grid_export", "pv_generation", "battery_charge", "battery_discharge")


@dataclass(frozen=True)
class ChannelMonth:
    channel_id: int
    month: int  # 1..12, park-local
    amount: float  # canonical unit of the channel
    n_readings: int
    n_estimated: int


@dataclass(frozen=True)
class HourGrid:
    """The UTC hours of one park-local year and the local month of each."""

    start_utc: datetime
    hours: int
    month_of_hour: np.ndarray  # int8, 1..12

    @classmethod
    def for_year(cls, year: int, tz: ZoneInfo) -> HourGrid:
        start = datetime(year, 1, 1, tzinfo=tz)
        end = datetime(year + 1, 1, 1, tzinfo=tz)
        hours = int((end - start).total_seconds() // 3600)
        months = np.array([(start + timedelta(hours=h)).astimezone(tz).month for h in range(hours)], dtype=np.int8)
        return cls(start.astimezone(ZoneInfo("UTC")), hours, months)


def manual_entries(store: Store, source_ids: list[int]) -> list[dict]:
    """Valid (not voided) manual entries of the sources, oldest first."""
    if not source_ids:
        return []
    ids = ", ".join(str(int(i)) for i in sorted(set(source_ids)))
    return store.db.fetchdicts(
        "SELECT a.id, a.source_id, a.period_start, a.period_end, a.amount, a.unit, a.amount_canonical,"
        " a.evidence_id, e.filename AS evidence_file, e.sha256 AS evidence_sha256 FROM activity_entries a"
        f" LEFT JOIN evidence e ON e.id = a.evidence_id WHERE a.source_id IN ({ids}) AND a.voided_at IS NULL"
        " ORDER BY a.id"
    )


# -- on-site supply ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SupplyShares:
    """Hourly share of grid power in the electricity delivered to the park's consumers.

    Power flows (per hour, kWh): grid import G, PV P and battery discharge D in; battery charge C, export X
    and consumers' use E = G + P + D - C - X out (losses included in E). PV serves the battery and export
    first (its surplus); the battery's energy carries the grid share b of what charged it over the year. The
    grid share of what consumers get is g = (G - grid-to-battery + b × D) / E, clipped to [0, 1].
    """

    grid_share: np.ndarray  # per hour, [-]
    battery_grid_share: float  # [-]
    totals_kwh: dict[str, float]


def supply_shares(flows: dict[str, np.ndarray], hours: int) -> SupplyShares:
    zero = np.zeros(hours)
    g, p, d = (flows.get(k, zero) for k in ("grid_import", "pv_generation", "battery_discharge"))
    c, x = (flows.get(k, zero) for k in ("battery_charge", "grid_export"))
    pv_to_charge = np.minimum(p, c)
    grid_to_charge = c - pv_to_charge
    b = float(grid_to_charge.sum() / c.sum()) if c.sum() > 0 else 0.0
    e = g + p + d - c - x
    grid_to_use = g - grid_to_charge + b * d
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(e > 1e-9, grid_to_use / np.where(e > 1e-9, e, 1.0), 1.0)
    share = np.clip(share, 0.0, 1.0)
    if not flows.get("grid_import", zero).any() and not p.any() and not d.any():
        share = np.ones(hours)  # no park metering of supply: every kWh is from the grid
    totals = {k: float(v.sum()) for k, v in flows.items()}
    return SupplyShares(share, b, totals)
