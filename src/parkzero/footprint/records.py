"""Stored product footprints: their lifecycle, their sharing with PACT partners, and the PACT events.

A footprint record holds one PACT ProductFootprint document (v2.3 or v3.0, validated by
`parkzero.footprint.pact` before anything is written) for one enterprise of the park.

Lifecycle (ISO 14067 verification before communication): ``draft -> submitted -> verified -> published``.
The owner (the enterprise, or the operator on its behalf) creates and submits; a verifier of the park verifies,
or rejects back to draft with a comment; the owner publishes a verified footprint. A published footprint never
changes: a correction is a new footprint (`new_version`) whose ``precedingPfIds`` name the old one, and when the
new one is published the old one becomes ``Deprecated`` (PACT v2.3 §4.2.1 / v3.0 "status"). Footprints received
from suppliers (``origin='supplier'``) are kept as received, for use as inputs; they are never re-published.

A partner sees only published footprints shared with it; everyone else sees by the usual tenant scope. A
published footprint is served under ``/2`` and ``/3`` in the versions it can be stated in, decided once at
publication (``served_versions``): a v3 footprint of 2025 or later lacks v2's required ``dqi`` and is served under
``/3`` only.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from parkzero import review
from parkzero.errors import Conflict, Forbidden, NotFound, ValidationFailed
from parkzero.footprint import pact
from parkzero.footprint.partners import Partner
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store

STATUSES = ("draft", "submitted", "verified", "published", "received")
ORIGINS = ("computed", "imported", "supplier")
# action -> (from statuses, to status)
TRANSITIONS = {
    "submit": (("draft",), "submitted"),
    "verify": (("submitted",), "verified"),
    "reject": (("submitted", "verified"), "draft"),
    "publish": (("verified",), "published"),
}
_COLS = (
    "id, pf_id, park_id, enterprise_id, product_id, status, pact_status, origin, supplier, spec_version,"
    " declared_unit, pcf_kgco2e, primary_data_share_pct, preceding_pf_id, created_by, created_at, published_at,"
    " served_versions"
)


def _now() -> datetime:
    return datetime.now(UTC)


def validated(document: dict, source: str = "<input>") -> tuple[str, dict]:
    """(major spec version "2" or "3", the document as the spec's JSON) of a PACT footprint; ValidationFailed names
    every bad field."""
    if not isinstance(document, dict):
        raise ValidationFailed(f"{source}: a footprint is a JSON object")
    version = str(document.get("specVersion", ""))[:1]
    if version not in ("2", "3"):
        raise ValidationFailed(
            f"{source}: specVersion {document.get('specVersion')!r} is not a PACT 2.x or 3.x version"
        )
    model = pact.parse_footprint(document, version, source)
    return version, model.to_json()


def _summary(doc: dict) -> tuple[str, float, float | None]:
    """(declared unit, PCF per declared unit [kgCO2e], primary data share [%]) of a spec document."""
    pcf = doc.get("pcf") or {}
    unit = pcf.get("declaredUnit") or pcf.get("declaredUnitOfMeasurement")
    value = pcf.get("pCfExcludingBiogenic") or pcf.get("pcfExcludingBiogenicUptake")  # v2.3's spelling, v3's
    share = pcf.get("primaryDataShare")
    if unit is None or value is None:
        raise ValidationFailed("the footprint has no pcf.declaredUnit or no PCF value")
    return str(unit), float(value), None if share is None else float(share)


# -- reading -------------------------------------------------------------------------------------------
def _visible(scope: Scope) -> tuple[str, list]:
    """Owners see theirs; a verifier its park's submitted work; a regulator its park's published footprints."""
    if scope.role == "verifier":
        return " AND park_id = ? AND status <> 'draft'", [scope.park_id if scope.park_id is not None else -1]
    if scope.role == "regulator":
        return " AND park_id = ? AND status = 'published'", [scope.park_id if scope.park_id is not None else -1]
    return scope.sql_filter("park_id", "enterprise_id")


def list_footprints(store: Store, scope: Scope, park_code: str) -> list[dict]:
    """The records the caller may see, each with its product's name and ids from the document."""
    pid = repo.park_id(store, scope, park_code)
    where, params = _visible(scope)
    rows = store.db.fetchdicts(
        f"SELECT {_COLS}, document, analysis FROM footprints WHERE park_id = ?{where} ORDER BY id", [pid, *params]
    )
    for row in rows:
        doc = json.loads(row.pop("document"))
        analysis = row.pop("analysis")
        row["product_name"] = doc.get("productNameCompany")
        row["product_ids"] = doc.get("productIds") or []
        row["hot_spots"] = (json.loads(analysis).get("hot_spots") or [])[:5] if analysis else []
    return rows


def get(store: Store, scope: Scope, park_code: str, footprint_id: int) -> dict:
    """One record with its document; NotFound also where it exists but is not the caller's to see."""
    pid = repo.park_id(store, scope, park_code)
    where, params = _visible(scope)
    rows = store.db.fetchdicts(
        f"SELECT {_COLS}, document, analysis FROM footprints WHERE park_id = ? AND id = ?{where}",
        [pid, footprint_id, *params],
    )
    if not rows:
        raise NotFound(f"no footprint {footprint_id} in park {park_code!r} (or not visible to you)")
    rec = rows[0]
    rec["document"] = json.loads(rec["document"])
    rec["analysis"] = None if rec["analysis"] is None else json.loads(rec["analysis"])
    return rec


def events(store: Store, scope: Scope, park_code: str, footprint_id: int) -> list[dict]:
    get(store, scope, park_code, footprint_id)
    return store.db.fetchdicts(
        "SELECT logged_at, actor, role, action, body, evidence_id FROM footprint_events WHERE footprint_id = ?"
        " ORDER BY id",
        (footprint_id,),
    )


# -- writing -------------------------------------------------------------------------------------------
def _owner(store: Store, scope: Scope, park_code: str, enterprise_code: str | None) -> int:
    """The enterprise a new footprint belongs to: the caller's own, or one the operator names."""
    if scope.is_tenant:
        if enterprise_code is not None:
            own = repo.get_entity(store, scope, "enterprises", park_code, enterprise_code)["id"]
            if own != scope.enterprise_id:
                raise Forbidden("an enterprise records footprints of its own products only")
        return int(scope.enterprise_id)  # type: ignore[arg-type]
    scope.require_write()
    if not enterprise_code:
        raise ValidationFailed("say whose footprint this is (enterprise)")
    return int(repo.get_entity(store, scope, "enterprises", park_code, enterprise_code)["id"])


def create(
    store: Store,
    scope: Scope,
    park_code: str,
    document: dict,
    *,
    enterprise_code: str | None = None,
    product_code: str | None = None,
    origin: str = "computed",
    supplier: str | None = None,
    source: str = "<input>",
    analysis: dict | None = None,
) -> dict:
    """Record a footprint as a draft (or, from a supplier, as received). Nothing is written if it is invalid.

    `analysis` (JSON-able) is what the computation knows beside the document: hot spots, provenance."""
    scope.require_write()
    if origin not in ORIGINS:
        raise ValidationFailed(f"origin must be one of {', '.join(ORIGINS)}")
    version, doc = validated(document, source)
    unit, value, share = _summary(doc)
    pid = repo.park_id(store, scope, park_code)
    eid = _owner(store, scope, park_code, enterprise_code)
    product_id = None
    if product_code:
        product = repo.get_entity(store, scope, "products", park_code, product_code)
        owner = store.db.fetchone("SELECT code FROM enterprises WHERE id = ?", (eid,))
        if owner is None or product.get("enterprise") != owner[0]:
            raise ValidationFailed(f"product {product_code!r} is not of enterprise {owner[0] if owner else eid!r}")
        product_id = product["id"]
    status = "received" if origin == "supplier" else "draft"
    preceding = (doc.get("precedingPfIds") or [None])[-1]
    with store.db.write_lock, store.db.transaction():
        if store.db.fetchone("SELECT 1 FROM footprints WHERE pf_id = ?", (doc["id"],)):
            raise Conflict(f"a footprint with id {doc['id']} is recorded already; a change is a new version")
        store.db.execute(
            "INSERT INTO footprints (pf_id, park_id, enterprise_id, product_id, status, pact_status, origin, supplier,"
            " spec_version, declared_unit, pcf_kgco2e, primary_data_share_pct, preceding_pf_id, document, created_by,"
            " created_at, analysis) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                doc["id"],
                pid,
                eid,
                product_id,
                status,
                doc.get("status", "Active"),
                origin,
                supplier,
                doc["specVersion"],
                unit,
                value,
                share,
                preceding,
                json.dumps(doc, ensure_ascii=False),
                scope.actor,
                _now(),
                None if analysis is None else json.dumps(analysis, ensure_ascii=False, default=str),
            ),
        )
        row = store.db.fetchone("SELECT id FROM footprints WHERE pf_id = ?", (doc["id"],))
        assert row is not None
        fid = int(row[0])
        _event(store, fid, scope, "create", f"{origin}, PACT {version}")
        store.audit(
            scope.actor, "create", "footprints", fid, after={"pf_id": doc["id"]}, park_id=pid, enterprise_id=eid
        )
    return get(store, Scope.system(scope.actor), park_code, fid)


