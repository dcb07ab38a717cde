"""The emission-factor library: versioned, sourced factor sets, shipped with the package or added by users.

A factor set is a table of rows ``(factor_id, parameter, gas, value, unit, year_from, year_to, region, label,
label_zh, source, table, note)``. The shipped sets live in ``factors/data/<stem>.csv`` with their metadata in
``<stem>.toml``; they are mirrored into the store (``factor_sets``, ``factors``) the first time they are used, so
that shipped and user sets are looked up the same way and an inventory can name the exact set it used.

A set is immutable once an inventory that used it is closed (``locked_at``); a change is a new version.
A shipped file whose content changes without a new version is refused (its SHA-256 is recorded).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from parkzero.errors import Conflict, Issue, IssueCollector, NotFound, ValidationFailed
from parkzero.factors.units import parse_factor_unit
from parkzero.registry.scope import Scope
from parkzero.store import Store

COLUMNS = (
    "factor_id",
    "parameter",
    "gas",
    "value",
    "unit",
    "year_from",
    "year_to",
    "region",
    "label",
    "label_zh",
    "source",
    "table",
    "note",
)
PARAMETERS = ("ef", "ncv", "carbon_content", "oxidation", "gwp", "share", "tce", "enthalpy")
META_FIELDS = ("code", "version", "title", "title_zh", "publisher", "licence", "notes")


@dataclass(frozen=True)
class Factor:
    """One row of a factor set, with the set it came from."""

    set_code: str
    set_version: str
    factor_id: str
    parameter: str
    gas: str | None
    value: float
    unit: str
    year_from: int | None
    year_to: int | None
    region: str | None
    label: str | None
    label_zh: str | None
    source: str
    table: str | None
    note: str | None

    def applies_to(self, year: int) -> bool:
        return (self.year_from is None or self.year_from <= year) and (self.year_to is None or year <= self.year_to)

    def ref(self) -> dict:
        """What an inventory line records about the factor it used."""
        return {
            "set": self.set_code,
            "version": self.set_version,
            "factor_id": self.factor_id,
            "parameter": self.parameter,
            "gas": self.gas,
            "value": self.value,
            "unit": self.unit,
            "years": [self.year_from, self.year_to],
            "source": self.source,
            "table": self.table,
        }


@dataclass(frozen=True)
class FactorSet:
    code: str
    version: str
    title: str
    meta: dict
    rows: tuple[Factor, ...]
    sha256: str


# -- parsing ---------------------------------------------------------------------------------------
def parse_set(meta: dict, csv_text: str, *, filename: str) -> FactorSet:
    """Parse and check one factor set; every problem is reported with its row and column."""
    problems = IssueCollector()
    for key in ("code", "version", "title"):
        if not meta.get(key):
            problems.add(Issue(f"factor set metadata needs {key!r}", file=filename, column=key))
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        problems.add(Issue(f"missing columns: {', '.join(missing)}", file=filename, row=1))
        problems.raise_if_any(f"factor set {filename} rejected")
    rows: list[Factor] = []
    seen: dict[tuple, int] = {}
    for row_no, rec in enumerate(reader, start=2):

        def bad(column: str, reason: str, row_no: int = row_no, rec: dict = rec) -> None:
            problems.add(Issue(reason, file=filename, row=row_no, column=column, value=rec.get(column)))

        fid = (rec.get("factor_id") or "").strip()
        param = (rec.get("parameter") or "").strip()
        if not fid:
            bad("factor_id", "factor_id is required")
        if param not in PARAMETERS:
            bad("parameter", f"parameter must be one of {', '.join(PARAMETERS)}")
        try:
            value = float(rec.get("value") or "")
        except ValueError:
            bad("value", "value must be a number")
            continue
        unit = (rec.get("unit") or "").strip()
        try:
            parse_factor_unit(unit)
        except ValidationFailed as exc:
            bad("unit", exc.detail)
        years: list[int | None] = []
        for col in ("year_from", "year_to"):
            text = (rec.get(col) or "").strip()
            try:
                years.append(int(text) if text else None)
            except ValueError:
                bad(col, "year must be a whole year or empty")
                years.append(None)
        if years[0] is not None and years[1] is not None and years[1] < years[0]:
            bad("year_to", "year_to is before year_from")
        if not (rec.get("source") or "").strip():
            bad("source", "every factor needs its source document")
        gas = (rec.get("gas") or "").strip() or None
        if param in ("ef", "gwp", "share") and not gas:
            bad("gas", f"a {param} row must name its gas")
        region = (rec.get("region") or "").strip() or None
        key = (fid, param, gas, region, years[0])
        if key in seen:
            bad("factor_id", f"duplicate of row {seen[key]} (same factor, parameter, gas, region and years)")
        seen[key] = row_no
        rows.append(
            Factor(
                set_code=str(meta.get("code")),
                set_version=str(meta.get("version")),
                factor_id=fid,
                parameter=param,
                gas=gas,
                value=value,
                unit=unit,
                year_from=years[0],
                year_to=years[1],
                region=region,
                label=(rec.get("label") or "").strip() or None,
                label_zh=(rec.get("label_zh") or "").strip() or None,
                source=(rec.get("source") or "").strip(),
                table=(rec.get("table") or "").strip() or None,
                note=(rec.get("note") or "").strip() or None,
            )
        )
    if not rows and not problems:
        problems.add(Issue("a factor set needs at least one row", file=filename))
    problems.raise_if_any(f"factor set {filename} rejected")
    digest = hashlib.sha256((repr(sorted(meta.items())) + "\n" + csv_text).encode()).hexdigest()
    return FactorSet(str(meta["code"]), str(meta["version"]), str(meta["title"]), dict(meta), tuple(rows), digest)


def shipped_sets() -> list[FactorSet]:
    """The factor sets shipped in ``parkzero/factors/data``."""
    folder = resources.files("parkzero.factors") / "data"
    found = []
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".toml") or item.name.startswith("_"):
            continue
        stem = item.name[: -len(".toml")]
        csv_file = folder / f"{stem}.csv"
        if not csv_file.is_file():
            continue
        meta = tomllib.loads(item.read_text(encoding="utf-8"))
        found.append(parse_set(meta, csv_file.read_text(encoding="utf-8"), filename=f"{stem}.csv"))
    return found


# -- the store -------------------------------------------------------------------------------------
@functools.cache
def _shipped() -> tuple[FactorSet, ...]:
    return tuple(shipped_sets())


def sync_shipped(store: Store) -> None:
    """Mirror the shipped sets into the store; refuse a shipped file changed under an old version."""
    have = {
        (r[0], r[1]): r[2]
        for r in store.db.fetchall("SELECT code, version, sha256 FROM factor_sets WHERE origin = 'shipped'")
    }
    for fs in _shipped():
        sha = have.get((fs.code, fs.version))
        if sha is None:
            _store_set(store, fs, origin="shipped", actor="parkzero", park_id=None, enterprise_id=None)
        elif sha != fs.sha256:
            raise Conflict(
                f"shipped factor set {fs.code} version {fs.version} differs from the copy in the store;"
                " a changed set needs a new version"
            )


def _store_set(
    store: Store, fs: FactorSet, *, origin: str, actor: str, park_id: int | None, enterprise_id: int | None
) -> int:
    db = store.db
    with db.write_lock, db.transaction():
        have = db.fetchone("SELECT id, sha256 FROM factor_sets WHERE code = ? AND version = ?", (fs.code, fs.version))
        if have:
            if have[1] != fs.sha256:
                raise Conflict(
                    f"factor set {fs.code} version {fs.version} exists with different content;"
                    " a changed set needs a new version"
                )
            return int(have[0])
        db.execute(
            "INSERT INTO factor_sets (code, version, title, title_zh, publisher, licence, notes, origin, park_id,"
            " enterprise_id, sha256, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                fs.code,
                fs.version,
                fs.title,
                fs.meta.get("title_zh"),
                fs.meta.get("publisher"),
                fs.meta.get("licence"),
                fs.meta.get("notes"),
                origin,
                park_id,
                enterprise_id,
                fs.sha256,
                actor,
                datetime.now(UTC),
            ),
        )
        row = db.fetchone("SELECT id FROM factor_sets WHERE code = ? AND version = ?", (fs.code, fs.version))
        assert row is not None
        set_id = int(row[0])
        db.executemany(
            "INSERT INTO factors (set_id, row_no, factor_id, parameter, gas, value, unit, year_from, year_to, region,"
            " label, label_zh, source, table_ref, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    set_id,
                    i,
                    f.factor_id,
                    f.parameter,
                    f.gas,
                    f.value,
                    f.unit,
                    f.year_from,
                    f.year_to,
                    f.region,
                    f.label,
                    f.label_zh,
                    f.source,
                    f.table,
                    f.note,
                )
                for i, f in enumerate(fs.rows)
            ],
        )
        if origin == "user":
            store.audit(
                actor,
                "create",
                "factor_sets",
                set_id,
                after={"code": fs.code, "version": fs.version, "rows": len(fs.rows), "sha256": fs.sha256},
                park_id=park_id,
                enterprise_id=enterprise_id,
            )
    return set_id


def add_user_set(store: Store, scope: Scope, meta: dict, csv_text: str, *, filename: str = "upload.csv") -> dict:
    """Add a user's own factor set (operator: for the park; enterprise: for itself). Versions are immutable."""
    scope.require_write()
    sync_shipped(store)
    fs = parse_set(meta, csv_text, filename=filename)
    if store.db.fetchone("SELECT 1 FROM factor_sets WHERE code = ? AND version = ?", (fs.code, fs.version)):
        raise Conflict(f"factor set {fs.code} version {fs.version} exists; add a new version instead")
    _store_set(store, fs, origin="user", actor=scope.actor, park_id=scope.park_id, enterprise_id=scope.enterprise_id)
    return describe_set(store, scope, fs.code, fs.version)


