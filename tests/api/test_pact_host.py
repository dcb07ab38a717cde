"""The PACT host against a running `parkzero serve --tls-self-signed` (HTTPS on loopback), case by case from the
conformance test list of the PACT conformance service (v2 test cases 1-12, 14.A, 15-17, 20, 21; v3 test cases
1-12, 15-17, 20-39). Test cases 13 and 14.B need the host to call back a public webhook, and 18/19 an OpenID
provider apart from the host: they are not here.

The world: park p1 with the tenants "steel" and "office". Steel has three published footprints shared with the
partner "buyer", one published but not shared, and one draft shared; office has one published footprint shared
with "buyer". A second partner "stranger" has nothing shared. Both see only what is shared and published.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from parkzero.footprint import pact, partners, records
from parkzero.registry import io as registry_io
from parkzero.registry import users
from parkzero.registry.scope import Scope
from parkzero.store import open_store
from tests.conftest import SMALL_PARK

SYSTEM = Scope.system("test")
SECRET = "test-secret-for-hs256-at-least-32-bytes"
PASSWORD = "correct horse battery"
V2_CREATED = "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1"
V2_PUBLISHED = "org.wbcsd.pathfinder.ProductFootprint.Published.v1"
V3_CREATED = "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3"
V3_PUBLISHED = "org.wbcsd.pact.ProductFootprint.PublishedEvent.3"
EVENT_HEADERS = {"Content-Type": "application/cloudevents+json; charset=UTF-8"}


def footprint(product: str, company: str, value: float, *, start_year: int = 2025, country: str = "CN") -> dict:
    """A v2.3 footprint of 1 kg of `product` [kgCO2e/kg], reference period one calendar year."""
    return pact.footprint_from_result(
        version="2",
        product_ids=[f"urn:pact:p1.parkzero:product-id:{product}"],
        product_name=product,
        product_description=f"{product}, cradle to gate",
        company_name=company,
        company_ids=[f"urn:pact:company:customcode:vendor-assigned:{company}"],
        declared_unit="kg",
        pcf_excluding_biogenic=value,
        fossil_ghg_emissions=value,
        reference_period_start=datetime(start_year, 1, 1, tzinfo=UTC),
        reference_period_end=datetime(start_year + 1, 1, 1, tzinfo=UTC),
        primary_data_share=60.0,
        product_category_cpc="41231",
        product_classifications=["urn:pact:productclassification:un-cpc:41231"],
        geography_country=country,
        dqi={
            "coveragePercent": 90,
            "technologicalDQR": 1.5,
            "temporalDQR": 1,
            "geographicalDQR": 1,
            "completenessDQR": 1.2,
            "reliabilityDQR": 1.4,
        },
    ).to_json()


def _publish(store, doc: dict, enterprise: str, share_with: list[int], *, publish: bool = True) -> str:
    rec = records.create(store, SYSTEM, "p1", doc, enterprise_code=enterprise)
    if publish:
        for action in ("submit", "verify", "publish"):
            records.transition(store, SYSTEM, "p1", rec["id"], action)
    for partner_row in share_with:
        records.share(store, SYSTEM, "p1", rec["id"], partner_row)
    return rec["pf_id"]


@dataclass
class Host:
    url: str  # https://127.0.0.1:PORT
    cert: Path
    buyer: tuple[str, str]  # client id, secret
    stranger: tuple[str, str]
    ids: dict[str, str]  # name -> footprint id
    process: subprocess.Popen
    database_url: str

    def tls(self) -> ssl.SSLContext:
        """Trust exactly the host's self-signed certificate."""
        return ssl.create_default_context(cafile=str(self.cert))

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, verify=self.tls(), timeout=30)

    def token(self, who: tuple[str, str] | None = None) -> str:
        client_id, secret = who or self.buyer
        with self.client() as c:
            r = c.post("/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def stop(self) -> None:
        stop_host(self.process)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_host(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=30)
    if process.stderr is not None:
        process.stderr.close()


def start_host(data: Path, database_url: str) -> tuple[subprocess.Popen, str]:
    """`parkzero serve --tls-self-signed` on a free loopback port over `database_url`, its certificate in
    `data`/tls; returns once it answers over HTTPS: (the process, its base URL)."""
    port = _free_port()
    env = {**os.environ, "PARKZERO_DATA_DIR": str(data), "PARKZERO_DATABASE_URL": database_url,
           "PARKZERO_SECRET_KEY": SECRET}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "parkzero", "serve", "--port", str(port), "--tls-self-signed"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base_url = f"https://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            context = ssl.create_default_context(cafile=str(data / "tls" / "cert.pem"))
            httpx.get(f"{base_url}/api/v1/openapi.json", verify=context, timeout=10)
            return process, base_url
        except (httpx.TransportError, OSError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(
                    f"parkzero serve did not start: {process.stderr.read().decode()[-2000:]}"
                ) from None
            time.sleep(0.3)


@pytest.fixture(scope="module")
def host(tmp_path_factory) -> Iterator[Host]:
    data = tmp_path_factory.mktemp("pact-host")
    url = f"duckdb:///{data / 'park.duckdb'}"
    with open_store(url) as store:
        registry_io.import_registry(store, SYSTEM, SMALL_PARK)
        users.create_user(store, SYSTEM, "op", PASSWORD, "operator", park_code="p1")
        buyer_secret, buyer = partners.create(store, SYSTEM, "p1", "Buyer Co. procurement")
        stranger_secret, stranger = partners.create(store, SYSTEM, "p1", "Stranger Ltd.")
        b = partners.partner_id(store, SYSTEM, "p1", buyer["client_id"])
        ids = {
            "coil": _publish(store, footprint("coil", "steel", 1.85), "steel", [b]),
            "rebar": _publish(store, footprint("rebar", "steel", 1.62, start_year=2024), "steel", [b]),
            "wire": _publish(store, footprint("wire", "steel", 2.1, country="DE"), "steel", [b]),
            "secret-alloy": _publish(store, footprint("secret-alloy", "steel", 9.9), "steel", []),
            "draft-plate": _publish(store, footprint("draft-plate", "steel", 3.3), "steel", [b], publish=False),
            "desk": _publish(store, footprint("desk", "office", 12.0), "office", [b]),
        }
    process, base_url = start_host(data, url)
    h = Host(
        base_url,
        data / "tls" / "cert.pem",
        (buyer["client_id"], buyer_secret),
        (stranger["client_id"], stranger_secret),
        ids,
        process,
        url,
    )
    yield h
    h.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


SHARED = ("coil", "rebar", "wire", "desk")  # published and shared with the buyer
# each PACT route and the tests here that prove who sees what through it (tests/api/test_tenancy.py checks that
# every route of the app is covered there or here)
_SCOPING = ("test_a_stranger_sees_nothing", "test_user_and_partner_tokens_do_not_cross")
PACT_ROUTES = {
    ("POST", "/auth/token"): ("test_02_token_with_invalid_credentials", "test_user_and_partner_tokens_do_not_cross"),
    ("GET", "/2/footprints"): ("test_04_list_footprints_shows_what_is_shared_and_published", *_SCOPING),
    ("GET", "/3/footprints"): ("test_04_list_footprints_shows_what_is_shared_and_published", *_SCOPING),
    ("GET", "/2/footprints/{footprint_id}"): ("test_08_unknown_unshared_or_draft_footprint", *_SCOPING),
    ("GET", "/3/footprints/{footprint_id}"): ("test_08_unknown_unshared_or_draft_footprint", *_SCOPING),
    ("POST", "/2/events"): ("test_16_events_with_invalid_token", "test_z_events_are_kept_and_routed"),
    ("POST", "/3/events"): ("test_16_events_with_invalid_token", "test_z_events_are_kept_and_routed"),
}


# -- test cases 1, 2: authentication -------------------------------------------------------------------
@pytest.mark.parametrize("version", ["2", "3"])
def test_01_token_with_valid_credentials(host, version):
    with host.client() as c:
        r = c.post("/auth/token", data={"grant_type": "client_credentials"}, auth=host.buyer)
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"].lower() == "bearer" and body["access_token"] and body["expires_in"] > 0


@pytest.mark.parametrize(
    "auth",
    [
        ("pact-unknown", "whatever"),
        "wrong-secret",
        None,
    ],
)
def test_02_token_with_invalid_credentials(host, auth):
    if auth == "wrong-secret":
        auth = (host.buyer[0], "not the secret")
    with host.client() as c:
        r = c.post("/auth/token", data={"grant_type": "client_credentials"}, auth=auth)
    assert r.status_code in (400, 401)
    assert r.json()["error"] == "invalid_client" and "access_token" not in r.json()


def test_02_token_needs_the_client_credentials_grant(host):
    with host.client() as c:
        r = c.post("/auth/token", data={"grant_type": "password"}, auth=host.buyer)
        assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
        r = c.post("/auth/token", auth=host.buyer)
        assert r.status_code == 400 and r.json()["error"] == "invalid_request"


# -- test cases 3, 4, 5: get, list, paginate -----------------------------------------------------------
@pytest.mark.parametrize("version", ["2", "3"])
def test_03_get_footprint(host, version):
    token = host.token()
    with host.client() as c:
        r = c.get(f"/{version}/footprints/{host.ids['coil']}", headers=bearer(token))
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["id"] == host.ids["coil"]
    assert data["specVersion"].startswith(version + ".")
    # 1.85 kgCO2e per kg, as recorded, in each version's property
    pcf = data["pcf"]
    value = pcf["pCfExcludingBiogenic"] if version == "2" else pcf["pcfExcludingBiogenicUptake"]
    assert float(value) == pytest.approx(1.85)
    pact.parse_footprint(data, version)  # spec-valid as served


@pytest.mark.parametrize("version", ["2", "3"])
def test_04_list_footprints_shows_what_is_shared_and_published(host, version):
    with host.client() as c:
        r = c.get(f"/{version}/footprints", headers=bearer(host.token()))
    assert r.status_code in (200, 202)
    got = {d["id"] for d in r.json()["data"]}
    assert got == {host.ids[n] for n in SHARED}  # not the unshared one, not the draft
    for d in r.json()["data"]:
        pact.parse_footprint(d, version)


@pytest.mark.parametrize("version", ["2", "3"])
def test_05_pagination_by_absolute_link_headers(host, version):
    token = host.token()
    seen: list[str] = []
    with host.client() as c:
        r = c.get(f"/{version}/footprints", params={"limit": 1}, headers=bearer(token))
        pages = 0
        while True:
            assert r.status_code == 200, r.text
            assert len(r.json()["data"]) == 1
            seen += [d["id"] for d in r.json()["data"]]
            pages += 1
            link = r.headers.get("link")
            if link is None:
                break
            target = link.split(";")[0].strip().strip("<>")
            assert target.startswith(f"{host.url}/{version}/footprints?")  # absolute, same host, HTTPS
            assert 'rel="next"' in link
            r = httpx.get(target, headers=bearer(token), verify=host.tls())
    assert pages == 4 and sorted(seen) == sorted(host.ids[n] for n in SHARED)  # 4 shared, 1 per page


def test_05_bad_limits_are_bad_requests(host):
    with host.client() as c:
        for limit in ("0", "-3", "many"):
            r = c.get("/2/footprints", params={"limit": limit}, headers=bearer(host.token()))
            assert r.status_code == 400 and r.json()["code"] == "BadRequest"


# -- test cases 6, 7, 8, 16: bad tokens and unknown footprints -----------------------------------------
@pytest.mark.parametrize("version", ["2", "3"])
@pytest.mark.parametrize("path", ["/footprints", "/footprints/{id}"])
def test_06_07_invalid_token(host, version, path):
    with host.client() as c:
        url = f"/{version}{path}".replace("{id}", host.ids["coil"])
        for headers in (bearer(f"very-invalid-access-token-{uuid.uuid4().hex[:16]}"), {}):
            r = c.get(url, headers=headers)
            assert r.status_code == 400 and r.json()["code"] == "BadRequest", r.text
            assert "data" not in r.json()


def test_06_expired_token_is_token_expired(host):
    import jwt

    past = datetime(2020, 1, 1, tzinfo=UTC)
    token = jwt.encode({"sub": host.buyer[0], "aud": "pact", "iat": past, "exp": past}, SECRET, "HS256")
    with host.client() as c:
        r = c.get("/2/footprints", headers=bearer(token))
    assert r.status_code == 401 and r.json()["code"] == "TokenExpired"


@pytest.mark.parametrize(("version", "code"), [("2", "NoSuchFootprint"), ("3", "NotFound")])
def test_08_unknown_unshared_or_draft_footprint(host, version, code):
    token = host.token()
    with host.client() as c:
        for pf in (f"random-string-as-id-{uuid.uuid4().hex[:16]}", host.ids["secret-alloy"], host.ids["draft-plate"]):
            r = c.get(f"/{version}/footprints/{pf}", headers=bearer(token))
            assert r.status_code == 404 and r.json()["code"] == code, (pf, r.text)


@pytest.mark.parametrize(("version", "kind"), [("2", V2_PUBLISHED), ("3", V3_PUBLISHED)])
def test_16_events_with_invalid_token(host, version, kind):
    event = {"type": kind, "specversion": "1.0", "id": str(uuid.uuid4()), "source": "https://buyer.example/webhook",
             "time": "2025-06-01T00:00:00Z", "data": {"pfIds": [str(uuid.uuid4())]}}  # fmt: skip
    with host.client() as c:
        r = c.post(f"/{version}/events", content=json.dumps(event),
                   headers={**EVENT_HEADERS, **bearer("very-invalid-access-token")})  # fmt: skip
    assert r.status_code == 400 and r.json()["code"] == "BadRequest"


# -- test cases 9, 10, 11, 17: plain HTTP is not processed ---------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/auth/token"), ("GET", "/2/footprints"), ("GET", "/2/footprints/{id}"), ("POST", "/2/events"),
     ("GET", "/3/footprints"), ("GET", "/3/footprints/{id}"), ("POST", "/3/events")],
)  # fmt: skip
def test_09_10_11_17_plain_http_is_not_processed(host, method, path):
    url = host.url.replace("https://", "http://") + path.replace("{id}", host.ids["coil"])
    token = host.token()
    try:
        r = httpx.request(method, url, headers=bearer(token), data={"grant_type": "client_credentials"},
                          auth=host.buyer if path == "/auth/token" else None, timeout=10)  # fmt: skip
    except httpx.TransportError:
        return  # the TLS port drops a plain-HTTP request: nothing processed
    assert r.status_code >= 400
    assert b"access_token" not in r.content and b'"data"' not in r.content


