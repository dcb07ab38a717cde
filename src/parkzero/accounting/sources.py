"""Emission sources, manual activity entries and their evidence files. Scoped and audited.

An emission source turns the activity of one enterprise (or of the park operator, enterprise None) into
emissions: it names its scope and category, a method (see `METHODS`), the factor it uses (`factor_ref`) and the
canonical unit of its activity. Its activity is the sum of its channels' readings, plus manual entries (each
with a period, an amount in any known unit and, where there is one, an evidence file).

Checks made when a source is saved: the method fits the scope, the factor exists in the library (an unknown
fuel is named), the factor's unit fits the activity unit, and every channel belongs to the enterprise and
measures in the activity unit. Manual entries must be positive and lie within one calendar year of the park.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from parkzero.errors import Conflict, Issue, NotFound, ValidationFailed
from parkzero.factors import library
from parkzero.factors.units import activity_family, parse_factor_unit
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store
from parkzero.units import conversion_factor

SCOPE1_CATEGORIES = ("stationary_combustion", "mobile_combustion", "process", "fugitive")
SCOPE2_CATEGORIES = ("electricity", "heat", "steam")
SCOPE3_CATEGORIES = {
    "1": "Purchased goods and services",
    "2": "Capital goods",
    "3": "Fuel- and energy-related activities",
    "4": "Upstream transportation and distribution",
    "5": "Waste generated in operations",
    "6": "Business travel",
    "7": "Employee commuting",
    "8": "Upstream leased assets",
    "9": "Downstream transportation and distribution",
    "10": "Processing of sold products",
    "11": "Use of sold products",
    "12": "End-of-life treatment of sold products",
    "13": "Downstream leased assets",
    "14": "Franchises",
    "15": "Investments",
}
# method -> (scopes it serves, what factor_ref names)
METHODS = {
    "combustion": ((1,), "a fuel of the cn-fuels set, e.g. fuel.natural_gas"),
    "process": ((1,), "a process factor, e.g. process.limestone"),
    "refrigerant": ((1,), "a refrigerant, e.g. refrigerant.r-410a"),
    "activity": ((1, 3), "an emission factor per activity unit, e.g. transport.freight.hgv_average"),
    "spend": ((3,), "a spend-based factor, e.g. spend.steel_products (params.usd_per_cny for CNY spend)"),
    "electricity": ((2,), "grid (set by the regime); factor_ref 'grid'"),
    "heat": ((2,), "purchased heat (set by the regime); factor_ref 'grid'"),
    "steam": ((2,), "steam enthalpy, e.g. steam.saturated (heat factor set by the regime)"),
}
FIELDS = (
    "code",
    "name",
    "name_zh",
    "enterprise",
    "building",
    "scope",
    "category",
    "method",
    "factor_ref",
    "activity_unit",
    "channels",
    "params",
)


@dataclass(frozen=True)
class Source:
    id: int
    park_id: int
    enterprise_id: int | None
    building_id: int | None
    code: str
    name: str
    scope: int
    category: str
    method: str
    factor_ref: str
    activity_unit: str
    params: dict
    channel_ids: tuple[int, ...]

    @property
    def what(self) -> str:
        return f"source {self.code}"


def _owner_filter(scope: Scope) -> tuple[str, list]:
    return scope.sql_filter("s.park_id", "s.enterprise_id")


def load_sources(store: Store, scope: Scope, park_id: int, enterprise_id: int | None | str = "all") -> list[Source]:
    """Sources visible in `scope` (all of the park, or one enterprise's; None = the operator's own)."""
    where, params = _owner_filter(scope)
    if enterprise_id is None:
        where += " AND s.enterprise_id IS NULL"
    elif enterprise_id != "all":
        where += " AND s.enterprise_id = ?"
        params.append(enterprise_id)
    rows = store.db.fetchall(
        "SELECT s.id, s.park_id, s.enterprise_id, s.building_id, s.code, s.name, s.scope, s.category, s.method,"
        f" s.factor_ref, s.activity_unit, s.params FROM emission_sources s WHERE s.park_id = ?{where} ORDER BY s.code",
        [park_id, *params],
    )
    links: dict[int, list[int]] = {}
    for sid, cid in store.db.fetchall(
        "SELECT source_id, channel_id FROM emission_source_channels WHERE park_id = ? ORDER BY 1, 2", (park_id,)
    ):
        links.setdefault(int(sid), []).append(int(cid))
    return [
        Source(
            int(r[0]),
            int(r[1]),
            None if r[2] is None else int(r[2]),
            None if r[3] is None else int(r[3]),
            r[4],
            r[5],
            int(r[6]),
            r[7],
            r[8],
            r[9],
            r[10],
            json.loads(r[11] or "{}"),
            tuple(links.get(int(r[0]), ())),
        )
        for r in rows
    ]


def _codes(store: Store, park_id: int, table: str) -> dict[int, str]:
    return {int(i): c for i, c in store.db.fetchall(f"SELECT id, code FROM {table} WHERE park_id = ?", (park_id,))}


def list_sources(store: Store, scope: Scope, park_code: str) -> list[dict]:
    pid = repo.park_id(store, scope, park_code)
    ent = _codes(store, pid, "enterprises")
    bld = _codes(store, pid, "buildings")
    chs = _codes(store, pid, "channels")
    return [
        {
            "code": s.code,
            "name": s.name,
            "enterprise": ent.get(s.enterprise_id) if s.enterprise_id else None,
            "building": bld.get(s.building_id) if s.building_id else None,
            "scope": s.scope,
            "category": s.category,
            "method": s.method,
            "factor_ref": s.factor_ref,
            "activity_unit": s.activity_unit,
            "channels": [chs[c] for c in s.channel_ids],
            "params": s.params,
        }
        for s in load_sources(store, scope, pid)
    ]


def get_source(store: Store, scope: Scope, park_code: str, code: str) -> dict:
    for s in list_sources(store, scope, park_code):
        if s["code"] == code:
            return s
    raise NotFound(f"no emission source {code!r} in park {park_code!r}")


def check_source(store: Store, record: dict, *, park_id: int, enterprise_id: int | None) -> list[Issue]:
    """Problems with a source definition; empty when it can be saved."""
    code = record.get("code") or "?"
    at = f"source {code}"
    issues: list[Issue] = []

    def bad(col: str, reason: str) -> None:
        v = record.get(col)
        issues.append(Issue(f"{at}: {reason}", column=col, value=None if v is None else str(v)))

    for col in ("code", "name", "scope", "category", "method", "factor_ref", "activity_unit"):
        if record.get(col) in (None, ""):
            bad(col, f"{col} is required")
    if issues:
        return issues
    sc, cat, method, ref = record["scope"], str(record["category"]), record["method"], record["factor_ref"]
    if sc not in (1, 2, 3):
        bad("scope", "scope must be 1, 2 or 3")
    elif sc == 1 and cat not in SCOPE1_CATEGORIES:
        bad("category", f"a Scope 1 category is one of {', '.join(SCOPE1_CATEGORIES)}")
    elif sc == 2 and cat not in SCOPE2_CATEGORIES:
        bad("category", f"a Scope 2 category is one of {', '.join(SCOPE2_CATEGORIES)}")
    elif sc == 3 and cat not in SCOPE3_CATEGORIES:
        bad("category", "a Scope 3 category is its number 1-15 in the GHG Protocol Scope 3 Standard")
    if method not in METHODS:
        bad("method", f"method must be one of {', '.join(METHODS)}")
    elif sc in (1, 2, 3) and sc not in METHODS[method][0]:
        bad("method", f"method {method} is not used in Scope {sc}")
    elif sc == 2 and method != cat:
        bad("method", f"a Scope 2 {cat} source uses the method {cat}")
    try:
        unit = activity_family(str(record["activity_unit"]))
        if unit != record["activity_unit"]:
            bad("activity_unit", f"give the activity unit in its canonical form {unit}")
    except ValidationFailed as exc:
        bad("activity_unit", exc.detail)
        unit = None
    params = record.get("params") or {}
    if not isinstance(params, dict):
        bad("params", "params must be an object")
        params = {}
    if issues:
        return issues
    factors = library.load_factors(store, _system_of(park_id, enterprise_id))
    by_id: dict[str, list] = {}
    for f in factors:
        by_id.setdefault(f.factor_id, []).append(f)
    if method == "combustion":
        rows = by_id.get(ref, [])
        params_have = {f.parameter for f in rows}
        if not rows:
            fuels = sorted({f.factor_id.split(".", 1)[1] for f in factors if f.factor_id.startswith("fuel.")})
            bad("factor_ref", f"unknown fuel {ref!r}; known fuels: {', '.join(fuels)}")
        elif not {"ncv", "carbon_content", "oxidation"} <= params_have:
            bad("factor_ref", f"fuel {ref!r} lacks NCV, carbon content or oxidation rate in the library")
        else:
            ncv = next(f for f in rows if f.parameter == "ncv")
            per = parse_factor_unit(ncv.unit).activity_canonical
            if per != unit:
                bad("activity_unit", f"unit mismatch: {ref} is measured in {per} (NCV {ncv.unit}), not {unit}")
    elif method in ("electricity", "heat"):
        expected = {"electricity": "kWh", "heat": "GJ"}[method]
        if unit != expected:
            bad("activity_unit", f"unit mismatch: {method} is measured in {expected}, not {unit}")
    elif method == "steam":
        if unit != "t":
            bad("activity_unit", f"unit mismatch: steam is measured in t, not {unit}")
        if not any(f.parameter == "enthalpy" for f in by_id.get(ref, [])):
            bad("factor_ref", f"no steam enthalpy {ref!r} in the factor library")
    else:
        rows = by_id.get(ref, [])
        wanted = "share" if method == "refrigerant" else "ef"
        rows = [f for f in rows if f.parameter == wanted]
        if not rows:
            bad("factor_ref", f"no factor {ref!r} ({wanted}) in the factor library")
        elif method == "refrigerant":
            if unit != "t":
                bad("activity_unit", "refrigerant leaks are given as mass (t; enter kg and it is converted)")
        else:
            per = parse_factor_unit(rows[0].unit).activity_canonical
            have = unit
            if method == "spend" and unit == "CNY" and per == "USD":
                rate = params.get("usd_per_cny")
                if not isinstance(rate, int | float) or rate <= 0:
                    bad("params", "a spend factor per USD applied to CNY needs params.usd_per_cny > 0")
                have = "USD"
            if per != have:
                bad("activity_unit", f"unit mismatch: factor {ref} is per {rows[0].unit.split('/')[1]}, not {unit}")
    if method == "electricity" and params.get("supply") not in (None, "grid", "park_network", "park_residual"):
        bad("params", "params.supply is grid, park_network (shares the park's on-site supply) or park_residual")
    return issues


def _system_of(park_id: int, enterprise_id: int | None) -> Scope:
    return Scope(
        actor="system", role="enterprise" if enterprise_id else "operator", park_id=park_id, enterprise_id=enterprise_id
    )


def save_source(store: Store, scope: Scope, park_code: str, record: dict) -> dict:
    """Create or replace (by code) an emission source. Operators for anyone; an enterprise for itself."""
    scope.require_write()
    pid = repo.park_id(store, scope, park_code)
    record = {k: record.get(k) for k in FIELDS}
    ent_codes = {c: i for i, c in _codes(store, pid, "enterprises").items()}
    issues: list[Issue] = []
    ent_id: int | None = None
    if record.get("enterprise"):
        ent_id = ent_codes.get(record["enterprise"])
        if ent_id is None:
            raise ValidationFailed(f"source {record.get('code')}: no enterprise {record['enterprise']!r} in this park")
    elif scope.is_tenant:
        ent_id = scope.enterprise_id
    if scope.is_tenant and ent_id != scope.enterprise_id:
        raise NotFound(f"no enterprise {record.get('enterprise')!r} in park {park_code!r}")
    if not scope.is_tenant:
        scope.require_operator()
    bld_id = None
    if record.get("building"):
        bld_id = {c: i for i, c in _codes(store, pid, "buildings").items()}.get(record["building"])
        if bld_id is None:
            issues.append(Issue(f"no building {record['building']!r} in this park", column="building"))
    issues += check_source(store, record, park_id=pid, enterprise_id=ent_id)
    index = repo.channel_index(store, Scope.system(), park_code)
    channel_ids = []
    for ch in record.get("channels") or []:
        info = index.get(ch)
        if info is None or (scope.is_tenant and info.enterprise_id != scope.enterprise_id):
            issues.append(Issue(f"source {record.get('code')}: no channel {ch!r}", column="channels", value=ch))
            continue
        if info.enterprise_id != ent_id and not (ent_id is None and record.get("method") == "electricity"):
            issues.append(
                Issue(
                    f"source {record.get('code')}: channel {ch} belongs to another enterprise",
                    column="channels",
                    value=ch,
                )
            )
        if info.unit != record.get("activity_unit"):
            issues.append(
                Issue(
                    f"source {record.get('code')}: unit mismatch: channel {ch} measures {info.unit},"
                    f" the source's activity is in {record.get('activity_unit')}",
                    column="channels",
                    value=ch,
                )
            )
        channel_ids.append(info.id)
    if issues:
        raise ValidationFailed(f"emission source {record.get('code')!r} rejected", issues=issues)
    params = json.dumps(record.get("params") or {}, sort_keys=True, ensure_ascii=False)
    with store.db.write_lock, store.db.transaction():
        have = store.db.fetchone(
            "SELECT id, enterprise_id FROM emission_sources WHERE park_id = ? AND code = ?", (pid, record["code"])
        )
        before = None
        if have:
            if scope.is_tenant and have[1] != scope.enterprise_id:
                raise Conflict(f"source code {record['code']!r} is taken in this park")
            before = get_source(store, Scope.system(), park_code, record["code"])
            store.db.execute("DELETE FROM emission_source_channels WHERE source_id = ?", (have[0],))
            store.db.execute("DELETE FROM emission_sources WHERE id = ?", (have[0],))
        store.db.execute(
            "INSERT INTO emission_sources (" + ("id, " if have else "") + "park_id, enterprise_id, building_id, code,"
            " name, name_zh, scope, category, method, factor_ref, activity_unit, params, created_by, created_at)"
            " VALUES (" + ("?, " if have else "") + "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ([have[0]] if have else [])
            + [
                pid,
                ent_id,
                bld_id,
                record["code"],
                record["name"],
                record.get("name_zh"),
                record["scope"],
                str(record["category"]),
                record["method"],
                record["factor_ref"],
                record["activity_unit"],
                params,
                scope.actor,
                datetime.now(UTC),
            ],
        )
        sid = store.db.fetchone(
            "SELECT id FROM emission_sources WHERE park_id = ? AND code = ?", (pid, record["code"])
        )[0]  # type: ignore[index]
        store.db.executemany(
            "INSERT INTO emission_source_channels (source_id, channel_id, park_id) VALUES (?, ?, ?)",
            [(sid, c, pid) for c in sorted(set(channel_ids))],
        )
        after = get_source(store, Scope.system(), park_code, record["code"])
        store.audit(
            scope.actor,
            "update" if have else "create",
            "emission_sources",
            sid,
            before=before,
            after=after,
            park_id=pid,
            enterprise_id=ent_id,
        )
    return after


# -- evidence --------------------------------------------------------------------------------------
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024


def add_evidence(
    store: Store,
    scope: Scope,
    park_code: str,
    filename: str,
    content: bytes,
    content_type: str | None = None,
    *,
    enterprise_code: str | None = None,
) -> dict:
    """Store an evidence file (invoice, meter photo, delivery note) and return its id and SHA-256."""
    scope.require_write()
    pid = repo.park_id(store, scope, park_code)
    ent_id = _enterprise_for_write(store, scope, pid, enterprise_code)
    if not content:
        raise ValidationFailed(f"evidence {filename}: the file is empty")
    if len(content) > MAX_EVIDENCE_BYTES:
        raise ValidationFailed(f"evidence {filename}: larger than {MAX_EVIDENCE_BYTES} bytes")
    sha = hashlib.sha256(content).hexdigest()
    with store.db.write_lock, store.db.transaction():
        store.db.execute(
            "INSERT INTO evidence (park_id, enterprise_id, filename, content_type, sha256, size_bytes, content,"
            " uploaded_by, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (pid, ent_id, filename, content_type, sha, len(content), content, scope.actor, datetime.now(UTC)),
        )
        eid = int(store.db.fetchone("SELECT max(id) FROM evidence WHERE sha256 = ?", (sha,))[0])  # type: ignore[index]
        info = {"id": eid, "filename": filename, "sha256": sha, "size_bytes": len(content)}
        store.audit(scope.actor, "create", "evidence", eid, after=info, park_id=pid, enterprise_id=ent_id)
    return info


def get_evidence(store: Store, scope: Scope, park_code: str, evidence_id: int) -> tuple[dict, bytes]:
    pid = repo.park_id(store, scope, park_code)
    where, params = scope.sql_filter("park_id", "enterprise_id")
    if scope.role == "verifier":
        where, params = " AND park_id = ?", [scope.park_id]
    row = store.db.fetchone(
        "SELECT id, filename, content_type, sha256, size_bytes, content, enterprise_id FROM evidence"
        f" WHERE id = ? AND park_id = ?{where}",
        [evidence_id, pid, *params],
    )
    if row is None:
        raise NotFound(f"no evidence {evidence_id}")
    info = {"id": row[0], "filename": row[1], "content_type": row[2], "sha256": row[3], "size_bytes": row[4]}
    return info, bytes(row[5])


def _enterprise_for_write(store: Store, scope: Scope, pid: int, enterprise_code: str | None) -> int | None:
    if scope.is_tenant:
        if enterprise_code is not None:
            own = store.db.fetchone("SELECT code FROM enterprises WHERE id = ?", (scope.enterprise_id,))
            if not own or own[0] != enterprise_code:
                raise NotFound(f"no enterprise {enterprise_code!r}")
        return scope.enterprise_id
    scope.require_operator()
    if enterprise_code is None:
        return None
    row = store.db.fetchone("SELECT id FROM enterprises WHERE park_id = ? AND code = ?", (pid, enterprise_code))
    if row is None:
        raise NotFound(f"no enterprise {enterprise_code!r}")
    return int(row[0])


# -- manual activity entries -----------------------------------------------------------------------
def add_activity(store: Store, scope: Scope, park_code: str, source_code: str, entry: dict) -> dict:
    """Add one manual activity entry to a source: period [start, end) within one park-local year, amount >= 0."""
    return import_activity(store, scope, park_code, [{**entry, "source": source_code}])[0]


def import_activity(
    store: Store,
    scope: Scope,
    park_code: str,
    entries: list[dict],
    *,
    year: int | None = None,
    filename: str | None = None,
) -> list[dict]:
    """Add manual entries, all or nothing. With `year`, an entry outside that park-local year is refused."""
    scope.require_write()
    pid = repo.park_id(store, scope, park_code)
    if not scope.is_tenant:
        scope.require_operator()
    tz = ZoneInfo(repo.get_park(store, scope, park_code)["timezone"])
    by_code = {s.code: s for s in load_sources(store, scope, pid)}
    issues: list[Issue] = []
    ready = []
    for row_no, entry in enumerate(entries, start=2 if filename else 1):
        where = {"file": filename, "row": row_no} if filename else {}
        code = entry.get("source")
        src = by_code.get(code)  # type: ignore[arg-type]
        if src is None:
            if filename:
                issues.append(Issue(f"no emission source {code!r}", column="source", value=code, **where))
                continue
            raise NotFound(f"no emission source {code!r} in park {park_code!r}")
        at = f"source {code}"
        start, end = entry.get("period_start"), entry.get("period_end")
        amount = entry.get("amount")
        unit = entry.get("unit") or src.activity_unit
        n = len(issues)
        if (
            not isinstance(start, datetime)
            or not isinstance(end, datetime)
            or start.tzinfo is None
            or (end.tzinfo is None)
        ):
            issues.append(
                Issue(f"{at}: period_start and period_end must be times with a zone", column="period", **where)
            )
        elif end <= start:
            issues.append(
                Issue(f"{at}: the period ends before it starts", column="period_end", value=str(end), **where)
            )
        elif end.astimezone(tz) > datetime(start.astimezone(tz).year + 1, 1, 1, tzinfo=tz):
            issues.append(
                Issue(
                    f"{at}: the period {start.isoformat()} .. {end.isoformat()} crosses a year end; split it by year",
                    column="period_end",
                    value=str(end),
                    **where,
                )
            )
        elif year is not None and start.astimezone(tz).year != year:
            issues.append(
                Issue(
                    f"{at}: activity outside the period {year} ({start.isoformat()} .. {end.isoformat()})",
                    column="period_start",
                    value=str(start),
                    **where,
                )
            )
        if not isinstance(amount, int | float) or isinstance(amount, bool):
            issues.append(Issue(f"{at}: amount must be a number", column="amount", value=str(amount), **where))
        elif amount < 0:
            issues.append(Issue(f"{at}: negative amount {amount} {unit}", column="amount", value=str(amount), **where))
        canonical = None
        if len(issues) == n:
            try:
                canonical = float(amount) * conversion_factor(unit, src.activity_unit)  # type: ignore[arg-type]
            except ValidationFailed as exc:
                issues.append(Issue(f"{at}: {exc.detail}", column="unit", value=unit, **where))
        evidence_id = entry.get("evidence_id")
        if evidence_id is not None and not store.db.fetchone(
            "SELECT 1 FROM evidence WHERE id = ? AND park_id = ? AND (enterprise_id IS NULL OR enterprise_id = ?)",
            (evidence_id, pid, src.enterprise_id if src.enterprise_id is not None else -1),
        ):
            issues.append(
                Issue(f"{at}: no evidence {evidence_id}", column="evidence_id", value=str(evidence_id), **where)
            )
        if len(issues) == n:
            ready.append((src, start, end, float(amount), unit, canonical, evidence_id, entry.get("note")))  # type: ignore[arg-type]
    if issues:
        what = filename or f"activity entry for {entries[0].get('source') if entries else '?'}"
        raise ValidationFailed(f"{what} rejected; nothing was written", issues=issues)
    out = []
    with store.db.write_lock, store.db.transaction():
        now = datetime.now(UTC)
        for src, start, end, amount, unit, canonical, evidence_id, note in ready:
            store.db.execute(
                "INSERT INTO activity_entries (park_id, enterprise_id, source_id, period_start, period_end, amount,"
                " unit, amount_canonical, evidence_id, note, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    pid,
                    src.enterprise_id,
                    src.id,
                    start,
                    end,
                    amount,
                    unit,
                    canonical,
                    evidence_id,
                    note,
                    scope.actor,
                    now,
                ),
            )
            eid = int(
                store.db.fetchone(
                    "SELECT max(id) FROM activity_entries WHERE source_id = ?",  # type: ignore[index]
                    (src.id,),
                )[0]
            )
            after = {
                "id": eid,
                "source": src.code,
                "period_start": start,
                "period_end": end,
                "amount": amount,
                "unit": unit,
                "amount_canonical": canonical,
                "evidence_id": evidence_id,
            }
            store.audit(
                scope.actor,
                "create",
                "activity_entries",
                eid,
                after=after,
                park_id=pid,
                enterprise_id=src.enterprise_id,
            )
            out.append(after)
    return out


def void_activity(store: Store, scope: Scope, park_code: str, entry_id: int, reason: str) -> None:
    """Void a manual entry (it stays in the table and the audit log; it no longer counts)."""
    scope.require_write()
    pid = repo.park_id(store, scope, park_code)
    where, params = scope.sql_filter("park_id", "enterprise_id")
    row = store.db.fetchone(
        f"SELECT id, voided_at FROM activity_entries WHERE id = ? AND park_id = ?{where}", [entry_id, pid, *params]
    )
    if row is None:
        raise NotFound(f"no activity entry {entry_id}")
    if row[1] is not None:
        raise Conflict(f"activity entry {entry_id} is voided already")
    if not reason:
        raise ValidationFailed("say why the entry is voided")
    with store.db.write_lock, store.db.transaction():
        now = datetime.now(UTC)
        store.db.execute(
            "UPDATE activity_entries SET voided_at = ?, voided_by = ?, void_reason = ? WHERE id = ?",
            (now, scope.actor, reason, entry_id),
        )
        store.audit(scope.actor, "void", "activity_entries", entry_id, after={"reason": reason}, park_id=pid)


def list_activity(store: Store, scope: Scope, park_code: str, source_code: str | None = None) -> list[dict]:
    pid = repo.park_id(store, scope, park_code)
    where, params = scope.sql_filter("a.park_id", "a.enterprise_id")
    if source_code:
        where += " AND s.code = ?"
        params.append(source_code)
    return store.db.fetchdicts(
        "SELECT a.id, s.code AS source, a.period_start, a.period_end, a.amount, a.unit, a.amount_canonical,"
        " s.activity_unit, a.evidence_id, a.note, a.created_by, a.created_at, a.voided_at, a.void_reason"
        " FROM activity_entries a JOIN emission_sources s ON s.id = a.source_id"
        f" WHERE a.park_id = ?{where} ORDER BY a.id",
        [pid, *params],
    )


# -- economic figures ------------------------------------------------------------------------------
def set_output_value(
    store: Store, scope: Scope, park_code: str, enterprise_code: str, year: int, output_value_10k_cny: float
) -> dict:
    """An enterprise's gross output value for a year [10^4 CNY], the denominator of tCO2e per 10^4 CNY."""
    scope.require_write()
    pid = repo.park_id(store, scope, park_code)
    ent_id = _enterprise_for_write(store, scope, pid, enterprise_code)
    if ent_id is None:
        raise ValidationFailed("output value belongs to an enterprise")
    if not isinstance(year, int) or not 1990 <= year <= 2100:
        raise ValidationFailed(f"enterprise {enterprise_code}: the year must be a year")
    if not isinstance(output_value_10k_cny, int | float) or not output_value_10k_cny > 0:
        raise ValidationFailed(f"enterprise {enterprise_code}: output value must be a positive number of 10^4 CNY")
    with store.db.write_lock, store.db.transaction():
        before = store.db.fetchone(
            "SELECT output_value_10k_cny FROM enterprise_figures WHERE enterprise_id = ? AND year = ?", (ent_id, year)
        )
        store.db.execute("DELETE FROM enterprise_figures WHERE enterprise_id = ? AND year = ?", (ent_id, year))
        store.db.execute(
            "INSERT INTO enterprise_figures (park_id, enterprise_id, year, output_value_10k_cny, updated_by, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (pid, ent_id, year, float(output_value_10k_cny), scope.actor, datetime.now(UTC)),
        )
        after = {"enterprise": enterprise_code, "year": year, "output_value_10k_cny": float(output_value_10k_cny)}
        store.audit(
            scope.actor,
            "update" if before else "create",
            "enterprise_figures",
            f"{ent_id}:{year}",
            before=None if before is None else {"output_value_10k_cny": before[0]},
            after=after,
            park_id=pid,
            enterprise_id=ent_id,
        )
    return after
