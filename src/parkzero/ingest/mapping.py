"""Column mappings: how a park's meter export is laid out, saved once and reused for every upload.

A mapping names the columns of a file (when their headers are not among the English and Chinese aliases that
`files` recognises by itself), the constant unit of the values, the time zone of timestamps without offset,
and the renames from what a meter system calls a channel ("1#主变") to the channel code ("grid.import").

Saved mappings live in the store table `column_mappings` (one row per park and name; `spec` is the JSON of
the mapping). An enterprise user sees and changes only its own mappings; the park operator sees them all.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from parkzero.errors import Conflict, Issue, NotFound, ValidationFailed
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store
from parkzero.units import is_known_unit

Layout = Literal["auto", "long", "wide_time", "wide_channel", "espi"]


class ColumnMapping(BaseModel):
    """How to read one kind of meter file.

    Every field is optional: an empty mapping means "detect everything from the file".

    Attributes
    ----------
    name : str
        Name under which the mapping is saved (unique within a park).
    layout : {'auto', 'long', 'wide_time', 'wide_channel', 'espi'}
        'long': one reading per row (timestamp, channel, value[, unit][, quality]);
        'wide_time': one row per (local date, channel) with 24/48/96 period columns;
        'wide_channel': a timestamp column then one column per channel; 'espi': Green Button XML.
    timestamp_column, date_column, channel_column, value_column, unit_column, quality_column : str, optional
        Header text of those columns when the built-in aliases do not recognise them.
    unit : str, optional
        Unit of every value in the file (e.g. '万kWh'). A non-empty cell of a unit column wins over it, and it
        wins over a unit written in a header ('电量(万kWh)'); with none of them the values are taken to be in
        the channel's canonical unit.
    timezone : str, optional
        IANA zone of timestamps without offset and of the dates of wide-by-time files (e.g. 'Asia/Shanghai').
    channel_map : dict of str to str
        Channel name as written in the file (a column header, a cell of the channel column, an ESPI
        UsagePoint or MeterReading title) -> channel code in the registry.
    default_channel : str, optional
        Channel code for files that carry no channel at all (one meter per file, or ESPI).
    ignore_columns : list of str
        Headers to leave unread (remarks, meter names, totals).
    skip_rows : int, optional
        Lines (Excel: rows) before the header; detected when not given.
    sheet : str, optional
        Excel worksheet to read (default: the first).
    delimiter, encoding : str, optional
        CSV delimiter and text encoding; detected when not given.
    decimal : {'.', ','}
        Decimal mark of the numbers.
    thousands : str, optional
        Thousands separator accepted inside numbers ('1,234.5'); default ',' when the decimal mark is '.',
        '.' when it is ','. Groups must be of three digits, so '1,5' is never read as 15.
    time_label : {'auto', 'start', 'end'}
        Whether a timestamp marks the start or the end of its interval. 'auto' means 'start' for long and
        wide-by-channel files and "detect from the headers" for wide-by-time files.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="default", min_length=1, max_length=200)
    layout: Layout = "auto"
    timestamp_column: str | None = None
    date_column: str | None = None
    channel_column: str | None = None
    value_column: str | None = None
    unit_column: str | None = None
    quality_column: str | None = None
    unit: str | None = None
    timezone: str | None = None
    channel_map: dict[str, str] = Field(default_factory=dict)
    default_channel: str | None = None
    ignore_columns: list[str] = Field(default_factory=list)
    skip_rows: int | None = Field(default=None, ge=0, le=10_000)
    sheet: str | None = None
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    encoding: str | None = None
    decimal: Literal[".", ","] = "."
    thousands: str | None = None
    time_label: Literal["auto", "start", "end"] = "auto"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)") from None
        return value

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, value: str | None) -> str | None:
        if value is not None and not is_known_unit(value):
            raise ValueError(f"unknown unit {value!r}")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is None:
            return None
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown text encoding {value!r}") from None
        return value

    @field_validator("thousands")
    @classmethod
    def _separator(cls, value: str | None) -> str | None:
        if value is not None and value not in (",", ".", " ", "'", "_", "\u2009", "\u00a0"):
            raise ValueError("thousands separator must be one of , . ' _ or a space")
        return value

    @model_validator(mode="after")
    def _distinct_marks(self) -> ColumnMapping:
        if self.thousands is not None and self.thousands == self.decimal:
            raise ValueError("the thousands separator and the decimal mark must differ")
        return self

    # -- derived -----------------------------------------------------------------------------------
    @property
    def thousands_separator(self) -> str:
        """The separator actually accepted (the default follows the decimal mark)."""
        if self.thousands is not None:
            return self.thousands
        return "," if self.decimal == "." else "."

    # -- (de)serialisation -------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, spec: dict) -> ColumnMapping:
        """Validate a mapping given as a dict; problems raise ValidationFailed naming each field."""
        try:
            return cls.model_validate(spec)
        except ValidationError as exc:
            raise _invalid(exc) from None

    @classmethod
    def from_json(cls, text: str) -> ColumnMapping:
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationFailed(f"column mapping is not valid JSON: {exc.msg}") from None
        if not isinstance(spec, dict):
            raise ValidationFailed("column mapping must be a JSON object")
        return cls.from_dict(spec)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(exclude_defaults=True), ensure_ascii=False, sort_keys=True)


