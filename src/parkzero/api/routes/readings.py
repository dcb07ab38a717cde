"""Readings routes: series (JSON or CSV), data quality, gap filling, batch and file uploads, ingest batches.

Times are ISO 8601 with an offset and ranges are half-open `[start, end)`; every series carries its unit and
values are in the channel's canonical unit (kWh, kW, Nm3 ...). Uploads are all or nothing. A channel the
caller may not see answers 404, the same as a channel that does not exist.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import pyarrow as pa
from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.routing import APIRoute
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from parkzero.api.deps import CurrentScope, SettingsDep, StoreDep, UploadScope
from parkzero.config import Settings
from parkzero.errors import Issue, IssueCollector, NotFound, PayloadTooLarge, ValidationFailed
from parkzero.ingest.files import ingest_file
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store, timeseries
from parkzero.store import quality as quality_store
from parkzero.store.readings import MEASURED, QUALITY_CODES, merge_readings
from parkzero.units import conversion_factor

MAX_BATCH_READINGS = 100_000  # readings in one JSON upload
MAX_BATCH_BYTES = 32 * 1024 * 1024  # body of one JSON upload [bytes] (or settings.max_upload_bytes if smaller)
MULTIPART_OVERHEAD = 64 * 1024  # form fields and boundaries around an uploaded file [bytes]
_COPY_CHUNK = 1024 * 1024


# -- request bodies with a size limit --------------------------------------------------------------
class LimitedBodyRoute(APIRoute):
    """A route whose endpoint may set `body_limit(settings) -> bytes`; a larger body is a 413 problem.

    The Content-Length header is checked before anything is read, and a body sent without one is counted
    while it streams in, so an oversized request is never held in memory or on disk as a whole.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        limit_of: Callable[[Settings], int] | None = getattr(self.endpoint, "body_limit", None)
        if limit_of is None:
            return handler

        async def limited(request: Request) -> Response:
            limit = limit_of(request.app.state.settings)
            too_large = PayloadTooLarge(f"the request body is larger than the limit of {limit} bytes")
            length = request.headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > limit:
                raise too_large
            received = 0
            receive = request.receive

            async def counting_receive():
                nonlocal received
                message = await receive()
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large
                return message

            try:
                return await handler(Request(request.scope, counting_receive))
            except StarletteHTTPException as exc:  # FastAPI wraps errors raised while reading the body
                if isinstance(exc.__cause__, PayloadTooLarge):
                    raise exc.__cause__ from None
                raise

        return limited


def _limit(fn: Callable[[Settings], int]):
    def mark(endpoint):
        endpoint.body_limit = fn
        return endpoint

    return mark


router = APIRouter(tags=["readings"], route_class=LimitedBodyRoute)


# -- helpers ---------------------------------------------------------------------------------------
def _visible_channels(store: Store, scope: Scope, park: str, codes: list[str] | None) -> dict[str, repo.ChannelInfo]:
    """The park's channels visible to the caller; 404 for an unknown park or any channel not visible."""
    repo.get_park(store, scope, park)
    index = repo.channel_index(store, scope, park)
    missing = [c for c in codes or [] if c not in index]
    if missing:
        raise NotFound(f"no channel {', '.join(map(repr, missing))} in park {park!r} (or not visible to you)")
    return index


def _park_zone(store: Store, scope: Scope, park: str) -> ZoneInfo:
    return ZoneInfo(repo.get_park(store, scope, park)["timezone"])


# -- series ----------------------------------------------------------------------------------------
Resolution = Literal["PT15M", "PT1H", "P1D", "P1M"]


class SeriesPoint(BaseModel):
    ts: str = Field(description="Start of the interval, ISO 8601 in the park's time zone")
    value: float | None = Field(description="Sum (energy, volume, mass) or mean (power, temperature) [unit]")
    readings: int = Field(description="Raw readings behind the point")
    quality: str = Field(description="Worst quality in the point: measured, estimated, filled")