def _visible(scope: Scope) -> tuple[str, list]:
    """Shipped sets are public; a user set is visible in its park, and a tenant's own set only to that tenant."""
    if scope.is_system:
        return "", []
    if scope.role == "partner":
        return " AND origin = 'shipped'", []
    clause = " AND (origin = 'shipped' OR ((park_id IS NULL OR park_id = ?) AND (enterprise_id IS NULL"
    params: list = [scope.park_id if scope.park_id is not None else -1]
    if scope.is_tenant:
        clause += " OR enterprise_id = ?)))"
        params.append(scope.enterprise_id)
    else:
        clause += " OR TRUE)))"
    return clause, params


def list_sets(store: Store, scope: Scope) -> list[dict]:
    sync_shipped(store)
    where, params = _visible(scope)
    return store.db.fetchdicts(
        "SELECT s.code, s.version, s.title, s.title_zh, s.publisher, s.licence, s.origin, s.sha256, s.locked_at,"
        " (SELECT count(*) FROM factors f WHERE f.set_id = s.id) AS n_factors"
        f" FROM factor_sets s WHERE TRUE{where} ORDER BY s.code, s.version",
        params,
    )


def describe_set(store: Store, scope: Scope, code: str, version: str | None = None) -> dict:
    for s in reversed(list_sets(store, scope)):
        if s["code"] == code and (version is None or s["version"] == version):
            return s
    raise NotFound(f"no factor set {code!r}" + (f" version {version!r}" if version else ""))


