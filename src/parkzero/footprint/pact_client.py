"""A client of another PACT host (a supplier's or a customer's), v2.3 or v3.0, over HTTPS.

`PactClient` gets an access token with the client credentials the other host gave us (HTTP Basic,
``grant_type=client_credentials``), lists footprints following the absolute ``Link: rel="next"`` headers, gets
one footprint, and posts CloudEvents. Every answer is checked: a footprint that is not spec-valid, a page that is
not ``{"data": [...]}``, an error body of the spec or a transport failure becomes a `PactRemoteError` that
says which host, which action and why; nothing half-read is returned.
"""

from __future__ import annotations

import ssl
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from parkzero.errors import ParkzeroError, ValidationFailed
from parkzero.footprint import pact

MAX_PAGES = 1000


class PactRemoteError(ParkzeroError):
    """The other PACT host refused, failed or answered something that is not PACT."""

    status = 502
    title = "PACT host error"


@dataclass
class PactClient:
    """One connection to another PACT host.

    Parameters
    ----------
    base_url : str
        The host's base URL (``https://…``); `/auth/token`, `/2/…`, `/3/…` are below it.
    client_id, client_secret : str
        The credentials the other host issued to us.
    version : {"2", "3"}
        The PACT major version spoken.
    verify : ssl.SSLContext or bool
        TLS verification (a context trusting a pinned certificate for a self-signed host).
    auth_url : str, optional
        A token endpoint apart from the host (OpenID Connect); default ``{base_url}/auth/token``.
    """

    base_url: str
    client_id: str
    client_secret: str
    version: str = "2"
    verify: ssl.SSLContext | bool = True
    auth_url: str | None = None
    timeout_s: float = 30.0
    _token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.base_url.startswith("https://"):
            raise ValidationFailed(f"{self.base_url}: a PACT host is reached over HTTPS only")
        if self.version not in ("2", "3"):
            raise ValidationFailed("the PACT version is 2 or 3")
        self.base_url = self.base_url.rstrip("/")

    # -- plumbing --------------------------------------------------------------------------------------
    def _http(self) -> httpx.Client:
        return httpx.Client(verify=self.verify, timeout=self.timeout_s)

    def _fail(self, action: str, why: str) -> PactRemoteError:
        return PactRemoteError(f"PACT host {self.base_url}: {action}: {why}")

    def _send(self, action: str, method: str, url: str, **kwargs) -> httpx.Response:
        try:
            with self._http() as http:
                return http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise self._fail(action, f"{type(exc).__name__}: {exc}") from None

    def _authorised(self, action: str, method: str, url: str, **kwargs) -> httpx.Response:
        """A request with the bearer token, fetching a new token once if the host says it expired."""
        for attempt in (1, 2):
            headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {self.token()}"}
            r = self._send(action, method, url, headers=headers, **kwargs)
            if r.status_code == 401 and attempt == 1:
                self._token = None
                kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
                continue
            return r
        return r  # pragma: no cover - the loop returns

    def _error_of(self, action: str, r: httpx.Response) -> PactRemoteError:
        try:
            body = r.json()
            why = f"{body.get('code') or body.get('error')}: {body.get('message') or body.get('error_description')}"
        except ValueError:
            why = r.text[:200] or "no body"
        return self._fail(action, f"HTTP {r.status_code} {why}")

    # -- actions ---------------------------------------------------------------------------------------
    def token(self) -> str:
        """An access token (cached until the host refuses it)."""
        if self._token is None:
            url = self.auth_url or f"{self.base_url}/auth/token"
            r = self._send(
                "authenticate",
                "POST",
                url,
                data={"grant_type": "client_credentials"},
                auth=(self.client_id, self.client_secret),
                headers={"Accept": "application/json"},
            )
            if r.status_code != 200:
                raise self._error_of("authenticate", r)
            try:
                token = r.json()["access_token"]
            except (ValueError, KeyError, TypeError):
                raise self._fail("authenticate", "the answer has no access_token") from None
            self._token = str(token)
        return self._token

    def list_footprints(self, params: dict[str, Any] | None = None, limit: int = 100) -> list[dict]:
        """Every footprint the host shares with us (all pages), each validated; `params` are the v2 ``$filter``
        or the v3 query filters."""
        url: str | None = f"{self.base_url}/{self.version}/footprints"
        query: dict[str, Any] | None = {**(params or {}), "limit": limit}
        found: list[dict] = []
        for _ in range(MAX_PAGES):
            if url is None:
                return found
            r = self._authorised("list footprints", "GET", url, params=query)
            if r.status_code not in (200, 202):
                raise self._error_of("list footprints", r)
            found += self._footprints_of("list footprints", r)
            url, query = _next_link(r), None  # the next link carries its own query
            if url is not None and not url.startswith(self.base_url):
                raise self._fail("list footprints", f"the next page {url} is not on this host")
        raise self._fail("list footprints", f"more than {MAX_PAGES} pages")

    def get_footprint(self, footprint_id: str) -> dict:
        r = self._authorised("get footprint", "GET", f"{self.base_url}/{self.version}/footprints/{footprint_id}")
        if r.status_code != 200:
            raise self._error_of(f"get footprint {footprint_id}", r)
        try:
            doc = r.json()["data"]
        except (ValueError, KeyError, TypeError):
            raise self._fail(f"get footprint {footprint_id}", "the answer is not {'data': {...}}") from None
        return _valid(self, f"get footprint {footprint_id}", doc, self.version)

    def send_event(self, event: dict) -> None:
        """POST one CloudEvent to the host's events endpoint; an answer other than 200 is an error."""
        r = self._authorised(
            f"send {event.get('type')}",
            "POST",
            f"{self.base_url}/{self.version}/events",
            content=_json(event),
            headers={"Content-Type": "application/cloudevents+json; charset=UTF-8"},
        )
        if r.status_code != 200:
            raise self._error_of(f"send {event.get('type')}", r)

    def _footprints_of(self, action: str, r: httpx.Response) -> list[dict]:
        try:
            data = r.json()["data"]
        except (ValueError, KeyError, TypeError):
            raise self._fail(action, "the answer is not {'data': [...]}") from None
        if not isinstance(data, list):
            raise self._fail(action, "data is not a list")
        return [_valid(self, action, d, self.version) for d in data]


def _valid(client: PactClient, action: str, doc: Any, version: str) -> dict:
    try:
        return pact.parse_footprint(doc, version, source=client.base_url).to_json()
    except ValidationFailed as exc:
        raise PactRemoteError(f"PACT host {client.base_url}: {action}: {exc}", issues=exc.issues) from None


def _next_link(r: httpx.Response) -> str | None:
    """The target of a ``Link: <…>; rel="next"`` header (RFC 8288), if any."""
    for part in r.headers.get_list("link", split_commas=True):
        target, _, rest = part.partition(";")
        if "rel" in rest and "next" in rest:
            return target.strip().strip("<>")
    return None


def _json(event: dict) -> str:
    import json

    return json.dumps(event, ensure_ascii=False, default=str)


def new_event(kind: str, version: str, source: str, data: dict) -> dict:
    """A CloudEvent of `kind` ("RequestCreated", "RequestFulfilled", "RequestRejected", "Published") from
    `source` (the URL of our own events endpoint, where answers come back)."""
    return {
        "type": pact.EVENT_TYPES[version][kind],
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": data,
    }
