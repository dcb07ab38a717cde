"""Inventories: stored results with a lifecycle, an audit trail and a trace for every figure.

draft -> submitted -> verified -> closed. The owner (the enterprise, or the operator for the park and on a
tenant's behalf) creates and recomputes drafts and submits; a verifier of the park verifies or sends back to
draft with a comment; the owner (or operator) closes a verified inventory. A closed inventory never changes:
its factor sets are locked, and a correction is a restatement, a new version with its reason.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pyarrow as pa

from parkzero import review
from parkzero.accounting import engine
from parkzero.errors import Conflict, Forbidden, NotFound, ValidationFailed
from parkzero.factors import library
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store

STATUSES = ("draft", "submitted", "verified", "closed")
# action -> (from statuses, to status, roles allowed besides the owner)
TRANSITIONS = {
    "submit": (("draft",), "submitted"),
    "verify": (("submitted",), "verified"),
    "reject": (("submitted", "verified"), "draft"),
    "close": (("verified",), "closed"),
}
_COLS = (
    "id, park_id, enterprise_id, year, regime, version, status, restates_id, reason, result_sha256, created_by,"
    " created_at, closed_at"
)


def _visible(scope: Scope) -> tuple[str, list]:
    """Owners see theirs; a verifier sees its park's submitted work; a regulator sees closed park inventories."""
    if scope.role == "verifier":
        return " AND park_id = ? AND status <> 'draft'", [scope.park_id if scope.park_id is not None else -1]
    if scope.role == "regulator":  # a district regulator (no park) sees every park's closed park inventories
        park, params = (" AND park_id = ?", [scope.park_id]) if scope.park_id is not None else ("", [])
        return f"{park} AND enterprise_id IS NULL AND status = 'closed'", params
    return scope.sql_filter("park_id", "enterprise_id")


def _record(store: Store, row: dict, codes: dict[int, str], park_code: str) -> dict:
    out = dict(row)
    out["park"] = park_code
    out["enterprise"] = codes.get(row["enterprise_id"]) if row["enterprise_id"] else None
    return out


def list_inventories(store: Store, scope: Scope, park_code: str) -> list[dict]:
    pid = repo.park_id(store, scope, park_code)
    where, params = _visible(scope)
    rows = store.db.fetchdicts(
        f"SELECT {_COLS} FROM inventories WHERE park_id = ?{where} ORDER BY year, enterprise_id NULLS FIRST, regime,"
        " version",
        [pid, *params],
    )
    codes = {int(i): c for i, c in store.db.fetchall("SELECT id, code FROM enterprises WHERE park_id = ?", (pid,))}
    return [_record(store, r, codes, park_code) for r in rows]


def get(store: Store, scope: Scope, park_code: str, inventory_id: int) -> dict:
    for inv in list_inventories(store, scope, park_code):
        if inv["id"] == inventory_id:
            return inv
    raise NotFound(f"no inventory {inventory_id} in park {park_code!r}")


def result(store: Store, scope: Scope, park_code: str, inventory_id: int, *, with_lines: bool = True) -> dict:
    """The stored result (as computed: totals, breakdowns, lines with traces, factors used)."""
    inv = get(store, scope, park_code, inventory_id)
    row = store.db.fetchone("SELECT result FROM inventories WHERE id = ?", (inventory_id,))
    assert row is not None
    data = json.loads(row[0])
    if scope.role == "regulator" or not with_lines:
        data.pop("lines", None)
        if scope.role == "regulator":
            data.pop("by_enterprise", None)
    return {"inventory": inv, **data}


def _require_owner(scope: Scope, inv_enterprise: int | None) -> None:
    if scope.is_system or scope.role == "operator":
        return
    if scope.is_tenant and inv_enterprise is not None and inv_enterprise == scope.enterprise_id:
        return
    raise Forbidden(f"role {scope.role!r} may not change this inventory")


