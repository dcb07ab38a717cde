"""Registry CRUD, scoped and audited. Every function takes the caller's Scope and enforces it here.

Records go in and come out as dicts with references by code (see `model`). Writes are all-or-nothing and
each one appends to the audit log with the record before and after.
"""

from __future__ import annotations

from dataclasses import dataclass

from parkzero.errors import Conflict, Forbidden, Issue, NotFound, ValidationFailed
from parkzero.registry.model import ENTITIES, PARK_FIELDS, from_column, normalise, require_valid, to_column
from parkzero.registry.scope import Scope
from parkzero.store import Store


# -- parks -----------------------------------------------------------------------------------------
def list_parks(store: Store, scope: Scope) -> list[dict]:
    where, params = ("", [])
    if not scope.is_system and scope.park_id is not None:
        where, params = " WHERE id = ?", [scope.park_id]
    if scope.role == "partner":
        return []
    cols = ", ".join(("id", *PARK_FIELDS))
    return store.db.fetchdicts(f"SELECT {cols} FROM parks{where} ORDER BY code", params)


def get_park(store: Store, scope: Scope, park_code: str) -> dict:
    for park in list_parks(store, scope):
        if park["code"] == park_code:
            return park
    raise NotFound(f"no park {park_code!r}")


def park_id(store: Store, scope: Scope, park_code: str) -> int:
    return int(get_park(store, scope, park_code)["id"])


def create_park(store: Store, scope: Scope, record: dict) -> dict:
    scope.require_operator()
    if scope.park_id is not None:
        raise Forbidden("an operator of one park may not create another park")
    record = {k: record.get(k) for k in PARK_FIELDS}
    require_valid("parks", record)
    with store.db.write_lock, store.db.transaction():
        if store.db.fetchone("SELECT 1 FROM parks WHERE code = ?", (record["code"],)):
            raise Conflict(f"park {record['code']!r} exists already")
        cols = ", ".join(PARK_FIELDS)
        store.db.execute(
            f"INSERT INTO parks ({cols}) VALUES ({', '.join('?' * len(PARK_FIELDS))})",
            [record[k] for k in PARK_FIELDS],
        )
        created = get_park(store, Scope.system(), record["code"])
        store.audit(scope.actor, "create", "parks", created["id"], after=created, park_id=created["id"])
    return created


def update_park(store: Store, scope: Scope, park_code: str, changes: dict) -> dict:
    scope.require_operator()
    before = get_park(store, scope, park_code)
    after = {**before, **{k: v for k, v in changes.items() if k in PARK_FIELDS and k != "code"}}
    require_valid("parks", after)
    with store.db.write_lock, store.db.transaction():
        sets = ", ".join(f"{k} = ?" for k in PARK_FIELDS if k != "code")
        store.db.execute(
            f"UPDATE parks SET {sets} WHERE id = ?",
            [after[k] for k in PARK_FIELDS if k != "code"] + [before["id"]],
        )
        store.audit(scope.actor, "update", "parks", before["id"], before=before, after=after, park_id=before["id"])
    return after


# -- park members ----------------------------------------------------------------------------------
@dataclass
class _Codes:
    """id <-> code lookups for the references of one park."""

    store: Store
    park: int
    _by_kind: dict[str, dict[int, str]] | None = None

    def _load(self) -> dict[str, dict[int, str]]:
        if self._by_kind is None:
            self._by_kind = {}
            for kind in ENTITIES:
                rows = self.store.db.fetchall(f"SELECT id, code FROM {kind} WHERE park_id = ?", (self.park,))
                self._by_kind[kind] = {int(i): c for i, c in rows}
        return self._by_kind

    def code(self, kind: str, id_: int | None) -> str | None:
        return None if id_ is None else self._load()[kind].get(int(id_))

    def id(self, kind: str, code: str | None, *, what: str) -> int | None:
        if code in (None, ""):
            return None
        for i, c in self._load()[kind].items():
            if c == code:
                return i
        raise ValidationFailed(
            f"{what}: no {kind[:-1]} {code!r} in this park",
            issues=[Issue(f"unknown {kind[:-1]} {code!r}", column=what)],
        )

    def forget(self) -> None:
        self._by_kind = None


def _row_to_record(kind: str, row: dict, codes: _Codes) -> dict:
    spec = ENTITIES[kind]
    out: dict = {"id": row["id"]}
    for col in spec.fields:
        out[col] = from_column(kind, col, row[col])
    for ref, ref_kind in spec.refs.items():
        out[ref] = codes.code(ref_kind, row[f"{ref}_id"])
    return out


def _select(kind: str) -> str:
    spec = ENTITIES[kind]
    cols = ["id", "park_id", *spec.fields, *(f"{r}_id" for r in spec.refs)]
    if spec.owner == "enterprise_id" and "enterprise" not in spec.refs:
        cols.append("enterprise_id")
    return ", ".join(dict.fromkeys(cols))