def test_plain_http_app_refuses_pact_actions(tmp_path):
    """Served without TLS (`parkzero serve` with no --tls-…), the PACT paths answer BadRequest, process nothing."""
    from fastapi.testclient import TestClient

    from parkzero.api.app import create_app
    from parkzero.config import Settings

    with open_store(f"duckdb:///{tmp_path / 'p.duckdb'}") as store:
        registry_io.import_registry(store, SYSTEM, SMALL_PARK)
        secret, buyer = partners.create(store, SYSTEM, "p1", "Buyer")
        app = create_app(Settings(database_url="", data_dir=tmp_path, secret_key=SECRET), store)
        with TestClient(app, base_url="http://testserver") as plain:
            r = plain.post("/auth/token", data={"grant_type": "client_credentials"}, auth=(buyer["client_id"], secret))
            assert r.status_code == 400 and "access_token" not in r.json()
            assert plain.get("/2/footprints").json()["code"] == "BadRequest"
        with TestClient(app, base_url="https://testserver") as tls:
            r = tls.post("/auth/token", data={"grant_type": "client_credentials"}, auth=(buyer["client_id"], secret))
            assert r.status_code == 200


# -- test cases 12, 14.A, 15, 21: events ---------------------------------------------------------------
def test_12_v2_request_created(host):
    event = {"specversion": "1.0", "id": "run-1-12", "source": "https://buyer.example/webhook",
             "time": "2025-06-01T00:00:00Z", "type": V2_CREATED,
             "data": {"pf": {"productIds": ["urn:pact:p1.parkzero:product-id:coil"]},
                      "comment": "Please send PCF data for this year."}}  # fmt: skip
    with host.client() as c:
        r = c.post("/2/events", content=json.dumps(event), headers={**EVENT_HEADERS, **bearer(host.token())})
    assert r.status_code == 200, r.text


