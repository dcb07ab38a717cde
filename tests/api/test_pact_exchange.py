"""Two parkzero PACT hosts talking over HTTPS on loopback: a supplier's park S and a customer's park C, each a
`parkzero serve --tls-self-signed` over its own PostgreSQL schema (so the test can act on both stores while
they serve). Each registered the other as a partner and holds a connection to the other with those credentials.

C's tenant "office" pulls what S shares, asks S for a footprint it does not have yet, S's tenant "steel"
answers asynchronously with a Fulfilled event (and rejects another request), and C keeps what arrives as
supplier footprints of office.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from parkzero.api.tls import self_signed
from parkzero.footprint import exchange, partners, records
from parkzero.footprint.pact_client import PactRemoteError
from parkzero.registry import io as registry_io
from parkzero.registry.scope import Scope
from parkzero.store import Store, open_store
from tests.api.test_pact_host import footprint, start_host, stop_host
from tests.conftest import PG_URL, SMALL_PARK, _pg_schema_url

pytestmark = pytest.mark.postgres
SYSTEM = Scope.system("test")
COIL = "urn:pact:p1.parkzero:product-id:coil"
REBAR = "urn:pact:p1.parkzero:product-id:rebar"


@dataclass
class Side:
    store: Store
    url: str
    cert_pem: str


@pytest.fixture(scope="module")
def hosts(tmp_path_factory) -> Iterator[tuple[Side, Side]]:
    schemas = [f"pz_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    with psycopg.connect(PG_URL, autocommit=True) as con:
        for schema in schemas:
            con.execute(f"CREATE SCHEMA {schema}")
    processes, sides = [], []
    try:
        folders = [tmp_path_factory.mktemp(name) for name in ("supplier", "customer")]
        stores = [open_store(_pg_schema_url(schema)) for schema in schemas]
        for store in stores:
            registry_io.import_registry(store, SYSTEM, SMALL_PARK)
        for folder, schema, store in zip(folders, schemas, stores, strict=True):
            cert, _ = self_signed(Path(folder) / "tls")
            process, url = start_host(Path(folder), _pg_schema_url(schema))
            processes.append(process)
            sides.append(Side(store, url, cert.read_text()))
        supplier, customer = sides
        # each host registers the other as a partner; each holds a connection with those credentials
        c_secret, c_on_s = partners.create(supplier.store, SYSTEM, "p1", "Customer park C")
        s_secret, s_on_c = partners.create(customer.store, SYSTEM, "p1", "Supplier park S")
        exchange.connect(customer.store, SYSTEM, "p1", "supplier-s", supplier.url, c_on_s["client_id"], c_secret,
                       enterprise_code="office", ca_pem=supplier.cert_pem)  # fmt: skip
        exchange.connect(supplier.store, SYSTEM, "p1", "customer-c", customer.url, s_on_c["client_id"], s_secret,
                       enterprise_code="steel", ca_pem=customer.cert_pem)  # fmt: skip
        yield supplier, customer
    finally:
        for process in processes:
            stop_host(process)
        for side in sides:
            side.store.close()
        with psycopg.connect(PG_URL, autocommit=True) as con:
            for schema in schemas:
                con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _publish(store: Store, doc: dict, share_with: str | None) -> int:
    rec = records.create(store, SYSTEM, "p1", doc, enterprise_code="steel")
    for action in ("submit", "verify", "publish"):
        records.transition(store, SYSTEM, "p1", rec["id"], action)
    if share_with:
        client_id = next(p["client_id"] for p in partners.list_partners(store, SYSTEM, "p1") if p["name"] == share_with)
        records.share(store, SYSTEM, "p1", rec["id"], partners.partner_id(store, SYSTEM, "p1", client_id))
    return rec["id"]


def supplier_footprints(store: Store) -> list[dict]:
    return [r for r in records.list_footprints(store, SYSTEM, "p1") if r["origin"] == "supplier"]


def test_pull_keeps_what_is_shared_once(hosts):
    supplier, customer = hosts
    coil = _publish(supplier.store, footprint("coil", "steel", 1.85), "Customer park C")
    _publish(supplier.store, footprint("hidden", "steel", 5.0), None)  # published, not shared
    got = exchange.pull(customer.store, SYSTEM, "p1", "supplier-s")
    assert (got["received"], got["stored"], got["known"]) == (1, 1, 0)
    (kept,) = supplier_footprints(customer.store)
    office = customer.store.db.fetchone("SELECT id FROM enterprises WHERE code = 'office'")[0]
    sent = records.get(supplier.store, SYSTEM, "p1", coil)
    assert kept["pf_id"] == sent["pf_id"] and kept["status"] == "received" and kept["enterprise_id"] == office
    assert kept["pcf_kgco2e"] == pytest.approx(1.85)
    again = exchange.pull(customer.store, SYSTEM, "p1", "supplier-s")
    assert (again["stored"], again["known"]) == (0, 1)


def test_request_answered_asynchronously(hosts):
    supplier, customer = hosts
    rebar_draft = records.create(
        supplier.store, SYSTEM, "p1", footprint("rebar", "steel", 1.62), enterprise_code="steel"
    )
    event = exchange.request(customer.store, SYSTEM, "p1", "supplier-s", [REBAR], f"{customer.url}/2/events",
                           comment="Please send the 2025 PCF of rebar.")  # fmt: skip
    # S received it and routed it to the maker of rebar
    (req,) = [r for r in records.requests(supplier.store, SYSTEM, "p1") if r["event_id"] == event["id"]]
    steel = supplier.store.db.fetchone("SELECT id FROM enterprises WHERE code = 'steel'")[0]
    assert req["state"] == "open" and req["enterprise_id"] == steel and req["direction"] == "in"
    # steel cannot answer with a draft; once published, it can
    with pytest.raises(Exception, match="only our published"):
        exchange.fulfil(supplier.store, SYSTEM, "p1", req["id"], [rebar_draft["id"]], "customer-c")
    for action in ("submit", "verify", "publish"):
        records.transition(supplier.store, SYSTEM, "p1", rebar_draft["id"], action)
    exchange.fulfil(supplier.store, SYSTEM, "p1", req["id"], [rebar_draft["id"]], "customer-c")
    # C kept the answer as a supplier footprint of office, and its request is fulfilled
    kept = [r for r in supplier_footprints(customer.store) if r["pf_id"] == rebar_draft["pf_id"]]
    assert len(kept) == 1 and kept[0]["pcf_kgco2e"] == pytest.approx(1.62)
    (out,) = [r for r in records.requests(customer.store, SYSTEM, "p1") if r["event_id"] == event["id"]]
    assert out["direction"] == "out" and out["state"] == "fulfilled"
    (closed,) = [r for r in records.requests(supplier.store, SYSTEM, "p1") if r["id"] == req["id"]]
    assert closed["state"] == "fulfilled"
    with pytest.raises(Exception, match="fulfilled already"):
        exchange.fulfil(supplier.store, SYSTEM, "p1", req["id"], [rebar_draft["id"]], "customer-c")


def test_request_rejected(hosts):
    supplier, customer = hosts
    event = exchange.request(customer.store, SYSTEM, "p1", "supplier-s", ["urn:pact:null"], f"{customer.url}/2/events")
    (req,) = [r for r in records.requests(supplier.store, SYSTEM, "p1") if r["event_id"] == event["id"]]
    assert req["enterprise_id"] is None  # no product of S: the operator's to answer
    exchange.reject(supplier.store, SYSTEM, "p1", req["id"], "customer-c", "we make no such product")
    (out,) = [r for r in records.requests(customer.store, SYSTEM, "p1") if r["event_id"] == event["id"]]
    assert out["state"] == "rejected"


def test_an_answer_to_no_request_is_refused(hosts):
    supplier, customer = hosts
    conn = exchange._connection(supplier.store, SYSTEM, "p1", "customer-c")
    client = exchange.client_of(conn)
    from parkzero.footprint.pact_client import new_event

    bogus = new_event("RequestRejected", "2", f"{supplier.url}/2/events",
                      {"requestEventId": "never-sent", "error": {"code": "NoSuchFootprint", "message": "x"}})  # fmt: skip
    with pytest.raises(PactRemoteError, match="BadRequest.*never-sent"):
        client.send_event(bogus)


def test_wrong_credentials_are_named(hosts):
    supplier, customer = hosts
    exchange.connect(customer.store, SYSTEM, "p1", "supplier-wrong", supplier.url, "pact-nobody", "not-a-secret",
                   enterprise_code="office", ca_pem=supplier.cert_pem)  # fmt: skip
    with pytest.raises(PactRemoteError) as info:
        exchange.pull(customer.store, SYSTEM, "p1", "supplier-wrong")
    assert supplier.url in str(info.value) and "invalid_client" in str(info.value)
    # an untrusted certificate is refused before anything is sent
    exchange.connect(
        customer.store, SYSTEM, "p1", "supplier-untrusted", supplier.url, "x", "y", enterprise_code="office"
    )
    with pytest.raises(PactRemoteError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        exchange.pull(customer.store, SYSTEM, "p1", "supplier-untrusted")


def test_z_supply_chain_view(hosts):
    supplier, customer = hosts
    view = exchange.overview(customer.store, SYSTEM, "p1")
    by_name = {s["supplier"]: s for s in view["suppliers"]}
    # coil (pulled) and rebar (the fulfilled request) came from S; the other connections sent nothing
    assert by_name["supplier-s"]["received"] == 2 and by_name["supplier-wrong"]["received"] == 0
    assert view["requests"] == []  # both requests were answered
    # S: its published footprints with their primary-data share (60 % in `footprint`), nothing waiting
    s_view = exchange.overview(supplier.store, SYSTEM, "p1")
    assert {f["primary_data_share_pct"] for f in s_view["footprints"]} == {60.0}
    assert s_view["requests"] == []
    # a tenant sees its own connections and requests only
    from tests.conftest import enterprise_scope

    steel_on_c = exchange.overview(customer.store, enterprise_scope(customer.store, "steel"), "p1")
    assert steel_on_c == {"suppliers": [], "requests": [], "footprints": []}


def test_a_refused_request_is_kept_as_failed(hosts):
    supplier, customer = hosts
    with pytest.raises(PactRemoteError):
        exchange.request(customer.store, SYSTEM, "p1", "supplier-wrong", [COIL], f"{customer.url}/2/events")
    failed = [r for r in records.requests(customer.store, SYSTEM, "p1") if r["connection"] == "supplier-wrong"]
    assert [r["state"] for r in failed] == ["failed"]
