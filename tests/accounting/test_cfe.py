"""15-minute electricity emissions and the hourly carbon-free-energy score."""

from __future__ import annotations

import pytest

from parkzero.accounting import cfe, instruments
from parkzero.errors import NotFound, ValidationFailed
from tests.accounting.conftest import SYSTEM, local
from tests.conftest import enterprise_scope


def test_steel_series_and_cfe(ledger):
    s = cfe.electricity_series(ledger, SYSTEM, "p1", local(3, 1), local(3, 3), "ghg-protocol", "steel")
    assert len(s.use_kwh) == 2 * 96  # two days of quarter hours
    # use 2 x 24 x 100 = 4,800 kWh; grid 2 x (16 x 100 + 8 x 100 x 0.76) = 4,416 kWh
    assert s.use_kwh.sum() == pytest.approx(4800.0)
    assert s.grid_kwh.sum() == pytest.approx(4416.0)
    # emissions: 4,416 kWh x 0.55 kgCO2/kWh (East China 2023) = 2,428.8 kgCO2, the inventory's figure
    assert s.emissions_kgco2.sum() == pytest.approx(4416.0 * s.factor.value)
    # hourly CFE: on-site 384 kWh + the grid's carbon-free share of 4,416 kWh, over 4,800 kWh
    assert s.cfe_hourly_score == pytest.approx((384.0 + 4416.0 * s.grid_cfe_share) / 4800.0)
    if s.grid_cfe_share:  # 1 - 0.5306 / 0.8273 (national average / fossil-fired, 2023) = 0.35864
        assert s.grid_cfe_share == pytest.approx(1 - 0.5306 / 0.8273)


def test_certificates_count_annually_not_hourly(ledger):
    before = cfe.electricity_series(ledger, SYSTEM, "p1", local(3, 1), local(3, 3), "ghg-protocol", "steel")
    instruments.register(
        ledger,
        SYSTEM,
        "p1",
        {"code": "g", "enterprise": "steel", "kind": "gec", "serial_first": 1, "serial_last": 50, "vintage_year": 2023},
    )
    instruments.retire(ledger, SYSTEM, "p1", "g", year=2023, mwh=50)
    after = cfe.electricity_series(ledger, SYSTEM, "p1", local(3, 1), local(3, 3), "ghg-protocol", "steel")
    assert after.cfe_hourly_score == pytest.approx(before.cfe_hourly_score)
    assert after.cfe_annual_share > before.cfe_annual_share


def test_park_series_and_scope(ledger):
    s = cfe.electricity_series(ledger, SYSTEM, "p1", local(3, 1), local(3, 3))
    # the park's consumers received import + PV = 2 x (24 x 125 - 240 + 240) = 6,000 kWh, of which 5,520 from grid
    assert s.use_kwh.sum() == pytest.approx(6000.0)
    assert s.grid_kwh.sum() == pytest.approx(5520.0)
    office = enterprise_scope(ledger, "office")
    with pytest.raises(NotFound):
        cfe.electricity_series(ledger, office, "p1", local(3, 1), local(3, 3), "ghg-protocol", "steel")
    with pytest.raises(NotFound):
        cfe.electricity_series(ledger, office, "p1", local(3, 1), local(3, 3))
    with pytest.raises(ValidationFailed, match="one local year"):
        cfe.electricity_series(ledger, SYSTEM, "p1", local(12, 31), local(1, 2, year=2024), "ghg-protocol", "steel")
