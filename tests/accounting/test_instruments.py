"""The instrument ledger: registered once, retired once, by its owner, in the Scope 2 hierarchy."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parkzero.accounting import instruments
from parkzero.accounting.instruments import Claim, market_allocation
from parkzero.errors import Conflict, NotFound, ValidationFailed
from tests.accounting.conftest import SYSTEM
from tests.conftest import enterprise_scope

GEC = {
    "code": "gec-1",
    "enterprise": "steel",
    "kind": "gec",
    "serial_prefix": "GEC23-",
    "serial_first": 1001,
    "serial_last": 1100,
    "vintage_year": 2023,
}


def test_register_and_retire_once(park):
    inst = instruments.register(park, SYSTEM, "p1", GEC)
    assert inst["mwh"] == 100.0  # 1,001..1,100 = 100 certificates = 100 MWh
    r = instruments.retire(park, SYSTEM, "p1", "gec-1", year=2023, mwh=40)
    assert (r["serial_first"], r["serial_last"]) == (1001, 1040)
    with pytest.raises(Conflict, match="retired already"):
        instruments.retire(park, SYSTEM, "p1", "gec-1", year=2023, serial_first=1030, serial_last=1050)
    r2 = instruments.retire(park, SYSTEM, "p1", "gec-1", year=2024, mwh=60)
    assert (r2["serial_first"], r2["serial_last"]) == (1041, 1100)
    with pytest.raises(Conflict, match="only 0 of 100 MWh are left"):
        instruments.retire(park, SYSTEM, "p1", "gec-1", year=2024, mwh=1)
    assert instruments.get(park, SYSTEM, "p1", "gec-1")["available_mwh"] == 0


def test_a_certificate_is_registered_once(park):
    instruments.register(park, SYSTEM, "p1", GEC)
    with pytest.raises(Conflict, match="overlap instrument gec-1"):
        instruments.register(
            park,
            SYSTEM,
            "p1",
            {**GEC, "code": "gec-2", "enterprise": "office", "serial_first": 1100, "serial_last": 1200},
        )


def test_vintage_and_owner_rules(park):
    instruments.register(park, SYSTEM, "p1", GEC)
    with pytest.raises(ValidationFailed, match="vintage 2023 cannot be claimed for 2025"):
        instruments.retire(park, SYSTEM, "p1", "gec-1", year=2025, mwh=1)
    office = enterprise_scope(park, "office")
    with pytest.raises(NotFound):  # another tenant's certificates do not exist for the office
        instruments.retire(park, office, "p1", "gec-1", year=2023, mwh=1)
    with pytest.raises(NotFound):
        instruments.register(park, office, "p1", {**GEC, "code": "gec-9", "serial_first": 5000, "serial_last": 5001})
    steel = enterprise_scope(park, "steel")
    assert instruments.retire(park, steel, "p1", "gec-1", year=2024, mwh=1)["year"] == 2024
    assert [i["code"] for i in instruments.list_instruments(park, office, "p1")] == []


def test_hierarchy():
    held = [
        Claim("g", "gec", 3.0, 0.0, 2023, None),
        Claim("p", "green_power", 4.0, 0.0, 2023, None),
        Claim("s", "supplier_rate", 2.0, 0.4, 2023, None),
    ]
    a = market_allocation(10.0, held, ("gec", "green_power"))
    # 10 MWh: 3 certificates, 4 green power, 2 at the supplier's 0.4, 1 residual
    assert [(x.basis, x.mwh) for x in a] == [
        ("gec", 3.0),
        ("green_power", 4.0),
        ("supplier_rate", 2.0),
        ("residual", 1.0),
    ]
    a = market_allocation(5.0, held, ("gec",))  # a regime that only recognises certificates
    assert [(x.basis, x.mwh) for x in a] == [("gec", 3.0), ("supplier_rate", 2.0), ("residual", 0.0)]
    a = market_allocation(2.0, held[:1], ("gec",))
    assert [(x.basis, x.mwh) for x in a] == [("gec", 2.0), ("unclaimed", 1.0), ("residual", 0.0)]


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    consumption=st.floats(0, 1e5, allow_nan=False),
    claims=st.lists(
        st.tuples(st.sampled_from(["gec", "green_power", "supplier_rate"]), st.floats(0, 1e5), st.floats(0, 1.2)),
        max_size=6,
    ),
)
def test_allocation_properties(consumption, claims):
    held = [
        Claim(f"i{n}", k, mwh, f if k == "supplier_rate" else 0.0, 2023, None) for n, (k, mwh, f) in enumerate(claims)
    ]
    a = market_allocation(consumption, held, ("gec", "green_power"))
    used = [x for x in a if x.basis != "unclaimed"]
    # every MWh consumed is allocated exactly once, never more than consumed
    assert sum(x.mwh for x in used) == pytest.approx(consumption, rel=1e-9, abs=1e-6)
    # no kind of instrument gives more than is held of it
    for kind in ("gec", "green_power", "supplier_rate"):
        held_mwh = sum(c.mwh for c in held if c.kind == kind)
        assert sum(x.mwh for x in used if x.basis == kind) <= held_mwh + 1e-6
    # market-based below the residual only when instruments justify it
    residual_factor = 0.6096
    market_t = sum(x.mwh * (residual_factor if x.factor_tco2_per_mwh is None else x.factor_tco2_per_mwh) for x in used)
    if market_t < consumption * residual_factor - 1e-6:
        assert any(x.basis in ("gec", "green_power", "supplier_rate") and x.mwh > 0 for x in used)


_counter = iter(range(10**6))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(asks=st.lists(st.tuples(st.integers(1, 60), st.booleans(), st.integers(1, 120)), min_size=1, max_size=8))
def test_no_certificate_is_retired_twice(park, asks):
    n = next(_counter)
    first = 10_000 * (n + 1)
    code = f"gec-p{n}"
    instruments.register(park, SYSTEM, "p1", {**GEC, "code": code, "serial_first": first, "serial_last": first + 99})
    for size, by_range, offset in asks:
        try:
            if by_range:
                instruments.retire(
                    park,
                    SYSTEM,
                    "p1",
                    code,
                    year=2023,
                    serial_first=first + offset - 1,
                    serial_last=first + offset - 1 + size - 1,
                )
            else:
                instruments.retire(park, SYSTEM, "p1", code, year=2023, mwh=size)
        except (Conflict, ValidationFailed):
            pass
    rows = park.db.fetchall(
        "SELECT r.serial_first, r.serial_last, r.mwh FROM retirements r JOIN instruments i ON i.id ="
        " r.instrument_id WHERE i.code = ? ORDER BY 1",
        (code,),
    )
    serials = [s for a, b, _ in rows for s in range(a, b + 1)]
    assert len(serials) == len(set(serials))  # no certificate twice
    assert all(first <= s < first + 100 for s in serials)
    assert sum(m for *_, m in rows) == len(serials) <= 100
