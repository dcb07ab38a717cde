"""Shared fixtures: a store on each engine (DuckDB file, real PostgreSQL), a small park, scopes."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from parkzero.registry import io as registry_io
from parkzero.registry.scope import Scope
from parkzero.store import Store, open_store

PG_URL = os.environ.get("PARKZERO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty database URL on each engine: a DuckDB file, or a new PostgreSQL schema."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path / 'park.duckdb'}"
        return
    schema = f"pz_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
    try:
        yield _pg_schema_url(schema)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as con:
            con.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def pg_store() -> Iterator[Store]:
    """A store on a fresh PostgreSQL schema, for what only PostgreSQL does."""
    schema = f"pz_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
    s = open_store(_pg_schema_url(schema))
    try:
        yield s
    finally:
        s.close()
        with psycopg.connect(PG_URL, autocommit=True) as con:
            con.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def store(store_url) -> Iterator[Store]:
    s = open_store(store_url)
    try:
        yield s
    finally:
        s.close()


SMALL_PARK = {
    "format": "parkzero-registry",
    "version": 1,
    "parks": [
        {
            "code": "p1",
            "name": "Test Park",
            "timezone": "Asia/Shanghai",
            "latitude": 31.2,
            "longitude": 121.5,
            "zones": [{"code": "z1", "name": "Zone 1"}],
            "buildings": [
                {
                    "code": "b1",
                    "name": "Plant hall",
                    "zone": "z1",
                    "floor_area_m2": 12000.0,
                    "use": "industrial",
                    "year_built": 2015,
                }
            ],
            "enterprises": [
                {
                    "code": "steel",
                    "name": "Steel Processing",
                    "credit_code": "91310113MA1GKX5N3F",
                    "industry_code": "C3130",
                    "building": "b1",
                },
                {"code": "office", "name": "Office Tenant", "building": "b1"},
            ],
            "assets": [
                {
                    "code": "pv1",
                    "name": "Roof PV",
                    "kind": "pv_array",
                    "building": "b1",
                    "params": {"kwp": 500, "tilt_deg": 25, "azimuth_deg": 180},
                }
            ],
            "meters": [
                {
                    "code": "m-steel",
                    "name": "Steel main",
                    "enterprise": "steel",
                    "building": "b1",
                    "channels": [
                        {
                            "code": "steel.main",
                            "name": "Steel import",
                            "quantity_kind": "active_energy",
                            "purpose": "load",
                        },
                        {
                            "code": "steel.eaf",
                            "name": "EAF",
                            "quantity_kind": "active_energy",
                            "purpose": "load",
                            "parent": "steel.main",
                        },
                        {
                            "code": "steel.gas",
                            "name": "Reheating gas",
                            "quantity_kind": "gas_volume",
                            "purpose": "gas",
                            "behaviour": "counter",
                        },
                    ],
                },
                {
                    "code": "m-office",
                    "name": "Office main",
                    "enterprise": "office",
                    "building": "b1",
                    "channels": [
                        {
                            "code": "office.main",
                            "name": "Office import",
                            "quantity_kind": "active_energy",
                            "purpose": "load",
                        }
                    ],
                },
                {
                    "code": "m-pv",
                    "name": "PV meter",
                    "building": "b1",
                    "channels": [
                        {
                            "code": "pv1.gen",
                            "name": "PV generation",
                            "quantity_kind": "active_energy",
                            "purpose": "pv_generation",
                            "asset": "pv1",
                        }
                    ],
                },
            ],
            "products": [{"code": "coil", "name": "Cold-rolled coil", "enterprise": "steel", "declared_unit": "t"}],
        }
    ],
}


@pytest.fixture
def park(store) -> Store:
    """The store with SMALL_PARK imported."""
    registry_io.import_registry(store, Scope.system(), SMALL_PARK)
    return store


def enterprise_scope(store: Store, code: str) -> Scope:
    row = store.db.fetchone("SELECT id, park_id FROM enterprises WHERE code = ?", (code,))
    assert row is not None
    return Scope(actor=f"user-{code}", role="enterprise", park_id=row[1], enterprise_id=row[0])


def pytest_collection_modifyitems(items):
    """PySpark 4.0 leaves the socket of every collect() to the garbage collector (ResourceWarning, an error
    here): tolerated in tests marked spark only."""
    for item in items:
        if item.get_closest_marker("spark"):
            item.add_marker(pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"))


@pytest.fixture(scope="session")
def spark():
    """One local-mode Spark session for the whole run (it takes ~10 s to start), stopped at the end."""
    from parkzero.store.spark import spark_session

    session = spark_session("parkzero-tests")
    try:
        yield session
    finally:
        session.stop()
