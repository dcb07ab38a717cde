"""Targets and recognitions of a park, kept in the store, in the caller's scope.

A park-level target or recognition (no enterprise) is the operator's; an enterprise's is that enterprise's (its
own user or the operator may record it). Who sees what:

- an enterprise user sees its own targets and recognitions only;
- the operator and a verifier of the park see all of the park's targets and recognitions;
- a regulator sees the park's own targets (a tenant's target is judged on the tenant's inventories, which a
  regulator does not see) and all its recognitions (the authorities' published lists); a district regulator (no
  park) sees every park's.

Writes are all-or-nothing, checked by the same rules as the files (`targets.validate_target` for a planned
target, `evaluations` for a recognition) and audited.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime

from parkzero.errors import Conflict, Forbidden, NotFound, ValidationFailed
from parkzero.pathway import evaluations
from parkzero.pathway.targets import Target, validate_target
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store

_TARGET_COLS = "id, park_id, enterprise_id, code, kind, target_year, base_year, value, unit, source, note"
_RECOGNITION_COLS = "id, park_id, enterprise_id, kind, level, year, issuer, list_name, product, evidence, notes"


def _visible(scope: Scope, *, park_level_for_regulator: bool = False) -> tuple[str, list]:
    if scope.role == "partner":
        return " AND 1 = 0", []
    where, params = scope.sql_filter("park_id", "enterprise_id")
    if park_level_for_regulator and scope.role == "regulator":
        where += " AND enterprise_id IS NULL"
    return where, params


def _holder_id(store: Store, scope: Scope, park_code: str, holder: str) -> tuple[int, int | None]:
    """(park id, enterprise id or None for the park itself) of a holder code; the caller must own it."""
    pid = repo.park_id(store, scope, park_code)
    if holder == park_code:
        ent_id = None
    else:
        row = store.db.fetchone("SELECT id FROM enterprises WHERE park_id = ? AND code = ?", (pid, holder))
        if row is None:
            raise ValidationFailed(f"no enterprise {holder!r} in park {park_code!r}")
        ent_id = int(row[0])
    scope.require_write()
    if scope.is_tenant and ent_id != scope.enterprise_id:
        raise Forbidden("an enterprise user may record only its own targets and recognitions")
    return pid, ent_id


def _codes(store: Store, pid: int) -> dict[int, str]:
    return {int(i): c for i, c in store.db.fetchall("SELECT id, code FROM enterprises WHERE park_id = ?", (pid,))}


# -- targets ---------------------------------------------------------------------------------------------
def _target(row: dict, park_code: str, codes: dict[int, str]) -> Target:
    subject = park_code if row["enterprise_id"] is None else codes[int(row["enterprise_id"])]
    return Target(
        code=row["code"], subject=subject, kind=row["kind"], target_year=int(row["target_year"]),
        base_year=None if row["base_year"] is None else int(row["base_year"]),
        value=None if row["value"] is None else float(row["value"]), unit=row["unit"], source=row["source"],
        note=row["note"],
    )  # fmt: skip


def list_targets(store: Store, scope: Scope, park_code: str) -> list[Target]:
    """The park's targets the caller may see (subject: the park code or the enterprise code)."""
    pid = repo.park_id(store, scope, park_code)
    where, params = _visible(scope, park_level_for_regulator=True)
    rows = store.db.fetchdicts(
        f"SELECT {_TARGET_COLS} FROM targets WHERE park_id = ?{where} ORDER BY target_year, code", [pid, *params]
    )
    codes = _codes(store, pid)
    return [_target(r, park_code, codes) for r in rows]


def add_target(store: Store, scope: Scope, park_code: str, target: Target, *, today_year: int | None = None) -> Target:
    """Record a planned target of the park (subject = park code) or of one of its enterprises.

    Raises
    ------
    ValidationFailed
        A field is wrong or the target year is already past (`today_year`, default this year), naming the field.
    Conflict
        The park holds a target of that code already.
    """
    pid, ent_id = _holder_id(store, scope, park_code, target.subject)
    validate_target(target, today_year or datetime.now(UTC).year)
    with store.db.write_lock, store.db.transaction():
        if store.db.fetchone("SELECT 1 FROM targets WHERE park_id = ? AND code = ?", (pid, target.code)):
            raise Conflict(f"park {park_code!r} has a target {target.code!r} already")
        store.db.execute(
            "INSERT INTO targets (park_id, enterprise_id, code, kind, target_year, base_year, value, unit, source, note,"
            " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (pid, ent_id, target.code, target.kind, target.target_year, target.base_year, target.value, target.unit,
             target.source, target.note, scope.actor, datetime.now(UTC)),
        )  # fmt: skip
        store.audit(scope.actor, "create", "targets", target.code, after=asdict(target), park_id=pid,
                    enterprise_id=ent_id)  # fmt: skip
    return target


def delete_target(store: Store, scope: Scope, park_code: str, code: str) -> None:
    """Withdraw a target (its owner or the operator); NotFound where the caller cannot see it."""
    pid = repo.park_id(store, scope, park_code)
    where, params = _visible(scope)
    rows = store.db.fetchdicts(
        f"SELECT {_TARGET_COLS} FROM targets WHERE park_id = ? AND code = ?{where}", [pid, code, *params]
    )
    if not rows:
        raise NotFound(f"no target {code!r} in park {park_code!r}")
    scope.require_write()
    with store.db.write_lock, store.db.transaction():
        store.db.execute("DELETE FROM targets WHERE id = ?", (rows[0]["id"],))
        store.audit(scope.actor, "delete", "targets", code, before=json.loads(json.dumps(rows[0], default=str)),
                    park_id=pid, enterprise_id=rows[0]["enterprise_id"])  # fmt: skip