def create(
    store: Store,
    scope: Scope,
    park_code: str,
    year: int,
    regime: str,
    enterprise_code: str | None = None,
    *,
    reason: str | None = None,
) -> dict:
    """Compute and store a draft; recompute the open draft; or, after a close, a restatement (needs a reason)."""
    scope.require_write()
    res = engine.compute(store, scope, park_code, year, regime, enterprise_code)
    pid = repo.park_id(store, scope, park_code)
    ent_id = (
        None if enterprise_code is None else next(i for i, c in res.enterprise_codes.items() if c == enterprise_code)
    )
    _require_owner(scope, ent_id)
    data = res.canonical_bytes()
    sha = hashlib.sha256(data).hexdigest()
    ent_clause = "enterprise_id IS NULL" if ent_id is None else f"enterprise_id = {int(ent_id)}"
    with store.db.write_lock, store.db.transaction():
        latest = store.db.fetchone(
            f"SELECT id, version, status FROM inventories WHERE park_id = ? AND {ent_clause} AND year = ?"
            " AND regime = ? ORDER BY version DESC LIMIT 1",
            (pid, year, regime),
        )
        now = datetime.now(UTC)
        if latest and latest[2] == "draft":
            inv_id, version = int(latest[0]), int(latest[1])
            store.db.execute("DELETE FROM inventory_lines WHERE inventory_id = ?", (inv_id,))
            store.db.execute(
                "UPDATE inventories SET result = ?, result_sha256 = ? WHERE id = ?", (data.decode(), sha, inv_id)
            )
            action = "recompute"
        elif latest and latest[2] in ("submitted", "verified"):
            raise Conflict(f"inventory {latest[0]} is {latest[2]}; send it back to draft before recomputing")
        else:
            if latest and not reason:
                raise ValidationFailed(f"inventory {latest[0]} is closed; a restatement needs a reason")
            version = int(latest[1]) + 1 if latest else 1
            store.db.execute(
                "INSERT INTO inventories (park_id, enterprise_id, year, regime, version, status, restates_id, reason,"
                " result_sha256, result, created_by, created_at) VALUES (?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?)",
                (
                    pid,
                    ent_id,
                    year,
                    regime,
                    version,
                    latest[0] if latest else None,
                    reason,
                    sha,
                    data.decode(),
                    scope.actor,
                    now,
                ),
            )
            inv_id = int(
                store.db.fetchone(
                    f"SELECT id FROM inventories WHERE park_id = ? AND {ent_clause} AND year = ? AND regime = ?"
                    " AND version = ?",
                    (pid, year, regime, version),
                )[0]
            )  # type: ignore[index]
            action = "restate" if latest else "create"
        _insert_lines(store, inv_id, res.lines)
        _event(store, inv_id, scope, action, reason)
        store.audit(
            scope.actor,
            action,
            "inventories",
            inv_id,
            after={"year": year, "regime": regime, "version": version, "sha256": sha, "totals": res.totals()},
            park_id=pid,
            enterprise_id=ent_id,
        )
    return get(store, Scope.system(), park_code, inv_id)


LINE_COLUMNS = (
    ("inventory_id", pa.int64(), "BIGINT"),
    ("line_no", pa.int32(), "INTEGER"),
    ("enterprise_id", pa.int64(), "BIGINT"),
    ("source_id", pa.int64(), "BIGINT"),
    ("scope", pa.int16(), "SMALLINT"),
    ("category", pa.string(), "TEXT"),
    ("scope2_method", pa.string(), "TEXT"),
    ("gas", pa.string(), "TEXT"),
    ("month", pa.int16(), "SMALLINT"),
    ("activity_amount", pa.float64(), "DOUBLE PRECISION"),
    ("activity_unit", pa.string(), "TEXT"),
    ("emissions_t", pa.float64(), "DOUBLE PRECISION"),
    ("gwp", pa.float64(), "DOUBLE PRECISION"),
    ("tco2e", pa.float64(), "DOUBLE PRECISION"),
    ("trace", pa.string(), "TEXT"),
)


def _insert_lines(store: Store, inv_id: int, lines: list[engine.Line]) -> None:
    """All lines in one set-based insert (a staged Arrow table), inside the caller's transaction."""
    if not lines:
        return
    values = {
        "inventory_id": [inv_id] * len(lines),
        "line_no": list(range(1, len(lines) + 1)),
        "enterprise_id": [ln.enterprise_id for ln in lines],
        "source_id": [ln.source_id for ln in lines],
        "scope": [ln.scope for ln in lines],
        "category": [ln.category for ln in lines],
        "scope2_method": [ln.scope2_method for ln in lines],
        "gas": [ln.gas for ln in lines],
        "month": [ln.month for ln in lines],
        "activity_amount": [ln.activity_amount for ln in lines],
        "activity_unit": [ln.activity_unit for ln in lines],
        "emissions_t": [ln.emissions_t for ln in lines],
        "gwp": [ln.gwp for ln in lines],
        "tco2e": [ln.tco2e for ln in lines],
        "trace": [json.dumps({"source": ln.source, **ln.trace}, sort_keys=True, ensure_ascii=False) for ln in lines],
    }
    table = pa.table({name: pa.array(values[name], typ) for name, typ, _ in LINE_COLUMNS})
    ddl = ", ".join(f"{name} {sql}" for name, _, sql in LINE_COLUMNS)
    cols = ", ".join(name for name, _, _ in LINE_COLUMNS)
    with store.db.staged("pz_new_lines", table, ddl):
        store.db.execute(f"INSERT INTO inventory_lines ({cols}) SELECT {cols} FROM pz_new_lines")


