"""Typed dependencies: the store, the settings and the caller's Scope (bearer JWT, session cookie or API key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from parkzero.api.security import read_token
from parkzero.config import Settings
from parkzero.errors import Unauthorized
from parkzero.registry import users
from parkzero.registry.scope import Scope
from parkzero.store import Store

SESSION_COOKIE = "parkzero_session"
oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def current_scope(
    request: Request, store: StoreDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2)]
) -> Scope:
    """The logged-in user's scope from `Authorization: Bearer <jwt>` or the web session cookie."""
    token = token or request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthorized("log in first (POST /api/v1/auth/token) and send the token as a Bearer header")
    return users.scope_of(store, read_token(token, settings.signing_key))


def gateway_or_user_scope(
    request: Request, store: StoreDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2)]
) -> Scope:
    """For uploads: a gateway's `X-API-Key` header, or else a logged-in user."""
    key = request.headers.get("x-api-key")
    if key:
        return users.scope_of_api_key(store, key)
    return current_scope(request, store, settings, token)


CurrentScope = Annotated[Scope, Depends(current_scope)]
UploadScope = Annotated[Scope, Depends(gateway_or_user_scope)]