def test_12_v3_request_created(host):
    event = {"specversion": "1.0", "id": "run-1-12-v3", "source": "https://buyer.example/webhook",
             "time": "2025-06-01T00:00:00Z", "type": V3_CREATED,
             "data": {"productId": ["urn:pact:p1.parkzero:product-id:desk"], "comment": "Please send PCF data."}}  # fmt: skip
    with host.client() as c:
        r = c.post("/3/events", content=json.dumps(event), headers={**EVENT_HEADERS, **bearer(host.token())})
    assert r.status_code == 200, r.text


def test_14a_a_request_to_be_rejected_is_accepted(host):
    event = {"specversion": "1.0", "id": "run-1-14.A", "source": "https://buyer.example/webhook",
             "time": "2025-06-01T00:00:00Z", "type": V2_CREATED,
             "data": {"pf": {"productIds": ["urn:pact:null"]}, "comment": "Please send PCF data for this year."}}  # fmt: skip
    with host.client() as c:
        r = c.post("/2/events", content=json.dumps(event), headers={**EVENT_HEADERS, **bearer(host.token())})
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("version", "kind", "pf_id"),
    [("2", V2_PUBLISHED, "3a6c14a7-4deb-498a-b5ea-16ce2535b576"), ("3", V3_PUBLISHED, "urn:gtin:4712345060507")],
)
def test_15_published_notification(host, version, kind, pf_id):
    event = {"type": kind, "specversion": "1.0", "id": str(uuid.uuid4()), "source": "https://buyer.example/webhook",
             "time": "2025-06-01T00:00:00Z", "data": {"pfIds": [pf_id]}}  # fmt: skip
    with host.client() as c:
        r = c.post(f"/{version}/events", content=json.dumps(event), headers={**EVENT_HEADERS, **bearer(host.token())})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "event",
    [
        {"type": V2_PUBLISHED, "specversion": "1.0", "id": "x", "source": "https://b.example/w",
         "time": "2025-06-01T00:00:00Z", "data": {"pfIds": ["urn:gtin:4712345060507"]}},  # test case 21
        {"type": "org.example.Unknown", "specversion": "1.0", "id": "x", "source": "https://b.example/w",
         "time": "2025-06-01T00:00:00Z", "data": {}},
        {"type": V2_CREATED, "specversion": "1.0", "source": "https://b.example/w", "data": {"pf": {}}},  # no id
        "not json at all",
    ],
)  # fmt: skip
def test_21_malformed_events_are_bad_requests(host, event):
    body = event if isinstance(event, str) else json.dumps(event)
    with host.client() as c:
        r = c.post("/2/events", content=body, headers={**EVENT_HEADERS, **bearer(host.token())})
    assert r.status_code == 400 and r.json()["code"] == "BadRequest", r.text


