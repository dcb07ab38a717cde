"""OAuth2 password flow: POST /auth/token gives a short-lived JWT; GET /auth/me tells who you are."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from parkzero.api.deps import CurrentScope, SettingsDep, StoreDep
from parkzero.api.security import issue_token
from parkzero.registry import users

router = APIRouter(prefix="/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Me(BaseModel):
    username: str
    role: str
    park_id: int | None
    enterprise_id: int | None


@router.post("/token", response_model=Token, operation_id="login")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], store: StoreDep, settings: SettingsDep) -> Token:
    scope = users.authenticate(store, form.username, form.password)
    token = issue_token(scope.actor, settings.signing_key, settings.token_minutes)
    return Token(access_token=token, expires_in=settings.token_minutes * 60)


@router.get("/me", response_model=Me, operation_id="whoami")
def me(scope: CurrentScope) -> Me:
    return Me(username=scope.actor, role=scope.role, park_id=scope.park_id, enterprise_id=scope.enterprise_id)