def _event(store: Store, fid: int, scope: Scope, action: str, body: str | None, evidence: int | None = None) -> None:
    store.db.execute(
        "INSERT INTO footprint_events (footprint_id, logged_at, actor, role, action, body, evidence_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (fid, _now(), scope.actor, scope.role, action, body, evidence),
    )


def transition(
    store: Store,
    scope: Scope,
    park_code: str,
    footprint_id: int,
    action: str,
    comment: str | None = None,
    evidence_id: int | None = None,
) -> dict:
    """submit | verify | reject | publish, with the role checks of the lifecycle (`parkzero.review`)."""
    review.check_step(scope, action, TRANSITIONS, None, comment, f"footprint {footprint_id}")
    rec = get(store, scope, park_code, footprint_id)
    target = review.check_step(scope, action, TRANSITIONS, rec["status"], comment, f"footprint {footprint_id}")
    served = ""
    if action == "publish":  # served under /2 and /3 where it converts; the conversions are decided now, once
        served = ",".join(v for v in ("2", "3") if _converts(rec["document"], v))
    now = _now()
    with store.db.write_lock, store.db.transaction():
        if action == "publish":
            store.db.execute(
                "UPDATE footprints SET status = 'published', published_at = ?, served_versions = ? WHERE id = ?",
                (now, served, footprint_id),
            )
            if rec["preceding_pf_id"]:
                _deprecate(store, scope, rec["park_id"], rec["preceding_pf_id"], rec["pf_id"])
        else:
            store.db.execute("UPDATE footprints SET status = ? WHERE id = ?", (target, footprint_id))
        _event(store, footprint_id, scope, action, comment, evidence_id)
        store.audit(
            scope.actor,
            action,
            "footprints",
            footprint_id,
            before={"status": rec["status"]},
            after={"status": target},
            park_id=rec["park_id"],
            enterprise_id=rec["enterprise_id"],
        )
    return get(store, Scope.system(scope.actor), park_code, footprint_id)