# -- v2 test case 20: $filter --------------------------------------------------------------------------
def _listed(host, version: str, params) -> set[str]:
    with host.client() as c:
        r = c.get(f"/{version}/footprints", params=params, headers=bearer(host.token()))
    assert r.status_code == 200, r.text
    return {d["id"] for d in r.json()["data"]}


def test_20_v2_filters(host):
    with host.client() as c:
        coil = c.get(f"/2/footprints/{host.ids['coil']}", headers=bearer(host.token())).json()["data"]
    assert _listed(host, "2", {"$filter": f"created ge '{coil['created']}'"}) >= {host.ids["coil"]}
    assert _listed(host, "2", {"$filter": "pcf/geographyCountry eq 'DE'"}) == {host.ids["wire"]}
    assert _listed(host, "2", {"$filter": "productIds/any(productId:(productId eq 'urn:pact:p1.parkzero:product-id:rebar'))"}) == {host.ids["rebar"]}  # fmt: skip
    start = "pcf/referencePeriodStart ge '2025-01-01T00:00:00Z'"
    assert _listed(host, "2", {"$filter": start}) == {host.ids[n] for n in ("coil", "wire", "desk")}  # not rebar, 2024
    assert _listed(host, "2", {"$filter": f"{start} and pcf/geographyCountry eq 'CN'"}) == {host.ids["coil"], host.ids["desk"]}  # fmt: skip


