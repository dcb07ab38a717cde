"""The instrument ledger: green electricity certificates, green power trades and supplier rates.

An instrument belongs to one enterprise (its owner) and carries MWh of a vintage year. Certificates (GEC,
1 per MWh) have a serial range ``prefix + first..last``; a serial range is registered once in the whole
store (two instruments claiming the same certificate are refused) and each serial is retired once.
Retiring claims MWh for the owner and one reporting year; the market-based Scope 2 of that enterprise and
year then uses them, in the order of the GHG Protocol Scope 2 Guidance (Table 6.3): energy attribute
certificates, then contracts (green power trades), then supplier-specific rates, then the residual mix.

Quality criteria checked at retirement: the owner retires for itself; the vintage is the reporting year or
the year before (China's GECs are valid for two years); no MWh or serial is retired twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from parkzero.errors import Conflict, Issue, NotFound, ValidationFailed
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store

KINDS = {
    "gec": "Green electricity certificate (绿证), 1 per MWh",
    "green_power": "Green power trade (绿电交易), bundled energy and certificates",
    "supplier_rate": "Supplier-specific emission rate for delivered electricity",
}
HIERARCHY = ("gec", "green_power", "supplier_rate")  # Scope 2 Guidance order before the residual mix
MAX_VINTAGE_AGE = 1  # years between vintage and reporting year


@dataclass(frozen=True)
class Claim:
    """MWh an enterprise has retired for a year, by instrument."""

    instrument: str
    kind: str
    mwh: float
    factor_tco2_per_mwh: float
    vintage_year: int
    serials: str | None


def register(store: Store, scope: Scope, park_code: str, record: dict) -> dict:
    """Register an instrument for an enterprise (the enterprise itself or the operator on its behalf)."""
    scope.require_write()
    pid = repo.park_id(store, scope, park_code)
    code = record.get("code")
    at = f"instrument {code}"
    issues: list[Issue] = []

    def bad(col: str, reason: str) -> None:
        v = record.get(col)
        issues.append(Issue(f"{at}: {reason}", column=col, value=None if v is None else str(v)))

    ent = record.get("enterprise")
    row = store.db.fetchone("SELECT id FROM enterprises WHERE park_id = ? AND code = ?", (pid, ent))
    if row is None or (scope.is_tenant and int(row[0]) != scope.enterprise_id):
        raise NotFound(f"no enterprise {ent!r} in park {park_code!r}")
    if not scope.is_tenant:
        scope.require_operator()
    ent_id = int(row[0])
    if not code:
        bad("code", "code is required")
    kind = record.get("kind")
    if kind not in KINDS:
        bad("kind", f"kind must be one of {', '.join(KINDS)}")
    mwh = record.get("mwh")
    first, last = record.get("serial_first"), record.get("serial_last")
    if kind == "gec":
        if not isinstance(first, int) or not isinstance(last, int) or first < 0 or last < first:
            bad("serial_first", "a certificate range needs whole serial_first <= serial_last")
        else:
            count = last - first + 1
            if mwh is None:
                mwh = float(count)
            elif mwh != count:
                bad("mwh", f"{count} certificates are {count} MWh, not {mwh}")
    if not isinstance(mwh, int | float) or isinstance(mwh, bool) or mwh <= 0:
        bad("mwh", "mwh must be a positive number")
    vintage = record.get("vintage_year")
    if not isinstance(vintage, int) or not 2000 <= vintage <= 2100:
        bad("vintage_year", "vintage_year must be a year")
    factor = record.get("factor_tco2_per_mwh")
    if kind == "supplier_rate":
        if not isinstance(factor, int | float) or factor < 0:
            bad("factor_tco2_per_mwh", "a supplier rate needs its factor in tCO2/MWh (>= 0)")
    elif factor not in (None, 0, 0.0):
        bad("factor_tco2_per_mwh", "certificates and green power trades are zero-emission; leave the factor empty")
    if issues:
        raise ValidationFailed(f"instrument {code!r} rejected", issues=issues)
    prefix = record.get("serial_prefix") or ""
    with store.db.write_lock, store.db.transaction():
        if store.db.fetchone("SELECT 1 FROM instruments WHERE park_id = ? AND code = ?", (pid, code)):
            raise Conflict(f"instrument {code!r} exists already")
        if kind == "gec":
            clash = store.db.fetchone(
                "SELECT code FROM instruments WHERE kind = 'gec' AND coalesce(serial_prefix, '') = ?"
                " AND serial_first <= ? AND serial_last >= ?",
                (prefix, last, first),
            )
            if clash:
                raise Conflict(
                    f"instrument {code}: certificates {prefix}{first}..{prefix}{last} overlap instrument {clash[0]};"
                    " a certificate is registered once"
                )
        store.db.execute(
            "INSERT INTO instruments (park_id, enterprise_id, code, kind, serial_prefix, serial_first, serial_last,"
            " mwh, vintage_year, technology, facility, region, factor_tco2_per_mwh, evidence_id, created_by,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                pid,
                ent_id,
                code,
                kind,
                prefix or None,
                first if kind == "gec" else None,
                last if kind == "gec" else None,
                float(mwh),  # type: ignore[arg-type]
                vintage,
                record.get("technology"),
                record.get("facility"),
                record.get("region"),
                float(factor) if kind == "supplier_rate" else 0.0,  # type: ignore[arg-type]
                record.get("evidence_id"),
                scope.actor,
                datetime.now(UTC),
            ),
        )
        created = get(store, Scope.system(), park_code, code)
        store.audit(scope.actor, "create", "instruments", code, after=created, park_id=pid, enterprise_id=ent_id)
    return created


def list_instruments(store: Store, scope: Scope, park_code: str) -> list[dict]:
    pid = repo.park_id(store, scope, park_code)
    where, params = scope.sql_filter("i.park_id", "i.enterprise_id")
    rows = store.db.fetchdicts(
        "SELECT i.id, i.code, i.kind, e.code AS enterprise, i.serial_prefix, i.serial_first, i.serial_last, i.mwh,"
        " i.vintage_year, i.technology, i.facility, i.region, i.factor_tco2_per_mwh,"
        " (SELECT coalesce(sum(r.mwh), 0) FROM retirements r WHERE r.instrument_id = i.id) AS retired_mwh"
        " FROM instruments i JOIN enterprises e ON e.id = i.enterprise_id"
        f" WHERE i.park_id = ?{where} ORDER BY i.code",
        [pid, *params],
    )
    for r in rows:
        r["retired_mwh"] = float(r["retired_mwh"])
        r["available_mwh"] = round(float(r["mwh"]) - r["retired_mwh"], 9)
    return rows


def get(store: Store, scope: Scope, park_code: str, code: str) -> dict:
    for r in list_instruments(store, scope, park_code):
        if r["code"] == code:
            return r
    raise NotFound(f"no instrument {code!r} in park {park_code!r}")


def retire(
    store: Store,
    scope: Scope,
    park_code: str,
    code: str,
    *,
    year: int,
    mwh: float | None = None,
    serial_first: int | None = None,
    serial_last: int | None = None,
    note: str | None = None,
) -> dict:
    """Retire MWh (or a certificate serial range) of an instrument for its owner and one reporting year."""
    scope.require_write()
    inst = get(store, scope, park_code, code)  # NotFound for another tenant's instrument
    pid = repo.park_id(store, scope, park_code)
    at = f"instrument {code}"
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ValidationFailed(f"{at}: the reporting year must be a year")
    if not 0 <= year - inst["vintage_year"] <= MAX_VINTAGE_AGE:
        raise ValidationFailed(
            f"{at}: vintage {inst['vintage_year']} cannot be claimed for {year} (the vintage must be the"
            f" reporting year or up to {MAX_VINTAGE_AGE} year before)"
        )
    if mwh is not None and mwh > inst["available_mwh"] + 1e-9:
        raise Conflict(
            f"{at}: {mwh} MWh asked, but only {inst['available_mwh']:g} of {float(inst['mwh']):g} MWh"
            " are left; an instrument is retired once"
        )
    if inst["kind"] == "gec":
        if serial_first is None and serial_last is None:
            if mwh is None:
                raise ValidationFailed(f"{at}: give mwh or a serial range to retire")
            serial_first, serial_last = _next_free_range(store, inst, mwh)
        if serial_first is None or serial_last is None or serial_last < serial_first:
            raise ValidationFailed(f"{at}: a serial range needs serial_first <= serial_last")
        if serial_first < inst["serial_first"] or serial_last > inst["serial_last"]:
            raise ValidationFailed(
                f"{at}: serials {serial_first}..{serial_last} are outside the instrument's range"
                f" {inst['serial_first']}..{inst['serial_last']}"
            )
        count = float(serial_last - serial_first + 1)
        if mwh is not None and mwh != count:
            raise ValidationFailed(f"{at}: {int(count)} certificates are {int(count)} MWh, not {mwh}")
        mwh = count
    elif mwh is None or mwh <= 0:
        raise ValidationFailed(f"{at}: mwh to retire must be positive")
    with store.db.write_lock, store.db.transaction():
        if inst["kind"] == "gec":
            clash = store.db.fetchone(
                "SELECT serial_first, serial_last, year FROM retirements WHERE instrument_id = ?"
                " AND serial_first <= ? AND serial_last >= ?",
                (inst["id"], serial_last, serial_first),
            )
            if clash:
                raise Conflict(
                    f"{at}: certificates {clash[0]}..{clash[1]} were retired already (for {clash[2]});"
                    " a certificate is retired once"
                )
        retired = float(
            store.db.fetchone("SELECT coalesce(sum(mwh), 0) FROM retirements WHERE instrument_id = ?", (inst["id"],))[0]  # type: ignore[index]
        )
        if retired + float(mwh) > float(inst["mwh"]) + 1e-9:
            raise Conflict(
                f"{at}: {mwh} MWh asked, but only {float(inst['mwh']) - retired:g} of {float(inst['mwh']):g} MWh"
                " are left; an instrument is retired once"
            )
        ent_id = store.db.fetchone("SELECT enterprise_id FROM instruments WHERE id = ?", (inst["id"],))[0]  # type: ignore[index]
        now = datetime.now(UTC)
        store.db.execute(
            "INSERT INTO retirements (instrument_id, park_id, enterprise_id, serial_first, serial_last, mwh, year,"
            " retired_by, retired_at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (inst["id"], pid, ent_id, serial_first, serial_last, float(mwh), year, scope.actor, now, note),
        )
        out = {
            "instrument": code,
            "mwh": float(mwh),
            "year": year,
            "serial_first": serial_first,
            "serial_last": serial_last,
        }
        store.audit(scope.actor, "retire", "instruments", code, after=out, park_id=pid, enterprise_id=ent_id)
    return out


def _next_free_range(store: Store, inst: dict, mwh: float) -> tuple[int, int]:
    if mwh != int(mwh) or mwh <= 0:
        raise ValidationFailed(f"instrument {inst['code']}: certificates are whole MWh; {mwh} is not")
    taken = store.db.fetchall(
        "SELECT serial_first, serial_last FROM retirements WHERE instrument_id = ? ORDER BY serial_first",
        (inst["id"],),
    )
    cursor = inst["serial_first"]
    for first, last in taken:
        if first - cursor >= mwh:
            break
        cursor = max(cursor, last + 1)
    return cursor, cursor + int(mwh) - 1


def claims(store: Store, park_id: int, enterprise_id: int | None, year: int) -> list[Claim]:
    """What the enterprise (None: the operator — instruments are always held by an enterprise) retired for `year`."""
    if enterprise_id is None:
        return []
    rows = store.db.fetchall(
        "SELECT i.code, i.kind, sum(r.mwh), i.factor_tco2_per_mwh, i.vintage_year, min(i.serial_prefix),"
        " min(r.serial_first), max(r.serial_last) FROM retirements r JOIN instruments i ON i.id = r.instrument_id"
        " WHERE r.park_id = ? AND r.enterprise_id = ? AND r.year = ? GROUP BY i.code, i.kind,"
        " i.factor_tco2_per_mwh, i.vintage_year ORDER BY i.code",
        (park_id, enterprise_id, year),
    )
    return [
        Claim(
            r[0],
            r[1],
            float(r[2]),
            float(r[3] or 0.0),
            int(r[4]),
            None if r[6] is None else f"{r[5] or ''}{r[6]}..{r[5] or ''}{r[7]}",
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Allocation:
    """One slice of an enterprise's grid electricity under the market-based method."""

    basis: str  # gec | green_power | supplier_rate | residual | unclaimed
    mwh: float
    factor_tco2_per_mwh: float | None  # None: priced with the regime's residual/grid factor
    instruments: tuple[str, ...]