# -- recognitions ----------------------------------------------------------------------------------------
def _recognition(row: dict, park_code: str, codes: dict[int, str]) -> evaluations.Recognition:
    holder = park_code if row["enterprise_id"] is None else codes[int(row["enterprise_id"])]
    return evaluations.Recognition(
        park=park_code, holder=holder, kind=row["kind"], level=row["level"], year=int(row["year"]),
        issuer=row["issuer"], evidence=tuple(json.loads(row["evidence"])), list_name=row["list_name"],
        product=row["product"], notes=row["notes"],
    )  # fmt: skip


def _as_dict(recognition_id: int, rec: evaluations.Recognition) -> dict:
    return {"id": int(recognition_id), **asdict(rec), "evidence": list(rec.evidence)}


def _held(store: Store, scope: Scope, park_code: str) -> list[tuple[int, evaluations.Recognition]]:
    """(id, recognition) of the park's recognitions the caller may see, oldest list first."""
    pid = repo.park_id(store, scope, park_code)
    where, params = _visible(scope)
    rows = store.db.fetchdicts(
        f"SELECT {_RECOGNITION_COLS} FROM recognitions WHERE park_id = ?{where} ORDER BY year, kind, id",
        [pid, *params],
    )
    codes = _codes(store, pid)
    return [(int(r["id"]), _recognition(r, park_code, codes)) for r in rows]


def list_recognitions(store: Store, scope: Scope, park_code: str) -> list[dict]:
    """The park's recognitions the caller may see, oldest list first."""
    return [_as_dict(i, rec) for i, rec in _held(store, scope, park_code)]


def add_recognition(store: Store, scope: Scope, park_code: str, fields: dict) -> dict:
    """Record one recognition (fields as in `evaluations.Recognition`; ``park`` defaults to `park_code`).

    Raises
    ------
    ValidationFailed
        A field is wrong (named), or the park already holds the same recognition.
    """
    repo.park_id(store, scope, park_code)  # a park the caller cannot see is not found, whatever the fields
    raw = {"park": park_code, **fields}
    if raw["park"] != park_code:
        raise ValidationFailed(f"the recognition names park {raw['park']!r}, not {park_code!r}")
    registry = evaluations.RecognitionRegistry([rec for _, rec in _held(store, Scope.system(), park_code)])
    rec = registry.add(raw)  # checks every field and refuses a duplicate
    pid, ent_id = _holder_id(store, scope, park_code, rec.holder)
    with store.db.write_lock, store.db.transaction():
        store.db.execute(
            "INSERT INTO recognitions (park_id, enterprise_id, kind, level, year, issuer, list_name, product, evidence,"
            " notes, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (pid, ent_id, rec.kind, rec.level, rec.year, rec.issuer, rec.list_name, rec.product,
             json.dumps(list(rec.evidence), ensure_ascii=False), rec.notes, scope.actor, datetime.now(UTC)),
        )  # fmt: skip
        new_id = store.db.fetchone(
            "SELECT max(id) FROM recognitions WHERE park_id = ? AND kind = ? AND year = ?", (pid, rec.kind, rec.year)
        )[0]  # type: ignore[index]
        store.audit(scope.actor, "create", "recognitions", int(new_id), after={**asdict(rec)}, park_id=pid,
                    enterprise_id=ent_id)  # fmt: skip
    return _as_dict(new_id, rec)


def import_recognitions(store: Store, scope: Scope, park_code: str, text: str, source: str) -> list[dict]:
    """Record every recognition of a JSON registry file of one park, all or none (each problem named by row)."""
    incoming = evaluations.RecognitionRegistry.from_json(text, source)
    others = sorted({r.park for r in incoming.recognitions} - {park_code})
    if others:
        raise ValidationFailed(f"{source}: recognitions of other parks ({', '.join(others)}); import one park's")
    with store.db.write_lock, store.db.transaction():
        return [add_recognition(store, scope, park_code, {**asdict(r), "evidence": list(r.evidence)})
                for r in incoming.recognitions]  # fmt: skip


def delete_recognition(store: Store, scope: Scope, park_code: str, recognition_id: int) -> None:
    """Withdraw a recognition recorded by mistake (its holder or the operator)."""
    held = {r["id"]: r for r in list_recognitions(store, scope, park_code)}
    if recognition_id not in held:
        raise NotFound(f"no recognition {recognition_id} in park {park_code!r}")
    pid, ent_id = _holder_id(store, scope, park_code, held[recognition_id]["holder"])
    with store.db.write_lock, store.db.transaction():
        store.db.execute("DELETE FROM recognitions WHERE id = ?", (recognition_id,))
        store.audit(scope.actor, "delete", "recognitions", recognition_id, before=held[recognition_id], park_id=pid,
                    enterprise_id=ent_id)  # fmt: skip


__all__ = [
    "add_recognition",
    "add_target",
    "delete_recognition",
    "delete_target",
    "import_recognitions",
    "list_recognitions",
    "list_targets",
]