def _invalid(exc: ValidationError) -> ValidationFailed:
    issues = [
        Issue(err["msg"].removeprefix("Value error, "), column=".".join(str(p) for p in err["loc"]) or None)
        for err in exc.errors()
    ]
    return ValidationFailed("the column mapping is not valid", issues=issues)


# -- saved mappings -----------------------------------------------------------------------------------
def save_mapping(store: Store, scope: Scope, park_code: str, mapping: ColumnMapping | dict) -> ColumnMapping:
    """Save (create or replace) a mapping under its name in a park; audited.

    An enterprise user's mapping belongs to its enterprise; a name taken by a mapping the caller may not
    change (another tenant's, or the operator's for a tenant) is a Conflict.
    """
    scope.require_write()
    if isinstance(mapping, dict):
        mapping = ColumnMapping.from_dict(mapping)
    pid = repo.park_id(store, scope, park_code)
    owner = scope.enterprise_id if scope.is_tenant else None
    spec = mapping.to_json()
    with store.db.write_lock, store.db.transaction():
        row = store.db.fetchone(
            "SELECT id, enterprise_id, spec FROM column_mappings WHERE park_id = ? AND name = ?", (pid, mapping.name)
        )
        if row is None:
            store.db.execute(
                "INSERT INTO column_mappings (park_id, enterprise_id, name, spec, created_at) VALUES (?, ?, ?, ?, ?)",
                (pid, owner, mapping.name, spec, datetime.now(UTC)),
            )
            new = store.db.fetchone(
                "SELECT id FROM column_mappings WHERE park_id = ? AND name = ?", (pid, mapping.name)
            )
            assert new is not None
            store.audit(
                scope.actor,
                "create",
                "column_mappings",
                new[0],
                after=json.loads(spec),
                park_id=pid,
                enterprise_id=owner,
            )
            return mapping
        mapping_id, existing_owner, before = row
        if scope.is_tenant and existing_owner != scope.enterprise_id:
            raise Conflict(f"a column mapping named {mapping.name!r} exists already in this park; choose another name")
        store.db.execute("UPDATE column_mappings SET spec = ? WHERE id = ?", (spec, mapping_id))
        store.audit(
            scope.actor,
            "update",
            "column_mappings",
            mapping_id,
            before=json.loads(before),
            after=json.loads(spec),
            park_id=pid,
            enterprise_id=existing_owner,
        )
    return mapping


def get_mapping(store: Store, scope: Scope, park_code: str, name: str) -> ColumnMapping:
    """The saved mapping `name` of a park, if visible in `scope` (else NotFound)."""
    for saved in _visible(store, scope, park_code, name):
        return ColumnMapping.from_json(saved["spec"])
    raise NotFound(f"no column mapping {name!r} in park {park_code!r} (or not visible to you)")


def list_mappings(store: Store, scope: Scope, park_code: str) -> list[dict]:
    """Saved mappings visible in `scope`: dicts with name, enterprise_id, created_at and mapping (a dict)."""
    return [
        {
            "name": saved["name"],
            "enterprise_id": saved["enterprise_id"],
            "created_at": saved["created_at"],
            "mapping": ColumnMapping.from_json(saved["spec"]).model_dump(exclude_defaults=True),
        }
        for saved in _visible(store, scope, park_code)
    ]


def delete_mapping(store: Store, scope: Scope, park_code: str, name: str) -> None:
    """Delete a saved mapping the caller may change; audited."""
    scope.require_write()
    pid = repo.park_id(store, scope, park_code)
    found = _visible(store, scope, park_code, name)
    if not found:
        raise NotFound(f"no column mapping {name!r} in park {park_code!r} (or not visible to you)")
    saved = found[0]
    with store.db.write_lock, store.db.transaction():
        store.db.execute("DELETE FROM column_mappings WHERE id = ?", (saved["id"],))
        store.audit(
            scope.actor,
            "delete",
            "column_mappings",
            saved["id"],
            before=json.loads(saved["spec"]),
            park_id=pid,
            enterprise_id=saved["enterprise_id"],
        )


def _visible(store: Store, scope: Scope, park_code: str, name: str | None = None) -> list[dict]:
    pid = repo.park_id(store, scope, park_code)
    where, params = scope.sql_filter("park_id", "enterprise_id")
    if name is not None:
        where += " AND name = ?"
        params.append(name)
    return store.db.fetchdicts(
        f"SELECT id, name, enterprise_id, spec, created_at FROM column_mappings WHERE park_id = ?{where} ORDER BY name",
        [pid, *params],
    )