def _event(store: Store, inv_id: int, scope: Scope, action: str, body: str | None, evidence: int | None = None):
    store.db.execute(
        "INSERT INTO inventory_events (inventory_id, logged_at, actor, role, action, body, evidence_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (inv_id, datetime.now(UTC), scope.actor, scope.role, action, body, evidence),
    )


def transition(
    store: Store,
    scope: Scope,
    park_code: str,
    inventory_id: int,
    action: str,
    comment: str | None = None,
    evidence_id: int | None = None,
) -> dict:
    """submit | verify | reject | close, with the role checks of the lifecycle (`parkzero.review`)."""
    review.check_step(scope, action, TRANSITIONS, None, comment, f"inventory {inventory_id}")
    inv = get(store, scope, park_code, inventory_id)
    if action not in review.REVIEW_ACTIONS:
        _require_owner(scope, inv["enterprise_id"])
    target = review.check_step(scope, action, TRANSITIONS, inv["status"], comment, f"inventory {inventory_id}")
    with store.db.write_lock, store.db.transaction():
        now = datetime.now(UTC)
        store.db.execute(
            "UPDATE inventories SET status = ?, closed_at = ? WHERE id = ? AND status = ?",
            (target, now if target == "closed" else None, inventory_id, inv["status"]),
        )
        if target == "closed":
            used = json.loads(
                store.db.fetchone(
                    "SELECT result FROM inventories WHERE id = ?",  # type: ignore[index]
                    (inventory_id,),
                )[0]
            )["factors_used"]
            library.lock_sets(store, {(f["set"], f["version"]) for f in used})
        _event(store, inventory_id, scope, action, comment, evidence_id)
        store.audit(
            scope.actor,
            action,
            "inventories",
            inventory_id,
            before={"status": inv["status"]},
            after={"status": target, "comment": comment},
            park_id=inv["park_id"],
            enterprise_id=inv["enterprise_id"],
        )
    return get(store, Scope.system(), park_code, inventory_id)


def comment(
    store: Store, scope: Scope, park_code: str, inventory_id: int, body: str, evidence_id: int | None = None
) -> dict:
    inv = get(store, scope, park_code, inventory_id)
    if scope.role not in ("verifier", "operator", "enterprise", "system"):
        raise Forbidden(f"role {scope.role!r} may not comment")
    if not body:
        raise ValidationFailed("a comment needs a text")
    with store.db.write_lock, store.db.transaction():
        _event(store, inv["id"], scope, "comment", body, evidence_id)
    return {"inventory": inv["id"], "comment": body}


def events(store: Store, scope: Scope, park_code: str, inventory_id: int) -> list[dict]:
    get(store, scope, park_code, inventory_id)
    return store.db.fetchdicts(
        "SELECT logged_at, actor, role, action, body, evidence_id FROM inventory_events WHERE inventory_id = ?"
        " ORDER BY id",
        (inventory_id,),
    )


def lines(store: Store, scope: Scope, park_code: str, inventory_id: int) -> list[dict]:
    inv = get(store, scope, park_code, inventory_id)
    if scope.role == "regulator":
        raise Forbidden("a regulator sees the park's totals, not its lines")
    rows = store.db.fetchdicts(
        "SELECT line_no, enterprise_id, scope, category, scope2_method, gas, month, activity_amount, activity_unit,"
        " emissions_t, gwp, tco2e, trace FROM inventory_lines WHERE inventory_id = ? ORDER BY line_no",
        (inv["id"],),
    )
    for r in rows:
        r["trace"] = json.loads(r["trace"])
        r["source"] = r["trace"].pop("source")
    return rows


def explain(store: Store, scope: Scope, park_code: str, inventory_id: int, line_no: int) -> dict:
    """Line -> activity (channels and readings, or manual entries and evidence) -> factors -> formula."""
    for ln in lines(store, scope, park_code, inventory_id):
        if ln["line_no"] == line_no:
            return ln
    raise NotFound(f"inventory {inventory_id} has no line {line_no}")
