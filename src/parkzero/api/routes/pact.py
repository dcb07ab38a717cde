"""The park's PACT host: the REST API of the PACT Technical Specifications v2.3 (`/2/…`) and v3.0 (`/3/…`).

- ``POST /auth/token``: OAuth2 client credentials, the client id and secret in HTTP Basic, form body
  ``grant_type=client_credentials``; errors as RFC 6749 §5.2 (``invalid_client`` 401, ``invalid_request`` /
  ``unsupported_grant_type`` 400).
- ``GET /{2,3}/footprints``: the published footprints shared with the partner, ``limit`` with absolute
  ``Link: <…>; rel="next"`` pagination; v2 ``$filter`` (the spec's OData subset), v3 query filters.
- ``GET /{2,3}/footprints/{id}``.
- ``POST /{2,3}/events``: CloudEvents (RequestCreated, Fulfilled, Rejected, Published), kept whole in
  ``pact_events``; a request is routed to the enterprise whose product it names.

Every action is served over HTTPS only (`parkzero serve --tls-…`); a plain-HTTP request to these paths is
answered BadRequest without being processed. Errors are the spec's ``{"code", "message"}`` bodies: an invalid or
missing token is ``BadRequest`` (400, as the conformance suite expects), an expired one ``TokenExpired`` (401),
an unknown or unshared footprint ``NoSuchFootprint`` (v2) / ``NotFound`` (v3) (404).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import Annotated
from urllib.parse import unquote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response

from parkzero.api.deps import SettingsDep, StoreDep
from parkzero.errors import ParkzeroError, Unauthorized
from parkzero.footprint import exchange, pact, pact_filter, partners, records

log = logging.getLogger("parkzero.pact")
router = APIRouter(tags=["pact"])
MAX_LIMIT = 1000


def _error(version: str, code: str, message: str) -> JSONResponse:
    """The spec's error body; `code` one of the version's error codes, with its HTTP status."""
    if version == "3" and code == "NoSuchFootprint":
        code = "NotFound"
    status = pact.ERROR_CODES[version][code]
    return JSONResponse({"code": code, "message": message}, status_code=status)


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="pact"'} if status == 401 else None
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


def _partner(request: Request, store, settings, version: str) -> partners.Partner | JSONResponse:
    """The partner of the request's bearer token, or the error response to give."""
    if not _https(request):
        return _error(version, "BadRequest", "PACT actions are served over HTTPS only")
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _error(version, "BadRequest", "send the access token from /auth/token as 'Authorization: Bearer …'")
    try:
        return partners.partner_of_token(store, token.strip(), settings.signing_key)
    except partners.TokenExpired as exc:
        return _error(version, "TokenExpired", exc.detail)
    except Unauthorized as exc:
        return _error(version, "BadRequest", exc.detail)


# -- authentication ------------------------------------------------------------------------------------
@router.post("/auth/token", operation_id="pact_auth_token")
def auth_token(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    grant_type: Annotated[str | None, Form()] = None,
) -> JSONResponse:
    """Client credentials grant (RFC 6749 §4.4) with the partner's id and secret in HTTP Basic."""
    if not _https(request):
        return _oauth_error(400, "invalid_request", "the token endpoint is served over HTTPS only")
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    try:
        client_id, sep, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        sep = ""
    if scheme.lower() != "basic" or not sep:
        return _oauth_error(401, "invalid_client", "send the client id and secret as HTTP Basic credentials")
    try:
        partner = partners.authenticate(store, unquote(client_id), unquote(secret))
    except Unauthorized:
        return _oauth_error(401, "invalid_client", "client authentication failed")
    if grant_type is None:
        return _oauth_error(400, "invalid_request", "the form body needs grant_type=client_credentials")
    if grant_type != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", f"grant_type {grant_type!r}: only client_credentials")
    token = partners.issue_token(partner, settings.signing_key, settings.token_minutes)
    return JSONResponse(
        {"access_token": token, "token_type": "bearer", "expires_in": settings.token_minutes * 60},
        headers={"Cache-Control": "no-store"},
    )


