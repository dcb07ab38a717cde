"""The green supply chain over PACT: connections to other hosts, footprints pulled from suppliers, requests sent
and answered asynchronously, and requests received from customers fulfilled or rejected.

- A *connection* is another PACT host a tenant is a client of, with the credentials that host issued.
- `pull` reads every footprint a supplier's host shares with us and keeps the new ones as ``supplier``
  footprints of the tenant (validated, all or nothing), for use as inputs of its product systems.
- `request` sends a RequestCreated event; the supplier's host answers later with a Fulfilled event carrying the
  footprints (or a Rejected one) on our `/2/events` or `/3/events`, which `receive_answer` turns into stored
  supplier footprints of the tenant that asked.
- A request received from a customer (see `records.requests`) is answered by `fulfil` (published footprints of
  ours, shared with that customer and sent in a Fulfilled event) or `reject`.
"""

from __future__ import annotations

import ssl
from datetime import UTC, datetime

from parkzero.errors import Conflict, NotFound, ValidationFailed
from parkzero.footprint import pact, records
from parkzero.footprint.pact_client import PactClient, new_event
from parkzero.footprint.partners import Partner
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store


def connect(
    store: Store,
    scope: Scope,
    park_code: str,
    name: str,
    base_url: str,
    client_id: str,
    client_secret: str,
    *,
    version: str = "2",
    enterprise_code: str | None = None,
    ca_pem: str | None = None,
) -> dict:
    """Record a connection to another PACT host for a tenant (a tenant's own, or the operator's for one)."""
    scope.require_write()
    if not base_url.startswith("https://"):
        raise ValidationFailed(f"{base_url}: a PACT host is reached over HTTPS only")
    if version not in ("2", "3"):
        raise ValidationFailed("the PACT version is 2 or 3")
    if not (name and client_id and client_secret):
        raise ValidationFailed("a connection needs a name, a client id and a client secret")
    pid = repo.park_id(store, scope, park_code)
    eid = scope.enterprise_id if scope.is_tenant else None
    if enterprise_code and not scope.is_tenant:
        eid = repo.get_entity(store, scope, "enterprises", park_code, enterprise_code)["id"]
    with store.db.write_lock, store.db.transaction():
        if store.db.fetchone("SELECT 1 FROM pact_connections WHERE park_id = ? AND name = ?", (pid, name)):
            raise Conflict(f"a connection {name!r} exists already in park {park_code!r}")
        store.db.execute(
            "INSERT INTO pact_connections (park_id, enterprise_id, name, base_url, version, client_id, client_secret,"
            " ca_pem, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (pid, eid, name, base_url.rstrip("/"), version, client_id, client_secret, ca_pem, scope.actor, _now()),
        )
        store.audit(scope.actor, "create", "pact_connections", name, after={"base_url": base_url}, park_id=pid,
                    enterprise_id=eid)  # fmt: skip
    return {"name": name, "base_url": base_url, "version": version, "enterprise_id": eid}


def _now() -> datetime:
    return datetime.now(UTC)


def _connection(store: Store, scope: Scope, park_code: str, name: str) -> dict:
    pid = repo.park_id(store, scope, park_code)
    where, params = scope.sql_filter("park_id", "enterprise_id")
    rows = store.db.fetchdicts(
        "SELECT id, park_id, enterprise_id, name, base_url, version, client_id, client_secret, ca_pem"
        f" FROM pact_connections WHERE park_id = ? AND name = ?{where}",
        [pid, name, *params],
    )
    if not rows:
        raise NotFound(f"no PACT connection {name!r} in park {park_code!r} (or not yours)")
    return rows[0]


def client_of(connection: dict) -> PactClient:
    verify: ssl.SSLContext | bool = True
    if connection.get("ca_pem"):
        verify = ssl.create_default_context(cadata=connection["ca_pem"])
    return PactClient(
        connection["base_url"], connection["client_id"], connection["client_secret"], connection["version"], verify
    )


def _enterprise_code(store: Store, enterprise_id: int | None) -> str:
    row = store.db.fetchone("SELECT code FROM enterprises WHERE id = ?", (enterprise_id,))
    if row is None:
        raise ValidationFailed("the connection belongs to no enterprise: say whose supplier this is")
    return str(row[0])


def _keep_received(store: Store, park_code: str, enterprise_id: int | None, supplier: str, docs: list[dict]) -> dict:
    """Store the footprints not yet known as supplier footprints of the enterprise, all or nothing."""
    system = Scope.system("pact")
    enterprise = _enterprise_code(store, enterprise_id)
    stored, known = [], 0
    with store.db.write_lock, store.db.transaction():
        for doc in docs:
            if store.db.fetchone("SELECT 1 FROM footprints WHERE pf_id = ?", (str(doc["id"]),)):
                known += 1
                continue
            rec = records.create(store, system, park_code, doc, enterprise_code=enterprise, origin="supplier",
                                 supplier=supplier)  # fmt: skip
            stored.append(rec["id"])
    return {"received": len(docs), "stored": len(stored), "known": known, "ids": stored}