def test_20_v2_filter_errors(host):
    with host.client() as c:
        r = c.get("/2/footprints", params={"$filter": "created ge"}, headers=bearer(host.token()))
        assert r.status_code == 400 and r.json()["code"] == "BadRequest"
        r = c.get("/2/footprints", params={"$filter": "created ge '2025-01-01T00:00:00Z' or pcf/geographyCountry eq 'DE'"},
                  headers=bearer(host.token()))  # fmt: skip
        assert r.status_code == 400 and r.json()["code"] in ("NotImplemented", "BadRequest")  # 'or' is not in v2.3


# -- v3 test cases 20-39: query filters ----------------------------------------------------------------
def test_20_to_39_v3_filters(host):
    ids = host.ids
    everything = {ids[n] for n in SHARED}
    assert _listed(host, "3", {"productId": "urn:pact:p1.parkzero:product-id:coil"}) == {ids["coil"]}  # 20
    steel = {ids[n] for n in ("coil", "rebar", "wire")}
    assert _listed(host, "3", {"companyId": "urn:pact:company:customcode:vendor-assigned:steel"}) == steel  # 21
    assert _listed(host, "3", {"geography": "DE"}) == {ids["wire"]}  # 22
    assert _listed(host, "3", {"classification": "urn:pact:productclassification:un-cpc:41231"}) == everything  # 23
    assert _listed(host, "3", {"status": "Active"}) == everything  # 27
    both = {"status": "Active", "productId": "urn:pact:p1.parkzero:product-id:rebar"}
    assert _listed(host, "3", both) == {ids["rebar"]}  # 28
    either = [("companyId", "urn:pact:company:customcode:vendor-assigned:office"), ("companyId", "urn:bogus:x")]
    assert _listed(host, "3", either) == {ids["desk"]}  # 29: several values of one parameter, OR
    assert _listed(host, "3", {"productId": "urn:bogus:product:abc"}) == set()  # 30
    assert _listed(host, "3", {"companyId": "urn:bogus:company:abc"}) == set()  # 31
    assert _listed(host, "3", {"geography": "XX"}) == set()  # 32
    assert _listed(host, "3", {"classification": "urn:bogus:classification:abc"}) == set()  # 33
    assert _listed(host, "3", {"validOn": "1900-01-01T00:00:00Z"}) == set()  # 34
    assert _listed(host, "3", {"validAfter": "2099-12-31T23:59:59Z"}) == set()  # 35
    assert _listed(host, "3", {"validBefore": "1900-01-01T00:00:00Z"}) == set()  # 36
    assert _listed(host, "3", {"status": "BogusStatusx1y2z3"}) == set()  # 37: an unknown status matches nothing
    assert _listed(host, "3", {"status": "BogusStatusq", "productId": "urn:bogus:product:abc"}) == set()  # 38
    bogus = [("companyId", f"urn:bogus:company:{n}") for n in ("a1", "b2", "c3")]
    assert _listed(host, "3", bogus) == set()  # 39


