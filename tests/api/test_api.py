"""The REST API end to end on both engines: login, CRUD, problems, series (JSON and CSV), uploads, keys."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from parkzero.api.app import create_app
from parkzero.api.routes import readings as readings_routes
from parkzero.config import Settings
from parkzero.registry import users as users_mod
from tests.api.conftest import PASSWORD, SYSTEM, V, World, assert_problem, channel_id


def _login(world: World, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = world.client.post(f"{V}/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    return {"Authorization": f"Bearer {body['access_token']}"}


def _stored(world: World, code: str) -> list[tuple]:
    return world.store.db.fetchall(
        "SELECT ts_start, value, quality FROM readings WHERE channel_id = ? ORDER BY ts_start",
        (channel_id(world.store, code),),
    )


# -- login and CRUD --------------------------------------------------------------------------------
def test_login_then_crud_round_trip(world: World):
    c = world.client
    auth = _login(world, "op")
    assert c.get(f"{V}/auth/me", headers=auth).json() == {
        "username": "op",
        "role": "operator",
        "park_id": world.store.db.fetchone("SELECT id FROM parks WHERE code = 'p1'")[0],
        "enterprise_id": None,
    }
    created = c.post(f"{V}/parks/p1/buildings", headers=auth, json={"code": "b7", "name": "Hall 7", "zone": "z1"})
    assert created.status_code == 201, created.text
    assert created.json()["zone"] == "z1" and created.json()["floor_area_m2"] is None
    changed = c.patch(f"{V}/parks/p1/buildings/b7", headers=auth, json={"floor_area_m2": 2500, "zone": None})
    assert changed.status_code == 200, changed.text
    assert changed.json()["floor_area_m2"] == 2500.0 and changed.json()["zone"] is None
    assert c.get(f"{V}/parks/p1/buildings/b7", headers=auth).json()["floor_area_m2"] == 2500.0
    listed = c.get(f"{V}/parks/p1/buildings", headers=auth).json()
    assert listed["count"] == len(listed["data"]) == 3  # b1, b2 (fixture) and b7
    assert c.delete(f"{V}/parks/p1/buildings/b7", headers=auth).status_code == 204
    assert_problem(c.get(f"{V}/parks/p1/buildings/b7", headers=auth), 404)
    # each change is in the audit log with who did it
    actions = world.store.db.fetchall(
        "SELECT action FROM audit_log WHERE entity = 'buildings' AND actor = 'op' ORDER BY logged_at"
    )
    assert [a for (a,) in actions] == ["create", "update", "delete"]


def test_tenant_manages_its_own_products_only(world: World):
    c = world.client
    auth = _login(world, "office-user")
    made = c.post(
        f"{V}/parks/p1/products",
        headers=auth,
        json={"code": "meeting", "name": "Meeting room hour", "declared_unit": "h", "enterprise": "office"},
    )
    assert made.status_code == 201, made.text
    listed = c.get(f"{V}/parks/p1/products", headers=auth).json()
    assert [p["code"] for p in listed["data"]] == ["desk-hour", "meeting"] and listed["count"] == 2
    assert_problem(c.patch(f"{V}/parks/p1/products/meeting", headers=auth, json={"enterprise": "steel"}), 403)


def test_park_create_and_registry_export_import(world: World):
    c = world.client
    admin = world.headers["admin"]
    made = c.post(f"{V}/parks", headers=admin, json={"code": "p9", "name": "Park 9", "timezone": "Asia/Shanghai"})
    assert made.status_code == 201 and made.json()["code"] == "p9"
    assert c.patch(f"{V}/parks/p9", headers=admin, json={"latitude": 30.5}).json()["latitude"] == 30.5
    doc = c.get(f"{V}/parks/p1/registry", headers=world.headers["op"]).json()
    assert doc["format"] == "parkzero-registry" and doc["parks"][0]["code"] == "p1"
    # importing the export again changes nothing
    assert c.post(f"{V}/registry/import", headers=world.headers["op"], json=doc).json() == {}
    bad = c.post(f"{V}/registry/import", headers=world.headers["op"], json={"format": "something else"})
    assert_problem(bad, 422)


# -- problem details -------------------------------------------------------------------------------
def test_problems_are_rfc9457(world: World, monkeypatch):
    c = world.client
    unauthenticated = assert_problem(c.get(f"{V}/parks"), 401)
    assert unauthenticated["title"] == "Not authenticated"
    assert (
        assert_problem(c.get(f"{V}/parks", headers={"Authorization": "Bearer forged"}), 401)["detail"]
        == "invalid token"
    )
    assert c.get(f"{V}/parks").headers["www-authenticate"] == "Bearer"
    assert_problem(c.post(f"{V}/auth/token", data={"username": "op", "password": "wrong password"}), 401)

    forbidden = c.post(f"{V}/parks/p1/zones", headers=world.headers["office"], json={"code": "z8", "name": "Z"})
    assert assert_problem(forbidden, 403)["title"] == "Forbidden"

    missing = assert_problem(c.get(f"{V}/parks/nowhere", headers=world.headers["op"]), 404)
    assert missing["instance"] == f"{V}/parks/nowhere" and "nowhere" in missing["detail"]

    # 422 from the request schema (missing name) and from the registry's own checks (credit code)
    schema = assert_problem(c.post(f"{V}/parks/p1/zones", headers=world.headers["op"], json={"code": "z8"}), 422)
    assert any(i["column"] == "body.name" for i in schema["issues"])
    checked = c.post(
        f"{V}/parks/p1/enterprises",
        headers=world.headers["op"],
        json={"code": "e8", "name": "E", "credit_code": "91310113MA1GKX5N3X"},
    )
    assert any(i["column"] == "credit_code" for i in assert_problem(checked, 422)["issues"])

    # 413: more readings than a batch may hold
    monkeypatch.setattr(readings_routes, "MAX_BATCH_READINGS", 2)
    rows = [{"channel": "pv1.gen", "ts": f"2025-03-01T0{h}:00:00+08:00", "value": 1} for h in range(3)]
    too_many = c.post(f"{V}/parks/p1/readings", headers=world.headers["op"], json={"readings": rows})
    assert "at most 2" in assert_problem(too_many, 413)["detail"]
    assert _stored(world, "pv1.gen") == []


def test_oversized_bodies_are_refused_before_they_are_read(world: World):
    small = Settings(
        database_url="unused",
        data_dir=world.settings.data_dir,
        secret_key=world.settings.secret_key,
        max_upload_bytes=1000,
    )
    with TestClient(create_app(small, world.store)) as c:
        op = world.headers["op"]
        rows = [{"channel": "pv1.gen", "ts": "2025-03-01T00:00:00+08:00", "value": 1}] * 20  # ~1,300 bytes
        assert_problem(c.post(f"{V}/parks/p1/readings", headers=op, json={"readings": rows}), 413)
        big_file = b"timestamp,channel,value\n" + b"2025-03-01T00:00:00+08:00,pv1.gen,1\n" * 80  # 2,904 bytes
        upload = c.post(f"{V}/parks/p1/uploads", headers=op, files={"file": ("big.csv", big_file, "text/csv")})
        assert "limit" in assert_problem(upload, 413)["detail"]

        # without a Content-Length the body is counted as it streams in
        def chunks():
            yield b'{"readings": ['
            for _ in range(30):
                yield b'{"channel": "pv1.gen", "ts": "2025-03-01T00:00:00+08:00", "value": 1},'
            yield b"]}"

        streamed = c.post(
            f"{V}/parks/p1/readings", headers={**op, "Content-Type": "application/json"}, content=chunks()
        )
        assert_problem(streamed, 413)
    assert _stored(world, "pv1.gen") == []


# -- series ----------------------------------------------------------------------------------------
SERIES = {"start": "2025-03-01T00:00:00+08:00", "end": "2025-03-01T02:00:00+08:00"}


def _second_hour_in_wh(world: World) -> None:
    """office.main has 1, 2, 3, 4 kWh in the first hour (fixture); add 5, 6, 7, 8 kWh, sent in Wh."""
    rows = [
        {"channel": "office.main", "ts": f"2025-03-01T01:{m:02d}:00+08:00", "value": v, "unit": "Wh"}
        for m, v in zip((0, 15, 30, 45), (5000, 6000, 7000, 8000), strict=True)
    ]
    response = world.client.post(f"{V}/parks/p1/readings", headers=world.headers["office"], json={"readings": rows})
    assert response.status_code == 200, response.text
    assert response.json()["inserted"] == 4


def test_series_json_has_units_and_known_sums(world: World):
    _second_hour_in_wh(world)
    office = world.headers["office"]
    hourly = world.client.get(
        f"{V}/parks/p1/series", headers=office, params={"channel": "office.main", "resolution": "PT1H", **SERIES}
    )
    assert hourly.status_code == 200, hourly.text
    body = hourly.json()
    assert body["count"] == 1 and body["resolution"] == "PT1H"
    (series,) = body["data"]
    assert series["unit"] == "kWh" and series["aggregate"] == "sum"
    # hour 1: 1 + 2 + 3 + 4 = 10 kWh; hour 2: 5,000 + 6,000 + 7,000 + 8,000 Wh = 26 kWh; total 36 kWh
    assert [(p["ts"], p["value"]) for p in series["points"]] == [
        ("2025-03-01T00:00:00+08:00", 10.0),
        ("2025-03-01T01:00:00+08:00", 26.0),
    ]
    quarter = world.client.get(
        f"{V}/parks/p1/series", headers=office, params={"channel": "office.main", "resolution": "PT15M", **SERIES}
    ).json()
    assert [p["value"] for p in quarter["data"][0]["points"]] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    daily = world.client.get(
        f"{V}/parks/p1/series",
        headers=office,
        params={
            "channel": "office.main",
            "resolution": "P1D",
            "start": "2025-03-01T00:00:00+08:00",
            "end": "2025-03-02T00:00:00+08:00",
        },
    ).json()
    assert daily["data"][0]["points"] == [
        {"ts": "2025-03-01T00:00:00+08:00", "value": 36.0, "readings": 8, "quality": "measured"}
    ]
    # the same instants written in UTC give the same half-open range
    utc = world.client.get(
        f"{V}/parks/p1/series",
        headers=office,
        params={"channel": "office.main", "start": "2025-02-28T16:00:00Z", "end": "2025-02-28T17:00:00Z"},
    ).json()
    assert [p["value"] for p in utc["data"][0]["points"]] == [10.0]


def test_series_csv_download(world: World):
    _second_hour_in_wh(world)
    params = {"channel": ["office.main"], "resolution": "PT15M", **SERIES}
    for extra, headers in (({"format": "csv"}, {}), ({}, {"Accept": "text/csv"})):
        response = world.client.get(
            f"{V}/parks/p1/series", params={**params, **extra}, headers={**world.headers["office"], **headers}
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        assert re.match(
            r'attachment; filename="p1_series_PT15M_20250301T0000\.csv"', response.headers["content-disposition"]
        )
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert list(rows[0]) == ["channel", "ts", "value", "unit", "quality"]
        assert rows[0] == {
            "channel": "office.main",
            "ts": "2025-03-01T00:00:00+08:00",
            "value": "1.0",
            "unit": "kWh",
            "quality": "measured",
        }
        # 1 + 2 + ... + 8 = 36 kWh over the eight quarter hours
        assert len(rows) == 8 and sum(float(r["value"]) for r in rows) == 36.0


def test_series_refuses_bad_ranges(world: World):
    op = world.headers["op"]
    naive = world.client.get(
        f"{V}/parks/p1/series",
        headers=op,
        params={"channel": "office.main", "start": "2025-03-01T00:00:00", "end": "2025-03-01T01:00:00"},
    )
    assert "time zone" in assert_problem(naive, 422)["detail"]
    backwards = world.client.get(
        f"{V}/parks/p1/series",
        headers=op,
        params={"channel": "office.main", "start": SERIES["end"], "end": SERIES["start"]},
    )
    assert_problem(backwards, 422)
    resolution = world.client.get(
        f"{V}/parks/p1/series", headers=op, params={"channel": "office.main", "resolution": "PT5M", **SERIES}
    )
    assert_problem(resolution, 422)


# -- uploads, keys, quality ------------------------------------------------------------------------
def test_batch_upload_with_api_key_then_revoked(world: World):
    c = world.client
    made = c.post(f"{V}/api-keys", headers=world.headers["op"], json={"name": "roof gateway", "park": "p1"})
    assert made.status_code == 201, made.text
    key, prefix = made.json()["key"], made.json()["prefix"]
    assert key.startswith(f"pzk_{prefix}_")
    gateway = {"X-API-Key": key}
    reading = {"channel": "pv1.gen", "ts": "2025-03-01T12:00:00+08:00", "value": 0.25, "unit": "MWh"}
    first = c.post(f"{V}/parks/p1/readings", headers=gateway, json={"readings": [reading]})
    assert first.status_code == 200, first.text
    assert {k: first.json()[k] for k in ("received", "inserted", "unchanged", "revised")} == {
        "received": 1,
        "inserted": 1,
        "unchanged": 0,
        "revised": 0,
    }
    # 0.25 MWh x 1,000 kWh/MWh = 250 kWh
    assert [v for _, v, _ in _stored(world, "pv1.gen")] == [250.0]
    again = c.post(f"{V}/parks/p1/readings", headers=gateway, json={"readings": [reading]}).json()
    assert again["unchanged"] == 1 and again["inserted"] == 0
    revised = c.post(
        f"{V}/parks/p1/readings", headers=gateway, json={"readings": [{**reading, "value": 300, "unit": "kWh"}]}
    ).json()
    assert revised["revised"] == 1
    batches = c.get(f"{V}/parks/p1/batches", headers=world.headers["op"]).json()
    assert batches["data"][0]["actor"] == "gateway:roof gateway" and batches["data"][0]["source"] == "api"

    assert c.delete(f"{V}/api-keys/{prefix}", headers=world.headers["op"]).status_code == 204
    refused = c.post(f"{V}/parks/p1/readings", headers=gateway, json={"readings": [{**reading, "value": 1}]})
    assert "revoked" in assert_problem(refused, 401)["detail"]
    assert [v for _, v, _ in _stored(world, "pv1.gen")] == [300.0]
    assert_problem(c.delete(f"{V}/api-keys/{prefix}", headers=world.headers["op"]), 404)


def test_batch_upload_is_all_or_nothing(world: World):
    c, op = world.client, world.headers["op"]
    good = {"channel": "pv1.gen", "ts": "2025-03-01T12:00:00+08:00", "value": 1}
    cases = [
        ({"channel": "nope", "ts": "2025-03-01T12:15:00+08:00", "value": 1}, "channel"),
        ({"channel": "pv1.gen", "ts": "2025-03-01T12:15:00+08:00", "value": 1, "unit": "Nm3"}, "unit"),
        ({"channel": "pv1.gen", "ts": "2025-03-01T12:15:00", "value": 1}, "body.readings.1.ts"),  # naive
        ({"channel": "pv1.gen", "ts": "2025-03-01T12:07:00+08:00", "value": 1}, None),  # off the 15-min grid
    ]
    for bad, column in cases:
        response = c.post(f"{V}/parks/p1/readings", headers=op, json={"readings": [good, bad]})
        problem = assert_problem(response, 422)
        if column:
            assert column in {i.get("column") for i in problem["issues"]}, problem
    assert _stored(world, "pv1.gen") == []


def test_a_user_without_write_rights_cannot_upload(world: World):
    reading = {"channel": "office.main", "ts": "2025-03-01T12:00:00+08:00", "value": 1}
    for actor in ("regulator",):
        response = world.client.post(
            f"{V}/parks/p1/readings", headers=world.headers[actor], json={"readings": [reading]}
        )
        assert_problem(response, 403)
    assert_problem(world.client.post(f"{V}/parks/p1/readings", json={"readings": [reading]}), 401)


def test_file_upload_is_ingested_from_a_temporary_file(world: World):
    before = set(Path(tempfile.gettempdir()).glob("parkzero-upload-*"))
    text = "时间,表计,电量(万kWh)\n2025-03-01 02:00,office.main,0.0005\n2025-03-01 02:15,office.main,0.0006\n"
    upload = world.client.post(
        f"{V}/parks/p1/uploads",
        headers=world.headers["office"],
        files={"file": ("电表导出.csv", text.encode("utf-8"), "text/csv")},
        data={"timezone": "Asia/Shanghai"},
    )
    assert upload.status_code == 200, upload.text
    report = upload.json()
    assert report["file"] == "电表导出.csv" and report["inserted"] == 2 and report["layout"] == "long"
    # 0.0005 万kWh x 10,000 kWh/万kWh = 5 kWh; 0.0006 万kWh = 6 kWh
    assert [v for _, v, _ in _stored(world, "office.main")][-2:] == pytest.approx([5.0, 6.0])
    assert set(Path(tempfile.gettempdir()).glob("parkzero-upload-*")) == before
    # without a time zone the naive timestamps are refused, and nothing is written
    again = world.client.post(
        f"{V}/parks/p1/uploads",
        headers=world.headers["office"],
        files={"file": ("again.csv", text.replace("02:", "03:").encode(), "text/csv")},
    )
    assert_problem(again, 422)
    assert len(_stored(world, "office.main")) == 6


def test_quality_report_and_gap_filling(world: World):
    c, steel = world.client, world.headers["steel"]
    window = {"start": "2025-03-01T00:00:00+08:00", "end": "2025-03-01T01:00:00+08:00"}
    report = c.get(f"{V}/parks/p1/quality", headers=steel, params={"channel": "steel.main", **window}).json()
    (q,) = report["data"]
    assert (q["expected"], q["present"], q["completeness_pct"], q["meets_rule"]) == (4, 3, 75.0, False)
    assert q["gaps"] == [
        {"start": "2025-03-01T00:30:00+08:00", "end": "2025-03-01T00:45:00+08:00", "missing_intervals": 1}
    ]
    filled = c.post(f"{V}/parks/p1/channels/steel.main/fill", headers=steel, json=window)
    assert filled.status_code == 200, filled.text
    assert filled.json()["inserted"] == 1
    # linear between 20 kWh (00:15) and 40 kWh (00:45): 30 kWh at 00:30
    assert [v for _, v, _ in _stored(world, "steel.main")] == [10.0, 20.0, 30.0, 40.0]
    q = c.get(f"{V}/parks/p1/quality", headers=steel, params={"channel": "steel.main", **window}).json()["data"][0]
    assert (q["present"], q["filled"], q["meets_rule"]) == (4, 1, True)
    bad = c.post(f"{V}/parks/p1/channels/steel.main/fill", headers=steel, json={**window, "method": "spline"})
    assert_problem(bad, 422)


# -- users -----------------------------------------------------------------------------------------
def test_operator_manages_users_and_passwords(world: World):
    c, op = world.client, world.headers["op"]
    listed = c.get(f"{V}/users", headers=op).json()
    # park p1's users: op, office, partner, regulator, steel (the installation-wide admin is not in the park)
    assert [u["username"] for u in listed["data"]] == [
        "office-user",
        "op",
        "partner-user",
        "regulator-user",
        "steel-user",
    ]
    made = c.post(f"{V}/users", headers=op, json={"username": "verifier", "password": PASSWORD, "role": "verifier"})
    assert made.status_code == 201 and made.json()["role"] == "verifier"
    assert_problem(
        c.post(f"{V}/users", headers=op, json={"username": "x", "password": "short", "role": "verifier"}), 422
    )
    assert c.post(f"{V}/users/verifier/password", headers=op, json={"password": "a brand new one"}).status_code == 204
    _login(world, "verifier", "a brand new one")
    # anyone may change their own password, nobody else's
    own = c.post(
        f"{V}/users/office-user/password", headers=world.headers["office"], json={"password": "mine mine mine"}
    )
    assert own.status_code == 204
    _login(world, "office-user", "mine mine mine")
    # an operator of p1 cannot reach a user of another park
    users_mod.create_user(world.store, SYSTEM, "far-op", PASSWORD, "operator", park_code="farpark")
    assert_problem(c.post(f"{V}/users/far-op/password", headers=op, json={"password": "hijacked!!"}), 404)
    _login(world, "far-op")


# -- OpenAPI ---------------------------------------------------------------------------------------
def test_openapi_operation_ids_are_explicit_and_unique(world: World):
    spec = world.client.get(f"{V}/openapi.json").json()
    ops = [(path, method, op.get("operationId")) for path, item in spec["paths"].items() for method, op in item.items()]
    ids = [o for _, _, o in ops]
    assert all(ids) and len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", o) for o in ids), ids
    assert {"list_parks", "create_channel", "get_series", "upload_readings", "upload_file", "create_api_key"} <= set(
        ids
    )
    schemas = spec["components"]["schemas"]
    assert {"ParkCreate", "ParkUpdate", "ParkPublic", "ChannelCreate", "ChannelPublic", "MeterList"} <= set(schemas)
    assert set(schemas["MeterList"]["properties"]) == {"data", "count"}
    assert "credit_code" in schemas["EnterpriseCreate"]["properties"]