def pull(store: Store, scope: Scope, park_code: str, name: str, params: dict | None = None) -> dict:
    """Read what a supplier's host shares with us and keep the new footprints (all pages, each validated)."""
    scope.require_write()
    conn = _connection(store, scope, park_code, name)
    docs = client_of(conn).list_footprints(params)
    return _keep_received(store, park_code, conn["enterprise_id"], conn["name"], docs)


def request(
    store: Store,
    scope: Scope,
    park_code: str,
    name: str,
    product_ids: list[str],
    events_url: str,
    comment: str | None = None,
) -> dict:
    """Ask a supplier's host for footprints of `product_ids`; its answer comes to `events_url` (our own
    ``https://…/2/events`` or ``/3/events``). Returns the event sent."""
    scope.require_write()
    if not product_ids:
        raise ValidationFailed("name at least one product id (a URN) to ask for")
    conn = _connection(store, scope, park_code, name)
    if conn["version"] == "2":
        data: dict = {"pf": {"productIds": list(product_ids)}}
    else:
        data = {"productId": list(product_ids)}
    if comment:
        data["comment"] = comment
    event = new_event("RequestCreated", conn["version"], events_url, data)
    pact.parse_event(event, conn["version"])  # what we send is spec-valid
    # kept before it is sent, so that an answer arriving at once finds it; marked failed if the host refuses
    records.log_pact_event(store, conn["park_id"], direction="out", spec=conn["version"], event=event, state="sent",
                           enterprise_id=conn["enterprise_id"], connection=conn["name"])  # fmt: skip
    try:
        client_of(conn).send_event(event)
    except Exception:
        with store.db.write_lock, store.db.transaction():
            store.db.execute(
                "UPDATE pact_events SET state = 'failed' WHERE park_id = ? AND direction = 'out' AND event_id = ?",
                (conn["park_id"], event["id"]),
            )
        raise
    return event


def receive_answer(store: Store, partner: Partner, kind: str, data: dict) -> tuple[str, int | None]:
    """A Fulfilled or Rejected event for one of our requests: (state to keep, enterprise that asked).

    The footprints of a Fulfilled event become supplier footprints of that enterprise; an answer to a request we
    never sent is refused (ValidationFailed, which the host answers BadRequest)."""
    request_id = str(data.get("requestEventId", ""))
    row = store.db.fetchone(
        "SELECT id, enterprise_id, state, connection FROM pact_events WHERE park_id = ? AND direction = 'out'"
        " AND event_id = ? AND type LIKE '%Created%'",
        (partner.park_id, request_id),
    )
    if row is None:
        raise ValidationFailed(f"no request {request_id!r} was sent from this host")
    out_id, enterprise_id, state, connection = row
    if state != "sent":
        raise Conflict(f"request {request_id!r} is {state} already")
    park_code = store.db.fetchone("SELECT code FROM parks WHERE id = ?", (partner.park_id,))[0]
    if kind == "RequestFulfilled":
        # the supplier is named as in `pull`: by the connection the request went out through
        _keep_received(store, park_code, enterprise_id, connection or partner.name, list(data.get("pfs") or []))
        new_state = "fulfilled"
    else:
        new_state = "rejected"
    with store.db.write_lock, store.db.transaction():
        store.db.execute("UPDATE pact_events SET state = ? WHERE id = ?", (new_state, out_id))
    return new_state, enterprise_id


def _open_request(store: Store, scope: Scope, park_code: str, request_id: int) -> dict:
    for r in records.requests(store, scope, park_code):
        if r["id"] == request_id and r["direction"] == "in" and "Created" in r["type"]:
            if r["state"] != "open":
                raise Conflict(f"request {request_id} is {r['state']} already")
            return r
    raise NotFound(f"no request {request_id} received in park {park_code!r} (or not yours)")