def _converts(document: dict, version: str) -> bool:
    """Whether a footprint can be stated in PACT `version` (a v3 one of 2025 or later lacks v2's dqi, say)."""
    try:
        pact.as_version(document, version)
    except ValidationFailed:
        return False
    return True


def _deprecate(store: Store, scope: Scope, park_id: int, pf_id: str, successor: str) -> None:
    """Mark a published footprint Deprecated in its document and its row (its figures stay as they were)."""
    row = store.db.fetchone("SELECT id, document FROM footprints WHERE park_id = ? AND pf_id = ?", (park_id, pf_id))
    if row is None:
        return
    doc = json.loads(row[1])
    doc["status"] = "Deprecated"
    doc["statusComment"] = f"superseded by {successor}"
    store.db.execute(
        "UPDATE footprints SET pact_status = 'Deprecated', document = ? WHERE id = ?",
        (json.dumps(doc, ensure_ascii=False), row[0]),
    )
    _event(store, int(row[0]), scope, "deprecate", f"superseded by {successor}")


def new_version(store: Store, scope: Scope, park_code: str, footprint_id: int, document: dict) -> dict:
    """A corrected footprint of a published one: a new draft with a new id whose precedingPfIds name the old."""
    old = get(store, scope, park_code, footprint_id)
    if old["status"] != "published":
        raise Conflict(f"footprint {footprint_id} is {old['status']}: edit it instead of versioning it")
    doc = dict(document)
    doc["id"] = str(uuid.uuid4())
    doc["precedingPfIds"] = [*(old["document"].get("precedingPfIds") or []), old["pf_id"]]
    enterprise = store.db.fetchone("SELECT code FROM enterprises WHERE id = ?", (old["enterprise_id"],))
    assert enterprise is not None
    return create(store, scope, park_code, doc, enterprise_code=enterprise[0], origin=old["origin"])