def load_factors(store: Store, scope: Scope, set_codes: list[str] | None = None) -> list[Factor]:
    """Every visible factor (of the newest version of each named set, or of every set)."""
    sync_shipped(store)
    where, params = _visible(scope)
    rows = store.db.fetchall(
        "SELECT s.code, s.version, f.factor_id, f.parameter, f.gas, f.value, f.unit, f.year_from, f.year_to,"
        " f.region, f.label, f.label_zh, f.source, f.table_ref, f.note FROM factors f JOIN factor_sets s"
        f" ON s.id = f.set_id WHERE TRUE{where} ORDER BY s.code, s.version, f.row_no",
        params,
    )
    newest: dict[str, str] = {}
    for r in rows:
        if _version_key(r[1]) >= _version_key(newest.get(r[0], "")):
            newest[r[0]] = r[1]
    return [
        Factor(*r[:5], float(r[5]), *r[6:])
        for r in rows
        if r[1] == newest[r[0]] and (set_codes is None or r[0] in set_codes)
    ]


def _version_key(version: str) -> tuple:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in version.replace("-", ".").split(".") if p)


def lock_sets(store: Store, used: set[tuple[str, str]]) -> None:
    """Mark the (code, version) sets used by a closed inventory as immutable. Call inside a transaction."""
    now = datetime.now(UTC)
    for code, version in sorted(used):
        store.db.execute(
            "UPDATE factor_sets SET locked_at = ? WHERE code = ? AND version = ? AND locked_at IS NULL",
            (now, code, version),
        )


def export_set(store: Store, scope: Scope, code: str, version: str | None = None) -> tuple[dict, str]:
    """A set as (metadata, CSV text) in the shipped format, to copy and edit into a new version."""
    meta = describe_set(store, scope, code, version)
    rows = store.db.fetchall(
        "SELECT f.factor_id, f.parameter, f.gas, f.value, f.unit, f.year_from, f.year_to, f.region, f.label,"
        " f.label_zh, f.source, f.table_ref, f.note FROM factors f JOIN factor_sets s ON s.id = f.set_id"
        " WHERE s.code = ? AND s.version = ? ORDER BY f.row_no",
        (code, meta["version"]),
    )
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow(["" if v is None else (repr(v) if isinstance(v, float) else v) for v in r])
    full = store.db.fetchdicts(
        "SELECT code, version, title, title_zh, publisher, licence, notes FROM factor_sets WHERE code = ? AND"
        " version = ?",
        (code, meta["version"]),
    )[0]
    return {k: v for k, v in full.items() if v is not None}, out.getvalue()