def fulfil(store: Store, scope: Scope, park_code: str, request_id: int, footprint_ids: list[int], name: str) -> dict:
    """Answer a customer's request with published footprints of ours, through the connection `name` to the
    customer's host; the footprints are shared with the customer's partner account too."""
    scope.require_write()
    req = _open_request(store, scope, park_code, request_id)
    conn = _connection(store, scope, park_code, name)
    version = req["spec"]
    docs = []
    for fid in footprint_ids:
        rec = records.get(store, scope, park_code, fid)
        if rec["status"] != "published" or rec["origin"] == "supplier":
            raise ValidationFailed(f"footprint {fid} is {rec['status']} ({rec['origin']}): only our published ones")
        docs.append(pact.as_version(rec["document"], version))
    if not docs:
        raise ValidationFailed("a fulfilment carries at least one footprint")
    event = new_event("RequestFulfilled", version, f"{conn['base_url']}/{version}/events",
                      {"requestEventId": req["event_id"], "pfs": docs})  # fmt: skip
    pact.parse_event(event, version)
    client_of(conn).send_event(event)
    for fid in footprint_ids:
        if req["client_id"] is not None:
            records.share(store, scope, park_code, fid, req["client_id"])
    _close_request(store, req, "fulfilled", event, version, conn["name"])
    return event


def reject(store: Store, scope: Scope, park_code: str, request_id: int, name: str, message: str) -> dict:
    """Answer a customer's request with a Rejected event (the spec's error body, code NotFound/NoSuchFootprint)."""
    scope.require_write()
    if not message:
        raise ValidationFailed("say why the request is rejected")
    req = _open_request(store, scope, park_code, request_id)
    conn = _connection(store, scope, park_code, name)
    version = req["spec"]
    code = "NoSuchFootprint" if version == "2" else "NotFound"
    event = new_event("RequestRejected", version, f"{conn['base_url']}/{version}/events",
                      {"requestEventId": req["event_id"], "error": {"code": code, "message": message}})  # fmt: skip
    pact.parse_event(event, version)
    client_of(conn).send_event(event)
    _close_request(store, req, "rejected", event, version, conn["name"])
    return event


def _close_request(store: Store, req: dict, state: str, answer: dict, version: str, connection: str) -> None:
    with store.db.write_lock, store.db.transaction():
        store.db.execute("UPDATE pact_events SET state = ? WHERE id = ?", (state, req["id"]))
    records.log_pact_event(store, req["park_id"], direction="out", spec=version, event=answer, state="sent",
                           client_id=req["client_id"], enterprise_id=req["enterprise_id"],
                           connection=connection)  # fmt: skip


def connections(store: Store, scope: Scope, park_code: str) -> list[dict]:
    """The caller's connections, without their secrets."""
    pid = repo.park_id(store, scope, park_code)
    where, params = scope.sql_filter("park_id", "enterprise_id")
    return store.db.fetchdicts(
        "SELECT name, base_url, version, client_id, enterprise_id, created_at FROM pact_connections"
        f" WHERE park_id = ?{where} ORDER BY name",
        [pid, *params],
    )


def overview(store: Store, scope: Scope, park_code: str, footprints: list[dict] | None = None) -> dict:
    """The supply-chain view of what the caller may see: per enterprise its suppliers (connections and the
    footprints received from each), its requests waiting for an answer (sent) and to be answered (received),
    and per own footprint its primary-data share [%]. `footprints`: the caller's `records.list_footprints`, when
    it has read them already."""
    if footprints is None:
        footprints = records.list_footprints(store, scope, park_code)
    requests = records.requests(store, scope, park_code)
    suppliers: dict[tuple[int | None, str], dict] = {}
    for c in connections(store, scope, park_code):
        suppliers[(c["enterprise_id"], c["name"])] = {"enterprise_id": c["enterprise_id"], "supplier": c["name"],
                                                      "base_url": c["base_url"], "received": 0}  # fmt: skip
    for f in footprints:
        if f["origin"] == "supplier":
            key = (f["enterprise_id"], f["supplier"] or "(file)")
            suppliers.setdefault(key, {"enterprise_id": f["enterprise_id"], "supplier": key[1], "base_url": None,
                                       "received": 0})["received"] += 1  # fmt: skip
    waiting = [
        {"id": r["id"], "direction": r["direction"], "type": r["type"].rsplit(".", 2)[-2], "event_id": r["event_id"],
         "enterprise_id": r["enterprise_id"], "state": r["state"], "logged_at": r["logged_at"]}
        for r in requests
        if "Created" in r["type"] and r["state"] in ("open", "sent")
    ]  # fmt: skip
    own = [
        {"id": f["id"], "pf_id": f["pf_id"], "product_name": f["product_name"], "enterprise_id": f["enterprise_id"],
         "status": f["status"],
         "pcf_kgco2e": f["pcf_kgco2e"], "declared_unit": f["declared_unit"],
         "primary_data_share_pct": f["primary_data_share_pct"]}
        for f in footprints
        if f["origin"] != "supplier"
    ]  # fmt: skip
    return {"suppliers": list(suppliers.values()), "requests": waiting, "footprints": own}