def test_24_25_26_v3_validity_filters(host):
    """Without a validity period, a footprint is valid from its reference period's end for 3 years (v3 §7.3):
    rebar (2024) from 2025-01-01 to 2028-01-01, the others (2025) from 2026-01-01 to 2029-01-01."""
    ids = host.ids
    assert _listed(host, "3", {"validOn": "2025-06-01T00:00:00Z"}) == {ids["rebar"]}
    assert _listed(host, "3", {"validOn": "2028-06-01T00:00:00Z"}) == {ids[n] for n in ("coil", "wire", "desk")}
    assert _listed(host, "3", {"validAfter": "2025-06-01T00:00:00Z"}) == {ids[n] for n in ("coil", "wire", "desk")}
    assert _listed(host, "3", {"validBefore": "2028-06-01T00:00:00Z"}) == {ids["rebar"]}


# -- tenancy: a partner sees only what is shared with it; tokens do not cross --------------------------
def test_a_stranger_sees_nothing(host):
    token = host.token(host.stranger)
    with host.client() as c:
        assert c.get("/2/footprints", headers=bearer(token)).json()["data"] == []
        assert c.get("/3/footprints", headers=bearer(token)).json()["data"] == []
        r = c.get(f"/2/footprints/{host.ids['coil']}", headers=bearer(token))
        assert r.status_code == 404 and r.json()["code"] == "NoSuchFootprint"