def list_entities(store: Store, scope: Scope, kind: str, park_code: str) -> list[dict]:
    spec = _spec(kind)
    pid = park_id(store, scope, park_code)
    owner = spec.owner or "NULL"
    where, params = scope.sql_filter("park_id", owner) if spec.owner else _park_only(scope)
    rows = store.db.fetchdicts(
        f"SELECT {_select(kind)} FROM {kind} WHERE park_id = ?{where} ORDER BY code", [pid, *params]
    )
    codes = _Codes(store, pid)
    return [_row_to_record(kind, r, codes) for r in rows]


def get_entity(store: Store, scope: Scope, kind: str, park_code: str, code: str) -> dict:
    for rec in list_entities(store, scope, kind, park_code):
        if rec["code"] == code:
            return rec
    raise NotFound(f"no {kind[:-1]} {code!r} in park {park_code!r} (or not visible to you)")


def create_entity(store: Store, scope: Scope, kind: str, park_code: str, record: dict) -> dict:
    spec = _spec(kind)
    pid = park_id(store, scope, park_code)
    with store.db.write_lock, store.db.transaction():
        codes = _Codes(store, pid)
        _insert(store, scope, kind, pid, record, codes)
        created = get_entity(store, Scope.system(), kind, park_code, record["code"])
        store.audit(
            scope.actor,
            "create",
            kind,
            created["id"],
            after=created,
            park_id=pid,
            enterprise_id=_owner_of(spec, created, codes),
        )
    return created


def _insert(store: Store, scope: Scope, kind: str, pid: int, record: dict, codes: _Codes) -> int:
    spec = ENTITIES[kind]
    record = normalise(kind, {k: v for k, v in record.items() if k in (*spec.fields, *spec.refs)})
    require_valid(kind, record)
    ref_ids = {f"{r}_id": codes.id(rk, record.get(r), what=r) for r, rk in spec.refs.items()}
    if kind == "channels" and ref_ids.get("enterprise_id") is None and ref_ids.get("meter_id") is not None:
        row = store.db.fetchone("SELECT enterprise_id, building_id FROM meters WHERE id = ?", (ref_ids["meter_id"],))
        if row:  # a channel belongs to its meter's tenant unless it says otherwise
            ref_ids["enterprise_id"] = row[0]
            ref_ids["building_id"] = ref_ids.get("building_id") or row[1]
    owner = ref_ids.get("enterprise_id")
    _require_write(scope, spec, pid, owner)
    if store.db.fetchone(f"SELECT 1 FROM {kind} WHERE park_id = ? AND code = ?", (pid, record["code"])):
        raise Conflict(f"{kind[:-1]} {record['code']!r} exists already in this park")
    if kind == "channels" and ref_ids.get("parent_id") is not None:
        _check_parent(store, record, ref_ids["parent_id"])
    values = {"park_id": pid, **{c: to_column(kind, c, record.get(c)) for c in spec.fields}, **ref_ids}
    cols = ", ".join(values)
    store.db.execute(f"INSERT INTO {kind} ({cols}) VALUES ({', '.join('?' * len(values))})", list(values.values()))
    codes.forget()
    row = store.db.fetchone(f"SELECT id FROM {kind} WHERE park_id = ? AND code = ?", (pid, record["code"]))
    assert row is not None
    return int(row[0])


def update_entity(store: Store, scope: Scope, kind: str, park_code: str, code: str, changes: dict) -> dict:
    spec = _spec(kind)
    pid = park_id(store, scope, park_code)
    before = get_entity(store, scope, kind, park_code, code)
    if "code" in changes and changes["code"] != code:
        raise ValidationFailed("a code cannot change; create a new record instead")
    merged = {**before, **{k: v for k, v in changes.items() if k in (*spec.fields, *spec.refs)}}
    merged = normalise(kind, merged)
    require_valid(kind, merged)
    with store.db.write_lock, store.db.transaction():
        codes = _Codes(store, pid)
        ref_ids = {f"{r}_id": codes.id(rk, merged.get(r), what=r) for r, rk in spec.refs.items()}
        _require_write(scope, spec, pid, _owner_of(spec, before, codes))
        _require_write(scope, spec, pid, ref_ids.get("enterprise_id", _owner_of(spec, before, codes)))
        if kind == "channels" and ref_ids.get("parent_id") is not None:
            _check_parent(store, merged, ref_ids["parent_id"], self_id=before["id"])
        values = {**{c: to_column(kind, c, merged.get(c)) for c in spec.fields if c != "code"}, **ref_ids}
        sets = ", ".join(f"{c} = ?" for c in values)
        store.db.execute(f"UPDATE {kind} SET {sets} WHERE id = ?", [*values.values(), before["id"]])
        after = get_entity(store, Scope.system(), kind, park_code, code)
        store.audit(
            scope.actor,
            "update",
            kind,
            before["id"],
            before=before,
            after=after,
            park_id=pid,
            enterprise_id=_owner_of(spec, after, codes),
        )
    return after