def market_allocation(consumption_mwh: float, held: list[Claim], zero_kinds: tuple[str, ...]) -> list[Allocation]:
    """Split consumption over claimed instruments in the Scope 2 hierarchy; the rest is residual.

    Claims beyond consumption are not used (reported as `unclaimed`, never as negative emissions). Instrument
    kinds the regime does not recognise are skipped (the rest of the consumption is priced as residual).
    """
    left = max(consumption_mwh, 0.0)
    out: list[Allocation] = []
    for kind in HIERARCHY:
        if kind != "supplier_rate" and kind not in zero_kinds:
            continue
        group = [c for c in held if c.kind == kind]
        total = sum(c.mwh for c in group)
        if not group:
            continue
        used = min(total, left)
        factor = group[0].factor_tco2_per_mwh if kind == "supplier_rate" else 0.0
        if kind == "supplier_rate" and len({c.factor_tco2_per_mwh for c in group}) > 1:
            for c in group:  # each rate on its own slice
                u = min(c.mwh, left)
                out.append(Allocation(kind, u, c.factor_tco2_per_mwh, (c.instrument,)))
                left -= u
            continue
        out.append(Allocation(kind, used, factor, tuple(c.instrument for c in group)))
        left -= used
        if total > used:
            out.append(Allocation("unclaimed", total - used, None, tuple(c.instrument for c in group)))
    out.append(Allocation("residual", left, None, ()))
    return out