class SeriesPublic(BaseModel):
    channel: str
    unit: str = Field(description="Canonical unit of the values")
    quantity_kind: str
    resolution: Resolution
    aggregate: Literal["sum", "mean"]
    points: list[SeriesPoint]


class SeriesList(BaseModel):
    park: str
    start: datetime
    end: datetime
    resolution: Resolution
    data: list[SeriesPublic]
    count: int


CSV_COLUMNS = ("channel", "ts", "value", "unit", "quality")


@router.get(
    "/parks/{park}/series",
    response_model=SeriesList,
    operation_id="get_series",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def get_series(
    park: str,
    request: Request,
    store: StoreDep,
    scope: CurrentScope,
    channel: Annotated[list[str], Query(min_length=1, description="Channel code; repeat for several")],
    start: Annotated[datetime, Query(description="Inclusive start, ISO 8601 with offset")],
    end: Annotated[datetime, Query(description="Exclusive end, ISO 8601 with offset")],
    resolution: Resolution = "PT1H",
    format: Annotated[
        Literal["json", "csv"] | None, Query(description="csv for a download; also chosen by Accept: text/csv")
    ] = None,
) -> Any:
    """Time series of channels over `[start, end)` at PT15M, PT1H, P1D or P1M, with the unit on every series.

    Energy, volume and mass are summed per bucket; power, temperature and state of charge are averaged.
    P1D and P1M buckets are days and months of the park's calendar and need start and end at local midnight.
    """
    _visible_channels(store, scope, park, channel)
    found = timeseries.series(store, scope, park, channel, start, end, resolution)
    tz = _park_zone(store, scope, park)
    for s in found:
        s.timestamps = [t.astimezone(tz) for t in s.timestamps]
    wants_csv = format == "csv" or (format is None and "text/csv" in request.headers.get("accept", ""))
    if wants_csv:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for s in found:
            for t, v, q in zip(s.timestamps, s.values, s.quality, strict=True):
                writer.writerow((s.channel, t.isoformat(), "" if v is None else repr(v), s.unit, q))
        name = f"{park}_series_{resolution}_{start.astimezone(tz):%Y%m%dT%H%M}.csv"
        return Response(
            buf.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    data = [s.as_dict() for s in found]
    return {
        "park": park,
        "start": start,
        "end": end,
        "resolution": resolution,
        "data": data,
        "count": len(data),
    }


# -- data quality and gap filling ------------------------------------------------------------------
class ChannelQualityPublic(BaseModel):
    channel: str
    unit: str
    expected: int = Field(description="Intervals expected in [start, end)")
    present: int = Field(description="Readings present and not rejected")
    completeness_pct: float = Field(description="present / expected [%]")
    meets_rule: bool = Field(description="Completeness at least 90 % (key energy user online monitoring)")
    estimated: int
    filled: int
    rejected: int
    counter_resets: int
    outliers: int
    gaps: list[dict[str, Any]] = Field(description="{start, end, missing_intervals}, times in the park's zone")
    outlier_examples: list[dict[str, Any]]


class QualityList(BaseModel):
    data: list[ChannelQualityPublic]
    count: int


@router.get("/parks/{park}/quality", response_model=QualityList, operation_id="get_quality_report")
def get_quality_report(
    park: str,
    store: StoreDep,
    scope: CurrentScope,
    start: Annotated[datetime, Query(description="Inclusive start, ISO 8601 with offset")],
    end: Annotated[datetime, Query(description="Exclusive end, ISO 8601 with offset")],
    channel: Annotated[list[str] | None, Query(description="Channel code(s); all visible channels if omitted")] = None,
) -> dict:
    """Completeness, gaps, counter resets and outliers per channel over `[start, end)`."""
    _visible_channels(store, scope, park, channel)
    report = quality_store.quality_report(store, scope, park, start, end, channel)
    return {"data": [q.as_dict() for q in report], "count": len(report)}


class FillRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime = Field(description="Inclusive start, ISO 8601 with offset")
    end: AwareDatetime = Field(description="Exclusive end, ISO 8601 with offset")
    method: Literal["linear", "zero"] = Field(
        "linear", description="linear: interpolate between the neighbours of each gap; zero: a known shutdown"
    )


class MergeCounts(BaseModel):
    batch_id: int
    received: int
    inserted: int
    unchanged: int
    revised: int


@router.post("/parks/{park}/channels/{code}/fill", response_model=MergeCounts, operation_id="fill_gaps")
def fill_gaps(park: str, code: str, body: FillRequest, store: StoreDep, scope: CurrentScope) -> dict:
    """Fill the missing intervals of a channel in `[start, end)`; the readings are flagged `filled`."""
    _visible_channels(store, scope, park, [code])
    result = quality_store.fill_gaps(store, scope, park, code, body.start, body.end, method=body.method)
    return result.as_dict()


# -- uploads ---------------------------------------------------------------------------------------
class ReadingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str = Field(description="Channel code")
    ts: AwareDatetime = Field(description="Start of the interval, ISO 8601 with offset")
    value: float = Field(description="Value in `unit`, or in the channel's unit when no unit is given")
    unit: str | None = Field(None, description="Unit of the value (kWh, MWh, 万kWh, Nm3 ...)")
    quality: Literal["measured", "estimated", "filled", "rejected"] | None = None


class ReadingsUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    readings: list[ReadingIn] = Field(description=f"At most {MAX_BATCH_READINGS} readings")


@router.post("/parks/{park}/readings", response_model=MergeCounts, operation_id="upload_readings")
@_limit(lambda settings: min(settings.max_upload_bytes, MAX_BATCH_BYTES))
def upload_readings(park: str, body: ReadingsUpload, store: StoreDep, scope: UploadScope) -> dict:
    """Merge a batch of readings, all or nothing (a gateway's X-API-Key or a user with write rights).

    Values are converted to the channel's canonical unit. The same value again is a no-op; a different value
    becomes a revision (the old one is kept).
    """
    pid = repo.park_id(store, scope, park)
    scope.require_write()
    if len(body.readings) > MAX_BATCH_READINGS:
        raise PayloadTooLarge(
            f"{len(body.readings)} readings in one batch; send at most {MAX_BATCH_READINGS} per request"
        )
    index = repo.channel_index(store, scope, park)
    problems = IssueCollector()
    factors: dict[tuple[str, str], float] = {}
    ids, stamps, values, qualities = [], [], [], []
    for row, r in enumerate(body.readings, start=1):
        ch = index.get(r.channel)
        if ch is None:
            problems.add(Issue(f"no channel {r.channel!r} in park {park!r} visible to you", row=row, column="channel"))
            continue
        factor = 1.0
        if r.unit is not None:
            key = (r.unit, ch.unit)
            if key not in factors:
                try:
                    factors[key] = conversion_factor(r.unit, ch.unit)
                except ValidationFailed as exc:
                    problems.add(Issue(exc.detail, row=row, column="unit", value=r.unit))
                    continue
            factor = factors[key]
        ids.append(ch.id)
        stamps.append(r.ts.astimezone(UTC))
        values.append(r.value * factor)
        qualities.append(MEASURED if r.quality is None else QUALITY_CODES[r.quality])
    problems.raise_if_any("the readings were rejected")
    owners = {index[r.channel].enterprise_id for r in body.readings}
    enterprise_id = scope.enterprise_id if scope.is_tenant else (owners.pop() if len(owners) == 1 else None)
    table = pa.table(
        {
            "channel_id": pa.array(ids, pa.int64()),
            "ts_start": pa.array(stamps, pa.timestamp("us", tz="UTC")),
            "value": pa.array(values, pa.float64()),
            "quality": pa.array(qualities, pa.int16()),
        }
    )
    result = merge_readings(
        store,
        table,
        source="api",
        actor=scope.actor,
        park_id=pid,
        enterprise_id=enterprise_id,
        allowed_channels=None if scope.is_system else {c.id for c in index.values()},
    )
    return result.as_dict()


class IngestReportPublic(BaseModel):
    file: str
    layout: str = Field(description="long, wide_time, wide_channel or espi")
    rows: int = Field(description="Data rows read")
    readings: int
    duplicates_collapsed: int
    channels: int = Field(description="Channels in the file")
    batch_id: int
    inserted: int
    unchanged: int
    revised: int
    parse_s: float
    merge_s: float


@router.post(
    "/parks/{park}/uploads",
    response_model=IngestReportPublic,
    operation_id="upload_file",
    responses={413: {"description": "The file is larger than the upload limit"}},
)
@_limit(lambda settings: settings.max_upload_bytes + MULTIPART_OVERHEAD)
def upload_file(
    park: str,
    store: StoreDep,
    settings: SettingsDep,
    scope: UploadScope,
    file: Annotated[UploadFile, File(description="Meter export: CSV, Excel or Green Button XML")],
    mapping: Annotated[str | None, Form(description="Name of a saved column mapping of this park")] = None,
    timezone: Annotated[
        str | None, Form(description="IANA zone of timestamps without offset, e.g. Asia/Shanghai")
    ] = None,
) -> dict:
    """Ingest a meter file, all or nothing; returns the ingest report.

    The upload is saved to a temporary file, read from there and deleted afterwards.
    """
    repo.get_park(store, scope, park)
    scope.require_write()
    filename = Path(file.filename or "upload").name
    fd, tmp = tempfile.mkstemp(prefix="parkzero-upload-", suffix=Path(filename).suffix.lower())
    path = Path(tmp)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := file.file.read(_COPY_CHUNK):
                size += len(chunk)
                if size > settings.max_upload_bytes:
                    raise PayloadTooLarge(
                        f"{filename} is larger than the upload limit of {settings.max_upload_bytes} bytes"
                    )
                out.write(chunk)
        report = ingest_file(
            store,
            scope,
            path,
            park_code=park,
            mapping=mapping,
            default_timezone=timezone,
            filename=filename,
            max_bytes=settings.max_upload_bytes,
        )
    finally:
        path.unlink(missing_ok=True)
    return report.as_dict()


# -- ingest batches --------------------------------------------------------------------------------
class BatchPublic(BaseModel):
    id: int
    created_at: datetime
    actor: str
    source: str = Field(description="api, file, mqtt, fill:<method> ...")
    filename: str | None
    enterprise: str | None = Field(description="Code of the tenant the batch belongs to, if one")
    n_readings: int
    n_inserted: int
    n_unchanged: int
    n_revised: int


class BatchList(BaseModel):
    data: list[BatchPublic]
    count: int


@router.get("/parks/{park}/batches", response_model=BatchList, operation_id="list_batches")
def list_batches(
    park: str,
    store: StoreDep,
    scope: CurrentScope,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict:
    """Ingest batches of the park visible to the caller (a tenant sees its own), newest first."""
    pid = repo.park_id(store, scope, park)
    where, params = scope.sql_filter("park_id", "enterprise_id")
    rows = store.db.fetchdicts(
        "SELECT id, created_at, actor, source, filename, enterprise_id, n_readings, n_inserted, n_unchanged,"
        f" n_revised FROM ingest_batches WHERE park_id = ?{where} ORDER BY id DESC LIMIT ? OFFSET ?",
        [pid, *params, limit, offset],
    )
    total = store.db.fetchone(f"SELECT count(*) FROM ingest_batches WHERE park_id = ?{where}", [pid, *params])
    enterprises = {e["id"]: e["code"] for e in repo.list_entities(store, Scope.system(), "enterprises", park)}
    for r in rows:
        r["enterprise"] = enterprises.get(r.pop("enterprise_id"))
    return {"data": rows, "count": int(total[0]) if total else 0}