def test_user_and_partner_tokens_do_not_cross(host):
    with host.client() as c:
        login = c.post("/api/v1/auth/token", data={"username": "op", "password": PASSWORD})
        assert login.status_code == 200
        user_token = login.json()["access_token"]
        r = c.get("/2/footprints", headers=bearer(user_token))
        assert r.status_code == 400 and r.json()["code"] == "BadRequest"  # a login is not a PACT token
        r = c.get("/api/v1/parks", headers=bearer(host.token()))
        assert r.status_code == 401  # a PACT token opens no user route


def test_basic_credentials_may_be_form_encoded(host):
    """RFC 6749 §2.3.1: the client id and secret are form-urlencoded before Basic; ours need no escaping, so the
    plain and the encoded header are the same; a header that is not base64 is refused."""
    with host.client() as c:
        raw = base64.b64encode(f"{host.buyer[0]}:{host.buyer[1]}".encode()).decode()
        r = c.post("/auth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {raw}"})
        assert r.status_code == 200
        r = c.post("/auth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic %%%"})
        assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_z_events_are_kept_and_routed(host):
    """Last: stop the server (it owns the DuckDB file) and read what the events left."""
    host.stop()
    with open_store(host.database_url) as store:
        rows = records.requests(store, SYSTEM, "p1")
        by_id = {r["event_id"]: r for r in rows}
        steel, office = (
            store.db.fetchone("SELECT id FROM enterprises WHERE code = ?", (code,))[0] for code in ("steel", "office")
        )
        assert by_id["run-1-12"]["state"] == "open" and by_id["run-1-12"]["enterprise_id"] == steel  # coil's maker
        assert by_id["run-1-12-v3"]["enterprise_id"] == office  # the desk's maker
        assert by_id["run-1-14.A"]["enterprise_id"] is None  # no product of the park: the operator's to answer
        assert by_id["run-1-12"]["body"]["data"]["comment"] == "Please send PCF data for this year."
        assert {r["state"] for r in rows} <= {"open", "noted"}
        # a tenant sees the requests for its own products only
        from tests.conftest import enterprise_scope

        office_scope = enterprise_scope(store, "office")
        assert {r["event_id"] for r in records.requests(store, office_scope, "p1")} == {"run-1-12-v3"}