_DEPENDENTS = {
    "zones": [("buildings", "zone_id")],
    "buildings": [
        ("enterprises", "building_id"),
        ("meters", "building_id"),
        ("assets", "building_id"),
        ("channels", "building_id"),
    ],
    "enterprises": [
        ("meters", "enterprise_id"),
        ("channels", "enterprise_id"),
        ("assets", "enterprise_id"),
        ("products", "enterprise_id"),
        ("users", "enterprise_id"),
    ],
    "assets": [("channels", "asset_id")],
    "meters": [("channels", "meter_id")],
    "channels": [("channels", "parent_id"), ("readings", "channel_id")],
    "products": [],
}


def delete_entity(store: Store, scope: Scope, kind: str, park_code: str, code: str) -> None:
    """Delete a record nothing refers to; a channel with readings is never deleted (history is kept)."""
    spec = _spec(kind)
    pid = park_id(store, scope, park_code)
    before = get_entity(store, scope, kind, park_code, code)
    with store.db.write_lock, store.db.transaction():
        codes = _Codes(store, pid)
        _require_write(scope, spec, pid, _owner_of(spec, before, codes))
        for table, col in _DEPENDENTS[kind]:
            if store.db.fetchone(f"SELECT 1 FROM {table} WHERE {col} = ? LIMIT 1", (before["id"],)):
                raise Conflict(f"{kind[:-1]} {code!r} is still referred to by {table}; remove those first")
        store.db.execute(f"DELETE FROM {kind} WHERE id = ?", (before["id"],))
        store.audit(
            scope.actor,
            "delete",
            kind,
            before["id"],
            before=before,
            park_id=pid,
            enterprise_id=_owner_of(spec, before, codes),
        )


# -- helpers ---------------------------------------------------------------------------------------
def _spec(kind: str):
    try:
        return ENTITIES[kind]
    except KeyError:
        raise NotFound(f"no registry kind {kind!r}; kinds: parks, {', '.join(ENTITIES)}") from None


def _park_only(scope: Scope) -> tuple[str, list]:
    if scope.role == "partner":
        return " AND 1 = 0", []
    return "", []


def _owner_of(spec, record: dict, codes: _Codes) -> int | None:
    if spec.owner == "id":
        return record.get("id")
    if spec.owner == "enterprise_id":
        ent = record.get("enterprise")
        return codes.id("enterprises", ent, what="enterprise") if ent else None
    return None


def _require_write(scope: Scope, spec, pid: int, owner: int | None) -> None:
    if scope.is_system:
        return
    if scope.park_id is not None and scope.park_id != pid:
        raise Forbidden("this park is not yours")
    if scope.role == "operator":
        return
    if scope.role == "enterprise" and spec.tenant_writable and owner is not None and owner == scope.enterprise_id:
        return
    raise Forbidden(f"role {scope.role!r} may not change {spec.kind}")


def _check_parent(store: Store, record: dict, parent_id: int, self_id: int | None = None) -> None:
    """A parent channel measures the same quantity, and the sub-meter tree has no cycle."""
    row = store.db.fetchone("SELECT quantity_kind, parent_id, code FROM channels WHERE id = ?", (parent_id,))
    assert row is not None
    if row[0] != record.get("quantity_kind"):
        raise ValidationFailed(
            f"channel {record.get('code')!r}: parent {row[2]!r} measures {row[0]}, not {record.get('quantity_kind')}"
        )
    seen = {self_id}
    cur = parent_id
    while cur is not None:
        if cur in seen:
            raise ValidationFailed(f"channel {record.get('code')!r}: the sub-meter hierarchy would form a cycle")
        seen.add(cur)
        nxt = store.db.fetchone("SELECT parent_id FROM channels WHERE id = ?", (cur,))
        cur = nxt[0] if nxt else None


@dataclass(frozen=True)
class ChannelInfo:
    id: int
    code: str
    park_id: int
    quantity_kind: str
    unit: str
    interval_s: int
    behaviour: str
    enterprise_id: int | None
    purpose: str | None


def channel_index(store: Store, scope: Scope, park_code: str | None = None) -> dict[str, ChannelInfo]:
    """Channels visible in `scope` by code (within one park, or all parks when park_code is None)."""
    where, params = scope.sql_filter("c.park_id", "c.enterprise_id")
    if park_code is not None:
        where += " AND p.code = ?"
        params.append(park_code)
    rows = store.db.fetchall(
        "SELECT c.id, c.code, c.park_id, c.quantity_kind, c.unit, c.interval_s, c.behaviour, c.enterprise_id,"
        f" c.purpose FROM channels c JOIN parks p ON p.id = c.park_id WHERE 1 = 1{where}",
        params,
    )
    return {r[1]: ChannelInfo(*r) for r in rows}