def share(store: Store, scope: Scope, park_code: str, footprint_id: int, partner_row_id: int) -> None:
    """Let a partner read a footprint (once published). Idempotent."""
    scope.require_write()
    rec = get(store, scope, park_code, footprint_id)
    if rec["origin"] == "supplier":
        raise ValidationFailed("a supplier's footprint is not ours to share")
    with store.db.write_lock, store.db.transaction():
        if store.db.fetchone(
            "SELECT 1 FROM footprint_shares WHERE footprint_id = ? AND client_id = ?", (footprint_id, partner_row_id)
        ):
            return
        store.db.execute(
            "INSERT INTO footprint_shares (footprint_id, client_id, shared_by, shared_at) VALUES (?, ?, ?, ?)",
            (footprint_id, partner_row_id, scope.actor, _now()),
        )
        store.audit(
            scope.actor,
            "share",
            "footprints",
            footprint_id,
            after={"partner": partner_row_id},
            park_id=rec["park_id"],
            enterprise_id=rec["enterprise_id"],
        )


# -- what a partner sees -------------------------------------------------------------------------------
def for_partner(store: Store, partner: Partner, version: str) -> list[dict]:
    """The published footprints shared with `partner`, as documents of PACT `version` ("2" or "3"), oldest
    first."""
    rows = store.db.fetchall(
        "SELECT f.document FROM footprints f JOIN footprint_shares s ON s.footprint_id = f.id"
        " WHERE s.client_id = ? AND f.park_id = ? AND f.status = 'published' AND f.served_versions LIKE ?"
        " ORDER BY f.id",
        (partner.id, partner.park_id, f"%{version}%"),
    )
    return [pact.as_version(json.loads(r[0]), version) for r in rows]


def one_for_partner(store: Store, partner: Partner, pf_id: str, version: str) -> dict | None:
    row = store.db.fetchone(
        "SELECT f.document FROM footprints f JOIN footprint_shares s ON s.footprint_id = f.id"
        " WHERE s.client_id = ? AND f.park_id = ? AND f.status = 'published' AND f.pf_id = ?"
        " AND f.served_versions LIKE ?",
        (partner.id, partner.park_id, pf_id, f"%{version}%"),
    )
    return None if row is None else pact.as_version(json.loads(row[0]), version)


def owner_of_products(store: Store, park_id: int, product_ids: list[str]) -> int | None:
    """The enterprise whose published or draft footprints carry one of these PACT product ids, if any."""
    wanted = set(product_ids)
    for eid, document in store.db.fetchall(
        "SELECT enterprise_id, document FROM footprints WHERE park_id = ? AND origin <> 'supplier' ORDER BY id DESC",
        (park_id,),
    ):
        if wanted & set(json.loads(document).get("productIds") or []):
            return eid
    return None


def log_pact_event(
    store: Store,
    park_id: int,
    *,
    direction: str,
    spec: str,
    event: dict[str, Any],
    state: str,
    client_id: int | None = None,
    enterprise_id: int | None = None,
    connection: str | None = None,
) -> None:
    """Keep one PACT event received (``in``, from partner `client_id`) or sent (``out``, through the connection
    named `connection`), whole, with what became of it."""
    with store.db.write_lock, store.db.transaction():
        store.db.execute(
            "INSERT INTO pact_events (park_id, client_id, enterprise_id, direction, spec, event_id, type, source,"
            " connection, body, state, logged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                park_id,
                client_id,
                enterprise_id,
                direction,
                spec,
                str(event.get("id", "")),
                str(event.get("type", "")),
                event.get("source"),
                connection,
                json.dumps(event, ensure_ascii=False, default=str),
                state,
                _now(),
            ),
        )


def requests(store: Store, scope: Scope, park_code: str) -> list[dict]:
    """PACT events received by the park that the caller may see: a tenant the requests for its products."""
    pid = repo.park_id(store, scope, park_code)
    where, params = scope.sql_filter("park_id", "enterprise_id")
    rows = store.db.fetchdicts(
        "SELECT id, park_id, client_id, enterprise_id, direction, spec, event_id, type, source, connection, body,"
        " state, logged_at"
        f" FROM pact_events WHERE park_id = ?{where} ORDER BY id",
        [pid, *params],
    )
    for r in rows:
        r["body"] = json.loads(r["body"])
    return rows