# -- footprints ----------------------------------------------------------------------------------------
def _list(request: Request, store, settings, version: str) -> Response:
    partner = _partner(request, store, settings, version)
    if isinstance(partner, Response):
        return partner
    params = request.query_params
    try:
        limit = int(params["limit"]) if "limit" in params else None
        offset = int(params.get("offset", "0"))
    except ValueError:
        return _error(version, "BadRequest", "limit and offset are whole numbers")
    if (limit is not None and not 1 <= limit <= MAX_LIMIT) or offset < 0:
        return _error(version, "BadRequest", f"limit is 1 to {MAX_LIMIT}; offset is 0 or more")
    try:
        if version == "2":
            text = params.get("$filter")
            keep = pact_filter.v2_predicate(text) if text else None
        else:
            filters = {k: params.getlist(k) for k in params if k not in ("limit", "offset")}
            keep = pact_filter.v3_predicate(filters) if filters else None
    except ParkzeroError as exc:  # a filter the host refuses is NotImplemented (v2.3 §8.6.1), bad syntax BadRequest
        return _error(version, getattr(exc, "pact_error_code", "BadRequest"), str(exc))
    docs = records.for_partner(store, partner, version)
    if keep is not None:
        docs = [d for d in docs if keep(d)]
    if limit is None:
        return JSONResponse({"data": docs})
    page = docs[offset : offset + limit]
    headers = {}
    if offset + limit < len(docs):
        kept = [(k, v) for k, v in params.multi_items() if k not in ("limit", "offset")]
        query = urlencode([*kept, ("limit", limit), ("offset", offset + limit)])
        headers["Link"] = f'<{request.url.replace(query=query)}>; rel="next"'
    return JSONResponse({"data": page}, headers=headers)


def _get(request: Request, store, settings, version: str, footprint_id: str) -> Response:
    partner = _partner(request, store, settings, version)
    if isinstance(partner, Response):
        return partner
    doc = records.one_for_partner(store, partner, footprint_id, version)
    if doc is None:
        return _error(version, "NoSuchFootprint", f"no footprint {footprint_id!r} is shared with you")
    return JSONResponse({"data": doc})


@router.get("/2/footprints", operation_id="pact_v2_list_footprints")
def list_v2(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    return _list(request, store, settings, "2")


@router.get("/2/footprints/{footprint_id}", operation_id="pact_v2_get_footprint")
def get_v2(footprint_id: str, request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    return _get(request, store, settings, "2", footprint_id)


@router.get("/3/footprints", operation_id="pact_v3_list_footprints")
def list_v3(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    return _list(request, store, settings, "3")


@router.get("/3/footprints/{footprint_id}", operation_id="pact_v3_get_footprint")
def get_v3(footprint_id: str, request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    return _get(request, store, settings, "3", footprint_id)


# -- events --------------------------------------------------------------------------------------------
async def _event(request: Request, store, settings, version: str) -> Response:
    partner = _partner(request, store, settings, version)
    if isinstance(partner, Response):
        return partner
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(version, "BadRequest", "the body is not JSON (a CloudEvent, application/cloudevents+json)")
    try:
        event = pact.parse_event(body, version)
    except ParkzeroError as exc:
        return _error(version, "BadRequest", str(exc))
    try:
        state, enterprise = _handle(store, partner, version, event)
    except ParkzeroError as exc:
        records.log_pact_event(
            store, partner.park_id, direction="in", spec=version, event=body, state="refused", client_id=partner.id
        )
        return _error(version, "BadRequest", str(exc))
    records.log_pact_event(
        store,
        partner.park_id,
        direction="in",
        spec=version,
        event=body,
        state=state,
        client_id=partner.id,
        enterprise_id=enterprise,
    )
    return Response(status_code=200)


def _handle(store, partner: partners.Partner, version: str, event) -> tuple[str, int | None]:
    """What one received event does: (state kept with it, enterprise it concerns)."""
    kind = pact.event_kind(event)
    data = pact.event_data(event)
    if kind == "RequestCreated":
        # v2 names the products in a footprint fragment (data.pf.productIds), v3 as criteria (data.productId)
        product_ids = list((data.get("pf") or {}).get("productIds") or data.get("productId") or [])
        return "open", records.owner_of_products(store, partner.park_id, product_ids)
    if kind in ("RequestFulfilled", "RequestRejected"):  # the answer to one of our requests
        return exchange.receive_answer(store, partner, kind, data)
    return "noted", None  # Published: the partner tells us a footprint changed


@router.post("/2/events", operation_id="pact_v2_events")
async def events_v2(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    return await _event(request, store, settings, "2")


@router.post("/3/events", operation_id="pact_v3_events")
async def events_v3(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    return await _event(request, store, settings, "3")
