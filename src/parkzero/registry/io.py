"""Import and export of the whole registry as one document (JSON), references by code.

    {"format": "parkzero-registry", "version": 1, "parks": [{..park fields..,
        "zones": [...], "buildings": [...], "enterprises": [...], "assets": [...],
        "meters": [{..., "channels": [...]}], "products": [...]}]}

Import is all-or-nothing: a document with any problem writes nothing and lists every problem found.
Existing records (same code) are updated where they differ, so importing an export is a no-op.
"""

from __future__ import annotations

import json
from pathlib import Path

from parkzero.errors import Issue, ParkzeroError, ValidationFailed
from parkzero.registry import repo
from parkzero.registry.model import ENTITIES, PARK_FIELDS, validate
from parkzero.registry.scope import Scope
from parkzero.store import Store

FORMAT = "parkzero-registry"
_ORDER = ("zones", "buildings", "enterprises", "assets", "meters", "channels", "products")


def export_registry(store: Store, scope: Scope, park_code: str | None = None) -> dict:
    parks = [p for p in repo.list_parks(store, scope) if park_code in (None, p["code"])]
    out = []
    for park in parks:
        doc = {k: park[k] for k in PARK_FIELDS}
        for kind in ("zones", "buildings", "enterprises", "assets", "products"):
            doc[kind] = [_strip(r) for r in repo.list_entities(store, scope, kind, park["code"])]
        channels = repo.list_entities(store, scope, "channels", park["code"])
        meters = []
        for meter in repo.list_entities(store, scope, "meters", park["code"]):
            m = _strip(meter)
            m["channels"] = [
                _strip({k: v for k, v in c.items() if k != "meter"}) for c in channels if c["meter"] == meter["code"]
            ]
            meters.append(m)
        doc["meters"] = meters
        out.append(doc)
    return {"format": FORMAT, "version": 1, "parks": out}


def _strip(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "id" and v is not None}


def read_document(path: Path) -> dict:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ParkzeroError(f"{path}: cannot read the registry file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            f"{path}: not valid JSON", issues=[Issue(exc.msg, file=str(path), row=exc.lineno)]
        ) from None
    return doc


def import_registry(store: Store, scope: Scope, doc: dict) -> dict[str, int]:
    """Create or update everything in `doc`; returns counts of created and updated records per kind."""
    scope.require_operator()
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValidationFailed(f"not a registry document: 'format' must be {FORMAT!r}")
    if doc.get("version") != 1:
        raise ValidationFailed(f"registry document version {doc.get('version')!r} is not supported (1 is)")
    issues = _precheck(doc)
    if issues:
        raise ValidationFailed("the registry document has problems; nothing was imported", issues=issues)
    counts: dict[str, int] = {}
    with store.db.write_lock, store.db.transaction():
        for park in doc.get("parks", []):
            _import_park(store, scope, park, counts)
    return counts


def _precheck(doc: dict) -> list[Issue]:
    issues: list[Issue] = []
    for i, park in enumerate(doc.get("parks") or []):
        issues += validate("parks", {k: park.get(k) for k in PARK_FIELDS}, where=f" (parks[{i}])")
        seen: set[tuple[str, str]] = set()
        for kind, rec, where in _records(park):
            issues += validate(kind, rec, where=where)
            key = (kind, str(rec.get("code")))
            if key in seen:
                issues.append(Issue(f"{kind[:-1]} {rec.get('code')!r} appears twice{where}", column="code"))
            seen.add(key)
    return issues


def _records(park: dict):
    for kind in _ORDER:
        if kind == "channels":
            for m in park.get("meters") or []:
                for j, ch in enumerate(m.get("channels") or []):
                    yield (
                        "channels",
                        {**ch, "meter": m.get("code")},
                        f" (meter {m.get('code')} channels[{j}])",
                    )
        else:
            for j, rec in enumerate(park.get(kind) or []):
                yield kind, ({k: v for k, v in rec.items() if k != "channels"}), f" ({kind}[{j}])"


def _import_park(store: Store, scope: Scope, park: dict, counts: dict[str, int]) -> None:
    code = park["code"]
    existing = {p["code"] for p in repo.list_parks(store, Scope.system())}
    fields = {k: park.get(k) for k in PARK_FIELDS}
    if code not in existing:
        repo.create_park(store, scope, fields)
        counts["parks.created"] = counts.get("parks.created", 0) + 1
    pid = repo.park_id(store, scope, code)
    codes = repo._Codes(store, pid)
    parents: list[tuple[str, dict]] = []
    for kind, rec, _where in _records(park):
        if kind == "channels" and rec.get("parent"):
            parents.append((rec["code"], rec))
            rec = {k: v for k, v in rec.items() if k != "parent"}
        try:
            have = codes.id(kind, rec["code"], what="code")
        except ValidationFailed:
            have = None
        if have is None:
            new_id = repo._insert(store, scope, kind, pid, rec, codes)
            store.audit(scope.actor, "create", kind, new_id, after=rec, park_id=pid)
            counts[f"{kind}.created"] = counts.get(f"{kind}.created", 0) + 1
        else:
            current = repo.get_entity(store, Scope.system(), kind, code, rec["code"])
            spec = ENTITIES[kind]
            wanted = {k: v for k, v in rec.items() if k in (*spec.fields, *spec.refs) and k != "parent"}
            if any(current.get(k) != v for k, v in wanted.items()):
                repo.update_entity(store, scope, kind, code, rec["code"], wanted)
                counts[f"{kind}.updated"] = counts.get(f"{kind}.updated", 0) + 1
    for ch_code, rec in parents:
        current = repo.get_entity(store, Scope.system(), "channels", code, ch_code)
        if current.get("parent") != rec["parent"]:
            repo.update_entity(store, scope, "channels", code, ch_code, {"parent": rec["parent"]})
